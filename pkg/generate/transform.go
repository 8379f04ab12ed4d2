package generate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"dario.cat/mergo"
	"github.com/jeremywohl/flatten"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/gitops-hub/gitops-hub/pkg/apis/argocd/v1alpha1"
)

// Params is one parameter set, as upstream's map[string]any.
type Params = map[string]any

// Upstream error texts (applicationset/generators/*.go), kept verbatim so
// that users can search for them.
var (
	errLessThanTwoMatrix      = errors.New("found less than two generators, Matrix support only two")
	errMoreThanTwoMatrix      = errors.New("found more than two generators, Matrix support only two")
	errMoreThanOneInner       = errors.New("found more than one generator in matrix.Generators")
	errLessThanTwoMerge       = errors.New("found less than two generators, Merge requires two or more")
	errNoMergeKeys            = errors.New("no merge keys were specified, Merge requires at least one")
	errNonUniqueParamSets     = errors.New("the parameters from a generator were not unique by the given mergeKeys, Merge requires all param sets to be unique")
	errChildGeneratedNoParams = errors.New("child generator generated no parameters")
)

// transformResult is the output of one generator entry: its parameter sets
// and the template they render (upstream generators.TransformResult).
type transformResult struct {
	params   []Params
	template v1alpha1.ApplicationSetTemplate
}

// genField is one set generator field of an entry.
type genField struct {
	name string
	run  func(ctx context.Context, ev *evaluator, path string) ([]Params, error)
	tmpl *v1alpha1.ApplicationSetTemplate
}

// fields lists the generator fields set in g, in upstream's struct order.
func (ev *evaluator) fields(g *v1alpha1.ApplicationSetNestedGenerator, top *v1alpha1.ApplicationSetGenerator) ([]genField, error) {
	var out []genField
	if g.List != nil {
		l := g.List
		out = append(out, genField{name: "list", tmpl: &l.Template, run: func(_ context.Context, ev *evaluator, _ string) ([]Params, error) { return ev.listParams(l) }})
	}
	if g.Clusters != nil {
		c := g.Clusters
		out = append(out, genField{name: "clusters", tmpl: &c.Template, run: func(_ context.Context, ev *evaluator, _ string) ([]Params, error) { return ev.clusterParams(c) }})
	}
	if g.Git != nil {
		gg := g.Git
		out = append(out, genField{name: "git", tmpl: &gg.Template, run: func(_ context.Context, ev *evaluator, _ string) ([]Params, error) { return ev.gitParams(gg) }})
	}
	for _, live := range []struct {
		name string
		raw  json.RawMessage
	}{{"scmProvider", g.SCMProvider}, {"clusterDecisionResource", g.ClusterDecisionResource}, {"pullRequest", g.PullRequest}, {"plugin", g.Plugin}} {
		if len(live.raw) > 0 {
			name := live.name
			out = append(out, genField{name: name, tmpl: &v1alpha1.ApplicationSetTemplate{}, run: func(context.Context, *evaluator, string) ([]Params, error) {
				return nil, fmt.Errorf("the %s generator needs a live service (SCM API, cluster, or plugin endpoint) and cannot be evaluated offline", name)
			}})
		}
	}
	switch {
	case top != nil && top.Matrix != nil:
		m := top.Matrix
		out = append(out, genField{name: "matrix", tmpl: &m.Template, run: func(ctx context.Context, ev *evaluator, path string) ([]Params, error) {
			return ev.matrixParams(ctx, m.Generators, path)
		}})
	case len(g.Matrix) > 0:
		var nm v1alpha1.NestedMatrixGenerator
		if err := decodeNested(g.Matrix, &nm); err != nil {
			return nil, fmt.Errorf("matrix: %w", err)
		}
		children := widen(nm.Generators)
		out = append(out, genField{name: "matrix", tmpl: &v1alpha1.ApplicationSetTemplate{}, run: func(ctx context.Context, ev *evaluator, path string) ([]Params, error) {
			return ev.matrixParams(ctx, children, path)
		}})
	}
	switch {
	case top != nil && top.Merge != nil:
		m := top.Merge
		out = append(out, genField{name: "merge", tmpl: &m.Template, run: func(ctx context.Context, ev *evaluator, path string) ([]Params, error) {
			return ev.mergeParams(ctx, m.Generators, m.MergeKeys, path)
		}})
	case len(g.Merge) > 0:
		var nm v1alpha1.NestedMergeGenerator
		if err := decodeNested(g.Merge, &nm); err != nil {
			return nil, fmt.Errorf("merge: %w", err)
		}
		children := widen(nm.Generators)
		out = append(out, genField{name: "merge", tmpl: &v1alpha1.ApplicationSetTemplate{}, run: func(ctx context.Context, ev *evaluator, path string) ([]Params, error) {
			return ev.mergeParams(ctx, children, nm.MergeKeys, path)
		}})
	}
	return out, nil
}

func widen(ts []v1alpha1.ApplicationSetTerminalGenerator) []v1alpha1.ApplicationSetNestedGenerator {
	out := make([]v1alpha1.ApplicationSetNestedGenerator, len(ts))
	for i, t := range ts {
		out[i] = t.ToNested()
	}
	return out
}

// errTooDeep marks a third nesting level, which upstream drops silently when
// it decodes the nested generator.
var errTooDeep = errors.New("matrix and merge generators nest at most two levels deep: Argo CD drops the third level and then reports \"child generator generated no parameters\"")

func decodeNested(raw json.RawMessage, into any) error {
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(into); err != nil {
		if strings.Contains(err.Error(), `unknown field "matrix"`) || strings.Contains(err.Error(), `unknown field "merge"`) {
			return fmt.Errorf("%w: %w", errChildGeneratedNoParams, errTooDeep)
		}
		return err
	}
	return nil
}

// transform runs one generator entry (upstream generators.Transform): every
// set generator field yields a result; interp, when non-empty, first renders
// the generator's own strings with those params (matrix child 2).
func (ev *evaluator) transform(ctx context.Context, g v1alpha1.ApplicationSetNestedGenerator, top *v1alpha1.ApplicationSetGenerator, base *v1alpha1.ApplicationSetTemplate, interp Params, path string) ([]transformResult, error) {
	if len(interp) > 0 {
		ig, err := ev.interpolateGenerator(g, interp)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		g = ig
	}
	fields, err := ev.fields(&g, top)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	var matches func(map[string]string) bool
	if g.Selector != nil {
		sel, fn, err := postSelector(g.Selector)
		if err != nil {
			return nil, &GeneratorError{Path: path + ".selector", Err: fmt.Errorf("error converting label selector: %w", err)}
		}
		matches = fn
		if sel != nil {
			matches = func(m map[string]string) bool { return sel.Matches(labels.Set(m)) }
		}
	}
	var res []transformResult
	for _, f := range fields {
		fpath := path + "." + f.name
		var merged v1alpha1.ApplicationSetTemplate
		if base != nil {
			if merged, err = mergeGeneratorTemplate(f.tmpl, base); err != nil {
				return nil, fmt.Errorf("%s: merging generator template: %w", fpath, err)
			}
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		params, err := f.run(ctx, ev, fpath)
		if err == nil {
			err = ev.checkCount(len(params), f.name)
		}
		if err != nil {
			var ge *GeneratorError
			if errors.As(err, &ge) {
				return nil, err
			}
			return nil, &GeneratorError{Path: fpath, Err: err}
		}
		if matches != nil {
			kept := params[:0:0]
			for _, p := range params {
				flat, err := flattenParams(p)
				if err != nil {
					return nil, &GeneratorError{Path: path + ".selector", Err: err}
				}
				if matches(flat) {
					kept = append(kept, p)
				}
			}
			params = kept
		}
		res = append(res, transformResult{params: params, template: merged})
	}
	return res, nil
}

// GeneratorError names the generator (by its path in the ApplicationSet)
// that failed.
type GeneratorError struct {
	Path string
	Err  error
}

func (e *GeneratorError) Error() string { return e.Path + ": " + e.Err.Error() }
func (e *GeneratorError) Unwrap() error { return e.Err }

// mergeGeneratorTemplate: the generator's template wins field by field, the
// ApplicationSet's template fills every zero field (mergo without override).
func mergeGeneratorTemplate(gen, spec *v1alpha1.ApplicationSetTemplate) (v1alpha1.ApplicationSetTemplate, error) {
	var dest v1alpha1.ApplicationSetTemplate
	if err := deepCopyJSON(gen, &dest); err != nil {
		return dest, err
	}
	var src v1alpha1.ApplicationSetTemplate
	if err := deepCopyJSON(spec, &src); err != nil {
		return dest, err
	}
	err := mergo.Merge(&dest, src)
	return dest, err
}

func deepCopyJSON(in, out any) error {
	b, err := json.Marshal(in)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, out)
}

// flattenParams flattens a parameter set for post-selectors: nested maps
// become dotted keys, lists get numeric segments, values are printed with %v.
func flattenParams(p Params) (map[string]string, error) {
	norm := normalizeForFlatten(p).(map[string]any)
	flat, err := flatten.Flatten(norm, "", flatten.DotStyle)
	if err != nil {
		return nil, err
	}
	out := make(map[string]string, len(flat))
	for k, v := range flat {
		out[k] = fmt.Sprintf("%v", v)
	}
	return out, nil
}

func normalizeForFlatten(v any) any {
	switch t := v.(type) {
	case map[string]string:
		m := make(map[string]any, len(t))
		for k, e := range t {
			m[k] = e
		}
		return m
	case map[string]any:
		m := make(map[string]any, len(t))
		for k, e := range t {
			m[k] = normalizeForFlatten(e)
		}
		return m
	case []any:
		l := make([]any, len(t))
		for i, e := range t {
			l[i] = normalizeForFlatten(e)
		}
		return l
	case []string:
		l := make([]any, len(t))
		for i, e := range t {
			l[i] = e
		}
		return l
	}
	return v
}
