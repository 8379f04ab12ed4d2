package action

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func writeCluster(t *testing.T, repo, name string, port int, annotations string) {
	t.Helper()
	dir := filepath.Join(repo, "clusters", name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	doc := `apiVersion: v1
kind: Secret
metadata:
  name: cluster-` + strings.ToLower(name) + `
  namespace: argocd
  labels:
    argocd.argoproj.io/secret-type: cluster
    environment: develop
    provider: local
  annotations:
    addons_repo_revision: main
` + annotations + `type: Opaque
stringData:
  name: ` + name + `
  server: https://127.0.0.1:` + strconv.Itoa(port) + "\n"
	if err := os.WriteFile(filepath.Join(dir, "cluster.yaml"), []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestNewFleetRuntimes: the local_runtime annotation of a registry entry
// makes its cluster apiserver-only; kwok is the default.
func TestNewFleetRuntimes(t *testing.T) {
	repo := t.TempDir()
	writeCluster(t, repo, "local-develop-a-services", 16460, "")
	writeCluster(t, repo, "local-develop-b-services", 16480, "    local_runtime: kwok\n")
	writeCluster(t, repo, "local-develop-c-services", 16500, "    local_runtime: apiserver\n")
	u := &Up{Repo: repo, StateDir: filepath.Join(t.TempDir(), "state")}
	f, locals, err := u.NewFleet()
	if err != nil {
		t.Fatal(err)
	}
	if len(locals) != 3 {
		t.Fatalf("%d local clusters, want 3", len(locals))
	}
	for name, want := range map[string]bool{"local-develop-a-services": false, "local-develop-b-services": false, "local-develop-c-services": true} {
		if got := f.IsAPIServerOnly(name); got != want {
			t.Errorf("%s: apiserver-only %v, want %v", name, got, want)
		}
	}
	if base, err := f.ClusterBase("local-develop-c-services"); err != nil || base != 16500 {
		t.Errorf("apiserver-only cluster port %d (%v), want 16500 from its server URL", base, err)
	}
}

func TestNewFleetBadRuntime(t *testing.T) {
	repo := t.TempDir()
	writeCluster(t, repo, "local-develop-a-services", 16460, "    local_runtime: docker\n")
	u := &Up{Repo: repo, StateDir: filepath.Join(t.TempDir(), "state")}
	_, _, err := u.NewFleet()
	if err == nil {
		t.Fatal("no error for local_runtime: docker")
	}
	for _, want := range []string{"clusters/local-develop-a-services/cluster.yaml", "local_runtime", `"docker"`, "apiserver"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %s", err, want)
		}
	}
}
