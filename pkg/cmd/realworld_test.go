package cmd

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

// conformanceEnv names a folder of real-world conformance cases: one
// subfolder per case with appset.yaml, clusters.yaml and expected.yaml
// and/or expected-error.txt, the expected side produced by Argo CD's own
// ApplicationSet controller code. The project does not ship such a corpus (it
// is built from other people's repositories); CI points this variable at one.
const conformanceEnv = "HUBCTL_CONFORMANCE_DIR"

// TestRealWorldConformance runs `hubctl generate` on every case of the corpus
// named by $HUBCTL_CONFORMANCE_DIR and compares its output with what Argo CD
// generates, by the corpus's comparison rule: same set of names; equal
// apiVersion, kind, name, namespace, labels, annotations and finalizers; and
// equal spec after Argo CD's NormalizeApplicationSpec and the removal of Go
// zero values (what Argo CD's omitempty drops). Error cases must fail, and
// their output must contain each line of expected-error.txt.
func TestRealWorldConformance(t *testing.T) {
	dir := os.Getenv(conformanceEnv)
	if dir == "" {
		t.Skipf("$%s is not set: no real-world corpus to run", conformanceEnv)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatalf("$%s: %v", conformanceEnv, err)
	}
	n := 0
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		caseDir := filepath.Join(dir, e.Name())
		if _, err := os.Stat(filepath.Join(caseDir, "appset.yaml")); err != nil {
			continue
		}
		n++
		t.Run(e.Name(), func(t *testing.T) { runConformanceCase(t, caseDir) })
	}
	if n == 0 {
		t.Fatalf("$%s=%s holds no case (no */appset.yaml)", conformanceEnv, dir)
	}
	t.Logf("%d real-world cases", n)
}

func runConformanceCase(t *testing.T, caseDir string) {
	expected, errExpected := readOptional(t, filepath.Join(caseDir, "expected.yaml"))
	wantErrs, errWanted := readOptional(t, filepath.Join(caseDir, "expected-error.txt"))
	if !errExpected && !errWanted {
		t.Fatalf("%s has neither expected.yaml nor expected-error.txt", caseDir)
	}
	// An empty repository: no AppProject is declared, so every project
	// exists, as the corpus assumes.
	repo := t.TempDir()
	stdout, stderr, code := run(t, "generate", "--repo", repo,
		"--appset", filepath.Join(caseDir, "appset.yaml"),
		"--clusters", filepath.Join(caseDir, "clusters.yaml"))
	combined := stdout + stderr
	if errWanted {
		for _, line := range strings.Split(string(wantErrs), "\n") {
			if line = strings.TrimSpace(line); line != "" && !strings.Contains(combined, line) {
				t.Errorf("output lacks the expected error text %q\nstderr:\n%s", line, stderr)
			}
		}
		if !errExpected {
			if code == ExitOK {
				t.Errorf("exit %d, want a failure (Argo CD creates nothing)", code)
			}
			return
		}
	} else if code != ExitOK {
		t.Fatalf("exit %d, want 0\nstderr:\n%s", code, stderr)
	}
	got := applicationsByName(t, "hubctl output", []byte(stdout))
	want := applicationsByName(t, "expected.yaml", expected)
	var gotNames, wantNames []string
	for n := range got {
		gotNames = append(gotNames, n)
	}
	for n := range want {
		wantNames = append(wantNames, n)
	}
	sort.Strings(gotNames)
	sort.Strings(wantNames)
	if !reflect.DeepEqual(gotNames, wantNames) {
		t.Fatalf("Application names differ\n got: %q\nwant: %q\nstderr:\n%s", gotNames, wantNames, stderr)
	}
	for _, name := range wantNames {
		g, w := comparable(got[name]), comparable(want[name])
		if !reflect.DeepEqual(g, w) {
			gy, _ := yaml.Marshal(g)
			wy, _ := yaml.Marshal(w)
			t.Errorf("Application %s differs\n--- hubctl\n%s--- Argo CD\n%s", name, gy, wy)
		}
	}
}

func readOptional(t *testing.T, path string) ([]byte, bool) {
	t.Helper()
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false
	}
	if err != nil {
		t.Fatal(err)
	}
	return b, true
}

// applicationsByName splits a YAML stream into its Applications, keyed by
// name; a name seen twice fails the test.
func applicationsByName(t *testing.T, what string, stream []byte) map[string]map[string]any {
	t.Helper()
	out := map[string]map[string]any{}
	for i, doc := range bytes.Split(append([]byte("\n"), stream...), []byte("\n---")) {
		var obj map[string]any
		if err := yaml.Unmarshal(doc, &obj); err != nil {
			t.Fatalf("%s: document %d: %v", what, i, err)
		}
		if obj == nil || obj["kind"] != "Application" || obj["apiVersion"] != "argoproj.io/v1alpha1" {
			continue
		}
		md, _ := obj["metadata"].(map[string]any)
		name, _ := md["name"].(string)
		if _, dup := out[name]; dup {
			t.Fatalf("%s: Application %q appears twice", what, name)
		}
		out[name] = obj
	}
	return out
}

// comparable keeps the fields the corpus compares, canonicalised.
func comparable(obj map[string]any) map[string]any {
	md, _ := obj["metadata"].(map[string]any)
	str := func(m map[string]any, k string) string { s, _ := m[k].(string); return s }
	strMap := func(k string) map[string]string {
		out := map[string]string{}
		m, _ := md[k].(map[string]any)
		for kk, v := range m {
			out[kk] = fmt.Sprint(v)
		}
		return out
	}
	finalizers := []any{}
	if f, ok := md["finalizers"].([]any); ok {
		finalizers = f
	}
	spec, _ := obj["spec"].(map[string]any)
	return map[string]any{
		"apiVersion":  obj["apiVersion"],
		"kind":        obj["kind"],
		"name":        str(md, "name"),
		"namespace":   str(md, "namespace"),
		"labels":      strMap("labels"),
		"annotations": strMap("annotations"),
		"finalizers":  finalizers,
		"spec":        canonicalSpec(spec),
	}
}

// canonicalSpec applies Argo CD's NormalizeApplicationSpec (util/argo/argo.go:
// a syncPolicy with none of automated, syncOptions, retry and
// managedNamespaceMetadata is dropped; an empty project is "default") and
// drops Go zero values, which Argo CD omits when it marshals an Application,
// keeping `automated: {}`, which means automated sync.
func canonicalSpec(spec map[string]any) any {
	s, _ := pruneZero(deepCopy(spec)).(map[string]any)
	if s == nil {
		s = map[string]any{}
	}
	if p, _ := s["project"].(string); p == "" {
		s["project"] = "default"
	}
	if sp, ok := s["syncPolicy"].(map[string]any); ok {
		keep := false
		for _, k := range []string{"automated", "syncOptions", "retry", "managedNamespaceMetadata"} {
			_, has := sp[k]
			keep = keep || has
		}
		if !keep {
			delete(s, "syncPolicy")
		}
	}
	return s
}

func pruneZero(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, child := range x {
			c := pruneZero(child)
			if isZero(c) {
				delete(x, k)
				continue
			}
			if m, ok := c.(map[string]any); ok && len(m) == 0 && k != "automated" {
				delete(x, k)
				continue
			}
			x[k] = c
		}
		return x
	case []any:
		for i := range x {
			x[i] = pruneZero(x[i])
		}
		return x
	}
	return v
}

func isZero(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case string:
		return x == ""
	case bool:
		return !x
	case float64:
		return x == 0
	case int64:
		return x == 0
	case int:
		return x == 0
	case []any:
		return len(x) == 0
	}
	return false
}

func deepCopy(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, c := range x {
			out[k] = deepCopy(c)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, c := range x {
			out[i] = deepCopy(c)
		}
		return out
	}
	return v
}
