package render

import (
	"context"
	"testing"
	"testing/fstest"

	"sigs.k8s.io/yaml"

	"github.com/gitops-hub/gitops-hub/pkg/generate"
	"github.com/gitops-hub/gitops-hub/pkg/source"
)

const fleetRepoURL = "https://git.example.test/fleet.git"

func testApp(t *testing.T, spec string) *generate.Application {
	t.Helper()
	var o map[string]any
	if err := yaml.Unmarshal([]byte("apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata: {name: web-alpha, namespace: argocd}\nspec:\n"+spec), &o); err != nil {
		t.Fatal(err)
	}
	return &generate.Application{Name: "web-alpha", Namespace: "argocd", Object: o}
}

func digest(t *testing.T, files fstest.MapFS, app *generate.Application) (string, bool) {
	t.Helper()
	repos := &source.Repos{}
	repos.Add(fleetRepoURL, files)
	return New(Options{Repos: repos}).InputDigest(context.Background(), app)
}

// TestInputDigest: equal digests exactly when what the render reads is
// equal: a values layer the Application reads changes it, another file of
// the repository does not.
func TestInputDigest(t *testing.T) {
	helmApp := testApp(t, `  destination: {name: alpha, namespace: web}
  sources:
    - {repoURL: `+fleetRepoURL+`, targetRevision: main, ref: values}
    - repoURL: https://charts.example.test
      chart: web
      targetRevision: 1.0.0
      helm:
        ignoreMissingValueFiles: true
        valueFiles: [$values/environments/default/web.yaml, $values/clusters/alpha/web.yaml]
`)
	base := fstest.MapFS{
		"environments/default/web.yaml": {Data: []byte("replicas: 2\n")},
		"clusters/beta/web.yaml":        {Data: []byte("replicas: 5\n")},
	}
	d0, ok := digest(t, base, helmApp)
	if !ok {
		t.Fatal("no digest for a Helm Application")
	}
	other := fstest.MapFS{
		"environments/default/web.yaml": base["environments/default/web.yaml"],
		"clusters/beta/web.yaml":        {Data: []byte("replicas: 6\n")},
	}
	if d, _ := digest(t, other, helmApp); d != d0 {
		t.Error("a file the Application does not read changed its digest")
	}
	changed := fstest.MapFS{"environments/default/web.yaml": {Data: []byte("replicas: 3\n")}}
	if d, _ := digest(t, changed, helmApp); d == d0 {
		t.Error("a changed values layer kept the digest")
	}
	added := fstest.MapFS{
		"environments/default/web.yaml": base["environments/default/web.yaml"],
		"clusters/alpha/web.yaml":       {Data: []byte("replicas: 1\n")},
	}
	if d, _ := digest(t, added, helmApp); d == d0 {
		t.Error("a new (previously missing) values layer kept the digest")
	}
	bumped := testApp(t, `  destination: {name: alpha, namespace: web}
  sources:
    - {repoURL: `+fleetRepoURL+`, targetRevision: main, ref: values}
    - repoURL: https://charts.example.test
      chart: web
      targetRevision: 1.0.1
      helm:
        ignoreMissingValueFiles: true
        valueFiles: [$values/environments/default/web.yaml, $values/clusters/alpha/web.yaml]
`)
	if d, _ := digest(t, base, bumped); d == d0 {
		t.Error("a chart version bump kept the digest")
	}

	dirApp := testApp(t, "  destination: {name: alpha, namespace: web}\n  source: {repoURL: "+fleetRepoURL+", path: manifests/web}\n")
	m1 := fstest.MapFS{"manifests/web/cm.yaml": {Data: []byte("kind: ConfigMap\n")}, "README.md": {Data: []byte("a")}}
	m2 := fstest.MapFS{"manifests/web/cm.yaml": {Data: []byte("kind: ConfigMap\n")}, "README.md": {Data: []byte("b")}}
	m3 := fstest.MapFS{"manifests/web/cm.yaml": {Data: []byte("kind: ConfigMap\nmetadata: {}\n")}, "README.md": {Data: []byte("a")}}
	a, ok1 := digest(t, m1, dirApp)
	b, ok2 := digest(t, m2, dirApp)
	c, _ := digest(t, m3, dirApp)
	if !ok1 || !ok2 || a != b || a == c {
		t.Errorf("directory source: digests %v %v %v (ok %v %v)", a[:8], b[:8], c[:8], ok1, ok2)
	}

	kust := fstest.MapFS{"manifests/web/kustomization.yaml": {Data: []byte("resources: [../base]\n")}}
	if _, ok := digest(t, kust, dirApp); ok {
		t.Error("a Kustomize source (may read outside its directory) has a digest")
	}
	if _, ok := digest(t, fstest.MapFS{}, testApp(t, "  destination: {name: alpha, namespace: web}\n  source: {repoURL: https://elsewhere.example.test/x.git, path: x}\n")); ok {
		t.Error("a repository not available offline has a digest")
	}
}
