package bootstrap

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestChartValues(t *testing.T) {
	user := map[string]any{
		"crds":    map[string]any{"install": true, "keep": false}, // install is forced off
		"configs": map[string]any{"cm": map[string]any{"timeout.reconciliation": "5s", "url": "https://argocd.local"}},
		"server":  map[string]any{"replicas": 2},
	}
	got := chartValues(user, true)
	want := map[string]any{
		"crds": map[string]any{"install": false, "keep": false},
		"configs": map[string]any{
			"cm":     map[string]any{"timeout.reconciliation": "5s", "url": "https://argocd.local"},
			"params": map[string]any{"server.insecure": true},
		},
		"server": map[string]any{"replicas": 2},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("chartValues =\n%v\nwant\n%v", got, want)
	}
	// The caller's map is not modified, and the result does not alias it.
	if user["crds"].(map[string]any)["install"] != true {
		t.Error("caller's values modified")
	}
	got["server"].(map[string]any)["replicas"] = 3
	if user["server"].(map[string]any)["replicas"] != 2 {
		t.Error("result aliases the caller's values")
	}

	def := chartValues(nil, true)
	want = map[string]any{
		"crds": map[string]any{"install": false},
		"configs": map[string]any{
			"cm":     map[string]any{"timeout.reconciliation": "10s"},
			"params": map[string]any{"server.insecure": true},
		},
	}
	if !reflect.DeepEqual(def, want) {
		t.Errorf("chartValues(nil, true) =\n%v\nwant\n%v", def, want)
	}
}

func TestReadCRDs(t *testing.T) {
	dir := t.TempDir()
	write := func(name, data string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("kustomization.yaml", "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [a.yaml]\n")
	write("b.yaml", "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {name: bs.example.com}\n---\n# empty\n---\napiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {name: cs.example.com}\n")
	write("a.yaml", "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {name: as.example.com}\n")
	write("README.md", "not yaml: [")
	write("other.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n")
	crds, err := ReadCRDs(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got := crdNames(crds); got != "as.example.com, bs.example.com, cs.example.com" {
		t.Errorf("CRDs = %s", got)
	}

	empty := t.TempDir()
	if _, err := ReadCRDs(empty); err == nil || !strings.Contains(err.Error(), "no CustomResourceDefinition") {
		t.Errorf("empty folder: err = %v", err)
	}
	if _, err := ReadCRDs(filepath.Join(empty, "missing")); err == nil {
		t.Error("missing folder: no error")
	}
	write("bad.yaml", "kind: [")
	if _, err := ReadCRDs(dir); err == nil || !strings.Contains(err.Error(), "bad.yaml") {
		t.Errorf("bad file: err = %v", err)
	}
}

func TestDefaultCRDDir(t *testing.T) {
	t.Setenv("GITOPS_HUB_CACHE", "/cache/gh")
	if got, want := DefaultCRDDir(), "/cache/gh/argocd-"+ArgoCDVersion+"/crds"; got != want {
		t.Errorf("with $GITOPS_HUB_CACHE: %q, want %q", got, want)
	}
	t.Setenv("GITOPS_HUB_CACHE", "")
	t.Setenv("XDG_CACHE_HOME", "/xdg")
	if got, want := DefaultCRDDir(), "/xdg/gitops-hub/argocd-"+ArgoCDVersion+"/crds"; got != want {
		t.Errorf("with $XDG_CACHE_HOME: %q, want %q", got, want)
	}
	t.Setenv("XDG_CACHE_HOME", "")
	t.Setenv("HOME", "/home/u")
	if got, want := DefaultCRDDir(), "/home/u/.cache/gitops-hub/argocd-"+ArgoCDVersion+"/crds"; got != want {
		t.Errorf("with $HOME: %q, want %q", got, want)
	}
}

// ArgoCDVersion must be the version hack/tools/build.sh builds and copies the CRDs of.
func TestArgoCDVersionMatchesBuildScript(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "hack", "tools", "build.sh"))
	if err != nil {
		t.Skipf("hack/tools/build.sh: %v", err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "ARGOCD_VERSION="); ok {
			if v = strings.Fields(v)[0]; v != ArgoCDVersion {
				t.Errorf("hack/tools/build.sh pins Argo CD %s, bootstrap.ArgoCDVersion is %s", v, ArgoCDVersion)
			}
			return
		}
	}
	t.Error("no ARGOCD_VERSION= line in hack/tools/build.sh")
}
