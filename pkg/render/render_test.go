package render

import (
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/gitops-hub/gitops-hub/pkg/apis/argocd/v1alpha1"
	"github.com/gitops-hub/gitops-hub/pkg/generate"
	"github.com/gitops-hub/gitops-hub/pkg/source"
)

const repoURL = "https://git.example.com/org/gitops.git"

// repo is a Git repository with a chart of our own under charts/web and
// values layers at its root.
func repo() fstest.MapFS {
	f := func(s string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(s)} }
	return fstest.MapFS{
		"charts/web/Chart.yaml":         f("apiVersion: v2\nname: web\nversion: 0.1.0\n"),
		"charts/web/values.yaml":        f("replicas: 1\nimage: {repository: nginx, tag: '1.0'}\n"),
		"charts/web/templates/cm.yaml":  f("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: web}\ndata:\n  replicas: {{ .Values.replicas | quote }}\n  tag: {{ .Values.image.tag | quote }}\n"),
		"charts/web/env/prod.yaml":      f("replicas: 3\n"),
		"environments/prod/values.yaml": f("image: {tag: '2.0'}\n"),
	}
}

func app(t *testing.T, spec string) *generate.Application {
	t.Helper()
	var a v1alpha1.Application
	a.APIVersion, a.Kind = v1alpha1.APIVersion, v1alpha1.ApplicationKind
	a.Name, a.Namespace = "web", "argocd"
	if err := json.Unmarshal([]byte(spec), &a.Spec); err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(a)
	var obj map[string]any
	_ = json.Unmarshal(b, &obj)
	return &generate.Application{Name: a.Name, Namespace: a.Namespace, AppSet: "s", Object: obj}
}

func renderer() *Renderer {
	repos := &source.Repos{}
	repos.Add(repoURL, repo())
	return New(Options{Repos: repos})
}

// TestOneWalk: HelmValues resolves a source exactly as Render does (the
// same source.AppSources walk and source directory), so what `hubctl
// values` shows is what is rendered. A path written with a leading "/" is
// relative to the repository root for both (Argo CD's repo-server joins it
// to the checkout); HelmValues used to clean it on its own and fail.
func TestOneWalk(t *testing.T) {
	for _, path := range []string{"charts/web", "/charts/web", "charts/../charts/web/"} {
		t.Run(path, func(t *testing.T) {
			a := app(t, `{"project": "p", "destination": {"server": "https://k", "namespace": "web"},
				"sources": [
					{"repoURL": "`+repoURL+`", "targetRevision": "main", "ref": "values"},
					{"repoURL": "`+repoURL+`", "targetRevision": "main", "path": "`+path+`",
					 "helm": {"valueFiles": ["env/prod.yaml", "$values/environments/prod/values.yaml"]}}]}`)
			r := renderer()
			objs, err := r.Render(context.Background(), a)
			if err != nil {
				t.Fatalf("Render: %v", err)
			}
			in, ch, err := r.HelmValues(context.Background(), a)
			if err != nil {
				t.Fatalf("HelmValues: %v", err)
			}
			if ch.Metadata.Name != "web" {
				t.Errorf("chart %s", ch.Metadata.Name)
			}
			merged, _, err := in.Coalesce("chart", ch.Values)
			if err != nil {
				t.Fatal(err)
			}
			data := objs[0]["data"].(map[string]any)
			if data["replicas"] != "3" || data["tag"] != "2.0" {
				t.Errorf("rendered %v", data)
			}
			if merged["replicas"] != float64(3) || !reflect.DeepEqual(merged["image"], map[string]any{"repository": "nginx", "tag": "2.0"}) {
				t.Errorf("values %v", merged)
			}
		})
	}
}

// TestSameErrors: a parameter Helm rejects fails render and values with
// the same message, Helm's, naming the source.
func TestSameErrors(t *testing.T) {
	a := app(t, `{"project": "p", "destination": {"server": "https://k", "namespace": "web"},
		"source": {"repoURL": "`+repoURL+`", "targetRevision": "main", "path": "charts/web",
		  "helm": {"parameters": [{"name": "list[x]", "value": "1"}]}}}`)
	r := renderer()
	_, rerr := r.Render(context.Background(), a)
	_, _, verr := r.HelmValues(context.Background(), a)
	if rerr == nil || verr == nil {
		t.Fatalf("render error %v, values error %v: want both", rerr, verr)
	}
	want := "Application web spec.source: failed parsing --set data"
	if !strings.Contains(rerr.Error(), want) || rerr.Error() != verr.Error() {
		t.Errorf("render: %v\nvalues: %v\nwant the same message containing %q", rerr, verr, want)
	}
}

func TestSourceLeavingTheRepository(t *testing.T) {
	a := app(t, `{"project": "p", "destination": {"server": "https://k", "namespace": "web"},
		"source": {"repoURL": "`+repoURL+`", "targetRevision": "main", "path": "../other"}}`)
	r := renderer()
	_, rerr := r.Render(context.Background(), a)
	_, _, verr := r.HelmValues(context.Background(), a)
	for _, err := range []error{rerr, verr} {
		if err == nil || !strings.Contains(err.Error(), "path ../other leaves the repository") {
			t.Errorf("want an error naming the path, got %v", err)
		}
	}
}
