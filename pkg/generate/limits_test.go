package generate

import (
	"context"
	"errors"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/gitops-hub/gitops-hub/pkg/apis/argocd/v1alpha1"
	"github.com/gitops-hub/gitops-hub/pkg/generate/tmpl"
)

func parseAppSet(t *testing.T, src string) *v1alpha1.ApplicationSet {
	t.Helper()
	var as v1alpha1.ApplicationSet
	if err := yaml.UnmarshalStrict([]byte(src), &as); err != nil {
		t.Fatal(err)
	}
	return &as
}

// bigMatrix is issue 7's few-hundred-byte matrix: 1,000 × 1,000 = 10^6 Applications.
const bigMatrix = `apiVersion: argoproj.io/v1alpha1
kind: ApplicationSet
metadata: {name: bomb, namespace: argocd}
spec:
  goTemplate: true
  generators:
  - matrix:
      generators:
      - matrix:
          generators:
          - list: {elements: [{a: x}]}
          - list: {elementsYaml: '{{ range until 1000 }}- i: {{ . }}{{ "\n" }}{{ end }}'}
      - list: {elementsYaml: '{{ range until 1000 }}- j: {{ . }}{{ "\n" }}{{ end }}'}
  template:
    metadata: {name: 'app-{{.i}}-{{.j}}'}
    spec: {project: default, destination: {name: in-cluster, namespace: x}}
`

// The cap is checked while the matrix grows, so the error comes before 10^6 parameter sets
// exist; it names the ApplicationSet and the generator.
func TestMaxApplicationsMatrix(t *testing.T) {
	eng := &Engine{MaxApplications: 1000}
	_, err := eng.Generate(context.Background(), parseAppSet(t, bigMatrix), Source{File: "bootstrap/bomb.yaml", Line: 1})
	var ge *GenerationError
	if !errors.As(err, &ge) || ge.AppSet != "bomb" || !errors.Is(err, ErrTooManyApplications) {
		t.Fatalf("err = %v, want a GenerationError of ApplicationSet bomb wrapping ErrTooManyApplications", err)
	}
	for _, want := range []string{`bootstrap/bomb.yaml:1: ApplicationSet "bomb"`, "spec.generators[0].matrix", "more than 1000", "--max-applications"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}
	// Under the cap the same ApplicationSet generates.
	small := strings.ReplaceAll(bigMatrix, "until 1000", "until 3")
	res, err := eng.Generate(context.Background(), parseAppSet(t, small), Source{})
	if err != nil || len(res.Apps) != 9 {
		t.Fatalf("3 × 3: %v, %v", res, err)
	}
	// A plain list over the cap, and the sum of several generators.
	list := strings.Replace(small, "until 3 }}- j", "until 1001 }}- j", 1)
	if _, err := (&Engine{MaxApplications: 1000}).Generate(context.Background(), parseAppSet(t, list), Source{}); !errors.Is(err, ErrTooManyApplications) {
		t.Errorf("list of 1001 in a matrix: %v", err)
	}
	two := `apiVersion: argoproj.io/v1alpha1
kind: ApplicationSet
metadata: {name: two, namespace: argocd}
spec:
  generators:
  - list: {elements: [{n: a}, {n: b}]}
  - list: {elements: [{n: c}, {n: d}]}
  template:
    metadata: {name: '{{n}}'}
    spec: {project: default, destination: {name: in-cluster, namespace: x}}
`
	if _, err := (&Engine{MaxApplications: 3}).Generate(context.Background(), parseAppSet(t, two), Source{}); !errors.Is(err, ErrTooManyApplications) || !strings.Contains(err.Error(), "spec.generators[1]") {
		t.Errorf("2 + 2 over 3: %v", err)
	}
}

// A template that loops forever is stopped by tmpl's limits and reported for its
// ApplicationSet; a canceled context (SIGINT, SIGTERM) stops generation.
func TestTemplateLimitNamesTheApplicationSet(t *testing.T) {
	src := strings.Replace(strings.ReplaceAll(bigMatrix, "until 1000", "until 2"), "name: 'app-{{.i}}-{{.j}}'", "name: 'app-{{.i}}-{{.j}}{{ range until 100000 }}{{ range until 100000 }}{{ end }}{{ end }}'", 1)
	eng := &Engine{TemplateLimits: tmpl.Limits{MaxIterations: 1000}}
	_, err := eng.Generate(context.Background(), parseAppSet(t, src), Source{})
	if !errors.Is(err, tmpl.ErrLimit) || !strings.Contains(err.Error(), `ApplicationSet "bomb"`) {
		t.Errorf("err = %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := (&Engine{}).Generate(ctx, parseAppSet(t, bigMatrix), Source{}); !errors.Is(err, context.Canceled) {
		t.Errorf("canceled: %v", err)
	}
}

func parseAppSetOrSkip(t *testing.T, src string) *v1alpha1.ApplicationSet {
	var as v1alpha1.ApplicationSet
	if err := yaml.UnmarshalStrict([]byte(src), &as); err != nil {
		return nil
	}
	return &as
}
