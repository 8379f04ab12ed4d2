package localfleet

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestProcessesStartStop(t *testing.T) {
	ctx := context.Background()
	p := Processes{Dir: t.TempDir()}
	rec, err := p.Start("sleeper", Command{Path: "sleep", Args: []string{"300"}})
	if err != nil {
		t.Fatal(err)
	}
	// The PID file holds PID, start time and boot id, and they are the process's.
	b, err := os.ReadFile(p.PIDPath("sleeper"))
	if err != nil {
		t.Fatal(err)
	}
	fields := strings.Fields(string(b))
	st, err := readStat(rec.PID)
	if err != nil {
		t.Fatal(err)
	}
	if len(fields) != 3 || fields[0] != strconv.Itoa(rec.PID) || fields[1] != strconv.FormatUint(st.startTime, 10) || fields[2] != bootID() {
		t.Fatalf("pid file %q, want %d %d %s", b, rec.PID, st.startTime, bootID())
	}
	if st.pgrp != rec.PID {
		t.Errorf("process group %d, want its own (%d)", st.pgrp, rec.PID)
	}
	if !p.Alive("sleeper") {
		t.Fatal("Alive = false for a running process")
	}
	if got, err := p.Record("sleeper"); err != nil || got.PID != rec.PID || got.StartTime != rec.StartTime {
		t.Fatalf("Record = %+v, %v; want %+v", got, err, rec)
	}
	if _, err := p.Start("sleeper", Command{Path: "sleep", Args: []string{"300"}}); err == nil || !strings.Contains(err.Error(), "already running") {
		t.Fatalf("second Start: %v, want already running", err)
	}
	if lf, _ := os.ReadFile(p.LogPath("sleeper")); !strings.Contains(string(lf), "hubctl: starting") {
		t.Errorf("log %q lacks the start line", lf)
	}

	if err := p.Stop(ctx, "sleeper"); err != nil {
		t.Fatal(err)
	}
	if p.Alive("sleeper") || !processGone(rec.PID, rec.StartTime) {
		t.Fatal("process still alive after Stop")
	}
	if _, err := os.Stat(p.PIDPath("sleeper")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("pid file left: %v", err)
	}
	if err := p.Stop(ctx, "sleeper"); err != nil {
		t.Fatalf("second Stop: %v", err)
	}
	if err := p.Stop(ctx, "never-started"); err != nil {
		t.Fatalf("Stop of an unknown name: %v", err)
	}
}

func TestProcessesStopGroupAndKill(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	p := Processes{Dir: dir, StopTimeout: time.Second}

	// A shell and its child in the process group: SIGTERM reaches both.
	childFile := filepath.Join(dir, "child.pid")
	rec, err := p.Start("group", Command{Path: "sh", Args: []string{"-c", "sleep 301 & echo $! > " + childFile + "; wait"}})
	if err != nil {
		t.Fatal(err)
	}
	child := waitChild(t, childFile)
	start := time.Now()
	if err := p.Stop(ctx, "group"); err != nil {
		t.Fatal(err)
	}
	if !processGone(rec.PID, rec.StartTime) || !processGone(child.pid, child.startTime) {
		t.Fatal("group member still running after Stop")
	}
	if d := time.Since(start); d > 900*time.Millisecond {
		t.Errorf("SIGTERM stop took %s, want well under the 1s grace", d)
	}

	// TERM ignored (and inherited by the child): SIGKILL after the grace.
	childFile = filepath.Join(dir, "child2.pid")
	rec, err = p.Start("stubborn", Command{Path: "sh", Args: []string{"-c", "trap '' TERM; sleep 302 & echo $! > " + childFile + "; wait; wait"}})
	if err != nil {
		t.Fatal(err)
	}
	child = waitChild(t, childFile)
	start = time.Now()
	if err := p.Stop(ctx, "stubborn"); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < time.Second {
		t.Errorf("stop of a TERM-ignoring group took %s, want the 1s grace before SIGKILL", d)
	}
	if !processGone(rec.PID, rec.StartTime) || !processGone(child.pid, child.startTime) {
		t.Fatal("TERM-ignoring group still running after Stop")
	}

	// A process that exits at once is not alive, and stopping it is fine.
	if _, err := p.Start("quick", Command{Path: "true"}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for p.Alive("quick") && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if p.Alive("quick") {
		t.Fatal("exited process reported alive")
	}
	if err := p.Stop(ctx, "quick"); err != nil {
		t.Fatal(err)
	}
}

func waitChild(t *testing.T, file string) procStat {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if b, err := os.ReadFile(file); err == nil && strings.HasSuffix(string(b), "\n") {
			pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
			if err != nil {
				t.Fatal(err)
			}
			st, err := readStat(pid)
			if err != nil {
				t.Fatal(err)
			}
			return st
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%s not written", file)
	return procStat{}
}

// A PID file whose PID now belongs to another process (other start time, or
// another boot) must never lead to a signal.
func TestProcessesStaleRecordNotKilled(t *testing.T) {
	ctx := context.Background()
	// An unrelated process, leader of its own group like ours would be.
	other := exec.Command("sleep", "303")
	other.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := other.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = other.Process.Kill(); _ = other.Wait() })
	pid := other.Process.Pid
	st, err := readStat(pid)
	if err != nil {
		t.Fatal(err)
	}
	p := Processes{Dir: t.TempDir(), StopTimeout: 500 * time.Millisecond}
	if err := os.MkdirAll(filepath.Join(p.Dir, "pids"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, line string }{
		{"older-start", fmt.Sprintf("%d %d %s\n", pid, st.startTime-1, bootID())},
		{"newer-start", fmt.Sprintf("%d %d %s\n", pid, st.startTime+1, bootID())},
		{"other-boot", fmt.Sprintf("%d %d 00000000-0000-0000-0000-000000000000\n", pid, st.startTime)},
		{"pid-only", fmt.Sprintf("%d\n", pid)},
	} {
		if err := os.WriteFile(p.PIDPath(tc.name), []byte(tc.line), 0o644); err != nil {
			t.Fatal(err)
		}
		if p.Alive(tc.name) {
			t.Errorf("%s: Alive = true for a reused PID", tc.name)
		}
		err := p.Stop(ctx, tc.name)
		if tc.name == "pid-only" {
			if err == nil {
				t.Errorf("%s: Stop of an unreadable pid file: no error", tc.name)
			}
		} else if err != nil {
			t.Errorf("%s: Stop: %v", tc.name, err)
		}
		if processGone(pid, st.startTime) {
			t.Fatalf("%s: Stop killed an unrelated process", tc.name)
		}
		if _, err := os.Stat(p.PIDPath(tc.name)); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s: stale pid file kept", tc.name)
		}
	}
	// The right record does stop it.
	if err := os.WriteFile(p.PIDPath("right"), []byte(fmt.Sprintf("%d %d %s\n", pid, st.startTime, bootID())), 0o644); err != nil {
		t.Fatal(err)
	}
	if !p.Alive("right") {
		t.Fatal("Alive = false for the right record")
	}
	if err := p.Stop(ctx, "right"); err != nil {
		t.Fatal(err)
	}
	_ = other.Wait()
	if !processGone(pid, st.startTime) {
		t.Fatal("not stopped by the right record")
	}
}

func TestParseStat(t *testing.T) {
	// A command name with spaces and parentheses.
	line := "4242 (my (odd) name) S 1 4242 4242 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 987654 1000 10 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0"
	st, err := parseStat(4242, []byte(line))
	if err != nil {
		t.Fatal(err)
	}
	if st.state != 'S' || st.pgrp != 4242 || st.startTime != 987654 {
		t.Fatalf("parseStat = %+v", st)
	}
}

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
	if err := f.startProcess("one", Command{Path: "sleep", Args: []string{"304"}}); err != nil {
		t.Fatal(err)
	}
	if err := f.startProcess(ProcRedis, Command{Path: "sleep", Args: []string{"305"}}); err != nil {
		t.Fatal(err)
	}
	one, _ := f.procs().Record("one")
	redis, _ := f.procs().Record(ProcRedis)
	// A process that died on its own: Down carries on.
	if err := f.startProcess("dead", Command{Path: "true"}); err != nil {
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

func TestIsolatedIfs(t *testing.T) {
	ifs := func(spec ...string) (out []netIf) {
		for _, s := range spec {
			name, up, _ := strings.Cut(s, ":")
			out = append(out, netIf{name, up == "up"})
		}
		return out
	}
	for _, tc := range []struct {
		ifs  []netIf
		want bool
	}{
		{ifs("lo:up"), true},
		{ifs("lo:down"), false},
		{ifs("lo:up", "eth0:up"), false},
		{ifs("lo:up", "eth0:down"), true},
	} {
		if got, why := isolatedIfs(toInterfaces(tc.ifs)); got != tc.want {
			t.Errorf("%v: Isolated = %v (%s), want %v", tc.ifs, got, why, tc.want)
		}
	}
}

type netIf struct {
	name string
	up   bool
}

func toInterfaces(l []netIf) []net.Interface {
	out := make([]net.Interface, len(l))
	for i, n := range l {
		out[i] = net.Interface{Index: i + 1, Name: n.name}
		if n.up {
			out[i].Flags |= net.FlagUp
		}
		if n.name == "lo" {
			out[i].Flags |= net.FlagLoopback
		}
	}
	return out
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
	cmd.Env = filterEnv(os.Environ(), func(k string) bool { return k == EnvNetns })
	out, err := cmd.CombinedOutput()
	if err != nil {
		if ee := (*exec.ExitError)(nil); errors.As(err, &ee) && ee.ExitCode() == 3 {
			unavailable(t, "no network namespace can be made here: %s", out)
		}
		t.Fatalf("%v: %s", err, out)
	}
	self, _ := netnsID()
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
	env := filterEnv(os.Environ(), func(k string) bool { return k == EnvNetns })
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
	self, _ := netnsID()
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
	holder, _ := (Processes{Dir: state}).Record(ProcNetnsHolder)
	if err := (&Fleet{StateDir: state}).Down(context.Background()); err != nil {
		t.Fatal(err)
	}
	if holder.alive() {
		t.Fatal("namespace holder alive after Down from outside the namespace")
	}
	// Nothing to enter any more.
	if err := EnterNetns(state, nil); err != nil {
		t.Fatal(err)
	}
}
