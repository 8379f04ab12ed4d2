package bootstrap

import (
	"errors"
	"fmt"
	"io/fs"

	"sigs.k8s.io/yaml"

	"github.com/gitops-hub/gitops-hub/pkg/conventions"
)

// HubSpec is the tree's pin of the hub's Argo CD (conventions.HubChartFile,
// bootstrap/hub/argo-cd.yaml): which chart, from where, released under which name.
type HubSpec struct {
	// RepoURL is the chart's Helm repository (or oci:// registry).
	RepoURL string `json:"repoURL"`
	// Chart is the chart's name in that repository.
	Chart string `json:"chart"`
	// Version is the exact chart version.
	Version string `json:"version"`
	// ReleaseName is the Helm release (default DefaultReleaseName).
	ReleaseName string `json:"releaseName,omitempty"`
	// Namespace is Argo CD's namespace in the hub (default conventions.ArgoCDNamespace).
	Namespace string `json:"namespace,omitempty"`
}

// LoadHubSpec reads the hub's chart pin and its values from the tree: conventions.HubChartFile
// and conventions.HubValuesFile (optional: a missing values file means no values). Unknown
// fields and missing required ones are errors naming the file.
func LoadHubSpec(fsys fs.FS) (*HubSpec, map[string]any, error) {
	data, err := fs.ReadFile(fsys, conventions.HubChartFile)
	if err != nil {
		return nil, nil, fmt.Errorf("the hub's chart pin: %w", err)
	}
	var spec HubSpec
	if err := yaml.UnmarshalStrict(data, &spec); err != nil {
		return nil, nil, fmt.Errorf("%s: %w", conventions.HubChartFile, err)
	}
	for field, v := range map[string]string{"repoURL": spec.RepoURL, "chart": spec.Chart, "version": spec.Version} {
		if v == "" {
			return nil, nil, fmt.Errorf("%s: %s is required", conventions.HubChartFile, field)
		}
	}
	if spec.ReleaseName == "" {
		spec.ReleaseName = DefaultReleaseName
	}
	if spec.Namespace == "" {
		spec.Namespace = conventions.ArgoCDNamespace
	}
	values := map[string]any{}
	data, err = fs.ReadFile(fsys, conventions.HubValuesFile)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return &spec, values, nil
	case err != nil:
		return nil, nil, fmt.Errorf("the hub's chart values: %w", err)
	}
	if err := yaml.Unmarshal(data, &values); err != nil {
		return nil, nil, fmt.Errorf("%s: %w", conventions.HubValuesFile, err)
	}
	if values == nil {
		values = map[string]any{}
	}
	return &spec, values, nil
}
