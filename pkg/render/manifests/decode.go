package manifests

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	kubeyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

// This file holds the decoding that Argo CD's repo-server applies to
// manifest files and to `kustomize build` output
// (argoproj/argo-cd reposerver/repository/repository.go:
// getObjsFromYAMLOrJSON, splitYAMLOrJSON, and the list expansion at the end
// of GenerateManifests). The same libraries are used (apimachinery's
// YAMLOrJSONDecoder rules, sigs.k8s.io/yaml, unstructured.Unstructured), so
// numbers, empty documents and errors behave as they do upstream; what is
// added is the file line of a failing document.

// jsonSniffLen is how far apimachinery's decoder looks for a leading `{` to
// decide that a stream is JSON (Argo CD passes 4096).
const jsonSniffLen = 4096

// decodeText undoes what utfutil.ReadFile(path, utfutil.UTF8) does for the
// repo-server: a UTF-8 BOM is dropped, a UTF-16 BOM selects UTF-16, and
// invalid UTF-8 bytes become U+FFFD.
func decodeText(b []byte) []byte {
	switch {
	case bytes.HasPrefix(b, []byte{0xEF, 0xBB, 0xBF}):
		b = b[3:]
	case bytes.HasPrefix(b, []byte{0xFF, 0xFE}):
		return utf16ToUTF8(b[2:], false)
	case bytes.HasPrefix(b, []byte{0xFE, 0xFF}):
		return utf16ToUTF8(b[2:], true)
	}
	if utf8.Valid(b) {
		return b
	}
	out := make([]byte, 0, len(b)+8)
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		if r == utf8.RuneError && n == 1 {
			out = utf8.AppendRune(out, utf8.RuneError)
		} else {
			out = append(out, b[:n]...)
		}
		b = b[n:]
	}
	return out
}

func utf16ToUTF8(b []byte, bigEndian bool) []byte {
	u := make([]uint16, 0, len(b)/2)
	for i := 0; i+1 < len(b); i += 2 {
		if bigEndian {
			u = append(u, uint16(b[i])<<8|uint16(b[i+1]))
		} else {
			u = append(u, uint16(b[i+1])<<8|uint16(b[i]))
		}
	}
	if len(b)%2 == 1 {
		u = append(u, utf8.RuneError)
	}
	var out []byte
	for _, r := range utf16.Decode(u) {
		out = utf8.AppendRune(out, r)
	}
	return out
}

// docError is a decoding error located in its file.
type docError struct {
	line int // 1-based line in the file, 0 when unknown
	err  error
}

func (e *docError) Error() string {
	if e.line > 0 {
		return fmt.Sprintf("line %d: %v", e.line, e.err)
	}
	return e.err.Error()
}

func (e *docError) Unwrap() error { return e.err }

// yamlLineRE finds the document-relative line that go-yaml puts in its
// syntax errors.
var yamlLineRE = regexp.MustCompile(`yaml: line (\d+):`)

// splitYAMLOrJSON decodes every document of a YAML (or JSON) stream into an
// object, like Argo CD's splitYAMLOrJSON: empty documents (null) are
// skipped, a document that is not an object with a kind is an error. On
// error the objects decoded before the failing document are returned with
// it, as upstream does (findManifests then decides whether the file was a
// manifest at all).
func splitYAMLOrJSON(data []byte) ([]*unstructured.Unstructured, error) {
	if kubeyaml.IsJSONBuffer(head(data, jsonSniffLen)) {
		return splitJSONStream(data)
	}
	var objs []*unstructured.Unstructured
	for _, d := range splitYAMLDocuments(data) {
		if d.err != nil {
			return objs, d.err
		}
		u := &unstructured.Unstructured{}
		if err := yaml.Unmarshal(d.data, &u); err != nil {
			line := d.start
			if m := yamlLineRE.FindStringSubmatch(err.Error()); m != nil {
				n, _ := strconv.Atoi(m[1])
				line = d.start + n - 1
			}
			return objs, &docError{line: line, err: fmt.Errorf("failed to unmarshal manifest: %w", err)}
		}
		if u == nil {
			continue
		}
		objs = append(objs, u)
	}
	return objs, nil
}

func head(b []byte, n int) []byte {
	if len(b) > n {
		return b[:n]
	}
	return b
}

// splitJSONStream handles a stream that starts with `{`: apimachinery's
// YAMLOrJSONDecoder is used as is (it reads a sequence of JSON values and
// falls back to YAML after at most one). Errors are located by the byte
// offset of JSON syntax errors when there is one.
func splitJSONStream(data []byte) ([]*unstructured.Unstructured, error) {
	d := kubeyaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), jsonSniffLen)
	var objs []*unstructured.Unstructured
	for {
		u := &unstructured.Unstructured{}
		if err := d.Decode(&u); err != nil {
			if errors.Is(err, io.EOF) {
				return objs, nil
			}
			line := 0
			var se kubeyaml.JSONSyntaxError
			if errors.As(err, &se) && se.Offset >= 0 && int(se.Offset) <= len(data) {
				line = 1 + bytes.Count(data[:se.Offset], []byte("\n"))
			}
			return objs, &docError{line: line, err: fmt.Errorf("failed to unmarshal manifest: %w", err)}
		}
		if u == nil {
			continue
		}
		objs = append(objs, u)
	}
}

// yamlDoc is one document of a YAML stream, or the error that stopped the
// split.
type yamlDoc struct {
	data  []byte
	start int // 1-based file line of the document's first line
	err   error
}

// splitYAMLDocuments cuts a YAML stream into documents with the rules of
// apimachinery's YAMLReader (which Argo CD's decoder uses): lines are read
// with bufio.Reader.ReadLine (a "\r\n" ending counts as "\n"); a line that
// starts with "---" ends the current document when that one is not empty
// (and is kept as its first line otherwise); anything but spaces and a
// comment after such a "---" is an error. Unlike YAMLReader it also
// records where each document starts, for error messages.
func splitYAMLDocuments(data []byte) []yamlDoc {
	var (
		docs  []yamlDoc
		buf   bytes.Buffer
		start = 1
	)
	line := 0
	for i := 0; i < len(data); {
		line++
		var l []byte
		if j := bytes.IndexByte(data[i:], '\n'); j >= 0 {
			l = data[i : i+j]
			if n := len(l); n > 0 && l[n-1] == '\r' {
				l = l[:n-1]
			}
			i += j + 1
		} else {
			l = data[i:]
			i = len(data)
		}
		if bytes.HasPrefix(l, []byte("---")) {
			rest := strings.TrimSpace(string(l[3:]))
			if rest != "" && rest[0] != '#' {
				docs = append(docs, yamlDoc{start: line, err: &docError{line: line, err: fmt.Errorf("failed to unmarshal manifest: invalid Yaml document separator: %s", rest)}})
				return docs
			}
			if buf.Len() != 0 {
				docs = append(docs, yamlDoc{data: append([]byte(nil), buf.Bytes()...), start: start})
				buf.Reset()
				start = line + 1
				continue
			}
		}
		if buf.Len() == 0 {
			start = line
		}
		buf.Write(l)
		buf.WriteByte('\n')
	}
	if buf.Len() != 0 {
		docs = append(docs, yamlDoc{data: buf.Bytes(), start: start})
	}
	return docs
}

// decodeJSONFile decodes a *.json manifest file like getObjsFromYAMLOrJSON:
// exactly one JSON value, which must be an object with a kind (a `kind:
// List` object is expanded later). A JSON array is an error upstream too.
//
// Upstream differs in one corner: when the value fails to decode as an
// object with a kind but does decode as an OCI image manifest (which any
// JSON object without conflicting fields does), the repo-server passes the
// kindless object on and the application controller then fails on it
// ("Object 'Kind' is missing"). Here that is an error naming the file
// straight away.
func decodeJSONFile(data []byte) (*unstructured.Unstructured, error) {
	var obj unstructured.Unstructured
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&obj); err != nil {
		line := 0
		var se *json.SyntaxError
		if errors.As(err, &se) && se.Offset >= 0 && int(se.Offset) <= len(data) {
			line = 1 + bytes.Count(data[:se.Offset], []byte("\n"))
		}
		return nil, &docError{line: line, err: err}
	}
	if dec.More() {
		return nil, errors.New("found multiple objects: only single objects are allowed in JSON files")
	}
	return &obj, nil
}

// expandLists flattens the decoded objects the way the end of Argo CD's
// GenerateManifests does: an object whose `items` is a list (kind: List,
// ConfigMapList, ...) is replaced by its items, which must be objects; a
// list whose items are null (and that has no spec or status) is dropped;
// anything else is kept as is.
func expandLists(objs []*unstructured.Unstructured) ([]map[string]any, error) {
	out := make([]map[string]any, 0, len(objs))
	for _, obj := range objs {
		if obj == nil {
			continue
		}
		switch {
		case obj.IsList():
			items := obj.Object["items"].([]any)
			for _, it := range items {
				m, ok := it.(map[string]any)
				if !ok {
					return nil, fmt.Errorf("%s %q: items member is not an object: %T", obj.GetKind(), obj.GetName(), it)
				}
				out = append(out, m)
			}
		case isNullList(obj):
		default:
			out = append(out, obj.Object)
		}
	}
	return out, nil
}

// isNullList mirrors upstream's isNullList: `items: null` without spec or
// status.
func isNullList(obj *unstructured.Unstructured) bool {
	if _, ok := obj.Object["spec"]; ok {
		return false
	}
	if _, ok := obj.Object["status"]; ok {
		return false
	}
	field, ok := obj.Object["items"]
	return ok && field == nil
}

// SplitYAML decodes a multi-document YAML (or JSON) stream, such as the
// output of `kustomize build`, the way Argo CD does (gitops-engine's
// kube.SplitYAML, then GenerateManifests' list expansion): empty documents
// are dropped, every other document must be an object with a kind, and
// lists are replaced by their items.
func SplitYAML(data []byte) ([]map[string]any, error) {
	objs, err := splitYAMLOrJSON(data)
	if err != nil {
		return nil, err
	}
	return expandLists(objs)
}
