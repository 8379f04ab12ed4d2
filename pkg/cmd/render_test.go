package cmd

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/gitops-hub/gitops-hub/internal/testcharts"
)

var upstreamRepos = []string{
	"https://argoproj.github.io/argo-helm",
	"https://charts.crossplane.io/stable",
	"https://prometheus-community.github.io/helm-charts",
	"https://backstage.github.io/charts",
	"https://kubernetes.github.io/ingress-nginx",
	"https://aws.github.io/eks-charts",
	"https://charts.external-secrets.io",
}

// chartServer serves the real upstream charts ($HUBCTL_CHARTS_DIR, else the
// test is skipped) and returns the mirror flags that point every upstream
// chart repository at it.
func chartServer(t *testing.T) []string {
	t.Helper()
	sharedCharts := testcharts.Upstream(t)
	srv := httptest.NewServer(http.FileServer(http.Dir(sharedCharts)))
	t.Cleanup(srv.Close)
	var flags []string
	for _, u := range upstreamRepos {
		flags = append(flags, "--chart-mirror", u+"="+srv.URL)
	}
	return append(flags, "--cache-dir", t.TempDir())
}

func renderArgs(t *testing.T, repo string, extra ...string) []string {
	return append(append([]string{"render", "--repo", repo}, chartServer(t)...), extra...)
}

// parseStream returns the objects of a rendered stream keyed kind/name.
func parseStream(t *testing.T, s string) map[string]map[string]any {
	t.Helper()
	out := map[string]map[string]any{}
	for _, doc := range strings.Split(s, "\n---\n") {
		var o map[string]any
		if err := yaml.Unmarshal([]byte(doc), &o); err != nil {
			t.Fatalf("invalid YAML in output: %v", err)
		}
		if o == nil {
			continue
		}
		md, _ := o["metadata"].(map[string]any)
		out[o["kind"].(string)+"/"+md["name"].(string)] = o
	}
	return out
}

// TestRenderShippedTree: with only the upstream repositories mirrored (as
// an air-gapped user would, to a `hubctl charts pull` folder), every
// Application of the shipped tree renders.
func TestRenderShippedTree(t *testing.T) {
	out, errOut, code := run(t, renderArgs(t, repoRoot)...)
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	gen, _, _ := run(t, "generate", "--repo", repoRoot, "-o", "yaml")
	if n, want := strings.Count(out, "# Application "), strings.Count("\n"+gen, "\nkind: Application\n"); n == 0 || n != want {
		t.Errorf("%d Applications rendered (generate lists %d)", n, want)
	}
}

func TestRenderGolden(t *testing.T) {
	out, errOut, code := run(t, renderArgs(t, repoRoot, "--cluster", "eks-develop-clientB-services", "--app", "ingress-nginx")...)
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	golden(t, "render-clientB-ingress-nginx.yaml", out)
}

// TestRenderValuesLayering: a value set only in a cluster's values file
// reaches that cluster's objects and no other; the staging pin renders the
// pinned chart version.
func TestRenderValuesLayering(t *testing.T) {
	outA, errOut, code := run(t, renderArgs(t, repoRoot, "--cluster", "eks-develop-clientA-services", "--app", "argo-cd")...)
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	outB, errOut, code := run(t, renderArgs(t, repoRoot, "--cluster", "eks-develop-clientB-services", "--app", "argo-cd")...)
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	cmA := parseStream(t, outA)["ConfigMap/argocd-cm"]
	cmB := parseStream(t, outB)["ConfigMap/argocd-cm"]
	if cmA == nil || cmB == nil {
		t.Fatal("argocd-cm not rendered")
	}
	if got := cmA["data"].(map[string]any)["installationID"]; got != "eks-develop-clientA-services" {
		t.Errorf("clientA installationID = %v, want the value of clusters/eks-develop-clientA-services/addons/argo-cd/values.yaml", got)
	}
	if got := cmB["data"].(map[string]any)["installationID"]; got == "eks-develop-clientA-services" {
		t.Errorf("clientA's cluster value leaked into clientB: %v", got)
	}
	if got := cmA["data"].(map[string]any)["application.instanceLabelKey"]; got != "gitops-hub.io/client-instance" {
		t.Errorf("default layer value missing: %v", got)
	}
	staging, errOut, code := run(t, renderArgs(t, repoRoot, "--cluster", "eks-staging-clientA-services", "--app", "argo-cd")...)
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.Contains(staging, "helm.sh/chart: argo-cd-6.6.0") || strings.Contains(staging, "argo-cd-10.1.1") {
		t.Error("the staging pin does not render chart argo-cd 6.6.0")
	}
}

// copyTree copies the GitOps tree of the repository to a temp dir, for
// tests that break one file.
func copyTree(t *testing.T) string {
	t.Helper()
	dst := t.TempDir()
	for _, top := range []string{"bootstrap", "environments", "clusters"} {
		copyDir(t, filepath.Join(repoRoot, top), filepath.Join(dst, top))
	}
	return dst
}

// TestRenderBadInput: each failure names the Application, the chart or the
// file; every other Application still renders; the exit status is 2.
func TestRenderBadInput(t *testing.T) {
	t.Run("values file that is not YAML", func(t *testing.T) {
		repo := copyTree(t)
		bad := filepath.Join(repo, "environments/develop/addons/crossplane/values.yaml")
		if err := os.WriteFile(bad, []byte("replicas: [1, 2\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		outDir := filepath.Join(t.TempDir(), "out")
		_, errOut, code := run(t, renderArgs(t, repo, "--out", outDir)...)
		if code != ExitError {
			t.Fatalf("exit %d, want 2; stderr:\n%s", code, errOut)
		}
		for _, w := range []string{"addon-crossplane-eks-develop-clienta-services", "environments/develop/addons/crossplane/values.yaml"} {
			if !strings.Contains(errOut, w) {
				t.Errorf("stderr does not name %q:\n%s", w, errOut)
			}
		}
		// The others still render, but a failed render never replaces
		// --out (TestRenderOutFailedRenderKeepsOldContent).
		if !strings.Contains(errOut, "left unchanged") {
			t.Errorf("stderr does not say that --out was left unchanged:\n%s", errOut)
		}
		if _, err := os.Stat(outDir); err == nil {
			t.Error("a failed render created --out")
		}
	})
	t.Run("chart version that does not exist", func(t *testing.T) {
		repo := copyTree(t)
		p := filepath.Join(repo, "bootstrap/control-plane/addons/oss/appset-backstage.yaml")
		data, _ := os.ReadFile(p)
		broken := strings.Replace(string(data), "addonChartVersion: 2.8.2", "addonChartVersion: 9.9.9", 1)
		if broken == string(data) {
			t.Fatal("appset-backstage.yaml has no default version to break")
		}
		os.WriteFile(p, []byte(broken), 0o644)
		out, errOut, code := run(t, renderArgs(t, repo, "--cluster", "eks-develop-clientXPTO-services")...)
		if code != ExitError {
			t.Fatalf("exit %d, want 2", code)
		}
		for _, w := range []string{"addon-backstage-eks-develop-clientxpto-services", "backstage", "9.9.9"} {
			if !strings.Contains(errOut, w) {
				t.Errorf("stderr does not name %q:\n%s", w, errOut)
			}
		}
		if !strings.Contains(out, "# Application addon-argo-cd-eks-develop-clientxpto-services") {
			t.Error("the other Applications were not rendered")
		}
	})
	t.Run("unreachable chart repository", func(t *testing.T) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		closed := "http://" + l.Addr().String()
		l.Close()
		args := append(renderArgs(t, repoRoot, "--cluster", "eks-develop-clientB-services"), "--chart-mirror", "https://kubernetes.github.io/ingress-nginx="+closed)
		_, errOut, code := run(t, args...)
		if code != ExitError {
			t.Fatalf("exit %d, want 2", code)
		}
		for _, w := range []string{"addon-ingress-nginx-eks-develop-clientb-services", "ingress-nginx", closed} {
			if !strings.Contains(errOut, w) {
				t.Errorf("stderr does not name %q:\n%s", w, errOut)
			}
		}
		if !strings.Contains(errOut, "rendered 3 Application(s)") {
			t.Errorf("the other three Applications of the cluster did not render:\n%s", errOut)
		}
	})
	t.Run("template that fails in the chart", func(t *testing.T) {
		repo := copyTree(t)
		chart := filepath.Join(repo, "charts/broken")
		os.MkdirAll(filepath.Join(chart, "templates"), 0o755)
		os.WriteFile(filepath.Join(chart, "Chart.yaml"), []byte("apiVersion: v2\nname: broken\nversion: 0.1.0\n"), 0o644)
		os.WriteFile(filepath.Join(chart, "templates/cm.yaml"), []byte(`{{ fail "the broken chart always fails" }}`), 0o644)
		appset := filepath.Join(repo, "broken-appset.yaml")
		os.WriteFile(appset, []byte(`apiVersion: argoproj.io/v1alpha1
kind: ApplicationSet
metadata: {name: broken, namespace: argocd}
spec:
  goTemplate: true
  generators:
  - clusters: {selector: {matchLabels: {environment: prod}}}
  template:
    metadata: {name: 'broken-{{ .nameNormalized }}'}
    spec:
      project: default
      source: {repoURL: 'https://github.com/gitops-hub/gitops-hub.git', path: charts/broken, targetRevision: main}
      destination: {name: '{{ .name }}', namespace: broken}
`), 0o644)
		_, errOut, code := run(t, renderArgs(t, repo, "--appset", appset)...)
		if code != ExitError {
			t.Fatalf("exit %d, want 2; stderr:\n%s", code, errOut)
		}
		for _, w := range []string{"broken-eks-prod-clienta-services", "the broken chart always fails"} {
			if !strings.Contains(errOut, w) {
				t.Errorf("stderr does not name %q:\n%s", w, errOut)
			}
		}
	})
}

// TestValuesProvenance: hubctl values names the layer of each key and lists
// missing layers.
func TestValuesProvenance(t *testing.T) {
	args := append([]string{"values", "eks-develop-clientA-services", "argo-cd", "--repo", repoRoot}, chartServer(t)...)
	out, errOut, code := run(t, args...)
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, w := range []string{
		"installationID: eks-develop-clientA-services # $values/clusters/eks-develop-clientA-services/addons/argo-cd/values.yaml",
		"application.instanceLabelKey: gitops-hub.io/client-instance # $values/environments/default/addons/argo-cd/values.yaml",
		"# chart argo-cd-10.1.1 values.yaml",
	} {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q", w)
		}
	}
	args = append([]string{"values", "eks-develop-clientB-services", "ingress-nginx", "--repo", repoRoot}, chartServer(t)...)
	_, errOut, code = run(t, args...)
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.Contains(errOut, "$values/clusters/eks-develop-clientB-services/addons/ingress-nginx/values.yaml (missing, skipped") {
		t.Errorf("the missing cluster layer is not listed:\n%s", errOut)
	}
	_, errOut, code = run(t, append([]string{"values", "eks-develop-clientB-services", "crossplane", "--repo", repoRoot}, chartServer(t)...)...)
	if code != ExitError || !strings.Contains(errOut, "it has: addon-argo-cd-eks-develop-clientb-services") {
		t.Errorf("an addon the cluster does not have: exit %d, stderr:\n%s", code, errOut)
	}
}

// TestRenderClientWorkloads: a cluster whose registry entry has client_workloads_repo_url gets,
// in its argo-cd addon, the client's AppProject and root Application from the annotations
// (client_workloads_path, client_workloads_revision), and in its external-secrets addon the
// repository credential workloads-repo (an Argo CD repository Secret templated by ESO, URL from
// the annotation); a cluster without the annotation gets neither. The staging/prod pin (argo-cd
// 6.6.0) renders them too.
func TestRenderClientWorkloads(t *testing.T) {
	for _, tc := range []struct{ cluster, path, revision string }{
		{"eks-develop-clientA-services", "develop", "main"},
		{"eks-prod-clientA-services", "prod", "v1.4.0"},
	} {
		out, errOut, code := run(t, renderArgs(t, repoRoot, "--cluster", tc.cluster, "--app", "argo-cd", "--app", "external-secrets")...)
		if code != ExitOK {
			t.Fatalf("%s: exit %d: %s", tc.cluster, code, errOut)
		}
		objs := parseStream(t, out)
		// Argo CD reads only the ConfigMaps labelled app.kubernetes.io/part-of=argocd
		// (util/settings/settings.go): a values layer must not relabel its argocd-cm.
		cm := objs["ConfigMap/argocd-cm"]
		if cm == nil {
			t.Fatalf("%s: no argocd-cm", tc.cluster)
		}
		if l := cm["metadata"].(map[string]any)["labels"].(map[string]any); l["app.kubernetes.io/part-of"] != "argocd" {
			t.Errorf("%s: argocd-cm labelled app.kubernetes.io/part-of=%v: the client's Argo CD would not read it", tc.cluster, l["app.kubernetes.io/part-of"])
		}
		const repo = "https://github.com/clienta-example/workloads.git"
		proj := objs["AppProject/clienta-workloads"]
		if proj == nil {
			t.Fatalf("%s: no AppProject clienta-workloads", tc.cluster)
		}
		spec := proj["spec"].(map[string]any)
		if got := fmt.Sprint(spec["sourceRepos"]); got != "["+repo+"]" {
			t.Errorf("%s: sourceRepos %s", tc.cluster, got)
		}
		if got := fmt.Sprint(spec["destinations"]); got != "[map[namespace:clienta-* server:https://kubernetes.default.svc]]" {
			t.Errorf("%s: destinations %s", tc.cluster, got)
		}
		if got := fmt.Sprint(spec["clusterResourceWhitelist"]); got != "[map[group: kind:Namespace]]" {
			t.Errorf("%s: clusterResourceWhitelist %s", tc.cluster, got)
		}
		app := objs["Application/clienta-workloads"]
		if app == nil {
			t.Fatalf("%s: no root Application clienta-workloads", tc.cluster)
		}
		src := app["spec"].(map[string]any)["source"].(map[string]any)
		if src["repoURL"] != repo || src["path"] != tc.path || src["targetRevision"] != tc.revision {
			t.Errorf("%s: root Application source %v", tc.cluster, src)
		}
		if ns := app["metadata"].(map[string]any)["namespace"]; ns != "argocd" {
			t.Errorf("%s: root Application in namespace %v", tc.cluster, ns)
		}
		es := objs["ExternalSecret/workloads-repo"]
		if es == nil {
			t.Fatalf("%s: no ExternalSecret workloads-repo", tc.cluster)
		}
		tmpl := es["spec"].(map[string]any)["target"].(map[string]any)["template"].(map[string]any)
		if got := fmt.Sprint(tmpl["metadata"]); got != "map[labels:map[argocd.argoproj.io/secret-type:repository]]" {
			t.Errorf("%s: template metadata %s", tc.cluster, got)
		}
		if data := tmpl["data"].(map[string]any); data["url"] != repo || data["type"] != "git" {
			t.Errorf("%s: template data %v", tc.cluster, data)
		}
	}
	out, errOut, code := run(t, renderArgs(t, repoRoot, "--cluster", "eks-develop-clientB-services", "--app", "argo-cd", "--app", "external-secrets")...)
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for k := range parseStream(t, out) {
		if strings.HasPrefix(k, "AppProject/") || strings.HasPrefix(k, "Application/") || k == "ExternalSecret/workloads-repo" {
			t.Errorf("clientB has no client_workloads_repo_url, yet renders %s", k)
		}
	}
}
