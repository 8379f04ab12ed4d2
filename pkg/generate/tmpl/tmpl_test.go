package tmpl

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"regexp"
	"strings"
	"sync"
	"testing"
	"text/template"
	"text/template/parse"

	"github.com/Masterminds/sprig/v3"
	"github.com/valyala/fasttemplate"
)

// ---------------------------------------------------------------------------
// fasttemplate mode (goTemplate false): upstream applicationset/utils/utils.go
// Replace, cases after utils_test.go TestRenderTemplateParams.

func TestReplaceFasttemplate(t *testing.T) {
	params := map[string]any{
		"one":                 "two",
		"three":               "four",
		"quoted":              `"hello" world`,
		"values.chart":        "argocd",
		"metadata.labels.env": "prod",
		"metadata.labels.a/b": "slash",
		"replicas":            3,                       // not a string: never substituted
		"clusters":            []any{map[string]any{}}, // flatList shape
		"nested":              "{{one}}",               // substituted text is not re-scanned
		"":                    "empty key",
		" ":                   "blank key",
		"{{one}}":             "self",
	}
	cases := []struct {
		name, src, want string
	}{
		{"simple substitution", "{{one}}", "two"},
		{"substitution with whitespace", "{{ one }}", "two"},
		{"substitution with tabs", "{{\tone\t}}", "two"},
		{"multiple on a line", "{{one}}{{one}}", "twotwo"},
		{"multiple different on a line", "{{one}}-{{three}}", "two-four"},
		{"value with quotes", "{{quoted}} {{three}}", `"hello" world four`},
		{"flat dotted key", "addon-{{values.chart}}-{{metadata.labels.env}}", "addon-argocd-prod"},
		{"flat key with slash", "{{metadata.labels.a/b}}", "slash"},
		{"unknown key keeps original inner spacing", "x-{{ unknown }}-{{unknown2}}-{{  three}}", "x-{{ unknown }}-{{unknown2}}-four"},
		{"keys are case sensitive", "{{ONE}}", "{{ONE}}"},
		{"non-string param is not substituted", "r={{ replicas }}", "r={{ replicas }}"},
		{"list param is not substituted", "{{clusters}}", "{{clusters}}"},
		{"no recursion into substituted text", "{{nested}}", "{{one}}"},
		{"template containing itself is not a key", "{{{{one}}}}", "{{{{one}}}}"},
		{"empty tag", "a{{}}b", "a{{}}b"},
		{"blank tag", "a{{ }}b", "a{{ }}b"},
		{"closing before opening is not a tag", "}} {{", "}} {{"},
		{"lone opening delimiter is not templated", "{{", "{{"},
		{"plain text", "guestbook", "guestbook"},
		{"empty string", "", ""},
		// The `.*{{.*}}.*` rule: `.` does not match a newline, so a tag
		// split over lines is not replaced when no line holds a whole tag.
		{"tag split over lines", "{{one\n}}", "{{one\n}}"},
		{"tag split after opening", "{{\none}}", "{{\none}}"},
		{"unterminated tag on a non-templated line", "{{one}\n}}", "{{one}\n}}"},
		// ... but once one line matches, fasttemplate scans the whole
		// string and the split tag (TrimSpace'd) is replaced too.
		{"split tag replaced when another line matches", "{{one}}\n{{\nthree\n}}", "two\nfour"},
		{"multi-line text around tags", "a\n{{one}}\nb", "a\ntwo\nb"},
	}
	e, err := NewEngine(Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := e.Replace(c.src, params)
			if err != nil {
				t.Fatalf("Replace(%q): %v", c.src, err)
			}
			if got != c.want {
				t.Errorf("Replace(%q) = %q, want %q", c.src, got, c.want)
			}
			if ref, _ := refFastReplace(c.src, params); ref != got {
				t.Errorf("Replace(%q) = %q, upstream algorithm gives %q", c.src, got, ref)
			}
		})
	}
}

// Upstream Test_Render_Replace_no_panic_on_missing_closing_brace: a `{{`
// without a later `}}` is an error (spec §5.2 step 2).
func TestReplaceFasttemplateUnterminated(t *testing.T) {
	e, err := NewEngine(Options{})
	if err != nil {
		t.Fatal(err)
	}
	src := "{{properly.closed}} {{improperly.closed}"
	got, err := e.Replace(src, map[string]any{"properly.closed": "x"})
	if err == nil {
		t.Fatalf("Replace(%q) = %q, want an error", src, got)
	}
	want := `invalid template: Cannot find end tag="}}" in the template="{{properly.closed}} {{improperly.closed}" starting from "improperly.closed}"`
	if err.Error() != want {
		t.Errorf("error = %q\nwant    %q", err, want)
	}
	if _, cerr := e.Compile(src); cerr == nil || cerr.Error() != want {
		t.Errorf("Compile error = %v, want %q", cerr, want)
	}
}

func TestLiteralAndCache(t *testing.T) {
	fast, _ := NewEngine(Options{})
	gt, _ := NewEngine(Options{GoTemplate: true})
	for _, c := range []struct {
		e       *Engine
		src     string
		literal bool
	}{
		{fast, "plain", true},
		{fast, "a {{ b", true},
		{fast, "{{a}}", false},
		{gt, "plain", true},
		{gt, "{{ .a }}", false},
		{gt, "{{/* comment */}}x", false},
	} {
		tp, err := c.e.Compile(c.src)
		if err != nil {
			t.Fatalf("Compile(%q): %v", c.src, err)
		}
		if tp.IsLiteral() != c.literal {
			t.Errorf("Compile(%q).IsLiteral() = %v, want %v", c.src, tp.IsLiteral(), c.literal)
		}
		if tp.Source() != c.src {
			t.Errorf("Source() = %q, want %q", tp.Source(), c.src)
		}
		again, _ := c.e.Compile(c.src)
		if again != tp {
			t.Errorf("Compile(%q) twice returned different templates: cache miss", c.src)
		}
	}
	if fast.GoTemplate() || !gt.GoTemplate() {
		t.Errorf("GoTemplate() = %v/%v, want false/true", fast.GoTemplate(), gt.GoTemplate())
	}
}

// ---------------------------------------------------------------------------
// goTemplate mode: upstream utils_test.go TestRenderTemplateParamsGoTemplate,
// spec §5.3.

func TestReplaceGoTemplate(t *testing.T) {
	params := map[string]any{
		"one":      "two",
		"quote":    `"`,
		"replicas": 3,
		"enabled":  true,
		"ratio":    1.5,
		"image":    map[string]any{"name": "busybox", "version": "latest"},
		"hpa":      map[string]any{"enabled": true, "maxReplicas": 5},
		"admin":    map[string]any{"admin-ca": `value "admin" ca with \`, "admin-jks": "value admin jks"},
		"labels":   map[string]string{"env": "prod", "a/b": "slash"},
		"small":    map[string]any{"a": "b"},
		"volumes":  []map[string]any{{"name": "volume-one"}, {"name": "volume-two"}},
		"branch":   "feat/a_really+long_pull_request_name_to_test_argo_slugification_and_branch_name_shortening_feature",
		"branch2":  "feat/areallylongpullrequestnametotestargoslugificationandbranchnameshorteningfeature",
		"yaml":     "hello: world",
		"yamlList": "- hello world\n- bonjour tout le monde",
		"badYaml":  "non\n compliant\n yaml",
		"cluster":  "Production_01/West",
		"foo":      map[string]any{"bar": map[string]any{"bool": true, "number": 2, "str": "Hello world"}},
	}
	cases := []struct {
		name    string
		src     string
		opts    []string
		want    string
		wantErr string // exact error text when set
	}{
		{name: "simple substitution", src: "{{ .one }}", want: "two"},
		{name: "no spaces", src: "{{.one}}{{.one}}", want: "twotwo"},
		{name: "quote", src: "{{.quote}}", want: `"`},
		{name: "depth", src: "{{ .image.name }}:{{ .image.version }}", want: "busybox:latest"},
		{name: "if", src: "{{ if .hpa.enabled }}{{ .hpa.maxReplicas }}{{ else }}{{ .replicas }}{{ end }}", want: "5"},
		{name: "range", src: "{{ range .volumes }}[{{ .name }}]{{ end }}", want: "[volume-one][volume-two]"},
		{name: "index", src: `{{ index .admin "admin-ca" }}, {{ index .admin "admin-jks" }}`, want: `value "admin" ca with \, value admin jks`},
		{name: "index on map[string]string", src: `{{ index .labels "a/b" }}`, want: "slash"},
		{name: "field on map[string]string", src: `{{ .labels.env }}`, want: "prod"},
		{name: "trim markers", src: "a  {{- .one -}}  b", want: "atwob"},
		{name: "comment only", src: "{{/* nothing */}}x", want: "x"},

		// Missing keys.
		{name: "missing key renders <no value>", src: "--> {{.doesnotexist}} <--", want: "--> <no value> <--"},
		{name: "missing key missingkey=default", src: "{{.doesnotexist}}", opts: []string{"missingkey=default"}, want: "<no value>"},
		{name: "missing key missingkey=zero on map[string]any", src: "{{.doesnotexist}}", opts: []string{"missingkey=zero"}, want: "<no value>"},
		{name: "chained through missing key", src: "{{ .nope.x }}", want: "<no value>"},
		{name: "missing key in map[string]string", src: "{{ .labels.nope }}", want: "<no value>"},
		{name: "missing key in map[string]string missingkey=zero", src: "[{{ .labels.nope }}]", opts: []string{"missingkey=zero"}, want: "[]"},
		{
			name: "missing key missingkey=error", src: "--> {{.doesnotexist}} <--", opts: []string{"missingkey=error"},
			wantErr: `failed to execute go template --> {{.doesnotexist}} <--: template: base:1:6: executing "base" at <.doesnotexist>: map has no entry for key "doesnotexist"`,
		},
		{name: "index on missing key is empty even with missingkey=error", src: `[{{ index .labels "nope" }}]`, opts: []string{"missingkey=error"}, want: "[]"},
		{name: "index on missing key in map[string]any", src: `[{{ index .small "nope" }}]`, opts: []string{"missingkey=error"}, want: "[<no value>]"},
		{
			name: "index on missing map", src: `{{ index .metadata.labels "x" }}`,
			wantErr: `failed to execute go template {{ index .metadata.labels "x" }}: template: base:1:3: executing "base" at <index .metadata.labels "x">: error calling index: index of untyped nil`,
		},
		{
			name: "field on a string", src: "{{.one.test}}",
			wantErr: `failed to execute go template {{.one.test}}: template: base:1:6: executing "base" at <.one.test>: can't evaluate field test in type interface {}`,
		},

		// Non-string values use Go formatting.
		{name: "int", src: "{{ .replicas }}", want: "3"},
		{name: "bool", src: "{{ .enabled }}", want: "true"},
		{name: "float", src: "{{ .ratio }}", want: "1.5"},
		{name: "map", src: "{{ .small }}", want: "map[a:b]"},
		{name: "map[string]string", src: "{{ .labels }}", want: "map[a/b:slash env:prod]"},

		// Functions.
		{name: "sprig upper", src: "{{ .one | upper }}", want: "TWO"},
		{name: "sprig default", src: `{{ default "dflt" .nope }}`, want: "dflt"},
		{name: "sprig quote", src: "{{ .one | quote }}", want: `"two"`},
		{name: "sprig dig", src: `{{ dig "bar" "str" "" .foo }}`, want: "Hello world"},
		{
			name: "sprig dig on map[string]string fails", src: `{{ dig "env" "" .labels }}`,
			wantErr: `failed to execute go template {{ dig "env" "" .labels }}: template: base:1:3: executing "base" at <dig "env" "" .labels>: error calling dig: interface conversion: interface {} is map[string]string, not map[string]interface {}`,
		},
		{name: "normalize", src: "{{ normalize .cluster }}", want: "production-01-west"},
		{name: "toYaml nested", src: "{{ toYaml .foo | indent 2 }}", want: "  bar:\n    bool: true\n    number: 2\n    str: Hello world"},
		{name: "toYaml of a string", src: "{{ toYaml .one }}", want: "two"},
		{name: "fromYaml", src: `{{ get (fromYaml .yaml) "hello" }}`, want: "world"},
		{
			name: "fromYaml error", src: `{{ get (fromYaml .badYaml) "hello" }}`,
			wantErr: `failed to execute go template {{ get (fromYaml .badYaml) "hello" }}: template: base:1:8: executing "base" at <fromYaml .badYaml>: error calling fromYaml: error unmarshaling JSON: while decoding JSON: json: cannot unmarshal string into Go value of type map[string]interface {}`,
		},
		{name: "fromYamlArray", src: "{{ fromYamlArray .yamlList | last }}", want: "bonjour tout le monde"},
		{
			name: "fromYamlArray error", src: "{{ fromYamlArray .badYaml | last }}",
			wantErr: `failed to execute go template {{ fromYamlArray .badYaml | last }}: template: base:1:3: executing "base" at <fromYamlArray .badYaml>: error calling fromYamlArray: error unmarshaling JSON: while decoding JSON: json: cannot unmarshal string into Go value of type []interface {}`,
		},
		// Upstream starts fromYAML/fromYAMLArray from an empty map/slice, so
		// an empty or null document gives {} / [] rather than nil.
		{name: "fromYaml of empty text is an empty map", src: `{{ fromYaml "" | toYaml }}`, want: "{}"},
		{name: "fromYaml of null is an empty map", src: `{{ fromYaml "null" | toJson }}`, want: "{}"},
		{name: "fromYamlArray of empty text is an empty list", src: `{{ fromYamlArray "" | toYaml }}`, want: "[]"},
		{name: "set on fromYaml of empty text", src: `{{ $m := fromYaml "" }}{{ $_ := set $m "a" "b" }}{{ $m.a }}`, want: "b"},

		// upstream TestSlugify
		{name: "slugify 50 false", src: "{{ slugify 50 false .branch }}", want: "feat-a-really-long-pull-request-name-to-test-argo"},
		{name: "slugify 53 true", src: "{{ slugify 53 true .branch }}", want: "feat-a-really-long-pull-request-name-to-test-argo"},
		{name: "slugify 50 true", src: "{{ slugify 50 true .branch2 }}", want: "feat"},
		{name: "slugify 50 false no word break", src: "{{ slugify 50 false .branch2 }}", want: "feat-areallylongpullrequestnametotestargoslugifica"},
		{name: "slugify defaults (50, smart)", src: "{{ slugify .branch2 }}", want: "feat"},
		{name: "slugify max length only", src: "{{ slugify 10 .cluster }}", want: "production"},
		// Upstream type-asserts each argument by position: a name that is
		// not a string, or a non-int length, fails the template.
		{
			name: "slugify non-string name", src: "{{ slugify .replicas }}",
			wantErr: `failed to execute go template {{ slugify .replicas }}: template: base:1:3: executing "base" at <slugify .replicas>: error calling slugify: interface conversion: interface {} is int, not string`,
		},
		{
			name: "slugify missing name", src: "{{ slugify .nope }}",
			wantErr: `failed to execute go template {{ slugify .nope }}: template: base:1:3: executing "base" at <slugify .nope>: error calling slugify: interface conversion: interface {} is nil, not string`,
		},
		{
			name: "slugify string length", src: `{{ slugify "50" .one }}`,
			wantErr: `failed to execute go template {{ slugify "50" .one }}: template: base:1:3: executing "base" at <slugify "50" .one>: error calling slugify: interface conversion: interface {} is string, not int`,
		},

		// Functions removed by upstream.
		{name: "env is absent", src: `{{ env "HOME" }}`, wantErr: `failed to parse template {{ env "HOME" }}: template: base:1: function "env" not defined`},
		{name: "expandenv is absent", src: `{{ expandenv "$HOME" }}`, wantErr: `failed to parse template {{ expandenv "$HOME" }}: template: base:1: function "expandenv" not defined`},
		{name: "getHostByName is absent", src: `{{ getHostByName "localhost" }}`, wantErr: `failed to parse template {{ getHostByName "localhost" }}: template: base:1: function "getHostByName" not defined`},
		{name: "unknown function", src: `{{functiondoesnotexist}}`, wantErr: `failed to parse template {{functiondoesnotexist}}: template: base:1: function "functiondoesnotexist" not defined`},
		{name: "unclosed action", src: `{{ .one `, wantErr: `failed to parse template {{ .one : template: base:1: unclosed action`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e, err := NewEngine(Options{GoTemplate: true, GoTemplateOptions: c.opts})
			if err != nil {
				t.Fatal(err)
			}
			got, err := e.Replace(c.src, params)
			switch {
			case c.wantErr != "":
				if err == nil {
					t.Fatalf("Replace(%q) = %q, want error %q", c.src, got, c.wantErr)
				}
				if err.Error() != c.wantErr {
					t.Errorf("Replace(%q) error\n got %q\nwant %q", c.src, err, c.wantErr)
				}
			case err != nil:
				t.Fatalf("Replace(%q): %v", c.src, err)
			case got != c.want:
				t.Errorf("Replace(%q) = %q, want %q", c.src, got, c.want)
			}
		})
	}
}

// upstream utils_test.go "toYaml": the whole param map, keys sorted.
func TestToYamlWholeParams(t *testing.T) {
	e, _ := NewEngine(Options{GoTemplate: true})
	got, err := e.Replace("{{ toYaml . | indent 2 }}", map[string]any{
		"foo": map[string]any{"bar": map[string]any{"bool": true, "number": 2, "str": "Hello world"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := "  foo:\n    bar:\n      bool: true\n      number: 2\n      str: Hello world"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	_, err = e.Replace("{{ toYaml . }}", map[string]any{"foo": func(*string) {}})
	if want := `error calling toYaml: error marshaling into JSON: json: unsupported type: func(*string)`; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("toYaml of a func: error %v, want it to contain %q", err, want)
	}
}

func TestFuncMapContents(t *testing.T) {
	f := FuncMap()
	for _, name := range []string{"env", "expandenv", "getHostByName"} {
		if _, ok := f[name]; ok {
			t.Errorf("FuncMap has %q; upstream deletes it", name)
		}
	}
	for _, name := range []string{"normalize", "slugify", "toYaml", "fromYaml", "fromYamlArray", "upper", "dig", "default", "b64enc", "toJson"} {
		if _, ok := f[name]; !ok {
			t.Errorf("FuncMap lacks %q", name)
		}
	}
}

// The goTemplate function map is exactly upstream's: sprig's generic
// functions minus the three that Argo CD deletes because they read the
// controller's environment or the network (applicationset/utils/utils.go,
// init: delete(sprigFuncMap, "env" / "expandenv" / "getHostByName")), plus
// Argo CD's own functions (applicationset/utils/template_functions.go). No
// other sprig function is dropped, so hubctl accepts every template Argo CD
// accepts, and a template using one of the three fails at parse time with
// Argo CD's message before anything is evaluated.
func TestFuncMapIsSprigMinusArgoCDRemovals(t *testing.T) {
	want := map[string]bool{}
	for name := range sprig.GenericFuncMap() {
		want[name] = true
	}
	for _, name := range []string{"env", "expandenv", "getHostByName"} {
		if !want[name] {
			t.Fatalf("sprig no longer has %s: revisit the list", name)
		}
		delete(want, name)
	}
	for _, name := range []string{"normalize", "slugify", "toYaml", "fromYaml", "fromYamlArray"} {
		want[name] = true
	}
	got := FuncMap()
	for name := range want {
		if got[name] == nil {
			t.Errorf("FuncMap lacks %s", name)
		}
	}
	for name := range got {
		if !want[name] {
			t.Errorf("FuncMap has %s, which Argo CD's goTemplate map does not", name)
		}
	}

	const canary = "canary-3b9e71c2"
	t.Setenv("HUBCTL_TEST_SECRET", canary)
	e, err := NewEngine(Options{GoTemplate: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, src := range []string{`{{ env "HUBCTL_TEST_SECRET" }}`, `{{ expandenv "$HUBCTL_TEST_SECRET" }}`, `{{ if false }}{{ getHostByName "leak.invalid" }}{{ end }}`} {
		out, err := e.Replace(src, map[string]any{})
		if err == nil || !strings.Contains(err.Error(), "not defined") || strings.Contains(out+err.Error(), canary) {
			t.Errorf("Replace(%q) = %q, %v; want a parse error without the environment", src, out, err)
		}
	}
}

func TestInvalidGoTemplateOption(t *testing.T) {
	for _, opt := range []string{"missingkey=bogus", "bogus"} {
		e, err := NewEngine(Options{GoTemplate: true, GoTemplateOptions: []string{"missingkey=error", opt}})
		if err == nil {
			t.Errorf("NewEngine with option %q = %v, want an error", opt, e)
			continue
		}
		if want := fmt.Sprintf("invalid goTemplateOptions entry %q", opt); !strings.Contains(err.Error(), want) {
			t.Errorf("option %q: error %q does not contain %q", opt, err, want)
		}
	}
	// The options are not looked at in fasttemplate mode (upstream ignores them too).
	if _, err := NewEngine(Options{GoTemplateOptions: []string{"bogus"}}); err != nil {
		t.Errorf("fasttemplate engine with a bad goTemplateOptions entry: %v", err)
	}
}

// Upstream TestSlugify calls SlugifyName directly.
func TestSlugifyName(t *testing.T) {
	const long = "feat/a_really+long_pull_request_name_to_test_argo_slugification_and_branch_name_shortening_feature"
	const long2 = "feat/areallylongpullrequestnametotestargoslugificationandbranchnameshorteningfeature"
	for _, c := range []struct {
		length int
		smart  bool
		name   string
		want   string
	}{
		{50, false, long, "feat-a-really-long-pull-request-name-to-test-argo"},
		{53, true, long, "feat-a-really-long-pull-request-name-to-test-argo"},
		{50, true, long2, "feat"},
		{50, false, long2, "feat-areallylongpullrequestnametotestargoslugifica"},
	} {
		if got := SlugifyName(c.length, c.smart, c.name); got != c.want {
			t.Errorf("SlugifyName(%d, %v, %q) = %q, want %q", c.length, c.smart, c.name, got, c.want)
		}
	}
	if got := SlugifyName(); got != "" {
		t.Errorf("SlugifyName() = %q, want empty", got)
	}
	if got := SlugifyName("My_Cluster"); got != "my-cluster" {
		t.Errorf(`SlugifyName("My_Cluster") = %q, want "my-cluster"`, got)
	}
}

// slugify sets gosimple/slug's package globals; concurrent renders with
// different lengths must not see each other's settings.
func TestSlugifyConcurrent(t *testing.T) {
	e, _ := NewEngine(Options{GoTemplate: true})
	params := map[string]any{"n": "abcdefghij-klmnopqrst-uvwxyz"}
	want := map[string]string{
		"{{ slugify 5 false .n }}":  "abcde",
		"{{ slugify 15 false .n }}": "abcdefghij-klmn",
		"{{ slugify 50 false .n }}": "abcdefghij-klmnopqrst-uvwxyz",
	}
	var wg sync.WaitGroup
	errs := make(chan string, 300)
	for i := 0; i < 100; i++ {
		for src, w := range want {
			wg.Add(1)
			go func() {
				defer wg.Done()
				got, err := e.Replace(src, params)
				if err != nil || got != w {
					errs <- fmt.Sprintf("%s = %q, %v; want %q", src, got, err, w)
				}
			}()
		}
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

// ---------------------------------------------------------------------------
// SanitizeName (spec §5.5, upstream template_functions.go SanitizeName).

// refSanitizeName is upstream's algorithm, regexp and all.
func refSanitizeName(name string) string {
	invalid := regexp.MustCompile("[^-a-z0-9.]")
	name = strings.ToLower(name)
	name = invalid.ReplaceAllString(name, "-")
	if len(name) > 253 {
		name = name[:253]
	}
	return strings.Trim(name, "-.")
}

func TestSanitizeName(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		// spec §5.5
		{"production_01/west", "production-01-west"},
		{"-.--CLUSTER/name  -./.-", "cluster-name"},
		{"My.Cluster", "my.cluster"},
		// no collapsing of runs
		{"a__b", "a--b"},
		{"in-cluster", "in-cluster"},
		{"", ""},
		{"---", ""},
		// each non-ASCII rune becomes one '-'
		{"Ünïcödé_Name", "n-c-d--name"},
		{"日本", ""},
		{"x日本y", "x--y"},
		// Kelvin sign lower-cases to ASCII 'k'
		{"\u212Aube", "kube"},
		// invalid UTF-8: one '-' per bad byte
		{"a\xffb", "a-b"},
		// truncation to 253 bytes, then trimming
		{strings.Repeat("a", 300), strings.Repeat("a", 253)},
		{strings.Repeat("a", 252) + "-b", strings.Repeat("a", 252)},
		{strings.Repeat("a", 252) + ".b", strings.Repeat("a", 252)},
		{"x" + strings.Repeat("é", 300), "x"},
		{strings.Repeat("Ab_", 100), strings.Repeat("ab-", 84) + "a"},
	} {
		got := SanitizeName(c.in)
		if got != c.want {
			t.Errorf("SanitizeName(%q) = %q, want %q", c.in, got, c.want)
		}
		if ref := refSanitizeName(c.in); got != ref {
			t.Errorf("SanitizeName(%q) = %q, upstream regexp version gives %q", c.in, got, ref)
		}
	}
}

func FuzzSanitizeName(f *testing.F) {
	for _, s := range []string{"production_01/west", "-.--CLUSTER/name  -./.-", "Ünïcödé_Name", "a\xffb", "\u0130stanbul", strings.Repeat("é", 200)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, ref := SanitizeName(s), refSanitizeName(s); got != ref {
			t.Fatalf("SanitizeName(%q) = %q, upstream regexp version gives %q", s, got, ref)
		}
	})
}

// ---------------------------------------------------------------------------
// Go-template fast path (fastpath.go) against plain text/template.

// refGoRender executes src the way upstream does: a clone of a base template
// named "base" with the function map and the options, then Parse and
// Execute; errors are wrapped like Replace wraps them.
func refGoRender(src string, opts []string, params map[string]any) (string, error) {
	c, err := refBase(opts).Clone()
	if err != nil {
		return "", err
	}
	if _, err := c.Parse(src); err != nil {
		return "", fmt.Errorf("failed to parse template %s: %w", src, err)
	}
	var buf bytes.Buffer
	if err := c.Execute(&buf, params); err != nil {
		return "", fmt.Errorf("failed to execute go template %s: %w", src, err)
	}
	return buf.String(), nil
}

var (
	refBasesMu sync.Mutex
	refBases   = map[string]*template.Template{}
)

// refBase returns the (cached) base template for opts; building sprig's
// function map for every reference render would dominate the test time.
func refBase(opts []string) *template.Template {
	refBasesMu.Lock()
	defer refBasesMu.Unlock()
	k := strings.Join(opts, ",")
	if b, ok := refBases[k]; ok {
		return b
	}
	b := template.New("base").Funcs(FuncMap())
	for _, o := range opts {
		b.Option(o)
	}
	refBases[k] = b
	return b
}

// refFastReplace is upstream's fasttemplate branch of Replace.
func refFastReplace(src string, params map[string]any) (string, error) {
	if !regexp.MustCompile(`.*{{.*}}.*`).MatchString(src) {
		return src, nil
	}
	ft, err := fasttemplate.NewTemplate(src, "{{", "}}")
	if err != nil {
		return "", fmt.Errorf("invalid template: %w", err)
	}
	return ft.ExecuteFuncString(func(w io.Writer, tag string) (int, error) {
		k := strings.TrimSpace(tag)
		if v, ok := params[k].(string); ok && len(k) > 0 {
			return w.Write([]byte(v))
		}
		return fmt.Fprintf(w, "{{%s}}", tag)
	}), nil
}

var optionSets = [][]string{nil, {"missingkey=error"}, {"missingkey=zero"}, {"missingkey=default"}}

// diffOne compares Render with text/template and reports whether the fast
// plan answered.
func diffOne(t *testing.T, engines []*Engine, src string, params map[string]any) (fastHits int) {
	t.Helper()
	for i, e := range engines {
		want, wantErr := refGoRender(src, optionSets[i], params)
		tp, cerr := e.Compile(src)
		var got string
		var gotErr error
		if cerr != nil {
			gotErr = cerr
		} else {
			got, gotErr = tp.Render(params)
			if tp.fastgo != nil {
				if _, ok := tp.fastgo.exec(params); ok {
					fastHits++
				}
			}
		}
		if fmt.Sprint(gotErr) != fmt.Sprint(wantErr) || got != want {
			t.Errorf("template %q, options %v, params %#v:\n got %q, %v\nwant %q, %v", src, optionSets[i], params, got, gotErr, want, wantErr)
		}
	}
	return fastHits
}

func newEngines(t testing.TB) []*Engine {
	var es []*Engine
	for _, o := range optionSets {
		e, err := NewEngine(Options{GoTemplate: true, GoTemplateOptions: o})
		if err != nil {
			t.Fatal(err)
		}
		es = append(es, e)
	}
	return es
}

func TestFastPathMatchesTextTemplate(t *testing.T) {
	engines := newEngines(t)
	templates := []string{
		"{{ .a }}",
		"x-{{.a}}-y",
		"{{ .a.b }}",
		"{{ .a.b.c }}",
		"{{- .a -}}",
		"  {{- .a }}  ",
		"{{ .a -}}\n  tail",
		`{{ index .m "k" }}`,
		`{{ index .a.b "k" }}`,
		`{{- index .m "k" -}} !`,
		"{{ .a }}{{ .s }}{{ .n }}",
		`addon-{{ .values.addonChart }}-{{ .nameNormalized }}`,
		`{{ index .metadata.labels "env" }}/{{ .metadata.annotations.repo }}`,
		"{{/* c */}}{{ .a }}",
		"{{ .missing }}",
		`{{ index .missing "k" }}`,
		`{{ index .m "missing" }}`,
	}
	paramSets := []map[string]any{
		{},
		nil,
		{"a": "A", "s": "S", "n": "N", "m": map[string]string{"k": "mk"}},
		{"a": map[string]any{"b": "AB"}, "m": map[string]any{"k": "mk"}},
		{"a": map[string]any{"b": map[string]any{"c": "ABC", "k": "abk"}}},
		{"a": map[string]any{"b": map[string]string{"k": "v", "c": "cc"}}},
		{"a": 7, "s": true, "n": 1.25, "m": map[string]any{"k": 3}},
		{"a": map[string]string{"b": "sb"}, "m": map[string]any{"k": map[string]any{"x": "y"}}},
		{"a": nil, "m": map[string]any{"k": nil}},
		{"a": []any{"x"}, "m": map[string]string{}},
		{"a": map[string]any{"b": ""}, "m": map[string]string{"k": ""}},
		{"values": map[string]string{"addonChart": "argocd"}, "nameNormalized": "eks-prod",
			"metadata": map[string]any{"labels": map[string]string{"env": "prod"}, "annotations": map[string]string{"repo": "r"}}},
		{"values": map[string]string{}, "nameNormalized": 3, "metadata": map[string]any{}},
		{"values": map[string]any{"addonChart": "x"}, "metadata": map[string]any{"labels": map[string]string{}}},
	}
	hits, total := 0, 0
	for _, src := range templates {
		for _, p := range paramSets {
			hits += diffOne(t, engines, src, p)
			total += len(engines)
		}
	}
	// The comparison is only worth something if the fast path answered a
	// good share of the renders (and declined others).
	if hits < total/20 || hits == total {
		t.Errorf("fast path answered %d of %d renders", hits, total)
	}
	for _, src := range templates {
		tp, err := engines[0].Compile(src)
		if err != nil {
			t.Fatal(err)
		}
		if tp.fastgo == nil {
			t.Errorf("%q: no fast plan compiled", src)
		}
	}
	// Anything else goes through text/template only.
	for _, src := range []string{"{{ .a | upper }}", "{{ $x := .a }}{{ $x }}", "{{ if .a }}y{{ end }}", "{{ $.a }}", `{{ index . "a" }}`, "{{ (.a).b }}", `{{ index .m "k" "j" }}`, `{{ index .m .k }}`, "{{ .a }}{{ .b.c | lower }}"} {
		tp, err := engines[0].Compile(src)
		if err != nil {
			t.Fatalf("%q: %v", src, err)
		}
		if tp.fastgo != nil {
			t.Errorf("%q compiled to a fast plan; only field and index actions qualify", src)
		}
		diffOne(t, engines, src, paramSets[2])
	}
}

// Seeded random templates and params: 5,000 template/param pairs, each
// rendered with every option set.
func TestFastPathRandomized(t *testing.T) {
	engines := newEngines(t)
	r := rand.New(rand.NewPCG(20240601, 7))
	keys := []string{"a", "b", "k", "m", "values", "missing"}
	var value func(depth int) any
	value = func(depth int) any {
		switch n := r.IntN(9); {
		case n < 3:
			return []string{"x", "", "y z", "{{ .a }}", "<no value>"}[r.IntN(5)]
		case n == 3:
			return r.IntN(100)
		case n == 4:
			return r.IntN(2) == 0
		case n == 5 && depth < 3:
			m := map[string]any{}
			for range r.IntN(4) {
				m[keys[r.IntN(len(keys))]] = value(depth + 1)
			}
			return m
		case n == 6:
			m := map[string]string{}
			for range r.IntN(4) {
				m[keys[r.IntN(len(keys))]] = []string{"s", "", "t"}[r.IntN(3)]
			}
			return m
		case n == 7:
			return nil
		default:
			return "leaf"
		}
	}
	// satisfy makes the lookup of path (the index key included) succeed
	// with a string, usually; later paths may overwrite earlier ones.
	satisfy := func(params map[string]any, path []string) {
		m := params
		for i, k := range path {
			if i == len(path)-2 && r.IntN(2) == 0 {
				m[k] = map[string]string{path[i+1]: "v" + k}
				return
			}
			if i == len(path)-1 {
				m[k] = "s" + k
				return
			}
			next, ok := m[k].(map[string]any)
			if !ok {
				next = map[string]any{}
				m[k] = next
			}
			m = next
		}
	}
	texts := []string{"", "x", " ", "\n", "a-b", "  ", "\t\n "}
	hits, total := 0, 0
	for range 5000 {
		var b strings.Builder
		var paths [][]string
		for range 1 + r.IntN(4) {
			b.WriteString(texts[r.IntN(len(texts))])
			open, close := "{{ ", " }}"
			if r.IntN(4) == 0 {
				open = "{{- "
			}
			if r.IntN(4) == 0 {
				close = " -}}"
			}
			var path []string
			for range 1 + r.IntN(3) {
				path = append(path, keys[r.IntN(len(keys))])
			}
			field := "." + strings.Join(path, ".")
			if r.IntN(3) == 0 {
				k := keys[r.IntN(len(keys))]
				b.WriteString(open + "index " + field + ` "` + k + `"` + close)
				path = append(path, k)
			} else {
				b.WriteString(open + field + close)
			}
			paths = append(paths, path)
		}
		b.WriteString(texts[r.IntN(len(texts))])
		params := map[string]any{}
		if r.IntN(2) == 0 {
			for _, p := range paths {
				satisfy(params, p)
			}
		}
		for range r.IntN(3) {
			params[keys[r.IntN(len(keys))]] = value(0)
		}
		hits += diffOne(t, engines, b.String(), params)
		total += len(engines)
		if t.Failed() {
			break
		}
	}
	if hits < total/10 || hits == total {
		t.Errorf("fast path answered %d of %d renders", hits, total)
	}
	t.Logf("fast path answered %d of %d renders", hits, total)
}

// ---------------------------------------------------------------------------
// Fuzzing.

// fuzzFuncs are the functions a fuzzed Go template may call: deterministic
// and bounded in time and memory (no loops, repeat, random, time, crypto).
var fuzzFuncs = map[string]bool{
	"and": true, "or": true, "not": true, "eq": true, "ne": true, "lt": true, "le": true, "gt": true, "ge": true,
	"index": true, "len": true, "print": true, "printf": true, "println": true, "slice": true, "html": true, "js": true, "urlquery": true,
	"upper": true, "lower": true, "trim": true, "trimPrefix": true, "trimSuffix": true, "quote": true, "squote": true,
	"default": true, "empty": true, "coalesce": true, "ternary": true, "contains": true, "hasPrefix": true, "hasSuffix": true,
	"replace": true, "b64enc": true, "b64dec": true, "toString": true, "toJson": true, "get": true, "hasKey": true, "dig": true,
	"list": true, "dict": true, "first": true, "last": true, "join": true, "splitList": true, "kindOf": true, "typeOf": true,
	"atoi": true, "int": true, "trunc": true, "cat": true, "set": true,
	"normalize": true, "slugify": true, "toYaml": true, "fromYaml": true, "fromYamlArray": true,
}

// fuzzSafe reports whether every node of the parsed template is cheap and
// deterministic to execute.
func fuzzSafe(t *template.Template) bool {
	var ok func(n parse.Node) bool
	ok = func(n parse.Node) bool {
		switch n := n.(type) {
		case nil:
			return true
		case *parse.ListNode:
			if n == nil {
				return true
			}
			for _, c := range n.Nodes {
				if !ok(c) {
					return false
				}
			}
			return true
		case *parse.ActionNode:
			return ok(n.Pipe)
		case *parse.PipeNode:
			if n == nil {
				return true
			}
			for _, c := range n.Cmds {
				if !ok(c) {
					return false
				}
			}
			return true
		case *parse.CommandNode:
			for _, a := range n.Args {
				if !ok(a) {
					return false
				}
			}
			return true
		case *parse.IfNode:
			return ok(n.Pipe) && ok(n.List) && ok(n.ElseList)
		case *parse.WithNode:
			return ok(n.Pipe) && ok(n.List) && ok(n.ElseList)
		case *parse.ChainNode:
			return ok(n.Node)
		case *parse.IdentifierNode:
			return fuzzFuncs[n.Ident]
		case *parse.TextNode, *parse.FieldNode, *parse.VariableNode, *parse.DotNode, *parse.StringNode,
			*parse.NumberNode, *parse.BoolNode, *parse.NilNode, *parse.CommentNode:
			return true
		default: // range, template, block, break, continue
			return false
		}
	}
	for _, tt := range t.Templates() {
		if tt.Tree != nil && !ok(tt.Tree.Root) {
			return false
		}
	}
	return true
}

func FuzzRender(f *testing.F) {
	for _, s := range []string{
		"{{ .a }}", "x-{{ .m.k }}-y", `{{ index .m "k" }}`, `{{- index .n "s" -}}`, "{{ .missing }}",
		`{{ index .missing "k" }}`, "{{ .n.i }} {{ .n.b }}", "{{ normalize .a }}", "{{ slugify 10 false .a }}",
		`{{ toYaml .n }}`, `{{ fromYaml .a | toJson }}`, "{{a}}", "{{ a }}{{b.c}}", "{{ unknown }}", "{{x}} {{y",
		"{{\na}}", "}}{{", "{{ if .a }}{{ .a | upper }}{{ else }}none{{ end }}", "{{ .a.b.c }}", "{{ printf \"%q\" .a }}",
	} {
		f.Add(s, "value", false)
		f.Add(s, "", true)
	}
	f.Add("{{ .a }}", "{{ .a }}", true)
	f.Add("{{a}}", "a: b", false)
	f.Fuzz(func(t *testing.T, src, value string, missingkeyError bool) {
		if len(src) > 512 || len(value) > 256 {
			t.Skip()
		}

		// fasttemplate mode: flat keys, strings only.
		fe, _ := NewEngine(Options{})
		fparams := map[string]any{"a": value, "b.c": value, "n": 3}
		got, err := fe.Replace(src, fparams)
		want, wantErr := refFastReplace(src, fparams)
		if got != want || fmt.Sprint(err) != fmt.Sprint(wantErr) {
			t.Fatalf("fasttemplate %q: got %q, %v; upstream algorithm gives %q, %v", src, got, err, want, wantErr)
		}

		// goTemplate mode.
		var opts []string
		if missingkeyError {
			opts = []string{"missingkey=error"}
		}
		ge, err := NewEngine(Options{GoTemplate: true, GoTemplateOptions: opts})
		if err != nil {
			t.Fatal(err)
		}
		params := map[string]any{
			"a": value,
			"m": map[string]string{"k": value},
			"n": map[string]any{"s": value, "i": 7, "b": true},
		}
		ref, perr := template.New("base").Funcs(FuncMap()).Parse(src)
		if perr == nil && !fuzzSafe(ref) {
			// Still compile (parsing is always safe), never execute.
			if _, err := ge.Compile(src); err != nil {
				t.Fatalf("Compile(%q): %v, but text/template parses it", src, err)
			}
			return
		}
		got, err = ge.Replace(src, params)
		want, wantErr = refGoRender(src, opts, params)
		if (err == nil) != (wantErr == nil) {
			t.Fatalf("goTemplate %q (options %v, value %q): got %q, %v; text/template gives %q, %v", src, opts, value, got, err, want, wantErr)
		}
		if err == nil && got != want {
			t.Fatalf("goTemplate %q (options %v, value %q): got %q; text/template gives %q", src, opts, value, got, want)
		}
	})
}

// ---------------------------------------------------------------------------
// Benchmarks.

const benchSrc = "addon-{{ .values.addonChart }}-{{ .nameNormalized }}"

var benchParams = map[string]any{
	"name":           "eks-prod-client0001-services",
	"nameNormalized": "eks-prod-client0001-services",
	"values":         map[string]string{"addonChart": "kube-prometheus-stack", "addonChartVersion": "1.2.3"},
	"metadata":       map[string]any{"labels": map[string]string{"env": "prod"}},
}

func BenchmarkRenderFast(b *testing.B) {
	e, _ := NewEngine(Options{GoTemplate: true})
	tp, err := e.Compile(benchSrc)
	if err != nil {
		b.Fatal(err)
	}
	if tp.fastgo == nil {
		b.Fatal("no fast plan")
	}
	want := "addon-kube-prometheus-stack-eks-prod-client0001-services"
	b.ReportAllocs()
	for b.Loop() {
		if s, err := tp.Render(benchParams); err != nil || s != want {
			b.Fatalf("Render = %q, %v", s, err)
		}
	}
}

func BenchmarkRenderTextTemplate(b *testing.B) {
	c, err := template.New("base").Funcs(FuncMap()).Parse(benchSrc)
	if err != nil {
		b.Fatal(err)
	}
	want := "addon-kube-prometheus-stack-eks-prod-client0001-services"
	var buf bytes.Buffer
	b.ReportAllocs()
	for b.Loop() {
		buf.Reset()
		if err := c.Execute(&buf, benchParams); err != nil || buf.String() != want {
			b.Fatalf("Execute = %q, %v", buf.String(), err)
		}
	}
}
