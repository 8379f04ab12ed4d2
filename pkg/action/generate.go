// Package action holds the verbs of hubctl as plain structs, independent of
// the command line: load the repository, run the pipeline, return results.
package action

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing/fstest"

	"github.com/gitops-hub/gitops-hub/pkg/conventions"
	"github.com/gitops-hub/gitops-hub/pkg/generate"
	"github.com/gitops-hub/gitops-hub/pkg/gitfs"
	"github.com/gitops-hub/gitops-hub/pkg/loader"
	"github.com/gitops-hub/gitops-hub/pkg/registry"
)

// Repository layout conventions of the GitOps tree.
const (
	BootstrapDir    = conventions.BootstrapDir
	ClusterRegistry = conventions.ClusterRegistry
)

// Generate evaluates ApplicationSets offline.
type Generate struct {
	// Repo is the repository folder; "" means RepoRoot: the Git working
	// tree containing the working directory. A relative AppSetFiles entry
	// is read from an explicitly given Repo.
	Repo string
	// RepoFS overrides Repo (tests, Git revisions).
	RepoFS fs.FS
	// AppSetFiles are ApplicationSet files; default: every ApplicationSet
	// under bootstrap/ of the repository.
	AppSetFiles []string
	// ClusterFiles are multi-document files of cluster Secrets (or v1 Lists
	// of them, as kubectl writes); "-" reads Stdin. Default:
	// clusters/*/cluster.yaml of the repository.
	ClusterFiles []string
	// Stdin is read for a ClusterFiles entry "-".
	Stdin io.Reader
	// Clusters keeps only Applications whose destination is one of these
	// cluster names.
	Clusters []string
	// MaxApplications caps the Applications of one ApplicationSet (0: generate's default).
	MaxApplications int
}

// GenerateResult is what Generate produced.
type GenerateResult struct {
	Registry *registry.Registry
	// AppSets are the evaluated ApplicationSets in file order.
	AppSets []*generate.Result
	// Apps are all valid Applications of all ApplicationSets, sorted by
	// name (then namespace).
	Apps []*generate.Application
	// Errors are per-Application validation errors (Argo CD skips those
	// Applications and creates the others).
	Errors []error
	// Warnings are accepted-but-suspicious inputs.
	Warnings []string
}

// maxStdin bounds what --clusters - reads (a registry of 100,000 cluster
// Secrets is well below it).
const maxStdin = 512 << 20

// stdinFile reads r (standard input) whole, as the file "<stdin>".
func stdinFile(r io.Reader) (loader.File, error) {
	if r == nil {
		return loader.File{}, errors.New("--clusters -: no standard input")
	}
	data, err := io.ReadAll(io.LimitReader(r, maxStdin+1))
	if err != nil {
		return loader.File{}, fmt.Errorf("--clusters -: reading standard input: %w", err)
	}
	if len(data) > maxStdin {
		return loader.File{}, fmt.Errorf("--clusters -: standard input holds more than %d MiB", maxStdin>>20)
	}
	return loader.File{FS: fstest.MapFS{"stdin": &fstest.MapFile{Data: data, Mode: 0o444}}, Path: "stdin", Name: "<stdin>"}, nil
}

// repoFS is RepoFS, or the working tree of Repo confined to it (symbolic
// links out of the repository and special files are refused, see
// gitfs.WorkTree).
func (g *Generate) repoFS() (fs.FS, error) {
	if g.RepoFS != nil {
		return g.RepoFS, nil
	}
	return gitfs.WorkTree(RepoRoot(g.Repo))
}

// Run executes the pipeline: load → registry and ApplicationSets → generate
// → validate. A load or generation error is returned as error (nothing is
// produced); validation errors are in the result.
func (g *Generate) Run(ctx context.Context) (*GenerateResult, error) {
	repo, err := g.repoFS()
	if err != nil {
		return nil, err
	}
	var setFiles []loader.File
	if len(g.AppSetFiles) == 0 {
		paths, err := loader.WalkYAML(repo, BootstrapDir)
		if err != nil {
			return nil, fmt.Errorf("finding ApplicationSets under %s/ of the repository %s (run hubctl inside the repository or pass --repo): %w",
				BootstrapDir, absPath(RepoRoot(g.Repo)), err)
		}
		setFiles = loader.RepoFiles(repo, paths...)
	} else {
		for _, f := range g.AppSetFiles {
			// With --repo, a relative path names a file of the repository.
			if g.Repo != "" && !filepath.IsAbs(f) {
				clean := filepath.ToSlash(filepath.Clean(f))
				if clean == ".." || strings.HasPrefix(clean, "../") {
					return nil, fmt.Errorf("--appset %s: outside the repository %s (relative paths are read from --repo)", f, g.Repo)
				}
				setFiles = append(setFiles, loader.File{FS: repo, Path: clean, Name: path.Join(filepath.ToSlash(g.Repo), clean)})
				continue
			}
			setFiles = append(setFiles, loader.LocalFile(f))
		}
	}
	var clusterFiles []loader.File
	if len(g.ClusterFiles) == 0 {
		paths, err := fs.Glob(repo, ClusterRegistry)
		if err != nil {
			return nil, fmt.Errorf("cluster registry %s of the repository %s: %w", ClusterRegistry, absPath(RepoRoot(g.Repo)), err)
		}
		clusterFiles = loader.RepoFiles(repo, paths...)
	} else {
		stdinRead := false
		for _, f := range g.ClusterFiles {
			if f != "-" {
				clusterFiles = append(clusterFiles, loader.LocalFile(f))
				continue
			}
			if stdinRead {
				return nil, errors.New("--clusters -: standard input given twice")
			}
			stdinRead = true
			file, err := stdinFile(g.Stdin)
			if err != nil {
				return nil, err
			}
			clusterFiles = append(clusterFiles, file)
		}
	}

	// The registry and the ApplicationSets are independent: load both at once.
	var (
		reg     *registry.Registry
		regErr  error
		objs    *loader.Objects
		objsErr error
		wg      sync.WaitGroup
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		reg, regErr = registry.Load(clusterFiles)
	}()
	objs, objsErr = loader.LoadObjects(setFiles, len(g.AppSetFiles) > 0)
	wg.Wait()
	if err := errors.Join(objsErr, regErr); err != nil {
		return nil, err
	}

	eng := &generate.Engine{Clusters: reg, Repo: repo, APIServerChecks: true, MaxApplications: g.MaxApplications}
	if len(objs.Projects) > 0 {
		eng.Projects = map[string]bool{"default": true}
		for p := range objs.Projects {
			eng.Projects[p] = true
		}
	}
	res := &GenerateResult{Registry: reg, Warnings: objs.Warnings}
	res.AppSets = make([]*generate.Result, len(objs.AppSets))
	errs := make([]error, len(objs.AppSets))
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	for i, as := range objs.AppSets {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			src := generate.Source{File: as.Doc.File, Line: as.Doc.Line}
			res.AppSets[i], errs[i] = eng.Generate(ctx, as.ApplicationSet, src)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	keep := map[string]bool{}
	for _, c := range g.Clusters {
		if _, ok := reg.ByName(c); !ok && c != registry.InClusterName {
			return nil, fmt.Errorf("--cluster %s: no cluster with this name in the registry", c)
		}
		keep[c] = true
	}
	owner := map[string]string{}
	for _, r := range res.AppSets {
		for _, e := range r.Errors {
			res.Errors = append(res.Errors, e)
		}
		for _, a := range r.Apps {
			if len(keep) > 0 && !keep[DestinationCluster(reg, a)] {
				continue
			}
			key := a.Namespace + "/" + a.Name
			if prev, ok := owner[key]; ok {
				res.Errors = append(res.Errors, fmt.Errorf("Application %s is generated by both ApplicationSet %q and ApplicationSet %q: the two controllers' updates would overwrite each other", key, prev, a.AppSet))
				continue
			}
			owner[key] = a.AppSet
			res.Apps = append(res.Apps, a)
		}
	}
	sort.SliceStable(res.Apps, func(i, j int) bool {
		if res.Apps[i].Name != res.Apps[j].Name {
			return res.Apps[i].Name < res.Apps[j].Name
		}
		return res.Apps[i].Namespace < res.Apps[j].Namespace
	})
	return res, nil
}

// DestinationCluster names the cluster an Application deploys to: its
// destination name, or the registered cluster with its destination server.
func DestinationCluster(reg *registry.Registry, a *generate.Application) string {
	spec, _ := a.Object["spec"].(map[string]any)
	dest, _ := spec["destination"].(map[string]any)
	if n, _ := dest["name"].(string); n != "" {
		return n
	}
	s, _ := dest["server"].(string)
	if s == registry.InClusterServer {
		return registry.InClusterName
	}
	if reg != nil {
		for _, c := range reg.Clusters {
			if c.Server == s {
				return c.Name
			}
		}
	}
	return s
}

// readWorkTreeFile reads name from the working tree of repo, confined to it
// (gitfs.WorkTree).
func readWorkTreeFile(repo, name string) ([]byte, error) {
	wt, err := gitfs.WorkTree(repo)
	if err != nil {
		return nil, err
	}
	return loader.ReadFileLimit(wt, name)
}
