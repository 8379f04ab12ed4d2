package action

import (
	"strings"
	"testing"

	"github.com/gitops-hub/gitops-hub/pkg/generate"
	"github.com/gitops-hub/gitops-hub/pkg/render"
)

func result(cluster, ns, name string) render.Result {
	return render.Result{Cluster: cluster, App: &generate.Application{Name: name, Namespace: ns}}
}

// TestTreePaths: the file of each Application under --out. Same-name
// Applications of one cluster get a namespace folder each; names that
// cannot be files, and two Applications that would share a file, fail
// alone and name the Application and cluster.
func TestTreePaths(t *testing.T) {
	results := []render.Result{
		result("c1", "argocd", "app"),
		result("c1", "team", "app"),
		result("c1", "argocd", "other"),
		result("c2", "argocd", "app"),
		result("c3", "argocd", "twice"), // the same name and namespace twice
		result("c3", "argocd", "twice"),
		result(".hubctl-render", "argocd", "marker"),
		result("c4", "", "no-ns"),
		result("c4", "", "no-ns"), // a namespace folder is needed, but there is no namespace
		result("c5", "argocd", strings.Repeat("n", 251)),
		result("", "argocd", "no-cluster"),
	}
	paths, errs := TreePaths(results)
	want := []string{"c1/argocd/app.yaml", "c1/team/app.yaml", "c1/other.yaml", "c2/app.yaml"}
	for i, w := range want {
		if paths[i] != w || errs[i] != nil {
			t.Errorf("%s/%s/%s: %q, %v; want %s", results[i].Cluster, results[i].App.Namespace, results[i].App.Name, paths[i], errs[i], w)
		}
	}
	for i := len(want); i < len(results); i++ {
		r := results[i]
		if errs[i] == nil || paths[i] != "" {
			t.Errorf("%q/%s/%s: %q, %v; want an error", r.Cluster, r.App.Namespace, r.App.Name, paths[i], errs[i])
			continue
		}
		if msg := errs[i].Error(); !strings.Contains(msg, "Application "+r.App.Name) || !strings.Contains(msg, "cluster \""+r.Cluster+"\"") {
			t.Errorf("error does not name the Application and cluster: %v", errs[i])
		}
	}
}
