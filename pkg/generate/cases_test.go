package generate

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"testing/fstest"

	"sigs.k8s.io/yaml"

	"github.com/gitops-hub/gitops-hub/pkg/apis/argocd/v1alpha1"
	"github.com/gitops-hub/gitops-hub/pkg/registry"
)

// A corpus case translates one of Argo CD's own unit tests or documentation
// examples (named in Source) into input and expected output.
type corpusCase struct {
	Source         string            `json:"source"`
	Description    string            `json:"description"`
	ApplicationSet json.RawMessage   `json:"applicationSet"`
	Clusters       []json.RawMessage `json:"clusters,omitempty"`
	Files          map[string]string `json:"files,omitempty"`
	Expect         struct {
		Params       []map[string]any `json:"params,omitempty"`
		Applications []map[string]any `json:"applications,omitempty"`
		Error        string           `json:"error,omitempty"`
		AppErrors    []string         `json:"appErrors,omitempty"`
	} `json:"expect"`
}

func loadCase(t *testing.T, path string) (*corpusCase, *v1alpha1.ApplicationSet, *Engine) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var c corpusCase
	if err := yaml.UnmarshalStrict(data, &c); err != nil {
		t.Fatalf("case file: %v", err)
	}
	dec := json.NewDecoder(bytes.NewReader(c.ApplicationSet))
	dec.DisallowUnknownFields()
	var as v1alpha1.ApplicationSet
	if err := dec.Decode(&as); err != nil {
		t.Fatalf("applicationSet: %v", err)
	}
	var secrets []byte
	for _, s := range c.Clusters {
		y, err := yaml.JSONToYAML(s)
		if err != nil {
			t.Fatal(err)
		}
		secrets = append(append(secrets, "---\n"...), y...)
	}
	var clusters []*registry.Cluster
	if len(secrets) > 0 {
		if clusters, err = registry.Parse("clusters.yaml", secrets); err != nil {
			t.Fatalf("clusters: %v", err)
		}
	}
	reg, err := registry.New(clusters)
	if err != nil {
		t.Fatal(err)
	}
	repo := fstest.MapFS{}
	for p, content := range c.Files {
		repo[p] = &fstest.MapFile{Data: []byte(content)}
	}
	return &c, &as, &Engine{Clusters: reg, Repo: repo}
}

// TestCorpus runs testdata/cases/*.yaml, each derived from Argo CD's unit
// tests, documentation or controller code (each case names its source).
func TestCorpus(t *testing.T) {
	files, err := filepath.Glob("testdata/cases/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no cases: %v", err)
	}
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".yaml"), func(t *testing.T) {
			c, as, eng := loadCase(t, f)
			t.Logf("source: %s — %s", c.Source, c.Description)
			ctx := context.Background()
			if c.Expect.Params != nil {
				checkParams(t, eng, as, c.Expect.Params)
				return
			}
			res, err := eng.Generate(ctx, as, Source{File: f, Line: 1})
			if c.Expect.Error != "" {
				if err == nil {
					t.Fatalf("want error containing %q, got %d Applications", c.Expect.Error, len(res.Apps))
				}
				if !strings.Contains(err.Error(), c.Expect.Error) {
					t.Fatalf("want error containing %q, got: %v", c.Expect.Error, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			got := []any{}
			for _, a := range res.Apps {
				got = append(got, a.Object)
			}
			want := make([]any, len(c.Expect.Applications))
			for i, a := range c.Expect.Applications {
				want[i] = a
			}
			if g, w := canonical(t, got), canonical(t, want); !reflect.DeepEqual(g, w) {
				gy, _ := yaml.Marshal(g)
				wy, _ := yaml.Marshal(w)
				t.Fatalf("applications differ\n--- got\n%s\n--- want\n%s", gy, wy)
			}
			var msgs []string
			for _, e := range res.Errors {
				msgs = append(msgs, e.Error())
			}
			if len(msgs) != len(c.Expect.AppErrors) {
				t.Fatalf("want %d Application errors %q, got %d: %q", len(c.Expect.AppErrors), c.Expect.AppErrors, len(msgs), msgs)
			}
			for _, want := range c.Expect.AppErrors {
				found := false
				for _, m := range msgs {
					found = found || strings.Contains(m, want)
				}
				if !found {
					t.Errorf("no Application error contains %q; got %q", want, msgs)
				}
			}
		})
	}
}

func checkParams(t *testing.T, eng *Engine, as *v1alpha1.ApplicationSet, want []map[string]any) {
	t.Helper()
	ev, err := eng.newEvaluator(as)
	if err != nil {
		t.Fatal(err)
	}
	g := &as.Spec.Generators[0]
	res, err := ev.transform(context.Background(), topToNested(g), g, &as.Spec.Template, nil, "spec.generators[0]")
	if err != nil {
		t.Fatalf("generator error: %v", err)
	}
	var got []any
	for _, r := range res {
		for _, p := range r.params {
			got = append(got, p)
		}
	}
	w := make([]any, len(want))
	for i, p := range want {
		w[i] = p
	}
	gc, wc := sortedCanonical(t, got), sortedCanonical(t, w)
	if !reflect.DeepEqual(gc, wc) {
		gy, _ := yaml.Marshal(gc)
		wy, _ := yaml.Marshal(wc)
		t.Fatalf("params differ\n--- got\n%s\n--- want\n%s", gy, wy)
	}
}

// canonical turns any tree into its JSON form (map[string]string and
// map[string]any compare equal, numbers as float64).
func canonical(t *testing.T, v any) any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func sortedCanonical(t *testing.T, l []any) []any {
	out := make([]any, len(l))
	keys := make([]string, len(l))
	for i, v := range l {
		out[i] = canonical(t, v)
		b, _ := json.Marshal(out[i])
		keys[i] = string(b)
	}
	idx := make([]int, len(l))
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(a, b int) bool { return keys[idx[a]] < keys[idx[b]] })
	sorted := make([]any, len(l))
	for i, j := range idx {
		sorted[i] = out[j]
	}
	return sorted
}
