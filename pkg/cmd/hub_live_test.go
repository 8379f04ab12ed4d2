package cmd

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chartutil"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/gitops-hub/gitops-hub/internal/testenv"
)

// hubChart packs a small chart of our own: one ConfigMap carrying a value.
func hubChart(t *testing.T, dir, version string) {
	t.Helper()
	c := &chart.Chart{
		Metadata:  &chart.Metadata{APIVersion: chart.APIVersionV2, Name: "hub-chart", Version: version},
		Values:    map[string]any{"greeting": "hello"},
		Templates: []*chart.File{{Name: "templates/cm.yaml", Data: []byte("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: hub-cm\ndata:\n  greeting: {{ .Values.greeting | quote }}\n  version: {{ .Chart.Version | quote }}\n")}},
	}
	if _, err := chartutil.Save(c, dir); err != nil {
		t.Fatal(err)
	}
}

// TestLiveBootstrapAndClusterCommands runs the commands as a user does, with kubeconfig files,
// against real kube-apiservers.
func TestLiveBootstrapAndClusterCommands(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	env := testenv.New(ctx, t, testenv.Options{}, "hub", "target")
	hub, target := env.Cluster("hub"), env.Cluster("target")

	repo := t.TempDir()
	if err := os.CopyFS(repo, os.DirFS("../action/testdata/tree")); err != nil {
		t.Fatal(err)
	}
	pin := func(version string) {
		writeFile(t, filepath.Join(repo, "bootstrap/hub/argo-cd.yaml"), "repoURL: https://charts.invalid/hub\nchart: hub-chart\nversion: "+version+"\n")
	}
	pin("0.1.0")
	writeFile(t, filepath.Join(repo, "bootstrap/hub/values.yaml"), "greeting: from-the-tree\n")
	writeFile(t, filepath.Join(repo, "bootstrap/control-plane/argocd-config/projects/p.yaml"), "apiVersion: argoproj.io/v1alpha1\nkind: AppProject\nmetadata:\n  name: platform\n  namespace: argocd\nspec:\n  sourceRepos: ['*']\n")
	charts := t.TempDir()
	hubChart(t, charts, "0.1.0")
	hubChart(t, charts, "0.2.0")
	t.Setenv("HUBCTL_CHARTS_DIR", charts)
	t.Setenv("HUBCTL_CACHE_DIR", t.TempDir())
	t.Setenv("KUBECONFIG", hub.Kubeconfig) // the hub is the current context, as kubectl finds it
	crds, err := filepath.Abs("../action/testdata/crds")
	if err != nil {
		t.Fatal(err)
	}
	boot := []string{"bootstrap", "--repo", repo, "--crd-dir", crds, "--wait", "0"}

	// Before bootstrap, cluster add says Argo CD is missing and what installs it.
	_, errOut, code := run(t, "cluster", "add", "existing", "--repo", repo, "--target-kubeconfig", target.Kubeconfig)
	if code != ExitError || !strings.Contains(errOut, "Argo CD is not installed on this cluster") || !strings.Contains(errOut, "hubctl bootstrap") {
		t.Fatalf("cluster add before bootstrap: exit %d: %s", code, errOut)
	}

	out, errOut, code := run(t, append(boot, "--dry-run")...)
	if code != 0 || !strings.Contains(out, `greeting: "from-the-tree"`) || !strings.Contains(out, "name: hub-root") || !strings.Contains(errOut, "nothing was changed") {
		t.Fatalf("dry run: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	if _, err := hub.Client.CoreV1().ConfigMaps("argocd").Get(ctx, "hub-cm", metav1.GetOptions{}); err == nil {
		t.Error("the dry run installed the chart")
	}

	_, errOut, code = run(t, boot...)
	if code != 0 || !strings.Contains(errOut, "bootstrap: done") {
		t.Fatalf("bootstrap: exit %d: %s", code, errOut)
	}
	cm, err := hub.Client.CoreV1().ConfigMaps("argocd").Get(ctx, "hub-cm", metav1.GetOptions{})
	if err != nil || cm.Data["greeting"] != "from-the-tree" || cm.Data["version"] != "0.1.0" {
		t.Fatalf("chart ConfigMap: %v %v", err, cm)
	}
	for _, gvr := range []struct{ res, name string }{{"appprojects", "platform"}, {"applications", "hub-root"}} {
		if _, err := hub.Dynamic.Resource(schema.GroupVersionResource{Group: "argoproj.io", Version: "v1alpha1", Resource: gvr.res}).Namespace("argocd").Get(ctx, gvr.name, metav1.GetOptions{}); err != nil {
			t.Errorf("%s %s: %v", gvr.res, gvr.name, err)
		}
	}

	_, errOut, code = run(t, boot...)
	if code != 0 || !strings.Contains(errOut, "the hub is up to date; nothing changed") {
		t.Errorf("second bootstrap: exit %d: %s", code, errOut)
	}

	pin("0.2.0")
	_, errOut, code = run(t, boot...)
	if code != 0 || !strings.Contains(errOut, "hub-chart-0.2.0) configured") {
		t.Errorf("bootstrap after a new pin: exit %d: %s", code, errOut)
	}
	if cm, _ := hub.Client.CoreV1().ConfigMaps("argocd").Get(ctx, "hub-cm", metav1.GetOptions{}); cm == nil || cm.Data["version"] != "0.2.0" {
		t.Errorf("the new pin did not upgrade: %v", cm)
	}

	// cluster add of a new cluster prints the entry to commit; list is clean; remove asks.
	out, errOut, code = run(t, "cluster", "add", "eks-new", "--repo", repo, "--target-kubeconfig", target.Kubeconfig, "--environment", "develop", "--enable", "web")
	if code != 0 || strings.TrimSpace(out) != "clusters/eks-new/cluster.yaml" {
		t.Fatalf("cluster add: exit %d\nstdout: %s\nstderr: %s", code, out, errOut)
	}
	out, errOut, code = run(t, "cluster", "list", "--repo", repo, "-o", "json")
	var rows []map[string]any
	if err := json.Unmarshal([]byte(out), &rows); err != nil || code != 0 || len(rows) != 2 {
		t.Fatalf("cluster list: exit %d, %v\n%s\n%s", code, err, out, errOut)
	}
	out, errOut, code = run(t, "cluster", "remove", "eks-new", "--repo", repo)
	if code != ExitError || !strings.Contains(errOut, "--yes") || !strings.Contains(out, "web-eks-new (ApplicationSet web): Argo CD deletes its resources") {
		t.Errorf("remove without --yes: exit %d\n%s\n%s", code, out, errOut)
	}
	if _, errOut, code = run(t, "cluster", "remove", "eks-new", "--repo", repo, "--yes"); code != 0 {
		t.Errorf("remove --yes: exit %d: %s", code, errOut)
	}
	if _, err := os.Stat(filepath.Join(repo, "clusters/eks-new/cluster.yaml")); err != nil {
		t.Errorf("remove touched Git: %v", err)
	}
}
