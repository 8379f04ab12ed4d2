package tmpl

import (
	"strings"
	"text/template/parse"
)

// A fast plan evaluates the common Go templates of ApplicationSets, text
// around `{{ .a.b }}` and `{{ index .a "k" }}` actions, without
// text/template's reflection. It only answers when every value it looks up
// exists and is a string, where text/template prints that string unchanged;
// otherwise (missing keys, other types) the template runs through
// text/template, so `<no value>`, missingkey=error and every error message
// stay exactly as upstream's.
type fastPlan struct{ parts []fastPart }

type fastPart struct {
	text  string
	path  []string // field chain from the root
	index string   // key for `index <path> "key"`
	isIdx bool
}

// compileFast returns nil when the template uses anything else.
func compileFast(tree *parse.Tree) *fastPlan {
	if tree == nil || tree.Root == nil {
		return nil
	}
	p := &fastPlan{}
	for _, n := range tree.Root.Nodes {
		switch n := n.(type) {
		case *parse.TextNode:
			p.parts = append(p.parts, fastPart{text: string(n.Text)})
		case *parse.ActionNode:
			if n.Pipe == nil || len(n.Pipe.Decl) > 0 || len(n.Pipe.Cmds) != 1 {
				return nil
			}
			args := n.Pipe.Cmds[0].Args
			switch {
			case len(args) == 1:
				f, ok := args[0].(*parse.FieldNode)
				if !ok {
					return nil
				}
				p.parts = append(p.parts, fastPart{path: f.Ident})
			case len(args) == 3:
				id, ok := args[0].(*parse.IdentifierNode)
				if !ok || id.Ident != "index" {
					return nil
				}
				f, ok := args[1].(*parse.FieldNode)
				if !ok {
					return nil
				}
				s, ok := args[2].(*parse.StringNode)
				if !ok {
					return nil
				}
				p.parts = append(p.parts, fastPart{path: f.Ident, index: s.Text, isIdx: true})
			default:
				return nil
			}
		default:
			return nil
		}
	}
	return p
}

// lookup follows path through map[string]any and map[string]string.
func lookup(root map[string]any, path []string) (any, bool) {
	var cur any = root
	for _, k := range path {
		switch m := cur.(type) {
		case map[string]any:
			v, ok := m[k]
			if !ok {
				return nil, false
			}
			cur = v
		case map[string]string:
			v, ok := m[k]
			if !ok {
				return nil, false
			}
			cur = v
		default:
			return nil, false
		}
	}
	return cur, true
}

// exec renders the plan; ok is false when text/template must decide.
func (p *fastPlan) exec(params map[string]any) (string, bool) {
	var b strings.Builder
	for _, part := range p.parts {
		if part.path == nil {
			b.WriteString(part.text)
			continue
		}
		v, ok := lookup(params, part.path)
		if !ok {
			return "", false
		}
		if part.isIdx {
			switch m := v.(type) {
			case map[string]string:
				s, ok := m[part.index]
				if !ok {
					return "", false
				}
				v = s
			case map[string]any:
				e, ok := m[part.index]
				if !ok {
					return "", false
				}
				v = e
			default:
				return "", false
			}
		}
		s, ok := v.(string)
		if !ok {
			return "", false
		}
		b.WriteString(s)
	}
	return b.String(), true
}
