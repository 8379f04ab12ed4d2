package localfleet

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"time"

	"github.com/gitops-hub/gitops-hub/internal/supervisor"
	"github.com/gitops-hub/gitops-hub/pkg/fsutil"
)

// Environment variables read by this package.
const (
	EnvStateDir = "HUBCTL_STATE_DIR" // state directory of the fleet (DefaultStateDir)
	EnvBinDir   = "HUBCTL_BIN_DIR"   // directory of the binaries (DefaultBinDir)
	EnvCache    = "GITOPS_HUB_CACHE" // hack/tools/build.sh's cache root
)

// Names of the repository the git daemon serves and of its branch: the fleet
// reads this repository at GitURL(), revision Branch.
const (
	RepoName = "gitops-hub.git"
	Branch   = "main"
)

// Names of the processes started here (their pids/<name>.pid and logs/<name>.log).
const (
	ProcRedis          = "redis"
	ProcGitDaemon      = "git-daemon"
	ProcChartServer    = "chart-server"
	ProcRepoServer     = "argocd-repo-server"
	ProcController     = "argocd-application-controller"
	ProcAppSet         = "argocd-applicationset-controller"
	ProcServer         = "argocd-server"
	ProcNetnsHolder    = "netns"
	markerFile         = ".gitops-hub-fleet"
	stateFile          = "fleet.json"
	stateVersion       = 1
	defaultNodes       = 2
	maxPort            = 32767 // the ephemeral range starts at 32768: ports there may be taken at any time
	minPort            = 1024
	defaultReadyWithin = 2 * time.Minute
)

// Fleet is a local fleet: a hub and hosting clusters plus the hub's services,
// described by where they live and on which ports. The zero values of
// BinDir, Ports and Nodes mean their defaults; StateDir must be set
// (NewFleet sets it). A Fleet is not safe for concurrent use.
type Fleet struct {
	// StateDir holds everything of the fleet (see the package documentation).
	StateDir string
	// BinDir holds etcd, etcdctl, kube-apiserver, kube-controller-manager,
	// kube-scheduler, kwok, kwokctl, helm, argocd, git-verify-wrapper.sh and
	// gpg-wrapper.sh; "" means DefaultBinDir().
	BinDir string
	// Hub is the hub cluster's name.
	Hub string
	// Hosting are the hosting clusters' names, in port order.
	Hosting []string
	// APIServerOnly names the hosting clusters that are a bare kube-apiserver
	// on the shared etcd instead of a kwok cluster (see EnsureAPIServerCluster).
	APIServerOnly []string
	// Ports are the fixed loopback ports; the zero value means DefaultPorts().
	Ports Ports
	// Nodes is the number of simulated nodes per cluster; 0 means 2.
	Nodes int
	// AllowHostNetwork lets the fleet start outside an isolated network
	// namespace (see Isolated). Not recommended: kube-apiservers call
	// webhooks at Service IPs that would leave the machine.
	AllowHostNetwork bool
	// Out receives progress lines; nil discards them.
	Out io.Writer
}

// Ports are the fleet's fixed ports on 127.0.0.1, all in [1024, 32767]:
// automatic ports race when clusters start in parallel, and the ephemeral
// range (32768 and up) can be taken by any outgoing connection.
type Ports struct {
	// ClusterBase is the hub's kube-apiserver port; cluster i (hub 0, then
	// Hosting in order) uses ClusterBase + i*ClusterStride and the 5 ports
	// after it (ClusterPorts).
	ClusterBase   int `json:"clusterBase"`
	ClusterStride int `json:"clusterStride"`
	// Clusters overrides the base port of named clusters (e.g. to match the
	// server URL of a cluster Secret in clusters/<name>/cluster.yaml).
	Clusters map[string]int `json:"clusters,omitempty"`

	Redis  int `json:"redis"`
	Git    int `json:"git"`
	Charts int `json:"charts"`
	// SharedEtcd is the client port of the etcd of the apiserver-only
	// clusters; its peer port is the next one.
	SharedEtcd int `json:"sharedEtcd,omitempty"`

	RepoServer        int `json:"repoServer"`
	RepoServerMetrics int `json:"repoServerMetrics"`
	// ControllerMetrics is the application-controller's metrics and /healthz
	// port. Argo CD binds it on every address (no flag changes that).
	ControllerMetrics int `json:"controllerMetrics"`
	// CommitServer is only passed to the application-controller
	// (--commit-server); nothing listens there unless the hydrator is used.
	CommitServer  int `json:"commitServer"`
	AppSetMetrics int `json:"appSetMetrics"`
	AppSetProbe   int `json:"appSetProbe"`
	AppSetWebhook int `json:"appSetWebhook"`
	Server        int `json:"server"`
	ServerMetrics int `json:"serverMetrics"`
}

// DefaultPorts are the ports the repository's local cluster Secrets and
// AppProjects name: git://127.0.0.1:19418/gitops-hub.git,
// http://127.0.0.1:18879, and hosting clusters at 16460, 16480, ... (hub 16440).
func DefaultPorts() Ports {
	return Ports{
		ClusterBase:       16440,
		ClusterStride:     20,
		Redis:             16379,
		Git:               19418,
		Charts:            18879,
		SharedEtcd:        16430,
		RepoServer:        18081,
		RepoServerMetrics: 18084,
		ControllerMetrics: 18082,
		CommitServer:      18086,
		AppSetMetrics:     18090,
		AppSetProbe:       18091,
		AppSetWebhook:     18092,
		Server:            18080,
		ServerMetrics:     18083,
	}
}

// ClusterPorts are the ports of one kwokctl cluster.
type ClusterPorts struct {
	APIServer         int `json:"apiServer"`
	Etcd              int `json:"etcd"`
	EtcdPeer          int `json:"etcdPeer"`
	ControllerManager int `json:"controllerManager"`
	Scheduler         int `json:"scheduler"`
	Kwok              int `json:"kwok"`
}

// ClusterPortsAt returns the ports of a cluster whose kube-apiserver listens
// on base: base, then etcd, etcd peer, kube-controller-manager,
// kube-scheduler and kwok-controller on base+1 to base+5.
func ClusterPortsAt(base int) ClusterPorts {
	return ClusterPorts{APIServer: base, Etcd: base + 1, EtcdPeer: base + 2, ControllerManager: base + 3, Scheduler: base + 4, Kwok: base + 5}
}

func (c ClusterPorts) list() []labeledPort {
	return []labeledPort{
		{c.APIServer, "kube-apiserver"}, {c.Etcd, "etcd"}, {c.EtcdPeer, "etcd peer"},
		{c.ControllerManager, "kube-controller-manager"}, {c.Scheduler, "kube-scheduler"}, {c.Kwok, "kwok-controller"},
	}
}

type labeledPort struct {
	port  int
	label string
}

// State is fleet.json: what was started and on which ports. Down reads it;
// `hubctl status` and tests can too (LoadState).
type State struct {
	Version  int      `json:"version"`
	StateDir string   `json:"stateDir"`
	BinDir   string   `json:"binDir"`
	Hub      string   `json:"hub"`
	Hosting  []string `json:"hosting"`
	// APIServerOnly are the apiserver-only hosting clusters.
	APIServerOnly []string `json:"apiServerOnly,omitempty"`
	Ports         Ports    `json:"ports"`
	// GitURL and ChartURL are where Argo CD reads the repository and the charts.
	GitURL   string `json:"gitURL"`
	ChartURL string `json:"chartURL"`
	// Clusters in creation order.
	Clusters []ClusterState `json:"clusters,omitempty"`
	// Processes started by the process manager, latest record per name.
	Processes []supervisor.Record `json:"processes,omitempty"`
	// NetnsID is the network namespace the fleet was made in, isolated or
	// not (readlink /proc/self/ns/net): everything is started there.
	NetnsID string `json:"netnsID,omitempty"`
	// Netns is the network namespace the fleet runs in, when isolated.
	Netns   *Netns    `json:"netns,omitempty"`
	Created time.Time `json:"created"`
}

// ClusterState is one cluster of fleet.json.
type ClusterState struct {
	Name       string       `json:"name"`
	Ports      ClusterPorts `json:"ports"`
	Server     string       `json:"server"`
	Kubeconfig string       `json:"kubeconfig"`
	// ManagedBy is "kwokctl": kwokctl starts, stops and deletes the
	// cluster's processes (their PIDs under KwokWorkdir/clusters/<name>/pids).
	ManagedBy   string `json:"managedBy"`
	KwokWorkdir string `json:"kwokWorkdir"`
	// Components are the cluster's processes as last seen (PID and start time).
	Components []supervisor.Record `json:"components,omitempty"`
	// Stopped is true between StopCluster and StartCluster.
	Stopped bool `json:"stopped,omitempty"`
}

// Netns describes the network namespace a fleet runs in.
type Netns struct {
	// ID is the namespace's identity, readlink /proc/self/ns/net ("net:[4026532281]").
	ID string `json:"id"`
	// HolderPID is the PID of process "netns", which keeps the namespace
	// alive until Down.
	HolderPID int `json:"holderPID"`
	// UserNS is true when the namespace was made with a user namespace
	// (unshare -rn): entering it takes the user namespace too.
	UserNS bool `json:"userNS,omitempty"`
	// Enter is the command prefix that runs a command inside the namespace.
	Enter string `json:"enter"`
}

// NewFleet returns a fleet with the default state and binary directories
// and ports.
func NewFleet(hub string, hosting ...string) (*Fleet, error) {
	state, err := DefaultStateDir()
	if err != nil {
		return nil, err
	}
	bin, err := DefaultBinDir()
	if err != nil {
		return nil, err
	}
	return &Fleet{StateDir: state, BinDir: bin, Hub: hub, Hosting: hosting, Ports: DefaultPorts(), Nodes: defaultNodes}, nil
}

// DefaultStateDir is ${HUBCTL_STATE_DIR:-${XDG_STATE_HOME:-$HOME/.local/state}/gitops-hub/fleet}.
func DefaultStateDir() (string, error) {
	if d := os.Getenv(EnvStateDir); d != "" {
		return filepath.Abs(d)
	}
	base := os.Getenv("XDG_STATE_HOME")
	if base == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("state directory: set $%s or $HOME: %w", EnvStateDir, err)
		}
		base = filepath.Join(home, ".local", "state")
	}
	return filepath.Join(base, "gitops-hub", "fleet"), nil
}

// DefaultBinDir is $HUBCTL_BIN_DIR, else
// ${GITOPS_HUB_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/gitops-hub}/bin/current,
// what `hack/tools/build.sh --print-dir` prints.
func DefaultBinDir() (string, error) {
	if d := os.Getenv(EnvBinDir); d != "" {
		return filepath.Abs(d)
	}
	cache := os.Getenv(EnvCache)
	if cache == "" {
		base := os.Getenv("XDG_CACHE_HOME")
		if base == "" {
			home, err := os.UserHomeDir()
			if err != nil {
				return "", fmt.Errorf("binary directory: set $%s or $HOME: %w", EnvBinDir, err)
			}
			base = filepath.Join(home, ".cache")
		}
		cache = filepath.Join(base, "gitops-hub")
	}
	return filepath.Join(cache, "bin", "current"), nil
}

// Paths of the fleet.

func (f *Fleet) binDir() string {
	if f.BinDir != "" {
		return f.BinDir
	}
	d, err := DefaultBinDir()
	if err != nil {
		return ""
	}
	return d
}

func (f *Fleet) ports() Ports {
	if f.Ports.ClusterBase == 0 && f.Ports.Redis == 0 && f.Ports.Git == 0 {
		p := DefaultPorts()
		p.Clusters = f.Ports.Clusters
		return p
	}
	return f.Ports
}

func (f *Fleet) nodes() int {
	if f.Nodes > 0 {
		return f.Nodes
	}
	return defaultNodes
}

func (f *Fleet) out() io.Writer {
	if f.Out == nil {
		return io.Discard
	}
	return f.Out
}

// Bin returns the path of a binary in BinDir.
func (f *Fleet) Bin(name string) string { return filepath.Join(f.binDir(), name) }

// Kubeconfig returns the path of a cluster's admin kubeconfig.
func (f *Fleet) Kubeconfig(cluster string) string {
	return filepath.Join(f.StateDir, cluster, "kubeconfig")
}

// LogPath returns the log file of a process started here.
func (f *Fleet) LogPath(process string) string { return f.procs().LogPath(process) }

// RepoPath is the bare repository the git daemon serves.
func (f *Fleet) RepoPath() string { return filepath.Join(f.StateDir, "git", RepoName) }

// GitURL is where Argo CD reads the repository: git://127.0.0.1:<git>/gitops-hub.git.
func (f *Fleet) GitURL() string {
	return "git://127.0.0.1:" + strconv.Itoa(f.ports().Git) + "/" + RepoName
}

// ChartURL is the chart server's URL, a Helm repository.
func (f *Fleet) ChartURL() string { return "http://127.0.0.1:" + strconv.Itoa(f.ports().Charts) }

// RedisAddr is redis's host:port.
func (f *Fleet) RedisAddr() string { return "127.0.0.1:" + strconv.Itoa(f.ports().Redis) }

// RepoServerAddr is the Argo CD repo-server's host:port.
func (f *Fleet) RepoServerAddr() string { return "127.0.0.1:" + strconv.Itoa(f.ports().RepoServer) }

// Server returns a cluster's kube-apiserver URL.
func (f *Fleet) Server(cluster string) (string, error) {
	base, err := f.ClusterBase(cluster)
	if err != nil {
		return "", err
	}
	return "https://127.0.0.1:" + strconv.Itoa(base), nil
}

func (f *Fleet) kwokWorkdir() string { return filepath.Join(f.StateDir, "kwok") }

func (f *Fleet) procs() supervisor.Processes { return supervisor.Processes{Dir: f.StateDir} }

// Clusters returns the hub, then the hosting clusters.
func (f *Fleet) Clusters() []string {
	out := make([]string, 0, 1+len(f.Hosting))
	if f.Hub != "" {
		out = append(out, f.Hub)
	}
	return append(out, f.Hosting...)
}

// ClusterBase returns the kube-apiserver port of a cluster of the fleet:
// Ports.Clusters[name] when set, else ClusterBase + i*ClusterStride with i its
// index in Clusters().
func (f *Fleet) ClusterBase(name string) (int, error) {
	p := f.ports()
	if b, ok := p.Clusters[name]; ok {
		return b, nil
	}
	i := slices.Index(f.Clusters(), name)
	if i < 0 {
		return 0, fmt.Errorf("cluster %q is not part of the fleet (hub %q, hosting %v)", name, f.Hub, f.Hosting)
	}
	stride := p.ClusterStride
	if stride == 0 {
		stride = DefaultPorts().ClusterStride
	}
	return p.ClusterBase + i*stride, nil
}

var clusterNameRE = regexp.MustCompile(`^[A-Za-z0-9]([-A-Za-z0-9.]*[A-Za-z0-9])?$`)

func validClusterName(name string) error {
	// The state directory's own entries: no cluster may be called so.
	reservedNames := []string{"logs", "pids", "kwok", "git", "redis", "argocd", "tmp"}
	if !clusterNameRE.MatchString(name) || len(name) > 63 {
		return fmt.Errorf("cluster name %q: want letters, digits, '-' and '.', at most 63 characters", name)
	}
	if slices.Contains(reservedNames, name) {
		return fmt.Errorf("cluster name %q is reserved (a folder of the state directory)", name)
	}
	return nil
}

// Validate checks the fleet's description: the state directory, cluster
// names (unique), and that every port is in [1024, 32767] and used once.
func (f *Fleet) Validate() error {
	if f.StateDir == "" || !filepath.IsAbs(f.StateDir) {
		return fmt.Errorf("state directory %q: want an absolute path", f.StateDir)
	}
	if f.Hub == "" {
		return errors.New("no hub cluster name")
	}
	seen := map[string]bool{}
	for _, c := range f.Clusters() {
		if err := validClusterName(c); err != nil {
			return err
		}
		if seen[c] {
			return fmt.Errorf("cluster %q is named twice", c)
		}
		seen[c] = true
	}
	_, err := f.allPorts()
	return err
}

// allPorts lists every port of the fleet with what it is for, checking range
// and uniqueness.
func (f *Fleet) allPorts() ([]labeledPort, error) {
	p := f.ports()
	list := []labeledPort{
		{p.Redis, "redis"}, {p.Git, "git daemon"}, {p.Charts, "chart server"},
		{p.RepoServer, "argocd-repo-server"}, {p.RepoServerMetrics, "argocd-repo-server metrics"},
		{p.ControllerMetrics, "argocd-application-controller metrics"}, {p.CommitServer, "argocd commit server"},
		{p.AppSetMetrics, "argocd-applicationset-controller metrics"}, {p.AppSetProbe, "argocd-applicationset-controller probe"},
		{p.AppSetWebhook, "argocd-applicationset-controller webhook"},
		{p.Server, "argocd-server"}, {p.ServerMetrics, "argocd-server metrics"},
	}
	if len(f.APIServerOnly) > 0 {
		client, peer := f.sharedEtcdPorts()
		list = append(list, labeledPort{client, "shared etcd"}, labeledPort{peer, "shared etcd peer"})
	}
	for _, c := range f.Clusters() {
		base, err := f.ClusterBase(c)
		if err != nil {
			return nil, err
		}
		if f.IsAPIServerOnly(c) {
			list = append(list, labeledPort{base, c + " kube-apiserver"})
			continue
		}
		for _, lp := range ClusterPortsAt(base).list() {
			list = append(list, labeledPort{lp.port, c + " " + lp.label})
		}
	}
	used := map[int]string{}
	for _, lp := range list {
		if lp.port < minPort || lp.port > maxPort {
			return nil, fmt.Errorf("port %d (%s): want %d to %d (32768 and up is the ephemeral range)", lp.port, lp.label, minPort, maxPort)
		}
		if other, ok := used[lp.port]; ok {
			return nil, fmt.Errorf("port %d is given to both %s and %s", lp.port, other, lp.label)
		}
		used[lp.port] = lp.label
	}
	return list, nil
}

// CheckPorts fails when a port of the fleet is already taken on 127.0.0.1,
// naming every such port and what it was meant for.
func (f *Fleet) CheckPorts() error {
	list, err := f.allPorts()
	if err != nil {
		return err
	}
	var errs []error
	for _, lp := range list {
		if err := portFree(lp.port); err != nil {
			errs = append(errs, fmt.Errorf("port %d (%s) is in use: %w", lp.port, lp.label, err))
		}
	}
	return errors.Join(errs...)
}

func portFree(port int) error {
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		return err
	}
	return ln.Close()
}

func checkPortsFree(ports []labeledPort, who string) error {
	var errs []error
	for _, lp := range ports {
		if err := portFree(lp.port); err != nil {
			errs = append(errs, fmt.Errorf("%s: port %d (%s) is in use", who, lp.port, lp.label))
		}
	}
	return errors.Join(errs...)
}

// LoadState reads <stateDir>/fleet.json.
func LoadState(stateDir string) (*State, error) {
	b, err := os.ReadFile(filepath.Join(stateDir, stateFile))
	if err != nil {
		return nil, err
	}
	var s State
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(stateDir, stateFile), err)
	}
	return &s, nil
}

// Load returns the fleet recorded in stateDir's fleet.json (for `hubctl down`
// and `hubctl status`); BinDir is the recorded one unless $HUBCTL_BIN_DIR is set.
func Load(stateDir string) (*Fleet, *State, error) {
	s, err := LoadState(stateDir)
	if err != nil {
		return nil, nil, err
	}
	f := &Fleet{StateDir: stateDir, BinDir: s.BinDir, Hub: s.Hub, Hosting: s.Hosting, APIServerOnly: s.APIServerOnly, Ports: s.Ports}
	if d := os.Getenv(EnvBinDir); d != "" {
		f.BinDir = d
	}
	return f, s, nil
}

// state reads fleet.json, or starts a new State when there is none.
func (f *Fleet) state() (*State, error) {
	s, err := LoadState(f.StateDir)
	if errors.Is(err, fs.ErrNotExist) {
		return &State{
			Version: stateVersion, StateDir: f.StateDir, BinDir: f.binDir(), Hub: f.Hub, Hosting: f.Hosting, APIServerOnly: f.APIServerOnly,
			Ports: f.ports(), GitURL: f.GitURL(), ChartURL: f.ChartURL(), Created: time.Now().UTC(),
		}, nil
	}
	return s, err
}

// updateState applies fn to fleet.json and writes it back atomically.
func (f *Fleet) updateState(fn func(s *State)) error {
	if err := f.ensureStateDir(); err != nil {
		return err
	}
	s, err := f.state()
	if err != nil {
		return err
	}
	fn(s)
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	return fsutil.WriteFileAtomic(filepath.Join(f.StateDir, stateFile), append(b, '\n'), 0o644)
}

func (s *State) cluster(name string) *ClusterState {
	for i := range s.Clusters {
		if s.Clusters[i].Name == name {
			return &s.Clusters[i]
		}
	}
	return nil
}

func (s *State) setProcess(r supervisor.Record) {
	for i := range s.Processes {
		if s.Processes[i].Name == r.Name {
			s.Processes[i] = r
			return
		}
	}
	s.Processes = append(s.Processes, r)
}

// Action is one step of a create: Run is called with the create's context.
type Action struct {
	Name string
	Run  func(ctx context.Context) error
}

// Run runs actions in order, printing " • <name> ..." before and
// " ✓ <name> (<duration>)" after each to Out. It stops at the first error,
// returned as "<name>: <error>"; what was started stays (Down removes it).
func (f *Fleet) Run(ctx context.Context, actions []Action) error {
	for _, a := range actions {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("%s: %w", a.Name, err)
		}
		fmt.Fprintf(f.out(), " • %s ...\n", a.Name)
		start := time.Now()
		if err := a.Run(ctx); err != nil {
			fmt.Fprintf(f.out(), " ✗ %s (%s)\n", a.Name, since(start))
			return fmt.Errorf("%s: %w", a.Name, err)
		}
		fmt.Fprintf(f.out(), " ✓ %s (%s)\n", a.Name, since(start))
	}
	return nil
}

func since(t time.Time) string { return time.Since(t).Round(100 * time.Millisecond).String() }
