// Package diff compares what two revisions of the GitOps tree deploy: the
// generated Applications, matched by name, and their rendered objects,
// matched by group, kind, namespace and name. It applies Argo CD's deletion
// rules (the resources finalizer of a removed Application, automated prune
// of a removed object), pairs renames, leaves out what changes on every
// render without an input change, and never shows a Secret's values.
package diff

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"reflect"
	"runtime"
	"sort"
	"strings"
	"sync"
	"unsafe"

	"github.com/pmezard/go-difflib/difflib"

	"github.com/gitops-hub/gitops-hub/pkg/output/fastyaml"
)

// Change is what happened to an Application or an object.
type Change string

const (
	Added     Change = "added"
	Removed   Change = "removed"
	Changed   Change = "changed"
	Unchanged Change = "unchanged"
)

// App is one generated Application of one side, with its render.
type App struct {
	Name   string
	AppSet string
	// Cluster is the destination cluster's name, Server its URL (from the
	// registry of the same revision; empty when unknown).
	Cluster string
	Server  string
	// Object is the generated Application (read only).
	Object map[string]any
	// Objects are the rendered manifests (read only). Rendered is false
	// when the caller did not render this side because both sides' render
	// inputs are equal: the objects then count as unchanged.
	Objects  []map[string]any
	Rendered bool
	// Again is a second render of the same inputs (optional, head side):
	// the values that differ between Objects and Again change on every
	// render, and are left out of the comparison on both sides.
	Again []map[string]any
}

// Report is the comparison of two revisions.
type Report struct {
	Base, Head string
	// Apps are the Applications that changed, by cluster then name.
	Apps []*AppDiff
	// Unchanged are the Applications present and equal on both sides.
	Unchanged []AppRef
}

// AppRef names an Application and where it deploys.
type AppRef struct {
	Name, Cluster, AppSet string
}

// Addon is the matrix column of an ApplicationSet: its name without the
// "addons-" prefix.
func Addon(appSet string) string { return strings.TrimPrefix(appSet, "addons-") }

// AppDiff is one Application that was added, removed or changed.
type AppDiff struct {
	AppRef
	Change Change
	// DeletesResources: a removed Application whose base carries Argo CD's
	// resources finalizer deletes its objects from the cluster.
	DeletesResources bool
	// RenamedFrom (on the added Application) and RenamedTo (on the removed
	// one) pair the two halves of a rename: a cluster renamed with the same
	// server, or an Application that moved to another name.
	RenamedFrom, RenamedTo string
	// SpecDiff is the unified diff of the generated Application (changed
	// Applications whose spec differs).
	SpecDiff string
	// Objects are the objects added, removed or changed.
	Objects []*ObjectDiff
	// RenameObjects compares, on the added half of a rename, its objects
	// with those of the removed half: what the rename changes in the end.
	RenameObjects []*ObjectDiff
}

// ObjectDiff is one rendered object that was added, removed or changed.
type ObjectDiff struct {
	APIVersion, Kind, Namespace, Name string
	Change                            Change
	// Pruned: a removed object is deleted from the cluster (see Compare).
	Pruned bool
	// Diff is a unified diff of the object's YAML, Secret values masked.
	Diff string
}

// ID is group/kind namespace/name, as the objects are matched.
func (o *ObjectDiff) ID() string {
	id := kindWithGroup(o.APIVersion, o.Kind) + " "
	if o.Namespace != "" {
		id += o.Namespace + "/"
	}
	return id + o.Name
}

func kindWithGroup(apiVersion, kind string) string {
	if g := group(apiVersion); g != "" {
		return kind + "." + g
	}
	return kind
}

func group(apiVersion string) string {
	if i := strings.Index(apiVersion, "/"); i >= 0 {
		return apiVersion[:i]
	}
	return ""
}

// Compare compares the Applications of the base and head revisions.
//
// Argo CD's rules, as its controller applies them:
//   - a removed Application deletes its resources only when the base
//     Application carries the resources finalizer (with or without the
//     /foreground or /background propagation suffix, argo-cd
//     pkg/apis/application/v1alpha1 ResourcesFinalizerName and
//     Foreground/BackgroundPropagationPolicyFinalizer); its objects are then
//     pruned, except those annotated with the sync option Delete=false or
//     Delete=confirm (docs/user-guide/sync-options.md);
//   - an object removed from a changed Application is pruned only when the
//     head Application syncs automatically (syncPolicy.automated, not
//     disabled with enabled: false) with prune: true, and the object is not
//     annotated with Prune=false or Prune=confirm; otherwise it stays,
//     OutOfSync.
func Compare(base, head []*App) *Report { return NewComparer().Compare(base, head) }

// NewComparer returns a Comparer. It remembers a digest of every object it
// has seen: comparing again (after App.Again is set) encodes nothing twice.
func NewComparer() *Comparer { return &Comparer{sums: map[unsafe.Pointer]string{}} }

// Compare is the package's Compare with this Comparer's memory.
func (c *Comparer) Compare(base, head []*App) *Report {
	rep := &Report{}
	baseBy := map[string]*App{}
	for _, a := range base {
		baseBy[a.Name] = a
	}
	headBy := map[string]*App{}
	for _, a := range head {
		headBy[a.Name] = a
	}
	// Applications are compared in parallel; the results keep head order.
	diffs := make([]*AppDiff, len(head))
	var wg sync.WaitGroup
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	for i, h := range head {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if b, ok := baseBy[h.Name]; ok {
				diffs[i] = c.compareApp(b, h)
			} else {
				diffs[i] = &AppDiff{AppRef: ref(h), Change: Added, Objects: allObjects(h, Added, false)}
			}
		}()
	}
	wg.Wait()
	for i, h := range head {
		if diffs[i] == nil {
			rep.Unchanged = append(rep.Unchanged, ref(h))
			continue
		}
		rep.Apps = append(rep.Apps, diffs[i])
	}
	for _, b := range base {
		if _, ok := headBy[b.Name]; ok {
			continue
		}
		del := hasResourcesFinalizer(b.Object)
		rep.Apps = append(rep.Apps, &AppDiff{AppRef: ref(b), Change: Removed, DeletesResources: del, Objects: allObjects(b, Removed, del)})
	}
	c.pairRenames(rep, baseBy, headBy)
	sort.SliceStable(rep.Apps, func(i, j int) bool {
		a, b := rep.Apps[i], rep.Apps[j]
		if a.Cluster != b.Cluster {
			return a.Cluster < b.Cluster
		}
		if a.Name != b.Name {
			return a.Name < b.Name
		}
		return a.Change > b.Change // removed before added
	})
	sort.Slice(rep.Unchanged, func(i, j int) bool {
		if rep.Unchanged[i].Cluster != rep.Unchanged[j].Cluster {
			return rep.Unchanged[i].Cluster < rep.Unchanged[j].Cluster
		}
		return rep.Unchanged[i].Name < rep.Unchanged[j].Name
	})
	return rep
}

func ref(a *App) AppRef { return AppRef{Name: a.Name, Cluster: a.Cluster, AppSet: a.AppSet} }

// Finalizers of Argo CD that make the deletion of an Application delete its
// resources.
var resourcesFinalizers = map[string]bool{
	"resources-finalizer.argocd.argoproj.io":            true,
	"resources-finalizer.argocd.argoproj.io/foreground": true,
	"resources-finalizer.argocd.argoproj.io/background": true,
}

func hasResourcesFinalizer(app map[string]any) bool {
	md, _ := app["metadata"].(map[string]any)
	fins, _ := md["finalizers"].([]any)
	for _, f := range fins {
		if s, _ := f.(string); resourcesFinalizers[s] {
			return true
		}
	}
	return false
}

// autoPrune reports whether the Application syncs automatically with prune.
func autoPrune(app map[string]any) bool {
	spec, _ := app["spec"].(map[string]any)
	sp, _ := spec["syncPolicy"].(map[string]any)
	auto, ok := sp["automated"].(map[string]any)
	if !ok {
		return false
	}
	if en, ok := auto["enabled"].(bool); ok && !en {
		return false
	}
	p, _ := auto["prune"].(bool)
	return p
}

// syncOption reports whether an object's argocd.argoproj.io/sync-options
// annotation holds one of the options.
func syncOption(o map[string]any, opts ...string) bool {
	md, _ := o["metadata"].(map[string]any)
	ann, _ := md["annotations"].(map[string]any)
	v, _ := ann["argocd.argoproj.io/sync-options"].(string)
	for _, s := range strings.Split(v, ",") {
		for _, opt := range opts {
			if strings.TrimSpace(s) == opt {
				return true
			}
		}
	}
	return false
}

func allObjects(a *App, c Change, deletes bool) []*ObjectDiff {
	var out []*ObjectDiff
	for _, o := range a.Objects {
		n := normalize(o, a.Name, false)
		od := newObjectDiff(o, c)
		if c == Removed {
			od.Pruned = deletes && !syncOption(o, "Delete=false", "Delete=confirm")
			od.Diff = unified(yamlOf(n), "", od.ID(), "")
		} else {
			od.Diff = unified("", yamlOf(n), "", od.ID())
		}
		out = append(out, od)
	}
	sortObjects(out)
	return out
}

func newObjectDiff(o map[string]any, c Change) *ObjectDiff {
	av, _ := o["apiVersion"].(string)
	k, _ := o["kind"].(string)
	md, _ := o["metadata"].(map[string]any)
	ns, _ := md["namespace"].(string)
	n, _ := md["name"].(string)
	return &ObjectDiff{APIVersion: av, Kind: k, Namespace: ns, Name: n, Change: c}
}

func sortObjects(objs []*ObjectDiff) {
	sort.SliceStable(objs, func(i, j int) bool { return objs[i].ID() < objs[j].ID() })
}

func objectKey(o map[string]any) string {
	av, _ := o["apiVersion"].(string)
	k, _ := o["kind"].(string)
	md, _ := o["metadata"].(map[string]any)
	ns, _ := md["namespace"].(string)
	n, _ := md["name"].(string)
	return group(av) + "\x00" + k + "\x00" + ns + "\x00" + n
}

// compareApp returns nil when the Application is unchanged.
func (c *Comparer) compareApp(b, h *App) *AppDiff {
	d := &AppDiff{AppRef: ref(h), Change: Changed}
	bs, hs := yamlOf(b.Object), yamlOf(h.Object)
	if bs != hs {
		d.SpecDiff = unified(bs, hs, "base: Application "+b.Name, "head: Application "+h.Name)
	}
	if b.Rendered && h.Rendered {
		d.Objects = c.compareObjects(b, h, autoPrune(h.Object))
	}
	if d.SpecDiff == "" && len(d.Objects) == 0 {
		return nil
	}
	return d
}

// compareObjects compares the rendered objects of two Applications
// (matched by group, kind, namespace and name); prune says whether the
// head Application prunes what is removed.
func (c *Comparer) compareObjects(b, h *App, prune bool) []*ObjectDiff {
	type pair struct{ b, h map[string]any }
	byKey := map[string]*pair{}
	var keys []string
	for i, objs := range [][]map[string]any{b.Objects, h.Objects} {
		for _, o := range objs {
			k := objectKey(o)
			if byKey[k] == nil {
				byKey[k] = &pair{}
				keys = append(keys, k)
			}
			if i == 0 {
				byKey[k].b = o
			} else {
				byKey[k].h = o
			}
		}
	}
	// Values that differ between two renders of the head's inputs change
	// on every render: left out on both sides.
	if len(h.Again) > 0 {
		again := map[string]map[string]any{}
		for _, o := range h.Again {
			again[objectKey(o)] = o
		}
		for _, k := range keys {
			p := byKey[k]
			if p.b == nil || p.h == nil || again[k] == nil {
				continue
			}
			if paths := unstablePaths(p.h, again[k]); len(paths) > 0 {
				p.b, p.h = deepCopy(p.b).(map[string]any), deepCopy(p.h).(map[string]any)
				maskPaths(p.b, paths)
				maskPaths(p.h, paths)
			}
		}
	}
	// A checksum/* annotation that changed while no ConfigMap or Secret of
	// the Application did hashes an input that did not change for the
	// cluster (the whole values tree, a random value): noise, left out.
	configChanged := false
	for _, k := range keys {
		p := byKey[k]
		if p.b != nil && isConfig(p.b) || p.h != nil && isConfig(p.h) {
			if p.b == nil || p.h == nil || c.sum(p.b) != c.sum(p.h) && yamlOf(normalize(p.b, b.Name, false)) != yamlOf(normalize(p.h, h.Name, false)) {
				configChanged = true
				break
			}
		}
	}
	strip := !configChanged
	var out []*ObjectDiff
	for _, k := range keys {
		p := byKey[k]
		switch {
		case p.h == nil:
			od := newObjectDiff(p.b, Removed)
			od.Pruned = prune && !syncOption(p.b, "Prune=false", "Prune=confirm")
			od.Diff = unified(yamlOf(normalize(p.b, b.Name, strip)), "", od.ID(), "")
			out = append(out, od)
		case p.b == nil:
			od := newObjectDiff(p.h, Added)
			od.Diff = unified("", yamlOf(normalize(p.h, h.Name, strip)), "", od.ID())
			out = append(out, od)
		default:
			if c.sum(p.b) == c.sum(p.h) {
				continue // identical as rendered
			}
			by, hy := yamlOf(normalize(p.b, b.Name, strip)), yamlOf(normalize(p.h, h.Name, strip))
			if by == hy {
				continue
			}
			od := newObjectDiff(p.h, Changed)
			od.Diff = unified(by, hy, "base: "+od.ID(), "head: "+od.ID())
			out = append(out, od)
		}
	}
	sortObjects(out)
	return out
}

// Comparer compares objects, remembering a digest of each rendered object:
// Applications that share a render share their objects, so an object is
// encoded once however many Applications deploy it. Safe for concurrent use.
type Comparer struct {
	mu   sync.Mutex
	sums map[unsafe.Pointer]string
}

// sum is a digest of the object as rendered.
func (c *Comparer) sum(o map[string]any) string {
	key := reflect.ValueOf(o).UnsafePointer()
	c.mu.Lock()
	s, ok := c.sums[key]
	c.mu.Unlock()
	if ok {
		return s
	}
	b, err := json.Marshal(o)
	if err != nil {
		return fmt.Sprintf("unencodable %p", o) // compared by YAML instead
	}
	h := sha256.Sum256(b)
	s = string(h[:])
	c.mu.Lock()
	c.sums[key] = s
	c.mu.Unlock()
	return s
}

func isConfig(o map[string]any) bool {
	av, _ := o["apiVersion"].(string)
	k, _ := o["kind"].(string)
	return av == "v1" && (k == "ConfigMap" || k == "Secret")
}

func yamlOf(v any) string {
	if v == nil {
		return ""
	}
	b, err := fastyaml.Marshal(v)
	if err != nil {
		j, _ := json.MarshalIndent(v, "", "  ")
		return string(j) + "\n"
	}
	return string(b)
}

// unified is a unified diff with three lines of context.
func unified(a, b, from, to string) string {
	s, err := difflib.GetUnifiedDiffString(difflib.UnifiedDiff{
		A: lines(a), B: lines(b),
		FromFile: from, ToFile: to, Context: 3,
	})
	if err != nil {
		return fmt.Sprintf("(diff failed: %v)\n", err)
	}
	return s
}

func lines(s string) []string {
	if s == "" {
		return nil
	}
	return difflib.SplitLines(s)
}

// pairRenames labels a removed and an added Application as one rename when
// they deploy the same sources to the same server and namespace: a cluster
// renamed in the registry (same server, new name), or an Application whose
// name changed. Only one-to-one matches are paired.
func (c *Comparer) pairRenames(rep *Report, baseBy, headBy map[string]*App) {
	removed := map[string][]*AppDiff{}
	added := map[string][]*AppDiff{}
	for _, d := range rep.Apps {
		switch d.Change {
		case Removed:
			if k := renameKey(baseBy[d.Name]); k != "" {
				removed[k] = append(removed[k], d)
			}
		case Added:
			if k := renameKey(headBy[d.Name]); k != "" {
				added[k] = append(added[k], d)
			}
		}
	}
	for k, rs := range removed {
		as := added[k]
		if len(rs) != 1 || len(as) != 1 {
			continue
		}
		r, a := rs[0], as[0]
		r.RenamedTo, a.RenamedFrom = a.Name, r.Name
		ba, ha := baseBy[r.Name], headBy[a.Name]
		a.RenameObjects = c.compareObjects(ba, ha, false)
	}
}

// renameKey is the destination server and namespace with the sources that
// produce manifests (repository, chart or path), "" when the server is
// unknown.
func renameKey(a *App) string {
	if a == nil || a.Server == "" {
		return ""
	}
	spec, _ := a.Object["spec"].(map[string]any)
	dest, _ := spec["destination"].(map[string]any)
	ns, _ := dest["namespace"].(string)
	var srcs []any
	if s, ok := spec["sources"].([]any); ok {
		srcs = s
	} else if s, ok := spec["source"].(map[string]any); ok {
		srcs = []any{s}
	}
	var ids []string
	for _, s := range srcs {
		m, _ := s.(map[string]any)
		chart, _ := m["chart"].(string)
		p, _ := m["path"].(string)
		if chart == "" && p == "" {
			continue
		}
		repo, _ := m["repoURL"].(string)
		ids = append(ids, repo+"|"+chart+"|"+p)
	}
	sort.Strings(ids)
	var buf bytes.Buffer
	fmt.Fprintf(&buf, "%s\x00%s\x00%s", a.Server, ns, strings.Join(ids, "\x00"))
	return buf.String()
}

// Summary counts Applications by change.
type Summary struct {
	Added, Removed, Changed, Unchanged int
	// Renames counts rename pairs; DeletingApps the removed Applications
	// that delete their resources; PrunedObjects and RemovedObjects the
	// objects removed from changed Applications.
	Renames, DeletingApps, RemovedObjects, PrunedObjects int
}

// Summary counts the report.
func (r *Report) Summary() Summary {
	s := Summary{Unchanged: len(r.Unchanged)}
	for _, a := range r.Apps {
		switch a.Change {
		case Added:
			s.Added++
			if a.RenamedFrom != "" {
				s.Renames++
			}
		case Removed:
			s.Removed++
			if a.DeletesResources {
				s.DeletingApps++
			}
		case Changed:
			s.Changed++
		}
		for _, o := range a.Objects {
			if o.Change == Removed {
				s.RemovedObjects++
				if o.Pruned {
					s.PrunedObjects++
				}
			}
		}
	}
	return s
}

// HasChanges reports whether anything was added, removed or changed.
func (r *Report) HasChanges() bool { return len(r.Apps) > 0 }

// HasRemovals reports whether an Application or an object is removed.
func (r *Report) HasRemovals() bool {
	for _, a := range r.Apps {
		if a.Change == Removed {
			return true
		}
		for _, o := range a.Objects {
			if o.Change == Removed {
				return true
			}
		}
	}
	return false
}
