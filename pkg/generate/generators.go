package generate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"path"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"dario.cat/mergo"
	"github.com/jeremywohl/flatten"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/yaml"

	"github.com/gitops-hub/gitops-hub/pkg/apis/argocd/v1alpha1"
	"github.com/gitops-hub/gitops-hub/pkg/generate/tmpl"
	"github.com/gitops-hub/gitops-hub/pkg/loader"
	"github.com/gitops-hub/gitops-hub/pkg/registry"
)

// clusterParams is upstream's ClusterGenerator.GenerateParams
// (applicationset/generators/cluster.go).
func (ev *evaluator) clusterParams(g *v1alpha1.ClusterGenerator) ([]Params, error) {
	sel := g.Selector.DeepCopy()
	ignoreLocal := len(sel.MatchLabels) > 0 || len(sel.MatchExpressions) > 0
	metav1.AddLabelToSelector(sel, registry.SecretTypeLabel, registry.SecretTypeCluster)
	selector, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil {
		return nil, fmt.Errorf("error converting label selector: %w", err)
	}
	values, err := ev.compileValues(g.Values)
	if err != nil {
		return nil, err
	}
	var res []Params
	hasInCluster := false
	for _, c := range ev.clusters {
		if !selector.Matches(labels.Set(c.Labels)) {
			continue
		}
		if c.Server == registry.InClusterServer {
			hasInCluster = true
		}
		p := ev.clusterSecretParams(c)
		if err := ev.appendValues(values, p); err != nil {
			return nil, fmt.Errorf("error appending templated values for cluster: %w", err)
		}
		res = append(res, p)
	}
	if !ignoreLocal && !hasInCluster {
		p := Params{"name": registry.InClusterName, "nameNormalized": registry.InClusterName, "server": registry.InClusterServer, "project": ""}
		if err := ev.appendValues(values, p); err != nil {
			return nil, fmt.Errorf("error appending templated values for cluster: %w", err)
		}
		res = append(res, p)
	}
	if g.FlatList {
		list := make([]any, len(res))
		for i, p := range res {
			list[i] = p
		}
		return []Params{{"clusters": list}}, nil
	}
	return res, nil
}

// clusterSecretParams builds fresh maps for every call: merges and matrices
// write into nested maps in place, as upstream's mergo calls do.
func (ev *evaluator) clusterSecretParams(c *registry.Cluster) Params {
	if ev.goTemplate {
		meta := map[string]any{}
		if len(c.Labels) > 0 {
			meta["labels"] = maps.Clone(c.Labels)
		}
		if len(c.Annotations) > 0 {
			meta["annotations"] = maps.Clone(c.Annotations)
		}
		return Params{"name": c.Name, "nameNormalized": tmpl.SanitizeName(c.Name), "server": c.Server, "project": c.Project, "metadata": meta}
	}
	p := make(Params, 4+len(c.Labels)+len(c.Annotations))
	p["name"], p["nameNormalized"], p["server"], p["project"] = c.Name, tmpl.SanitizeName(c.Name), c.Server, c.Project
	for k, v := range c.Labels {
		p["metadata.labels."+k] = v
	}
	for k, v := range c.Annotations {
		p["metadata.annotations."+k] = v
	}
	return p
}

type compiledValue struct {
	key string
	t   *tmpl.Template
}

func (ev *evaluator) compileValues(values map[string]string) ([]compiledValue, error) {
	out := make([]compiledValue, 0, len(values))
	for _, k := range sortedKeys(values) {
		t, err := ev.tmpl.Compile(values[k])
		if err != nil {
			return nil, fmt.Errorf("error appending templated values: failed to replace templated string: %w", err)
		}
		out = append(out, compiledValue{key: k, t: t})
	}
	return out, nil
}

// appendValues renders generator values against the params gathered so far;
// results are added afterwards so that a value cannot reference another.
func (ev *evaluator) appendValues(values []compiledValue, p Params) error {
	if len(values) == 0 {
		return nil
	}
	var vm map[string]string
	tmp := make([]string, len(values))
	for i, v := range values {
		s, err := v.t.Render(p)
		if err != nil {
			return fmt.Errorf("failed to replace templated string: %w", err)
		}
		tmp[i] = s
	}
	if ev.goTemplate {
		vm = make(map[string]string, len(values))
		for i, v := range values {
			vm[v.key] = tmp[i]
		}
		p["values"] = vm
		return nil
	}
	for i, v := range values {
		p["values."+v.key] = tmp[i]
	}
	return nil
}

// listParams is upstream's ListGenerator.GenerateParams (list.go).
func (ev *evaluator) listParams(g *v1alpha1.ListGenerator) ([]Params, error) {
	var res []Params
	for i, raw := range g.Elements {
		var el map[string]any
		if err := json.Unmarshal(raw, &el); err != nil {
			return nil, fmt.Errorf("elements[%d]: error unmarshling list element %w", i, err)
		}
		if ev.goTemplate {
			res = append(res, el)
			continue
		}
		p := Params{}
		for k, v := range el {
			if k == "values" {
				vals, ok := v.(map[string]any)
				if !ok {
					return nil, fmt.Errorf("elements[%d]: error parsing values map", i)
				}
				for vk, vv := range vals {
					s, ok := vv.(string)
					if !ok {
						return nil, fmt.Errorf("elements[%d]: error parsing value as string: values.%s is %T, not a string", i, vk, vv)
					}
					p["values."+vk] = s
				}
				continue
			}
			s, ok := v.(string)
			if !ok {
				return nil, fmt.Errorf("elements[%d]: error parsing value as string: %s is %T, not a string (use goTemplate for structured elements)", i, k, v)
			}
			p[k] = s
		}
		res = append(res, p)
	}
	if g.ElementsYaml != "" {
		var items []map[string]any
		if err := yaml.Unmarshal([]byte(g.ElementsYaml), &items); err != nil {
			return nil, fmt.Errorf("error unmarshling decoded ElementsYaml %w", err)
		}
		for _, it := range items {
			res = append(res, it)
		}
	}
	return res, nil
}

// gitParams is upstream's GitGenerator (git.go), reading the repository from
// the engine's file system instead of the repo-server.
func (ev *evaluator) gitParams(g *v1alpha1.GitGenerator) ([]Params, error) {
	if ev.repo == nil {
		return nil, fmt.Errorf("the git generator for %s needs a repository: run from the repository or pass --repo", g.RepoURL)
	}
	values, err := ev.compileValues(g.Values)
	if err != nil {
		return nil, err
	}
	var res []Params
	switch {
	case len(g.Directories) > 0:
		dirs, err := listDirs(ev.repo)
		if err != nil {
			return nil, fmt.Errorf("listing directories of %s: %w", g.RepoURL, err)
		}
		for _, d := range dirs {
			ok, err := matchItems(d, g.Directories)
			if err != nil {
				return nil, err
			}
			if !ok {
				continue
			}
			p := Params{}
			ev.addPathParams(p, g.PathParamPrefix, d, "")
			if err := ev.appendValues(values, p); err != nil {
				return nil, err
			}
			res = append(res, p)
		}
	case len(g.Files) > 0:
		files, err := matchFiles(ev.repo, g.Files)
		if err != nil {
			return nil, fmt.Errorf("listing files of %s: %w", g.RepoURL, err)
		}
		for _, f := range files {
			data, err := loader.ReadFileLimit(ev.repo, f)
			if err != nil {
				return nil, err
			}
			objs, err := parseGitFile(data)
			if err != nil {
				return nil, fmt.Errorf("unable to parse file %s: %w", f, err)
			}
			for _, obj := range objs {
				p := Params{}
				if ev.goTemplate {
					maps.Copy(p, obj)
				} else {
					flat, err := flatten.Flatten(obj, "", flatten.DotStyle)
					if err != nil {
						return nil, fmt.Errorf("error flattening params of %s: %w", f, err)
					}
					for k, v := range flat {
						p[k] = fmt.Sprintf("%v", v)
					}
				}
				ev.addPathParams(p, g.PathParamPrefix, path.Dir(f), path.Base(f))
				if err := ev.appendValues(values, p); err != nil {
					return nil, err
				}
				res = append(res, p)
			}
		}
	default:
		return nil, errors.New("the git generator needs directories or files")
	}
	return res, nil
}

func (ev *evaluator) addPathParams(p Params, prefix, dir, file string) {
	segments := strings.Split(dir, "/")
	base := path.Base(dir)
	if ev.goTemplate {
		m := map[string]any{"path": dir, "basename": base, "basenameNormalized": tmpl.SanitizeName(base), "segments": segments}
		if file != "" {
			m["filename"], m["filenameNormalized"] = file, tmpl.SanitizeName(file)
		}
		if prefix != "" {
			p[prefix] = map[string]any{"path": m}
		} else {
			p["path"] = m
		}
		return
	}
	name := "path"
	if prefix != "" {
		name = prefix + ".path"
	}
	p[name] = dir
	p[name+".basename"] = base
	p[name+".basenameNormalized"] = tmpl.SanitizeName(base)
	if file != "" {
		p[name+".filename"], p[name+".filenameNormalized"] = file, tmpl.SanitizeName(file)
	}
	for i, s := range segments {
		p[name+"["+strconv.Itoa(i)+"]"] = s
	}
}

func listDirs(fsys fs.FS) ([]string, error) {
	var dirs []string
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() || p == "." {
			return nil
		}
		if strings.HasPrefix(d.Name(), ".") {
			return fs.SkipDir
		}
		dirs = append(dirs, p)
		return nil
	})
	sort.Strings(dirs)
	return dirs, err
}

// matchItems applies include patterns, then exclude patterns, which win.
func matchItems(p string, items []v1alpha1.GitDirectoryGeneratorItem) (bool, error) {
	included := false
	for _, it := range items {
		ok, err := path.Match(it.Path, p)
		if err != nil {
			return false, fmt.Errorf("invalid path pattern %q: %w", it.Path, err)
		}
		if ok && it.Exclude {
			return false, nil
		}
		included = included || ok
	}
	return included, nil
}

func matchFiles(fsys fs.FS, items []v1alpha1.GitFileGeneratorItem) ([]string, error) {
	seen := map[string]bool{}
	for _, it := range items {
		if it.Exclude {
			continue
		}
		ms, err := fs.Glob(fsys, it.Path)
		if err != nil {
			return nil, fmt.Errorf("invalid path pattern %q: %w", it.Path, err)
		}
		for _, m := range ms {
			seen[m] = true
		}
	}
	var out []string
	for f := range seen {
		excluded := false
		for _, it := range items {
			if ok, _ := path.Match(it.Path, f); ok && it.Exclude {
				excluded = true
			}
		}
		if !excluded {
			out = append(out, f)
		}
	}
	sort.Strings(out)
	return out, nil
}

func parseGitFile(data []byte) ([]map[string]any, error) {
	var list []map[string]any
	if err := yaml.Unmarshal(data, &list); err == nil {
		return list, nil
	}
	var obj map[string]any
	if err := yaml.Unmarshal(data, &obj); err != nil {
		return nil, err
	}
	return []map[string]any{obj}, nil
}

// mergeParams is upstream's MergeGenerator (merge.go).
func (ev *evaluator) mergeParams(ctx context.Context, children []v1alpha1.ApplicationSetNestedGenerator, mergeKeys []string, path string) ([]Params, error) {
	if len(children) < 2 {
		return nil, errLessThanTwoMerge
	}
	if len(mergeKeys) == 0 {
		return nil, errNoMergeKeys
	}
	sets := make([][]Params, len(children))
	for i, c := range children {
		res, err := ev.transform(ctx, c, nil, nil, nil, fmt.Sprintf("%s.generators[%d]", path, i))
		if err != nil {
			return nil, fmt.Errorf("child generator returned an error on parameter generation: %w", err)
		}
		if len(res) != 1 {
			if len(res) == 0 {
				return nil, fmt.Errorf("%s.generators[%d]: %w", path, i, errChildGeneratedNoParams)
			}
			return nil, errMoreThanOneInner
		}
		sets[i] = res[0].params
	}
	keys := dedupe(mergeKeys)
	baseByKey, order, err := paramSetsByMergeKey(keys, sets[0])
	if err != nil {
		return nil, fmt.Errorf("error getting param sets by merge key: %w", err)
	}
	for _, override := range sets[1:] {
		byKey, _, err := paramSetsByMergeKey(keys, override)
		if err != nil {
			return nil, fmt.Errorf("error getting param sets by merge key: %w", err)
		}
		for k, base := range baseByKey {
			ov, ok := byKey[k]
			if !ok {
				continue
			}
			if ev.goTemplate {
				if err := safeMergo(&base, ov); err != nil {
					return nil, fmt.Errorf("error merging base param set with override param set: %w", err)
				}
				baseByKey[k] = base
			} else {
				maps.Copy(base, ov)
			}
		}
	}
	out := make([]Params, 0, len(order))
	for _, k := range order {
		out = append(out, baseByKey[k])
	}
	return out, nil
}

// safeMergo runs mergo with override and turns its panics (upstream issue
// #16417: a map[string]any merged into a map[string]string) into errors, as
// the controller's recover does.
//
// Keys whose value in src equals the one in dst are left out of the call:
// mergo would overwrite them with an equal value (maps key by key), so the
// result is the same, and a merge of two sets of the same cluster, whose
// labels and annotations are equal, no longer walks them by reflection.
func safeMergo(dst *Params, src Params) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%v", r)
		}
	}()
	if len(*dst) > 0 {
		var diff Params
		for k, v := range src {
			if cur, ok := (*dst)[k]; ok && equalParam(cur, v) {
				continue
			}
			if diff == nil {
				diff = make(Params, len(src))
			}
			diff[k] = v
		}
		if diff == nil {
			return nil
		}
		src = diff
	}
	return mergo.Merge(dst, src, mergo.WithOverride)
}

// equalParam reports whether two parameter values are equal, with a fast
// path for the shapes generators produce.
func equalParam(a, b any) bool {
	switch x := a.(type) {
	case string:
		y, ok := b.(string)
		return ok && x == y
	case map[string]string:
		y, ok := b.(map[string]string)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, v := range x {
			if w, ok := y[k]; !ok || w != v {
				return false
			}
		}
		return true
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, v := range x {
			w, ok := y[k]
			if !ok || !equalParam(v, w) {
				return false
			}
		}
		return true
	}
	return reflect.DeepEqual(a, b)
}

func dedupe(keys []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, k := range keys {
		if !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

// paramSetsByMergeKey keys every param set by the JSON of its merge-key
// values (top-level lookup; absent keys are null).
func paramSetsByMergeKey(keys []string, sets []Params) (map[string]Params, []string, error) {
	out := make(map[string]Params, len(sets))
	order := make([]string, 0, len(sets))
	var quotedKey []byte
	if len(keys) == 1 {
		quotedKey, _ = json.Marshal(keys[0])
	}
	for _, p := range sets {
		var key string
		if s, ok := p[keys[0]].(string); ok && len(keys) == 1 {
			// Same bytes as json.Marshal(map[string]any{key: s}), without the map.
			vb, err := json.Marshal(s)
			if err != nil {
				return nil, nil, err
			}
			key = "{" + string(quotedKey) + ":" + string(vb) + "}"
		} else {
			m := make(map[string]any, len(keys))
			for _, k := range keys {
				m[k] = p[k]
			}
			b, err := json.Marshal(m)
			if err != nil {
				return nil, nil, err
			}
			key = string(b)
		}
		if _, dup := out[key]; dup {
			return nil, nil, fmt.Errorf("%w. Duplicate key was %s", errNonUniqueParamSets, key)
		}
		out[key] = p
		order = append(order, key)
	}
	return out, order, nil
}

// matrixParams is upstream's MatrixGenerator (matrix.go).
func (ev *evaluator) matrixParams(ctx context.Context, children []v1alpha1.ApplicationSetNestedGenerator, path string) ([]Params, error) {
	if len(children) < 2 {
		return nil, errLessThanTwoMatrix
	}
	if len(children) > 2 {
		return nil, errMoreThanTwoMatrix
	}
	g0, err := ev.childParams(ctx, children[0], nil, path+".generators[0]")
	if err != nil {
		return nil, err
	}
	var res []Params
	for _, a := range g0 {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		g1, err := ev.childParams(ctx, children[1], a, path+".generators[1]")
		if err != nil {
			return nil, fmt.Errorf("failed to get params for second generator in the matrix generator: %w", err)
		}
		// Before the product grows: a few hundred bytes of matrix can ask for millions.
		if err := ev.checkCount(len(res)+len(g1), "matrix"); err != nil {
			return nil, err
		}
		for _, b := range g1 {
			if ev.goTemplate {
				tmp := Params{}
				if err := safeMergo(&tmp, b); err != nil {
					return nil, fmt.Errorf("failed to combine string maps with merging params for the matrix generator: %w", err)
				}
				if err := safeMergo(&tmp, a); err != nil {
					return nil, fmt.Errorf("failed to combine string maps with merging params for the matrix generator: %w", err)
				}
				res = append(res, tmp)
				continue
			}
			v, err := combineStringMaps(a, b)
			if err != nil {
				return nil, fmt.Errorf("failed to combine string maps with merging params for the matrix generator: %w", err)
			}
			res = append(res, v)
		}
	}
	return res, nil
}

func (ev *evaluator) childParams(ctx context.Context, c v1alpha1.ApplicationSetNestedGenerator, interp Params, path string) ([]Params, error) {
	res, err := ev.transform(ctx, c, nil, nil, interp, path)
	if err != nil {
		return nil, fmt.Errorf("child generator returned an error on parameter generation: %w", err)
	}
	if len(res) == 0 {
		return nil, fmt.Errorf("%s: %w", path, errChildGeneratedNoParams)
	}
	if len(res) > 1 {
		return nil, errMoreThanOneInner
	}
	return res[0].params, nil
}

func combineStringMaps(a, b Params) (Params, error) {
	res := make(Params, len(a)+len(b))
	for k, v := range a {
		res[k] = fmt.Sprintf("%v", v)
	}
	for k, v := range b {
		s := fmt.Sprintf("%v", v)
		if cur, ok := res[k]; ok && cur != s {
			return nil, fmt.Errorf("found duplicate key %s with different value, a: %s ,b: %s", k, cur, s)
		}
		res[k] = s
	}
	return res, nil
}

// interpolateGenerator renders every string (and map key) of a matrix's
// second child with the first child's params (upstream InterpolateGenerator).
// Generator `values` are rendered with missingkey=error and a value that
// misses a key is left for the child to render against its own params.
func (ev *evaluator) interpolateGenerator(g v1alpha1.ApplicationSetNestedGenerator, p Params) (v1alpha1.ApplicationSetNestedGenerator, error) {
	var tree map[string]any
	if err := deepCopyJSON(g, &tree); err != nil {
		return g, err
	}
	out, err := ev.renderGeneratorTree(tree, p, outsideValues)
	if err != nil {
		return g, fmt.Errorf("failed to replace parameters in generator: %w", err)
	}
	var res v1alpha1.ApplicationSetNestedGenerator
	if err := deepCopyJSON(out, &res); err != nil {
		return g, fmt.Errorf("interpolated generator: %w", err)
	}
	return res, nil
}

// valuesMode tracks where a string sits during generator interpolation.
type valuesMode int

const (
	outsideValues valuesMode = iota
	valuesMap                // the generator's `values` map itself
	valuesLeaf               // a value of that map
)

func (ev *evaluator) renderGeneratorTree(v any, p Params, mode valuesMode) (any, error) {
	switch t := v.(type) {
	case string:
		if mode == valuesLeaf && ev.goTemplate {
			s, err := ev.valuesTmpl.Replace(t, p)
			if err != nil && strings.Contains(err.Error(), "map has no entry for key") {
				return t, nil
			}
			return s, err
		}
		return ev.tmpl.Replace(t, p)
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, e := range t {
			child := outsideValues
			switch {
			case mode == valuesMap:
				child = valuesLeaf
			case mode == outsideValues && k == "values" && isMap(e):
				child = valuesMap
			}
			r, err := ev.renderGeneratorTree(e, p, child)
			if err != nil {
				return nil, err
			}
			rk, err := ev.tmpl.Replace(k, p)
			if err != nil {
				return nil, err
			}
			out[rk] = r
		}
		return out, nil
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			r, err := ev.renderGeneratorTree(e, p, mode)
			if err != nil {
				return nil, err
			}
			out[i] = r
		}
		return out, nil
	}
	return v, nil
}

func isMap(v any) bool { _, ok := v.(map[string]any); return ok }
