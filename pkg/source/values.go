package source

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/cli/values"
	"helm.sh/helm/v3/pkg/getter"
)

// UserValues returns the values `helm template` computes from the flags
// Argo CD's repo-server passes for in (util/helm/cmd.go template): every
// --values file in order, the inline values last among them
// (reposerver/repository/repository.go helmTemplate: ExtraValues), then
// every --set, --set-string and --set-file, their values escaped by
// cleanSetParameters (SetExpression). The merge is Helm's own
// (pkg/cli/values Options.MergeValues, which reads files): the inputs are
// written to a private temporary directory, whose paths are replaced by the
// inputs' names in Helm's error messages. The chart's defaults are not
// included; Helm coalesces them when it renders (see Coalesce).
//
// hubctl render and hubctl values both call it, so that a value file or a
// parameter Helm rejects fails both with the same message.
func (in *HelmInputs) UserValues() (map[string]any, error) {
	dir, err := os.MkdirTemp("", "hubctl-helm-values-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)

	names := map[string]string{}
	write := func(base, name string, data []byte) (string, error) {
		p := filepath.Join(dir, base)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			return "", err
		}
		names[p] = name
		return p, nil
	}
	var opts values.Options
	for i, f := range in.ValueFiles {
		p, err := write(fmt.Sprintf("values-%04d.yaml", i), orNumbered(f.Name, i, "values file"), f.Data)
		if err != nil {
			return nil, err
		}
		opts.ValueFiles = append(opts.ValueFiles, p)
	}
	if len(in.Values) > 0 {
		field := in.ValuesField
		if field == "" {
			field = "values"
		}
		p, err := write("values-inline.yaml", "helm."+field, in.Values)
		if err != nil {
			return nil, err
		}
		opts.ValueFiles = append(opts.ValueFiles, p)
	}
	// A name given twice keeps its last value, in the position of its first
	// (Argo CD collects each kind in a map).
	set, setString := newOrderedMap(), newOrderedMap()
	for _, p := range in.Parameters {
		if p.ForceString {
			setString.put(p.Name, p.Value)
		} else {
			set.put(p.Name, p.Value)
		}
	}
	for _, k := range set.keys {
		opts.Values = append(opts.Values, SetExpression(Param{Name: k, Value: set.m[k]}))
	}
	for _, k := range setString.keys {
		opts.StringValues = append(opts.StringValues, SetExpression(Param{Name: k, Value: setString.m[k]}))
	}
	setFile := newOrderedMap()
	for i, f := range in.FileParameters {
		p, err := write(fmt.Sprintf("set-file-%04d", i), "--set-file "+orNumbered(f.Name, i, "parameter"), f.Data)
		if err != nil {
			return nil, err
		}
		setFile.put(f.Name, p)
	}
	for _, k := range setFile.keys {
		opts.FileValues = append(opts.FileValues, setFileExpression(k, setFile.m[k]))
	}
	// No getters: every path is a local file.
	vals, err := opts.MergeValues(getter.Providers{})
	if err != nil {
		msg := err.Error()
		for p, name := range names {
			msg = strings.ReplaceAll(msg, p, name)
		}
		if in.where != "" {
			msg = in.where + ": " + msg
		}
		return nil, errors.New(msg)
	}
	return vals, nil
}

func orNumbered(name string, i int, what string) string {
	if name == "" {
		return fmt.Sprintf("%s #%d", what, i+1)
	}
	return name
}

type orderedMap struct {
	keys []string
	m    map[string]string
}

func newOrderedMap() *orderedMap { return &orderedMap{m: map[string]string{}} }

func (o *orderedMap) put(k, v string) {
	if _, ok := o.m[k]; !ok {
		o.keys = append(o.keys, k)
	}
	o.m[k] = v
}

// Coalesce returns the values Helm renders the parent chart with, and the
// layer that set each leaf: Helm's own merge (UserValues, then
// chartutil.CoalesceValues with the chart's values.yaml, named chartLayer),
// and the provenance of each leaf from Merge's walk over the same layers.
// Subcharts' defaults and globals are left out, as in Merge. A parameter
// Helm rejects is an error, the one UserValues returns.
func (in *HelmInputs) Coalesce(chartLayer string, chartValues map[string]any) (merged map[string]any, origin map[string]string, err error) {
	user, err := in.UserValues()
	if err != nil {
		return nil, nil, err
	}
	parent := &chart.Chart{Metadata: &chart.Metadata{Name: "parent"}, Values: deepCopyMap(chartValues)}
	merged, err = chartutil.CoalesceValues(parent, user)
	if err != nil {
		return nil, nil, err
	}
	layers, err := in.Layers()
	if err != nil {
		return nil, nil, err
	}
	_, origin, err = MergeChecked(append([]Layer{{Name: chartLayer, Values: chartValues}}, layers...))
	if err != nil {
		return nil, nil, err
	}
	return merged, origin, nil
}
