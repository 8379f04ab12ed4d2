package action

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gitops-hub/gitops-hub/pkg/bootstrap"
	"github.com/gitops-hub/gitops-hub/pkg/conventions"
	"github.com/gitops-hub/gitops-hub/pkg/gitfs"
	"github.com/gitops-hub/gitops-hub/pkg/kube"
	"github.com/gitops-hub/gitops-hub/pkg/localfleet"
	"github.com/gitops-hub/gitops-hub/pkg/registry"
	"github.com/gitops-hub/gitops-hub/pkg/render/helm"
	"github.com/gitops-hub/gitops-hub/pkg/status"
)

// Local fleet conventions.
const (
	// HubName is the local hub cluster.
	HubName = "hub"
	// LocalProviderLabel marks the registry entries of the local fleet's
	// hosting clusters (provider=local).
	LocalProviderLabel = "provider"
	LocalProvider      = "local"
	// LocalRuntimeAnnotation picks how a local hosting cluster runs:
	// LocalRuntimeKwok (the default) or LocalRuntimeAPIServer, the light
	// variant for scale measurements.
	LocalRuntimeAnnotation = "local_runtime"
	LocalRuntimeKwok       = "kwok"
	LocalRuntimeAPIServer  = "apiserver"
	// ArgoCDNamespace is where Argo CD runs in the hub.
	ArgoCDNamespace = conventions.ArgoCDNamespace
)

// Up brings up the local fleet: the hub and the local hosting clusters of
// the registry, Argo CD against the hub, the hosting clusters registered,
// and waits until every Application is Synced and Healthy.
type Up struct {
	// Repo is the repository (its HEAD is what the fleet's Git daemon serves).
	Repo string
	// StateDir (default localfleet.DefaultStateDir()).
	StateDir string
	// BinDir (default localfleet.DefaultBinDir()).
	BinDir string
	// ChartsDir is a Helm repository folder served to Argo CD.
	ChartsDir string
	// Timeout bounds the wait for all Applications (default 10 minutes).
	Timeout time.Duration
	// AllowHostNetwork starts outside an isolated network namespace.
	AllowHostNetwork bool
	// Progress receives progress lines.
	Progress io.Writer
	// Hubctl is the hubctl executable that serves the charts (default: this
	// executable).
	Hubctl string
}

// UpResult is a running fleet.
type UpResult struct {
	Fleet *localfleet.Fleet
	State *localfleet.State
	Apps  []status.App
}

// EnvChartsDir names the default Helm repository folder of `hubctl up`.
const EnvChartsDir = "HUBCTL_CHARTS_DIR"

// DefaultChartsDir is the folder of packaged charts the local fleet serves:
// $HUBCTL_CHARTS_DIR, else "" (the fleet runs without network, so it cannot
// read the upstream repositories: see ChartsDirError).
func DefaultChartsDir() string {
	return os.Getenv(EnvChartsDir)
}

// errNoChartsDir says how to get charts for the local fleet.
var errNoChartsDir = errors.New("no charts for the local fleet: set --charts or $" + EnvChartsDir +
	" to a Helm repository folder holding every chart the tree uses (make one, with network access, with `hubctl charts pull DIR`)")

// The local fleet's overlay: its fixtures live outside the production tree
// and are laid over it only in the commit the fleet's Git daemon serves.
const (
	// LocalOverlayDir holds the files laid over the repository's root:
	// the local clusters' registry entries and values
	// (LocalOverlayDir/clusters/<name>/...).
	LocalOverlayDir = "hack/local-fleet/overlay"
	// LocalClusterRegistry is where the local clusters' entries are.
	LocalClusterRegistry = LocalOverlayDir + "/" + ClusterRegistry
)

// LocalOverlay is what the local fleet f lays over the repository: the
// files of LocalOverlayDir, and its Git daemon and chart server allowed in
// every AppProject under bootstrap/ (the production projects allow only
// production URLs). hubctl up publishes the repository with it.
func LocalOverlay(f *localfleet.Fleet) *localfleet.Overlay {
	return &localfleet.Overlay{Dir: LocalOverlayDir, SourceRepos: []string{f.GitURL(), f.ChartURL()}, ProjectsDir: conventions.BootstrapDir}
}

// LocalClusters returns the local hosting clusters of the overlay
// (LocalClusterRegistry), by port.
func LocalClusters(repo string) ([]*registry.Cluster, error) {
	fsys, err := gitfs.WorkTree(repo)
	if err != nil {
		return nil, err
	}
	reg, err := registry.LoadGlob(fsys, LocalClusterRegistry)
	if err != nil {
		return nil, err
	}
	var out []*registry.Cluster
	for _, c := range reg.Clusters {
		if c.Labels[LocalProviderLabel] == LocalProvider {
			out = append(out, c)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no local cluster in %s (label %s=%s)", LocalClusterRegistry, LocalProviderLabel, LocalProvider)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Server < out[j].Server })
	return out, nil
}

func serverPort(server string) (int, error) {
	u, err := url.Parse(server)
	if err != nil {
		return 0, err
	}
	if u.Hostname() != "127.0.0.1" {
		return 0, fmt.Errorf("server %s: a local cluster listens on https://127.0.0.1:<port>", server)
	}
	return strconv.Atoi(u.Port())
}

// NewFleet describes the local fleet of the repository.
func (u *Up) NewFleet() (*localfleet.Fleet, []*registry.Cluster, error) {
	locals, err := LocalClusters(u.repo())
	if err != nil {
		return nil, nil, err
	}
	names := make([]string, len(locals))
	ports := localfleet.DefaultPorts()
	ports.Clusters = map[string]int{}
	for i, c := range locals {
		names[i] = c.Name
		p, err := serverPort(c.Server)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", c.Pos(), err)
		}
		ports.Clusters[c.Name] = p
	}
	f, err := localfleet.NewFleet(HubName, names...)
	if err != nil {
		return nil, nil, err
	}
	for _, c := range locals {
		switch rt := c.Annotations[LocalRuntimeAnnotation]; rt {
		case "", LocalRuntimeKwok:
		case LocalRuntimeAPIServer:
			f.APIServerOnly = append(f.APIServerOnly, c.Name)
		default:
			return nil, nil, fmt.Errorf("%s: annotation %s=%q: want %q (a kwok cluster, the default) or %q (a bare kube-apiserver on a shared etcd)",
				c.Pos(), LocalRuntimeAnnotation, rt, LocalRuntimeKwok, LocalRuntimeAPIServer)
		}
	}
	f.BinDir, f.Ports, f.AllowHostNetwork, f.Out = u.BinDir, ports, u.AllowHostNetwork, u.Progress
	if f.StateDir, err = StateDir(u.StateDir); err != nil {
		return nil, nil, err
	}
	return f, locals, nil
}

func (u *Up) repo() string { return RepoRoot(u.Repo) }

func (u *Up) progress() io.Writer {
	if u.Progress == nil {
		return io.Discard
	}
	return u.Progress
}

// Run creates the fleet (or completes a running one) and waits for it. On
// error everything started is stopped again.
func (u *Up) Run(ctx context.Context) (res *UpResult, err error) {
	f, locals, err := u.NewFleet()
	if err != nil {
		return nil, err
	}
	charts := u.ChartsDir
	if charts == "" {
		charts = DefaultChartsDir()
	}
	if charts == "" {
		return nil, errNoChartsDir
	}
	if charts, err = filepath.Abs(charts); err != nil { // the chart server runs in another directory
		return nil, err
	}
	chartSrc, err := NewChartSource(charts, nil)
	if err != nil {
		return nil, err
	}
	// Fail before starting anything when the tree's hub chart is not in the charts folder.
	fsys, err := gitfs.WorkTree(u.repo())
	if err != nil {
		return nil, err
	}
	if hubIn, err := LoadHubInputs(fsys); err != nil {
		return nil, err
	} else if _, err := chartSrc.Load(ctx, helm.ChartRef{RepoURL: hubIn.Spec.RepoURL, Chart: hubIn.Spec.Chart, Version: hubIn.Spec.Version}); err != nil {
		return nil, fmt.Errorf("the hub's Argo CD chart (%s): %w (set --charts to a Helm repository folder holding it: `hubctl charts pull DIR` makes one)", conventions.HubChartFile, err)
	}
	defer func() {
		// Another fleet in the state directory is not ours to remove.
		if err != nil && !errors.Is(err, localfleet.ErrFleetExists) {
			fmt.Fprintf(u.progress(), "up failed; logs are in %s; stopping what was started\n", filepath.Join(f.StateDir, "logs"))
			dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Minute)
			defer cancel()
			if derr := f.Down(dctx); derr != nil {
				err = errors.Join(err, fmt.Errorf("cleaning up: %w", derr))
			}
		}
	}()
	hubSteps := []localfleet.Action{
		{Name: "Bootstrapping the hub (Argo CD CRDs, argo-cd chart, AppProjects, root Application)", Run: func(ctx context.Context) error {
			_, err := (&Bootstrap{
				Config: &Configuration{RepoDir: u.repo(), Charts: chartSrc, Progress: u.progress(),
					Hub: func() (*kube.Cluster, error) { return kube.Load(HubName, f.Kubeconfig(HubName)) }},
				CRDDir: bootstrap.DefaultCRDDir(), RepoURL: f.GitURL(),
			}).Run(ctx)
			return err
		}},
	}
	for _, c := range locals {
		hubSteps = append(hubSteps, localfleet.Action{Name: "Registering " + c.Name + " in the hub", Run: func(ctx context.Context) error {
			return Register(ctx, f, c)
		}})
	}
	hubSteps = append(hubSteps, seedActions(f, locals, u.progress())...)
	if err := f.Run(ctx, f.UpActions(localfleet.UpOptions{RepoDir: u.repo(), ChartsDir: charts, SelfExe: u.Hubctl, Bootstrap: hubSteps,
		Overlay: LocalOverlay(f),
		// A hosting cluster that was down and is back can stay "Synced" on a
		// stale comparison: with server-side diff (which Argo CD uses with
		// ServerSideApply) a failed comparison still records the new revision,
		// and later normal refreshes reuse the diff cached before it
		// (useDiffCache in Argo CD's controller/state.go). Only a hard refresh
		// bypasses that cache. So every periodic refresh is a hard one, once a
		// minute without jitter, and the fleet converges by itself.
		ArgoCD: localfleet.ArgoCDOptions{AppResync: 60, AppHardResync: 60, AppResyncJitter: 0},
		ESO:    localfleet.ESOOptions{Clusters: LocalESOClusters(locals)}})); err != nil {
		return nil, err
	}
	timeout := u.Timeout
	if timeout == 0 {
		timeout = 10 * time.Minute
	}
	var apps []status.App
	err = f.Run(ctx, []localfleet.Action{{Name: "Waiting until every Application is Synced and Healthy", Run: func(ctx context.Context) error {
		apps, err = WaitSynced(ctx, f, timeout, u.progress())
		return err
	}}})
	if err != nil {
		return nil, err
	}
	_, st, err := localfleet.Load(f.StateDir)
	if err != nil {
		return nil, err
	}
	return &UpResult{Fleet: f, State: st, Apps: apps}, nil
}

// Register registers one local hosting cluster in the fleet's hub with the verb of `hubctl
// cluster add`, from its registry entry (labels and annotations from Git, credentials only in
// the hub): least-privilege access and a bounded TokenRequest token, verified before the hub
// Secret is written.
func Register(ctx context.Context, f *localfleet.Fleet, c *registry.Cluster) error {
	cfg := &Configuration{
		Hub:    func() (*kube.Cluster, error) { return kube.Load(HubName, f.Kubeconfig(HubName)) },
		Target: func() (*kube.Cluster, error) { return kube.Load(c.Name, f.Kubeconfig(c.Name)) },
	}
	_, err := (&ClusterAdd{Config: cfg, Name: c.Name, Entry: c}).Run(ctx)
	return err
}

// WaitSynced polls the hub until every Application is Synced and Healthy
// and its last operation succeeded, printing changes to progress. An
// Application of an apiserver-only cluster only has to be Synced: nothing
// runs its Pods, so its Deployments stay Progressing.
func WaitSynced(ctx context.Context, f *localfleet.Fleet, timeout time.Duration, progress io.Writer) ([]status.App, error) {
	ready := func(a status.App) bool {
		if f.IsAPIServerOnly(a.Cluster) {
			return a.Synced()
		}
		return a.Ready()
	}
	hub, err := kube.Load(HubName, f.Kubeconfig(HubName))
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var apps []status.App
	last := ""
	err = kube.WaitFor(ctx, 2*time.Second, func(ctx context.Context) (bool, error) {
		got, err := status.List(ctx, hub.Dynamic, ArgoCDNamespace)
		if err != nil {
			return false, nil // keep the last list: the error message names what was not ready
		}
		apps = got
		n := 0
		for _, a := range apps {
			if ready(a) {
				n++
			}
		}
		if line := fmt.Sprintf("   %d/%d Applications Synced and Healthy", n, len(apps)); line != last {
			fmt.Fprintln(progress, line)
			last = line
		}
		return len(apps) > 0 && n == len(apps), nil
	})
	if err != nil {
		var msg string
		for _, a := range apps {
			if !ready(a) {
				msg += fmt.Sprintf("\n  %s: sync %s, health %s, operation %s %s", a.Name, a.Sync, a.Health, a.Operation, strings.Join(a.Messages, "; "))
			}
		}
		return apps, fmt.Errorf("not every Application became Synced and Healthy within %s:%s", timeout, msg)
	}
	return apps, nil
}

// StateDir is the fleet's state directory: dir when set, else
// localfleet.DefaultStateDir().
func StateDir(dir string) (string, error) {
	if dir != "" {
		return dir, nil
	}
	return localfleet.DefaultStateDir()
}

// Down stops the local fleet and removes its state.
type Down struct {
	StateDir string
	Progress io.Writer
}

// Run stops every process the fleet started and removes its state.
func (d *Down) Run(ctx context.Context) error {
	dir, err := StateDir(d.StateDir)
	if err != nil {
		return err
	}
	if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
		fmt.Fprintf(orDiscard(d.Progress), "no fleet in %s\n", dir)
		return nil
	}
	// Down copes with a missing or damaged fleet.json: it still stops what
	// the pid files record.
	f, _, err := localfleet.Load(dir)
	if err != nil {
		f = &localfleet.Fleet{StateDir: dir}
	}
	f.Out = d.Progress
	return f.Down(ctx)
}

func orDiscard(w io.Writer) io.Writer {
	if w == nil {
		return io.Discard
	}
	return w
}

// Publish serves the repository's HEAD, with the local overlay, to the
// fleet's Argo CD and asks it to look at once (a hard refresh of every
// Application, what a Git webhook would trigger), instead of waiting for its
// next poll.
func Publish(ctx context.Context, f *localfleet.Fleet, repo string) (string, error) {
	rev, err := f.PublishOverlay(ctx, repo, LocalOverlay(f))
	if err != nil {
		return "", err
	}
	hub, err := kube.Load(HubName, f.Kubeconfig(HubName))
	if err != nil {
		return "", err
	}
	return rev, status.Refresh(ctx, hub.Dynamic, ArgoCDNamespace, "hard")
}
