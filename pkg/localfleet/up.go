package localfleet

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/gitops-hub/gitops-hub/internal/netns"
	"github.com/gitops-hub/gitops-hub/internal/supervisor"
)

// UpOptions are the inputs of UpActions.
type UpOptions struct {
	// RepoDir is the Git working tree whose HEAD is published; "" means ".".
	RepoDir string
	// ChartsDir is a Helm repository folder (index.yaml and packaged charts)
	// served at ChartURL(); "" means no chart server.
	ChartsDir string
	// SelfExe is the hubctl executable that runs `internal serve-charts`;
	// "" means os.Executable().
	SelfExe string
	// Bootstrap runs after the clusters and services and before Argo CD
	// starts: installing Argo CD's CRDs, namespace and ConfigMaps into the
	// hub, which the controllers need to start. Registering the hosting
	// clusters can go here too.
	Bootstrap []Action
	// ArgoCD tunes StartArgoCD.
	ArgoCD ArgoCDOptions
	// NoArgoCD leaves the Argo CD processes out.
	NoArgoCD bool
	// Overlay, when set, is laid over HEAD in the commit the git daemon
	// serves (see PublishOverlay).
	Overlay *Overlay
	// ESO names the hosting clusters that run External Secrets Operator,
	// started after Argo CD (StartESO); not without Argo CD, which installs
	// its CRDs.
	ESO ESOOptions
}

// UpActions is the whole create, in order: checking prerequisites and
// ports, preparing the state directory, one cluster at a time (hub first),
// redis, publishing the repository, the git daemon, the chart server,
// opts.Bootstrap, then Argo CD and External Secrets Operator. Run them with Run; on error, Down removes
// what was started.
//
// On a running fleet (same hub and ports) the actions converge: what runs
// is only waited for, what is missing or stopped is started, and the
// repository's HEAD is published again. Prepare fails with ErrFleetExists
// when the state directory holds a different fleet: a caller that removes
// what it started on error must not Down a fleet it did not make.
func (f *Fleet) UpActions(opts UpOptions) []Action {
	actions := []Action{
		{Name: "Checking prerequisites", Run: func(context.Context) error {
			return errors.Join(f.CheckPrerequisites(!opts.NoArgoCD), f.checkESOBinary(opts.ESO))
		}},
		{Name: "Preparing " + f.StateDir, Run: f.Prepare},
	}
	actions = append(actions, f.ClusterActions()...)
	actions = append(actions, f.ServiceActions(opts.RepoDir, opts.ChartsDir, opts.SelfExe, opts.Overlay)...)
	actions = append(actions, opts.Bootstrap...)
	if !opts.NoArgoCD {
		actions = append(actions, f.ArgoCDAction(opts.ArgoCD))
		actions = append(actions, f.ESOActions(opts.ESO)...)
	}
	return actions
}

// ClusterActions make the clusters run one after the other, hub first (on 2
// cores parallel creates only compete; each takes about 4 s): EnsureCluster
// creates, starts or only waits for each.
func (f *Fleet) ClusterActions() []Action {
	var out []Action
	for _, name := range f.Clusters() {
		base, err := f.ClusterBase(name)
		what, ensure := "Creating cluster %s (https://127.0.0.1:%d)", f.EnsureCluster
		if f.IsAPIServerOnly(name) {
			what, ensure = "Creating apiserver-only cluster %s (https://127.0.0.1:%d)", f.EnsureAPIServerCluster
		}
		out = append(out, Action{
			Name: fmt.Sprintf(what, name, base),
			Run: func(ctx context.Context) error {
				if err != nil {
					return err
				}
				return ensure(ctx, name, base)
			},
		})
	}
	return out
}

// ServiceActions start redis, publish repoDir (with ov laid over it, when
// set), start the git daemon and, when chartsDir is set, the chart server.
func (f *Fleet) ServiceActions(repoDir, chartsDir, selfExe string, ov *Overlay) []Action {
	if repoDir == "" {
		repoDir = "."
	}
	out := []Action{
		{Name: "Starting redis (" + f.RedisAddr() + ")", Run: f.StartRedis},
		{Name: "Publishing " + repoDir + " (HEAD" + overlayNote(ov) + ") as " + f.GitURL() + " " + Branch, Run: func(ctx context.Context) error {
			_, err := f.PublishOverlay(ctx, repoDir, ov)
			return err
		}},
		{Name: "Starting the git daemon (" + f.GitURL() + ")", Run: f.StartGitDaemon},
	}
	if chartsDir != "" {
		out = append(out, Action{Name: "Starting the chart server (" + f.ChartURL() + ")", Run: func(ctx context.Context) error {
			exe := selfExe
			if exe == "" {
				var err error
				if exe, err = os.Executable(); err != nil {
					return err
				}
			}
			return f.StartChartServer(ctx, exe, chartsDir)
		}})
	}
	return out
}

func overlayNote(ov *Overlay) string {
	if ov == nil {
		return ""
	}
	return " with the overlay " + ov.Dir
}

// ArgoCDAction starts the Argo CD processes (StartArgoCD).
func (f *Fleet) ArgoCDAction(opts ArgoCDOptions) Action {
	return Action{Name: "Starting Argo CD (repo-server, application-controller, applicationset-controller)", Run: func(ctx context.Context) error {
		return f.StartArgoCD(ctx, opts)
	}}
}

// CheckPrerequisites checks, all at once, what a create needs: the fleet's
// description (Validate), the binaries in BinDir (Argo CD's only when
// argoCD), kubectl, redis (miniredis in BinDir), git, and the network (an isolated
// namespace unless AllowHostNetwork).
func (f *Fleet) CheckPrerequisites(argoCD bool) error {
	if err := f.Validate(); err != nil {
		return err
	}
	var errs []error
	if _, err := f.clusterBinaries(); err != nil {
		errs = append(errs, err)
	}
	if argoCD {
		var missing []string
		for _, b := range argoCDBinaryNames() {
			if !isExecutable(f.Bin(b)) {
				missing = append(missing, b)
			}
		}
		if len(missing) > 0 {
			errs = append(errs, fmt.Errorf("missing in %s: %s (build them with hack/tools/build.sh argocd helm, or set $%s)", f.binDir(), strings.Join(missing, ", "), EnvBinDir))
		}
	}
	if _, err := f.redisCommand("", 0); err != nil {
		errs = append(errs, err)
	}
	if _, err := exec.LookPath("git"); err != nil {
		errs = append(errs, fmt.Errorf("git not found on PATH (Debian/Ubuntu: apt-get install -y git)"))
	}
	if err := f.checkNetwork(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// ErrFleetExists is returned (wrapped) by Prepare when the state directory
// holds a fleet that differs from the Fleet being prepared.
var ErrFleetExists = errors.New("another fleet exists in the state directory")

// Prepare makes the state directory of a new fleet: checks that every port
// is free, writes the marker and fleet.json, and, in an isolated network
// namespace, starts the holder process that keeps the namespace alive after
// the creating process exits (recorded as State.Netns). When the state
// directory holds the same fleet (same hub, same ports), Prepare accepts it
// (and starts a new holder if the old one is gone); a different fleet is
// ErrFleetExists.
func (f *Fleet) Prepare(ctx context.Context) error {
	if err := f.Validate(); err != nil {
		return err
	}
	if err := f.checkNetwork(); err != nil {
		return err
	}
	if s, err := LoadState(f.StateDir); err == nil {
		if err := f.sameFleet(s); err != nil {
			return fmt.Errorf("%w (%s, created %s): %v; remove it first (hubctl down)", ErrFleetExists, f.StateDir, s.Created.Format("2006-01-02 15:04:05"), err)
		}
		if s.Netns != nil {
			if rec, err := f.procs().Record(ProcNetnsHolder); err == nil && rec.Alive() {
				return nil
			}
		}
	} else {
		if err := ownStateDir(f.StateDir); err != nil {
			return err
		}
		if err := f.CheckPorts(); err != nil {
			return err
		}
		id, _ := netns.ID()
		if err := f.updateState(func(s *State) { s.NetnsID = id }); err != nil {
			return err
		}
	}
	if ok, _ := netns.Isolated(); !ok {
		return nil
	}
	id, err := netns.ID()
	if err != nil {
		return fmt.Errorf("network namespace: %w", err)
	}
	rec, err := f.procs().Start(ProcNetnsHolder, supervisor.Command{Path: "sleep", Args: []string{"2147483647"}})
	if err != nil {
		return fmt.Errorf("network namespace holder: %w", err)
	}
	ns := &Netns{ID: id, HolderPID: rec.PID, UserNS: os.Getenv(netns.EnvNetns) == "user" || netns.UserNSDiffers()}
	pid := strconv.Itoa(rec.PID)
	ns.Enter = "nsenter --net=/proc/" + pid + "/ns/net --"
	if ns.UserNS {
		ns.Enter = "nsenter --preserve-credentials --user=/proc/" + pid + "/ns/user --net=/proc/" + pid + "/ns/net --"
	}
	return f.updateState(func(s *State) {
		s.Netns = ns
		s.setProcess(rec)
	})
}

// sameFleet checks that a recorded fleet is this one: same hub, same
// service ports, same ports for every cluster both know. Clusters may be
// added (they are created) or left out (they keep running until Down).
func (f *Fleet) sameFleet(s *State) error {
	if s.Hub != f.Hub {
		return fmt.Errorf("its hub is %q, not %q", s.Hub, f.Hub)
	}
	a, b := s.Ports, f.ports()
	a.Clusters, b.Clusters = nil, nil
	if !reflect.DeepEqual(a, b) {
		return fmt.Errorf("its ports differ: %+v, want %+v", a, b)
	}
	for _, c := range s.Clusters {
		if !slices.Contains(f.Clusters(), c.Name) {
			continue
		}
		if base, err := f.ClusterBase(c.Name); err != nil || base != c.Ports.APIServer {
			return fmt.Errorf("its cluster %s has kube-apiserver port %d, want %d", c.Name, c.Ports.APIServer, base)
		}
	}
	return nil
}

// ensureStateDir creates the state directory with its marker, or checks that
// an existing one is a fleet's (or empty). Everything that writes under the
// state directory calls it first, so Down can always remove what was made.
func (f *Fleet) ensureStateDir() error {
	if f.StateDir == "" || !filepath.IsAbs(f.StateDir) {
		return fmt.Errorf("state directory %q: want an absolute path", f.StateDir)
	}
	if err := ownStateDir(f.StateDir); err != nil {
		return err
	}
	for _, d := range []string{f.StateDir, filepath.Join(f.StateDir, "logs"), filepath.Join(f.StateDir, "pids")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	marker := filepath.Join(f.StateDir, markerFile)
	if _, err := os.Stat(marker); err == nil {
		return nil
	}
	return os.WriteFile(marker, []byte("state directory of a gitops-hub local fleet; `hubctl down` removes it\n"), 0o644)
}

// ownStateDir fails when dir exists, is not empty and is not a fleet's
// state directory (no marker): nothing here may write into, let alone
// remove, a folder it did not make.
func ownStateDir(dir string) error {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if len(entries) == 0 {
		return nil
	}
	if _, err := os.Stat(filepath.Join(dir, markerFile)); err != nil {
		return fmt.Errorf("%s is not empty and is not a fleet's state directory (no %s): refusing to use it", dir, markerFile)
	}
	return nil
}
