package action

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/gitops-hub/gitops-hub/pkg/generate"
	"github.com/gitops-hub/gitops-hub/pkg/render"
)

// Values computes the merged Helm values of one Application with, for
// every key, the layer that set it.
type Values struct {
	Render
	Cluster string
	Addon   string
}

// ValuesResult is the outcome of Values.
type ValuesResult struct {
	App     *generate.Application
	Chart   string
	Merged  map[string]any
	Origin  map[string]string
	Layers  []string
	Missing []string
}

// Run finds the Application of Addon on Cluster and merges its values.
func (v *Values) Run(ctx context.Context) (*ValuesResult, error) {
	gen, opts, err := v.Render.prepare(ctx)
	if err != nil {
		return nil, err
	}
	var match []*generate.Application
	var onCluster []string
	for _, a := range gen.Apps {
		if DestinationCluster(gen.Registry, a) != v.Cluster {
			continue
		}
		onCluster = append(onCluster, a.Name)
		if a.Name == v.Addon || a.AppSet == v.Addon || strings.TrimPrefix(a.AppSet, "addons-") == v.Addon || chartOf(a) == v.Addon {
			match = append(match, a)
		}
	}
	switch {
	case len(match) == 0 && len(onCluster) == 0:
		return nil, fmt.Errorf("no Application is deployed to cluster %q", v.Cluster)
	case len(match) == 0:
		sort.Strings(onCluster)
		return nil, fmt.Errorf("no Application %q on cluster %s; it has: %s", v.Addon, v.Cluster, strings.Join(onCluster, ", "))
	case len(match) > 1:
		return nil, fmt.Errorf("%q matches %d Applications on cluster %s: name one by its Application name", v.Addon, len(match), v.Cluster)
	}
	in, ch, err := render.New(opts).HelmValues(ctx, match[0])
	if err != nil {
		return nil, err
	}
	layers, err := in.Layers()
	if err != nil {
		return nil, err
	}
	chartLayer := fmt.Sprintf("chart %s-%s values.yaml", ch.Metadata.Name, ch.Metadata.Version)
	// Helm's own merge (the values render uses), each leaf annotated with
	// the layer that set it.
	merged, origin, err := in.Coalesce(chartLayer, ch.Values)
	if err != nil {
		return nil, err
	}
	res := &ValuesResult{App: match[0], Chart: ch.Metadata.Name + "-" + ch.Metadata.Version, Merged: merged, Origin: origin, Missing: in.Missing}
	res.Layers = append(res.Layers, chartLayer)
	for _, l := range layers {
		res.Layers = append(res.Layers, l.Name)
	}
	return res, nil
}
