package cmd

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/")

const repoRoot = "../.."

func run(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = Run(context.Background(), args, Streams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut})
	return out.String(), errOut.String(), code
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	p := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(p, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("%v (run go test ./pkg/cmd -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("output differs from %s (go test ./pkg/cmd -update rewrites it):\n%s", p, firstDiff(string(want), got))
	}
}

func firstDiff(want, got string) string {
	wl, gl := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < len(wl) || i < len(gl); i++ {
		var w, g string
		if i < len(wl) {
			w = wl[i]
		}
		if i < len(gl) {
			g = gl[i]
		}
		if w != g {
			return "line " + itoa(i+1) + ":\n  want: " + w + "\n  got:  " + g
		}
	}
	return ""
}

func itoa(i int) string { return strings.TrimSpace(strings.Repeat(" ", 0) + fmtInt(i)) }

func fmtInt(i int) string {
	if i == 0 {
		return "0"
	}
	var b []byte
	for ; i > 0; i /= 10 {
		b = append([]byte{byte('0' + i%10)}, b...)
	}
	return string(b)
}

// TestGenerateShippedTree is the golden test of the GitOps tree: what the hub
// deploys where.
func TestGenerateShippedTree(t *testing.T) {
	for _, tc := range []struct{ golden, format string }{
		{"generate-shipped.yaml", "yaml"},
		{"generate-shipped.json", "json"},
		{"generate-shipped.table", "table"},
	} {
		t.Run(tc.format, func(t *testing.T) {
			out, errOut, code := run(t, "generate", "--repo", repoRoot, "-o", tc.format)
			if code != ExitOK {
				t.Fatalf("exit %d, stderr:\n%s", code, errOut)
			}
			golden(t, tc.golden, out)
		})
	}
}

// TestGenerateShippedTreeFacts asserts what the proposal promises, so that a
// careless -update cannot hide a regression.
func TestGenerateShippedTreeFacts(t *testing.T) {
	out, errOut, code := run(t, "generate", "--repo", repoRoot)
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	apps := map[string]map[string]any{}
	for _, doc := range strings.Split(out, "\n---\n") {
		var a map[string]any
		if err := yaml.Unmarshal([]byte(doc), &a); err != nil {
			t.Fatal(err)
		}
		apps[a["metadata"].(map[string]any)["name"].(string)] = a
	}
	chartVersion := func(name string) string {
		a, ok := apps[name]
		if !ok {
			t.Fatalf("Application %s not generated", name)
		}
		srcs := a["spec"].(map[string]any)["sources"].([]any)
		return srcs[1].(map[string]any)["targetRevision"].(string)
	}
	// develop runs the default argo-cd chart; staging and prod are pinned.
	if v := chartVersion("addon-argo-cd-eks-develop-clienta-services"); v != "10.1.1" {
		t.Errorf("develop argo-cd chart = %s, want 10.1.1", v)
	}
	for _, c := range []string{"eks-staging-clienta-services", "eks-prod-clienta-services"} {
		if v := chartVersion("addon-argo-cd-" + c); v != "6.6.0" {
			t.Errorf("%s argo-cd chart = %s, want the 6.6.0 pin", c, v)
		}
	}
	// clientB does not enable crossplane.
	if _, ok := apps["addon-crossplane-eks-develop-clientb-services"]; ok {
		t.Error("crossplane generated for clientB, which does not enable it")
	}
	a := apps["addon-kube-prometheus-stack-eks-develop-clientb-services"]
	spec := a["spec"].(map[string]any)
	if spec["project"] != "observability" {
		t.Errorf("project = %v, want observability", spec["project"])
	}
	vf := spec["sources"].([]any)[1].(map[string]any)["helm"].(map[string]any)["valueFiles"].([]any)
	want := []any{
		"$values/environments/default/addons/kube-prometheus-stack/values.yaml",
		"$values/environments/develop/addons/kube-prometheus-stack/values.yaml",
		"$values/clusters/eks-develop-clientB-services/addons/kube-prometheus-stack/values.yaml",
	}
	if strings.Join(toStrings(vf), ",") != strings.Join(toStrings(want), ",") {
		t.Errorf("valueFiles = %v, want %v", vf, want)
	}
	if _, ok := a["metadata"].(map[string]any)["finalizers"]; ok {
		t.Error("preserveResourcesOnDeletion must suppress the resources finalizer")
	}
}

// TestShippedTreeIsProductionOnly: the shipped tree generates the production
// fleet only. The local fleet's clusters, loopback URLs and fixed passwords
// live in its overlay (hack/local-fleet/overlay), laid over the tree only by
// hubctl up.
func TestShippedTreeIsProductionOnly(t *testing.T) {
	out, errOut, code := run(t, "generate", "--repo", repoRoot, "-o", "yaml")
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, bad := range []string{"127.0.0.1", "local-develop", "local-staging", "provider: local"} {
		if strings.Contains(out, bad) {
			t.Errorf("generate on the shipped tree mentions %q", bad)
		}
	}
	for _, top := range []string{"bootstrap", "clusters", "environments"} {
		err := filepath.WalkDir(filepath.Join(repoRoot, top), func(p string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			for _, bad := range []string{"127.0.0.1", "adminPassword:"} {
				if strings.Contains(string(data), bad) {
					t.Errorf("%s: a local-fleet fixture (%q) in the production tree", p, bad)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

func toStrings(l []any) []string {
	out := make([]string, len(l))
	for i, v := range l {
		out[i], _ = v.(string)
	}
	return out
}

// TestGenerateChartMirror: the addons_chart_repository annotation points every
// chart of a cluster at a mirror without editing the ApplicationSets.
func TestGenerateChartMirror(t *testing.T) {
	src, err := os.ReadFile(filepath.Join(repoRoot, "clusters/eks-develop-clientA-services/cluster.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	mirrored := strings.Replace(string(src), "  annotations:\n", "  annotations:\n    addons_chart_repository: http://127.0.0.1:8879\n", 1)
	if mirrored == string(src) {
		t.Fatal("cluster.yaml has no annotations block to extend")
	}
	f := filepath.Join(t.TempDir(), "clusters.yaml")
	if err := os.WriteFile(f, []byte(mirrored), 0o600); err != nil {
		t.Fatal(err)
	}
	out, errOut, code := run(t, "generate", "--repo", repoRoot, "--clusters", f)
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if n := strings.Count(out, "repoURL: http://127.0.0.1:8879\n"); n != 7 {
		t.Errorf("%d chart sources point at the mirror, want all 7 addons", n)
	}
	if strings.Contains(out, "argoproj.github.io") {
		t.Error("an upstream chart repository is still used")
	}
}

// TestGenerateBadInput: each bad input exits 2 with a message naming the file
// (and line) and the object, and prints nothing on stdout.
func TestGenerateBadInput(t *testing.T) {
	clusters := filepath.Join(repoRoot, "clusters/eks-develop-clientA-services/cluster.yaml")
	for _, tc := range []struct {
		name string
		args []string
		want []string
	}{
		{"malformed YAML", []string{"--appset", "testdata/bad/malformed.yaml"}, []string{"testdata/bad/malformed.yaml:1", "invalid YAML", "line 7"}},
		{"unknown generator field", []string{"--appset", "testdata/bad/unknown-field.yaml"}, []string{"testdata/bad/unknown-field.yaml:9:", "ApplicationSet/typo", `unknown field "selektor"`}},
		{"invalid selector operator", []string{"--appset", "testdata/bad/bad-operator.yaml"}, []string{"testdata/bad/bad-operator.yaml:1", `ApplicationSet "bad-operator"`, "spec.generators[0].clusters", "Equals"}},
		{"template error", []string{"--appset", "testdata/bad/template-error.yaml"}, []string{"testdata/bad/template-error.yaml:1", `ApplicationSet "template-error"`, "spec.generators[0]", `map has no entry for key "nam"`}},
		{"Secret that is not a cluster Secret", []string{"--clusters", "testdata/bad/not-a-cluster.yaml"}, []string{"testdata/bad/not-a-cluster.yaml:12", `Secret "repo-creds"`, "not an Argo CD cluster Secret"}},
		{"not a Secret", []string{"--clusters", "testdata/bad/configmap.yaml"}, []string{"testdata/bad/configmap.yaml:1", "v1/ConfigMap is not a Secret"}},
		{"missing ApplicationSet file", []string{"--appset", "testdata/bad/nope.yaml"}, []string{"testdata/bad/nope.yaml", "no such file"}},
		{"file without ApplicationSet", []string{"--appset", "testdata/bad/configmap.yaml"}, []string{"testdata/bad/configmap.yaml: no ApplicationSet found"}},
		{"unknown cluster filter", []string{"--cluster", "nope"}, []string{"--cluster nope"}},
		{"bad output format", []string{"-o", "xml"}, []string{`--output "xml"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := []string{"generate", "--repo", repoRoot}
			for i, a := range tc.args {
				if i > 0 && tc.args[i-1] == "--appset" {
					a = absPath(t, a) // with --repo, a relative --appset is read from the repository
				}
				args = append(args, a)
			}
			if !contains(tc.args, "--clusters") {
				args = append(args, "--clusters", clusters)
			}
			out, errOut, code := run(t, args...)
			if code != ExitError {
				t.Errorf("exit %d, want %d", code, ExitError)
			}
			if out != "" {
				t.Errorf("stdout not empty:\n%s", out)
			}
			for _, w := range tc.want {
				if !strings.Contains(errOut, w) {
					t.Errorf("stderr does not name %q:\n%s", w, errOut)
				}
			}
		})
	}
}

func absPath(t *testing.T, p string) string {
	t.Helper()
	a, err := filepath.Abs(p)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func contains(l []string, s string) bool {
	for _, v := range l {
		if v == s {
			return true
		}
	}
	return false
}

// TestGenerateInvalidApplications: per-Application errors behave as in Argo
// CD (applicationset_controller.go validateGeneratedApplications): the
// invalid ones are reported and left out, the valid ones printed, exit 1.
func TestGenerateInvalidApplications(t *testing.T) {
	out, errOut, code := run(t, "generate", "--repo", repoRoot, "--appset", absPath(t, "testdata/bad/invalid-apps.yaml"), "-o", "table")
	if code != ExitFindings {
		t.Fatalf("exit %d, want %d; stderr:\n%s", code, ExitFindings, errOut)
	}
	for _, w := range []string{
		"contains applications with duplicate name: probe-dup",
		"there are no clusters with this name: no-such-cluster",
		"testdata/bad/invalid-apps.yaml:1",
	} {
		if !strings.Contains(errOut, w) {
			t.Errorf("stderr lacks %q:\n%s", w, errOut)
		}
	}
	golden(t, "generate-invalid-apps.table", out)
	yamlOut, _, _ := run(t, "generate", "--repo", repoRoot, "--appset", absPath(t, "testdata/bad/invalid-apps.yaml"))
	if n := strings.Count(yamlOut, "kind: Application\n"); n != 3 {
		t.Errorf("%d Applications printed, want the 3 valid ones (one per develop cluster)", n)
	}
	if strings.Contains(yamlOut, "probe-dup") || strings.Contains(yamlOut, "probe-lost") {
		t.Error("an invalid Application was printed")
	}
}

// TestGenerateClusterFilter keeps one cluster's Applications.
func TestGenerateClusterFilter(t *testing.T) {
	out, _, code := run(t, "generate", "--repo", repoRoot, "--cluster", "eks-develop-clientB-services")
	if code != ExitOK {
		t.Fatal(code)
	}
	if n := strings.Count(out, "kind: Application\n"); n != 4 {
		t.Errorf("%d Applications for clientB, want 4 (argocd, external-secrets, kube-prometheus-stack, ingress-nginx)", n)
	}
	if strings.Count(out, "name: eks-develop-clientB-services\n") != 4 {
		t.Error("an Application for another cluster was printed")
	}
}

// TestGenerateClustersKubectlList: --clusters takes what the README's recipe
// (kubectl get secret -o yaml) writes, a v1 List, from a file or from
// standard input with "-".
func TestGenerateClustersKubectlList(t *testing.T) {
	var items []string
	for _, name := range []string{"eks-develop-clientA-services", "eks-develop-clientB-services"} {
		data, err := os.ReadFile(filepath.Join(repoRoot, "clusters", name, "cluster.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		var obj map[string]any
		if err := yaml.Unmarshal(data, &obj); err != nil {
			t.Fatal(err)
		}
		b, err := yaml.Marshal(obj)
		if err != nil {
			t.Fatal(err)
		}
		items = append(items, "- "+strings.ReplaceAll(strings.TrimSpace(string(b)), "\n", "\n  "))
	}
	list := "apiVersion: v1\nitems:\n" + strings.Join(items, "\n") + "\nkind: List\nmetadata:\n  resourceVersion: \"\"\n"
	file := filepath.Join(t.TempDir(), "fleet.yaml")
	if err := os.WriteFile(file, []byte(list), 0o644); err != nil {
		t.Fatal(err)
	}
	fromFile, errOut, code := run(t, "generate", "--repo", repoRoot, "--clusters", file, "-o", "table")
	if code != ExitOK {
		t.Fatalf("--clusters LIST: exit %d: %s", code, errOut)
	}
	if !strings.Contains(fromFile, "eks-develop-clientA-services") || !strings.Contains(fromFile, "eks-develop-clientB-services") || strings.Contains(fromFile, "eks-prod") {
		t.Errorf("table:\n%s", fromFile)
	}
	var out, stderr bytes.Buffer
	code = Run(context.Background(), []string{"generate", "--repo", repoRoot, "--clusters", "-", "-o", "table"},
		Streams{In: strings.NewReader(list), Out: &out, ErrOut: &stderr})
	if code != ExitOK || out.String() != fromFile {
		t.Errorf("--clusters -: exit %d, stderr %s\n%s", code, stderr.String(), out.String())
	}
	_, errOut, code = run(t, "generate", "--repo", repoRoot, "--clusters", "-", "--clusters", "-")
	if code != ExitError || !strings.Contains(errOut, "twice") {
		t.Errorf("stdin twice: exit %d: %s", code, errOut)
	}
}

// TestRepoRootDiscovery: run from a subdirectory of the repository, hubctl
// finds the repository's root as git does; outside any repository, the
// error names the path it tried. With --repo, a relative --appset is a file
// of the repository.
func TestRepoRootDiscovery(t *testing.T) {
	root, err := filepath.Abs(repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	want, _, code := run(t, "generate", "--repo", root, "-o", "table")
	if code != ExitOK {
		t.Fatal(code)
	}
	t.Chdir(filepath.Join(root, "environments", "develop"))
	got, errOut, code := run(t, "generate", "-o", "table")
	if code != ExitOK || got != want {
		t.Errorf("from a subdirectory: exit %d, %s\n%s", code, errOut, got)
	}

	outside := t.TempDir()
	t.Chdir(outside)
	_, errOut, code = run(t, "generate")
	if code != ExitError || !strings.Contains(errOut, outside) || !strings.Contains(errOut, "--repo") {
		t.Errorf("outside a repository: exit %d: %s", code, errOut)
	}

	const appset = "bootstrap/control-plane/addons/oss/appset-argocd.yaml"
	out, errOut, code := run(t, "generate", "--repo", root, "--appset", appset, "-o", "table")
	if code != ExitOK || !strings.Contains(out, "ADDONS-ARGOCD") || strings.Contains(out, "ADDONS-BACKSTAGE") {
		t.Errorf("--repo with a relative --appset: exit %d: %s\n%s", code, errOut, out)
	}
	if _, errOut, code := run(t, "generate", "--repo", root, "--appset", "../x.yaml"); code != ExitError || !strings.Contains(errOut, "outside the repository") {
		t.Errorf("--appset ../x.yaml: exit %d: %s", code, errOut)
	}
}
