package action

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/resource"
	"sigs.k8s.io/yaml"

	"github.com/gitops-hub/gitops-hub/pkg/conventions"
	"github.com/gitops-hub/gitops-hub/pkg/generate"
	"github.com/gitops-hub/gitops-hub/pkg/gitfs"
	"github.com/gitops-hub/gitops-hub/pkg/loader"
	"github.com/gitops-hub/gitops-hub/pkg/outdir"
	"github.com/gitops-hub/gitops-hub/pkg/render"
	"github.com/gitops-hub/gitops-hub/pkg/render/helm"
	"github.com/gitops-hub/gitops-hub/pkg/source"
)

// RootApp is the hub's app-of-apps; its repoURL names this repository.
const RootApp = conventions.RootApp

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
	// Limits of chart fetching; flags override them.
	Limits FetchLimits `json:"limits,omitempty"`
}

// FetchLimits bound chart fetching (README "Limits"): durations as Go durations ("30s",
// "5m"), sizes as Kubernetes quantities ("64Mi"). Empty fields take helm.DefaultLimits.
type FetchLimits struct {
	ConnectTimeout string `json:"connectTimeout,omitempty"`
	HTTPTimeout    string `json:"httpTimeout,omitempty"`
	MaxIndexSize   string `json:"maxIndexSize,omitempty"`
	MaxChartSize   string `json:"maxChartSize,omitempty"`
}

// resolve parses l over base (the config's limits under the flags').
func (l FetchLimits) resolve(base helm.Limits, where string) (helm.Limits, error) {
	out := base
	dur := func(name, v string, into *time.Duration) error {
		if v == "" {
			return nil
		}
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return fmt.Errorf("%s %s: %q is not a positive duration (e.g. 30s, 5m)", where, name, v)
		}
		*into = d
		return nil
	}
	size := func(name, v string, into *int64) error {
		if v == "" {
			return nil
		}
		q, err := resource.ParseQuantity(v)
		if err != nil || q.Sign() <= 0 {
			return fmt.Errorf("%s %s: %q is not a positive size (e.g. 64Mi)", where, name, v)
		}
		*into = q.Value()
		return nil
	}
	return out, errors.Join(
		dur("connectTimeout", l.ConnectTimeout, &out.ConnectTimeout),
		dur("httpTimeout", l.HTTPTimeout, &out.Timeout),
		size("maxIndexSize", l.MaxIndexSize, &out.MaxIndexSize),
		size("maxChartSize", l.MaxChartSize, &out.MaxChartSize),
	)
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
	// Limits of chart fetching (flags; they override the config file's).
	Limits FetchLimits
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
	gen, opts, err := r.prepare(ctx)
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

// prepare opens the repository at Revision, generates its Applications and
// builds the render options that read that revision: the start of render,
// values, charts pull and config plan.
func (r *Render) prepare(ctx context.Context) (*GenerateResult, render.Options, error) {
	repoDir := RepoRoot(r.Repo)
	revFS, err := gitfs.Open(ctx, repoDir, r.Revision)
	if err != nil {
		return nil, render.Options{}, err
	}
	g := r.Generate
	if g.RepoFS == nil {
		g.RepoFS = revFS
	}
	gen, err := g.Run(ctx)
	if err != nil {
		return nil, render.Options{}, err
	}
	opts, err := r.options(ctx, repoDir, revFS)
	if err != nil {
		return nil, render.Options{}, err
	}
	return gen, opts, nil
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
	limits, err := cfg.Limits.resolve(helm.DefaultLimits, "config limits:")
	if err != nil {
		return render.Options{}, err
	}
	if limits, err = r.Limits.resolve(limits, "flag"); err != nil {
		return render.Options{}, err
	}
	return render.Options{
		Repos:       repos,
		Charts:      &helm.Cache{Dir: cacheDir, Mirrors: mirrors, Limits: limits},
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
		data, err = readWorkTreeFile(repoDir, name)
		if errors.Is(err, fs.ErrNotExist) {
			return cfg, nil
		}
	} else {
		data, err = loader.LocalFile(name).ReadFile()
	}
	if err != nil {
		return nil, fmt.Errorf("reading config: %w", err)
	}
	return ParseConfig(name, data)
}

// ParseConfig reads a hubctl.yaml: unknown fields, malformed mirrors and limits are errors
// naming the file.
func ParseConfig(name string, data []byte) (*RenderConfig, error) {
	cfg := &RenderConfig{}
	if err := yaml.UnmarshalStrict(data, cfg); err != nil {
		return nil, fmt.Errorf("config %s: %w", name, err)
	}
	for i, m := range cfg.ChartMirrors {
		if strings.TrimSpace(m.From) == "" || strings.TrimSpace(m.To) == "" {
			return nil, fmt.Errorf("config %s: chartMirrors[%d]: both from and to are required", name, i)
		}
	}
	if _, err := cfg.Limits.resolve(helm.DefaultLimits, "config "+name+": limits:"); err != nil {
		return nil, err
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
	if data, err := loader.ReadFileLimit(revFS, RootApp); err == nil {
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

// TreePaths returns, index-aligned with results, the file of each
// Application under --out: <cluster>/<application>.yaml, or
// <cluster>/<namespace>/<application>.yaml for every Application whose name
// another Application of the same cluster has too (in another namespace).
// An Application whose cluster, namespace or name cannot be a file name
// ("", ".", "..", "/" or NUL in it, over 255 bytes, hubctl's marker file),
// or that would share a file with another, gets an error instead; the
// others keep their file.
func TreePaths(results []render.Result) ([]string, []error) {
	paths := make([]string, len(results))
	errs := make([]error, len(results))
	type key struct{ cluster, name string }
	names := map[key]int{}
	for _, r := range results {
		names[key{r.Cluster, r.App.Name}]++
	}
	byPath := map[string]int{}
	for i, r := range results {
		fail := func(format string, a ...any) {
			errs[i] = fmt.Errorf("Application %s (namespace %s) -> cluster %q: %s", r.App.Name, r.App.Namespace, r.Cluster, fmt.Sprintf(format, a...))
		}
		if err := fileName(r.Cluster); err != nil {
			fail("the cluster name cannot be a folder name under --out: %v", err)
			continue
		}
		if r.Cluster == outdir.Marker {
			fail("the cluster name is that of hubctl's marker file %s", outdir.Marker)
			continue
		}
		if err := fileName(r.App.Name + ".yaml"); err != nil {
			fail("the Application name cannot be a file name under --out: %v", err)
			continue
		}
		p := filepath.Join(r.Cluster, r.App.Name+".yaml")
		if names[key{r.Cluster, r.App.Name}] > 1 {
			if err := fileName(r.App.Namespace); err != nil {
				fail("the namespace cannot be a folder name under --out: %v", err)
				continue
			}
			p = filepath.Join(r.Cluster, r.App.Namespace, r.App.Name+".yaml")
		}
		if j, dup := byPath[p]; dup {
			o := results[j]
			fail("its file %s would be that of another Application %s (namespace %s, ApplicationSet %s)", p, o.App.Name, o.App.Namespace, o.App.AppSet)
			if errs[j] == nil {
				errs[j] = fmt.Errorf("Application %s (namespace %s) -> cluster %q: its file %s would be that of another Application %s (namespace %s, ApplicationSet %s)", o.App.Name, o.App.Namespace, o.Cluster, p, r.App.Name, r.App.Namespace, r.App.AppSet)
			}
			continue
		}
		byPath[p] = i
		paths[i] = p
	}
	for i := range paths {
		if errs[i] != nil {
			paths[i] = ""
		}
	}
	return paths, errs
}

// fileName checks that s can be one file or folder name on every common
// file system.
func fileName(s string) error {
	switch {
	case s == "":
		return errors.New("empty name")
	case s == "." || s == "..":
		return fmt.Errorf("%q is not a name", s)
	case strings.ContainsRune(s, '/') || strings.ContainsRune(s, filepath.Separator):
		return fmt.Errorf("it contains a %c", filepath.Separator)
	case strings.ContainsRune(s, 0):
		return errors.New("it contains a NUL byte")
	case len(s) > 255:
		return fmt.Errorf("%d bytes, over the 255 bytes of a file name", len(s))
	}
	return nil
}

// WriteTree replaces out with one file per rendered Application, at the
// paths of TreePaths. It writes nothing and leaves out as it is when an
// Application failed or has no file, or ctx is cancelled: out is always
// either entirely the previous or entirely the new render.
func WriteTree(ctx context.Context, out *outdir.Dir, results []render.Result) error {
	paths, errs := TreePaths(results)
	failed := 0
	for i := range results {
		if results[i].Err != nil || errs[i] != nil {
			failed++
		}
	}
	if failed > 0 {
		return fmt.Errorf("%d Application(s) failed to render: left unchanged", failed)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("interrupted, left unchanged: %w", err)
	}
	return out.Replace(ctx, func(ctx context.Context, root string) error {
		made := map[string]bool{}
		for i, r := range results {
			if err := ctx.Err(); err != nil {
				return fmt.Errorf("interrupted, left unchanged: %w", err)
			}
			p := filepath.Join(root, paths[i])
			if d := filepath.Dir(p); !made[d] {
				if err := os.MkdirAll(d, 0o755); err != nil {
					return err
				}
				made[d] = true
			}
			b, err := r.YAML()
			if err != nil {
				return fmt.Errorf("Application %s: %w", r.App.Name, err)
			}
			if err := os.WriteFile(p, b, 0o644); err != nil {
				return err
			}
		}
		return nil
	})
}
