package action

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"sync"

	"github.com/gitops-hub/gitops-hub/pkg/diff"
	"github.com/gitops-hub/gitops-hub/pkg/generate"
	"github.com/gitops-hub/gitops-hub/pkg/gitfs"
	"github.com/gitops-hub/gitops-hub/pkg/registry"
	"github.com/gitops-hub/gitops-hub/pkg/render"
)

// WorkTree names the working tree as the head of a diff.
const WorkTree = "worktree"

// Diff compares what two revisions of the repository deploy: for each side
// the registry, ApplicationSets and values are read from that revision's
// Git objects (no checkout), the Applications generated, then rendered.
type Diff struct {
	// Repo is the repository folder (default ".").
	Repo string
	// Base is the base revision (default HEAD); Head the head revision
	// ("" = the working tree, uncommitted changes included).
	Base, Head string
	// Clusters keeps only Applications whose destination (on either side)
	// is one of these clusters.
	Clusters []string
	// Source options, as for Render (Revision and Apps are not used).
	Source Render
}

// DiffResult is the outcome of Diff.
type DiffResult struct {
	Report *diff.Report
	// Warnings are per-side generation warnings and invalid Applications
	// (Argo CD skips those; they show as removed or missing).
	Warnings []string
	// RenderErrors are Applications that failed to render on one side;
	// the report leaves them out.
	RenderErrors []error
	// Rendered counts the renders asked for on each side (an Application
	// whose inputs are equal on both sides is rendered on neither).
	RenderedBase, RenderedHead int
}

// side is one revision: its files, generated Applications, renderer.
type side struct {
	name  string // "base" or "head"
	rev   string // commit SHA or WorkTree
	fsys  fs.FS
	gen   *GenerateResult
	rr    *render.Renderer
	apps  map[string]*generate.Application
	order []*generate.Application
}

// Run compares the two revisions.
func (d *Diff) Run(ctx context.Context) (*DiffResult, error) {
	repoDir := d.Repo
	if repoDir == "" {
		repoDir = "."
	}
	baseRev := d.Base
	if baseRev == "" {
		baseRev = "HEAD"
	}
	base := &side{name: "base"}
	head := &side{name: "head", rev: WorkTree}
	var err error
	if base.rev, err = gitfs.ResolveCommit(ctx, repoDir, baseRev); err != nil {
		return nil, fmt.Errorf("--base: %w", err)
	}
	if d.Head != "" {
		if head.rev, err = gitfs.ResolveCommit(ctx, repoDir, d.Head); err != nil {
			return nil, fmt.Errorf("--head: %w", err)
		}
	}
	// Both sides are independent until the comparison: load and generate
	// them at once.
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, s := range []*side{base, head} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = d.load(ctx, repoDir, s)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if err := d.renderers(ctx, repoDir, base, head); err != nil {
		return nil, err
	}
	if err := d.checkClusters(base, head); err != nil {
		return nil, err
	}
	res := &DiffResult{}
	for _, s := range []*side{base, head} {
		for _, w := range s.gen.Warnings {
			res.Warnings = append(res.Warnings, fmt.Sprintf("%s (%s): %s", s.name, diff.ShortRev(s.rev), w))
		}
		for _, e := range s.gen.Errors {
			res.Warnings = append(res.Warnings, fmt.Sprintf("%s (%s): %v", s.name, diff.ShortRev(s.rev), e))
		}
	}

	// Render only what differs: an Application present on both sides whose
	// render inputs are equal renders the same objects; it is rendered on
	// neither side.
	var needBase, needHead []*generate.Application
	same := map[string]bool{}
	for _, ha := range head.order {
		ba, ok := base.apps[ha.Name]
		if !ok {
			needHead = append(needHead, ha)
			continue
		}
		hd, hok := head.rr.InputDigest(ctx, ha)
		bd, bok := base.rr.InputDigest(ctx, ba)
		if hok && bok && hd == bd {
			same[ha.Name] = true
			continue
		}
		needHead = append(needHead, ha)
		needBase = append(needBase, ba)
	}
	for _, ba := range base.order {
		if _, ok := head.apps[ba.Name]; !ok {
			needBase = append(needBase, ba)
		}
	}
	res.RenderedBase, res.RenderedHead = len(needBase), len(needHead)
	var baseRes, headRes []render.Result
	wg.Add(2)
	go func() {
		defer wg.Done()
		baseRes = base.rr.RenderAll(ctx, needBase, func(a *generate.Application) string { return DestinationCluster(base.gen.Registry, a) })
	}()
	go func() {
		defer wg.Done()
		headRes = head.rr.RenderAll(ctx, needHead, func(a *generate.Application) string { return DestinationCluster(head.gen.Registry, a) })
	}()
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	failed := map[string]bool{}
	objs := func(s *side, rs []render.Result) map[string][]map[string]any {
		out := map[string][]map[string]any{}
		for _, r := range rs {
			if r.Err != nil {
				res.RenderErrors = append(res.RenderErrors, fmt.Errorf("%s (%s): %w", s.name, diff.ShortRev(s.rev), r.Err))
				failed[r.App.Name] = true
				continue
			}
			out[r.App.Name] = r.Objects
		}
		return out
	}
	baseObjs, headObjs := objs(base, baseRes), objs(head, headRes)
	toDiff := func(s *side, rendered map[string][]map[string]any) []*diff.App {
		var out []*diff.App
		for _, a := range s.order {
			if failed[a.Name] {
				continue
			}
			cluster := DestinationCluster(s.gen.Registry, a)
			da := &diff.App{Name: a.Name, AppSet: a.AppSet, Cluster: cluster, Server: serverOf(s.gen.Registry, a, cluster), Object: a.Object}
			if !same[a.Name] {
				da.Objects, da.Rendered = rendered[a.Name], true
			}
			out = append(out, da)
		}
		return out
	}
	baseApps, headApps := toDiff(base, baseObjs), toDiff(head, headObjs)
	cmp := diff.NewComparer()
	rep := cmp.Compare(baseApps, headApps)
	// A changed Secret may hold a value that changes on every render
	// (randAlphaNum, genCA): render those heads once more,
	// with a renderer of their own, and leave out what differs.
	if suspects := rep.Suspects(); len(suspects) > 0 {
		again := render.New(head.rr.Options())
		var apps []*generate.Application
		for _, n := range suspects {
			apps = append(apps, head.apps[n])
		}
		byName := map[string]*diff.App{}
		for _, a := range headApps {
			byName[a.Name] = a
		}
		for _, r := range again.RenderAll(ctx, apps, func(*generate.Application) string { return "" }) {
			if r.Err == nil {
				byName[r.App.Name].Again = r.Objects
			}
		}
		res.RenderedHead += len(apps)
		rep = cmp.Compare(baseApps, headApps)
	}
	rep.Base, rep.Head = base.rev, head.rev
	res.Report = rep
	return res, nil
}

// load reads one side's tree and generates its Applications.
func (d *Diff) load(ctx context.Context, repoDir string, s *side) error {
	rev := s.rev
	if rev == WorkTree {
		rev = ""
	}
	fsys, err := gitfs.Open(ctx, repoDir, rev)
	if err != nil {
		return fmt.Errorf("%s: %w", s.name, err)
	}
	s.fsys = fsys
	g := Generate{Repo: repoDir, RepoFS: fsys}
	if s.gen, err = g.Run(ctx); err != nil {
		return fmt.Errorf("%s revision %s: %w", s.name, diff.ShortRev(s.rev), err)
	}
	s.apps = map[string]*generate.Application{}
	keep := map[string]bool{}
	for _, c := range d.Clusters {
		keep[c] = true
	}
	for _, a := range s.gen.Apps {
		if len(keep) > 0 && !keep[DestinationCluster(s.gen.Registry, a)] {
			continue
		}
		s.apps[a.Name] = a
		s.order = append(s.order, a)
	}
	return nil
}

// renderers builds one Renderer per side (each reads this repository at its
// revision) sharing one chart cache.
func (d *Diff) renderers(ctx context.Context, repoDir string, base, head *side) error {
	src := d.Source
	src.Repo = repoDir
	bo, err := src.options(ctx, repoDir, base.fsys)
	if err != nil {
		return err
	}
	ho, err := src.options(ctx, repoDir, head.fsys)
	if err != nil {
		return err
	}
	// One chart cache for both sides: a chart is loaded once per run.
	ho.Charts = bo.Charts
	base.rr, head.rr = render.New(bo), render.New(ho)
	return nil
}

// checkClusters fails on a --cluster that is in neither registry.
func (d *Diff) checkClusters(base, head *side) error {
	for _, c := range d.Clusters {
		if c == registry.InClusterName {
			continue
		}
		_, inBase := base.gen.Registry.ByName(c)
		_, inHead := head.gen.Registry.ByName(c)
		if !inBase && !inHead {
			return fmt.Errorf("--cluster %s: no cluster with this name in the registry of either revision", c)
		}
	}
	return nil
}

// serverOf is the destination server of an Application: its
// destination.server, or the server of the named cluster in the registry.
func serverOf(reg *registry.Registry, a *generate.Application, cluster string) string {
	spec, _ := a.Object["spec"].(map[string]any)
	dest, _ := spec["destination"].(map[string]any)
	if s, _ := dest["server"].(string); s != "" {
		return s
	}
	if cluster == registry.InClusterName {
		return registry.InClusterServer
	}
	if reg != nil {
		if c, ok := reg.ByName(cluster); ok {
			return c.Server
		}
	}
	return ""
}
