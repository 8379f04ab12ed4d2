// Package render renders, offline, what every generated Application deploys:
// it resolves the Application's sources the way Argo CD's repo-server does
// (multi-source `$ref` value files read from the repository, Helm charts
// from a content-addressed cache, plain directories and Kustomize) and
// renders them with the Helm SDK and kustomize's API.
//
// Identical renders are done once and shared; independent renders run in
// parallel.
package render

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing/fstest"

	"helm.sh/helm/v3/pkg/chart"
	chartloader "helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/releaseutil"

	"github.com/gitops-hub/gitops-hub/pkg/apis/argocd/v1alpha1"
	"github.com/gitops-hub/gitops-hub/pkg/generate"
	"github.com/gitops-hub/gitops-hub/pkg/output/fastyaml"
	"github.com/gitops-hub/gitops-hub/pkg/render/helm"
	"github.com/gitops-hub/gitops-hub/pkg/render/manifests"
	"github.com/gitops-hub/gitops-hub/pkg/source"
)

// Options configure a render.
type Options struct {
	// Repos are the Git repositories readable offline (this repository at
	// the revision asked for), keyed by URL.
	Repos *source.Repos
	// Charts fetches and caches Helm charts.
	Charts *helm.Cache
	// KubeVersion and APIVersions stand for the destination cluster's
	// (Argo CD asks the cluster; offline they are configured).
	KubeVersion string
	APIVersions []string
	// Parallel renders at most this many sources at once (default GOMAXPROCS).
	Parallel int
}

// Result is the render of one Application.
type Result struct {
	App     *generate.Application
	Cluster string
	// Objects are the rendered manifests in a stable order (install order by
	// kind, then namespace, then name).
	Objects []map[string]any
	Err     error
	// yaml encodes Objects; identical renders share one encoding.
	yaml func() ([]byte, error)
}

// YAML returns the rendered objects as one YAML stream.
func (r Result) YAML() ([]byte, error) {
	if r.yaml == nil {
		return MarshalStream(r.Objects)
	}
	return r.yaml()
}

// Renderer renders Applications; it is safe for concurrent use.
type Renderer struct {
	opts  Options
	mu    sync.Mutex
	memo  map[string]*memoEntry
	slots chan struct{}
}

// memoEntry is one render, shared by every Application that asks for the
// same one: its objects (post-processed and sorted, then read-only) and
// their YAML, encoded once.
type memoEntry struct {
	once     sync.Once
	objs     []map[string]any
	err      error
	yamlOnce sync.Once
	yaml     []byte
	yamlErr  error
}

func (e *memoEntry) YAML() ([]byte, error) {
	e.yamlOnce.Do(func() { e.yaml, e.yamlErr = MarshalStream(e.objs) })
	return e.yaml, e.yamlErr
}

// New returns a Renderer.
func New(opts Options) *Renderer {
	if opts.KubeVersion == "" {
		opts.KubeVersion = helm.DefaultKubeVersion
	}
	if opts.Parallel <= 0 {
		opts.Parallel = runtime.GOMAXPROCS(0)
	}
	return &Renderer{opts: opts, memo: map[string]*memoEntry{}, slots: make(chan struct{}, opts.Parallel)}
}

// RenderAll renders every Application; results keep the input order. An
// Application's error does not stop the others.
func (r *Renderer) RenderAll(ctx context.Context, apps []*generate.Application, cluster func(*generate.Application) string) []Result {
	out := make([]Result, len(apps))
	var wg sync.WaitGroup
	for i, a := range apps {
		wg.Add(1)
		go func() {
			defer wg.Done()
			objs, yaml, err := r.render(ctx, a)
			out[i] = Result{App: a, Cluster: cluster(a), Objects: objs, Err: err, yaml: yaml}
		}()
	}
	wg.Wait()
	return out
}

// Render renders one Application: every source that produces manifests
// (a `ref` source without chart or path only provides files). The objects
// may be shared with other Applications: read only.
func (r *Renderer) Render(ctx context.Context, ga *generate.Application) ([]map[string]any, error) {
	objs, _, err := r.render(ctx, ga)
	return objs, err
}

func (r *Renderer) render(ctx context.Context, ga *generate.Application) ([]map[string]any, func() ([]byte, error), error) {
	app, err := typed(ga)
	if err != nil {
		return nil, nil, fmt.Errorf("Application %s: %w", ga.Name, err)
	}
	var entries []*memoEntry
	srcs := app.Spec.Sources
	single := len(srcs) == 0
	if single {
		if app.Spec.Source == nil {
			return nil, nil, fmt.Errorf("Application %s has no source", app.Name)
		}
		srcs = []v1alpha1.ApplicationSource{*app.Spec.Source}
	}
	var errs []error
	for i := range srcs {
		s := &srcs[i]
		if s.Ref != "" && s.Chart == "" && s.Path == "" {
			continue
		}
		idx := i
		if single {
			idx = -1
		}
		e, err := r.renderSource(ctx, app, idx, s)
		if err != nil {
			errs = append(errs, fmt.Errorf("Application %s: source %s: %w", app.Name, describe(s), err))
			continue
		}
		entries = append(entries, e)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, nil, err
	}
	switch len(entries) {
	case 0:
		return nil, func() ([]byte, error) { return nil, nil }, nil
	case 1:
		return entries[0].objs, entries[0].YAML, nil
	}
	var objs []map[string]any
	for _, e := range entries {
		objs = append(objs, e.objs...)
	}
	sortObjects(objs)
	return objs, func() ([]byte, error) { return MarshalStream(objs) }, nil
}

func describe(s *v1alpha1.ApplicationSource) string {
	if s.Chart != "" {
		return fmt.Sprintf("chart %s-%s from %s", s.Chart, s.TargetRevision, s.RepoURL)
	}
	return fmt.Sprintf("%s path %s", s.RepoURL, s.Path)
}

// Typed converts a generated Application (a JSON tree) to the typed form.
func Typed(ga *generate.Application) (*v1alpha1.Application, error) { return typed(ga) }

func typed(ga *generate.Application) (*v1alpha1.Application, error) {
	b, err := json.Marshal(ga.Object)
	if err != nil {
		return nil, err
	}
	var app v1alpha1.Application
	if err := json.Unmarshal(b, &app); err != nil {
		return nil, err
	}
	return &app, nil
}

func (r *Renderer) renderSource(ctx context.Context, app *v1alpha1.Application, idx int, s *v1alpha1.ApplicationSource) (*memoEntry, error) {
	if s.Chart != "" {
		ch, err := r.opts.Charts.Load(ctx, helm.ChartRef{RepoURL: s.RepoURL, Chart: s.Chart, Version: s.TargetRevision})
		if err != nil {
			return nil, err
		}
		return r.helmTemplate(ctx, app, idx, s, ch, chartFS(ch), "")
	}
	repo, ok := r.opts.Repos.Lookup(s.RepoURL)
	if !ok {
		return nil, fmt.Errorf("repository %s is not available offline (it is not this repository; add it with --repo-url if it is)", s.RepoURL)
	}
	dir := path.Clean(strings.TrimPrefix(s.Path, "/"))
	if strings.HasPrefix(dir, "../") || dir == ".." {
		return nil, fmt.Errorf("path %s leaves the repository", s.Path)
	}
	sub, err := fs.Sub(repo, dir)
	if err != nil {
		return nil, err
	}
	typ, err := manifests.SourceType(repo, dir, s)
	if err != nil {
		return nil, err
	}
	switch typ {
	case manifests.SourceTypeHelm:
		ch, err := loadChartDir(sub)
		if err != nil {
			return nil, fmt.Errorf("loading chart %s: %w", s.Path, err)
		}
		return r.helmTemplate(ctx, app, idx, s, ch, repo, dir)
	case manifests.SourceTypeKustomize:
		ns := app.Spec.Destination.Namespace
		return r.memoize(hashOf("kustomize", s.RepoURL, dir, s.Kustomize, ns), ns, func() ([]map[string]any, error) {
			return manifests.Kustomize(repo, dir, s.Kustomize)
		})
	case manifests.SourceTypeDirectory:
		ns := app.Spec.Destination.Namespace
		return r.memoize(hashOf("directory", s.RepoURL, dir, s.Directory, ns), ns, func() ([]map[string]any, error) {
			return manifests.Directory(repo, dir, s.Directory)
		})
	default:
		return nil, fmt.Errorf("%s sources (config management plugins) cannot be rendered offline", typ)
	}
}

// helmTemplate builds the `helm template` call of Argo CD's repo-server:
// release name from helm.releaseName or the Application name, namespace
// from helm.namespace or the destination, CRDs unless skipCrds.
// local is the file system relative value files are read from: the chart's
// files, or the source's repository with appPath its directory.
func (r *Renderer) helmTemplate(ctx context.Context, app *v1alpha1.Application, idx int, s *v1alpha1.ApplicationSource, ch *chart.Chart, local fs.FS, appPath string) (*memoEntry, error) {
	in, err := source.ResolveHelmWithOptions(app, idx, r.opts.Repos, local, source.Options{AppPath: appPath})
	if err != nil {
		return nil, err
	}
	req := helm.Request{
		Chart:       ch,
		ReleaseName: app.Name,
		Namespace:   app.Spec.Destination.Namespace,
		KubeVersion: r.opts.KubeVersion,
		APIVersions: r.opts.APIVersions,
		Values:      in.Values,
	}
	if h := s.Helm; h != nil {
		if h.ReleaseName != "" {
			req.ReleaseName = h.ReleaseName
		}
		if h.Namespace != "" {
			req.Namespace = h.Namespace
		}
		if h.KubeVersion != "" {
			req.KubeVersion = strings.TrimPrefix(h.KubeVersion, "v")
		}
		if len(h.APIVersions) > 0 {
			req.APIVersions = h.APIVersions
		}
		req.SkipCRDs, req.SkipTests, req.SkipSchemaValidation = h.SkipCrds, h.SkipTests, h.SkipSchemaValidation
	}
	for _, f := range in.ValueFiles {
		req.ValueFiles = append(req.ValueFiles, helm.ValueFile{Name: f.Name, Data: f.Data})
	}
	for _, p := range in.Parameters {
		req.Parameters = append(req.Parameters, helm.Parameter{Name: p.Name, Value: p.Value, ForceString: p.ForceString})
	}
	for _, f := range in.FileParameters {
		req.FileParameters = append(req.FileParameters, helm.ValueFile{Name: f.Name, Data: f.Data})
	}
	ns := app.Spec.Destination.Namespace
	key := hashOf("helm", chartKey(ch), req.ReleaseName, req.Namespace, req.KubeVersion, req.APIVersions,
		req.SkipCRDs, req.SkipTests, req.SkipSchemaValidation, req.ValueFiles, req.Values, req.Parameters, req.FileParameters, ns)
	return r.memoize(key, ns, func() ([]map[string]any, error) {
		out, err := helm.Template(ctx, req)
		if err != nil {
			return nil, err
		}
		// Argo CD splits Helm's output like any other manifests.
		return manifests.SplitYAML(out)
	})
}

// memoize runs fn once per key; concurrent callers wait for the first and
// share its result. Objects without a namespace get ns (part of key), then
// the entry is read-only.
func (r *Renderer) memoize(key, ns string, fn func() ([]map[string]any, error)) (*memoEntry, error) {
	r.mu.Lock()
	e, ok := r.memo[key]
	if !ok {
		e = &memoEntry{}
		r.memo[key] = e
	}
	r.mu.Unlock()
	e.once.Do(func() {
		r.slots <- struct{}{}
		defer func() { <-r.slots }()
		e.objs, e.err = fn()
		if e.err == nil {
			postProcess(e.objs, ns)
			sortObjects(e.objs)
		}
	})
	if e.err != nil {
		return nil, e.err
	}
	return e, nil
}

func chartKey(ch *chart.Chart) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s-%s\n", ch.Metadata.Name, ch.Metadata.Version)
	for _, f := range ch.Raw {
		fmt.Fprintf(h, "%s %d\n", f.Name, len(f.Data))
		h.Write(f.Data)
	}
	return hex.EncodeToString(h.Sum(nil))
}

func hashOf(parts ...any) string {
	b, _ := json.Marshal(parts)
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// chartFS exposes a chart's files, for value files given relative to it.
func chartFS(ch *chart.Chart) fs.FS {
	m := fstest.MapFS{}
	for _, f := range ch.Raw {
		m[f.Name] = &fstest.MapFile{Data: f.Data}
	}
	return m
}

func loadChartDir(fsys fs.FS) (*chart.Chart, error) {
	var files []*chartloader.BufferedFile
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		files = append(files, &chartloader.BufferedFile{Name: p, Data: data})
		return nil
	})
	if err != nil {
		return nil, err
	}
	return chartloader.LoadFiles(files)
}

// postProcess gives namespaced objects without a namespace the
// destination namespace, as Argo CD does when it applies them.
func postProcess(objs []map[string]any, ns string) {
	if ns == "" {
		return
	}
	clusterScoped := clusterScopedKinds(objs)
	for _, o := range objs {
		md, _ := o["metadata"].(map[string]any)
		if md == nil {
			continue
		}
		if _, ok := md["namespace"]; ok {
			continue
		}
		if clusterScoped[gk(o)] {
			continue
		}
		md["namespace"] = ns
	}
}

func gk(o map[string]any) string {
	av, _ := o["apiVersion"].(string)
	k, _ := o["kind"].(string)
	g := ""
	if i := strings.Index(av, "/"); i >= 0 {
		g = av[:i]
	}
	return g + "/" + k
}

// builtinClusterScoped lists cluster-scoped kinds of Kubernetes 1.35 (by
// group/kind); CRDs rendered alongside add theirs.
var builtinClusterScoped = map[string]bool{
	"/Namespace": true, "/Node": true, "/PersistentVolume": true, "/ComponentStatus": true,
	"rbac.authorization.k8s.io/ClusterRole": true, "rbac.authorization.k8s.io/ClusterRoleBinding": true,
	"apiextensions.k8s.io/CustomResourceDefinition": true, "apiregistration.k8s.io/APIService": true,
	"admissionregistration.k8s.io/ValidatingWebhookConfiguration": true, "admissionregistration.k8s.io/MutatingWebhookConfiguration": true,
	"admissionregistration.k8s.io/ValidatingAdmissionPolicy": true, "admissionregistration.k8s.io/ValidatingAdmissionPolicyBinding": true,
	"admissionregistration.k8s.io/MutatingAdmissionPolicy": true, "admissionregistration.k8s.io/MutatingAdmissionPolicyBinding": true,
	"storage.k8s.io/StorageClass": true, "storage.k8s.io/CSIDriver": true, "storage.k8s.io/CSINode": true, "storage.k8s.io/VolumeAttachment": true,
	"storage.k8s.io/VolumeAttributesClass": true, "scheduling.k8s.io/PriorityClass": true, "node.k8s.io/RuntimeClass": true,
	"networking.k8s.io/IngressClass": true, "networking.k8s.io/IPAddress": true, "networking.k8s.io/ServiceCIDR": true,
	"certificates.k8s.io/CertificateSigningRequest": true, "flowcontrol.apiserver.k8s.io/FlowSchema": true,
	"flowcontrol.apiserver.k8s.io/PriorityLevelConfiguration": true, "resource.k8s.io/DeviceClass": true,
}

func clusterScopedKinds(objs []map[string]any) map[string]bool {
	out := map[string]bool{}
	for k := range builtinClusterScoped {
		out[k] = true
	}
	for _, o := range objs {
		if gk(o) != "apiextensions.k8s.io/CustomResourceDefinition" {
			continue
		}
		spec, _ := o["spec"].(map[string]any)
		if spec["scope"] != "Cluster" {
			continue
		}
		names, _ := spec["names"].(map[string]any)
		g, _ := spec["group"].(string)
		k, _ := names["kind"].(string)
		out[g+"/"+k] = true
	}
	return out
}

// sortObjects orders by Helm's install order of kinds, then namespace,
// kind and name: stable across runs, and the order a reader expects.
func sortObjects(objs []map[string]any) {
	rank := map[string]int{}
	for i, k := range releaseutil.InstallOrder {
		rank[k] = i
	}
	key := func(o map[string]any) (int, string) {
		k, _ := o["kind"].(string)
		r, ok := rank[k]
		if !ok {
			r = len(releaseutil.InstallOrder)
		}
		md, _ := o["metadata"].(map[string]any)
		ns, _ := md["namespace"].(string)
		n, _ := md["name"].(string)
		av, _ := o["apiVersion"].(string)
		return r, k + "\x00" + ns + "\x00" + n + "\x00" + av
	}
	sort.SliceStable(objs, func(i, j int) bool {
		ri, si := key(objs[i])
		rj, sj := key(objs[j])
		if ri != rj {
			return ri < rj
		}
		return si < sj
	})
}

// MarshalStream encodes objects as one YAML stream, `---` between them.
func MarshalStream(objs []map[string]any) ([]byte, error) {
	var buf bytes.Buffer
	for i, o := range objs {
		if i > 0 {
			buf.WriteString("---\n")
		}
		b, err := fastyaml.Marshal(o)
		if err != nil {
			return nil, err
		}
		buf.Write(b)
	}
	return buf.Bytes(), nil
}

// HelmValues resolves the first Helm source of an Application: its chart
// and the value inputs Argo CD would pass to `helm template`.
func (r *Renderer) HelmValues(ctx context.Context, ga *generate.Application) (*source.HelmInputs, *chart.Chart, error) {
	app, err := typed(ga)
	if err != nil {
		return nil, nil, err
	}
	srcs := app.Spec.Sources
	single := len(srcs) == 0
	if single && app.Spec.Source != nil {
		srcs = []v1alpha1.ApplicationSource{*app.Spec.Source}
	}
	for i := range srcs {
		s := &srcs[i]
		idx := i
		if single {
			idx = -1
		}
		var ch *chart.Chart
		var local fs.FS
		appPath := ""
		switch {
		case s.Chart != "":
			if ch, err = r.opts.Charts.Load(ctx, helm.ChartRef{RepoURL: s.RepoURL, Chart: s.Chart, Version: s.TargetRevision}); err != nil {
				return nil, nil, err
			}
			local = chartFS(ch)
		case s.Path != "" && s.Ref == "":
			repo, ok := r.opts.Repos.Lookup(s.RepoURL)
			if !ok {
				continue
			}
			sub, err := fs.Sub(repo, path.Clean(s.Path))
			if err != nil {
				return nil, nil, err
			}
			if typ, err := manifests.SourceType(repo, path.Clean(s.Path), s); err != nil || typ != manifests.SourceTypeHelm {
				continue
			}
			if ch, err = loadChartDir(sub); err != nil {
				return nil, nil, err
			}
			local, appPath = repo, path.Clean(s.Path)
		default:
			continue
		}
		in, err := source.ResolveHelmWithOptions(app, idx, r.opts.Repos, local, source.Options{AppPath: appPath})
		if err != nil {
			return nil, nil, err
		}
		return in, ch, nil
	}
	return nil, nil, fmt.Errorf("Application %s has no Helm source", app.Name)
}
