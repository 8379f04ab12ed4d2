package validate

import (
	"go.yaml.in/yaml/v3"

	"github.com/gitops-hub/gitops-hub/pkg/loader"
)

// doc is a YAML document with its node tree, to find lines.
type doc struct {
	loader.Document
	root *yaml.Node // the document's top mapping, nil when it does not parse
}

func parseDoc(d loader.Document) doc {
	var n yaml.Node
	out := doc{Document: d}
	if yaml.Unmarshal(d.Data, &n) == nil && len(n.Content) == 1 {
		out.root = n.Content[0]
	}
	return out
}

// line returns the file line of the key at path (each element a mapping
// key), or of the deepest key found on the way, or of the document.
func (d doc) line(path ...string) int {
	n := d.root
	best := d.Line
	for _, k := range path {
		if n == nil || n.Kind != yaml.MappingNode {
			break
		}
		var next *yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == k {
				best = d.Line + n.Content[i].Line - 1
				next = n.Content[i+1]
				break
			}
		}
		if next == nil {
			break
		}
		n = next
	}
	return best
}

// findKey returns the file line of the first mapping key named key
// anywhere in the document (depth first), 0 when there is none.
func (d doc) findKey(key string) int {
	return d.find(func(k, _ *yaml.Node) bool { return k.Value == key })
}

// findScalar returns the file line of the first mapping value that is the
// scalar v, 0 when there is none.
func (d doc) findScalar(v string) int {
	return d.find(func(_, val *yaml.Node) bool { return val.Kind == yaml.ScalarNode && val.Value == v })
}

func (d doc) find(match func(k, v *yaml.Node) bool) int {
	if d.root == nil {
		return 0
	}
	var walk func(n *yaml.Node) int
	walk = func(n *yaml.Node) int {
		if n.Kind == yaml.MappingNode {
			for i := 0; i+1 < len(n.Content); i += 2 {
				if match(n.Content[i], n.Content[i+1]) {
					return d.Line + n.Content[i].Line - 1
				}
			}
		}
		for _, c := range n.Content {
			if l := walk(c); l > 0 {
				return l
			}
		}
		return 0
	}
	return walk(d.root)
}
