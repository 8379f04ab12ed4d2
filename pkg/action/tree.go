package action

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/gitops-hub/gitops-hub/pkg/bootstrap"
	"github.com/gitops-hub/gitops-hub/pkg/conventions"
	"github.com/gitops-hub/gitops-hub/pkg/kube"
	"github.com/gitops-hub/gitops-hub/pkg/loader"
	"github.com/gitops-hub/gitops-hub/pkg/registry"
)

// Addons lists the addon names the tree's ApplicationSets select on (every label key
// enable_<addon> found in them), sorted.
func Addons(fsys fs.FS) ([]string, error) {
	appsets, err := treeObjects(fsys, conventions.BootstrapDir, "ApplicationSet", false)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, e := range v {
				if strings.HasPrefix(k, conventions.EnablePrefix) && len(k) > len(conventions.EnablePrefix) {
					seen[strings.TrimPrefix(k, conventions.EnablePrefix)] = true
				}
				walk(e)
			}
		case []any:
			for _, e := range v {
				walk(e)
			}
		}
	}
	for _, o := range appsets {
		walk(o.Object["spec"])
	}
	out := make([]string, 0, len(seen))
	for a := range seen {
		out = append(out, a)
	}
	sort.Strings(out)
	return out, nil
}

// treeObjects reads the argoproj.io objects of kind from the YAML files under dir. strict makes
// a file that is not Kubernetes YAML an error naming it; otherwise (values files live in the
// same folders) it is skipped.
func treeObjects(fsys fs.FS, dir, kind string, strict bool) ([]*unstructured.Unstructured, error) {
	paths, err := loader.WalkYAML(fsys, dir)
	if err != nil {
		return nil, err
	}
	var out []*unstructured.Unstructured
	for _, p := range paths {
		data, err := fs.ReadFile(fsys, p)
		if err != nil {
			return nil, err
		}
		objs, err := kube.DecodeYAML(data)
		if err != nil {
			if strict {
				return nil, fmt.Errorf("%s: %w", p, err)
			}
			continue
		}
		for _, o := range objs {
			if o.GetKind() == kind && o.GroupVersionKind().Group == "argoproj.io" {
				out = append(out, o)
			}
		}
	}
	return out, nil
}

// RootSourceInfo is where the root Application reads the tree.
type RootSourceInfo struct{ RepoURL, Revision string }

// RootSource reads the root Application's repoURL and targetRevision.
func RootSource(fsys fs.FS) (*RootSourceInfo, error) {
	data, err := fs.ReadFile(fsys, conventions.RootApp)
	if err != nil {
		return nil, err
	}
	app, err := bootstrap.RootApplication(data, "", "", "")
	if err != nil {
		return nil, err
	}
	u, _, _ := unstructured.NestedString(app.Object, "spec", "source", "repoURL")
	r, _, _ := unstructured.NestedString(app.Object, "spec", "source", "targetRevision")
	return &RootSourceInfo{RepoURL: u, Revision: r}, nil
}

// ClusterNames lists the registry's cluster names (for shell completion).
func ClusterNames(fsys fs.FS) []string {
	reg, err := registry.LoadGlob(fsys, conventions.ClusterRegistry)
	if err != nil {
		return nil
	}
	out := make([]string, len(reg.Clusters))
	for i, c := range reg.Clusters {
		out[i] = c.Name
	}
	return out
}

func jsonMarshal(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encoding: %w", err)
	}
	return b, nil
}
