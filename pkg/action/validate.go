package action

import (
	"context"

	"github.com/gitops-hub/gitops-hub/pkg/generate"
	"github.com/gitops-hub/gitops-hub/pkg/gitfs"
	"github.com/gitops-hub/gitops-hub/pkg/render"
	"github.com/gitops-hub/gitops-hub/pkg/validate"
)

// Validate checks the GitOps tree offline (pkg/validate); with
// RenderManifests it also renders every Application and checks the
// manifests.
type Validate struct {
	// Render holds the repository and, for RenderManifests, the render
	// options (chart mirrors, cache, Kubernetes version).
	Render
	// RenderManifests renders every Application and adds the manifest
	// rules (render-failed, removed-api, deprecated-api, schema, crd-schema).
	RenderManifests bool
}

// Run loads the tree and runs the rules. An error means validation could
// not run (an unreadable repository, a malformed registry or
// ApplicationSet file).
func (v *Validate) Run(ctx context.Context) (*validate.Report, error) {
	repoDir := v.Repo
	if repoDir == "" {
		repoDir = "."
	}
	fsys := v.RepoFS
	if fsys == nil {
		var err error
		if fsys, err = gitfs.Open(ctx, repoDir, v.Revision); err != nil {
			return nil, err
		}
	}
	tree, err := validate.Load(ctx, fsys)
	if err != nil {
		return nil, err
	}
	rep := validate.Check(tree)
	if !v.RenderManifests {
		return rep, nil
	}
	opts, err := v.Render.options(ctx, repoDir, fsys)
	if err != nil {
		return nil, err
	}
	kube := opts.KubeVersion
	results := render.New(opts).RenderAll(ctx, tree.Apps, func(a *generate.Application) string { return tree.DestinationCluster(a) })
	if err := validate.CheckRendered(rep, tree, results, kube); err != nil {
		return nil, err
	}
	return rep, nil
}
