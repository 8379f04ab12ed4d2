package loader

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"strings"

	"go.yaml.in/yaml/v3"
	sigsyaml "sigs.k8s.io/yaml"

	"github.com/gitops-hub/gitops-hub/pkg/apis/argocd/v1alpha1"
)

// Error is a problem with one document, named by file, line and object.
type Error struct {
	Pos    string // file:line
	Object string // "Kind/name" when known
	Err    error
}

func (e *Error) Error() string {
	if e.Object != "" {
		return fmt.Sprintf("%s: %s: %v", e.Pos, e.Object, e.Err)
	}
	return fmt.Sprintf("%s: %v", e.Pos, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// AppSet is an ApplicationSet with the place it was read from.
type AppSet struct {
	*v1alpha1.ApplicationSet
	Doc Document
}

// Objects are the Argo CD objects found in a set of files.
type Objects struct {
	AppSets []AppSet
	// Projects maps AppProject names to where they are defined.
	Projects map[string]Document
	// Warnings are things Argo CD accepts silently but that are almost
	// certainly mistakes (e.g. a generator entry with no generator).
	Warnings []string
}

type typeMeta struct {
	APIVersion string `yaml:"apiVersion"`
	Kind       string `yaml:"kind"`
	Metadata   struct {
		Name string `yaml:"name"`
	} `yaml:"metadata"`
}

// LoadObjects reads ApplicationSets and AppProjects from files in fsys.
// Other kinds are skipped. requireAppSet makes a file without any
// ApplicationSet an error (for files named on the command line).
func LoadObjects(files []File, requireAppSet bool) (*Objects, error) {
	objs := &Objects{Projects: map[string]Document{}}
	var errs []error
	for _, file := range files {
		f := file.Name
		data, err := file.ReadFile()
		if err != nil {
			errs = append(errs, fmt.Errorf("reading ApplicationSets: %w", err))
			continue
		}
		n, nerr := len(objs.AppSets), len(errs)
		for _, d := range SplitDocuments(f, data) {
			var tm typeMeta
			if err := yaml.Unmarshal(d.Data, &tm); err != nil {
				errs = append(errs, &Error{Pos: d.Pos(), Err: fmt.Errorf("invalid YAML: %s", d.ShiftLines(err.Error()))})
				continue
			}
			switch {
			case tm.Kind == v1alpha1.ApplicationSetKind:
				as, err := decodeAppSet(d)
				if err != nil {
					errs = append(errs, err)
					continue
				}
				objs.Warnings = append(objs.Warnings, checkGenerators(as, d)...)
				objs.AppSets = append(objs.AppSets, AppSet{ApplicationSet: as, Doc: d})
			case tm.Kind == v1alpha1.AppProjectKind:
				objs.Projects[tm.Metadata.Name] = d
			}
		}
		if requireAppSet && len(objs.AppSets) == n && len(errs) == nerr {
			errs = append(errs, fmt.Errorf("%s: no ApplicationSet found (apiVersion %s, kind ApplicationSet)", f, v1alpha1.APIVersion))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return objs, nil
}

var unknownFieldRE = regexp.MustCompile(`unknown field "([^"]+)"`)

// decodeAppSet decodes strictly: an unknown field anywhere is an error that
// names its line (kubectl's strict field validation rejects it too).
func decodeAppSet(d Document) (*v1alpha1.ApplicationSet, error) {
	var node yaml.Node
	if err := yaml.Unmarshal(d.Data, &node); err != nil {
		return nil, &Error{Pos: d.Pos(), Err: fmt.Errorf("invalid YAML: %s", d.ShiftLines(err.Error()))}
	}
	name := findName(&node)
	obj := "ApplicationSet/" + name
	j, err := sigsyaml.YAMLToJSON(d.Data)
	if err != nil {
		return nil, &Error{Pos: d.Pos(), Object: obj, Err: fmt.Errorf("invalid YAML: %s", d.ShiftLines(err.Error()))}
	}
	dec := json.NewDecoder(bytes.NewReader(j))
	dec.DisallowUnknownFields()
	var as v1alpha1.ApplicationSet
	if err := dec.Decode(&as); err != nil {
		pos := d.Pos()
		if m := unknownFieldRE.FindStringSubmatch(err.Error()); m != nil {
			l := unknownKeyLine(&node, reflect.TypeOf(as), m[1], 0)
			if l == 0 {
				l = findKeyLine(&node, m[1])
			}
			if l > 0 {
				pos = d.PosAt(l)
			}
		}
		return nil, &Error{Pos: pos, Object: obj, Err: err}
	}
	if as.APIVersion != v1alpha1.APIVersion {
		return nil, &Error{Pos: d.Pos(), Object: obj, Err: fmt.Errorf("apiVersion %q is not %s", as.APIVersion, v1alpha1.APIVersion)}
	}
	if as.Name == "" {
		return nil, &Error{Pos: d.Pos(), Object: obj, Err: errors.New("metadata.name is required")}
	}
	return &as, nil
}

func findName(n *yaml.Node) string {
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	md := mapValue(n, "metadata")
	if v := mapValue(md, "name"); v != nil {
		return v.Value
	}
	return ""
}

func mapValue(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

var jsonUnmarshalerType = reflect.TypeFor[json.Unmarshaler]()

// unknownKeyLine returns the line of the first mapping key named key that
// has no JSON field in the Go type the decoder fills at that place: the key
// encoding/json rejects. Looking for the name alone could point at a valid
// key of the same name elsewhere (a misplaced `path` under `destination`
// while `source.path` comes first).
func unknownKeyLine(n *yaml.Node, t reflect.Type, key string, depth int) int {
	if n == nil || depth > 100 {
		return 0
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) > 0 {
			return unknownKeyLine(n.Content[0], t, key, depth+1)
		}
		return 0
	case yaml.AliasNode:
		return unknownKeyLine(n.Alias, t, key, depth+1)
	}
	if reflect.PointerTo(t).Implements(jsonUnmarshalerType) {
		return 0 // decoded by its own UnmarshalJSON (json.RawMessage, metav1.Time)
	}
	switch t.Kind() {
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			return 0
		}
		fields := map[string]reflect.Type{}
		jsonFields(t, fields)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			ft, ok := fields[k.Value]
			if !ok {
				for name, typ := range fields {
					if strings.EqualFold(name, k.Value) {
						ft, ok = typ, true
						break
					}
				}
			}
			if !ok {
				if k.Value == key {
					return k.Line
				}
				continue
			}
			if l := unknownKeyLine(v, ft, key, depth+1); l > 0 {
				return l
			}
		}
	case reflect.Map:
		if n.Kind == yaml.MappingNode {
			for i := 1; i < len(n.Content); i += 2 {
				if l := unknownKeyLine(n.Content[i], t.Elem(), key, depth+1); l > 0 {
					return l
				}
			}
		}
	case reflect.Slice, reflect.Array:
		if n.Kind == yaml.SequenceNode {
			for _, c := range n.Content {
				if l := unknownKeyLine(c, t.Elem(), key, depth+1); l > 0 {
					return l
				}
			}
		}
	}
	return 0
}

// jsonFields adds the JSON field names of struct type t, with embedded
// structs without a name promoted as encoding/json does.
func jsonFields(t reflect.Type, out map[string]reflect.Type) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		ft := f.Type
		for ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		if f.Anonymous && name == "" && ft.Kind() == reflect.Struct {
			jsonFields(ft, out)
			continue
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		if _, dup := out[name]; !dup {
			out[name] = f.Type
		}
	}
}

// findKeyLine returns the line of the first mapping key named key.
func findKeyLine(n *yaml.Node, key string) int {
	if n.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == key {
				return n.Content[i].Line
			}
		}
	}
	for _, c := range n.Content {
		if l := findKeyLine(c, key); l > 0 {
			return l
		}
	}
	return 0
}

// checkGenerators warns about generator entries Argo CD would silently
// ignore.
func checkGenerators(as *v1alpha1.ApplicationSet, d Document) []string {
	var w []string
	if len(as.Spec.Generators) == 0 {
		w = append(w, fmt.Sprintf("%s: ApplicationSet/%s has no generators: it generates no Application", d.Pos(), as.Name))
	}
	for i, g := range as.Spec.Generators {
		if g.List == nil && g.Clusters == nil && g.Git == nil && g.Matrix == nil && g.Merge == nil &&
			len(g.SCMProvider) == 0 && len(g.ClusterDecisionResource) == 0 && len(g.PullRequest) == 0 && len(g.Plugin) == 0 {
			w = append(w, fmt.Sprintf("%s: ApplicationSet/%s: spec.generators[%d] has no generator: Argo CD ignores it", d.Pos(), as.Name, i))
		}
	}
	return w
}
