package helm

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/Masterminds/sprig/v3"
	"helm.sh/helm/v3/pkg/action"
)

// For every template that does not use a refused function, TemplateName is
// Helm's own action.TemplateName (pkg/action/install.go), which Argo CD's
// repo-server reaches through `helm template --name-template`: same result,
// same error.
func TestTemplateNameMatchesHelmActionTemplateName(t *testing.T) {
	for _, tpl := range []string{
		"plain-name",
		`{{ "rel" }}-x`,
		`{{ "My_App" | lower | replace "_" "-" | trunc 5 | trimSuffix "-" }}`,
		`{{ printf "%s-%03d" "app" 7 }}`,
		`{{ list "a" "b" "c" | join "-" }}`,
		`{{ "x" | sha256sum | trunc 8 }}`,
		`{{ "a,b" | splitList "," | first }}`,
		`{{ regexReplaceAll "[^a-z]" "A-b_c" "" }}`,
		`{{ osBase "/a/b" }}-{{ base "x/y" }}`,
		`{{ define "n" }}defined{{ end }}{{ template "n" }}`,
		`{{ if true }}y{{ else }}n{{ end }}{{ range $i, $v := list 1 2 }}{{ $i }}{{ $v }}{{ end }}`,
		`{{ $x := dict "k" "v" }}{{ $x.k }}{{ with $x.missing }}never{{ end }}`,
		`{{ . }}-{{ .Foo }}`,
		`{{ default "d" "" }}{{ coalesce "" "c" }}{{ ternary "t" "f" true }}`,
		`{{ toJson (dict "a" 1) | b64enc }}`,
		`{{ fail "boom" }}`,
		`{{ notAFunction }}`,
		`{{ "unterminated }}`,
		`{{ index (list 1) 5 }}`,
		`{{ template "missing" }}`,
	} {
		want, wantErr := action.TemplateName(tpl)
		got, gotErr := TemplateName(tpl)
		if got != want || fmt.Sprint(gotErr) != fmt.Sprint(wantErr) {
			t.Errorf("TemplateName(%q) = %q, %v; Helm's action.TemplateName = %q, %v", tpl, got, gotErr, want, wantErr)
		}
	}
}

// Helm evaluates the name template with all of sprig, so in Argo CD (and in
// hubctl before this check) `{{ env "CI_TOKEN" }}` copied the variable into
// every rendered object and getHostByName sent DNS queries. Each such use,
// wherever it is in the template, is refused before anything is evaluated,
// and the value never appears.
func TestTemplateNameRefusesEnvironmentAndNetworkFunctions(t *testing.T) {
	const canary = "canary-5f1e0c7d9a"
	t.Setenv("HUBCTL_TEST_CI_TOKEN", canary)
	// The point of the check: Helm's own function would leak it.
	if leaked, err := action.TemplateName(`{{ env "HUBCTL_TEST_CI_TOKEN" }}`); err != nil || leaked != canary {
		t.Fatalf("Helm's action.TemplateName no longer reads the environment (%q, %v): revisit this check", leaked, err)
	}
	for _, tc := range []struct{ tpl, fn string }{
		{`{{ env "HUBCTL_TEST_CI_TOKEN" }}`, "env"},
		{`x-{{ "HUBCTL_TEST_CI_TOKEN" | env }}`, "env"},
		{`{{ expandenv "$HUBCTL_TEST_CI_TOKEN" }}`, "expandenv"},
		{`{{ getHostByName "leak.invalid" }}`, "getHostByName"},
		{`{{ if false }}{{ env "HUBCTL_TEST_CI_TOKEN" }}{{ end }}`, "env"},
		{`{{ with $x := "HUBCTL_TEST_CI_TOKEN" }}{{ env $x | lower }}{{ end }}`, "env"},
		{`{{ range list 1 }}{{ else }}{{ expandenv "$HOME" }}{{ end }}`, "expandenv"},
		{`{{ define "t" }}{{ env "HUBCTL_TEST_CI_TOKEN" }}{{ end }}{{ template "t" }}`, "env"},
		{`{{ printf "%s" (getHostByName "leak.invalid") }}`, "getHostByName"},
		{`{{ $e := "x" }}{{ if eq $e "y" }}{{ else if true }}{{ env "HUBCTL_TEST_CI_TOKEN" }}{{ end }}`, "env"},
	} {
		got, err := TemplateName(tc.tpl)
		var refused *RefusedFuncError
		if !errors.As(err, &refused) || refused.Func != tc.fn {
			t.Errorf("TemplateName(%q) = %q, %v; want a *RefusedFuncError for %s", tc.tpl, got, err, tc.fn)
			continue
		}
		if strings.Contains(got, canary) || strings.Contains(err.Error(), canary) {
			t.Errorf("TemplateName(%q) leaked the environment: %q, %v", tc.tpl, got, err)
		}
		if want := `function "` + tc.fn + `" is refused`; !strings.Contains(err.Error(), want) {
			t.Errorf("TemplateName(%q) error %q does not say %q", tc.tpl, err, want)
		}
	}
}

// Even if the tree walk missed a construct, the functions themselves are
// stubs that fail.
func TestNameFuncMapStubsFail(t *testing.T) {
	f := nameFuncMap()
	for _, name := range RefusedNameTemplateFuncs() {
		fn, ok := f[name].(func(...any) (string, error))
		if !ok {
			t.Fatalf("%s is %T, not a failing stub", name, f[name])
		}
		if out, err := fn("PATH"); err == nil || out != "" {
			t.Errorf("%s stub = %q, %v", name, out, err)
		}
	}
	// Every other sprig function is Helm's.
	for name := range sprig.TxtFuncMap() {
		if _, refused := refusedNameFuncs[name]; !refused && f[name] == nil {
			t.Errorf("sprig function %s is missing", name)
		}
	}
}

// Template (the `helm template` of a source) reports a refused release name
// with the template, and renders nothing.
func TestTemplateRefusesReleaseNameReadingTheEnvironment(t *testing.T) {
	const canary = "canary-81d2f4aa"
	t.Setenv("HUBCTL_TEST_CI_TOKEN", canary)
	out, err := Template(context.Background(), Request{Chart: valuesChart(t), ReleaseName: `r-{{ env "HUBCTL_TEST_CI_TOKEN" }}`})
	if err == nil {
		t.Fatalf("no error; output:\n%s", out)
	}
	if strings.Contains(string(out), canary) || strings.Contains(err.Error(), canary) {
		t.Fatalf("leaked: %v\n%s", err, out)
	}
	for _, w := range []string{`release name "r-{{ env \"HUBCTL_TEST_CI_TOKEN\" }}"`, `function "env" is refused`} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not contain %q", err, w)
		}
	}
}
