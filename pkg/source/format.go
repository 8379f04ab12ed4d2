package source

import (
	"io"
	"math"
	"slices"

	"go.yaml.in/yaml/v3"
)

// FormatProvenance writes merged (from Merge) as a YAML document, the way
// `helm get values --all` shows values, with the layer that set each leaf in
// a comment at the end of the leaf's line:
//
//	configs:
//	  cm:
//	    application.instanceLabelKey: gitops-hub.io/client-instance # $values/environments/default/addons/argo-cd/values.yaml
//	    installationID: eks-develop-clientA-services # $values/clusters/eks-develop-clientA-services/addons/argo-cd/values.yaml
//	  params:
//	    server.insecure: true # chart values.yaml
//	server:
//	  extraArgs: # $values/environments/develop/addons/argo-cd/values.yaml
//	    - --insecure
//
// Keys are sorted at every level, so the listing is stable. A list is one
// leaf: its comment is on the line of its key and its items follow. A
// multi-line string is written as a block scalar with the comment after the
// "|". Integral numbers are written as integers (Helm reads every number of
// a YAML file as a float64). A leaf with no entry in origin has no comment.
// The output is valid YAML: it parses back to merged.
func FormatProvenance(w io.Writer, merged map[string]any, origin map[string]string) error {
	doc := provenanceNode(merged, "", origin)
	enc := yaml.NewEncoder(w)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
		return err
	}
	return enc.Close()
}

func provenanceNode(m map[string]any, prefix string, origin map[string]string) *yaml.Node {
	n := &yaml.Node{Kind: yaml.MappingNode}
	if len(m) == 0 {
		n.Style = yaml.FlowStyle
		return n
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		p := joinPath(prefix, k)
		kn := &yaml.Node{}
		_ = kn.Encode(k)
		v := m[k]
		var vn *yaml.Node
		if sub, ok := v.(map[string]any); ok && len(sub) > 0 {
			vn = provenanceNode(sub, p, origin)
		} else {
			vn = &yaml.Node{}
			if err := vn.Encode(plainNumbers(v)); err != nil {
				vn = &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Value: "null"}
			}
			if o, ok := origin[p]; ok {
				if vn.Kind == yaml.SequenceNode && len(vn.Content) > 0 {
					kn.LineComment = "# " + o
				} else {
					vn.LineComment = "# " + o
				}
			}
		}
		n.Content = append(n.Content, kn, vn)
	}
	return n
}

// plainNumbers writes integral float64 values as integers.
func plainNumbers(v any) any {
	switch t := v.(type) {
	case float64:
		if t == math.Trunc(t) && math.Abs(t) < 1<<53 {
			return int64(t)
		}
		return t
	case []any:
		out := make([]any, len(t))
		for i, c := range t {
			out[i] = plainNumbers(c)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, c := range t {
			out[k] = plainNumbers(c)
		}
		return out
	}
	return v
}
