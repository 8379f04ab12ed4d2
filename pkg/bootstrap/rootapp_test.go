package bootstrap

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// The repository's own root Application, read from the tree.
func readRootApp(t *testing.T) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", filepath.FromSlash(RootAppPath)))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestRootApplicationRewritesRepoURLOnly(t *testing.T) {
	data := readRootApp(t)
	orig, err := RootApplication(data, "", "", "")
	if err != nil {
		t.Fatalf("parse unchanged: %v", err)
	}
	const url = "file:///tmp/fleet/gitops-hub.git"
	app, err := RootApplication(data, url, "", "argocd")
	if err != nil {
		t.Fatal(err)
	}
	if got, _, _ := unstructured.NestedString(app.Object, "spec", "source", "repoURL"); got != url {
		t.Errorf("repoURL = %q, want %q", got, url)
	}
	if got, _, _ := unstructured.NestedString(orig.Object, "spec", "source", "repoURL"); got != "https://github.com/gitops-hub/gitops-hub.git" {
		t.Errorf("unchanged repoURL = %q", got)
	}
	// Everything else is kept: put the original URL back and compare whole objects.
	back := app.DeepCopy()
	if err := unstructured.SetNestedField(back.Object, "https://github.com/gitops-hub/gitops-hub.git", "spec", "source", "repoURL"); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back.Object, orig.Object) {
		t.Errorf("more than repoURL changed:\n got %v\nwant %v", back.Object, orig.Object)
	}
	for _, c := range []struct {
		path []string
		want string
	}{
		{[]string{"metadata", "name"}, "hub-root"},
		{[]string{"metadata", "namespace"}, "argocd"},
		{[]string{"spec", "project"}, "default"},
		{[]string{"spec", "source", "targetRevision"}, "main"},
		{[]string{"spec", "source", "path"}, "bootstrap/control-plane"},
		{[]string{"spec", "destination", "server"}, "https://kubernetes.default.svc"},
	} {
		if got, _, _ := unstructured.NestedString(app.Object, c.path...); got != c.want {
			t.Errorf("%s = %q, want %q", strings.Join(c.path, "."), got, c.want)
		}
	}
	if got, _, _ := unstructured.NestedBool(app.Object, "spec", "source", "directory", "recurse"); !got {
		t.Error("spec.source.directory.recurse lost")
	}
	if got, _, _ := unstructured.NestedBool(app.Object, "spec", "syncPolicy", "automated", "selfHeal"); !got {
		t.Error("spec.syncPolicy.automated.selfHeal lost")
	}
	if app.GetAPIVersion() != "argoproj.io/v1alpha1" || app.GetKind() != "Application" {
		t.Errorf("type = %s %s", app.GetAPIVersion(), app.GetKind())
	}
}

func TestRootApplicationRevisionAndNamespace(t *testing.T) {
	app, err := RootApplication(readRootApp(t), "http://127.0.0.1:9418/gitops-hub.git", "local", "gitops")
	if err != nil {
		t.Fatal(err)
	}
	if got, _, _ := unstructured.NestedString(app.Object, "spec", "source", "targetRevision"); got != "local" {
		t.Errorf("targetRevision = %q, want local", got)
	}
	if app.GetNamespace() != "gitops" {
		t.Errorf("namespace = %q, want gitops", app.GetNamespace())
	}
	// The destination is the Application's business, not the namespace it lives in.
	if got, _, _ := unstructured.NestedString(app.Object, "spec", "destination", "namespace"); got != "argocd" {
		t.Errorf("destination.namespace = %q, want argocd (kept)", got)
	}
}

func TestRootApplicationDoesNotAlias(t *testing.T) {
	data := readRootApp(t)
	a, err := RootApplication(data, "file:///a", "", "")
	if err != nil {
		t.Fatal(err)
	}
	b, err := RootApplication(data, "file:///b", "", "")
	if err != nil {
		t.Fatal(err)
	}
	ua, _, _ := unstructured.NestedString(a.Object, "spec", "source", "repoURL")
	ub, _, _ := unstructured.NestedString(b.Object, "spec", "source", "repoURL")
	if ua != "file:///a" || ub != "file:///b" {
		t.Errorf("repoURLs = %q, %q", ua, ub)
	}
}

func TestRootApplicationErrors(t *testing.T) {
	for name, in := range map[string]string{
		"bad yaml":      "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata: [name: x\n",
		"not a mapping": "- a\n- b\n",
		"empty":         "# nothing here\n",
		"no kind":       "apiVersion: argoproj.io/v1alpha1\nmetadata: {name: x}\n",
		"wrong kind":    "apiVersion: argoproj.io/v1alpha1\nkind: ApplicationSet\nmetadata: {name: x}\nspec: {}\n",
		"no name":       "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata: {}\nspec: {source: {repoURL: x}}\n",
		"no source":     "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata: {name: x}\nspec: {}\n",
		"multi source":  "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata: {name: x}\nspec: {sources: [{repoURL: x}]}\n",
		"source scalar": "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata: {name: x}\nspec: {source: x}\n",
		"two documents": "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata: {name: one}\nspec: {source: {repoURL: a}}\n---\napiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata: {name: two}\nspec: {source: {repoURL: b}}\n",
	} {
		t.Run(name, func(t *testing.T) {
			app, err := RootApplication([]byte(in), "file:///repo", "", "argocd")
			if err == nil {
				t.Fatalf("no error; got %v", app)
			}
			if !strings.Contains(err.Error(), "bootstrap/root-app.yaml") {
				t.Errorf("error does not name bootstrap/root-app.yaml: %v", err)
			}
			if testing.Verbose() {
				t.Log(err)
			}
		})
	}
}
