package localfleet

import (
	"context"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestWorkloadsRepository: SeedWorkloads makes the workload repository from a directory of
// HEAD, once; ServeGit serves it only to the user with the password (401 without, 403 for a
// push), and a clone with them gets the seeded files. The password is generated once, kept 0600.
func TestWorkloadsRepository(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not on PATH")
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	repo := t.TempDir()
	env := gitEnv(t)
	run(t, repo, env, "git", "init", "-q", "-b", "work")
	if err := os.MkdirAll(filepath.Join(repo, "w", "clienta"), 0o755); err != nil {
		t.Fatal(err)
	}
	commitFile(t, repo, "w/clienta/app.yaml", "kind: ConfigMap\n")

	f := testFleet(t, "hub")
	if _, _, err := f.SeedWorkloads(ctx, repo, "nope"); err == nil || !strings.Contains(err.Error(), "nope") {
		t.Fatalf("seeding from a missing directory: %v", err)
	}
	first, created, err := f.SeedWorkloads(ctx, repo, "w")
	if err != nil || !created {
		t.Fatalf("SeedWorkloads: %s %v %v", first, created, err)
	}
	commitFile(t, repo, "w/clienta/app.yaml", "kind: Secret\n")
	again, created, err := f.SeedWorkloads(ctx, repo, "w")
	if err != nil || created || again != first {
		t.Fatalf("seeding again moved the branch: %s (created %v, %v), want %s untouched", again, created, err, first)
	}

	pw, err := f.WorkloadsPassword()
	if err != nil || len(pw) < 32 {
		t.Fatalf("WorkloadsPassword: %d chars, %v", len(pw), err)
	}
	if fi, err := os.Stat(f.workloadsPasswordFile()); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("password file: %v %v", fi.Mode(), err)
	}
	if pw2, _ := f.WorkloadsPassword(); pw2 != pw {
		t.Fatal("WorkloadsPassword changed on the second call")
	}

	addr := "127.0.0.1:" + strconv.Itoa(testPorts.one(t))
	errc := make(chan error, 1)
	go func() {
		errc <- ServeGit(ctx, filepath.Dir(f.WorkloadsRepoPath()), addr, WorkloadsUser, f.workloadsPasswordFile())
	}()
	url := "http://" + addr + "/" + WorkloadsRepoName
	deadline := time.Now().Add(10 * time.Second)
	for {
		if code, ok := httpStatus(ctx, url+"/info/refs?service=git-upload-pack"); ok {
			if code != http.StatusUnauthorized {
				t.Fatalf("without credentials: %d, want 401", code)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("git server not answering")
		}
		select {
		case err := <-errc:
			t.Fatalf("ServeGit returned: %v", err)
		case <-time.After(50 * time.Millisecond):
		}
	}
	status := func(user, pass, path string) int {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url+path, nil)
		req.SetBasicAuth(user, pass)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if c := status(WorkloadsUser, pw+"x", "/info/refs?service=git-upload-pack"); c != http.StatusUnauthorized {
		t.Errorf("wrong password: %d, want 401", c)
	}
	if c := status("someone", pw, "/info/refs?service=git-upload-pack"); c != http.StatusUnauthorized {
		t.Errorf("wrong user: %d, want 401", c)
	}
	if c := status(WorkloadsUser, pw, "/info/refs?service=git-receive-pack"); c != http.StatusForbidden {
		t.Errorf("push: %d, want 403", c)
	}
	clone := filepath.Join(t.TempDir(), "clone")
	withCreds := strings.Replace(url, "http://", "http://"+WorkloadsUser+":"+pw+"@", 1)
	run(t, t.TempDir(), env, "git", "clone", "-q", withCreds, clone)
	b, err := os.ReadFile(filepath.Join(clone, "clienta", "app.yaml"))
	if err != nil || string(b) != "kind: ConfigMap\n" {
		t.Fatalf("cloned clienta/app.yaml: %q %v", b, err)
	}
	cancel()
	select {
	case err := <-errc:
		if err != nil {
			t.Fatalf("ServeGit after cancel: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("ServeGit did not return after cancel")
	}
}

// TestClientArgoCDPorts: each hosting cluster's client Argo CD has ports of its own, distinct
// from the fleet's; a cluster that is not a hosting cluster has none.
func TestClientArgoCDPorts(t *testing.T) {
	f := &Fleet{Hub: "hub", Hosting: []string{"a", "b"}}
	pa, err := f.ClientArgoCDPortsOf("a")
	if err != nil {
		t.Fatal(err)
	}
	pb, err := f.ClientArgoCDPortsOf("b")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[int]bool{}
	all, err := f.allPorts()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range all {
		seen[p.port] = true
	}
	seen[workloadsPort] = true
	for _, p := range []ClientArgoCDPorts{pa, pb} {
		for _, port := range []int{p.Redis, p.RepoServer, p.RepoServerMetrics, p.ControllerMetrics, p.CommitServer} {
			if seen[port] || port < minPort || port > maxPort {
				t.Errorf("port %d taken twice or out of range", port)
			}
			seen[port] = true
		}
	}
	if _, err := f.ClientArgoCDPortsOf("hub"); err == nil {
		t.Error("the hub has a client Argo CD port")
	}
}
