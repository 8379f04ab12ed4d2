package localfleet

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gitops-hub/gitops-hub/internal/supervisor"
	"github.com/gitops-hub/gitops-hub/pkg/kube"
)

// External Secrets Operator in the local fleet: in a real hosting cluster the
// external-secrets addon's Deployment runs the controller; under kwok that Pod
// is only simulated, so the controller (v0.16.2, built by `make tools`, the
// version of the chart the local overlay pins) runs here as a local process
// per hosting cluster, pointed at that cluster's kube-apiserver, the way the
// hub's Argo CD runs against the hub.

// ESOBinary is the controller's binary in BinDir.
const ESOBinary = "external-secrets"

// ESOProc is the process name of a hosting cluster's ESO controller.
func ESOProc(cluster string) string { return "external-secrets-" + cluster }

// ESOCRDs are the CustomResourceDefinitions the controller watches with the
// flags StartESO gives it (every reconciler of the chart's defaults): it
// fails to start its informers without them, so StartESO waits for them.
// The external-secrets addon's chart installs them (installCRDs: true).
func ESOCRDs() []string {
	return []string{
		"externalsecrets.external-secrets.io",
		"secretstores.external-secrets.io",
		"clustersecretstores.external-secrets.io",
		"clusterexternalsecrets.external-secrets.io",
		"pushsecrets.external-secrets.io",
		"clusterpushsecrets.external-secrets.io",
		"generatorstates.generators.external-secrets.io",
	}
}

// ESOOptions tune StartESO.
type ESOOptions struct {
	// Clusters are the hosting clusters that run ESO (those whose registry
	// entry has enable_external_secrets); none means no ESO.
	Clusters []string
	// Concurrent is the controller's --concurrent; 0 means 2 (the addon's
	// values).
	Concurrent int
	// LogLevel is its --loglevel; default "info".
	LogLevel string
	// CRDsWithin bounds the wait for the addon's CRDs in the cluster (Argo
	// CD installs them when it syncs the addon); 0 means 10 minutes.
	CRDsWithin time.Duration
	// ReadyWithin bounds the wait for the controller's workers; 0 means 3
	// minutes.
	ReadyWithin time.Duration
}

func (o ESOOptions) withDefaults() ESOOptions {
	if o.Concurrent == 0 {
		o.Concurrent = 2
	}
	if o.LogLevel == "" {
		o.LogLevel = "info"
	}
	if o.CRDsWithin == 0 {
		o.CRDsWithin = 10 * time.Minute
	}
	if o.ReadyWithin == 0 {
		o.ReadyWithin = 3 * time.Minute
	}
	return o
}

// ESOActions start ESO on each of opts.Clusters, one after the other
// (StartESO).
func (f *Fleet) ESOActions(opts ESOOptions) []Action {
	var out []Action
	for _, c := range opts.Clusters {
		out = append(out, Action{
			Name: "Starting External Secrets Operator for " + c + " (once Argo CD installed its CRDs there)",
			Run:  func(ctx context.Context) error { return f.StartESO(ctx, c, opts) },
		})
	}
	return out
}

// ESOArgs are the controller's arguments: no metrics listener
// (--metrics-addr=0: no port to collide with), no leader election (one
// process per cluster), the chart's other defaults (every reconciler on),
// and readable timestamps. The controller has neither a webhook nor a cert
// controller here: they are subcommands, never started (the overlay renders
// the chart with webhook.create=false and certController.create=false).
func ESOArgs(opts ESOOptions) []string {
	opts = opts.withDefaults()
	return []string{
		"--metrics-addr=0",
		"--enable-leader-election=false",
		"--concurrent=" + strconv.Itoa(opts.Concurrent),
		"--loglevel=" + opts.LogLevel,
		"--zap-time-encoding=iso8601",
	}
}

// StartESO runs External Secrets Operator's controller for a hosting
// cluster: it waits (up to opts.CRDsWithin) until ESOCRDs are Established
// there, starts process ESOProc(cluster) with KUBECONFIG set to the
// cluster's admin kubeconfig (the controller has no --kubeconfig flag),
// and waits until its ExternalSecret controller started its workers (its
// caches synced). The environment is only PATH, HOME, TMPDIR (under
// <state>/<cluster>/external-secrets) and KUBECONFIG, so no credential of
// the caller reaches a provider. One that runs already is only waited for;
// Down stops it with the fleet's other processes.
func (f *Fleet) StartESO(ctx context.Context, cluster string, opts ESOOptions) error {
	opts = opts.withDefaults()
	proc := ESOProc(cluster)
	if !slices.Contains(f.Hosting, cluster) {
		return fmt.Errorf("%s: %q is not a hosting cluster of the fleet (%v)", proc, cluster, f.Hosting)
	}
	if err := f.checkNetwork(); err != nil {
		return fmt.Errorf("%s: %w", proc, err)
	}
	bin := f.Bin(ESOBinary)
	if !isExecutable(bin) {
		return fmt.Errorf("%s: %w", proc, f.checkESOBinary(ESOOptions{Clusters: []string{cluster}}))
	}
	kubeconfig := f.Kubeconfig(cluster)
	c, err := kube.Load(cluster, kubeconfig)
	if err != nil {
		return fmt.Errorf("%s: %w", proc, err)
	}
	if !f.procs().Alive(proc) {
		if err := f.waitESOCRDs(ctx, c, opts.CRDsWithin); err != nil {
			return fmt.Errorf("%s: %w", proc, err)
		}
	}
	dir := filepath.Join(f.StateDir, cluster, "external-secrets")
	tmp := filepath.Join(dir, "tmp")
	if err := os.MkdirAll(tmp, 0o700); err != nil {
		return fmt.Errorf("%s: %w", proc, err)
	}
	cmd := supervisor.Command{Path: bin, Args: ESOArgs(opts), Dir: dir, Env: []string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + dir, "TMPDIR=" + tmp, "KUBECONFIG=" + kubeconfig,
	}}
	log := f.LogPath(proc)
	offset := fileSize(log)
	if f.procs().Alive(proc) {
		offset = 0
	}
	return f.ensureProcess(ctx, proc, cmd, nil, "running its ExternalSecret controller's workers", opts.ReadyWithin, func(ctx context.Context) (bool, error) {
		return logLineContains(log, offset, `"msg":"Starting workers"`, `"controllerKind":"ExternalSecret"`), nil
	})
}

// waitESOCRDs polls the cluster until every CRD of ESOCRDs is Established.
func (f *Fleet) waitESOCRDs(ctx context.Context, c *kube.Cluster, within time.Duration) error {
	return f.waitUntilPresent(ctx, within, fmt.Sprintf("the external-secrets addon's CRDs in %s", c), func(ctx context.Context) ([]string, error) {
		return notEstablished(ctx, c, ESOCRDs())
	})
}

// notEstablished lists the CRDs of names that are not Established in c,
// each with why.
func notEstablished(ctx context.Context, c *kube.Cluster, names []string) ([]string, error) {
	var missing []string
	for _, name := range names {
		ok, state, err := c.CRDEstablished(ctx, name)
		if err != nil {
			return nil, err
		}
		if !ok {
			missing = append(missing, "CRD "+name+" ("+state+")")
		}
	}
	return missing, nil
}

// waitUntilPresent polls every 2 s, up to within, until missing reports
// nothing is missing any more (an error from it ends the wait), and says
// once on the fleet's output what it waits for. The error names what was
// still missing at the end.
func (f *Fleet) waitUntilPresent(ctx context.Context, within time.Duration, what string, missing func(ctx context.Context) ([]string, error)) error {
	var left []string
	said := false
	err := poll(ctx, within, 2*time.Second, func(ctx context.Context) (bool, error) {
		m, err := missing(ctx)
		if err != nil {
			return false, err
		}
		left = m
		if len(left) > 0 && !said {
			fmt.Fprintf(f.out(), "   waiting for %s: %s\n", what, strings.Join(left, ", "))
			said = true
		}
		return len(left) == 0, nil
	})
	if err != nil {
		return fmt.Errorf("%s (does its Application sync?): %w; missing: %s", what, err, strings.Join(left, ", "))
	}
	return nil
}

// logLineContains reports whether one line of the log at path, after offset,
// holds every one of subs.
func logLineContains(path string, offset int64, subs ...string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	if _, err := f.Seek(offset, io.SeekStart); err != nil {
		return false
	}
	sc := bufio.NewScanner(io.LimitReader(f, 64<<20))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		all := true
		for _, s := range subs {
			if !strings.Contains(line, s) {
				all = false
				break
			}
		}
		if all {
			return true
		}
	}
	return false
}

// checkESOBinary fails when clusters are to run ESO and its binary is missing.
func (f *Fleet) checkESOBinary(opts ESOOptions) error {
	if len(opts.Clusters) == 0 || isExecutable(f.Bin(ESOBinary)) {
		return nil
	}
	return fmt.Errorf("missing in %s: %s, for External Secrets Operator on %s (build it with `make tools`, or set $%s)",
		f.binDir(), ESOBinary, strings.Join(opts.Clusters, ", "), EnvBinDir)
}
