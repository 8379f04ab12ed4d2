package action

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gitops-hub/gitops-hub/pkg/render/helm"
)

// Fetch limits come from hubctl.yaml's limits: block, flags override them, and the rest keep
// helm.DefaultLimits.
func TestFetchLimitsFromConfigAndFlags(t *testing.T) {
	dir := t.TempDir()
	cfg := "limits:\n  connectTimeout: 2s\n  httpTimeout: 1m\n  maxIndexSize: 1Mi\n"
	if err := os.WriteFile(filepath.Join(dir, "hubctl.yaml"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	r := &Render{CacheDir: t.TempDir(), Limits: FetchLimits{HTTPTimeout: "10s", MaxChartSize: "2Mi"}}
	opts, err := r.options(context.Background(), dir, os.DirFS(dir))
	if err != nil {
		t.Fatal(err)
	}
	want := helm.Limits{ConnectTimeout: 2 * time.Second, Timeout: 10 * time.Second, MaxIndexSize: 1 << 20, MaxChartSize: 2 << 20}
	if got := opts.Charts.Limits; got != want {
		t.Errorf("limits = %+v, want %+v", got, want)
	}
	r.Limits = FetchLimits{MaxIndexSize: "lots"}
	if _, err := r.options(context.Background(), dir, os.DirFS(dir)); err == nil || !strings.Contains(err.Error(), `maxIndexSize: "lots" is not a positive size`) {
		t.Errorf("bad flag: %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "hubctl.yaml"), []byte("limits:\n  httpTimeout: -1s\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r.Limits = FetchLimits{}
	if _, err := r.options(context.Background(), dir, os.DirFS(dir)); err == nil || !strings.Contains(err.Error(), "httpTimeout") {
		t.Errorf("bad config: %v", err)
	}
}

// Issue 7: a huge file under bootstrap/ or clusters/ made generate run out of memory; it is
// now an error naming the file (a sparse file: the test costs no disk and no time).
func TestGenerateHugeFiles(t *testing.T) {
	for _, name := range []string{"bootstrap/appset.yaml", "clusters/c1/cluster.yaml"} {
		dir := t.TempDir()
		if err := os.MkdirAll(filepath.Join(dir, "bootstrap"), 0o755); err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Truncate(p, 3<<30); err != nil {
			t.Fatal(err)
		}
		_, err := (&Generate{Repo: dir}).Run(context.Background())
		if err == nil || !strings.Contains(err.Error(), name) || !strings.Contains(err.Error(), "larger than 16 MiB") {
			t.Errorf("%s: err = %v", name, err)
		}
	}
}

// writeTree writes files under dir.
func writeTree(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// paramRepo is a repository with one Application of a chart of its own, whose
// helm.parameters entry is param.
func paramRepo(t *testing.T, param string) string {
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{
		"bootstrap/demo.yaml": `apiVersion: argoproj.io/v1alpha1
kind: ApplicationSet
metadata: {name: demo, namespace: argocd}
spec:
  generators:
  - list: {elements: [{n: x}]}
  template:
    metadata: {name: demo}
    spec:
      project: default
      destination: {name: in-cluster, namespace: demo}
      source:
        repoURL: https://git.example.test/repo.git
        path: charts/demo
        helm:
          parameters:
          - {name: "` + param + `", value: "1"}
`,
		"charts/demo/Chart.yaml":        "apiVersion: v2\nname: demo\nversion: 0.1.0\n",
		"charts/demo/values.yaml":       "a: [1]\n",
		"charts/demo/templates/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: demo}\ndata: {a: {{ .Values.a | toJson | quote }}}\n",
	})
	return dir
}

// Issue 7: `hubctl values` exited 0 and dropped a helm.parameters entry that makes `render`
// fail. Both now fail, with the same message; a good parameter works in both.
func TestValuesAndRenderAgreeOnParameters(t *testing.T) {
	run := func(dir string) (renderErr, valuesErr error) {
		r := Render{Generate: Generate{Repo: dir}, RepoURLs: []string{"https://git.example.test/repo.git"}, CacheDir: t.TempDir()}
		res, err := r.Run(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Results) != 1 {
			t.Fatalf("%d results", len(res.Results))
		}
		_, valuesErr = (&Values{Render: r, Cluster: "in-cluster", Addon: "demo"}).Run(context.Background())
		return res.Results[0].Err, valuesErr
	}
	renderErr, valuesErr := run(paramRepo(t, "a[0]x"))
	if renderErr == nil || valuesErr == nil {
		t.Fatalf("render: %v; values: %v; want both to fail", renderErr, valuesErr)
	}
	if renderErr.Error() != valuesErr.Error() {
		t.Errorf("render and values disagree:\n render: %v\n values: %v", renderErr, valuesErr)
	}
	if !strings.Contains(valuesErr.Error(), "Application demo") || !strings.Contains(valuesErr.Error(), "failed parsing --set data") {
		t.Errorf("values error %v should name the Application and be helm's", valuesErr)
	}
	if renderErr, valuesErr := run(paramRepo(t, "a[0]")); renderErr != nil || valuesErr != nil {
		t.Errorf("a valid parameter: render %v, values %v", renderErr, valuesErr)
	}
}

// FuzzParseConfig: no hubctl.yaml may panic; an accepted one has usable limits (run with
// `make fuzz`).
func FuzzParseConfig(f *testing.F) {
	f.Add("repoURLs: [https://git.example.test/r.git]\nchartMirrors:\n- {from: https://a.test, to: ./charts}\n")
	f.Add("limits: {connectTimeout: 1s, httpTimeout: 2m, maxIndexSize: 1Mi, maxChartSize: 100k}\n")
	f.Add("limits: {maxIndexSize: 1e100}\n")
	f.Add("limits: {httpTimeout: 9999999999h}\n")
	f.Add("kubeVersion: 1.35.0\napiVersions: [v1]\nunknown: 1\n")
	f.Add("chartMirrors: [{from: '', to: x}]\n")
	f.Add("&a [*a]")
	f.Fuzz(func(t *testing.T, data string) {
		if len(data) > 4096 {
			t.Skip()
		}
		cfg, err := ParseConfig("hubctl.yaml", []byte(data))
		if err != nil {
			if !strings.Contains(err.Error(), "hubctl.yaml") {
				t.Errorf("error %q does not name the file", err)
			}
			return
		}
		l, err := cfg.Limits.resolve(helm.DefaultLimits, "config")
		if err != nil || l.ConnectTimeout <= 0 || l.Timeout <= 0 || l.MaxIndexSize <= 0 || l.MaxChartSize <= 0 {
			t.Errorf("accepted config %q gives limits %+v, %v", data, l, err)
		}
	})
}

// chartAppSet is an ApplicationSet of one Application of chart demo 0.1.0 from repoURL.
func chartAppSet(repoURL string) string {
	return `apiVersion: argoproj.io/v1alpha1
kind: ApplicationSet
metadata: {name: demo, namespace: argocd}
spec:
  generators:
  - list: {elements: [{repo: "` + repoURL + `"}]}
  template:
    metadata: {name: demo}
    spec:
      project: default
      destination: {name: in-cluster, namespace: demo}
      source: {repoURL: '{{repo}}', chart: demo, targetRevision: 0.1.0}
`
}

// Issue 7: a chart repoURL without a scheme (from a cluster annotation, say) was read from the
// local disk. It fails for its Application, even when the folder exists.
func TestRenderRefusesChartRepoWithoutScheme(t *testing.T) {
	charts := t.TempDir()
	writeTree(t, charts, map[string]string{"index.yaml": "apiVersion: v1\nentries:\n  demo:\n  - {name: demo, version: 0.1.0, urls: [demo-0.1.0.tgz]}\n"})
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{"bootstrap/demo.yaml": chartAppSet(charts)})
	r := Render{Generate: Generate{Repo: dir}, CacheDir: t.TempDir()}
	res, err := r.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Results) != 1 {
		t.Fatalf("%d results", len(res.Results))
	}
	err = res.Results[0].Err
	if err == nil || !strings.Contains(err.Error(), "Application demo") || !strings.Contains(err.Error(), "only http://, https:// and oci:// URLs are chart repositories") {
		t.Errorf("err = %v", err)
	}
	// The same folder as a mirror's target is read (the package is missing from it).
	r.ChartMirrors = []string{"https://charts.example.test=" + charts}
	writeTree(t, dir, map[string]string{"bootstrap/demo.yaml": chartAppSet("https://charts.example.test")})
	res, err = r.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if err := res.Results[0].Err; err == nil || !strings.Contains(err.Error(), "demo-0.1.0.tgz") {
		t.Errorf("mirror: err = %v", err)
	}
}
