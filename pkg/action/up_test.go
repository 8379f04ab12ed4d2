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
	dir := filepath.Join(repo, LocalOverlayDir, "clusters", name)
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
	for _, want := range []string{"hack/local-fleet/overlay/clusters/local-develop-a-services/cluster.yaml", "local_runtime", `"docker"`, "apiserver"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %s", err, want)
		}
	}
}

// The local clusters come from the local overlay only: a production
// registry entry labelled provider=local is not one of them.
func TestLocalClustersFromOverlay(t *testing.T) {
	repo := t.TempDir()
	writeCluster(t, repo, "local-develop-a-services", 16460, "")
	prod := filepath.Join(repo, "clusters", "eks-develop-x-services")
	if err := os.MkdirAll(prod, 0o755); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(repo, LocalOverlayDir, "clusters", "local-develop-a-services", "cluster.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	doc := strings.ReplaceAll(string(data), "local-develop-a-services", "eks-develop-x-services")
	if err := os.WriteFile(filepath.Join(prod, "cluster.yaml"), []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	locals, err := LocalClusters(repo)
	if err != nil {
		t.Fatal(err)
	}
	if len(locals) != 1 || locals[0].Name != "local-develop-a-services" {
		t.Fatalf("local clusters %v, want only the overlay's", locals)
	}
	if _, err := LocalClusters(t.TempDir()); err == nil || !strings.Contains(err.Error(), LocalClusterRegistry) {
		t.Errorf("no overlay: %v", err)
	}
}

// The shipped overlay names the local fleet's clusters, and the shipped
// production tree has none of them.
func TestShippedOverlay(t *testing.T) {
	locals, err := LocalClusters("../..")
	if err != nil {
		t.Fatal(err)
	}
	if len(locals) != 2 {
		t.Errorf("%d local clusters in the shipped overlay, want 2", len(locals))
	}
	prod, err := filepath.Glob("../../clusters/local-*")
	if err != nil || len(prod) > 0 {
		t.Errorf("local fixtures in the production tree: %v %v", prod, err)
	}
}

// Without --charts and $HUBCTL_CHARTS_DIR, up fails at once and says how to
// get charts.
func TestUpWithoutCharts(t *testing.T) {
	t.Setenv(EnvChartsDir, "")
	repo := t.TempDir()
	writeCluster(t, repo, "local-develop-a-services", 16460, "")
	u := &Up{Repo: repo, StateDir: filepath.Join(t.TempDir(), "state")}
	_, err := u.Run(t.Context())
	if err == nil || !strings.Contains(err.Error(), "hubctl charts pull") || !strings.Contains(err.Error(), EnvChartsDir) {
		t.Fatalf("up without charts: %v", err)
	}
}
