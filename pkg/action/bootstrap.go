package action

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"strings"
	"time"

	"helm.sh/helm/v3/pkg/chart"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/gitops-hub/gitops-hub/pkg/bootstrap"
	"github.com/gitops-hub/gitops-hub/pkg/conventions"
	"github.com/gitops-hub/gitops-hub/pkg/render/helm"
)

// Bootstrap installs or upgrades Argo CD in the hub from the tree (bootstrap/hub/argo-cd.yaml
// and values.yaml), applies the AppProjects and the root Application, and hands the hub to Git.
type Bootstrap struct {
	Config *Configuration
	// CRDDir applies Argo CD's CRDs from a folder (the local fleet); "" lets the chart install
	// them.
	CRDDir string
	// RepoURL and Revision override the root Application's source ("" keeps the file's).
	RepoURL, Revision string
	// WaitAvailable and WaitSync bound the waits for Argo CD and for the root Application
	// (0: do not wait).
	WaitAvailable, WaitSync time.Duration
	// DryRun writes to Out what would be applied and changes nothing.
	DryRun bool
	Out    io.Writer
}

// HubInputs are what the tree says about the hub.
type HubInputs struct {
	Spec     *bootstrap.HubSpec
	Values   map[string]any
	RootApp  []byte
	Projects []*unstructured.Unstructured
}

// LoadHubInputs reads the hub's chart pin and values, the root Application and the AppProjects
// (every AppProject under conventions.ProjectsDir) from the tree.
func LoadHubInputs(fsys fs.FS) (*HubInputs, error) {
	spec, values, err := bootstrap.LoadHubSpec(fsys)
	if err != nil {
		return nil, err
	}
	root, err := fs.ReadFile(fsys, conventions.RootApp)
	if err != nil {
		return nil, fmt.Errorf("the hub's root Application: %w", err)
	}
	projects, err := treeObjects(fsys, conventions.ProjectsDir, "AppProject", true)
	if err != nil {
		return nil, fmt.Errorf("the AppProjects: %w", err)
	}
	return &HubInputs{Spec: spec, Values: values, RootApp: root, Projects: projects}, nil
}

// Run bootstraps the hub. The result says what changed (nothing, on a second run).
func (b *Bootstrap) Run(ctx context.Context) (*bootstrap.Result, error) {
	cfg := b.Config
	in, err := LoadHubInputs(cfg.repo())
	if err != nil {
		return nil, err
	}
	if cfg.Charts == nil {
		return nil, fmt.Errorf("bootstrap: no chart source")
	}
	ref := helm.ChartRef{RepoURL: in.Spec.RepoURL, Chart: in.Spec.Chart, Version: in.Spec.Version}
	fmt.Fprintf(cfg.progress(), "bootstrap: loading %s (%s)\n", ref, conventions.HubChartFile)
	ch, err := cfg.Charts.Load(ctx, ref)
	if err != nil {
		return nil, fmt.Errorf("the hub's Argo CD chart (%s): %w", conventions.HubChartFile, err)
	}
	hub, err := cfg.hub()
	if err != nil {
		return nil, err
	}
	return bootstrap.Hub(ctx, hub, bootstrap.Options{
		Namespace: in.Spec.Namespace, ReleaseName: in.Spec.ReleaseName,
		CRDDir: b.CRDDir, Chart: ch, Values: in.Values,
		RepoURL: b.RepoURL, Revision: b.Revision, RootApp: in.RootApp, Projects: in.Projects,
		WaitAvailable: b.WaitAvailable, WaitSync: b.WaitSync,
		DryRun: b.DryRun, Out: b.Out, Progress: cfg.progress(),
	})
}

// NewChartSource is the chart source of the live verbs: upstream repositories, cached under
// DefaultCacheDir(); chartsDir (HUBCTL_CHARTS_DIR), when set, serves every repository from a
// folder of packaged charts, except those that mirrors (--chart-mirror FROM=TO) rewrite.
func NewChartSource(chartsDir string, mirrors []string) (ChartSource, error) {
	c := &helm.Cache{Dir: DefaultCacheDir()}
	for _, m := range mirrors {
		mm, err := helm.ParseMirror(m)
		if err != nil {
			return nil, fmt.Errorf("--chart-mirror %s: %w", m, err)
		}
		c.Mirrors = append(c.Mirrors, mm)
	}
	return &chartSource{cache: c, dir: chartsDir}, nil
}

type chartSource struct {
	cache *helm.Cache
	dir   string
}

func (s *chartSource) Load(ctx context.Context, ref helm.ChartRef) (*chart.Chart, error) {
	if s.dir != "" && !s.mirrored(ref.RepoURL) {
		// The charts folder serves this repository: a mirror of it, the only
		// way a local folder may serve charts (helm.Cache refuses a folder as
		// a repoURL).
		viaDir := &helm.Cache{Dir: s.cache.Dir, Limits: s.cache.Limits,
			Mirrors: []helm.Mirror{{From: ref.RepoURL, To: s.dir}}}
		return viaDir.Load(ctx, ref)
	}
	return s.cache.Load(ctx, ref)
}

func (s *chartSource) mirrored(repoURL string) bool {
	u := strings.TrimSuffix(repoURL, "/")
	for _, m := range s.cache.Mirrors {
		from := strings.TrimSuffix(m.From, "/")
		if u == from || strings.HasPrefix(u, from+"/") {
			return true
		}
	}
	return false
}
