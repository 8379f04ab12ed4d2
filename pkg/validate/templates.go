package validate

import (
	"regexp"
	"sort"
	"strings"
	"text/template/parse"

	"github.com/gitops-hub/gitops-hub/pkg/apis/argocd/v1alpha1"
)

// metadataRef is a cluster label or annotation a template reads.
type metadataRef struct {
	annotation bool
	key        string
}

// guards are the template functions whose arguments may be missing on
// purpose: `or (index .metadata.annotations "x") "default"`.
var guards = map[string]bool{"or": true, "default": true, "coalesce": true, "hasKey": true, "empty": true, "ternary": true, "and": true, "not": true}

// fastRef is a fasttemplate parameter of the clusters generator:
// {{metadata.labels.x}} or {{metadata.annotations.x}}.
var fastRef = regexp.MustCompile(`\{\{\s*metadata\.(labels|annotations)\.([^\s}]+)\s*\}\}`)

// templateRefs lists the cluster labels and annotations an ApplicationSet
// reads without a fallback, anywhere in its spec (the template, the
// templatePatch, generator values and templates): Go templates are parsed
// with text/template/parse, fasttemplate parameters matched by name. A
// read inside or/default/if/with is guarded and left out.
func templateRefs(as *v1alpha1.ApplicationSet) []metadataRef {
	seen := map[metadataRef]bool{}
	var strs []string
	collectStrings(jsonTree(as.Spec), &strs)
	for _, s := range strs {
		if !strings.Contains(s, "{{") {
			continue
		}
		if !as.Spec.GoTemplate {
			for _, m := range fastRef.FindAllStringSubmatch(s, -1) {
				seen[metadataRef{annotation: m[1] == "annotations", key: m[2]}] = true
			}
			continue
		}
		t := parse.New("t")
		t.Mode = parse.SkipFuncCheck
		if _, err := t.Parse(s, "{{", "}}", map[string]*parse.Tree{}); err != nil || t.Root == nil {
			continue
		}
		walkTemplate(t.Root, false, func(r metadataRef) { seen[r] = true })
	}
	out := make([]metadataRef, 0, len(seen))
	for r := range seen {
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].annotation != out[j].annotation {
			return !out[i].annotation
		}
		return out[i].key < out[j].key
	})
	return out
}

func collectStrings(v any, out *[]string) {
	switch t := v.(type) {
	case string:
		*out = append(*out, t)
	case map[string]any:
		for _, c := range t {
			collectStrings(c, out)
		}
	case []any:
		for _, c := range t {
			collectStrings(c, out)
		}
	}
}

func metadataField(ident []string) (metadataRef, bool) {
	if len(ident) >= 2 && ident[0] == "metadata" && (ident[1] == "labels" || ident[1] == "annotations") {
		r := metadataRef{annotation: ident[1] == "annotations"}
		if len(ident) >= 3 {
			r.key = ident[2]
		}
		return r, true
	}
	return metadataRef{}, false
}

func walkTemplate(n parse.Node, guarded bool, add func(metadataRef)) {
	switch t := n.(type) {
	case *parse.ListNode:
		if t == nil {
			return
		}
		for _, c := range t.Nodes {
			walkTemplate(c, guarded, add)
		}
	case *parse.ActionNode:
		walkTemplate(t.Pipe, guarded, add)
	case *parse.IfNode:
		walkBranch(&t.BranchNode, guarded, add)
	case *parse.WithNode:
		walkBranch(&t.BranchNode, guarded, add)
	case *parse.RangeNode:
		walkBranch(&t.BranchNode, guarded, add)
	case *parse.TemplateNode:
		walkTemplate(t.Pipe, guarded, add)
	case *parse.PipeNode:
		if t == nil {
			return
		}
		g := guarded
		for _, c := range t.Cmds {
			if len(c.Args) > 0 {
				if id, ok := c.Args[0].(*parse.IdentifierNode); ok && guards[id.Ident] {
					g = true
				}
			}
		}
		for _, c := range t.Cmds {
			walkTemplate(c, g, add)
		}
	case *parse.CommandNode:
		g := guarded
		if len(t.Args) > 0 {
			if id, ok := t.Args[0].(*parse.IdentifierNode); ok {
				if guards[id.Ident] {
					g = true
				}
				if id.Ident == "index" && len(t.Args) >= 3 {
					if f, ok := t.Args[1].(*parse.FieldNode); ok && len(f.Ident) == 2 {
						if r, ok := metadataField(f.Ident); ok {
							if s, ok := t.Args[2].(*parse.StringNode); ok {
								r.key = s.Text
								if !g {
									add(r)
								}
								return
							}
						}
					}
				}
			}
		}
		for _, a := range t.Args {
			walkTemplate(a, g, add)
		}
	case *parse.FieldNode:
		if r, ok := metadataField(t.Ident); ok && r.key != "" && !guarded {
			add(r)
		}
	case *parse.ChainNode:
		walkTemplate(t.Node, guarded, add)
	}
}

// valuesRef is a generator value a Go template or fasttemplate reads:
// {{ .values.x }}, {{values.x}}.
var valuesRef = regexp.MustCompile(`\{\{-?\s*\.?values\.([A-Za-z0-9_]+)\s*-?\}\}`)

// addonsDir is an "addons/<chart>/" path segment of a value file entry.
var addonsDir = regexp.MustCompile(`(?:^|/)addons/([^/{}]+)/`)

// staticCharts adds to out the charts an ApplicationSet deploys whatever
// clusters it selects: literal chart fields of its templates, the literal
// generator values a templated chart field reads ({{ .values.addonChart }}),
// and the addons/<chart>/ directories its value file entries name.
func staticCharts(as *v1alpha1.ApplicationSet, out map[string]bool) {
	spec := jsonTree(as.Spec)
	var chartFields, strs []string
	var walk func(v any)
	walk = func(v any) {
		switch t := v.(type) {
		case map[string]any:
			for k, c := range t {
				if s, ok := c.(string); ok && k == "chart" {
					chartFields = append(chartFields, s)
				}
				walk(c)
			}
		case []any:
			for _, c := range t {
				walk(c)
			}
		case string:
			strs = append(strs, t)
		}
	}
	walk(spec)
	for _, s := range strs {
		for _, m := range addonsDir.FindAllStringSubmatch(s, -1) {
			out[m[1]] = true
		}
	}
	gens := jsonTree(as.Spec.Generators)
	for _, c := range chartFields {
		if !strings.Contains(c, "{{") {
			out[c] = true
			continue
		}
		for _, m := range valuesRef.FindAllStringSubmatch(c, -1) {
			for _, v := range literalValues(gens, m[1]) {
				out[v] = true
			}
		}
	}
}

// literalValues returns the literal strings set for key in any "values" map
// of a generator tree.
func literalValues(v any, key string) []string {
	var out []string
	switch t := v.(type) {
	case map[string]any:
		for k, c := range t {
			if vals, ok := c.(map[string]any); ok && k == "values" {
				if s, ok := vals[key].(string); ok && !strings.Contains(s, "{{") {
					out = append(out, s)
				}
			}
			out = append(out, literalValues(c, key)...)
		}
	case []any:
		for _, c := range t {
			out = append(out, literalValues(c, key)...)
		}
	}
	return out
}

// walkBranch walks if, with and range: the condition is a guard.
func walkBranch(b *parse.BranchNode, guarded bool, add func(metadataRef)) {
	walkTemplate(b.Pipe, true, add)
	walkTemplate(b.List, guarded, add)
	walkTemplate(b.ElseList, guarded, add)
}
