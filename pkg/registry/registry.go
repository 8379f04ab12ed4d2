// Package registry reads the cluster registry: Argo CD cluster Secrets, as
// kept in Git (clusters/<name>/cluster.yaml, without credentials) or as
// exported from a hub. It never keeps or prints credentials.
package registry

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"runtime"
	"sort"
	"strings"
	"sync"

	"go.yaml.in/yaml/v3"

	"github.com/gitops-hub/gitops-hub/pkg/conventions"
	"github.com/gitops-hub/gitops-hub/pkg/loader"
)

// Argo CD's cluster Secret conventions (util/settings, common/common.go).
const (
	SecretTypeLabel   = conventions.SecretTypeLabel
	SecretTypeCluster = conventions.SecretTypeCluster
	InClusterServer   = "https://kubernetes.default.svc"
	InClusterName     = "in-cluster"
)

// Cluster is one registered cluster, as the ApplicationSet clusters
// generator sees it.
type Cluster struct {
	Name        string // data.name
	Server      string // data.server
	Project     string // data.project
	Labels      map[string]string
	Annotations map[string]string
	SecretName  string
	Namespace   string
	File        string
	Line        int
}

// Pos renders "file:line".
func (c *Cluster) Pos() string { return fmt.Sprintf("%s:%d", c.File, c.Line) }

// secret is the subset of a v1 Secret that hubctl reads. Unknown top-level
// fields are rejected; metadata accepts every ObjectMeta field.
type secret struct {
	APIVersion string     `yaml:"apiVersion"`
	Kind       string     `yaml:"kind"`
	Metadata   secretMeta `yaml:"metadata"`
	Type       string     `yaml:"type"`
	Data       secretData `yaml:"data"`
	StringData secretData `yaml:"stringData"`
	Immutable  *bool      `yaml:"immutable"`
}

type secretMeta struct {
	Name                       string        `yaml:"name"`
	Namespace                  string        `yaml:"namespace"`
	Labels                     stringMap     `yaml:"labels"`
	Annotations                annotationMap `yaml:"annotations"`
	GenerateName               any           `yaml:"generateName"`
	UID                        any           `yaml:"uid"`
	ResourceVersion            any           `yaml:"resourceVersion"`
	Generation                 any           `yaml:"generation"`
	CreationTimestamp          any           `yaml:"creationTimestamp"`
	DeletionTimestamp          any           `yaml:"deletionTimestamp"`
	DeletionGracePeriodSeconds any           `yaml:"deletionGracePeriodSeconds"`
	OwnerReferences            any           `yaml:"ownerReferences"`
	Finalizers                 any           `yaml:"finalizers"`
	ManagedFields              any           `yaml:"managedFields"`
	SelfLink                   any           `yaml:"selfLink"`
}

// stringMap is a map[string]string whose values must be YAML strings.
// Kubernetes decodes labels, annotations, data and stringData as string
// maps from JSON, so an unquoted `true`, `3` or `1.5` makes `kubectl apply`
// fail ("cannot unmarshal bool into Go struct field ... of type string");
// go-yaml alone would silently turn it into the string "true".
type stringMap map[string]string

func (m *stringMap) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.MappingNode {
		var errs []string
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if v.Kind != yaml.ScalarNode {
				continue // left to the decoder's own type error
			}
			if msg := notAString(k, v); msg != "" {
				errs = append(errs, msg)
			}
		}
		if len(errs) > 0 {
			return &yaml.TypeError{Errors: errs}
		}
		if plain, ok := plainStrings(n); ok {
			*m = plain
			return nil
		}
	}
	var plain map[string]string
	if err := n.Decode(&plain); err != nil {
		return err
	}
	*m = plain
	return nil
}

// plainStrings reads a mapping of plain string keys to string (or null)
// values, the usual shape, without the reflective decoder. Anything else
// (aliases, merge keys, timestamps, duplicate keys...) reports false.
func plainStrings(n *yaml.Node) (map[string]string, bool) {
	out := make(map[string]string, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode || v.Kind != yaml.ScalarNode || k.ShortTag() != "!!str" {
			return nil, false
		}
		if _, dup := out[k.Value]; dup {
			return nil, false
		}
		switch v.ShortTag() {
		case "!!str":
			out[k.Value] = v.Value
		case "!!null":
			out[k.Value] = ""
		default:
			return nil, false
		}
	}
	return out, true
}

// notAString is the error for a scalar value that JSON would not read as a
// string (Kubernetes decodes these maps from JSON), "" when it is one. It
// names the line and the key, never the value: in data and stringData the
// value is a credential.
func notAString(k, v *yaml.Node) string {
	switch tag := v.ShortTag(); tag {
	case "!!bool", "!!int", "!!float":
		return fmt.Sprintf("line %d: value of %q is a YAML %s, not a string: quote it", v.Line, k.Value, tag[2:])
	}
	return ""
}

// LastAppliedAnnotation is written by `kubectl apply` (client-side): it
// holds the whole object as applied, so for a cluster Secret the bearer
// token and TLS keys of its config. It is dropped when a Secret is read.
const LastAppliedAnnotation = "kubectl.kubernetes.io/last-applied-configuration"

// annotationMap is a stringMap without LastAppliedAnnotation, which is
// removed before anything else looks at the value.
type annotationMap stringMap

func (m *annotationMap) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.MappingNode {
		kept := make([]*yaml.Node, 0, len(n.Content))
		for i := 0; i+1 < len(n.Content); i += 2 {
			if k := n.Content[i]; k.Kind == yaml.ScalarNode && k.Value == LastAppliedAnnotation {
				continue
			}
			kept = append(kept, n.Content[i], n.Content[i+1])
		}
		c := *n
		c.Content = kept
		n = &c
	}
	return (*stringMap)(m).UnmarshalYAML(n)
}

// clusterDataKeys are the keys of a cluster Secret's data and stringData
// that hubctl reads (Argo CD's name, server, project, clusterResources and
// namespaces); every other key, config with its credentials first, is
// checked for shape and dropped, and its value never appears in a message.
var clusterDataKeys = map[string]bool{"name": true, "server": true, "project": true, "clusterResources": true, "namespaces": true}

// secretData is a Secret's data or stringData: a map of strings, of which
// only clusterDataKeys are kept. Its errors name lines and keys only.
type secretData map[string]string

func (m *secretData) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	switch {
	case n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null":
		*m = nil
		return nil
	case n.Kind != yaml.MappingNode:
		return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: data and stringData must be maps of strings, not a YAML %s", n.Line, kindName(n))}}
	}
	out := secretData{}
	seen := map[string]int{}
	var errs []string
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode || k.ShortTag() == "!!merge" {
			errs = append(errs, fmt.Sprintf("line %d: every key must be a plain string", k.Line))
			continue
		}
		if prev, dup := seen[k.Value]; dup {
			errs = append(errs, fmt.Sprintf("line %d: mapping key %q already defined at line %d", k.Line, k.Value, prev))
			continue
		}
		seen[k.Value] = k.Line
		if v.Kind == yaml.AliasNode && v.Alias != nil {
			v = v.Alias
		}
		if v.Kind != yaml.ScalarNode {
			errs = append(errs, fmt.Sprintf("line %d: value of %q is a YAML %s, not a string", v.Line, k.Value, kindName(v)))
			continue
		}
		if msg := notAString(k, v); msg != "" {
			errs = append(errs, msg)
			continue
		}
		var str string
		switch v.ShortTag() {
		case "!!str":
			str = v.Value
		case "!!null":
		default: // !!timestamp, !!binary, a local tag...: as go-yaml reads them into a string
			if err := v.Decode(&str); err != nil {
				errs = append(errs, fmt.Sprintf("line %d: value of %q (tag %s) is not a string", v.Line, k.Value, v.ShortTag()))
				continue
			}
		}
		if clusterDataKeys[k.Value] {
			out[k.Value] = str
		}
	}
	if len(errs) > 0 {
		return &yaml.TypeError{Errors: errs}
	}
	*m = out
	return nil
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.SequenceNode:
		return "sequence"
	case yaml.MappingNode:
		return "mapping"
	case yaml.AliasNode:
		return "alias"
	case yaml.DocumentNode:
		return "document"
	}
	return strings.TrimPrefix(n.ShortTag(), "!!")
}

// ParseError is a problem with one document of a registry file.
type ParseError struct {
	Pos string // file:line
	Obj string // Secret name when known
	Err error
}

func (e *ParseError) Error() string {
	if e.Obj != "" {
		return fmt.Sprintf("%s: Secret %q: %v", e.Pos, e.Obj, e.Err)
	}
	return fmt.Sprintf("%s: %v", e.Pos, e.Err)
}

func (e *ParseError) Unwrap() error { return e.Err }

// Parse decodes every document of data as an Argo CD cluster Secret.
// A document that is a v1 List (what `kubectl get secret -o yaml` writes for
// several Secrets) stands for its items. Documents are decoded in parallel;
// the result keeps file order.
func Parse(file string, data []byte) ([]*Cluster, error) {
	docs, err := expandLists(loader.SplitDocuments(file, data))
	if err != nil {
		return nil, err
	}
	out := make([]*Cluster, len(docs))
	errs := make([]error, len(docs))
	workers := min(runtime.GOMAXPROCS(0), max(1, len(docs)/64))
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < len(docs); i += workers {
				out[i], errs[i] = parseDoc(docs[i])
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return out, nil
}

// expandLists replaces every document that is a List (kind List or
// SecretList, apiVersion v1, as kubectl writes) by one document per item,
// each at the line where the item starts.
func expandLists(docs []loader.Document) ([]loader.Document, error) {
	out := docs[:0:0]
	expanded := false
	for _, d := range docs {
		// Only a document with an items key can be a List: the others are
		// not decoded twice.
		if !bytes.Contains(d.Data, []byte("items:")) {
			out = append(out, d)
			continue
		}
		var list struct {
			APIVersion string      `yaml:"apiVersion"`
			Kind       string      `yaml:"kind"`
			Items      []yaml.Node `yaml:"items"`
		}
		if err := yaml.Unmarshal(d.Data, &list); err != nil || (list.Kind != "List" && list.Kind != "SecretList") {
			out = append(out, d) // parseDoc reports what is wrong with it
			continue
		}
		if list.APIVersion != "v1" {
			return nil, &ParseError{Pos: d.Pos(), Err: fmt.Errorf("%s/%s: a List of cluster Secrets has apiVersion v1", list.APIVersion, list.Kind)}
		}
		expanded = true
		for j := range list.Items {
			item := &list.Items[j]
			b, err := yaml.Marshal(item)
			if err != nil {
				return nil, &ParseError{Pos: d.PosAt(item.Line), Err: fmt.Errorf("List item %d: %w", j, err)}
			}
			out = append(out, loader.Document{File: d.File, Line: d.Line + item.Line - 1, Index: d.Index, Data: b})
		}
	}
	if !expanded {
		return docs, nil
	}
	return out, nil
}

func parseDoc(d loader.Document) (*Cluster, error) {
	var s secret
	if err := decodeStrict(d.Data, &s); err != nil {
		msg, name := redact(d.Data, scrubYAMLError(d.ShiftLines(err.Error())))
		return nil, &ParseError{Pos: d.Pos(), Obj: name, Err: fmt.Errorf("invalid YAML: %s", msg)}
	}
	name := s.Metadata.Name
	if s.Kind != "Secret" || (s.APIVersion != "v1" && s.APIVersion != "") {
		return nil, &ParseError{Pos: d.Pos(), Obj: name, Err: fmt.Errorf("%s/%s is not a Secret: a cluster registry holds only Argo CD cluster Secrets (apiVersion v1, kind Secret)", s.APIVersion, orNone(s.Kind))}
	}
	if t := s.Metadata.Labels[SecretTypeLabel]; t != SecretTypeCluster {
		return nil, &ParseError{Pos: d.Pos(), Obj: name, Err: fmt.Errorf("not an Argo CD cluster Secret: label %s=%s is missing", SecretTypeLabel, SecretTypeCluster)}
	}
	field := func(k string) (string, error) {
		if v, ok := s.StringData[k]; ok {
			return v, nil
		}
		v, ok := s.Data[k]
		if !ok {
			return "", nil
		}
		b, err := base64.StdEncoding.DecodeString(v)
		if err != nil {
			return "", fmt.Errorf("data.%s is not valid base64: %w", k, err)
		}
		return string(b), nil
	}
	c := &Cluster{SecretName: name, Namespace: s.Metadata.Namespace, Labels: map[string]string(s.Metadata.Labels), Annotations: map[string]string(s.Metadata.Annotations), File: d.File, Line: d.Line}
	var err error
	if c.Name, err = field("name"); err != nil {
		return nil, &ParseError{Pos: d.Pos(), Obj: name, Err: err}
	}
	if c.Server, err = field("server"); err != nil {
		return nil, &ParseError{Pos: d.Pos(), Obj: name, Err: err}
	}
	if c.Project, err = field("project"); err != nil {
		return nil, &ParseError{Pos: d.Pos(), Obj: name, Err: err}
	}
	return c, nil
}

// decodeStrict decodes one YAML document, refusing unknown fields.
func decodeStrict(data []byte, v any) error {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	return dec.Decode(v)
}

func orNone(s string) string {
	if s == "" {
		return "<no kind>"
	}
	return s
}

// Registry is the set of clusters known to the hub.
type Registry struct {
	Clusters []*Cluster // sorted by Name
	byName   map[string]*Cluster
	byServer map[string][]*Cluster
}

// New indexes clusters. Two Secrets with the same cluster name are an error:
// Argo CD would keep one of them at random.
func New(clusters []*Cluster) (*Registry, error) {
	r := &Registry{byName: map[string]*Cluster{}, byServer: map[string][]*Cluster{}}
	var errs []error
	for _, c := range clusters {
		if prev, ok := r.byName[c.Name]; ok {
			errs = append(errs, fmt.Errorf("%s: Secret %q: cluster name %q is already registered by Secret %q at %s", c.Pos(), c.SecretName, c.Name, prev.SecretName, prev.Pos()))
			continue
		}
		r.byName[c.Name] = c
		r.byServer[strings.TrimRight(c.Server, "/")] = append(r.byServer[strings.TrimRight(c.Server, "/")], c)
		r.Clusters = append(r.Clusters, c)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	sort.Slice(r.Clusters, func(i, j int) bool { return r.Clusters[i].Name < r.Clusters[j].Name })
	return r, nil
}

// ByName returns the cluster registered under name.
func (r *Registry) ByName(name string) (*Cluster, bool) {
	c, ok := r.byName[name]
	return c, ok
}

// HasServer reports whether a Secret registers server (trailing '/' ignored).
func (r *Registry) HasServer(server string) bool {
	return len(r.byServer[strings.TrimRight(server, "/")]) > 0
}

// Load reads registry files.
func Load(files []loader.File) (*Registry, error) {
	var all []*Cluster
	var errs []error
	for _, f := range files {
		data, err := f.ReadFile()
		if err != nil {
			errs = append(errs, fmt.Errorf("reading cluster registry: %w", err))
			continue
		}
		cs, err := Parse(f.Name, data)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		all = append(all, cs...)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return New(all)
}

// LoadGlob reads every registry file of fsys matching pattern (path.Match
// syntax, e.g. "clusters/*/cluster.yaml").
func LoadGlob(fsys fs.FS, pattern string) (*Registry, error) {
	paths, err := fs.Glob(fsys, pattern)
	if err != nil {
		return nil, fmt.Errorf("cluster registry pattern %q: %w", pattern, err)
	}
	return Load(loader.RepoFiles(fsys, paths...))
}
