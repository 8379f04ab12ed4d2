package generate

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func patchAppSet(goTemplate bool, patch string) string {
	return `apiVersion: argoproj.io/v1alpha1
kind: ApplicationSet
metadata: {name: patched, namespace: argocd}
spec:
  goTemplate: ` + map[bool]string{true: "true", false: "false"}[goTemplate] + `
  generators:
  - list: {elements: [{n: a}]}
  templatePatch: ` + quoteYAML(patch) + `
  template:
    metadata: {name: 'app'}
    spec: {project: default, destination: {name: in-cluster, namespace: x}}
`
}

// quoteYAML writes s as a JSON string, which YAML reads back unchanged.
func quoteYAML(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// Issue 7: this templatePatch crashed hubctl with a Go panic inside apimachinery's strategic
// merge patch; it is an error of its ApplicationSet.
func TestTemplatePatchPanicIsAnError(t *testing.T) {
	for _, patch := range []string{
		`{"metadata":{"$setElementOrder/finalizers":[{}]}}`,
		`{"metadata":{"$setElementOrder/finalizers":[[]]}}`,
	} {
		_, err := (&Engine{}).Generate(context.Background(), parseAppSet(t, patchAppSet(false, patch)), Source{File: "bootstrap/p.yaml", Line: 3})
		var ge *GenerationError
		if !errors.As(err, &ge) || ge.AppSet != "patched" || !strings.Contains(err.Error(), "invalid strategic merge patch") || !strings.Contains(err.Error(), "bootstrap/p.yaml:3") {
			t.Errorf("%s: err = %v", patch, err)
		}
	}
}

// No templatePatch may panic (run with `make fuzz`).
func FuzzTemplatePatch(f *testing.F) {
	for _, s := range []string{
		`{"metadata":{"$setElementOrder/finalizers":[{}]}}`,
		`{"metadata":{"labels":{"a":"b"}},"spec":{"project":"x"}}`,
		`{"spec":{"sources":[{"repoURL":"u","$patch":"delete"}]}}`,
		`{"spec":{"$retainKeys":["destination"],"destination":{"name":"in-cluster"}}}`,
		`{"metadata":{"finalizers":[{"$patch":"replace"}]}}`,
		"spec:\n  syncPolicy:\n    automated: {}\n",
		`{{ if true }}{"metadata":{"annotations":{"n":"{{ .n }}"}}}{{ end }}`,
		`{"metadata":{"$deleteFromPrimitiveList/finalizers":[{}]}}`,
		`[]`, `null`, `{"metadata":null}`,
	} {
		f.Add(s, false)
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, patch string, goTemplate bool) {
		if len(patch) > 1024 {
			t.Skip()
		}
		var as = parseAppSetOrSkip(t, patchAppSet(goTemplate, patch))
		if as == nil {
			t.Skip()
		}
		_, _ = (&Engine{}).Generate(context.Background(), as, Source{})
	})
}
