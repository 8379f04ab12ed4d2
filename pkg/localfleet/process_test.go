package localfleet

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gitops-hub/gitops-hub/internal/netns"
	"github.com/gitops-hub/gitops-hub/internal/supervisor"
)

func TestDownIdempotent(t *testing.T) {
	ctx := context.Background()
	f := testFleet(t, "hub")
	if err := f.Prepare(ctx); err != nil {
		t.Fatal(err)
	}
	if err := f.Prepare(ctx); err != nil {
		t.Fatalf("second Prepare of the same fleet: %v", err)
	}
	other := *f
	other.Hub = "other-hub"
	if err := other.Prepare(ctx); !errors.Is(err, ErrFleetExists) {
		t.Fatalf("Prepare of another fleet in the same state directory: %v, want ErrFleetExists", err)
	}
	if err := f.startProcess("one", supervisor.Command{Path: "sleep", Args: []string{"304"}}); err != nil {
		t.Fatal(err)
	}
	if err := f.startProcess(ProcRedis, supervisor.Command{Path: "sleep", Args: []string{"305"}}); err != nil {
		t.Fatal(err)
	}
	one, _ := f.procs().Record("one")
	redis, _ := f.procs().Record(ProcRedis)
	// A process that died on its own: Down carries on.
	if err := f.startProcess("dead", supervisor.Command{Path: "true"}); err != nil {
		t.Fatal(err)
	}
	s, err := LoadState(f.StateDir)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Processes) < 3 {
		t.Errorf("fleet.json records %d processes, want at least 3", len(s.Processes))
	}
	if err := f.Down(ctx); err != nil {
		t.Fatal(err)
	}
	if !processGone(one.PID, one.StartTime) || !processGone(redis.PID, redis.StartTime) {
		t.Fatal("a process survived Down")
	}
	if _, err := os.Stat(f.StateDir); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("state directory left: %v", err)
	}
	if err := f.Down(ctx); err != nil {
		t.Fatalf("second Down: %v", err)
	}

	// Not a fleet's directory: Down refuses and removes nothing.
	foreign := t.TempDir()
	keep := filepath.Join(foreign, "precious")
	if err := os.WriteFile(keep, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := (&Fleet{StateDir: foreign}).Down(ctx); err == nil {
		t.Fatal("Down of a foreign directory: no error")
	}
	if _, err := os.Stat(keep); err != nil {
		t.Fatalf("Down removed a foreign file: %v", err)
	}
	if err := (&Fleet{StateDir: "relative"}).Down(ctx); err == nil {
		t.Fatal("Down of a relative state directory: no error")
	}
}

func TestValidate(t *testing.T) {
	good := &Fleet{StateDir: "/tmp/x", Hub: "hub", Hosting: []string{"local-develop-clientA-services", "local-staging-clientB-services"}}
	if err := good.Validate(); err != nil {
		t.Fatal(err)
	}
	// The default ports are the ones the repository's local cluster Secrets name.
	for name, want := range map[string]int{"hub": 16440, "local-develop-clientA-services": 16460, "local-staging-clientB-services": 16480} {
		if got, _ := good.ClusterBase(name); got != want {
			t.Errorf("ClusterBase(%s) = %d, want %d", name, got, want)
		}
	}
	if good.GitURL() != "git://127.0.0.1:19418/gitops-hub.git" || good.ChartURL() != "http://127.0.0.1:18879" {
		t.Errorf("GitURL %s, ChartURL %s", good.GitURL(), good.ChartURL())
	}
	bad := []*Fleet{
		{StateDir: "rel", Hub: "hub"},
		{StateDir: "/tmp/x"},
		{StateDir: "/tmp/x", Hub: "hub", Hosting: []string{"hub"}},
		{StateDir: "/tmp/x", Hub: "logs"},
		{StateDir: "/tmp/x", Hub: "bad name"},
		{StateDir: "/tmp/x", Hub: "hub", Ports: Ports{ClusterBase: 32760, ClusterStride: 10, Redis: 1, Git: 2, Charts: 3}},
		{StateDir: "/tmp/x", Hub: "hub", Ports: func() Ports { p := DefaultPorts(); p.Git = p.Redis; return p }()},
		{StateDir: "/tmp/x", Hub: "hub", Hosting: []string{"a"}, Ports: func() Ports { p := DefaultPorts(); p.Clusters = map[string]int{"a": 16442}; return p }()},
	}
	for i, f := range bad {
		if err := f.Validate(); err == nil {
			t.Errorf("bad[%d] %+v: Validate = nil", i, f)
		}
	}
}

func TestKwokctlConfig(t *testing.T) {
	f := &Fleet{StateDir: "/s", BinDir: "/b"}
	b, err := f.kwokctlConfig(ClusterPortsAt(16460), "/usr/bin/kubectl")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"runtime: binary", "bindAddress: 127.0.0.1", "kubeApiserverBinary: /b/kube-apiserver", "etcdBinary: /b/etcd",
		"kwokControllerBinary: /b/kwok", "kubectlBinary: /usr/bin/kubectl", "kubeApiserverPort: 16460", "etcdPort: 16461",
		"etcdPeerPort: 16462", "kubeControllerManagerPort: 16463", "kubeSchedulerPort: 16464", "kwokControllerPort: 16465",
		"key: advertise-address", "key: endpoint-reconciler-type",
	} {
		if !strings.Contains(string(b), want) {
			t.Errorf("kwokctl config lacks %q:\n%s", want, b)
		}
	}
	if got := kwokctlVerb([]string{"--config", "c", "--name", "n", "create", "cluster", "--kubeconfig", "k", "--wait=2m"}); strings.Join(got, " ") != "create cluster" {
		t.Errorf("kwokctlVerb = %v", got)
	}
}

// The test binary stands in for hubctl up (see TestMain): it re-executes
// itself under unshare and reports from inside.
func TestReexecIsolated(t *testing.T) {
	if _, err := exec.LookPath("unshare"); err != nil {
		unavailable(t, "unshare not on PATH")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "reexec-isolated", "up", "--flag")
	cmd.Env = filterEnv(os.Environ(), func(k string) bool { return k == netns.EnvNetns })
	out, err := cmd.CombinedOutput()
	if err != nil {
		if ee := (*exec.ExitError)(nil); errors.As(err, &ee) && ee.ExitCode() == 3 {
			unavailable(t, "no network namespace can be made here: %s", out)
		}
		t.Fatalf("%v: %s", err, out)
	}
	self, _ := netns.ID()
	s := string(out)
	if !strings.Contains(s, "isolated=true") || strings.Contains(s, "netns="+self+" ") ||
		!strings.Contains(s, "args=[reexec-isolated up --flag]") || !strings.Contains(s, "mode=") {
		t.Fatalf("re-executed process says %q (this one is in %s)", s, self)
	}
	t.Logf("%s", strings.TrimSpace(s))
}

// A fleet made in another network namespace is entered with nsenter (the
// test binary stands in for hubctl, see TestMain), and Down works from
// outside that namespace.
func TestEnterNetns(t *testing.T) {
	for _, tool := range []string{"unshare", "nsenter"} {
		if _, err := exec.LookPath(tool); err != nil {
			unavailable(t, "%s not on PATH", tool)
		}
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	state := filepath.Join(t.TempDir(), "state")
	env := filterEnv(os.Environ(), func(k string) bool { return k == netns.EnvNetns })
	// A fleet (just its state and namespace holder) made in a new namespace.
	mk := exec.Command(exe, "reexec-isolated", "prepare", state)
	mk.Env = env
	if out, err := mk.CombinedOutput(); err != nil {
		if ee := (*exec.ExitError)(nil); errors.As(err, &ee) && ee.ExitCode() == 3 {
			unavailable(t, "no network namespace can be made here: %s", out)
		}
		t.Fatalf("%v: %s", err, out)
	}
	s, err := LoadState(state)
	if err != nil || s.Netns == nil {
		t.Fatalf("fleet.json: %+v, %v", s, err)
	}
	t.Cleanup(func() { _ = (&Fleet{StateDir: state}).Down(context.Background()) })
	self, _ := netns.ID()
	if s.Netns.ID == self {
		t.Fatal("the fleet was made in this namespace")
	}
	enter := exec.Command(exe, "enter-netns", state)
	enter.Env = env
	out, err := enter.CombinedOutput()
	if err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if !strings.Contains(string(out), "netns="+s.Netns.ID+" ") {
		t.Fatalf("entered %q, want %s", out, s.Netns.ID)
	}
	// Nothing of that fleet starts from outside its namespace.
	outside := &Fleet{StateDir: state, Hub: "hub", AllowHostNetwork: true}
	if err := outside.StartRedis(context.Background()); err == nil || !strings.Contains(err.Error(), "runs in network namespace "+s.Netns.ID) {
		t.Fatalf("StartRedis outside the fleet's namespace: %v", err)
	}
	holder, _ := (supervisor.Processes{Dir: state}).Record(ProcNetnsHolder)
	if err := (&Fleet{StateDir: state}).Down(context.Background()); err != nil {
		t.Fatal(err)
	}
	if holder.Alive() {
		t.Fatal("namespace holder alive after Down from outside the namespace")
	}
	// Nothing to enter any more.
	if err := EnterNetns(state, nil); err != nil {
		t.Fatal(err)
	}
}
