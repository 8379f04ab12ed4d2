package loader

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"
	"testing/fstest"
)

type wantDoc struct {
	line int
	data string
}

func TestSplitDocuments(t *testing.T) {
	cases := []struct {
		name string
		in   string
		want []wantDoc
	}{
		{"single document", "a: 1\n", []wantDoc{{1, "a: 1\n"}}},
		{"two documents", "a: 1\n---\nb: 2\n", []wantDoc{{1, "a: 1\n"}, {3, "b: 2\n"}}},
		{"leading separator", "---\na: 1\n", []wantDoc{{2, "a: 1\n"}}},
		{"separator with comment", "a: 1\n--- # next\nb: 2\n", []wantDoc{{1, "a: 1\n"}, {3, "b: 2\n"}}},
		{"separator with tab", "---\t\na: 1", []wantDoc{{2, "a: 1"}}},
		{"separator with trailing spaces", "---   \na: 1\n", []wantDoc{{2, "a: 1\n"}}},
		// `--- value`: the document starts on the separator line.
		{"value on separator line", "--- value\n", []wantDoc{{1, " value\n"}}},
		{"block scalar on separator line", "a: 1\n--- |\n  text\n---\nb: 2", []wantDoc{{1, "a: 1\n"}, {2, " |\n  text\n"}, {5, "b: 2"}}},
		{"document end marker", "a: 1\n...\n---\nb: 2\n", []wantDoc{{1, "a: 1\n"}, {4, "b: 2\n"}}},
		{"document end marker then bare document", "a: 1\n...\nb: 2\n", []wantDoc{{1, "a: 1\n"}, {3, "b: 2\n"}}},
		// Comments belong to the document they precede; a document of
		// comments only is dropped.
		{"leading comments stay in the document", "# c1\n# c2\nkind: X\n", []wantDoc{{1, "# c1\n# c2\nkind: X\n"}}},
		{"comment-only document dropped", "# header\n---\na: 1\n", []wantDoc{{3, "a: 1\n"}}},
		{"directive-only document dropped", "%YAML 1.2\n---\na: 1\n", []wantDoc{{3, "a: 1\n"}}},
		{"empty documents dropped", "---\n---\n\n---\n  # c\n---\na: 1\n---\n", []wantDoc{{7, "a: 1\n"}}},
		{"CRLF", "a: 1\r\n---\r\nb: 2\r\n", []wantDoc{{1, "a: 1\r\n"}, {3, "b: 2\r\n"}}},
		{"CRLF comment separator", "a: 1\r\n--- # c\r\nb: 2\r\n", []wantDoc{{1, "a: 1\r\n"}, {3, "b: 2\r\n"}}},
		{"no trailing newline", "a: 1\n---\nb: 2", []wantDoc{{1, "a: 1\n"}, {3, "b: 2"}}},
		// Not separators.
		{"four dashes", "----\na: 1\n", []wantDoc{{1, "----\na: 1\n"}}},
		{"dashes glued to text", "---a: 1\n", []wantDoc{{1, "---a: 1\n"}}},
		{"indented dashes in a block scalar", "a: |\n  ---\n  b\n", []wantDoc{{1, "a: |\n  ---\n  b\n"}}},
		{"empty input", "", nil},
		{"blank lines only", "\n\n  \n", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			docs := SplitDocuments("f.yaml", []byte(c.in))
			var got []wantDoc
			for i, d := range docs {
				got = append(got, wantDoc{d.Line, string(d.Data)})
				if d.Index != i {
					t.Errorf("docs[%d].Index = %d", i, d.Index)
				}
				if d.File != "f.yaml" {
					t.Errorf("docs[%d].File = %q", i, d.File)
				}
			}
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("SplitDocuments(%q)\n got %v\nwant %v", c.in, got, c.want)
			}
		})
	}
}

func TestDocumentPositions(t *testing.T) {
	d := Document{File: "dir/f.yaml", Line: 5}
	if got := d.Pos(); got != "dir/f.yaml:5" {
		t.Errorf("Pos() = %q", got)
	}
	if got := d.PosAt(3); got != "dir/f.yaml:7" {
		t.Errorf("PosAt(3) = %q, want dir/f.yaml:7", got)
	}
	if got := d.PosAt(0); got != "dir/f.yaml:5" {
		t.Errorf("PosAt(0) = %q, want the document position", got)
	}
	if got := d.ShiftLines("yaml: line 2: did not find expected key; line 10: x"); got != "yaml: line 6: did not find expected key; line 14: x" {
		t.Errorf("ShiftLines = %q", got)
	}
}

func TestIsYAMLFile(t *testing.T) {
	for name, want := range map[string]bool{
		"a.yaml": true, "a.yml": true, "a.json": true, "A.YAML": true, "dir.yaml/a.txt": false,
		"a.yaml.bak": false, "yaml": false, "a.md": false,
	} {
		if got := IsYAMLFile(name); got != want {
			t.Errorf("IsYAMLFile(%q) = %v, want %v", name, got, want)
		}
	}
}

func TestWalkYAML(t *testing.T) {
	fsys := fstest.MapFS{
		"root.yaml":            {},
		"apps/b.yaml":          {},
		"apps/a.yml":           {},
		"apps/c.json":          {},
		"apps/README.md":       {},
		"apps/sub/Z.YAML":      {},
		"apps/.hidden/x.yaml":  {},
		".git/config.yaml":     {},
		".github/workflow.yml": {},
	}
	got, err := WalkYAML(fsys, ".")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"apps/a.yml", "apps/b.yaml", "apps/c.json", "apps/sub/Z.YAML", "root.yaml"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("WalkYAML(.) = %q, want %q", got, want)
	}
	got, err = WalkYAML(fsys, "apps")
	if err != nil {
		t.Fatal(err)
	}
	if want := want[:4]; !reflect.DeepEqual(got, want) {
		t.Errorf("WalkYAML(apps) = %q, want %q", got, want)
	}
	// Only hidden directories *below* dir are skipped.
	got, err = WalkYAML(fsys, ".github")
	if err != nil || !reflect.DeepEqual(got, []string{".github/workflow.yml"}) {
		t.Errorf("WalkYAML(.github) = %q, %v", got, err)
	}
	if _, err := WalkYAML(fsys, "missing"); err == nil {
		t.Error("WalkYAML(missing) succeeded")
	}
}

const goodFile = `# The hub's objects.
---
apiVersion: argoproj.io/v1alpha1
kind: ApplicationSet
metadata:
  name: addons
  namespace: argocd
spec:
  goTemplate: true
  goTemplateOptions: ["missingkey=error"]
  generators:
  - clusters:
      selector:
        matchLabels:
          enable_argocd: "true"
  - list:
      elements:
      - anything: goes
        nested: {free: form}
  template:
    metadata:
      name: '{{ .name }}-addons'
    spec:
      project: platform
      source:
        repoURL: https://github.com/gitops-hub/gitops-hub.git
        targetRevision: main
        path: addons
      destination:
        server: '{{ .server }}'
        namespace: addons
---
apiVersion: argoproj.io/v1alpha1
kind: AppProject
metadata:
  name: platform
  namespace: argocd
spec: {}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: unrelated
data:
  a: b
`

func load(t *testing.T, requireAppSet bool, files map[string]string, names ...string) (*Objects, error) {
	t.Helper()
	fsys := fstest.MapFS{}
	for n, d := range files {
		fsys[n] = &fstest.MapFile{Data: []byte(d)}
	}
	return LoadObjects(RepoFiles(fsys, names...), requireAppSet)
}

func TestLoadObjects(t *testing.T) {
	objs, err := load(t, true, map[string]string{"hub/all.yaml": goodFile}, "hub/all.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(objs.AppSets) != 1 {
		t.Fatalf("got %d ApplicationSets, want 1", len(objs.AppSets))
	}
	as := objs.AppSets[0]
	if as.Name != "addons" || as.Namespace != "argocd" || !as.Spec.GoTemplate {
		t.Errorf("ApplicationSet = %s/%s goTemplate=%v", as.Namespace, as.Name, as.Spec.GoTemplate)
	}
	if got := as.Spec.GoTemplateOptions; !reflect.DeepEqual(got, []string{"missingkey=error"}) {
		t.Errorf("goTemplateOptions = %q", got)
	}
	if len(as.Spec.Generators) != 2 || as.Spec.Generators[0].Clusters == nil || as.Spec.Generators[1].List == nil {
		t.Fatalf("generators = %+v", as.Spec.Generators)
	}
	if got := as.Spec.Generators[0].Clusters.Selector.MatchLabels["enable_argocd"]; got != "true" {
		t.Errorf("cluster selector enable_argocd = %q", got)
	}
	if got := len(as.Spec.Generators[1].List.Elements); got != 1 {
		t.Errorf("list elements = %d, want 1", got)
	}
	if got := as.Spec.Template.Spec.Source.Path; got != "addons" {
		t.Errorf("template source path = %q", got)
	}
	if as.Doc.Pos() != "hub/all.yaml:3" || as.Doc.Index != 0 {
		t.Errorf("ApplicationSet document at %s (index %d), want hub/all.yaml:3 (0)", as.Doc.Pos(), as.Doc.Index)
	}
	if len(objs.Projects) != 1 {
		t.Errorf("projects = %v, want platform only", objs.Projects)
	}
	if p, ok := objs.Projects["platform"]; !ok || p.Pos() != "hub/all.yaml:33" {
		t.Errorf("AppProject platform at %q (found %v), want hub/all.yaml:33", p.Pos(), ok)
	}
	if len(objs.Warnings) != 0 {
		t.Errorf("warnings = %q", objs.Warnings)
	}
}

// errorLines returns the messages of a (possibly joined) error.
func errorLines(err error) []string {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []string
		for _, e := range j.Unwrap() {
			out = append(out, e.Error())
		}
		return out
	}
	return []string{err.Error()}
}

func TestLoadObjectsErrors(t *testing.T) {
	const header = "apiVersion: argoproj.io/v1alpha1\nkind: ApplicationSet\nmetadata:\n  name: guestbook\n"
	cases := []struct {
		name string
		file string
		want string // the whole message
	}{
		{
			// `path` is misplaced under destination while a valid
			// `source.path` comes first: the error names line 16 (the
			// document starts on line 3), not source's line 13.
			name: "misplaced key",
			file: "# c\n---\n" + header + `spec:
  generators: [{list: {elements: [{a: b}]}}]
  template:
    metadata: {name: x}
    spec:
      project: default
      source: {repoURL: https://r, path: p}
      destination:
        server: https://s
        path: p
`,
			want: `bad.yaml:16: ApplicationSet/guestbook: json: unknown field "path"`,
		},
		{
			name: "misspelt generator",
			file: header + "spec:\n  generators:\n  - lists: {}\n  template: {metadata: {}, spec: {project: p, destination: {}}}\n",
			want: `bad.yaml:7: ApplicationSet/guestbook: json: unknown field "lists"`,
		},
		{
			name: "unknown top-level field",
			file: header + "spec: {generators: []}\nextra: 1\n",
			want: `bad.yaml:6: ApplicationSet/guestbook: json: unknown field "extra"`,
		},
		{
			name: "unknown key whose name is a label key",
			file: "apiVersion: argoproj.io/v1alpha1\nkind: ApplicationSet\nmetadata:\n  name: guestbook\n  labels:\n    foo: bar\nspec:\n  foo: 1\n",
			want: `bad.yaml:8: ApplicationSet/guestbook: json: unknown field "foo"`,
		},
		// go-yaml reports parser errors at the 0-based line of the problem
		// mark (one less than the editor line); the loader keeps its numbers
		// and only adds the document's offset in the file.
		{
			name: "malformed YAML",
			file: header + "spec:\n  generators: [\n  template: : x\n",
			want: `bad.yaml:1: invalid YAML: yaml: line 6: did not find expected node content`,
		},
		{
			name: "malformed YAML in a later document",
			file: "a: 1\n---\n" + header + "spec:\n  generators: [\n  template: : x\n",
			want: `bad.yaml:3: invalid YAML: yaml: line 8: did not find expected node content`,
		},
		{
			name: "bad indentation",
			file: "---\n# c\n---\n" + header + "spec:\n  generators: []\n template: {}\n",
			want: `bad.yaml:4: invalid YAML: yaml: line 9: did not find expected key`,
		},
		{
			name: "wrong apiVersion",
			file: "apiVersion: argoproj.io/v1beta1\nkind: ApplicationSet\nmetadata:\n  name: guestbook\nspec: {generators: []}\n",
			want: `bad.yaml:1: ApplicationSet/guestbook: apiVersion "argoproj.io/v1beta1" is not argoproj.io/v1alpha1`,
		},
		{
			name: "missing name",
			file: "---\napiVersion: argoproj.io/v1alpha1\nkind: ApplicationSet\nmetadata:\n  namespace: argocd\nspec: {generators: []}\n",
			want: `bad.yaml:2: ApplicationSet/: metadata.name is required`,
		},
		{
			name: "wrong type",
			file: header + "spec:\n  goTemplate: \"yes\"\n",
			want: `bad.yaml:1: ApplicationSet/guestbook: json: cannot unmarshal string into Go struct field ApplicationSetSpec.spec.goTemplate of type bool`,
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			objs, err := load(t, false, map[string]string{"bad.yaml": c.file}, "bad.yaml")
			if err == nil {
				t.Fatalf("no error; objects %+v", objs)
			}
			if objs != nil {
				t.Errorf("objects returned with an error")
			}
			if got := errorLines(err); len(got) != 1 || got[0] != c.want {
				t.Errorf("error\n got %q\nwant %q", got, c.want)
			}
			var le *Error
			if !errors.As(err, &le) {
				t.Errorf("error %T is not a *loader.Error", err)
			}
		})
	}
}

func TestLoadObjectsSeveralFiles(t *testing.T) {
	files := map[string]string{
		"a.yaml":  goodFile,
		"b.yaml":  "apiVersion: argoproj.io/v1alpha1\nkind: ApplicationSet\nmetadata: {name: two}\nspec: {generators: [], bogus: 1}\n",
		"c.yaml":  "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n",
		"d.yaml":  "key: [unclosed\n",
		"ok.yaml": strings.Replace(goodFile, "name: addons", "name: other", 1),
	}
	_, err := load(t, true, files, "a.yaml", "b.yaml", "c.yaml", "missing.yaml", "d.yaml")
	if err == nil {
		t.Fatal("no error")
	}
	got := errorLines(err)
	want := []string{
		`b.yaml:4: ApplicationSet/two: json: unknown field "bogus"`,
		`c.yaml: no ApplicationSet found (apiVersion argoproj.io/v1alpha1, kind ApplicationSet)`,
		`reading ApplicationSets: open missing.yaml: file does not exist`,
		`d.yaml:1: invalid YAML: yaml: line 1: did not find expected ',' or ']'`,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("errors\n got %q\nwant %q", got, want)
	}

	objs, err := load(t, true, files, "a.yaml", "ok.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(objs.AppSets) != 2 || objs.AppSets[0].Name != "addons" || objs.AppSets[1].Name != "other" {
		t.Errorf("ApplicationSets in file order: %v", objs.AppSets)
	}
	if objs.AppSets[1].Doc.File != "ok.yaml" {
		t.Errorf("second ApplicationSet from %q", objs.AppSets[1].Doc.File)
	}
	// Without requireAppSet a file without ApplicationSets is fine.
	if _, err := load(t, false, files, "c.yaml"); err != nil {
		t.Errorf("c.yaml without requireAppSet: %v", err)
	}
}

func TestLoadObjectsWarnings(t *testing.T) {
	file := `apiVersion: argoproj.io/v1alpha1
kind: ApplicationSet
metadata: {name: w}
spec:
  generators:
  - {}
  - list: {elements: []}
  - selector: {matchLabels: {a: b}}
  template: {metadata: {}, spec: {project: p, destination: {}}}
---
apiVersion: argoproj.io/v1alpha1
kind: ApplicationSet
metadata: {name: none}
spec:
  generators: []
  template: {metadata: {}, spec: {project: p, destination: {}}}
`
	objs, err := load(t, false, map[string]string{"w.yaml": file}, "w.yaml")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"w.yaml:1: ApplicationSet/w: spec.generators[0] has no generator: Argo CD ignores it",
		"w.yaml:1: ApplicationSet/w: spec.generators[2] has no generator: Argo CD ignores it",
		"w.yaml:11: ApplicationSet/none has no generators: it generates no Application",
	}
	if !reflect.DeepEqual(objs.Warnings, want) {
		t.Errorf("warnings\n got %q\nwant %q", objs.Warnings, want)
	}
	if len(objs.AppSets) != 2 {
		t.Errorf("warnings must not drop ApplicationSets: got %d", len(objs.AppSets))
	}
}

func FuzzSplitDocuments(f *testing.F) {
	for _, s := range []string{
		"a: 1\n---\nb: 2\n", "--- # c\r\na: 1\r\n", "--- value\n", "...\n---\n...", "# c\n---\n%YAML 1.2\n---\nx",
		"---", "----\n", "\n\n---\t\n", "a: |\n  ---\n", "--- |\n  t\n...\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		docs := SplitDocuments("f.yaml", data)
		total, prevEnd := 0, 0
		for i, d := range docs {
			if d.Line < 1 {
				t.Fatalf("docs[%d].Line = %d", i, d.Line)
			}
			if d.Index != i || d.File != "f.yaml" {
				t.Fatalf("docs[%d]: Index %d, File %q", i, d.Index, d.File)
			}
			if len(bytes.TrimSpace(d.Data)) == 0 {
				t.Fatalf("docs[%d] is blank: %q", i, d.Data)
			}
			total += len(d.Data)
			// Data is a window of the input: its offset follows from the
			// capacities, and Line must be the line it starts on.
			off := cap(data) - cap(d.Data)
			if off < prevEnd || off+len(d.Data) > len(data) || !bytes.Equal(data[off:off+len(d.Data)], d.Data) {
				t.Fatalf("docs[%d] is not an in-order window of the input (offset %d, previous end %d)", i, off, prevEnd)
			}
			if line := bytes.Count(data[:off], []byte("\n")) + 1; line != d.Line {
				t.Fatalf("docs[%d].Line = %d, but its data starts on line %d", i, d.Line, line)
			}
			prevEnd = off + len(d.Data)
		}
		if total > len(data) {
			t.Fatalf("documents hold %d bytes, input has %d", total, len(data))
		}
	})
}

func FuzzLoadObjects(f *testing.F) {
	f.Add([]byte(goodFile), false)
	f.Add([]byte("apiVersion: argoproj.io/v1alpha1\nkind: ApplicationSet\nmetadata: {name: x}\nspec: {generators: [{}], x: 1}\n"), true)
	f.Add([]byte("kind: AppProject\nmetadata: {name: p}\n---\nkind: ApplicationSet\n"), false)
	f.Add([]byte("a: [\n"), true)
	f.Add([]byte("- 1\n- 2\n"), false)
	f.Add([]byte("kind: ApplicationSet\nmetadata: &a {name: *a}\n"), false)
	f.Fuzz(func(t *testing.T, data []byte, requireAppSet bool) {
		fsys := fstest.MapFS{"in.yaml": {Data: data}}
		objs, err := LoadObjects(RepoFiles(fsys, "in.yaml"), requireAppSet)
		if err != nil {
			if objs != nil {
				t.Fatal("objects and an error")
			}
			for _, msg := range errorLines(err) {
				if !strings.HasPrefix(msg, "in.yaml") {
					t.Fatalf("error does not start with the file name: %q", msg)
				}
			}
			return
		}
		if requireAppSet && len(objs.AppSets) == 0 {
			t.Fatal("requireAppSet: no ApplicationSet and no error")
		}
		for _, as := range objs.AppSets {
			if as.Name == "" || as.Doc.File != "in.yaml" || as.Doc.Line < 1 {
				t.Fatalf("ApplicationSet %q at %s", as.Name, as.Doc.Pos())
			}
		}
	})
}
