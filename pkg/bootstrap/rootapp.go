package bootstrap

import (
	"fmt"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/gitops-hub/gitops-hub/pkg/conventions"
	"github.com/gitops-hub/gitops-hub/pkg/kube"
)

// RootAppPath is where the root Application lives in the repository; errors about it name it.
const RootAppPath = conventions.RootApp

// RootApplication parses the root Application (the contents of bootstrap/root-app.yaml) and
// points it at the hub's view of this repository:
//   - spec.source.repoURL becomes repoURL ("" keeps the file's value);
//   - spec.source.targetRevision becomes revision ("" keeps the file's value);
//   - metadata.namespace becomes namespace ("" keeps the file's value).
//
// Everything else (name, project, path, destination, sync policy, ...) is kept as written.
// The input must hold exactly one argoproj.io Application with a single spec.source. Errors
// name bootstrap/root-app.yaml.
func RootApplication(rootApp []byte, repoURL, revision, namespace string) (*unstructured.Unstructured, error) {
	docs, err := kube.DecodeYAML(rootApp)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", RootAppPath, err)
	}
	if len(docs) != 1 {
		return nil, fmt.Errorf("%s: want exactly one YAML document (the root Application), found %d", RootAppPath, len(docs))
	}
	app := docs[0]
	gvk := app.GroupVersionKind()
	if gvk.Group != "argoproj.io" || gvk.Kind != "Application" {
		return nil, fmt.Errorf("%s: want an argoproj.io Application, found apiVersion %q kind %q", RootAppPath, app.GetAPIVersion(), app.GetKind())
	}
	if app.GetName() == "" {
		return nil, fmt.Errorf("%s: the Application has no metadata.name", RootAppPath)
	}
	source, found, err := unstructured.NestedMap(app.Object, "spec", "source")
	if err != nil {
		return nil, fmt.Errorf("%s: spec.source: %w", RootAppPath, err)
	}
	if !found {
		if _, multi, _ := unstructured.NestedFieldNoCopy(app.Object, "spec", "sources"); multi {
			return nil, fmt.Errorf("%s: spec.sources (multi-source) is not supported for the root Application: use a single spec.source", RootAppPath)
		}
		return nil, fmt.Errorf("%s: the Application has no spec.source", RootAppPath)
	}
	if repoURL != "" {
		source["repoURL"] = repoURL
	}
	if revision != "" {
		source["targetRevision"] = revision
	}
	if err := unstructured.SetNestedMap(app.Object, source, "spec", "source"); err != nil {
		return nil, fmt.Errorf("%s: spec.source: %w", RootAppPath, err)
	}
	if namespace != "" {
		app.SetNamespace(namespace)
	}
	return app, nil
}
