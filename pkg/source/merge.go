package source

import (
	"fmt"
	"slices"
	"strings"

	"helm.sh/helm/v3/pkg/strvals"
	"sigs.k8s.io/yaml"
)

// Layer is one source of Helm values, for Merge.
type Layer struct {
	// Name identifies the layer in the provenance ("$values/environments/
	// develop/addons/argo-cd/values.yaml", "--set image.tag=v2", ...).
	Name string
	// Values is a values document (chart defaults, a value file, the inline
	// values), decoded the way Helm decodes YAML (sigs.k8s.io/yaml: maps are
	// map[string]any, numbers float64). Merge does not modify it.
	Values map[string]any
	// Set, when not nil, makes the layer a command-line parameter instead of
	// a values document: `--set` (`--set-string` when ForceString) of
	// SetExpression(*Set), parsed with Helm's --set syntax (a.b=c, a[0]=c,
	// {x,y} lists, typed values).
	Set *Param
	// SetFile, when not nil, makes the layer a `--set-file`: the content of
	// SetFile.Data, as a string, at the key SetFile.Name.
	SetFile *NamedFile
}

func (l Layer) isParam() bool { return l.Set != nil || l.SetFile != nil }

// Layers returns the user-supplied layers of in, in Helm's precedence order
// (lowest first): each value file (named as in ValueFiles), the inline
// values (named "helm.values" or "helm.valuesObject"), each --set and
// --set-string parameter (named "--set name=value"), each --set-file
// (named "--set-file name=path"). Put the chart's defaults first to call
// Merge:
//
//	layers, err := in.Layers()
//	merged, origin := source.Merge(append([]source.Layer{{Name: "chart values.yaml", Values: chart.Values}}, layers...))
func (in *HelmInputs) Layers() ([]Layer, error) {
	var layers []Layer
	for _, f := range in.ValueFiles {
		var m map[string]any
		if err := yaml.Unmarshal(f.Data, &m); err != nil {
			return nil, fmt.Errorf("value file %q: failed to parse: %w", f.Name, err)
		}
		layers = append(layers, Layer{Name: f.Name, Values: m})
	}
	if in.Values != nil {
		var m map[string]any
		if err := yaml.Unmarshal(in.Values, &m); err != nil {
			return nil, fmt.Errorf("helm.%s: failed to parse: %w", in.ValuesField, err)
		}
		field := in.ValuesField
		if field == "" {
			field = "values"
		}
		layers = append(layers, Layer{Name: "helm." + field, Values: m})
	}
	for _, p := range in.Parameters {
		flag := "--set"
		if p.ForceString {
			flag = "--set-string"
		}
		layers = append(layers, Layer{Name: flag + " " + p.Name + "=" + p.Value, Set: &p})
	}
	for _, f := range in.FileParameters {
		layers = append(layers, Layer{Name: "--set-file " + f.Name + "=" + f.Entry, SetFile: &f})
	}
	return layers, nil
}

// Merge merges layers as `helm template` does and reports, for every leaf
// of the result, the layer that set it. layers[0] is the chart's defaults
// (values.yaml inside the chart; a Layer with nil Values when there is
// none), then come the user's layers in precedence order (value files,
// inline values, parameters), as HelmInputs.Layers returns them.
//
// Helm's rules, applied in Helm's order whatever the order of the user's
// layers:
//  1. values documents merge in order (pkg/cli/values/options.go
//     mergeMaps): a later document wins; two maps merge key by key,
//     recursively; anything else (a list, a scalar, null) replaces;
//  2. then every --set, every --set-string, every --set-file is applied onto
//     that result (pkg/strvals): a.b=c creates or updates maps, a[1]=c sets
//     one item of a list (the list is a leaf: it is set by the parameter);
//  3. then the result is coalesced with the chart's defaults
//     (pkg/chartutil/coalesce.go): a key only in the defaults is added, two
//     maps coalesce recursively, and a user null removes the key when the
//     defaults have a value for it (a null for a key the defaults do not
//     set stays null).
//
// origin maps each leaf path to a layer name. A path is the keys from the
// top joined with ".", a "." or "\" inside a key escaped with "\" (the
// syntax of --set: configs.cm.application\.instanceLabelKey). Leaves are
// scalars, nulls, lists (never looked into) and empty maps.
//
// A parameter Helm rejects (a syntax error, or a.b=c where a is not a
// map) is left out; MergeChecked reports it instead. Only the parent
// chart's values are covered: subcharts' defaults and globals are not.
func Merge(layers []Layer) (merged map[string]any, origin map[string]string) {
	merged, origin, _ = merge(layers, false)
	return merged, origin
}

// MergeChecked is Merge that fails where `helm template` fails: on a
// parameter Helm cannot apply, or layers[0] being a parameter.
func MergeChecked(layers []Layer) (merged map[string]any, origin map[string]string, err error) {
	return merge(layers, true)
}

func merge(layers []Layer, strict bool) (map[string]any, map[string]string, error) {
	m := &merger{origin: map[string]string{}, lenient: !strict}
	var chart Layer
	if len(layers) > 0 {
		chart, layers = layers[0], layers[1:]
		if chart.isParam() {
			if strict {
				return nil, nil, fmt.Errorf("layer %q: the first layer holds the chart's defaults, not a parameter", chart.Name)
			}
			layers = append([]Layer{chart}, layers...)
			chart = Layer{}
		}
	}
	if err := m.user(layers); err != nil {
		return nil, nil, err
	}
	chartVals := deepCopyMap(chart.Values)
	m.coalesceTop(m.base, chartVals, chart.Name)
	origin := map[string]string{}
	leaves(m.base, "", func(p string) {
		if o, ok := m.origin[p]; ok {
			origin[p] = o
		}
	})
	return m.base, origin, nil
}

type merger struct {
	base    map[string]any
	origin  map[string]string // every path set, by the last layer that set it
	lenient bool              // skip a parameter Helm rejects instead of failing
}

// user computes Helm's user-supplied values (MergeValues).
func (m *merger) user(layers []Layer) error {
	m.base = map[string]any{}
	var sets, setStrings, setFiles []Layer
	for _, l := range layers {
		switch {
		case l.Set != nil && l.Set.ForceString:
			setStrings = append(setStrings, l)
		case l.Set != nil:
			sets = append(sets, l)
		case l.SetFile != nil:
			setFiles = append(setFiles, l)
		default:
			m.mergeMaps(m.base, l.Values, "", l.Name)
		}
	}
	for _, l := range slices.Concat(sets, setStrings, setFiles) {
		if err := m.applySet(l); err != nil {
			if m.lenient {
				continue
			}
			return fmt.Errorf("%s: %w", l.Name, err)
		}
	}
	return nil
}

// applySet applies one --set, --set-string or --set-file parameter with
// Helm's own parser (pkg/strvals), as MergeValues does, onto a copy of the
// base, so that a rejected parameter leaves the base as it was. The paths
// it sets are those of the parameter parsed alone into an empty map.
func (m *merger) applySet(l Layer) error {
	var apply func(data map[string]any) error
	switch {
	case l.SetFile != nil:
		expr := setFileExpression(l.SetFile.Name, l.SetFile.Entry)
		content := string(l.SetFile.Data)
		apply = func(data map[string]any) error {
			return strvals.ParseIntoFile(expr, data, func([]rune) (any, error) { return content, nil })
		}
	case l.Set.ForceString:
		apply = func(data map[string]any) error { return strvals.ParseIntoString(SetExpression(*l.Set), data) }
	default:
		apply = func(data map[string]any) error { return strvals.ParseInto(SetExpression(*l.Set), data) }
	}
	base := deepCopyMap(m.base)
	if err := apply(base); err != nil {
		return err
	}
	alone := map[string]any{}
	if err := apply(alone); err != nil {
		return err
	}
	m.base = base
	for k, v := range alone {
		m.record(joinPath("", k), v, l.Name)
	}
	return nil
}

// setFileExpression is Argo CD's --set-file argument: the key, then the
// path escaped as cleanSetParameters escapes it.
func setFileExpression(name, path string) string {
	return name + "=" + strings.TrimPrefix(SetExpression(Param{Value: path}), "=")
}

// mergeMaps merges src into dst like Helm's mergeMaps, recording origins.
func (m *merger) mergeMaps(dst, src map[string]any, prefix, layer string) {
	for k, v := range src {
		p := joinPath(prefix, k)
		if vm, ok := v.(map[string]any); ok {
			if dm, ok := dst[k].(map[string]any); ok {
				m.origin[p] = layer
				m.mergeMaps(dm, vm, p, layer)
				continue
			}
		}
		dst[k] = deepCopy(v)
		m.record(p, v, layer)
	}
}

// coalesceTop is Helm's coalesceValues for the parent chart: chart is the
// chart's defaults, user the user-supplied values (modified in place).
func (m *merger) coalesceTop(user, chart map[string]any, layer string) {
	for k, cv := range chart {
		uv, ok := user[k]
		if !ok {
			user[k] = cv
			m.record(k2p("", k), cv, layer)
			continue
		}
		if uv == nil {
			delete(user, k) // a user null removes the chart's key
			continue
		}
		if um, ok := uv.(map[string]any); ok {
			if cm, ok := cv.(map[string]any); ok {
				m.coalesceTables(um, cm, k2p("", k), layer)
			}
		}
	}
}

// coalesceTables is Helm's coalesceTablesFullKey (coalescing, not merging):
// dst (user) wins over src (chart).
func (m *merger) coalesceTables(dst, src map[string]any, prefix, layer string) {
	srcNonNil := map[string]bool{}
	for k, v := range src {
		if v != nil {
			srcNonNil[k] = true
		}
	}
	for k, v := range src {
		p := joinPath(prefix, k)
		dv, ok := dst[k]
		switch {
		case !ok:
			dst[k] = v
			m.record(p, v, layer)
		case dv == nil:
			if srcNonNil[k] {
				delete(dst, k) // the user nulls a chart default
			}
		default:
			sm, sIsMap := v.(map[string]any)
			dm, dIsMap := dv.(map[string]any)
			if sIsMap && dIsMap {
				m.coalesceTables(dm, sm, p, layer)
			}
			// Otherwise the user's value stands (Helm warns when a table
			// and a non-table meet).
		}
	}
}

// record notes that layer set the value v at path p, and everything in it.
// Maps are noted too: a map the user gave keys that coalescing then
// removed ends up empty, a leaf set by that layer.
func (m *merger) record(p string, v any, layer string) {
	m.origin[p] = layer
	if vm, ok := v.(map[string]any); ok {
		for k, c := range vm {
			m.record(joinPath(p, k), c, layer)
		}
	}
}

// leaves calls fn with the path of every leaf of v.
func leaves(v map[string]any, prefix string, fn func(string)) {
	for k, c := range v {
		p := joinPath(prefix, k)
		if cm, ok := c.(map[string]any); ok && len(cm) > 0 {
			leaves(cm, p, fn)
			continue
		}
		fn(p)
	}
}

var keyEscaper = strings.NewReplacer(`\`, `\\`, `.`, `\.`)

// joinPath appends key k to the path prefix.
func joinPath(prefix, k string) string { return k2p(prefix, k) }

func k2p(prefix, k string) string {
	k = keyEscaper.Replace(k)
	if prefix == "" {
		return k
	}
	return prefix + "." + k
}

func deepCopy(v any) any {
	switch t := v.(type) {
	case map[string]any:
		return deepCopyMap(t)
	case []any:
		out := make([]any, len(t))
		for i, c := range t {
			out[i] = deepCopy(c)
		}
		return out
	default:
		return v
	}
}

func deepCopyMap(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = deepCopy(v)
	}
	return out
}
