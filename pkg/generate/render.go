package generate

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/runtime"

	"github.com/gitops-hub/gitops-hub/pkg/apis/argocd/v1alpha1"
	"github.com/gitops-hub/gitops-hub/pkg/generate/tmpl"
)

// A plan is an Application template compiled once and rendered for every
// parameter set. It reproduces upstream's reflective rendering
// (applicationset/utils/utils.go deeplyReplace) on the JSON form of the
// template: every string value and every map key is a template; fields whose
// Go type carries `omitempty` disappear when they render empty, exactly as
// when upstream serialises its typed Application. Subtrees without templates
// are shared between the rendered Applications and never mutated.
type plan struct {
	root *structNode
	// tree is the unrendered template, returned as-is for an empty param set.
	tree map[string]any
}

type node interface {
	// render returns the rendered value; keep is false when an omitempty
	// string field rendered empty.
	render(p map[string]any) (v any, keep bool, err error)
}

type litNode struct{ v any }

func (n litNode) render(map[string]any) (any, bool, error) { return n.v, true, nil }

type strNode struct {
	t         *tmpl.Template
	omitEmpty bool
}

func (n strNode) render(p map[string]any) (any, bool, error) {
	s, err := n.t.Render(p)
	if err != nil {
		return nil, false, err
	}
	return s, !(n.omitEmpty && s == ""), nil
}

type field struct {
	key string
	val node
}

// structNode renders a Go struct's JSON object: keys are field names.
type structNode struct{ fields []field }

func (n *structNode) render(p map[string]any) (any, bool, error) {
	out := make(map[string]any, len(n.fields))
	for _, f := range n.fields {
		v, keep, err := f.val.render(p)
		if err != nil {
			return nil, false, err
		}
		if keep {
			out[f.key] = v
		}
	}
	return out, true, nil
}

// mapNode renders a Go map: keys are templates too.
type mapNode struct {
	keys []*tmpl.Template
	vals []node
}

func (n *mapNode) render(p map[string]any) (any, bool, error) {
	out := make(map[string]any, len(n.keys))
	for i, kt := range n.keys {
		v, _, err := n.vals[i].render(p)
		if err != nil {
			return nil, false, err
		}
		k, err := kt.Render(p)
		if err != nil {
			return nil, false, err
		}
		out[k] = v
	}
	return out, true, nil
}

type listNode struct{ items []node }

func (n *listNode) render(p map[string]any) (any, bool, error) {
	out := make([]any, len(n.items))
	for i, it := range n.items {
		v, _, err := it.render(p)
		if err != nil {
			return nil, false, err
		}
		out[i] = v
	}
	return out, true, nil
}

// rawNode renders a runtime.RawExtension (helm.valuesObject) the way
// upstream does: decoded with encoding/json (numbers become float64), string
// leaves and keys rendered, nil map values dropped, re-encoded.
type rawNode struct {
	v   any
	eng *tmpl.Engine
}

func (n rawNode) render(p map[string]any) (any, bool, error) {
	v, err := renderFree(n.eng, n.v, p)
	return v, true, err
}

func renderFree(eng *tmpl.Engine, v any, p map[string]any) (any, error) {
	switch t := v.(type) {
	case string:
		return eng.Replace(t, p)
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, e := range t {
			if e == nil {
				continue
			}
			r, err := renderFree(eng, e, p)
			if err != nil {
				return nil, err
			}
			rk, err := eng.Replace(k, p)
			if err != nil {
				return nil, err
			}
			out[rk] = r
		}
		return out, nil
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			r, err := renderFree(eng, e, p)
			if err != nil {
				return nil, err
			}
			out[i] = r
		}
		return out, nil
	case json.Number:
		f, err := t.Float64()
		return f, err
	default:
		return v, nil
	}
}

var (
	rawExtType = reflect.TypeOf(runtime.RawExtension{})
	appType    = reflect.TypeOf(v1alpha1.Application{})
)

// templateApplication is upstream's GetTempApplication: the template's
// metadata subset plus its spec.
func templateApplication(t *v1alpha1.ApplicationSetTemplate) *v1alpha1.Application {
	app := &v1alpha1.Application{}
	app.APIVersion = v1alpha1.APIVersion
	app.Kind = v1alpha1.ApplicationKind
	app.Name = t.Name
	app.Namespace = t.Namespace
	app.Labels = t.Labels
	app.Annotations = t.Annotations
	app.Finalizers = t.Finalizers
	app.Spec = t.Spec
	return app
}

// toTree converts a typed value to its JSON tree (numbers as json.Number).
func toTree(v any) (map[string]any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, err
	}
	// ObjectMeta always serialises creationTimestamp: null; generated
	// Applications have none.
	if md, ok := m["metadata"].(map[string]any); ok {
		delete(md, "creationTimestamp")
	}
	return m, nil
}

func compilePlan(eng *tmpl.Engine, t *v1alpha1.ApplicationSetTemplate) (*plan, error) {
	tree, err := toTree(templateApplication(t))
	if err != nil {
		return nil, fmt.Errorf("encoding template: %w", err)
	}
	c := compiler{eng: eng}
	root, err := c.structNode(tree, appType, 0)
	if err != nil {
		return nil, err
	}
	return &plan{root: root, tree: tree}, nil
}

type compiler struct{ eng *tmpl.Engine }

// jsonFields indexes the JSON fields of a struct type, following inline
// embedded structs.
func jsonFields(t reflect.Type) map[string]reflect.StructField {
	out := map[string]reflect.StructField{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		name, opts, _ := strings.Cut(tag, ",")
		if tag == "-" {
			continue
		}
		if f.Anonymous && name == "" {
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			maps.Copy(out, jsonFields(ft))
			continue
		}
		if name == "" {
			name = f.Name
		}
		f.Tag = reflect.StructTag(`json:"` + name + "," + opts + `"`)
		out[name] = f
	}
	return out
}

func omitEmpty(f reflect.StructField) bool {
	_, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
	for _, o := range strings.Split(opts, ",") {
		if o == "omitempty" {
			return true
		}
	}
	return false
}

// structNode compiles the JSON object of struct type t. depth < 2 (the
// Application, its metadata and spec) always renders to a fresh map, so the
// caller may add finalizers and normalise in place.
func (c *compiler) structNode(m map[string]any, t reflect.Type, depth int) (*structNode, error) {
	fields := jsonFields(t)
	n := &structNode{}
	for _, k := range sortedKeys(m) {
		f, ok := fields[k]
		if !ok {
			return nil, fmt.Errorf("unknown field %q in %s", k, t.Name())
		}
		ft := f.Type
		if ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		child, err := c.node(m[k], ft, omitEmpty(f), depth+1)
		if err != nil {
			return nil, err
		}
		n.fields = append(n.fields, field{key: k, val: child})
	}
	return n, nil
}

func (c *compiler) node(v any, t reflect.Type, omit bool, depth int) (node, error) {
	if t == rawExtType {
		if !hasTemplate(c.eng, v) {
			return litNode{v: v}, nil
		}
		return rawNode{v: v, eng: c.eng}, nil
	}
	if depth >= 2 && !hasTemplate(c.eng, v) {
		return litNode{v: v}, nil
	}
	switch t.Kind() {
	case reflect.String:
		s, _ := v.(string)
		tp, err := c.eng.Compile(s)
		if err != nil {
			return nil, err
		}
		if tp.IsLiteral() {
			return litNode{v: s}, nil
		}
		return strNode{t: tp, omitEmpty: omit}, nil
	case reflect.Struct:
		m, ok := v.(map[string]any)
		if !ok {
			return litNode{v: v}, nil
		}
		return c.structNode(m, t, depth)
	case reflect.Map:
		m, ok := v.(map[string]any)
		if !ok {
			return litNode{v: v}, nil
		}
		n := &mapNode{}
		et := t.Elem()
		for _, k := range sortedKeys(m) {
			kt, err := c.eng.Compile(k)
			if err != nil {
				return nil, err
			}
			child, err := c.node(m[k], deref(et), false, depth+1)
			if err != nil {
				return nil, err
			}
			n.keys = append(n.keys, kt)
			n.vals = append(n.vals, child)
		}
		return n, nil
	case reflect.Slice:
		l, ok := v.([]any)
		if !ok {
			return litNode{v: v}, nil
		}
		n := &listNode{}
		for _, it := range l {
			child, err := c.node(it, deref(t.Elem()), false, depth+1)
			if err != nil {
				return nil, err
			}
			n.items = append(n.items, child)
		}
		return n, nil
	default:
		// Non-string scalars (bool, numbers) and custom JSON shapes are
		// copied, as upstream copies non-string fields.
		if hasTemplate(c.eng, v) {
			return c.freeStrings(v)
		}
		return litNode{v: v}, nil
	}
}

// freeStrings handles types with custom JSON (plugin parameters, IntOrString):
// every string in their JSON is a template, keys are not.
func (c *compiler) freeStrings(v any) (node, error) {
	switch t := v.(type) {
	case string:
		tp, err := c.eng.Compile(t)
		if err != nil {
			return nil, err
		}
		return strNode{t: tp}, nil
	case map[string]any:
		n := &structNode{}
		for _, k := range sortedKeys(t) {
			child, err := c.freeStrings(t[k])
			if err != nil {
				return nil, err
			}
			n.fields = append(n.fields, field{key: k, val: child})
		}
		return n, nil
	case []any:
		n := &listNode{}
		for _, it := range t {
			child, err := c.freeStrings(it)
			if err != nil {
				return nil, err
			}
			n.items = append(n.items, child)
		}
		return n, nil
	}
	return litNode{v: v}, nil
}

func deref(t reflect.Type) reflect.Type {
	if t.Kind() == reflect.Pointer {
		return t.Elem()
	}
	return t
}

// hasTemplate reports whether any string or map key in v would render
// differently from its text.
// Keys are always checked: struct field names never hold templates.
func hasTemplate(eng *tmpl.Engine, v any) bool {
	switch t := v.(type) {
	case string:
		tp, err := eng.Compile(t)
		return err != nil || !tp.IsLiteral()
	case map[string]any:
		for k, e := range t {
			if hasTemplate(eng, e) || hasTemplate(eng, k) {
				return true
			}
		}
	case []any:
		for _, e := range t {
			if hasTemplate(eng, e) {
				return true
			}
		}
	}
	return false
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sortStrings(ks)
	return ks
}

// render renders the plan for one parameter set. An empty parameter set
// returns the template unrendered (upstream RenderTemplateParams).
func (pl *plan) render(p map[string]any) (map[string]any, bool, error) {
	if len(p) == 0 {
		return cloneTop(pl.tree), false, nil
	}
	v, _, err := pl.root.render(p)
	if err != nil {
		return nil, false, err
	}
	return v.(map[string]any), true, nil
}

// cloneTop copies the Application map and its metadata and spec maps, the
// only levels the controller rules mutate.
func cloneTop(m map[string]any) map[string]any {
	out := maps.Clone(m)
	for _, k := range []string{"metadata", "spec"} {
		if sub, ok := out[k].(map[string]any); ok {
			out[k] = maps.Clone(sub)
		}
	}
	return out
}

func sortStrings(s []string) { sort.Strings(s) }
