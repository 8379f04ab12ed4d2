package localfleet

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"sigs.k8s.io/yaml"

	"github.com/gitops-hub/gitops-hub/internal/supervisor"
	"github.com/gitops-hub/gitops-hub/pkg/fsutil"
	"github.com/gitops-hub/gitops-hub/pkg/kube"
)

// clusterBinaryNames are the binaries a kwokctl cluster needs in BinDir
// (kubectl may also come from PATH: kwokctl uses it to wait for readiness).
func clusterBinaryNames() []string {
	return []string{"kwokctl", "etcd", "etcdctl", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok"}
}

// kwokctlWait bounds kwokctl create's own wait for the cluster (--wait).
const kwokctlWait = 2 * time.Minute

// CreateCluster creates a kwokctl cluster (binary runtime, every binary from
// BinDir, everything bound to 127.0.0.1, fixed ports ClusterPortsAt(base),
// KWOK_WORKDIR <state>/kwok), waits until it is ready, adds the simulated
// nodes (kwokctl scale node --replicas Nodes) and writes its admin kubeconfig,
// certificates embedded, to <state>/<name>/kubeconfig. The cluster is
// recorded in fleet.json before kwokctl runs, so Down removes it even when
// the create fails half way; the error names kwokctl's log and the
// components' logs.
func (f *Fleet) CreateCluster(ctx context.Context, name string, base int) error {
	if err := validClusterName(name); err != nil {
		return err
	}
	ports := ClusterPortsAt(base)
	for _, lp := range ports.list() {
		if lp.port < minPort || lp.port > maxPort {
			return fmt.Errorf("cluster %s: port %d (%s): want %d to %d", name, lp.port, lp.label, minPort, maxPort)
		}
	}
	if err := f.checkNetwork(); err != nil {
		return fmt.Errorf("cluster %s: %w", name, err)
	}
	kubectl, err := f.clusterBinaries()
	if err != nil {
		return fmt.Errorf("cluster %s: %w", name, err)
	}
	if _, err := os.Stat(f.kwokClusterDir(name)); err == nil {
		return fmt.Errorf("cluster %s exists already (%s): delete it first", name, f.kwokClusterDir(name))
	}
	if err := checkPortsFree(ports.list(), "cluster "+name); err != nil {
		return err
	}
	if err := f.ensureStateDir(); err != nil {
		return err
	}
	dir := filepath.Join(f.StateDir, name)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	config, err := f.kwokctlConfig(ports, kubectl)
	if err != nil {
		return fmt.Errorf("cluster %s: kwokctl configuration: %w", name, err)
	}
	configPath := filepath.Join(dir, "kwokctl.yaml")
	if err := fsutil.WriteFileAtomic(configPath, config, 0o644); err != nil {
		return err
	}
	kubeconfig := f.Kubeconfig(name)
	err = f.updateState(func(s *State) {
		cs := ClusterState{
			Name: name, Ports: ports, Server: "https://127.0.0.1:" + strconv.Itoa(ports.APIServer),
			Kubeconfig: kubeconfig, ManagedBy: "kwokctl", KwokWorkdir: f.kwokWorkdir(),
		}
		if c := s.cluster(name); c != nil {
			*c = cs
		} else {
			s.Clusters = append(s.Clusters, cs)
		}
	})
	if err != nil {
		return fmt.Errorf("cluster %s: recording it in %s: %w", name, stateFile, err)
	}

	// --kubeconfig always: kwokctl's default is to edit ~/.kube/config.
	if err := f.kwokctl(ctx, name, "--config", configPath, "--name", name, "create", "cluster",
		"--kubeconfig", kubeconfig, "--wait", kwokctlWait.String()); err != nil {
		return fmt.Errorf("cluster %s: %w", name, err)
	}
	if err := f.kwokctl(ctx, name, "--name", name, "scale", "node", "--replicas", strconv.Itoa(f.nodes())); err != nil {
		return fmt.Errorf("cluster %s: %w", name, err)
	}
	if err := flattenKubeconfig(kubeconfig); err != nil {
		return fmt.Errorf("cluster %s: kubeconfig %s: %w", name, kubeconfig, err)
	}
	if err := waitAPIServer(ctx, kubeconfig, defaultReadyWithin); err != nil {
		return fmt.Errorf("cluster %s: %w (kube-apiserver log %s)", name, err, f.kwokComponentLog(name, "kube-apiserver"))
	}
	if err := waitNodesReady(ctx, kubeconfig, f.nodes(), defaultReadyWithin); err != nil {
		return fmt.Errorf("cluster %s: %w (kwok-controller log %s)", name, err, f.kwokComponentLog(name, "kwok-controller"))
	}
	return f.recordComponents(name, false)
}

// EnsureCluster makes a cluster of the fleet run: CreateCluster when it does
// not exist, StartCluster when it is stopped, otherwise it only waits until
// the cluster is ready. A cluster that exists with other ports is an error.
func (f *Fleet) EnsureCluster(ctx context.Context, name string, base int) error {
	if _, err := os.Stat(f.kwokClusterDir(name)); errors.Is(err, fs.ErrNotExist) {
		return f.CreateCluster(ctx, name, base)
	}
	s, err := f.state()
	if err != nil {
		return err
	}
	c := s.cluster(name)
	if c == nil {
		return fmt.Errorf("cluster %s: %s exists but %s does not record it: remove the fleet (hubctl down) first", name, f.kwokClusterDir(name), stateFile)
	}
	if c.Ports.APIServer != base {
		return fmt.Errorf("cluster %s exists with kube-apiserver port %d, want %d: remove the fleet (hubctl down) first", name, c.Ports.APIServer, base)
	}
	if !f.ClusterAlive(name) {
		fmt.Fprintf(f.out(), "   cluster %s exists but is stopped: starting it\n", name)
		return f.StartCluster(ctx, name)
	}
	fmt.Fprintf(f.out(), "   cluster %s runs already\n", name)
	if err := waitAPIServer(ctx, f.Kubeconfig(name), defaultReadyWithin); err != nil {
		return fmt.Errorf("cluster %s: %w (kube-apiserver log %s)", name, err, f.kwokComponentLog(name, "kube-apiserver"))
	}
	return f.recordComponents(name, false)
}

// StopCluster stops every process of a cluster (kwokctl stop cluster: etcd,
// kube-apiserver, kube-controller-manager, kube-scheduler, kwok-controller)
// and waits until they are gone; its data stays. Any component kwokctl left
// running is stopped by its PID.
func (f *Fleet) StopCluster(ctx context.Context, name string) error {
	if f.IsAPIServerOnly(name) {
		return f.stopAPIServerCluster(ctx, name)
	}
	if _, err := os.Stat(f.kwokClusterDir(name)); err != nil {
		return fmt.Errorf("stop cluster %s: no such cluster (%w)", name, err)
	}
	comps := f.kwokComponents(name)
	kerr := f.kwokctl(ctx, name, "--name", name, "stop", "cluster")
	var errs []error
	for _, c := range comps {
		if err := supervisor.Terminate(ctx, c, supervisor.DefaultStopTimeout); err != nil {
			errs = append(errs, fmt.Errorf("%s (pid %d, log %s): %w", c.Name, c.PID, c.Log, err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("stop cluster %s: %w (kwokctl: %v)", name, err, kerr)
	}
	if err := f.updateState(func(s *State) {
		if c := s.cluster(name); c != nil {
			c.Stopped = true
			c.Components = nil
		}
	}); err != nil {
		return err
	}
	if kerr != nil {
		// Every process is gone all the same; say what kwokctl said.
		return fmt.Errorf("stop cluster %s: processes stopped, but %w", name, kerr)
	}
	return nil
}

// StartCluster starts a stopped cluster again (kwokctl start cluster) and
// waits until its kube-apiserver is ready. Its ports, certificates and data
// are those it had.
func (f *Fleet) StartCluster(ctx context.Context, name string) error {
	if f.IsAPIServerOnly(name) {
		base, err := f.ClusterBase(name)
		if err != nil {
			return err
		}
		return f.EnsureAPIServerCluster(ctx, name, base)
	}
	if err := f.checkNetwork(); err != nil {
		return fmt.Errorf("start cluster %s: %w", name, err)
	}
	if _, err := os.Stat(f.kwokClusterDir(name)); err != nil {
		return fmt.Errorf("start cluster %s: no such cluster (%w)", name, err)
	}
	if _, err := f.clusterBinaries(); err != nil {
		return fmt.Errorf("start cluster %s: %w", name, err)
	}
	if live := f.kwokComponents(name); len(live) == 0 {
		s, err := f.state()
		if err == nil {
			if c := s.cluster(name); c != nil {
				if err := checkPortsFree(c.Ports.list(), "start cluster "+name); err != nil {
					return err
				}
			}
		}
	}
	if err := f.kwokctl(ctx, name, "--name", name, "start", "cluster"); err != nil {
		return fmt.Errorf("start cluster %s: %w", name, err)
	}
	if err := waitAPIServer(ctx, f.Kubeconfig(name), defaultReadyWithin); err != nil {
		return fmt.Errorf("start cluster %s: %w (kube-apiserver log %s)", name, err, f.kwokComponentLog(name, "kube-apiserver"))
	}
	return f.recordComponents(name, false)
}

// DeleteCluster deletes a cluster: kwokctl delete cluster (stops its
// processes and removes its data), then stops by PID any component still
// running and removes <state>/<name>. Deleting a cluster that does not exist
// is not an error.
func (f *Fleet) DeleteCluster(ctx context.Context, name string) error {
	var errs []error
	if _, err := f.procs().Record(APIServerProc(name)); err == nil {
		// An apiserver-only cluster.
		if err := f.procs().Stop(ctx, APIServerProc(name)); err != nil {
			return fmt.Errorf("delete cluster %s: %w", name, err)
		}
	}
	comps := f.kwokComponents(name)
	if _, err := os.Stat(f.kwokClusterDir(name)); err == nil {
		if _, err := os.Stat(f.Bin("kwokctl")); err != nil {
			fmt.Fprintf(f.out(), "   kwokctl not found in %s: stopping %s's components by PID\n", f.binDir(), name)
		} else if err := f.kwokctl(ctx, name, "--name", name, "delete", "cluster", "--kubeconfig", f.Kubeconfig(name)); err != nil {
			errs = append(errs, err)
		}
	}
	for _, c := range comps {
		if err := supervisor.Terminate(ctx, c, supervisor.DefaultStopTimeout); err != nil {
			errs = append(errs, fmt.Errorf("%s (pid %d, log %s): %w", c.Name, c.PID, c.Log, err))
		}
	}
	for _, c := range comps {
		if c.Alive() {
			return fmt.Errorf("delete cluster %s: %w", name, errors.Join(errs...))
		}
	}
	// kwokctl removes its folder; after a failed kwokctl, nothing runs any more.
	if err := os.RemoveAll(f.kwokClusterDir(name)); err != nil {
		errs = append(errs, err)
	}
	if err := os.RemoveAll(filepath.Join(f.StateDir, name)); err != nil {
		errs = append(errs, err)
	}
	if _, err := os.Stat(filepath.Join(f.StateDir, stateFile)); err == nil {
		if err := f.updateState(func(s *State) {
			out := s.Clusters[:0]
			for _, c := range s.Clusters {
				if c.Name != name {
					out = append(out, c)
				}
			}
			s.Clusters = out
		}); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("delete cluster %s: %w", name, err)
	}
	return nil
}

// ClusterAlive reports whether a cluster's kube-apiserver process runs.
func (f *Fleet) ClusterAlive(name string) bool {
	if f.IsAPIServerOnly(name) {
		return f.procs().Alive(APIServerProc(name))
	}
	for _, c := range f.kwokComponents(name) {
		if c.Name == name+"/kube-apiserver" {
			return true
		}
	}
	return false
}

func (f *Fleet) kwokClusterDir(name string) string {
	return filepath.Join(f.kwokWorkdir(), "clusters", name)
}

func (f *Fleet) kwokComponentLog(cluster, component string) string {
	return filepath.Join(f.kwokClusterDir(cluster), "logs", component+".log")
}

// clusterBinaries checks the binaries of a cluster and returns kubectl's path.
func (f *Fleet) clusterBinaries() (string, error) {
	var missing []string
	for _, b := range clusterBinaryNames() {
		if !isExecutable(f.Bin(b)) {
			missing = append(missing, b)
		}
	}
	kubectl := f.Bin("kubectl")
	if !isExecutable(kubectl) {
		var err error
		if kubectl, err = exec.LookPath("kubectl"); err != nil {
			missing = append(missing, "kubectl (in the binary directory or on PATH; kwokctl waits for readiness with it)")
		}
	}
	if len(missing) > 0 {
		return "", fmt.Errorf("missing in %s: %s (build them with hack/tools/build.sh, or set $%s)", f.binDir(), strings.Join(missing, ", "), EnvBinDir)
	}
	return kubectl, nil
}

func isExecutable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0
}

// kwokctlConfiguration is the part of kwokctl's KwokctlConfiguration written here.
type kwokctlConfiguration struct {
	Kind              string               `json:"kind"`
	APIVersion        string               `json:"apiVersion"`
	Options           map[string]any       `json:"options"`
	ComponentsPatches []kwokctlCompPatches `json:"componentsPatches"`
}

type kwokctlCompPatches struct {
	Name      string         `json:"name"`
	ExtraArgs []kwokctlExtra `json:"extraArgs"`
}

type kwokctlExtra struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// kwokctlConfig is the configuration of one cluster. bindAddress can only be
// set here (kwokctl's default is 0.0.0.0). Binaries given as local paths
// make kwokctl link them instead of downloading. kube-apiserver gets
// --advertise-address=127.0.0.1 (in a namespace without a default route it
// cannot pick one and exits) and --endpoint-reconciler-type=none (loopback
// IPs are invalid in Endpoints).
func (f *Fleet) kwokctlConfig(p ClusterPorts, kubectl string) ([]byte, error) {
	c := kwokctlConfiguration{
		Kind:       "KwokctlConfiguration",
		APIVersion: "config.kwok.x-k8s.io/v1alpha1",
		Options: map[string]any{
			"runtime":                     "binary",
			"bindAddress":                 "127.0.0.1",
			"etcdBinary":                  f.Bin("etcd"),
			"etcdctlBinary":               f.Bin("etcdctl"),
			"kubeApiserverBinary":         f.Bin("kube-apiserver"),
			"kubeControllerManagerBinary": f.Bin("kube-controller-manager"),
			"kubeSchedulerBinary":         f.Bin("kube-scheduler"),
			"kwokControllerBinary":        f.Bin("kwok"),
			"kubectlBinary":               kubectl,
			"kubeApiserverPort":           p.APIServer,
			"etcdPort":                    p.Etcd,
			"etcdPeerPort":                p.EtcdPeer,
			"kubeControllerManagerPort":   p.ControllerManager,
			"kubeSchedulerPort":           p.Scheduler,
			"kwokControllerPort":          p.Kwok,
			"quietPull":                   true,
		},
		ComponentsPatches: []kwokctlCompPatches{{
			Name: "kube-apiserver",
			ExtraArgs: []kwokctlExtra{
				{Key: "advertise-address", Value: "127.0.0.1"},
				{Key: "endpoint-reconciler-type", Value: "none"},
			},
		}},
	}
	return yaml.Marshal(c)
}

// kwokctl runs kwokctl with KWOK_WORKDIR=<state>/kwok and without the
// caller's KWOK_* variables and KUBECONFIG, its output appended to
// logs/kwokctl-<cluster>.log. Nothing it runs writes under ~/.kube.
func (f *Fleet) kwokctl(ctx context.Context, cluster string, args ...string) error {
	logPath := f.LogPath("kwokctl-" + cluster)
	if err := os.MkdirAll(filepath.Dir(logPath), 0o755); err != nil {
		return err
	}
	logFile, err := os.OpenFile(logPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer logFile.Close()
	bin := f.Bin("kwokctl")
	fmt.Fprintf(logFile, "--- %s hubctl: %s\n", time.Now().UTC().Format(time.RFC3339), supervisor.ShellJoin(append([]string{bin}, args...)))
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(filterEnv(os.Environ(), func(k string) bool {
		return strings.HasPrefix(k, "KWOK_") || k == "KUBECONFIG"
	}), "KWOK_WORKDIR="+f.kwokWorkdir(),
		// kubectl, which kwokctl runs to wait for readiness, caches discovery
		// under ~/.kube/cache otherwise.
		"KUBECACHEDIR="+filepath.Join(f.kwokWorkdir(), "kube-cache"))
	cmd.Dir = f.StateDir
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Run(); err != nil {
		what := "kwokctl " + strings.Join(kwokctlVerb(args), " ")
		return fmt.Errorf("%s: %w; log %s, component logs in %s%s", what, err, logPath,
			filepath.Join(f.kwokClusterDir(cluster), "logs"), supervisor.Tail(logPath, 3))
	}
	return nil
}

// kwokctlVerb is the command of a kwokctl argument list, without flags and their values.
func kwokctlVerb(args []string) []string {
	var out []string
	for i := 0; i < len(args); i++ {
		if strings.HasPrefix(args[i], "-") {
			if !strings.Contains(args[i], "=") && i+1 < len(args) {
				i++
			}
			continue
		}
		out = append(out, args[i])
	}
	return out
}

// kwokComponents returns the live processes of a kwokctl cluster, from
// KWOK_WORKDIR/clusters/<name>/pids. A PID file whose process is not that
// cluster's component (gone, or the PID was reused: its command line does
// not name the cluster's folder) is removed, because kwokctl SIGKILLs the
// PID of every PID file when it stops a cluster, and does not start a
// component whose PID file names a live process.
func (f *Fleet) kwokComponents(name string) []supervisor.Record {
	dir := f.kwokClusterDir(name)
	entries, err := os.ReadDir(filepath.Join(dir, "pids"))
	if err != nil {
		return nil
	}
	boot := supervisor.BootID()
	var out []supervisor.Record
	for _, e := range entries {
		comp, ok := strings.CutSuffix(e.Name(), ".pid")
		if !ok {
			continue
		}
		path := filepath.Join(dir, "pids", e.Name())
		b, err := os.ReadFile(path)
		if err != nil {
			continue
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
		if err != nil || pid <= 1 {
			os.Remove(path)
			continue
		}
		st, err1 := supervisor.ReadStat(pid)
		cmd, err2 := supervisor.Cmdline(pid)
		if err1 != nil || err2 != nil || st.Zombie() || !strings.Contains(cmd, dir+string(filepath.Separator)) {
			os.Remove(path)
			continue
		}
		out = append(out, supervisor.Record{
			Name: name + "/" + comp, PID: pid, StartTime: st.StartTime, BootID: boot,
			Log: filepath.Join(dir, "logs", comp+".log"), Command: strings.Fields(cmd),
		})
	}
	return out
}

func (f *Fleet) recordComponents(name string, stopped bool) error {
	comps := f.kwokComponents(name)
	return f.updateState(func(s *State) {
		if c := s.cluster(name); c != nil {
			c.Components = comps
			c.Stopped = stopped
		}
	})
}

// flattenKubeconfig embeds the certificate files a kubeconfig refers to
// (kwokctl writes paths into KWOK_WORKDIR), so the file stands alone.
func flattenKubeconfig(path string) error {
	cfg, err := clientcmd.LoadFromFile(path)
	if err != nil {
		return err
	}
	if err := clientcmdapi.FlattenConfig(cfg); err != nil {
		return err
	}
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		return err
	}
	return os.Chmod(path, 0o600)
}

// apiClient returns the server URL and an HTTP client with the credentials
// of a kubeconfig's current context.
func apiClient(kubeconfig string) (string, *http.Client, error) {
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return "", nil, fmt.Errorf("kubeconfig %s: %w", kubeconfig, err)
	}
	hc, err := rest.HTTPClientFor(cfg)
	if err != nil {
		return "", nil, fmt.Errorf("kubeconfig %s: %w", kubeconfig, err)
	}
	hc.Timeout = 5 * time.Second
	return strings.TrimSuffix(cfg.Host, "/"), hc, nil
}

// waitNodesReady polls until at least n nodes are Ready (kwok marks the
// nodes kwokctl scale made Ready within a second or so).
func waitNodesReady(ctx context.Context, kubeconfig string, n int, timeout time.Duration) error {
	host, hc, err := apiClient(kubeconfig)
	if err != nil {
		return err
	}
	ready := 0
	err = poll(ctx, timeout, 200*time.Millisecond, func(ctx context.Context) (bool, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, host+"/api/v1/nodes", nil)
		if err != nil {
			return false, err
		}
		resp, err := hc.Do(req)
		if err != nil {
			return false, nil
		}
		defer resp.Body.Close()
		var nodes corev1.NodeList
		if resp.StatusCode != http.StatusOK || json.NewDecoder(resp.Body).Decode(&nodes) != nil {
			return false, nil
		}
		ready = 0
		for _, node := range nodes.Items {
			for _, c := range node.Status.Conditions {
				if c.Type == corev1.NodeReady && c.Status == corev1.ConditionTrue {
					ready++
				}
			}
		}
		return ready >= n, nil
	})
	if err != nil {
		return fmt.Errorf("%d of %d nodes Ready: %w", ready, n, err)
	}
	return nil
}

// waitAPIServer polls the kube-apiserver of a kubeconfig (its current
// context) until /readyz answers 200, for up to timeout.
func waitAPIServer(ctx context.Context, kubeconfig string, timeout time.Duration) error {
	ready, err := apiServerReady(kubeconfig)
	if err != nil {
		return err
	}
	var last string
	err = poll(ctx, timeout, 200*time.Millisecond, func(ctx context.Context) (bool, error) {
		ok, why := ready(ctx)
		last = why
		return ok, nil
	})
	if err != nil {
		return fmt.Errorf("kube-apiserver not ready: %w (last: %s)", err, last)
	}
	return nil
}

// apiServerReady returns a probe of the kube-apiserver of a kubeconfig:
// one GET of /readyz, true on 200, else what it got.
func apiServerReady(kubeconfig string) (func(ctx context.Context) (bool, string), error) {
	host, hc, err := apiClient(kubeconfig)
	if err != nil {
		return nil, err
	}
	url := host + "/readyz"
	return func(ctx context.Context) (bool, string) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return false, err.Error()
		}
		resp, err := hc.Do(req)
		if err != nil {
			return false, err.Error()
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK, url + ": " + resp.Status
	}, nil
}

// poll calls cond every interval (the first time at once) until it returns
// true or an error, ctx ends, or timeout passes.
func poll(ctx context.Context, timeout, interval time.Duration, cond func(ctx context.Context) (bool, error)) error {
	tctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	err := kube.WaitFor(tctx, interval, cond)
	if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
		return fmt.Errorf("timed out after %s", timeout)
	}
	return err
}

// filterEnv returns env without the variables drop says yes to.
func filterEnv(env []string, drop func(key string) bool) []string {
	out := make([]string, 0, len(env))
	for _, kv := range env {
		k, _, _ := strings.Cut(kv, "=")
		if !drop(k) {
			out = append(out, kv)
		}
	}
	return out
}

// kwokClusters lists the clusters in KWOK_WORKDIR.
func (f *Fleet) kwokClusters() []string {
	entries, err := os.ReadDir(filepath.Join(f.kwokWorkdir(), "clusters"))
	if errors.Is(err, fs.ErrNotExist) || err != nil {
		return nil
	}
	var out []string
	for _, e := range entries {
		if e.IsDir() {
			out = append(out, e.Name())
		}
	}
	return out
}
