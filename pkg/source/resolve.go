package source

import (
	"fmt"
	"io/fs"
	"path"
	"strings"

	"github.com/gitops-hub/gitops-hub/pkg/apis/argocd/v1alpha1"
)

// AppSource is one source of an Application that produces manifests.
type AppSource struct {
	// Index is the position in spec.sources, -1 for spec.source.
	Index  int
	Source *v1alpha1.ApplicationSource
}

// AppSources returns the sources of app that produce manifests, in order,
// the one walk that render, values and diff share: spec.source, or each of
// spec.sources except a `ref` source with neither chart nor path, which only
// provides files to the others (the repo-server is not asked for its
// manifests).
func AppSources(app *v1alpha1.Application) ([]AppSource, error) {
	if len(app.Spec.Sources) == 0 {
		if app.Spec.Source == nil {
			return nil, fmt.Errorf("Application %s has no source", app.Name)
		}
		return []AppSource{{Index: -1, Source: app.Spec.Source}}, nil
	}
	var out []AppSource
	for i := range app.Spec.Sources {
		s := &app.Spec.Sources[i]
		if s.Ref != "" && s.Chart == "" && s.Path == "" {
			continue
		}
		out = append(out, AppSource{Index: i, Source: s})
	}
	return out, nil
}

// SourceDir is the directory of a Git source inside its repository: path
// cleaned, relative to the root ("/" at the start is the root too), "."
// for the root itself. A path that leaves the repository is an error.
func SourceDir(p string) (string, error) {
	full := path.Join(rootSentinel, p)
	if full == rootSentinel {
		return ".", nil
	}
	rel, ok := strings.CutPrefix(full, rootSentinel+"/")
	if !ok {
		return "", fmt.Errorf("path %s leaves the repository", p)
	}
	return rel, nil
}

// Resolver resolves the sources of Applications against the repositories
// readable offline.
type Resolver struct {
	Repos *Repos
}

// GitSource returns the repository of a Git source (one without chart) and
// the source's directory in it.
func (r *Resolver) GitSource(s *v1alpha1.ApplicationSource) (fs.FS, string, error) {
	repo, ok := r.Repos.Lookup(s.RepoURL)
	if !ok {
		return nil, "", fmt.Errorf("repository %s is not available offline (it is not this repository; add it with --repo-url if it is)", s.RepoURL)
	}
	dir, err := SourceDir(s.Path)
	if err != nil {
		return nil, "", err
	}
	return repo, dir, nil
}

// Helm resolves the Helm inputs of a source of app (see ResolveHelm). For a
// chart from a Helm repository, chartFiles are the chart's files (value
// files without a `$ref` resolve among them); for a Git source it is nil
// and relative value files resolve in the source's repository from the
// source's directory.
func (r *Resolver) Helm(app *v1alpha1.Application, s AppSource, chartFiles fs.FS) (*HelmInputs, error) {
	if s.Source.Chart != "" {
		return ResolveHelmWithOptions(app, s.Index, r.Repos, chartFiles, Options{})
	}
	repo, dir, err := r.GitSource(s.Source)
	if err != nil {
		return nil, err
	}
	return ResolveHelmWithOptions(app, s.Index, r.Repos, repo, Options{AppPath: dir})
}
