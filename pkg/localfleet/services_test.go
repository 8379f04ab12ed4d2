package localfleet

import (
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gitops-hub/gitops-hub/internal/netns"
	"github.com/gitops-hub/gitops-hub/internal/testcharts"
)

// testChartRepo is a Helm repository folder packaged from our own small
// charts (testdata/charts): demo 0.1.0.
func testChartRepo(t testing.TB) string {
	t.Helper()
	return testcharts.Repo(t, filepath.Join("testdata", "charts"))
}

func gitEnv(t *testing.T) []string {
	return []string{
		"GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.invalid", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.invalid",
		"GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1", "HOME=" + t.TempDir(),
	}
}

func commitFile(t *testing.T, repo, name, content string) string {
	t.Helper()
	if err := os.WriteFile(filepath.Join(repo, name), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	env := gitEnv(t)
	run(t, repo, env, "git", "add", name)
	run(t, repo, env, "git", "commit", "-q", "-m", "change "+name)
	return run(t, repo, env, "git", "rev-parse", "HEAD")
}

func TestPublishAndGitDaemon(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not on PATH")
	}
	ctx := context.Background()
	repo := t.TempDir()
	env := gitEnv(t)
	run(t, repo, env, "git", "init", "-q", "-b", "work")
	first := commitFile(t, repo, "a.txt", "one\n")

	f := testFleet(t, "hub")
	if err := f.Prepare(ctx); err != nil {
		t.Fatal(err)
	}
	if err := f.StartGitDaemon(ctx); err == nil {
		t.Fatal("StartGitDaemon before Publish: no error")
	}
	got, err := f.Publish(ctx, repo)
	if err != nil {
		t.Fatal(err)
	}
	if got != first {
		t.Fatalf("Publish = %s, want HEAD %s", got, first)
	}
	if err := f.StartGitDaemon(ctx); err != nil {
		t.Fatal(err)
	}

	// A clone over git:// from 127.0.0.1 gets the published commit on Branch.
	clone := filepath.Join(t.TempDir(), "clone")
	run(t, "", env, "git", "clone", "-q", f.GitURL(), clone)
	if h := run(t, clone, env, "git", "rev-parse", "HEAD"); h != first {
		t.Fatalf("clone HEAD %s, want %s", h, first)
	}
	if b := run(t, clone, env, "git", "rev-parse", "--abbrev-ref", "HEAD"); b != Branch {
		t.Errorf("clone branch %s, want %s", b, Branch)
	}

	// Uncommitted work is not published; a new commit is, after Publish.
	if err := os.WriteFile(filepath.Join(repo, "dirty.txt"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got, err := f.Publish(ctx, repo); err != nil || got != first {
		t.Fatalf("Publish with uncommitted changes = %s, %v; want %s", got, err, first)
	}
	second := commitFile(t, repo, "b.txt", "two\n")
	if got, err := f.Publish(ctx, repo); err != nil || got != second {
		t.Fatalf("second Publish = %s, %v; want %s", got, err, second)
	}
	run(t, clone, env, "git", "fetch", "-q", "origin")
	if h := run(t, clone, env, "git", "rev-parse", "origin/"+Branch); h != second {
		t.Fatalf("fetched %s, want the new commit %s", h, second)
	}
	if out := run(t, "", env, "git", "ls-remote", f.GitURL(), "refs/heads/"+Branch); !strings.HasPrefix(out, second) {
		t.Fatalf("ls-remote: %q, want %s", out, second)
	}

	// A detached HEAD publishes too (the commit, not a branch name).
	run(t, repo, env, "git", "checkout", "-q", "--detach", first)
	if got, err := f.Publish(ctx, repo); err != nil || got != first {
		t.Fatalf("Publish of a detached HEAD = %s, %v; want %s", got, err, first)
	}

	// No commit at all: a clear error.
	empty := t.TempDir()
	run(t, empty, env, "git", "init", "-q")
	if _, err := f.Publish(ctx, empty); err == nil || !strings.Contains(err.Error(), "no commit") {
		t.Fatalf("Publish of an empty repository: %v", err)
	}
	if !f.procs().Alive(ProcGitDaemon) {
		t.Fatal("git daemon died")
	}
}

// CI checks out shallow clones: publishing one into a new fleet works, and
// the daemon serves it.
func TestPublishShallow(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not on PATH")
	}
	ctx := context.Background()
	env := gitEnv(t)
	repo := t.TempDir()
	run(t, repo, env, "git", "init", "-q", "-b", "main")
	commitFile(t, repo, "a.txt", "one\n")
	head := commitFile(t, repo, "b.txt", "two\n")
	shallow := filepath.Join(t.TempDir(), "shallow")
	run(t, "", env, "git", "clone", "-q", "--depth", "1", "file://"+repo, shallow)

	f := testFleet(t, "hub")
	if got, err := f.Publish(ctx, shallow); err != nil || got != head {
		t.Fatalf("Publish of a shallow clone = %s, %v; want %s", got, err, head)
	}
	if err := f.StartGitDaemon(ctx); err != nil {
		t.Fatal(err)
	}
	clone := filepath.Join(t.TempDir(), "clone")
	run(t, "", env, "git", "clone", "-q", f.GitURL(), clone)
	if h := run(t, clone, env, "git", "rev-parse", "HEAD"); h != head {
		t.Fatalf("clone HEAD %s, want %s", h, head)
	}
}

func getBody(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestServeCharts(t *testing.T) {
	chartsDir := testChartRepo(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	addr := "127.0.0.1:" + strconv.Itoa(testPorts.one(t))
	errc := make(chan error, 1)
	go func() { errc <- ServeCharts(ctx, chartsDir, addr) }()
	url := "http://" + addr
	deadline := time.Now().Add(10 * time.Second)
	for !httpOK(ctx, url+"/index.yaml") {
		if time.Now().After(deadline) {
			t.Fatal("chart server not answering")
		}
		select {
		case err := <-errc:
			t.Fatalf("ServeCharts returned: %v", err)
		case <-time.After(50 * time.Millisecond):
		}
	}
	code, body := getBody(t, url+"/index.yaml")
	if code != http.StatusOK || !strings.Contains(body, "apiVersion: v1") || !strings.Contains(body, "demo-0.1.0.tgz") {
		t.Fatalf("index.yaml: %d %.200q", code, body)
	}
	if code, body := getBody(t, url+"/demo-0.1.0.tgz"); code != http.StatusOK || len(body) < 100 {
		t.Fatalf("chart: %d, %d bytes", code, len(body))
	}
	if code, _ := getBody(t, url+"/nope-1.0.0.tgz"); code != http.StatusNotFound {
		t.Fatalf("missing chart: %d, want 404", code)
	}
	resp, err := http.Post(url+"/index.yaml", "text/plain", strings.NewReader("x"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("POST: %d, want 405", resp.StatusCode)
	}
	cancel()
	select {
	case err := <-errc:
		if err != nil {
			t.Fatalf("ServeCharts after cancel: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("ServeCharts did not return after cancel")
	}

	if err := ServeCharts(context.Background(), t.TempDir(), addr); err == nil {
		t.Fatal("ServeCharts of a folder without index.yaml: no error")
	}
}

// StartChartServer with the test binary as hubctl (see TestMain).
func TestStartChartServer(t *testing.T) {
	chartsDir := testChartRepo(t)
	ctx := context.Background()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	f := testFleet(t, "hub")
	if err := f.StartChartServer(ctx, exe, chartsDir); err != nil {
		t.Fatal(err)
	}
	if code, body := getBody(t, f.ChartURL()+"/index.yaml"); code != http.StatusOK || !strings.Contains(body, "entries:") {
		t.Fatalf("index.yaml: %d", code)
	}
	rec, err := f.procs().Record(ProcChartServer)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.procs().Stop(ctx, ProcChartServer); err != nil {
		t.Fatal(err)
	}
	if !processGone(rec.PID, rec.StartTime) {
		t.Fatal("chart server still running")
	}
	log, _ := os.ReadFile(f.LogPath(ProcChartServer))
	if !strings.Contains(string(log), "GET /index.yaml 200") {
		t.Errorf("chart server log lacks the request:\n%s", log)
	}
}

func TestStartRedis(t *testing.T) {
	ctx := context.Background()
	f := testFleet(t, "hub")
	if !isExecutable(f.Bin(RedisBinary)) {
		unavailable(t, "%s not in %s (hack/tools/build.sh redis)", RedisBinary, f.binDir())
	}
	if err := f.StartRedis(ctx); err != nil {
		t.Fatal(err)
	}
	if err := redisPing(ctx, f.RedisAddr()); err != nil {
		t.Fatal(err)
	}
	before, _ := f.procs().Record(ProcRedis)
	if err := f.StartRedis(ctx); err != nil {
		t.Fatalf("second StartRedis (converges): %v", err)
	}
	if after, _ := f.procs().Record(ProcRedis); after.PID != before.PID {
		t.Fatalf("second StartRedis restarted redis: pid %d, then %d", before.PID, after.PID)
	}
	if err := f.procs().Stop(ctx, ProcRedis); err != nil {
		t.Fatal(err)
	}
	if err := redisPing(ctx, f.RedisAddr()); err == nil {
		t.Fatal("redis still answering after Stop")
	}
}

// Outside an isolated namespace nothing starts unless AllowHostNetwork.
func TestCheckNetwork(t *testing.T) {
	if ok, _ := netns.Isolated(); ok {
		t.Skip("isolated: the refusal cannot be observed here")
	}
	f := testFleet(t, "hub")
	f.AllowHostNetwork = false
	err := f.StartRedis(context.Background())
	if err == nil || !strings.Contains(err.Error(), "isolated network namespace") {
		t.Fatalf("StartRedis outside a namespace: %v", err)
	}
	if err := f.CreateCluster(context.Background(), "hub", 20000); err == nil || errors.Is(err, context.Canceled) {
		t.Fatalf("CreateCluster outside a namespace: %v", err)
	}
}
