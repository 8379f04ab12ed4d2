package registry

import (
	"cmp"
	"encoding/base64"
	"regexp"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// A cluster Secret's credentials must never reach a message. The decoder's
// errors are made safe in three layers: data and stringData (secretData)
// and annotations (annotationMap) report lines and keys only; go-yaml's own
// messages lose the values and names they quote (scrubYAMLError); and as a
// last resort every credential found in the document is cut out of the
// message (redact).

// yamlQuoted matches what go-yaml quotes in its messages: a value in
// backquotes ("cannot unmarshal !!str `eyJhbGc...` into bool", "cannot
// decode !!str `...` as a !!timestamp"), an anchor name in single quotes
// ("unknown anchor 'x' referenced"), a tag after "unmarshal" (a local tag
// such as !token is the text the user wrote), a key in "invalid map key".
var yamlQuoted = []struct {
	re   *regexp.Regexp
	repl string
}{
	{regexp.MustCompile(" ?`[^`\n]*`"), ""},
	{regexp.MustCompile(`anchor '[^'\n]*'`), "anchor"},
	{regexp.MustCompile(`unmarshal ![^!\s][^\s]*`), "unmarshal a locally tagged value"},
	{regexp.MustCompile(`invalid map key: .*`), "invalid map key"},
}

func scrubYAMLError(msg string) string {
	for _, q := range yamlQuoted {
		msg = q.re.ReplaceAllString(msg, q.repl)
	}
	return msg
}

// minRedacted is the shortest credential cut out of messages: shorter
// strings would also match line numbers and words of the message itself.
const minRedacted = 4

// redact cuts out of msg every string of the document that is a credential:
// the values (with their tags and anchors, and base64-decoded for data) of
// every data and stringData key but clusterDataKeys, data or stringData
// itself when it is not a mapping, and the last-applied-configuration
// annotation. A document that does not parse has no such strings to find;
// its message went through scrubYAMLError. name is the Secret's
// metadata.name when the document has one, for the message.
func redact(data []byte, msg string) (_, name string) {
	var doc yaml.Node
	if yaml.Unmarshal(data, &doc) != nil || len(doc.Content) == 0 {
		return msg, ""
	}
	var secrets []string
	add := func(n *yaml.Node, decode bool) {
		walk(n, func(s string) {
			secrets = append(secrets, s)
			if decode {
				if b, err := base64.StdEncoding.DecodeString(s); err == nil {
					secrets = append(secrets, string(b))
				}
			}
		})
	}
	top := doc.Content[0]
	for k, v := range pairs(top) {
		switch k.Value {
		case "data", "stringData":
			if v.Kind != yaml.MappingNode {
				add(v, k.Value == "data")
				continue
			}
			for dk, dv := range pairs(v) {
				if !clusterDataKeys[dk.Value] {
					add(dv, k.Value == "data")
				}
			}
		case "metadata":
			for mk, mv := range pairs(v) {
				if mk.Value == "name" && mv.Kind == yaml.ScalarNode {
					name = mv.Value
				}
				if mk.Value != "annotations" {
					continue
				}
				for ak, av := range pairs(mv) {
					if ak.Value == LastAppliedAnnotation {
						add(av, false)
					}
				}
			}
		}
	}
	secrets = slices.DeleteFunc(secrets, func(s string) bool { return len(s) < minRedacted })
	// Longest first, so that a secret containing another is cut whole.
	slices.SortFunc(secrets, func(a, b string) int { return cmp.Compare(len(b), len(a)) })
	for _, s := range secrets {
		msg = strings.ReplaceAll(msg, s, "<redacted>")
		// A multi-line value may be quoted line by line.
		for line := range strings.SplitSeq(s, "\n") {
			if len(line) >= minRedacted {
				msg = strings.ReplaceAll(msg, line, "<redacted>")
			}
		}
	}
	return msg, name
}

// pairs yields the key and value nodes of a mapping node (nothing for any
// other node).
func pairs(n *yaml.Node) func(func(k, v *yaml.Node) bool) {
	return func(yield func(k, v *yaml.Node) bool) {
		if n == nil || n.Kind != yaml.MappingNode {
			return
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			if !yield(n.Content[i], n.Content[i+1]) {
				return
			}
		}
	}
}

// walk calls fn with every scalar value, local tag and anchor under n
// (mapping keys excepted).
func walk(n *yaml.Node, fn func(string)) {
	if n == nil {
		return
	}
	for _, s := range []string{n.Value, n.Anchor} {
		if s != "" {
			fn(s)
		}
	}
	// A local tag (!token) is text the user wrote; !!str and the like are not.
	if strings.HasPrefix(n.Tag, "!") && !strings.HasPrefix(n.Tag, "!!") {
		fn(n.Tag)
	}
	switch n.Kind {
	case yaml.AliasNode:
		return // its target is walked where it is defined
	case yaml.MappingNode:
		// Values only: the keys of a credential (bearerToken, tlsClientConfig)
		// are names, and cutting them would cut the keys a message names.
		for _, v := range pairs(n) {
			walk(v, fn)
		}
		return
	}
	for _, c := range n.Content {
		walk(c, fn)
	}
}
