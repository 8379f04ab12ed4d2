// Package testenv starts real Kubernetes control planes for tests: etcd and
// kube-apiserver (optionally kube-controller-manager) as local processes on
// loopback ports, with generated PKI and an admin kubeconfig, stopped when
// the test ends.
//
// Binaries come from $HUBCTL_BIN_DIR, else from
// ${GITOPS_HUB_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/gitops-hub}/bin/current
// (what `hack/tools/build.sh etcd kubernetes` builds). When they are missing
// the test is skipped, or fails when HUBCTL_REQUIRE_REAL_CLUSTERS=1 (CI).
//
// An apiserver calls admission webhooks and aggregated APIs at Service IPs
// (10.x) that must never leave the machine, so testenv only starts one inside
// a network namespace with nothing but loopback (no interface other than lo
// up), otherwise the test is skipped (or fails, as above). Run tests as
//
//	go test -c -o /tmp/x.test ./pkg/... # or go vet: build first, the module proxy is unreachable inside
//	unshare -n sh -c 'ip link set lo up && /tmp/x.test -test.v'
package testenv

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/gitops-hub/gitops-hub/internal/controlplane"
	"github.com/gitops-hub/gitops-hub/internal/netns"
	"github.com/gitops-hub/gitops-hub/internal/supervisor"
	"github.com/gitops-hub/gitops-hub/pkg/kube"
)

// Environment variables read by this package.
const (
	EnvBinDir         = "HUBCTL_BIN_DIR"               // directory of etcd, kube-apiserver, ...
	EnvCache          = "GITOPS_HUB_CACHE"             // hack/tools cache root
	EnvRequireRealK8s = "HUBCTL_REQUIRE_REAL_CLUSTERS" // "1": missing binaries or network isolation fail the test instead of skipping it
)

// BuildCommand builds the binaries this package needs.
const BuildCommand = "hack/tools/build.sh etcd kubernetes"

// Service-account issuer and Service CIDR of every test cluster.
const (
	ServiceAccountIssuer = controlplane.ServiceAccountIssuer
	ServiceClusterIPs    = controlplane.ServiceClusterIPs
)

// DefaultStartTimeout bounds the start of a whole Env (etcd plus every
// control plane) unless Options.StartTimeout says otherwise. Generous: the
// machines this runs on have 2 cores and are often busy compiling.
const DefaultStartTimeout = 90 * time.Second

// stopGrace is how long a server gets between SIGTERM and SIGKILL.
const stopGrace = 10 * time.Second

// startAttempts bounds retries after a port was taken before the server bound it.
const startAttempts = 5

// Options tunes New.
type Options struct {
	// ControllerManager also runs a kube-controller-manager per cluster with
	// the controllers a registration and a fleet need: serviceaccount,
	// serviceaccount-token (fills kubernetes.io/service-account-token
	// Secrets), namespace (finishes namespace deletion) and
	// garbagecollector. Without it a cluster is a bare apiserver.
	ControllerManager bool
	// StartTimeout bounds the whole start; 0 means DefaultStartTimeout.
	StartTimeout time.Duration
}

// Env is a set of control planes sharing one etcd (each apiserver stores
// under --etcd-prefix=/<name>, so their data stays separate).
type Env struct {
	Dir     string // everything lives here (a t.TempDir())
	EtcdURL string

	t        testing.TB
	mu       sync.Mutex
	etcd     *process
	clusters []*envCluster
}

type envCluster struct {
	name      string
	port      int
	dir       string
	pki       *controlplane.PKI
	cluster   *kube.Cluster
	apiserver *process
	kcm       *process
}

// Start starts etcd and one kube-apiserver and returns the cluster's clients.
// Everything is stopped when the test ends.
func Start(ctx context.Context, t testing.TB, name string) *kube.Cluster {
	t.Helper()
	return New(ctx, t, Options{}, name).Cluster(name)
}

// StartShared starts one etcd and a kube-apiserver per name on it, and
// returns the clusters in the order of names.
func StartShared(ctx context.Context, t testing.TB, names ...string) []*kube.Cluster {
	t.Helper()
	return New(ctx, t, Options{}, names...).Clusters()
}

// validName accepts names usable as an etcd prefix and a directory name.
func validName(n string) bool {
	if n == "" || n == "." || n == ".." {
		return false
	}
	for _, r := range n {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '.' || r == '_') {
			return false
		}
	}
	return true
}

// New starts one etcd and a control plane per name (in parallel), waits until
// every apiserver's /readyz answers ok (and, with Options.ControllerManager,
// until the controller manager works), and registers a cleanup that stops
// every process it started: SIGTERM, then SIGKILL after 10 s. Failures end
// the test with the end of the failing server's log. It skips the test (or
// fails it, under HUBCTL_REQUIRE_REAL_CLUSTERS=1) when the binaries are
// missing or the test does not run in an isolated network namespace.
func New(ctx context.Context, t testing.TB, opts Options, names ...string) *Env {
	t.Helper()
	if len(names) == 0 {
		t.Fatal("testenv: no cluster name")
	}
	seen := map[string]bool{}
	for _, n := range names {
		if !validName(n) || seen[n] {
			t.Fatalf("testenv: cluster name %q is empty, invalid (letters, digits, '-', '.', '_') or repeated", n)
		}
		seen[n] = true
	}
	bins := []string{"etcd", "kube-apiserver"}
	if opts.ControllerManager {
		bins = append(bins, "kube-controller-manager")
	}
	binDir := BinDir()
	for _, b := range bins {
		if fi, err := os.Stat(filepath.Join(binDir, b)); err != nil || fi.IsDir() {
			unavailable(t, "%s not found in %s (set $%s or build them: %s)", b, binDir, EnvBinDir, BuildCommand)
		}
	}
	if err := CheckIsolated(); err != nil {
		unavailable(t, "%v", err)
	}

	timeout := opts.StartTimeout
	if timeout == 0 {
		timeout = DefaultStartTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	e := &Env{Dir: t.TempDir(), t: t}
	t.Cleanup(e.stopAll)

	if err := e.startEtcd(ctx, binDir); err != nil {
		t.Fatalf("testenv: %v", err)
	}
	errs := make([]error, len(names))
	var wg sync.WaitGroup
	for i, name := range names {
		ec := &envCluster{name: name, dir: filepath.Join(e.Dir, name)}
		e.clusters = append(e.clusters, ec)
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = e.startCluster(ctx, binDir, ec, opts)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatalf("testenv: %v", err)
	}
	return e
}

// unavailable skips the test, or fails it under HUBCTL_REQUIRE_REAL_CLUSTERS=1.
func unavailable(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := "testenv: " + fmt.Sprintf(format, args...)
	if os.Getenv(EnvRequireRealK8s) == "1" {
		t.Fatal(msg + " ($" + EnvRequireRealK8s + "=1)")
	}
	t.Skip(msg)
}

// BinDir is where the binaries are looked up: $HUBCTL_BIN_DIR, else
// ${GITOPS_HUB_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/gitops-hub}/bin/current.
func BinDir() string {
	if d := os.Getenv(EnvBinDir); d != "" {
		return d
	}
	cache := os.Getenv(EnvCache)
	if cache == "" {
		base, err := os.UserCacheDir()
		if err != nil {
			base = filepath.Join(os.TempDir(), ".cache")
		}
		cache = filepath.Join(base, "gitops-hub")
	}
	return filepath.Join(cache, "bin", "current")
}

// CheckIsolated returns nil when the process runs in a network namespace
// whose only interface up is the loopback one, and lo is up (netns.Isolated,
// the check the local fleet makes). Otherwise the error says how to get there.
func CheckIsolated() error {
	if ok, why := netns.Isolated(); !ok {
		return fmt.Errorf("not an isolated network namespace: %s; %s", why, isolationHelp)
	}
	return nil
}

const isolationHelp = "kube-apiservers call webhooks at Service IPs (10.x) that must never leave the machine, so tests that start them run only in a loopback-only network namespace: build first (go test -c or go vet; the module proxy is unreachable inside), then run unshare -n sh -c 'ip link set lo up && <test binary or go test ...>'"

// Cluster returns the cluster called name, or nil.
func (e *Env) Cluster(name string) *kube.Cluster {
	if ec := e.find(name); ec != nil {
		return ec.cluster
	}
	return nil
}

// Clusters returns every cluster, in the order they were named.
func (e *Env) Clusters() []*kube.Cluster {
	out := make([]*kube.Cluster, len(e.clusters))
	for i, ec := range e.clusters {
		out[i] = ec.cluster
	}
	return out
}

// PKI returns the key material of the cluster called name, or nil.
func (e *Env) PKI(name string) *controlplane.PKI {
	if ec := e.find(name); ec != nil {
		return ec.pki
	}
	return nil
}

// Stop stops the control plane of the cluster called name now (its
// controller manager, then its apiserver), e.g. to test an unreachable
// cluster. Stopping twice is harmless; the rest of the Env keeps running.
func (e *Env) Stop(name string) error {
	ec := e.find(name)
	if ec == nil {
		return fmt.Errorf("testenv: no cluster %q", name)
	}
	e.stopCluster(ec)
	return nil
}

// Restart starts the control plane of the cluster called name again after
// Stop: the same port, key material and etcd data, so clients built before
// (Cluster(name) keeps returning the same one) work again once it is ready.
// It waits until /readyz answers ok, bounded by ctx and DefaultStartTimeout;
// a cluster that still runs is left as it is.
func (e *Env) Restart(ctx context.Context, name string) error {
	ec := e.find(name)
	if ec == nil {
		return fmt.Errorf("testenv: no cluster %q", name)
	}
	e.mu.Lock()
	api, kcm := ec.apiserver, ec.kcm
	e.mu.Unlock()
	if api != nil && !api.exited() {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, DefaultStartTimeout)
	defer cancel()
	binDir := BinDir()
	keep := ec.cluster
	err := e.startAPIServer(ctx, binDir, ec)
	ec.cluster = keep
	if err != nil {
		return fmt.Errorf("testenv: restarting %q: %w", name, err)
	}
	if kcm != nil {
		if err := e.startControllerManager(ctx, binDir, ec); err != nil {
			return fmt.Errorf("testenv: restarting %q: %w", name, err)
		}
	}
	return nil
}

func (e *Env) find(name string) *envCluster {
	for _, ec := range e.clusters {
		if ec.name == name {
			return ec
		}
	}
	return nil
}

func (e *Env) stopCluster(ec *envCluster) {
	e.mu.Lock()
	kcm, api := ec.kcm, ec.apiserver
	e.mu.Unlock()
	if kcm != nil {
		kcm.stop(stopGrace)
	}
	if api != nil {
		api.stop(stopGrace)
	}
}

// stopAll stops every process started here: control planes in parallel, then
// etcd. When the test failed, the end of each log is printed first.
func (e *Env) stopAll() {
	e.mu.Lock()
	var procs []*process
	for _, ec := range e.clusters {
		for _, p := range []*process{ec.kcm, ec.apiserver} {
			if p != nil {
				procs = append(procs, p)
			}
		}
	}
	etcd := e.etcd
	e.mu.Unlock()
	if e.t.Failed() {
		for _, p := range append(procs, etcd) {
			if p != nil {
				e.t.Logf("testenv: %s log (last lines):%s", p.name, p.tail(15))
			}
		}
	}
	var wg sync.WaitGroup
	for _, ec := range e.clusters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			e.stopCluster(ec)
		}()
	}
	wg.Wait()
	if etcd != nil {
		etcd.stop(stopGrace)
	}
}

// procs runs this Env's processes: PID files in Dir/pids, logs in Dir/logs.
func (e *Env) procs() supervisor.Processes {
	return supervisor.Processes{Dir: e.Dir, StopTimeout: stopGrace}
}

func (e *Env) startEtcd(ctx context.Context, binDir string) error {
	dir := filepath.Join(e.Dir, "etcd")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	for attempt := 1; ; attempt++ {
		ports, err := freePorts(2)
		if err != nil {
			return err
		}
		args := controlplane.EtcdArgs("testenv", filepath.Join(dir, "data-"+strconv.Itoa(attempt)), ports[0], ports[1])
		client := controlplane.EtcdURL(ports[0])
		p, err := startProcess(e.procs(), "etcd", filepath.Join(binDir, "etcd"), args)
		if err != nil {
			return err
		}
		e.mu.Lock()
		e.etcd = p
		e.mu.Unlock()
		err = waitHTTPHealthy(ctx, p, client+"/health")
		if err == nil {
			e.EtcdURL = client
			return nil
		}
		if p.exited() && p.bindRace() && attempt < startAttempts {
			continue
		}
		p.stop(stopGrace)
		return err
	}
}

// waitHTTPHealthy polls etcd's /health until it says {"health":"true"},
// failing as soon as p exits.
func waitHTTPHealthy(ctx context.Context, p *process, url string) error {
	hc := &http.Client{Timeout: 2 * time.Second}
	return p.procs.WaitRunning(ctx, p.id, "healthy at "+url, func(ctx context.Context) error {
		return kube.WaitFor(ctx, 100*time.Millisecond, func(ctx context.Context) (bool, error) {
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
			if err != nil {
				return false, err
			}
			resp, err := hc.Do(req)
			if err != nil {
				return false, nil
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
			return resp.StatusCode == http.StatusOK && strings.Contains(string(body), `"health":"true"`), nil
		})
	})
}

func (e *Env) startCluster(ctx context.Context, binDir string, ec *envCluster, opts Options) error {
	var err error
	if ec.pki, err = controlplane.NewPKI(filepath.Join(ec.dir, "pki"), ec.name); err != nil {
		return fmt.Errorf("cluster %q: PKI: %w", ec.name, err)
	}
	for attempt := 1; ; attempt++ {
		ports, err := freePorts(1)
		if err != nil {
			return err
		}
		ec.port = ports[0]
		err = e.startAPIServer(ctx, binDir, ec)
		if err == nil {
			break
		}
		if api := ec.apiserver; api != nil && api.exited() && api.bindRace() && attempt < startAttempts {
			continue
		}
		return err
	}
	if opts.ControllerManager {
		if err := e.startControllerManager(ctx, binDir, ec); err != nil {
			return err
		}
	}
	return nil
}

func (e *Env) startAPIServer(ctx context.Context, binDir string, ec *envCluster) error {
	api := controlplane.APIServer{Name: ec.name, EtcdURL: e.EtcdURL, Port: ec.port, CertDir: filepath.Join(ec.dir, "certs"), PKI: ec.pki}
	args := api.Args()
	proc, err := startProcess(e.procs(), "kube-apiserver "+ec.name, filepath.Join(binDir, "kube-apiserver"), args)
	if err != nil {
		return err
	}
	e.mu.Lock()
	ec.apiserver = proc
	e.mu.Unlock()

	kubeconfig := filepath.Join(ec.dir, "kubeconfig")
	if err := controlplane.WriteKubeconfig(kubeconfig, ec.name, api.Server(), ec.pki); err != nil {
		return fmt.Errorf("cluster %q: kubeconfig: %w", ec.name, err)
	}
	c, err := kube.Load(ec.name, kubeconfig)
	if err != nil {
		return err
	}
	if err := waitWhileRunning(ctx, proc, c.WaitReady); err != nil {
		return err
	}
	ec.cluster = c
	return nil
}

// waitWhileRunning runs wait, cancelling it as soon as proc exits.
func waitWhileRunning(ctx context.Context, proc *process, wait func(context.Context) error) error {
	return proc.procs.WaitRunning(ctx, proc.id, "ready", wait)
}

func (e *Env) startControllerManager(ctx context.Context, binDir string, ec *envCluster) error {
	kubeconfig := filepath.Join(ec.dir, "kubeconfig")
	args := []string{
		"--kubeconfig=" + kubeconfig,
		"--bind-address=127.0.0.1",
		"--secure-port=0", // no serving: nothing to bind, nothing to race for
		"--leader-elect=false",
		"--controllers=serviceaccount,serviceaccount-token,namespace,garbagecollector",
		"--service-account-private-key-file=" + ec.pki.SAKey,
		"--root-ca-file=" + ec.pki.CACert,
		"--use-service-account-credentials=false",
		"--cluster-name=" + ec.name,
		"--profiling=false",
	}
	proc, err := startProcess(e.procs(), "kube-controller-manager "+ec.name, filepath.Join(binDir, "kube-controller-manager"), args)
	if err != nil {
		return err
	}
	e.mu.Lock()
	ec.kcm = proc
	e.mu.Unlock()
	// The serviceaccount controller creates "default" in every namespace: once
	// it exists in kube-system, the controllers run.
	err = waitWhileRunning(ctx, proc, func(ctx context.Context) error {
		return kube.WaitFor(ctx, 200*time.Millisecond, func(ctx context.Context) (bool, error) {
			_, err := ec.cluster.Client.CoreV1().ServiceAccounts(metav1.NamespaceSystem).Get(ctx, "default", metav1.GetOptions{})
			return err == nil, nil
		})
	})
	if err != nil {
		return fmt.Errorf("cluster %q: kube-controller-manager not working: %w", ec.name, err)
	}
	return nil
}
