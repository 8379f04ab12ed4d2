// Package generate evaluates ApplicationSets offline: it runs their
// generators over the cluster registry (and the repository, for Git
// generators), renders the Application template for every parameter set and
// applies the controller's rules, producing exactly the Applications Argo
// CD's ApplicationSet controller would create.
//
// The reference is argoproj/argo-cd's applicationset/ packages; each rule
// cites its upstream file.
package generate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"runtime"
	"sort"
	"strings"
	"sync"

	"k8s.io/apimachinery/pkg/util/strategicpatch"
	"sigs.k8s.io/yaml"

	"github.com/gitops-hub/gitops-hub/pkg/apis/argocd/v1alpha1"
	"github.com/gitops-hub/gitops-hub/pkg/conventions"
	"github.com/gitops-hub/gitops-hub/pkg/generate/tmpl"
	"github.com/gitops-hub/gitops-hub/pkg/registry"
)

// Engine evaluates ApplicationSets against one cluster registry.
type Engine struct {
	// Clusters are the Argo CD cluster Secrets of the hub.
	Clusters *registry.Registry
	// Repo is the repository read by Git generators (whatever their repoURL).
	Repo fs.FS
	// Projects, when non-nil, are the AppProjects known to exist; an
	// Application naming another project is invalid, as on a real hub.
	Projects map[string]bool
	// InClusterDisabled mirrors argocd-cm cluster.inClusterEnabled=false.
	InClusterDisabled bool
	// Namespace is the Argo CD namespace: cluster Secrets in another
	// namespace are not clusters (default "argocd").
	Namespace string
	// APIServerChecks also rejects Applications whose name or labels the
	// Kubernetes API server would refuse: the controller itself does not
	// check them, so on a hub their creation fails.
	APIServerChecks bool
	// MaxApplications caps the parameter sets of one generator and the
	// Applications of one ApplicationSet (0: DefaultMaxApplications).
	MaxApplications int
	// TemplateLimits bound each goTemplate execution (zero: tmpl's defaults).
	TemplateLimits tmpl.Limits
}

// DefaultMaxApplications is far above any real fleet; hubctl's --max-applications raises it.
const DefaultMaxApplications = 100_000

// ErrTooManyApplications is the error of an ApplicationSet over MaxApplications.
var ErrTooManyApplications = errors.New("too many Applications")

func (ev *evaluator) maxApps() int {
	if ev.e.MaxApplications > 0 {
		return ev.e.MaxApplications
	}
	return DefaultMaxApplications
}

// checkCount fails when n parameter sets (so n Applications) exceed the cap.
func (ev *evaluator) checkCount(n int, generator string) error {
	if max := ev.maxApps(); n > max {
		return fmt.Errorf("%w: the %s generator yields more than %d, hubctl's limit (raise it with --max-applications)", ErrTooManyApplications, generator, max)
	}
	return nil
}

// Source locates an ApplicationSet for messages.
type Source struct {
	File string
	Line int
}

func (s Source) String() string {
	if s.File == "" {
		return ""
	}
	return fmt.Sprintf("%s:%d", s.File, s.Line)
}

// Application is one generated Application.
type Application struct {
	Name      string
	Namespace string
	AppSet    string
	// Object is the Application as a JSON tree (apiVersion, kind, metadata,
	// spec). Subtrees may be shared with other Applications: read only.
	Object map[string]any
}

// AppError is a per-Application validation error: the Application is
// skipped, the others are still created.
type AppError struct {
	AppSet string
	Source Source
	App    string
	Err    error
}

func (e *AppError) Error() string {
	pos := e.Source.String()
	if pos != "" {
		pos += ": "
	}
	return fmt.Sprintf("%sApplicationSet %q: %v", pos, e.AppSet, e.Err)
}

func (e *AppError) Unwrap() error { return e.Err }

// Result is the outcome for one ApplicationSet.
type Result struct {
	AppSet string
	Source Source
	// Apps are the valid Applications, sorted by name.
	Apps []*Application
	// Errors are the per-Application validation errors.
	Errors []*AppError
	// Generated are the names of every generated Application, valid or not
	// (upstream uses them to decide what to delete).
	Generated []string
}

// GenerationError is an all-or-nothing failure of one ApplicationSet: the
// controller creates, updates and deletes nothing.
type GenerationError struct {
	AppSet string
	Source Source
	Err    error
}

func (e *GenerationError) Error() string {
	pos := e.Source.String()
	if pos != "" {
		pos += ": "
	}
	return fmt.Sprintf("%sApplicationSet %q: %v", pos, e.AppSet, e.Err)
}

func (e *GenerationError) Unwrap() error { return e.Err }

type evaluator struct {
	e          *Engine
	as         *v1alpha1.ApplicationSet
	goTemplate bool
	tmpl       *tmpl.Engine
	valuesTmpl *tmpl.Engine // goTemplate with missingkey=error, for matrix values
	clusters   []*registry.Cluster
	repo       fs.FS
}

// Generate evaluates one ApplicationSet.
func (e *Engine) Generate(ctx context.Context, as *v1alpha1.ApplicationSet, src Source) (*Result, error) {
	fail := func(err error) (*Result, error) {
		return nil, &GenerationError{AppSet: as.Name, Source: src, Err: err}
	}
	ev, err := e.newEvaluator(as)
	if err != nil {
		return fail(err)
	}
	var apps []map[string]any
	for i := range as.Spec.Generators {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		g := &as.Spec.Generators[i]
		path := fmt.Sprintf("spec.generators[%d]", i)
		nested := topToNested(g)
		results, err := ev.transform(ctx, nested, g, &as.Spec.Template, nil, path)
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			return fail(err)
		}
		for _, r := range results {
			if n := len(apps) + len(r.params); n > ev.maxApps() {
				return fail(fmt.Errorf("%s: %w: %d Applications, more than %d, hubctl's limit (raise it with --max-applications)", path, ErrTooManyApplications, n, ev.maxApps()))
			}
			rendered, err := ev.renderAll(ctx, &r)
			if err != nil {
				return fail(fmt.Errorf("%s: %w", path, err))
			}
			apps = append(apps, rendered...)
		}
	}
	return e.validate(as, src, apps), nil
}

func topToNested(g *v1alpha1.ApplicationSetGenerator) v1alpha1.ApplicationSetNestedGenerator {
	return v1alpha1.ApplicationSetNestedGenerator{
		List: g.List, Clusters: g.Clusters, Git: g.Git, SCMProvider: g.SCMProvider,
		ClusterDecisionResource: g.ClusterDecisionResource, PullRequest: g.PullRequest,
		Selector: g.Selector, Plugin: g.Plugin,
	}
}

func (e *Engine) newEvaluator(as *v1alpha1.ApplicationSet) (*evaluator, error) {
	opts := tmpl.Options{GoTemplate: as.Spec.GoTemplate, GoTemplateOptions: as.Spec.GoTemplateOptions, Limits: e.TemplateLimits}
	te, err := tmpl.NewEngine(opts)
	if err != nil {
		return nil, err
	}
	ev := &evaluator{e: e, as: as, goTemplate: as.Spec.GoTemplate, tmpl: te, repo: e.Repo}
	if as.Spec.GoTemplate {
		vopts := opts
		vopts.GoTemplateOptions = append(append([]string(nil), opts.GoTemplateOptions...), "missingkey=error")
		if ev.valuesTmpl, err = tmpl.NewEngine(vopts); err != nil {
			return nil, err
		}
	}
	if e.Clusters != nil {
		ns := e.Namespace
		if ns == "" {
			ns = conventions.ArgoCDNamespace
		}
		for _, c := range e.Clusters.Clusters {
			if c.Namespace == "" || c.Namespace == ns {
				ev.clusters = append(ev.clusters, c)
			}
		}
	}
	return ev, nil
}

// renderAll renders the template of one transform result for each of its
// parameter sets, in parallel for large sets.
func (ev *evaluator) renderAll(ctx context.Context, r *transformResult) ([]map[string]any, error) {
	pl, err := compilePlan(ev.tmpl, &r.template)
	if err != nil {
		return nil, fmt.Errorf("template: %w", err)
	}
	out := make([]map[string]any, len(r.params))
	errs := make([]error, len(r.params))
	workers := 1
	if len(r.params) >= 256 {
		workers = runtime.GOMAXPROCS(0)
	}
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < len(r.params); i += workers {
				if ctx.Err() != nil { // each render is bounded (tmpl.Limits): Ctrl-C stops within one
					errs[i] = ctx.Err()
					return
				}
				out[i], errs[i] = ev.renderOne(pl, r.params[i])
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// renderOne is upstream's GenerateApplications body for one param set:
// render, default finalizer, templatePatch, then the namespace.
func (ev *evaluator) renderOne(pl *plan, p Params) (map[string]any, error) {
	app, rendered, err := pl.render(p)
	if err != nil {
		return nil, err
	}
	md, _ := app["metadata"].(map[string]any)
	if md == nil {
		md = map[string]any{}
		app["metadata"] = md
	}
	if rendered {
		sp := ev.as.Spec.SyncPolicy
		if (sp == nil || !sp.PreserveResourcesOnDeletion) && len(asList(md["finalizers"])) == 0 {
			md["finalizers"] = []any{v1alpha1.ResourcesFinalizer}
		}
	}
	if ev.as.Spec.TemplatePatch != nil {
		if app, err = ev.applyPatch(app, p); err != nil {
			return nil, err
		}
		md = app["metadata"].(map[string]any)
	}
	if ev.as.Namespace != "" {
		md["namespace"] = ev.as.Namespace
	} else {
		delete(md, "namespace")
	}
	return app, nil
}

func asList(v any) []any {
	l, _ := v.([]any)
	return l
}

// applyPatch is upstream's renderTemplatePatch + applyTemplatePatch: the
// rendered patch is a strategic merge patch on the Application; the project
// cannot be changed by it.
func (ev *evaluator) applyPatch(app map[string]any, p Params) (map[string]any, error) {
	patch, err := ev.tmpl.Replace(*ev.as.Spec.TemplatePatch, p)
	if err != nil {
		return nil, fmt.Errorf("error rendering templatePatch: %w", err)
	}
	pj := []byte(patch)
	if t := strings.TrimSpace(patch); !strings.HasPrefix(t, "{") {
		if pj, err = yaml.YAMLToJSON([]byte(patch)); err != nil {
			return nil, fmt.Errorf("invalid templatePatch %q: %w", patch, err)
		}
	}
	var check v1alpha1.Application
	if err := json.Unmarshal(pj, &check); err != nil {
		return nil, fmt.Errorf("invalid templatePatch %q: %w", patch, err)
	}
	orig, err := json.Marshal(app)
	if err != nil {
		return nil, err
	}
	spec, _ := app["spec"].(map[string]any)
	project := spec["project"]
	patched, err := strategicMergePatch(orig, pj)
	if err != nil {
		return nil, fmt.Errorf("error applying templatePatch: %w", err)
	}
	var typed v1alpha1.Application
	if err := json.Unmarshal(patched, &typed); err != nil {
		return nil, fmt.Errorf("error unmarshalling patched application: %w", err)
	}
	out, err := toTree(&typed)
	if err != nil {
		return nil, err
	}
	if s, ok := out["spec"].(map[string]any); ok {
		s["project"] = project
	}
	return out, nil
}

// strategicMergePatch is apimachinery's StrategicMergePatch with its panics (a
// `$setElementOrder/finalizers` list of objects, for one) turned into errors: on a hub the
// controller's reconcile recovers and fails the ApplicationSet.
func strategicMergePatch(orig, patch []byte) (out []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			out, err = nil, fmt.Errorf("invalid strategic merge patch: %v", r)
		}
	}()
	return strategicpatch.StrategicMergePatch(orig, patch, v1alpha1.Application{})
}

// validate applies upstream's validateGeneratedApplications and the API
// server's object checks, sorts by name and normalises each spec.
func (e *Engine) validate(as *v1alpha1.ApplicationSet, src Source, apps []map[string]any) *Result {
	res := &Result{AppSet: as.Name, Source: src}
	bad := map[string]bool{}
	seen := map[string]int{}
	names := make([]string, len(apps))
	for i, a := range apps {
		names[i] = nameOf(a)
		seen[names[i]]++
	}
	fail := func(name string, err error) {
		res.Errors = append(res.Errors, &AppError{AppSet: as.Name, Source: src, App: name, Err: err})
		bad[name] = true
	}
	seenMeta := map[string][]string{}
	for i, a := range apps {
		name := names[i]
		res.Generated = append(res.Generated, name)
		if bad[name] {
			continue
		}
		if name == "" {
			fail(name, fmt.Errorf("ApplicationSet %s contains an application with no name; a name must be set in the template's metadata.name or via a templatePatch (generateName is not supported)", as.Name))
			continue
		}
		if seen[name] > 1 {
			fail(name, fmt.Errorf("ApplicationSet %s contains applications with duplicate name: %s", as.Name, name))
			continue
		}
		if err := e.validateApp(a, seenMeta); err != nil {
			fail(name, fmt.Errorf("Application %q: %w", name, err))
			continue
		}
	}
	for i, a := range apps {
		if bad[names[i]] {
			continue
		}
		normalizeSpec(a)
		md := a["metadata"].(map[string]any)
		ns, _ := md["namespace"].(string)
		res.Apps = append(res.Apps, &Application{Name: names[i], Namespace: ns, AppSet: as.Name, Object: a})
	}
	sort.SliceStable(res.Apps, func(i, j int) bool { return res.Apps[i].Name < res.Apps[j].Name })
	sort.Strings(res.Generated)
	return res
}

func nameOf(a map[string]any) string {
	md, _ := a["metadata"].(map[string]any)
	s, _ := md["name"].(string)
	return s
}

func (e *Engine) validateApp(a map[string]any, seenMeta map[string][]string) error {
	spec, _ := a["spec"].(map[string]any)
	project, _ := spec["project"].(string)
	if project == "" {
		return errors.New("application references project  which does not exist (spec.project is empty)")
	}
	if e.Projects != nil && !e.Projects[project] {
		return fmt.Errorf("application references project %s which does not exist", project)
	}
	dest, _ := spec["destination"].(map[string]any)
	name, _ := dest["name"].(string)
	server, _ := dest["server"].(string)
	switch {
	case name != "" && server != "":
		return fmt.Errorf("application destination spec is invalid: application destination can't have both name and server defined: %s %s", name, server)
	case name != "":
		if name == registry.InClusterName && !e.InClusterDisabled {
			break
		}
		if e.Clusters == nil {
			return fmt.Errorf("application destination spec is invalid: there are no clusters with this name: %s", name)
		}
		if _, ok := e.Clusters.ByName(name); !ok {
			return fmt.Errorf("application destination spec is invalid: there are no clusters with this name: %s", name)
		}
	case server != "":
		s := strings.TrimRight(server, "/")
		if s == registry.InClusterServer && !e.InClusterDisabled {
			break
		}
		if e.Clusters == nil || !e.Clusters.HasServer(s) {
			return fmt.Errorf("application destination spec is invalid: error getting cluster by server %q: rpc error: code = NotFound desc = cluster %q not found", s, s)
		}
	default:
		return errors.New("application destination spec is invalid: Destination server missing from app spec")
	}
	if e.APIServerChecks {
		return validateObjectMeta(a, seenMeta)
	}
	return nil
}

// Sources returns the Application's source (if any) then its sources, as
// JSON objects.
func (a *Application) Sources() []map[string]any {
	spec, _ := a.Object["spec"].(map[string]any)
	var out []map[string]any
	if s, ok := spec["source"].(map[string]any); ok {
		out = append(out, s)
	}
	l, _ := spec["sources"].([]any)
	for _, s := range l {
		if m, ok := s.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}

// Typed decodes the Application into the typed Argo CD API.
func (a *Application) Typed() (*v1alpha1.Application, error) {
	b, err := json.Marshal(a.Object)
	if err != nil {
		return nil, err
	}
	var app v1alpha1.Application
	if err := json.Unmarshal(b, &app); err != nil {
		return nil, err
	}
	return &app, nil
}
