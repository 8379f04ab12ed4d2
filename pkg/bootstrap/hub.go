// Package bootstrap installs Argo CD into a hub cluster and hands the hub over to Git: the
// Argo CD CRDs, the argo-cd Helm chart (installed for real with the Helm SDK, so the hub gets
// the chart's RBAC, ConfigMaps and Secrets) and the root Application (bootstrap/root-app.yaml)
// pointed at the URL the hub reads this repository at.
//
// Hub is used by `hubctl up` (a local fleet: the Argo CD controllers run as local processes
// against the hub, the chart's pods are simulated or absent) and by `hubctl bootstrap` for real
// hubs. It never waits for pods.
package bootstrap

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/release"
	"helm.sh/helm/v3/pkg/storage/driver"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/yaml"

	"github.com/gitops-hub/gitops-hub/pkg/conventions"
	"github.com/gitops-hub/gitops-hub/pkg/kube"
)

// FieldManager is the server-side apply field manager of everything Hub applies.
const FieldManager = "hubctl-bootstrap"

// Defaults of Options.
const (
	DefaultNamespace   = conventions.ArgoCDNamespace
	DefaultReleaseName = "argocd"
)

// Timeouts within a step; ctx bounds the whole of Hub.
const (
	crdTimeout  = 60 * time.Second // for the CRDs to be Established
	helmTimeout = 5 * time.Minute  // Helm's own operation timeout (hooks and waits, both off)
)

// Options of Hub.
type Options struct {
	// Namespace of Argo CD in the hub (the chart's release namespace, where the root
	// Application is created); default "argocd".
	Namespace string
	// CRDDir is a folder of Argo CD CRD YAML files (*.yaml, *.yml, *.json): the module's
	// manifests/crds, as hack/tools/build.sh copies them to <cache>/argocd-<version>/crds.
	// kustomization.yaml and documents that are not CustomResourceDefinitions are skipped, so
	// the module's manifests/crds itself works too.
	// Required.
	CRDDir string
	// Chart is the argo-cd chart to install into the hub, loaded by the caller. Required.
	Chart *chart.Chart
	// Values are the caller's chart values. They are merged over Hub's defaults
	// (configs.cm."timeout.reconciliation": 10s, configs.params."server.insecure": true) and
	// under what Hub forces (crds.install: false: Hub applies the CRDs itself). Not modified.
	Values map[string]any
	// ReleaseName is the Helm release name; default "argocd".
	ReleaseName string
	// KubeVersion overrides the Kubernetes version the chart is rendered for (e.g. "1.35.4");
	// default: the hub's own version, from discovery.
	KubeVersion string
	// RepoURL is the URL the hub's Argo CD reads this repository at: it replaces the root
	// Application's spec.source.repoURL. "" keeps the URL in RootApp.
	RepoURL string
	// RootApp is the contents of bootstrap/root-app.yaml. Required.
	RootApp []byte
	// Revision replaces the root Application's spec.source.targetRevision; "" keeps it.
	Revision string
	// Progress receives one line per step ("bootstrap: <step>"); nil discards them.
	Progress io.Writer

	// Projects are the AppProjects of the tree (bootstrap/control-plane/argocd-config/projects),
	// server-side applied before the root Application, so the root Application's first sync
	// does not depend on them.
	Projects []*unstructured.Unstructured
	// WaitAvailable, when not 0, waits (at most that long) until every Deployment and
	// StatefulSet of the release is available. 0 does not wait (the local fleet runs the
	// Argo CD controllers as processes, not as the chart's pods).
	WaitAvailable time.Duration
	// WaitSync, when not 0, waits (at most that long) until the root Application is Synced.
	WaitSync time.Duration
	// DryRun changes nothing: it writes to Out what would be applied (every object, and the
	// chart's manifest as Helm would install it) and reports what would change.
	DryRun bool
	// Out receives the dry run's manifests (a YAML stream).
	Out io.Writer
}

// Result says what Hub did (or, with DryRun, would do), one entry per object or release.
type Result struct {
	Changes []kube.Applied
}

// Changed reports whether anything was (or would be) created or changed.
func (r *Result) Changed() bool {
	for _, c := range r.Changes {
		if c.Action != kube.AppliedUnchanged {
			return true
		}
	}
	return false
}

func (o *Options) defaults() {
	if o.Namespace == "" {
		o.Namespace = DefaultNamespace
	}
	if o.ReleaseName == "" {
		o.ReleaseName = DefaultReleaseName
	}
	if o.Progress == nil {
		o.Progress = io.Discard
	}
	if o.Out == nil {
		o.Out = io.Discard
	}
}

// step is one stage of Hub.
type step struct {
	name string
	run  func(ctx context.Context) error
}

// Hub bootstraps Argo CD in the hub cluster, in order:
//
//  1. namespace: the Namespace opts.Namespace (server-side apply);
//  2. CRDs: with opts.CRDDir, every CustomResourceDefinition in it, with server-side apply
//     (they are too big for the last-applied annotation of client-side apply), then waits until
//     each is Established. Without it, the chart installs Argo CD's CRDs (its crds.install) and
//     Hub waits for them after step 3;
//  3. argo-cd chart: installs opts.Chart as release opts.ReleaseName in opts.Namespace with the
//     Helm SDK, or upgrades it in place when the release exists and its chart or values differ
//     (the same chart version with the same values is left alone). Values: crds.install=false
//     with CRDDir; configs.cm."timeout.reconciliation"=10s and
//     configs.params."server.insecure"=true unless opts.Values says otherwise; then
//     opts.Values. Helm does not wait for pods and does not run hooks (hook Jobs never finish
//     when pods are simulated). The argo-cd chart's only hook, redis-secret-init, is done here
//     instead: when the chart's redisSecretInit.enabled is true, Secret argocd-redis with a
//     random "auth" is created unless it exists;
//  4. AppProject default: created as argocd-server creates it at start (every source,
//     destination and cluster-scoped kind) unless it exists; an existing one is left as it
//     is. The chart does not create it, and in a local fleet no argocd-server runs, while
//     the root Application (and every Application of project default) needs it;
//  5. opts.Projects, then the root Application: RootApplication(opts.RootApp, opts.RepoURL,
//     opts.Revision, opts.Namespace), server-side applied;
//  6. with opts.WaitAvailable, waits until Argo CD's workloads are available; with
//     opts.WaitSync, until the root Application is Synced.
//
// Each step prints "bootstrap: <step>" to opts.Progress and each error names its step. Hub is
// idempotent: a second run changes nothing, and its Result says so.
func Hub(ctx context.Context, hub *kube.Cluster, opts Options) (*Result, error) {
	if hub == nil {
		return nil, errors.New("bootstrap: no hub cluster")
	}
	opts.defaults()
	// Check everything that needs no cluster before touching it.
	if opts.Chart == nil {
		return nil, errors.New("bootstrap: no argo-cd chart (Options.Chart)")
	}
	if opts.KubeVersion != "" {
		if _, err := chartutil.ParseKubeVersion(opts.KubeVersion); err != nil {
			return nil, fmt.Errorf("bootstrap: Options.KubeVersion: %w", err)
		}
	}
	var crds []*unstructured.Unstructured
	if opts.CRDDir != "" {
		var err error
		if crds, err = ReadCRDs(opts.CRDDir); err != nil {
			return nil, fmt.Errorf("bootstrap: CRDs: %w", err)
		}
	}
	rootApp, err := RootApplication(opts.RootApp, opts.RepoURL, opts.Revision, opts.Namespace)
	if err != nil {
		return nil, fmt.Errorf("bootstrap: root Application: %w", err)
	}
	projects := make([]*unstructured.Unstructured, len(opts.Projects))
	for i, p := range opts.Projects {
		projects[i] = p.DeepCopy()
		projects[i].SetNamespace(opts.Namespace)
	}
	values := chartValues(opts.Values, opts.CRDDir != "")
	res := &Result{}
	apply := func(ctx context.Context, objs ...*unstructured.Unstructured) error {
		if opts.DryRun {
			if err := writeYAML(opts.Out, objs); err != nil {
				return err
			}
		}
		applied, err := hub.ApplyReport(ctx, objs, FieldManager, opts.DryRun)
		for _, a := range applied {
			fmt.Fprintf(opts.Progress, "bootstrap:   %s %s\n", a.Object, a.Action)
		}
		res.Changes = append(res.Changes, applied...)
		return err
	}
	// dryRunApply applies when the kinds exist; on a hub without Argo CD's CRDs a dry run can
	// only print the objects and say they would be created.
	dryRunApply := func(ctx context.Context, objs ...*unstructured.Unstructured) error {
		if !opts.DryRun {
			return apply(ctx, objs...)
		}
		if ok, err := crdsExist(ctx, hub, objs); err != nil || ok {
			if err != nil {
				return err
			}
			return apply(ctx, objs...)
		}
		if err := writeYAML(opts.Out, objs); err != nil {
			return err
		}
		for _, o := range objs {
			fmt.Fprintf(opts.Progress, "bootstrap:   %s %s (Argo CD's CRDs are not installed yet)\n", kube.Describe(o), kube.AppliedCreated)
			res.Changes = append(res.Changes, kube.Applied{Object: kube.Describe(o), Action: kube.AppliedCreated})
		}
		return nil
	}

	ns := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "Namespace",
		"metadata": map[string]any{"name": opts.Namespace},
	}}
	steps := []step{
		{fmt.Sprintf("namespace %s", opts.Namespace), func(ctx context.Context) error {
			return apply(ctx, ns)
		}},
	}
	if len(crds) > 0 {
		steps = append(steps, step{fmt.Sprintf("Argo CD CRDs (%s)", crdNames(crds)), func(ctx context.Context) error {
			if err := apply(ctx, crds...); err != nil {
				return err
			}
			if opts.DryRun {
				return nil
			}
			return waitEstablished(ctx, hub, crds, crdTimeout)
		}})
	}
	steps = append(steps, step{fmt.Sprintf("chart %s as release %s in namespace %s", chartID(opts.Chart), opts.ReleaseName, opts.Namespace), func(ctx context.Context) error {
		action, err := installChart(ctx, hub, opts, values)
		if err != nil {
			return err
		}
		what := fmt.Sprintf("Helm release %s/%s (%s)", opts.Namespace, opts.ReleaseName, chartID(opts.Chart))
		fmt.Fprintf(opts.Progress, "bootstrap:   %s %s\n", what, action)
		res.Changes = append(res.Changes, kube.Applied{Object: what, Action: action})
		return nil
	}})
	if len(crds) == 0 && !opts.DryRun {
		steps = append(steps, step{"Argo CD CRDs installed by the chart", func(ctx context.Context) error {
			return waitEstablished(ctx, hub, argoCDCRDs(), crdTimeout)
		}})
	}
	steps = append(steps,
		step{fmt.Sprintf("AppProject %s/default (unless it exists)", opts.Namespace), func(ctx context.Context) error {
			if opts.DryRun {
				return nil // the projects of the tree and the root Application are what a dry run shows
			}
			created, err := ensureDefaultProject(ctx, hub, opts.Namespace)
			if created {
				res.Changes = append(res.Changes, kube.Applied{Object: "AppProject.argoproj.io " + opts.Namespace + "/default", Action: kube.AppliedCreated})
			}
			return err
		}},
		step{fmt.Sprintf("%d AppProjects and root Application %s/%s (repoURL %s)", len(projects), rootApp.GetNamespace(), rootApp.GetName(), repoURLOf(rootApp)), func(ctx context.Context) error {
			return dryRunApply(ctx, append(projects, rootApp)...)
		}},
	)
	if opts.WaitAvailable > 0 && !opts.DryRun {
		steps = append(steps, step{fmt.Sprintf("waiting up to %s until Argo CD is available", opts.WaitAvailable), func(ctx context.Context) error {
			return waitAvailable(ctx, hub, opts.Namespace, opts.ReleaseName, opts.WaitAvailable)
		}})
	}
	if opts.WaitSync > 0 && !opts.DryRun {
		steps = append(steps, step{fmt.Sprintf("waiting up to %s until the root Application is Synced", opts.WaitSync), func(ctx context.Context) error {
			return waitSynced(ctx, hub, rootApp.GetNamespace(), rootApp.GetName(), opts.WaitSync)
		}})
	}
	for _, s := range steps {
		if err := ctx.Err(); err != nil {
			return res, fmt.Errorf("bootstrap: %s: %w", s.name, err)
		}
		fmt.Fprintf(opts.Progress, "bootstrap: %s\n", s.name)
		if err := s.run(ctx); err != nil {
			return res, fmt.Errorf("bootstrap: %s: %w", s.name, err)
		}
	}
	return res, nil
}

// ReadCRDs reads every CustomResourceDefinition from the YAML/JSON files of dir (not
// recursive), in file name order. kustomization.yaml and documents that are not CRDs are
// skipped; a folder without any CRD is an error.
func ReadCRDs(dir string) ([]*unstructured.Unstructured, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var crds []*unstructured.Unstructured
	for _, e := range entries {
		switch strings.ToLower(filepath.Ext(e.Name())) {
		case ".yaml", ".yml", ".json":
		default:
			continue
		}
		if e.IsDir() || isKustomization(e.Name()) {
			continue
		}
		path := filepath.Join(dir, e.Name())
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		docs, err := kube.DecodeYAML(data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		for _, d := range docs {
			if d.GetKind() == "CustomResourceDefinition" && d.GroupVersionKind().Group == "apiextensions.k8s.io" {
				crds = append(crds, d)
			}
		}
	}
	if len(crds) == 0 {
		return nil, fmt.Errorf("no CustomResourceDefinition in %s (build them with hack/tools/build.sh argocd)", dir)
	}
	return crds, nil
}

// isKustomization: the Argo CD module's manifests/crds holds a kustomization.yaml next to the
// CRDs (hack/tools/build.sh leaves it out of its copy).
func isKustomization(name string) bool {
	switch name {
	case "kustomization.yaml", "kustomization.yml", "Kustomization":
		return true
	}
	return false
}

func crdNames(crds []*unstructured.Unstructured) string {
	names := make([]string, len(crds))
	for i, c := range crds {
		names[i] = c.GetName()
	}
	return strings.Join(names, ", ")
}

var crdGVR = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}

// waitEstablished polls until every CRD has condition Established=True (and NamesAccepted is
// not False, which would keep it from ever being Established).
func waitEstablished(ctx context.Context, hub *kube.Cluster, crds []*unstructured.Unstructured, timeout time.Duration) error {
	dc := hub.Dynamic
	pending := map[string]string{} // name -> why not yet
	for _, c := range crds {
		pending[c.GetName()] = "not found"
	}
	err := wait.PollUntilContextTimeout(ctx, 250*time.Millisecond, timeout, true, func(ctx context.Context) (bool, error) {
		for name := range pending {
			obj, err := dc.Resource(crdGVR).Get(ctx, name, metav1.GetOptions{})
			if apierrors.IsNotFound(err) {
				continue
			}
			if err != nil {
				pending[name] = err.Error()
				continue
			}
			established, why := crdEstablished(obj)
			if established {
				delete(pending, name)
				continue
			}
			if strings.HasPrefix(why, "NamesAccepted") {
				return false, fmt.Errorf("CRD %s: %s", name, why)
			}
			pending[name] = why
		}
		return len(pending) == 0, nil
	})
	if err != nil && len(pending) > 0 {
		var why []string
		for name, w := range pending {
			why = append(why, fmt.Sprintf("%s: %s", name, w))
		}
		sort.Strings(why)
		return fmt.Errorf("waiting for the CRDs to be Established: %w (%s)", err, strings.Join(why, "; "))
	}
	return err
}

func crdEstablished(crd *unstructured.Unstructured) (bool, string) {
	conds, _, _ := unstructured.NestedSlice(crd.Object, "status", "conditions")
	why := "no Established condition yet"
	for _, c := range conds {
		m, ok := c.(map[string]any)
		if !ok {
			continue
		}
		typ, _ := m["type"].(string)
		status, _ := m["status"].(string)
		msg, _ := m["message"].(string)
		switch {
		case typ == "Established" && status == "True":
			return true, ""
		case typ == "NamesAccepted" && status == "False":
			return false, "NamesAccepted=False: " + msg
		case typ == "Established":
			why = fmt.Sprintf("Established=%s: %s", status, msg)
		}
	}
	return false, why
}

var appProjectGVR = schema.GroupVersionResource{Group: "argoproj.io", Version: "v1alpha1", Resource: "appprojects"}

// DefaultProject is the AppProject "default" as argocd-server creates it when it is missing
// (initializeDefaultProject in Argo CD's server/server.go).
func DefaultProject(namespace string) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "argoproj.io/v1alpha1",
		"kind":       "AppProject",
		"metadata":   map[string]any{"name": "default", "namespace": namespace},
		"spec": map[string]any{
			"sourceRepos":              []any{"*"},
			"destinations":             []any{map[string]any{"server": "*", "namespace": "*"}},
			"clusterResourceWhitelist": []any{map[string]any{"group": "*", "kind": "*"}},
		},
	}}
}

// ensureDefaultProject creates the AppProject default unless it exists: like argocd-server,
// it never changes an existing one (a hub may restrict its default project on purpose).
func ensureDefaultProject(ctx context.Context, hub *kube.Cluster, namespace string) (created bool, err error) {
	projects := hub.Dynamic.Resource(appProjectGVR).Namespace(namespace)
	if _, err := projects.Get(ctx, "default", metav1.GetOptions{}); err == nil {
		return false, nil
	} else if !apierrors.IsNotFound(err) {
		return false, err
	}
	_, err = projects.Create(ctx, DefaultProject(namespace), metav1.CreateOptions{FieldManager: FieldManager})
	if apierrors.IsAlreadyExists(err) {
		return false, nil
	}
	return err == nil, err
}

func repoURLOf(app *unstructured.Unstructured) string {
	u, _, _ := unstructured.NestedString(app.Object, "spec", "source", "repoURL")
	return u
}

func chartID(c *chart.Chart) string {
	if c.Metadata == nil {
		return "(no Chart.yaml)"
	}
	return c.Metadata.Name + "-" + c.Metadata.Version
}

// chartValues returns the values Hub installs the chart with: its defaults, under the caller's
// values, under what Hub forces. The caller's map is not modified.
func chartValues(user map[string]any, ownCRDs bool) map[string]any {
	vals := map[string]any{
		"configs": map[string]any{
			"cm":     map[string]any{"timeout.reconciliation": "10s"},
			"params": map[string]any{"server.insecure": true},
		},
	}
	vals = mergeValues(vals, user)
	if !ownCRDs {
		return vals
	}
	return mergeValues(vals, map[string]any{
		"crds": map[string]any{"install": false}, // Hub applies the CRDs itself (step 2)
	})
}

// mergeValues returns a deep copy of base with over merged in: maps merge key by key,
// anything else in over replaces base's value (Helm's rule for -f files).
func mergeValues(base, over map[string]any) map[string]any {
	out := make(map[string]any, len(base)+len(over))
	for k, v := range base {
		out[k] = copyValue(v)
	}
	for k, v := range over {
		if bm, ok := out[k].(map[string]any); ok {
			if om, ok := v.(map[string]any); ok {
				out[k] = mergeValues(bm, om)
				continue
			}
		}
		out[k] = copyValue(v)
	}
	return out
}

func copyValue(v any) any {
	switch v := v.(type) {
	case map[string]any:
		return mergeValues(v, nil)
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = copyValue(e)
		}
		return out
	default:
		return v
	}
}

// installChart installs or upgrades the release against the hub, the way `helm upgrade
// --install --no-hooks` does, without waiting for anything. A release whose last revision is
// deployed with the same chart (name and version) and the same values is left alone. It
// returns what it did: kube.AppliedCreated, AppliedConfigured or AppliedUnchanged. With
// opts.DryRun Helm renders against the hub without writing, and the manifest goes to opts.Out.
func installChart(ctx context.Context, hub *kube.Cluster, opts Options, values map[string]any) (string, error) {
	getter, err := newRESTGetter(hub, opts.Namespace)
	if err != nil {
		return "", err
	}
	cfg := new(action.Configuration)
	if err := cfg.Init(getter, opts.Namespace, "secret", func(string, ...any) {}); err != nil {
		return "", fmt.Errorf("helm: %w", err)
	}
	if opts.KubeVersion != "" {
		caps, err := capabilities(getter, opts.KubeVersion)
		if err != nil {
			return "", err
		}
		cfg.Capabilities = caps
	}

	if !opts.DryRun {
		if err := ensureRedisSecret(ctx, cfg, opts, values); err != nil {
			return "", err
		}
	}

	hist := action.NewHistory(cfg)
	hist.Max = 1
	rels, err := hist.Run(opts.ReleaseName)
	switch {
	case errors.Is(err, driver.ErrReleaseNotFound) || (err == nil && len(rels) == 0):
		in := action.NewInstall(cfg)
		in.ReleaseName = opts.ReleaseName
		in.Namespace = opts.Namespace
		in.DisableHooks = true
		in.Wait = false
		in.Timeout = helmTimeout
		if opts.DryRun {
			in.DryRun, in.DryRunOption = true, "server"
		}
		rel, err := in.RunWithContext(ctx, opts.Chart, values)
		if err != nil {
			return "", fmt.Errorf("helm install: %w", err)
		}
		if opts.DryRun {
			if _, err := io.WriteString(opts.Out, rel.Manifest); err != nil {
				return "", err
			}
		}
		return kube.AppliedCreated, nil
	case err != nil:
		return "", fmt.Errorf("helm history: %w", err)
	}
	last := rels[len(rels)-1]
	for _, r := range rels {
		if r.Version > last.Version {
			last = r
		}
	}
	if sameRelease(last, opts.Chart, values) {
		return kube.AppliedUnchanged, nil
	}
	if last.Info != nil && last.Info.Status.IsPending() && !opts.DryRun {
		// An install or upgrade that was interrupted (Ctrl-C during hubctl up) leaves the release
		// pending, and Helm refuses to touch it again. Mark it failed so the upgrade goes on.
		last.SetStatus(release.StatusFailed, "interrupted: marked failed by hubctl bootstrap to upgrade again")
		if err := cfg.Releases.Update(last); err != nil {
			return "", fmt.Errorf("helm: release %s revision %d is %s and cannot be marked failed: %w", last.Name, last.Version, last.Info.Status, err)
		}
	}
	up := action.NewUpgrade(cfg)
	up.Namespace = opts.Namespace
	up.DisableHooks = true
	up.Wait = false
	up.Timeout = helmTimeout
	up.ResetValues = true // exactly the values given, as a fresh install would get
	up.MaxHistory = 10
	if opts.DryRun {
		up.DryRun, up.DryRunOption = true, "server"
	}
	rel, err := up.RunWithContext(ctx, opts.ReleaseName, opts.Chart, values)
	if err != nil {
		return "", fmt.Errorf("helm upgrade: %w", err)
	}
	if opts.DryRun {
		if _, err := io.WriteString(opts.Out, rel.Manifest); err != nil {
			return "", err
		}
	}
	return kube.AppliedConfigured, nil
}

// sameRelease: the release's revision is deployed, from the same chart name and version, with
// the same values (compared as JSON: the release stores its values decoded from JSON).
func sameRelease(rel *release.Release, c *chart.Chart, values map[string]any) bool {
	if rel.Info == nil || rel.Info.Status != release.StatusDeployed || rel.Chart == nil || rel.Chart.Metadata == nil || c.Metadata == nil {
		return false
	}
	if rel.Chart.Metadata.Name != c.Metadata.Name || rel.Chart.Metadata.Version != c.Metadata.Version {
		return false
	}
	a, err1 := json.Marshal(rel.Config)
	b, err2 := json.Marshal(values)
	return err1 == nil && err2 == nil && bytes.Equal(a, b)
}

// writeYAML writes objects as a YAML stream ("---" before each).
func writeYAML(w io.Writer, objs []*unstructured.Unstructured) error {
	for _, o := range objs {
		data, err := yaml.Marshal(o.Object)
		if err != nil {
			return fmt.Errorf("%s: %w", kube.Describe(o), err)
		}
		if _, err := fmt.Fprintf(w, "---\n%s", data); err != nil {
			return err
		}
	}
	return nil
}

// ArgoCDCRDNames are the CustomResourceDefinitions of Argo CD that hubctl relies on.
var ArgoCDCRDNames = []string{"applications.argoproj.io", "applicationsets.argoproj.io", "appprojects.argoproj.io"}

func argoCDCRDs() []*unstructured.Unstructured {
	out := make([]*unstructured.Unstructured, len(ArgoCDCRDNames))
	for i, n := range ArgoCDCRDNames {
		out[i] = &unstructured.Unstructured{}
		out[i].SetName(n)
	}
	return out
}

// crdsExist reports whether the hub serves the kinds of objs (all argoproj.io here).
func crdsExist(ctx context.Context, hub *kube.Cluster, objs []*unstructured.Unstructured) (bool, error) {
	for _, o := range objs {
		if o.GroupVersionKind().Group != "argoproj.io" {
			continue
		}
		if err := RequireArgoCD(ctx, hub); err != nil {
			if errors.Is(err, ErrArgoCDNotInstalled) {
				return false, nil
			}
			return false, err
		}
		return true, nil
	}
	return true, nil
}

// ErrArgoCDNotInstalled is returned (wrapped) by RequireArgoCD.
var ErrArgoCDNotInstalled = errors.New("Argo CD is not installed on this cluster")

// RequireArgoCD checks that the hub serves Argo CD's kinds (its CRDs exist). When one is
// missing, the error wraps ErrArgoCDNotInstalled, names the CRD and the command that installs
// Argo CD, rather than the apiserver's bare "the server could not find the requested resource".
func RequireArgoCD(ctx context.Context, hub *kube.Cluster) error {
	for _, name := range ArgoCDCRDNames {
		_, err := hub.Dynamic.Resource(crdGVR).Get(ctx, name, metav1.GetOptions{})
		switch {
		case apierrors.IsNotFound(err):
			return fmt.Errorf("%s: %w (no CustomResourceDefinition %s): install it with `hubctl bootstrap`", hub, ErrArgoCDNotInstalled, name)
		case err != nil:
			return fmt.Errorf("%s: get CustomResourceDefinition %s: %w", hub, name, err)
		}
	}
	return nil
}

// waitAvailable waits until every Deployment and StatefulSet of the release (label
// app.kubernetes.io/instance=<release>, as the argo-cd chart sets it) has all its replicas
// updated and available (ready, for a StatefulSet), and there is at least one of them.
func waitAvailable(ctx context.Context, hub *kube.Cluster, namespace, releaseName string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	sel := metav1.ListOptions{LabelSelector: "app.kubernetes.io/instance=" + releaseName}
	var pending []string
	err := kube.WaitFor(ctx, time.Second, func(ctx context.Context) (bool, error) {
		pending = pending[:0]
		deps, err := hub.Client.AppsV1().Deployments(namespace).List(ctx, sel)
		if err != nil {
			pending = append(pending, "list Deployments: "+err.Error())
			return false, nil
		}
		sts, err := hub.Client.AppsV1().StatefulSets(namespace).List(ctx, sel)
		if err != nil {
			pending = append(pending, "list StatefulSets: "+err.Error())
			return false, nil
		}
		if len(deps.Items)+len(sts.Items) == 0 {
			pending = append(pending, "no Deployment or StatefulSet labelled "+sel.LabelSelector)
			return false, nil
		}
		for _, d := range deps.Items {
			want := int32(1)
			if d.Spec.Replicas != nil {
				want = *d.Spec.Replicas
			}
			if d.Status.ObservedGeneration < d.Generation || d.Status.UpdatedReplicas < want || d.Status.AvailableReplicas < want {
				pending = append(pending, fmt.Sprintf("Deployment %s: %d/%d available", d.Name, d.Status.AvailableReplicas, want))
			}
		}
		for _, s := range sts.Items {
			want := int32(1)
			if s.Spec.Replicas != nil {
				want = *s.Spec.Replicas
			}
			if s.Status.ObservedGeneration < s.Generation || s.Status.ReadyReplicas < want {
				pending = append(pending, fmt.Sprintf("StatefulSet %s: %d/%d ready", s.Name, s.Status.ReadyReplicas, want))
			}
		}
		return len(pending) == 0, nil
	})
	if err != nil {
		return fmt.Errorf("%s: Argo CD not available in namespace %s: %w (%s)", hub, namespace, err, strings.Join(pending, "; "))
	}
	return nil
}

var applicationGVR = schema.GroupVersionResource{Group: "argoproj.io", Version: "v1alpha1", Resource: "applications"}

// waitSynced waits until the Application's status.sync.status is Synced.
func waitSynced(ctx context.Context, hub *kube.Cluster, namespace, name string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	last := "not found"
	err := kube.WaitFor(ctx, 2*time.Second, func(ctx context.Context) (bool, error) {
		app, err := hub.Dynamic.Resource(applicationGVR).Namespace(namespace).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			last = err.Error()
			return false, nil
		}
		sync, _, _ := unstructured.NestedString(app.Object, "status", "sync", "status")
		health, _, _ := unstructured.NestedString(app.Object, "status", "health", "status")
		last = fmt.Sprintf("sync %q, health %q", sync, health)
		return sync == "Synced", nil
	})
	if err != nil {
		return fmt.Errorf("%s: Application %s/%s not Synced: %w (last: %s)", hub, namespace, name, err, last)
	}
	return nil
}

// capabilities are the hub's API versions with the Kubernetes version overridden.
func capabilities(getter *restGetter, kubeVersion string) (*chartutil.Capabilities, error) {
	kv, err := chartutil.ParseKubeVersion(kubeVersion)
	if err != nil {
		return nil, fmt.Errorf("kube version: %w", err)
	}
	dc, err := getter.ToDiscoveryClient()
	if err != nil {
		return nil, fmt.Errorf("discovery: %w", err)
	}
	dc.Invalidate()
	apiVersions, err := action.GetVersionSet(dc)
	if err != nil {
		return nil, fmt.Errorf("discovery: %w", err)
	}
	return &chartutil.Capabilities{
		APIVersions: apiVersions,
		KubeVersion: *kv,
		HelmVersion: chartutil.DefaultCapabilities.HelmVersion,
	}, nil
}

// RedisSecretName is the Secret the argo-cd chart's redis-secret-init hook Job creates (key
// "auth", a random password) and the chart's redis Deployment and Argo CD pods read.
const RedisSecretName = "argocd-redis"

// ensureRedisSecret does what the argo-cd chart's redis-secret-init hook does, since hooks are
// not run: when the chart's effective redisSecretInit.enabled is true (charts without that
// value, such as argo-cd 6.x, need nothing), create argocd-redis unless it exists.
func ensureRedisSecret(ctx context.Context, cfg *action.Configuration, opts Options, values map[string]any) error {
	eff, err := chartutil.CoalesceValues(opts.Chart, values)
	if err != nil {
		return fmt.Errorf("chart values: %w", err)
	}
	enabled, err := eff.PathValue("redisSecretInit.enabled")
	if err != nil || enabled != true {
		return nil
	}
	cs, err := cfg.KubernetesClientSet()
	if err != nil {
		return err
	}
	secrets := cs.CoreV1().Secrets(opts.Namespace)
	if _, err := secrets.Get(ctx, RedisSecretName, metav1.GetOptions{}); err == nil {
		return nil
	} else if !apierrors.IsNotFound(err) {
		return fmt.Errorf("secret %s: %w", RedisSecretName, err)
	}
	password, err := randomAlnum(16)
	if err != nil {
		return err
	}
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{
			Name: RedisSecretName, Namespace: opts.Namespace,
			Labels: map[string]string{"app.kubernetes.io/part-of": "argocd", "app.kubernetes.io/component": "redis"},
		},
		Type: corev1.SecretTypeOpaque,
		Data: map[string][]byte{"auth": []byte(password)},
	}
	if _, err := secrets.Create(ctx, secret, metav1.CreateOptions{FieldManager: FieldManager}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("secret %s: %w", RedisSecretName, err)
	}
	return nil
}

func randomAlnum(n int) (string, error) {
	const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	b := make([]byte, n)
	for i := range b {
		k, err := rand.Int(rand.Reader, big.NewInt(int64(len(alphabet))))
		if err != nil {
			return "", err
		}
		b[i] = alphabet[k.Int64()]
	}
	return string(b), nil
}
