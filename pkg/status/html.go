package status

import (
	"html/template"
	"io"
	"sort"
	"strconv"
	"strings"
)

// HTMLGenerator marks the pages WriteHTML writes (a meta generator tag).
const HTMLGenerator = `<meta name="generator" content="hubctl status">`

// The page is self-contained: inline CSS and script, no external asset, so it
// opens from a file, an artifact store or a mail attachment.
var pageTemplate = template.Must(template.New("status").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="generator" content="hubctl status">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Fleet status{{if .Hub}} · {{.Hub}}{{end}}</title>
<style>
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:1.5rem;color:#1d2733;background:#f7f8fa}
h1{font-size:1.4rem;margin:0 0 .3rem}h2{font-size:1.1rem;margin:1.5rem 0 .5rem}
.summary{margin:0 0 1rem;color:#455}
table{border-collapse:collapse;background:#fff;box-shadow:0 1px 2px rgba(0,0,0,.08)}
th,td{border:1px solid #dde1e6;padding:.35rem .6rem;text-align:left;vertical-align:top;font-size:.9rem}
th{background:#eef1f4;font-weight:600}
td.cell{cursor:pointer;min-width:7rem}
td.cell:hover,td.cell:focus{outline:2px solid #3b6fd8;outline-offset:-2px}
td.cell .state{display:block;font-size:.75rem;color:#555}
.ok{background:#e6f4ea}.warn{background:#fff4d6}.bad{background:#fde2e1}.none{color:#aab}
ul.problems{list-style:none;padding:0;margin:0}
ul.problems li{margin:.25rem 0}
button.app{font:inherit;border:1px solid #c9ced6;border-radius:4px;padding:.2rem .5rem;cursor:pointer}
#details{position:fixed;right:1rem;top:1rem;width:min(32rem,45vw);max-height:90vh;overflow:auto;background:#fff;border:1px solid #c9ced6;border-radius:6px;padding:1rem;box-shadow:0 4px 16px rgba(0,0,0,.15)}
#details[hidden]{display:none}
#details dl{display:grid;grid-template-columns:max-content 1fr;gap:.2rem .8rem;margin:0}
#details dt{font-weight:600}#details dd{margin:0;word-break:break-word}
#details pre{white-space:pre-wrap;margin:.2rem 0;font-size:.8rem;background:#f4f5f7;padding:.3rem .4rem;border-radius:3px}
#close{float:right}
#clients th{white-space:nowrap}
</style>
</head>
<body>
<h1>Fleet status{{if .Hub}} · {{.Hub}}{{end}}</h1>
<p class="summary" id="summary">{{.Ready}}/{{.Total}} Applications Synced and Healthy</p>
{{if or .Problems .Unavailable}}<h2>Problems</h2>
<ul class="problems" id="problems">{{range .Problems}}
<li><button class="app {{.Class}}" data-detail="{{.ID}}">{{.App.Name}}</button> {{.Where}}: {{.State}}</li>{{end}}{{range .Unavailable}}
<li class="unavailable bad" data-cluster="{{.Cluster}}">{{.Error}}</li>{{end}}
</ul>{{end}}
<h2>Clusters × addons</h2>
<table id="matrix">
<thead><tr><th>cluster</th><th>environment</th>{{range .Addons}}<th>{{.}}</th>{{end}}</tr></thead>
<tbody>{{range .Rows}}
<tr data-cluster="{{.Name}}"><th>{{.Name}}</th><td>{{.Environment}}</td>{{range .Cells}}{{if .ID}}<td class="cell {{.Class}}" tabindex="0" data-detail="{{.ID}}" data-app="{{.App.Name}}">{{.Version}}<span class="state">{{.Short}}</span></td>{{else}}<td class="none">-</td>{{end}}{{end}}</tr>{{end}}
</tbody>
</table>
{{if .Others}}<h2>Applications no ApplicationSet generated</h2>
<table id="others">
<thead><tr><th>application</th><th>cluster</th><th>sync</th><th>health</th><th>version</th></tr></thead>
<tbody>{{range .Others}}
<tr><td class="cell {{.Class}}" tabindex="0" data-detail="{{.ID}}" data-app="{{.App.Name}}">{{.App.Name}}</td><td>{{.App.Cluster}}</td><td>{{.App.Sync}}</td><td>{{.App.Health}}</td><td>{{.Version}}</td></tr>{{end}}
</tbody>
</table>{{end}}{{if .Clients}}
<h2>Client Argo CD on the hosting clusters</h2>
<p class="summary" id="clients-summary">{{.ClientSummary}}</p>
<table id="clients">
<thead><tr><th>cluster</th><th>application</th><th>sync</th><th>health</th><th>version</th></tr></thead>
<tbody>{{range .Clients}}{{$c := .}}{{range .Apps}}
<tr data-cluster="{{$c.Name}}"><th>{{$c.Name}}</th><td class="cell {{.Class}}" tabindex="0" data-detail="{{.ID}}" data-app="{{.App.Name}}">{{.App.Name}}</td><td>{{.App.Sync}}</td><td>{{.App.Health}}</td><td>{{.Version}}</td></tr>{{else}}
<tr data-cluster="{{$c.Name}}"><th>{{$c.Name}}</th><td class="{{$c.Class}}" colspan="4">{{$c.Message}}</td></tr>{{end}}{{end}}
</tbody>
</table>{{end}}
{{range .Warnings}}<p class="warn">Warning: {{.}}</p>{{end}}
<aside id="details" hidden aria-live="polite"><button id="close" type="button">close</button><div id="details-body"></div></aside>
<div hidden>{{range .Details}}
<section class="detail" id="{{.ID}}"><h2>{{.App.Name}}</h2>
<dl><dt>cluster</dt><dd>{{.App.Cluster}}</dd><dt>environment</dt><dd>{{.App.Environment}}</dd><dt>addon</dt><dd>{{.App.Addon}}</dd><dt>ApplicationSet</dt><dd>{{.App.ApplicationSet}}</dd><dt>sync</dt><dd>{{.App.Sync}}</dd><dt>health</dt><dd>{{.App.Health}}</dd><dt>last operation</dt><dd>{{.App.Operation}}</dd><dt>version synced</dt><dd>{{.App.Version}}</dd><dt>target version</dt><dd>{{.App.TargetVersion}}</dd></dl>
{{if .App.Messages}}<h3>Messages</h3>{{range .App.Messages}}<pre>{{.}}</pre>{{end}}{{end}}
</section>{{end}}
</div>
<script>
(function(){
  var panel=document.getElementById('details'),body=document.getElementById('details-body');
  function show(id){var s=document.getElementById(id);if(!s)return;body.innerHTML='';body.appendChild(s.cloneNode(true));body.firstChild.removeAttribute('id');panel.hidden=false;}
  document.addEventListener('click',function(e){var t=e.target.closest('[data-detail]');if(t){show(t.getAttribute('data-detail'));}});
  document.addEventListener('keydown',function(e){if(e.key==='Escape'){panel.hidden=true;}else if(e.key==='Enter'&&e.target.getAttribute&&e.target.getAttribute('data-detail')){show(e.target.getAttribute('data-detail'));}});
  document.getElementById('close').addEventListener('click',function(){panel.hidden=true;});
})();
</script>
</body>
</html>
`))

type pageApp struct {
	App     App
	ID      string
	Class   string
	Version string
	Short   string
	Where   string
	State   string
}

type pageRow struct {
	Name, Environment string
	Cells             []*pageApp
	bad               int
}

// pageClient is one hosting cluster of the client view.
type pageClient struct {
	Name, Class, Message string
	Apps                 []*pageApp
}

type page struct {
	Hub          string
	Ready, Total int
	Addons       []string
	Rows         []pageRow
	Problems     []*pageApp
	Others       []*pageApp
	Details      []*pageApp
	Warnings     []string
	// The client view, when it was read.
	Clients       []pageClient
	ClientSummary string
	Unavailable   []ClientArgoCD
}

// class is the cell colour: ok (Synced and Healthy), warn (on its way:
// Progressing or an operation running), bad (anything else).
func class(a App) string {
	switch {
	case a.Ready():
		return "ok"
	case a.Sync == "Synced" && a.Health == "Progressing", a.Operation == "Running":
		return "warn"
	}
	return "bad"
}

// WriteHTML writes the fleet as a self-contained HTML page: the problems
// first, then the matrix (the clusters with problems first), the
// Applications no ApplicationSet generated, and each Application's details
// shown when its cell is clicked.
func WriteHTML(w io.Writer, f *Fleet) error {
	ready, total := f.Summary()
	p := page{Hub: f.Hub, Ready: ready, Total: total, Addons: f.Addons, Warnings: f.Warnings}
	byName := map[string]*pageApp{}
	for i, a := range f.Apps {
		pa := &pageApp{App: a, ID: "app-" + strconv.Itoa(i), Class: class(a), Version: versionText(a), Where: Where(a), State: StateText(a)}
		pa.Short = orDefault(a.Sync, "Unknown") + "/" + orDefault(a.Health, "Unknown")
		if a.Operation != "" && a.Operation != "Succeeded" {
			pa.Short += " op:" + a.Operation
		}
		byName[a.Name] = pa
		p.Details = append(p.Details, pa)
		if !a.Ready() {
			p.Problems = append(p.Problems, pa)
		}
		if a.Addon == "" {
			p.Others = append(p.Others, pa)
		}
	}
	for i, c := range f.Clients {
		pc := pageClient{Name: c.Cluster, Class: "none", Message: clientCell(c)}
		switch c.State {
		case ClientUnavailable:
			pc.Class, pc.Message = "bad", "unavailable: "+c.Error
			p.Unavailable = append(p.Unavailable, c)
		case ClientNotInstalled:
			pc.Message = c.Error
		}
		for j, a := range c.Apps {
			pa := &pageApp{App: a, ID: "client-" + strconv.Itoa(i) + "-" + strconv.Itoa(j), Class: class(a), Version: versionText(a), Where: clientWhere(c, a), State: StateText(a)}
			pc.Apps = append(pc.Apps, pa)
			p.Details = append(p.Details, pa)
			if !a.Ready() {
				p.Problems = append(p.Problems, pa)
			}
		}
		p.Clients = append(p.Clients, pc)
	}
	if s := f.ClientSummary(); s != nil {
		p.ClientSummary = s.Text()
	}
	for _, c := range f.Clusters {
		r := pageRow{Name: c.Name, Environment: orDefault(c.Environment, "-")}
		for _, addon := range f.Addons {
			a, ok := f.Cell(c.Name, addon)
			if !ok {
				r.Cells = append(r.Cells, &pageApp{})
				continue
			}
			if !a.Ready() {
				r.bad++
			}
			r.Cells = append(r.Cells, byName[a.Name])
		}
		p.Rows = append(p.Rows, r)
	}
	sort.SliceStable(p.Rows, func(i, j int) bool {
		if (p.Rows[i].bad > 0) != (p.Rows[j].bad > 0) {
			return p.Rows[i].bad > 0
		}
		return strings.Compare(p.Rows[i].Name, p.Rows[j].Name) < 0
	})
	return pageTemplate.Execute(w, p)
}
