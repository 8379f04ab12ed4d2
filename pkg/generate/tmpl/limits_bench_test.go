package tmpl

import (
	"strings"
	"testing"
	"text/template"
)

const limitsBenchSrc = `{{ .name | lower | trunc 20 }}-{{ printf "%s-%d" .env 3 }}-{{ list .a .b | join "," }}{{ range $k, $v := .labels }}{{ $k }}={{ $v | quote }}{{ end }}`

var limitsBenchParams = map[string]any{"name": "Cluster-A", "env": "prod", "a": "x", "b": "y", "labels": map[string]any{"l1": "v1", "l2": "v2"}}

// The cost of the limits (bounded functions, loop counter) over plain text/template + sprig:
//
//	go test -run '^$' -bench 'BenchmarkRender(Bounded|Unbounded)' ./pkg/generate/tmpl/
func BenchmarkRenderBounded(b *testing.B) {
	e, _ := NewEngine(Options{GoTemplate: true})
	t, err := e.Compile(limitsBenchSrc)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := t.Render(limitsBenchParams); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRenderUnbounded(b *testing.B) {
	t := template.Must(template.New("base").Funcs(FuncMap()).Parse(limitsBenchSrc))
	for b.Loop() {
		var sb strings.Builder
		if err := t.Execute(&sb, limitsBenchParams); err != nil {
			b.Fatal(err)
		}
	}
}
