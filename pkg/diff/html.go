package diff

import (
	"html/template"
	"io"
	"strings"
)

// htmlPage is one self-contained page: inline style, no script, no external
// asset; html/template escapes every value.
var htmlPage = template.Must(template.New("diff").Funcs(template.FuncMap{
	"short": ShortRev,
	"lines": func(s string) []string { return strings.SplitAfter(strings.TrimSuffix(s, "\n"), "\n") },
	"class": func(l string) string {
		switch {
		case strings.HasPrefix(l, "+++"), strings.HasPrefix(l, "---"):
			return "h"
		case strings.HasPrefix(l, "+"):
			return "a"
		case strings.HasPrefix(l, "-"):
			return "r"
		case strings.HasPrefix(l, "@@"):
			return "h"
		}
		return ""
	},
	"objectLabel": func(o *ObjectDiff, a *AppDiff) string { return o.label(a) },
	"appLabel":    func(a *AppDiff) string { return a.label() },
	"objects": func(a *AppDiff) []*ObjectDiff {
		if a.RenamedFrom != "" {
			return a.RenameObjects
		}
		return a.Objects
	},
	"showDiff": func(a *AppDiff) bool { return a.RenamedTo == "" },
}).Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>hubctl diff {{short .R.Base}}..{{short .R.Head}}</title>
<style>
body{font-family:system-ui,sans-serif;margin:1.5em;color:#1f2328}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #d0d7de;padding:.25em .6em;text-align:left}
td.t{background:#fff8c5}.warn{background:#ffebe9;border-left:4px solid #cf222e;padding:.5em 1em}
pre{background:#f6f8fa;padding:.5em;overflow-x:auto;font-size:12px;line-height:1.35}
pre span{display:block}span.a{background:#dafbe1}span.r{background:#ffebe9}span.h{color:#6e7781}
details{margin:.5em 0}summary{cursor:pointer;font-weight:600}h3{margin:.8em 0 .3em}
</style></head><body>
<h1>hubctl diff <code>{{short .R.Base}}</code>..<code>{{short .R.Head}}</code></h1>
<p>{{.Headline}}</p>
{{with .Warnings}}<div class="warn"><ul>{{range .}}<li>{{.}}</li>{{end}}</ul></div>{{end}}
{{if .M.Clusters}}<table><tr><th>cluster</th>{{range .M.Addons}}<th>{{.}}</th>{{end}}</tr>
{{range $c := .M.Clusters}}<tr><td>{{$c}}</td>{{range $a := $.M.Addons}}{{$cell := $.M.Cell $c $a}}<td{{if $.Touched $c $a}} class="t"{{end}}>{{$cell}}</td>{{end}}</tr>
{{end}}</table><p>Applications: + added, - removed, ~ changed, = unchanged.</p>{{end}}
{{range .Clusters}}<details open><summary>cluster {{.Name}}</summary>
{{range $a := .Apps}}<h3>{{$a.Name}} <small>({{$a.AppSet}}): {{appLabel $a}}</small></h3>
{{with $a.SpecDiff}}<pre>{{range lines .}}<span class="{{class .}}">{{.}}</span>{{end}}</pre>{{end}}
{{range $o := objects $a}}<details><summary>{{$o.ID}}: {{objectLabel $o $a}}</summary>{{if showDiff $a}}<pre>{{range lines $o.Diff}}<span class="{{class .}}">{{.}}</span>{{end}}</pre>{{end}}</details>
{{end}}{{end}}</details>
{{end}}</body></html>
`))

type htmlCluster struct {
	Name string
	Apps []*AppDiff
}

type htmlData struct {
	R        *Report
	M        *Matrix
	Headline string
	Warnings []string
	Clusters []htmlCluster
}

// Touched reports whether the cell changed (for its highlight).
func (d htmlData) Touched(cluster, addon string) bool {
	c := d.M.Cells[cluster][addon]
	return c != nil && c.Touched()
}

// WriteHTML writes the report as one self-contained HTML page.
func (r *Report) WriteHTML(w io.Writer) error {
	d := htmlData{R: r, M: r.Matrix(), Headline: r.headline(), Warnings: r.warnings()}
	order, groups := r.byCluster()
	for _, c := range order {
		d.Clusters = append(d.Clusters, htmlCluster{Name: c, Apps: groups[c]})
	}
	return htmlPage.Execute(w, d)
}
