package action

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"sigs.k8s.io/yaml"

	"github.com/gitops-hub/gitops-hub/pkg/generate"
	"github.com/gitops-hub/gitops-hub/pkg/gitfs"
	"github.com/gitops-hub/gitops-hub/pkg/loader"
	"github.com/gitops-hub/gitops-hub/pkg/render"
	"github.com/gitops-hub/gitops-hub/pkg/render/helm"
	"github.com/gitops-hub/gitops-hub/pkg/source"
)

// RootApp is the hub's app-of-apps; its repoURL names this repository.
const RootApp = "bootstrap/root-app.yaml"

// RenderConfig is the optional config file (default hubctl.yaml in the
// repository): how to reach charts and which URLs are this repository.
type RenderConfig struct {
	// RepoURLs are URLs under which Argo CD knows this repository.
	RepoURLs []string `json:"repoURLs,omitempty"`
	// ChartMirrors rewrite chart repository URLs (FROM=TO).
	ChartMirrors []helm.Mirror `json:"chartMirrors,omitempty"`
	// KubeVersion of the destination clusters (default 1.35.0).
	KubeVersion string `json:"kubeVersion,omitempty"`
	// APIVersions available in the destination clusters.
	APIVersions []string `json:"apiVersions,omitempty"`
}

// Render renders every generated Application offline.
type Render struct {
	Generate
	// Revision of the repository to read values from ("" = working tree).
	Revision string
	// RepoURLs are extra URLs of this repository.
	RepoURLs []string
	// ChartMirrors are FROM=TO rewrites of chart repository URLs.
	ChartMirrors []string
	// Config is the config file ("" = hubctl.yaml in the repository, if any).
	Config      string
	KubeVersion string
	APIVersions []string
	// CacheDir holds downloaded charts (default $XDG_CACHE_HOME/gitops-hub/charts).
	CacheDir string
	// Apps keeps only these Applications, by Application name, addon
	// (ApplicationSet name, with or without its "addons-" prefix) or chart.
	Apps []string
}

// RenderResult is the outcome of Render.
type RenderResult struct {
	Generated *GenerateResult
	Results   []render.Result
}

// DefaultCacheDir is where charts are cached.
func DefaultCacheDir() string {
	if d := os.Getenv("HUBCTL_CACHE_DIR"); d != "" {
		return d
	}
	base, err := os.UserCacheDir()
	if err != nil {
		base = os.TempDir()
	}
	return filepath.Join(base, "gitops-hub", "charts")
}

// Run generates the Applications, then renders each; an Application that
// fails to render is reported in its Result and the others still render.
func (r *Render) Run(ctx context.Context) (*RenderResult, error) {
	repoDir := RepoRoot(r.Repo)
	revFS, err := gitfs.Open(ctx, repoDir, r.Revision)
	if err != nil {
		return nil, err
	}
	g := r.Generate
	if g.RepoFS == nil {
		g.RepoFS = revFS
	}
	gen, err := g.Run(ctx)
	if err != nil {
		return nil, err
	}
	opts, err := r.options(ctx, repoDir, revFS)
	if err != nil {
		return nil, err
	}
	apps := gen.Apps
	if len(r.Apps) > 0 {
		apps = filterApps(apps, r.Apps)
		if len(apps) == 0 {
			return nil, fmt.Errorf("no Application matches %s", strings.Join(r.Apps, ", "))
		}
	}
	rr := render.New(opts)
	res := rr.RenderAll(ctx, apps, func(a *generate.Application) string { return DestinationCluster(gen.Registry, a) })
	return &RenderResult{Generated: gen, Results: res}, nil
}

// options builds the render options: config file, repository URLs, chart
// mirrors and cache.
func (r *Render) options(ctx context.Context, repoDir string, revFS fs.FS) (render.Options, error) {
	cfg, err := r.loadConfig(revFS, repoDir)
	if err != nil {
		return render.Options{}, err
	}
	repos := &source.Repos{}
	for _, u := range r.repoURLs(ctx, repoDir, revFS, cfg) {
		repos.Add(u, revFS)
	}
	mirrors := append([]helm.Mirror(nil), cfg.ChartMirrors...)
	for _, m := range r.ChartMirrors {
		mm, err := helm.ParseMirror(m)
		if err != nil {
			return render.Options{}, fmt.Errorf("--chart-mirror %s: %w", m, err)
		}
		mirrors = append(mirrors, mm)
	}
	cacheDir := r.CacheDir
	if cacheDir == "" {
		cacheDir = DefaultCacheDir()
	}
	return render.Options{
		Repos:       repos,
		Charts:      &helm.Cache{Dir: cacheDir, Mirrors: mirrors},
		KubeVersion: firstNonEmpty(r.KubeVersion, cfg.KubeVersion),
		APIVersions: append(append([]string(nil), cfg.APIVersions...), r.APIVersions...),
	}, nil
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

func (r *Render) loadConfig(revFS fs.FS, repoDir string) (*RenderConfig, error) {
	cfg := &RenderConfig{}
	var data []byte
	var err error
	name := r.Config
	if name == "" {
		name = "hubctl.yaml"
		data, err = os.ReadFile(filepath.Join(repoDir, name))
		if errors.Is(err, fs.ErrNotExist) {
			return cfg, nil
		}
	} else {
		data, err = os.ReadFile(name)
	}
	if err != nil {
		return nil, fmt.Errorf("reading config: %w", err)
	}
	if err := yaml.UnmarshalStrict(data, cfg); err != nil {
		return nil, fmt.Errorf("config %s: %w", name, err)
	}
	return cfg, nil
}

// repoURLs are the URLs under which this repository is known: the
// flags, the config, the Git remotes, and the root Application's repoURL.
func (r *Render) repoURLs(ctx context.Context, repoDir string, revFS fs.FS, cfg *RenderConfig) []string {
	urls := append(append([]string(nil), r.RepoURLs...), cfg.RepoURLs...)
	if remotes, err := gitfs.RemoteURLs(ctx, repoDir); err == nil {
		urls = append(urls, remotes...)
	}
	if data, err := fs.ReadFile(revFS, RootApp); err == nil {
		for _, d := range loader.SplitDocuments(RootApp, data) {
			var root struct {
				Spec struct {
					Source struct {
						RepoURL string `json:"repoURL"`
					} `json:"source"`
				} `json:"spec"`
			}
			if yaml.Unmarshal(d.Data, &root) == nil && root.Spec.Source.RepoURL != "" {
				urls = append(urls, root.Spec.Source.RepoURL)
			}
		}
	}
	return urls
}

func filterApps(apps []*generate.Application, want []string) []*generate.Application {
	keep := map[string]bool{}
	for _, w := range want {
		keep[w] = true
	}
	var out []*generate.Application
	for _, a := range apps {
		if keep[a.Name] || keep[a.AppSet] || keep[strings.TrimPrefix(a.AppSet, "addons-")] || keep[chartOf(a)] {
			out = append(out, a)
		}
	}
	return out
}

func chartOf(a *generate.Application) string {
	for _, s := range a.Sources() {
		if c, _ := s["chart"].(string); c != "" {
			return c
		}
	}
	return ""
}

// WriteTree writes DIR/<cluster>/<application>.yaml for every rendered
// Application. The new tree is built beside DIR and swapped in at the end,
// so DIR is never half-written; Applications that failed have no file.
func WriteTree(dir string, results []render.Result) error {
	parent := filepath.Dir(filepath.Clean(dir))
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(parent, "."+filepath.Base(dir)+".tmp-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	sorted := append([]render.Result(nil), results...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].App.Name < sorted[j].App.Name })
	for _, r := range sorted {
		if r.Err != nil {
			continue
		}
		cdir := filepath.Join(tmp, safeName(r.Cluster))
		if err := os.MkdirAll(cdir, 0o755); err != nil {
			return err
		}
		b, err := r.YAML()
		if err != nil {
			return fmt.Errorf("Application %s: %w", r.App.Name, err)
		}
		if err := os.WriteFile(filepath.Join(cdir, safeName(r.App.Name)+".yaml"), b, 0o644); err != nil {
			return err
		}
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		return err
	}
	old := ""
	if _, err := os.Stat(dir); err == nil {
		old = tmp + ".old"
		if err := os.Rename(dir, old); err != nil {
			return err
		}
	}
	if err := os.Rename(tmp, dir); err != nil {
		if old != "" {
			_ = os.Rename(old, dir)
		}
		return err
	}
	if old != "" {
		return os.RemoveAll(old)
	}
	return nil
}

func safeName(s string) string {
	if s == "" {
		return "_"
	}
	return strings.NewReplacer("/", "_", "\\", "_", "..", "_").Replace(s)
}
