package localfleet

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gitops-hub/gitops-hub/internal/netns"
	"github.com/gitops-hub/gitops-hub/internal/supervisor"
)

// EnvRequireReal makes missing binaries or a missing network namespace fail
// the real-cluster tests instead of skipping them (CI), as internal/testenv does.
const EnvRequireReal = "HUBCTL_REQUIRE_REAL_CLUSTERS"

// TestMain lets the test binary stand in for hubctl's
// `internal serve-charts DIR --addr ADDR`, so StartChartServer is tested
// end to end with the test binary as selfExe.
func TestMain(m *testing.M) {
	if len(os.Args) >= 4 && os.Args[1] == "internal" && os.Args[2] == "serve-charts" {
		fs := flag.NewFlagSet("serve-charts", flag.ExitOnError)
		addr := fs.String("addr", "127.0.0.1:8879", "listen address")
		_ = fs.Parse(os.Args[4:])
		ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
		err := ServeCharts(ctx, os.Args[3], *addr)
		stop()
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	if len(os.Args) >= 2 && os.Args[1] == "reexec-isolated" {
		// Stands in for `hubctl up`: re-executes itself isolated, then reports.
		if err := netns.ReexecIsolated(os.Args[1:]); err != nil {
			fmt.Fprintln(os.Stderr, "ReexecIsolated:", err)
			os.Exit(3)
		}
		if len(os.Args) >= 4 && os.Args[2] == "prepare" {
			// A fleet with nothing but its state and namespace holder.
			f := &Fleet{StateDir: os.Args[3], Hub: "hub"}
			if err := f.Prepare(context.Background()); err != nil {
				fmt.Fprintln(os.Stderr, "Prepare:", err)
				os.Exit(1)
			}
		}
		ok, why := netns.Isolated()
		id, _ := netns.ID()
		fmt.Printf("isolated=%v netns=%s mode=%s args=%v (%s)\n", ok, id, os.Getenv(netns.EnvNetns), os.Args[1:], why)
		os.Exit(0)
	}
	if len(os.Args) >= 3 && os.Args[1] == "enter-netns" {
		if err := EnterNetns(os.Args[2], os.Args[1:]); err != nil {
			fmt.Fprintln(os.Stderr, "EnterNetns:", err)
			os.Exit(1)
		}
		id, _ := netns.ID()
		fmt.Printf("netns=%s mode=%s\n", id, os.Getenv(netns.EnvNetns))
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// unavailable skips the test, or fails it under HUBCTL_REQUIRE_REAL_CLUSTERS=1.
func unavailable(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if os.Getenv(EnvRequireReal) == "1" {
		t.Fatal(msg + " ($" + EnvRequireReal + "=1)")
	}
	t.Skip(msg)
}

// requireReal returns the binary directory when it holds bins and the test
// runs in a loopback-only network namespace; otherwise the test is skipped
// (or fails under HUBCTL_REQUIRE_REAL_CLUSTERS=1).
func requireReal(t testing.TB, bins ...string) string {
	t.Helper()
	dir, err := DefaultBinDir()
	if err != nil {
		unavailable(t, "binary directory: %v", err)
	}
	var missing []string
	for _, b := range bins {
		if !isExecutable(filepath.Join(dir, b)) {
			missing = append(missing, b)
		}
	}
	if len(missing) > 0 {
		unavailable(t, "missing in %s: %s (hack/tools/build.sh, or set $%s)", dir, strings.Join(missing, ", "), EnvBinDir)
	}
	if slices.Contains(bins, "kwokctl") && !isExecutable(filepath.Join(dir, "kubectl")) {
		if _, err := exec.LookPath("kubectl"); err != nil {
			unavailable(t, "kubectl is neither in %s nor on PATH: kwokctl waits for readiness with it", dir)
		}
	}
	if ok, why := netns.Isolated(); !ok {
		unavailable(t, "not in an isolated network namespace (%s): compile outside (go test -c -o /tmp/lf.test ./pkg/localfleet/), "+
			"run inside: unshare -n sh -c 'ip link set lo up && cd pkg/localfleet && /tmp/lf.test -test.v'", why)
	}
	return dir
}

// portPicker hands out free loopback ports below 32768, never the same
// twice in one test binary, and away from the fleet's default ports.
type portPicker struct {
	mu   sync.Mutex
	next int
}

var testPorts = &portPicker{next: 21000 + rand.IntN(8000)} // one per test binary

// block returns the first of n consecutive free ports.
func (p *portPicker) block(t testing.TB, n int) int {
	t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	for tries := 0; tries < 200; tries++ {
		base := p.next
		p.next += n
		if p.next > 32000 {
			p.next = 20000
		}
		ok := true
		for i := 0; i < n && ok; i++ {
			ok = portFree(base+i) == nil
		}
		if ok {
			return base
		}
	}
	t.Fatalf("no %d consecutive free ports", n)
	return 0
}

func (p *portPicker) one(t testing.TB) int { return p.block(t, 1) }

// testFleet is a fleet in a temporary state directory with free ports;
// Down runs at the end of the test.
func testFleet(t *testing.T, hub string, hosting ...string) *Fleet {
	t.Helper()
	bin, err := DefaultBinDir()
	if err != nil {
		t.Fatal(err)
	}
	pp := Ports{
		ClusterStride: 10, ClusterBase: testPorts.block(t, 10*(1+len(hosting))),
		Redis: testPorts.one(t), Git: testPorts.one(t), Charts: testPorts.one(t), SharedEtcd: testPorts.block(t, 2),
		RepoServer: testPorts.one(t), RepoServerMetrics: testPorts.one(t), ControllerMetrics: testPorts.one(t),
		CommitServer: testPorts.one(t), AppSetMetrics: testPorts.one(t), AppSetProbe: testPorts.one(t), AppSetWebhook: testPorts.one(t),
		Server: testPorts.one(t), ServerMetrics: testPorts.one(t),
	}
	f := &Fleet{
		StateDir: filepath.Join(t.TempDir(), "state"), BinDir: bin, Hub: hub, Hosting: hosting, Ports: pp,
		AllowHostNetwork: true, Out: testWriter{t},
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		if t.Failed() {
			dumpLogs(t, f)
		}
		if err := f.Down(ctx); err != nil {
			t.Errorf("cleanup: %v", err)
		}
		// Nothing may outlive Down: no process names the state directory.
		deadline := time.Now().Add(5 * time.Second)
		for {
			left := processesMentioning(f.StateDir)
			if len(left) == 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Errorf("processes left after Down: %v", left)
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
	})
	return f
}

// processesMentioning lists the live processes whose command line holds s.
func processesMentioning(s string) []string {
	entries, _ := os.ReadDir("/proc")
	var out []string
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		if st, err := supervisor.ReadStat(pid); err != nil || st.Zombie() {
			continue
		}
		if cmd, err := supervisor.Cmdline(pid); err == nil && strings.Contains(cmd, s) {
			out = append(out, fmt.Sprintf("%d %s", pid, cmd))
		}
	}
	return out
}

// dumpLogs prints the end of every log of a failed test's fleet.
func dumpLogs(t *testing.T, f *Fleet) {
	logs, _ := filepath.Glob(filepath.Join(f.StateDir, "logs", "*.log"))
	more, _ := filepath.Glob(filepath.Join(f.StateDir, "kwok", "clusters", "*", "logs", "*.log"))
	for _, l := range append(logs, more...) {
		t.Logf("%s:%s", l, supervisor.Tail(l, 8))
	}
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(b []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(b), "\n"))
	return len(b), nil
}

// run runs a command and returns its trimmed stdout, failing the test on error.
func run(t testing.TB, dir string, env []string, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	if env != nil {
		cmd.Env = append(os.Environ(), env...)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, stderr.String())
	}
	return strings.TrimSpace(stdout.String())
}

// processGone reports whether pid no longer runs as the process started at start.
func processGone(pid int, start uint64) bool {
	st, err := supervisor.ReadStat(pid)
	return err != nil || st.StartTime != start || st.Zombie()
}

func waitTCPClosed(t testing.TB, port int, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(port), 500*time.Millisecond)
		if err != nil {
			return
		}
		c.Close()
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("port %d still accepts connections after %s", port, within)
}
