package cmd

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func completions(t *testing.T, args ...string) []string {
	t.Helper()
	out, errOut, code := run(t, append([]string{"__complete"}, args...)...)
	if code != 0 {
		t.Fatalf("__complete %v: exit %d: %s", args, code, errOut)
	}
	var got []string
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		if !strings.HasPrefix(l, ":") && l != "" {
			got = append(got, strings.SplitN(l, "\t", 2)[0])
		}
	}
	return got
}

func TestClusterCompletion(t *testing.T) {
	if got := completions(t, "cluster", "remove", "--repo", repoRoot, ""); !containsAll(got, "eks-develop-clientA-services", "eks-prod-clientA-services") {
		t.Errorf("cluster names: %v", got)
	}
	if got := completions(t, "cluster", "add", "x", "--repo", repoRoot, "--enable", ""); !containsAll(got, "argocd", "kube_prometheus_stack", "ingress_nginx") {
		t.Errorf("addons: %v", got)
	}
	if got := strings.Join(completions(t, "cluster", "list", "-o", ""), ","); got != "table,json,yaml" {
		t.Errorf("-o: %v", got)
	}
	kc := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(kc, []byte(`apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]
users: [{name: u, user: {token: x}}]
contexts: [{name: hub-ctx, context: {cluster: c, user: u}}, {name: eks-a, context: {cluster: c, user: u}}]
current-context: hub-ctx
`), 0o600); err != nil {
		t.Fatal(err)
	}
	if got := completions(t, "cluster", "add", "x", "--kubeconfig", kc, "--target-context", ""); !containsAll(got, "hub-ctx", "eks-a") {
		t.Errorf("contexts from --kubeconfig: %v", got)
	}
	t.Setenv("KUBECONFIG", kc)
	if got := completions(t, "bootstrap", "--context", ""); !containsAll(got, "hub-ctx", "eks-a") {
		t.Errorf("contexts from $KUBECONFIG: %v", got)
	}
}

func containsAll(list []string, want ...string) bool {
	set := map[string]bool{}
	for _, v := range list {
		set[v] = true
	}
	for _, w := range want {
		if !set[w] {
			return false
		}
	}
	return true
}

func TestClusterCommandsNameTheContext(t *testing.T) {
	kc := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(kc, []byte("apiVersion: v1\nkind: Config\ncurrent-context: nowhere\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, errOut, code := run(t, "cluster", "list", "--repo", repoRoot, "--kubeconfig", kc)
	if code != ExitError || !strings.Contains(errOut, kc) || !strings.Contains(errOut, `context "nowhere"`) {
		t.Errorf("exit %d, stderr %q: want exit 2 naming the kubeconfig and the context", code, errOut)
	}
	_, errOut, code = run(t, "cluster", "list", "--repo", repoRoot, "-o", "xml", "--kubeconfig", kc)
	if code != ExitError || !strings.Contains(errOut, `-o "xml"`) {
		t.Errorf("-o xml: exit %d, %q", code, errOut)
	}
	_, errOut, code = run(t, "cluster", "remove", "x", "--repo", repoRoot, "--kubeconfig", kc)
	if code != ExitError || !strings.Contains(errOut, `context "nowhere"`) {
		t.Errorf("remove: exit %d, %q", code, errOut)
	}
}

func TestKubeFlagsFollowKubectl(t *testing.T) {
	dir := t.TempDir()
	kc := filepath.Join(dir, "a")
	if err := os.WriteFile(kc, []byte(`apiVersion: v1
kind: Config
clusters: [{name: c1, cluster: {server: "https://127.0.0.1:1"}}, {name: c2, cluster: {server: "https://127.0.0.1:2"}}]
users: [{name: u, user: {token: x}}]
contexts: [{name: one, context: {cluster: c1, user: u}}, {name: two, context: {cluster: c2, user: u}}]
current-context: one
`), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("KUBECONFIG", kc)
	hub := kubeFlags{requestTimeout: 7 * time.Second}
	c, err := hub.load("hub", nil)
	if err != nil || c.Config.Host != "https://127.0.0.1:1" || c.Config.Timeout != 7*time.Second {
		t.Fatalf("$KUBECONFIG current context: %v %+v", err, c)
	}
	target := kubeFlags{context: "two"}
	c, err = target.load("target", &hub)
	if err != nil || c.Config.Host != "https://127.0.0.1:2" || c.Config.Timeout != 7*time.Second || !strings.Contains(c.Name, `context "two"`) {
		t.Fatalf("--target-context: %v %+v", err, c)
	}
	if _, err := (&kubeFlags{context: "three"}).load("hub", nil); err == nil || !strings.Contains(err.Error(), `context "three"`) {
		t.Errorf("unknown context: %v", err)
	}
}
