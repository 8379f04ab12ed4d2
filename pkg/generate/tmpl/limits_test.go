package tmpl

import (
	"errors"
	"strings"
	"testing"
)

func goEngine(t *testing.T, l Limits) *Engine {
	t.Helper()
	e, err := NewEngine(Options{GoTemplate: true, Limits: l})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// Issue 7: hostile goTemplates ran out of memory or spun the CPU forever. Each now stops at
// one of the limits with ErrLimit (each case would exhaust memory or run for hours without it).
func TestTemplateLimits(t *testing.T) {
	e := goEngine(t, Limits{MaxOutput: 64 << 10, MaxIterations: 10_000})
	for name, src := range map[string]string{
		"until":             `{{ until 500000000 }}`,
		"until negative":    `{{ range until -500000000 }}{{ end }}`,
		"untilStep":         `{{ untilStep 0 500000000 1 }}`,
		"seq":               `{{ seq 500000000 }}`,
		"repeat":            `{{ repeat 500000000 "x" }}`,
		"indent":            `{{ indent 500000000 "x" }}`,
		"randAlpha":         `{{ randAlpha 500000000 }}`,
		"replace":           `{{ replace "" (repeat 300 "y") (repeat 300 "x") }}`,
		"nested range":      `{{ range until 100000 }}{{ range until 100000 }}{{ end }}{{ end }}`,
		"range over int":    `{{ range 2000000000 }}{{ end }}`,
		"recursion":         `{{ define "a" }}{{ if lt (len .) 40 }}{{ template "a" (append . 1) }}{{ template "a" (append . 1) }}{{ end }}{{ end }}{{ template "a" list }}`,
		"doubling string":   `{{ $s := "xx" }}{{ range until 60 }}{{ $s = print $s $s }}{{ end }}{{ $s }}`,
		"doubling printf":   `{{ $s := "xx" }}{{ range until 60 }}{{ $s = printf "%s%s" $s $s }}{{ end }}`,
		"doubling list":     `{{ $l := list 1 }}{{ range until 60 }}{{ $l = list $l $l }}{{ end }}{{ toJson $l }}`,
		"doubling concat":   `{{ $l := list 1 }}{{ range until 60 }}{{ $l = concat $l $l }}{{ end }}`,
		"cyclic dict":       `{{ $d := dict }}{{ $_ := set $d "self" $d }}{{ toJson $d }}`,
		"output":            `{{ repeat 30000 "xx" }}{{ repeat 30000 "xx" }}`,
		"output from range": `{{ range until 9000 }}xxxxxxxxxx{{ end }}`,
	} {
		t.Run(name, func(t *testing.T) {
			out, err := e.Replace(src, map[string]any{})
			if !errors.Is(err, ErrLimit) {
				t.Fatalf("got %d bytes, err = %v; want ErrLimit", len(out), err)
			}
			if !strings.Contains(err.Error(), "hubctl's template limit") {
				t.Errorf("err = %v", err)
			}
		})
	}
}

// Within the limits, output is text/template's and sprig's (the corpus tests in pkg/generate
// check it against Argo CD's own cases): ranges, recursion, the bounded functions.
func TestTemplateLimitsKeepOutput(t *testing.T) {
	e := goEngine(t, Limits{MaxOutput: 64 << 10, MaxIterations: 10_000})
	params := map[string]any{"list": []any{"a", "b"}, "m": map[string]any{"k": "v"}}
	for src, want := range map[string]string{
		`{{ range $i, $e := .list }}{{ $i }}={{ $e }},{{ end }}`:                             "0=a,1=b,",
		"{{- range .list }}\n  - {{ . }}\n{{- end }}":                                        "\n  - a\n  - b",
		`{{ range $k, $v := .m }}{{ $k }}{{ $v }}{{ else }}none{{ end }}`:                    "kv",
		`{{ range .missing }}x{{ else }}none{{ end }}`:                                       "none",
		`{{ range until 3 }}{{ if eq . 1 }}{{ continue }}{{ end }}{{ . }}{{ end }}`:          "02",
		`{{ define "x" }}[{{ . }}]{{ end }}{{ range until 2 }}{{ template "x" . }}{{ end }}`: "[0][1]",
		`{{ until 3 }} {{ untilStep 0 6 2 }} {{ seq 3 }} {{ repeat 3 "ab" }}`:                "[0 1 2] [0 2 4] 1 2 3 ababab",
		`{{ indent 2 "a\nb" }}|{{ nindent 1 "c" }}|{{ replace "a" "b" "aXa" }}`:              "  a\n  b|\n c|bXb",
		`{{ print 1 "a" 2 }}{{ printf "%03d" 7 }}{{ println "x" }}`:                          "1a2007x\n",
		`{{ $l := list 1 }}{{ range until 3 }}{{ $l = concat $l $l }}{{ end }}{{ len $l }}`:  "8",
		`{{ toJson (dict "a" (list 1 2)) }}`:                                                 `{"a":[1,2]}`,
	} {
		got, err := e.Replace(src, params)
		if err != nil || got != want {
			t.Errorf("%s: got %q, %v; want %q", src, got, err, want)
		}
	}
	// The error of a function keeps text/template's form; the defaults apply without Limits.
	_, err := goEngine(t, Limits{}).Replace(`{{ until 500000000 }}`, nil)
	if err == nil || !strings.Contains(err.Error(), "error calling until: hubctl's template limit: until of 500000000 elements exceeds 2Mi") {
		t.Errorf("until: %v", err)
	}
	_, err = e.Replace(`{{ range 2000000000 }}{{ end }}`, nil)
	if err == nil || !strings.Contains(err.Error(), "more than 10000 range iterations") {
		t.Errorf("range: %v", err)
	}
}
