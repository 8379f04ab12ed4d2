package helm

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/repo"
	"sigs.k8s.io/yaml"

	"github.com/gitops-hub/gitops-hub/internal/testcharts"
)

const argoHelm = "https://argoproj.github.io/argo-helm"

// sharedCharts is the Helm repository folder of real upstream charts
// (index.yaml with relative URLs + the .tgz packages) named by
// $HUBCTL_CHARTS_DIR; without it the test is skipped (fails under
// HUBCTL_REQUIRE_REAL_CLUSTERS=1).
func sharedCharts(tb testing.TB) string {
	tb.Helper()
	return testcharts.Upstream(tb)
}

// repoServer serves dir as a Helm repository on 127.0.0.1 and counts the requests per path.
type repoServer struct {
	*httptest.Server
	mu    sync.Mutex
	paths map[string]int
	total atomic.Int64
}

func newRepoServer(tb testing.TB, dir string) *repoServer {
	tb.Helper()
	s := &repoServer{paths: map[string]int{}}
	fs := http.FileServer(http.Dir(dir))
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.total.Add(1)
		s.mu.Lock()
		s.paths[r.URL.Path]++
		s.mu.Unlock()
		fs.ServeHTTP(w, r)
	}))
	tb.Cleanup(s.Close)
	return s
}

func (s *repoServer) requests() int64 { return s.total.Load() }

func (s *repoServer) count(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.paths[path]
}

// closedURL returns an http URL on 127.0.0.1 where nothing listens.
func closedURL(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "http://" + addr
}

// docs splits a `helm template` stream into parsed, non-empty YAML documents.
func docs(t testing.TB, out []byte) []map[string]interface{} {
	t.Helper()
	var res []map[string]interface{}
	for _, d := range strings.Split("\n"+string(out), "\n---") {
		var m map[string]interface{}
		if err := yaml.Unmarshal([]byte(d), &m); err != nil {
			t.Fatalf("invalid YAML document in output: %v\n%s", err, d)
		}
		if len(m) > 0 {
			res = append(res, m)
		}
	}
	return res
}

func find(ds []map[string]interface{}, kind, name string) map[string]interface{} {
	for _, d := range ds {
		md, _ := d["metadata"].(map[string]interface{})
		if d["kind"] == kind && md != nil && md["name"] == name {
			return d
		}
	}
	return nil
}

func countKind(ds []map[string]interface{}, kind string) int {
	n := 0
	for _, d := range ds {
		if d["kind"] == kind {
			n++
		}
	}
	return n
}

func dig(m map[string]interface{}, path ...string) interface{} {
	var cur interface{} = m
	for _, p := range path {
		mm, ok := cur.(map[string]interface{})
		if !ok {
			return nil
		}
		cur = mm[p]
	}
	return cur
}

func loadShared(t testing.TB, name, version string) *chart.Chart {
	t.Helper()
	dir := sharedCharts(t)
	// A local folder is only reachable as a mirror.
	c := &Cache{Mirrors: []Mirror{{From: argoHelm, To: dir}}}
	ch, err := c.Load(context.Background(), ChartRef{RepoURL: argoHelm, Chart: name, Version: version})
	if err != nil {
		t.Fatal(err)
	}
	return ch
}

// Every chart version of the shared repository, loaded over HTTP (index.yaml with relative
// URLs, like `helm pull --repo`), renders with default values. The document counts are
// those of `helm template test <tgz> --namespace x` for these upstream packages (Helm
// v3.22.0 built with Kubernetes v1.37 capabilities, without --include-crds).
func TestLoadAndRenderEveryChartInIndex(t *testing.T) {
	dir := sharedCharts(t)
	srv := newRepoServer(t, dir)
	idx, err := repo.LoadIndexFile(filepath.Join(dir, "index.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{
		"argo-cd-6.6.0": 49, "argo-cd-10.1.1": 59, "crossplane-2.3.4": 23,
		"kube-prometheus-stack-88.5.3": 122, "backstage-2.8.2": 2, "ingress-nginx-4.15.1": 18,
		"aws-for-fluent-bit-0.2.0": 6,
	}
	cache := &Cache{Dir: t.TempDir()}
	seen := map[string]bool{}
	for name, versions := range idx.Entries {
		for _, cv := range versions {
			id := name + "-" + cv.Version
			t.Run(id, func(t *testing.T) {
				ch, err := cache.Load(context.Background(), ChartRef{RepoURL: srv.URL, Chart: name, Version: cv.Version})
				if err != nil {
					t.Fatal(err)
				}
				if got := chartID(ch); got != id {
					t.Fatalf("loaded %s, want %s", got, id)
				}
				out, err := Template(context.Background(), Request{Chart: ch, ReleaseName: "test", Namespace: "x", KubeVersion: "1.37.0", SkipCRDs: true})
				if err != nil {
					t.Fatal(err)
				}
				ds := docs(t, out)
				if w, ok := want[id]; ok && len(ds) != w {
					t.Errorf("%d documents, want %d (helm template test <tgz> --namespace x)", len(ds), w)
				}
				// And with this package's defaults (DefaultKubeVersion, CRDs included).
				out, err = Template(context.Background(), Request{Chart: ch, ReleaseName: name, Namespace: "ns-" + name})
				if err != nil {
					t.Fatal(err)
				}
				if len(docs(t, out)) == 0 {
					t.Fatal("no documents rendered")
				}
			})
			seen[id] = true
		}
	}
	// Other charts may be there too (they render above); these must.
	for id := range want {
		if !seen[id] {
			t.Errorf("index.yaml lacks %s", id)
		}
	}
}

func TestArgoCD10KnownObjects(t *testing.T) {
	dir := sharedCharts(t)
	srv := newRepoServer(t, dir)
	c := &Cache{}
	ch, err := c.Load(context.Background(), ChartRef{RepoURL: srv.URL, Chart: "argo-cd", Version: "10.1.1"})
	if err != nil {
		t.Fatal(err)
	}
	// Release "argocd": the chart's fullname is then "argocd" (nameOverride argocd).
	out, err := Template(context.Background(), Request{Chart: ch, ReleaseName: "argocd", Namespace: "argocd"})
	if err != nil {
		t.Fatal(err)
	}
	ds := docs(t, out)
	dep := find(ds, "Deployment", "argocd-server")
	if dep == nil {
		t.Fatalf("no Deployment argocd-server in output:\n%s", out)
	}
	if ns := dig(dep, "metadata", "namespace"); ns != "argocd" {
		t.Errorf("argocd-server namespace = %v, want argocd (the release namespace)", ns)
	}
	if r := dig(dep, "spec", "replicas"); r != float64(1) {
		t.Errorf("default replicas = %v, want 1", r)
	}
	if find(ds, "CustomResourceDefinition", "applications.argoproj.io") == nil {
		t.Error("no CRD applications.argoproj.io (CRDs are included unless SkipCRDs, like Argo CD's --include-crds)")
	}

	out, err = Template(context.Background(), Request{Chart: ch, ReleaseName: "argocd", Namespace: "argocd",
		Parameters: []Parameter{{Name: "server.replicas", Value: "2"}}})
	if err != nil {
		t.Fatal(err)
	}
	if r := dig(find(docs(t, out), "Deployment", "argocd-server"), "spec", "replicas"); r != float64(2) {
		t.Errorf("--set server.replicas=2: replicas = %v, want 2", r)
	}
}

func TestLoadMissingVersion(t *testing.T) {
	srv := newRepoServer(t, sharedCharts(t))
	_, err := (&Cache{}).Load(context.Background(), ChartRef{RepoURL: srv.URL, Chart: "argo-cd", Version: "99.9.9"})
	if err == nil {
		t.Fatal("no error for a version that does not exist")
	}
	for _, s := range []string{`"argo-cd"`, `"99.9.9"`, "not found", srv.URL, "10.1.1"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q does not mention %s", err, s)
		}
	}
	_, err = (&Cache{}).Load(context.Background(), ChartRef{RepoURL: srv.URL, Chart: "no-such-chart", Version: "1.0.0"})
	if err == nil || !strings.Contains(err.Error(), `"no-such-chart"`) {
		t.Errorf("missing chart: error %v does not name the chart", err)
	}
}

func TestLoadUnreachableRepository(t *testing.T) {
	u := closedURL(t)
	_, err := (&Cache{}).Load(context.Background(), ChartRef{RepoURL: u, Chart: "argo-cd", Version: "10.1.1"})
	if err == nil {
		t.Fatal("no error for an unreachable repository")
	}
	for _, s := range []string{u, "cannot be reached", `"argo-cd"`, `"10.1.1"`} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q does not mention %s", err, s)
		}
	}
}

// OCI goes through helm's registry client; here only the failure path can run offline.
func TestLoadUnreachableOCIRegistry(t *testing.T) {
	u := "oci://" + strings.TrimPrefix(closedURL(t), "http://") + "/charts"
	_, err := (&Cache{}).Load(context.Background(), ChartRef{RepoURL: u, Chart: "argo-cd", Version: "10.1.1"})
	if err == nil {
		t.Fatal("no error for an unreachable OCI registry")
	}
	for _, s := range []string{"OCI registry", u, `"argo-cd"`} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q does not mention %s", err, s)
		}
	}
}

func TestValuesFileNotYAMLNamesTheFile(t *testing.T) {
	ch := valuesChart(t)
	_, err := Template(context.Background(), Request{Chart: ch, ValueFiles: []ValueFile{
		{Name: "environments/default/addons/x/values.yaml", Data: []byte("a: 1\n")},
		{Name: "clusters/c1/addons/x/values.yaml", Data: []byte("a: [unclosed\n")},
	}})
	if err == nil {
		t.Fatal("no error for a values file that is not YAML")
	}
	if !strings.Contains(err.Error(), "clusters/c1/addons/x/values.yaml") {
		t.Errorf("error %q does not name the file", err)
	}
	if !strings.Contains(err.Error(), "values-0.1.0") {
		t.Errorf("error %q does not name the chart", err)
	}
	if strings.Contains(err.Error(), os.TempDir()) {
		t.Errorf("error %q leaks the temp path", err)
	}
}

// writeChart saves a chart to a temp dir with chartutil.SaveDir and loads it back as helm
// would load a chart directory.
func writeChart(t testing.TB, name string, values string, templates map[string]string) *chart.Chart {
	t.Helper()
	c := &chart.Chart{Metadata: &chart.Metadata{APIVersion: chart.APIVersionV2, Name: name, Version: "0.1.0", Type: "application"}}
	if values != "" {
		c.Raw = append(c.Raw, &chart.File{Name: chartutil.ValuesfileName, Data: []byte(values)})
		if err := yaml.Unmarshal([]byte(values), &c.Values); err != nil {
			t.Fatal(err)
		}
	}
	for n, body := range templates {
		c.Templates = append(c.Templates, &chart.File{Name: "templates/" + n, Data: []byte(body)})
	}
	dir := t.TempDir()
	if err := chartutil.SaveDir(c, dir); err != nil {
		t.Fatal(err)
	}
	loaded, err := loader.Load(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	return loaded
}

func TestTemplateFailingChart(t *testing.T) {
	ch := writeChart(t, "tiny", "", map[string]string{"fail.yaml": `{{ fail "boom: this chart refuses to render" }}`})
	_, err := Template(context.Background(), Request{Chart: ch})
	if err == nil {
		t.Fatal("no error from a template calling fail")
	}
	for _, s := range []string{"tiny-0.1.0", "boom: this chart refuses to render", "tiny/templates/fail.yaml"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q does not mention %s", err, s)
		}
	}
}

const valuesTemplate = `apiVersion: v1
kind: ConfigMap
metadata:
  name: values
  namespace: {{ .Release.Namespace }}
  labels:
    release: {{ .Release.Name }}
data:
  values.json: {{ .Values | toJson | quote }}
  kubeVersion: {{ .Capabilities.KubeVersion.Version | quote }}
  hasMonitoring: {{ .Capabilities.APIVersions.Has "monitoring.coreos.com/v1" | quote }}
  hasApps: {{ .Capabilities.APIVersions.Has "apps/v1" | quote }}
`

const chartValues = `a: chart
flag: false
list: [chart1, chart2]
nested:
  x: chart
  w: chart
  z: chart
`

// valuesChart prints the final .Values as JSON in a ConfigMap.
func valuesChart(t testing.TB) *chart.Chart {
	return writeChart(t, "values", chartValues, map[string]string{"cm.yaml": valuesTemplate})
}

func renderValues(t *testing.T, req Request) (map[string]interface{}, map[string]interface{}) {
	t.Helper()
	if req.Chart == nil {
		req.Chart = valuesChart(t)
	}
	out, err := Template(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	cm := find(docs(t, out), "ConfigMap", "values")
	if cm == nil {
		t.Fatalf("no ConfigMap in output:\n%s", out)
	}
	var v map[string]interface{}
	if err := json.Unmarshal([]byte(dig(cm, "data", "values.json").(string)), &v); err != nil {
		t.Fatal(err)
	}
	return v, cm
}

func vf(name, data string) ValueFile { return ValueFile{Name: name, Data: []byte(data)} }

// helm pkg/cli/values/options.go MergeValues: -f files in order, each merged into the
// previous ones (mergeMaps: maps recursively, anything else replaced); then coalesced with
// the chart's values.yaml (pkg/chartutil/coalesce.go). Argo CD passes helm.valueFiles as
// --values in order (util/helm/cmd.go template).
func TestPrecedence_ValueFilesInOrder_HelmMergeValues(t *testing.T) {
	v, _ := renderValues(t, Request{ValueFiles: []ValueFile{
		vf("default", "a: one\nnested: {x: one}\nlist: [one]\nonlyOne: 1\n"),
		vf("env", "a: two\nnested: {w: two}\n"),
		vf("cluster", "list: [three]\n"),
	}})
	want := map[string]interface{}{
		"a": "two", "flag": false, "list": []interface{}{"three"}, "onlyOne": float64(1),
		"nested": map[string]interface{}{"w": "two", "x": "one", "z": "chart"},
	}
	if !jsonEqual(v, want) {
		t.Errorf("values = %v, want %v", v, want)
	}
}

// MergeValues applies --set after every -f file.
func TestPrecedence_SetOverValueFiles_HelmMergeValues(t *testing.T) {
	v, _ := renderValues(t, Request{
		ValueFiles: []ValueFile{vf("f", "a: file\nnested: {x: file}\n")},
		Parameters: []Parameter{{Name: "a", Value: "set"}, {Name: "nested.w", Value: "set"}},
	})
	if v["a"] != "set" || dig(v, "nested", "x") != "file" || dig(v, "nested", "w") != "set" {
		t.Errorf("values = %v", v)
	}
}

// --set parses "true" as a bool (strvals.ParseInto); --set-string keeps it a string
// (strvals.ParseIntoString). Argo CD maps helm.parameters[].forceString to --set-string
// (reposerver/repository/repository.go helmTemplate) and util/helm/cmd.go emits every
// --set-string after every --set, so a forceString parameter wins over a plain one.
func TestPrecedence_SetStringKeepsString_HelmMergeValues(t *testing.T) {
	v, _ := renderValues(t, Request{Parameters: []Parameter{
		{Name: "flag", Value: "true"},
		{Name: "str", Value: "true", ForceString: true},
		{Name: "num", Value: "42"},
		{Name: "numStr", Value: "42", ForceString: true},
		{Name: "both", Value: "1", ForceString: true},
		{Name: "both", Value: "2"},
	}})
	if v["flag"] != true {
		t.Errorf("--set flag=true gave %#v, want bool true", v["flag"])
	}
	if v["str"] != "true" {
		t.Errorf("--set-string str=true gave %#v, want string \"true\"", v["str"])
	}
	if v["num"] != float64(42) || v["numStr"] != "42" {
		t.Errorf("num = %#v, numStr = %#v", v["num"], v["numStr"])
	}
	if v["both"] != "1" {
		t.Errorf("both = %#v, want the --set-string value \"1\" (applied after --set)", v["both"])
	}
}

// Argo CD's util/helm/cmd.go cleanSetParameters escapes commas, so a parameter value is a
// literal; a value written {a,b} stays a helm list. Repeated names keep the last value
// (templateOpts.Set is a map).
func TestPrecedence_ParameterValuesAreLiterals_ArgoCleanSetParameters(t *testing.T) {
	v, _ := renderValues(t, Request{Parameters: []Parameter{
		{Name: "csv", Value: "a,b"},
		{Name: "list", Value: "{x,y}"},
		{Name: "escaped", Value: `c\,d`},
		{Name: "a", Value: "first"},
		{Name: "a", Value: "last"},
	}})
	if v["csv"] != "a,b" {
		t.Errorf("csv = %#v, want \"a,b\"", v["csv"])
	}
	if !jsonEqual(v["list"], []interface{}{"x", "y"}) {
		t.Errorf("list = %#v, want [x y]", v["list"])
	}
	if v["escaped"] != "c,d" {
		t.Errorf("escaped = %#v, want \"c,d\"", v["escaped"])
	}
	if v["a"] != "last" {
		t.Errorf("a = %#v, want last", v["a"])
	}
}

// --set-file (strvals.ParseIntoFile) sets the file's content as a string, after --set and
// --set-string (MergeValues).
func TestPrecedence_SetFile_HelmMergeValues(t *testing.T) {
	v, _ := renderValues(t, Request{
		Parameters:     []Parameter{{Name: "cert", Value: "from-set"}, {Name: "other", Value: "x", ForceString: true}},
		FileParameters: []ValueFile{{Name: "cert", Data: []byte("-----BEGIN-----\nabc\n")}, {Name: "other", Data: []byte("true")}},
	})
	if v["cert"] != "-----BEGIN-----\nabc\n" {
		t.Errorf("cert = %#v", v["cert"])
	}
	if v["other"] != "true" {
		t.Errorf("other = %#v, want the file content as a string", v["other"])
	}
}

// reposerver/repository/repository.go helmTemplate writes helm.values/valuesObject to a temp
// file (templateOpts.ExtraValues) that util/helm/cmd.go appends after the valueFiles, so it
// wins over them but not over parameters.
func TestPrecedence_ValuesAfterValueFiles_ArgoExtraValues(t *testing.T) {
	v, _ := renderValues(t, Request{
		ValueFiles: []ValueFile{vf("f1", "a: file\nb: file\nc: file\nnested: {x: file}\n")},
		Values:     []byte("a: inline\nc: inline\nnested: {w: inline}\n"),
		Parameters: []Parameter{{Name: "c", Value: "set"}},
	})
	want := map[string]interface{}{"a": "inline", "b": "file", "c": "set"}
	for k, w := range want {
		if v[k] != w {
			t.Errorf("%s = %#v, want %#v", k, v[k], w)
		}
	}
	if dig(v, "nested", "x") != "file" || dig(v, "nested", "w") != "inline" || dig(v, "nested", "z") != "chart" {
		t.Errorf("nested = %v", v["nested"])
	}
}

// Argo CD passes --include-crds unless helm.skipCrds (util/helm/cmd.go template); helm then
// renders the crds/ directories (pkg/action/action.go renderResources, includeCrds).
func TestPrecedence_SkipCRDsDropsKubePrometheusStackCRDs(t *testing.T) {
	ch := loadShared(t, "kube-prometheus-stack", "88.5.3")
	with, err := Template(context.Background(), Request{Chart: ch, ReleaseName: "kps", Namespace: "monitoring"})
	if err != nil {
		t.Fatal(err)
	}
	without, err := Template(context.Background(), Request{Chart: ch, ReleaseName: "kps", Namespace: "monitoring", SkipCRDs: true})
	if err != nil {
		t.Fatal(err)
	}
	dw, dwo := docs(t, with), docs(t, without)
	if n := countKind(dw, "CustomResourceDefinition"); n != 10 {
		t.Errorf("%d CRDs with CRDs included, want 10 (132-122 documents with and without --include-crds)", n)
	}
	if find(dw, "CustomResourceDefinition", "prometheuses.monitoring.coreos.com") == nil {
		t.Error("CRD prometheuses.monitoring.coreos.com missing")
	}
	if n := countKind(dwo, "CustomResourceDefinition"); n != 0 {
		t.Errorf("%d CRDs with SkipCRDs, want 0", n)
	}
	if len(dw)-len(dwo) != 10 {
		t.Errorf("SkipCRDs dropped %d documents, want only the 10 CRDs", len(dw)-len(dwo))
	}
}

// cmd/helm/template.go prints hooks after the manifest and drops those with the test event
// (isTestHook) under --skip-tests; Argo CD passes --skip-tests for helm.skipTests.
func TestPrecedence_SkipTestsDropsTestHooks(t *testing.T) {
	ch := writeChart(t, "hooks", "", map[string]string{
		"cm.yaml":   "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: plain\n",
		"test.yaml": "apiVersion: v1\nkind: Pod\nmetadata:\n  name: a-test\n  annotations:\n    helm.sh/hook: test\n",
		"job.yaml":  "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: pre-install\n  annotations:\n    helm.sh/hook: pre-install\n",
	})
	out, err := Template(context.Background(), Request{Chart: ch})
	if err != nil {
		t.Fatal(err)
	}
	if find(docs(t, out), "Pod", "a-test") == nil || find(docs(t, out), "Job", "pre-install") == nil {
		t.Fatalf("hooks missing without SkipTests:\n%s", out)
	}
	out, err = Template(context.Background(), Request{Chart: ch, SkipTests: true})
	if err != nil {
		t.Fatal(err)
	}
	ds := docs(t, out)
	if find(ds, "Pod", "a-test") != nil {
		t.Error("test hook still rendered with SkipTests")
	}
	if find(ds, "Job", "pre-install") == nil || find(ds, "ConfigMap", "plain") == nil {
		t.Errorf("SkipTests dropped more than test hooks:\n%s", out)
	}

	// The real case: argo-cd's redis-ha subchart ships test hooks.
	argo := loadShared(t, "argo-cd", "10.1.1")
	req := Request{Chart: argo, ReleaseName: "argo-cd", Namespace: "argocd", Parameters: []Parameter{{Name: "redis-ha.enabled", Value: "true"}}}
	with, err := Template(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	req.SkipTests = true
	without, err := Template(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	// redis-ha uses Helm 2's "test-success", which Helm 3 reads as the test event.
	hook := []byte(`"helm.sh/hook": test-success`)
	if !bytes.Contains(with, hook) {
		t.Error("argo-cd with redis-ha: no test hook rendered")
	}
	if bytes.Contains(without, hook) {
		t.Error("argo-cd redis-ha test hooks: not dropped by SkipTests")
	}
}

// Argo CD's release name goes through --name-template; namespace, kube version (normalised
// like reposerver parseKubeVersion) and extra API versions reach .Release / .Capabilities.
func TestReleaseAndCapabilities(t *testing.T) {
	_, cm := renderValues(t, Request{})
	if dig(cm, "metadata", "labels", "release") != "release-name" || dig(cm, "metadata", "namespace") != "default" {
		t.Errorf("defaults: %v", cm["metadata"])
	}
	if dig(cm, "data", "kubeVersion") != "v"+DefaultKubeVersion || dig(cm, "data", "hasApps") != "true" || dig(cm, "data", "hasMonitoring") != "false" {
		t.Errorf("default capabilities: %v", cm["data"])
	}
	_, cm = renderValues(t, Request{ReleaseName: `{{ "rel" }}-x`, Namespace: "ns1", KubeVersion: "v1.33.4-eks-2a1b", APIVersions: []string{"monitoring.coreos.com/v1"}})
	if dig(cm, "metadata", "labels", "release") != "rel-x" || dig(cm, "metadata", "namespace") != "ns1" {
		t.Errorf("release: %v", cm["metadata"])
	}
	if dig(cm, "data", "kubeVersion") != "v1.33.4" || dig(cm, "data", "hasMonitoring") != "true" || dig(cm, "data", "hasApps") != "true" {
		t.Errorf("capabilities: %v", cm["data"])
	}
	if _, err := Template(context.Background(), Request{Chart: valuesChart(t), KubeVersion: "not-a-version"}); err == nil {
		t.Error("no error for an invalid kube version")
	}
}

// The Helm SDK's default capabilities (Kubernetes v1.20) are refused by argo-cd's
// kubeVersion; an explicit old version must fail the same way helm does.
func TestKubeVersionConstraintOfChart(t *testing.T) {
	ch := loadShared(t, "argo-cd", "10.1.1")
	_, err := Template(context.Background(), Request{Chart: ch, KubeVersion: "1.20.0"})
	if err == nil || !strings.Contains(err.Error(), "incompatible with Kubernetes v1.20.0") || !strings.Contains(err.Error(), "argo-cd-10.1.1") {
		t.Errorf("err = %v, want helm's kubeVersion incompatibility naming the chart", err)
	}
}

// Install.Run prunes disabled subcharts from the chart it is given
// (chartutil.ProcessDependencies); Template works on a copy so the cached chart stays whole,
// also when rendered concurrently.
func TestTemplateDoesNotModifyChart(t *testing.T) {
	ch := loadShared(t, "argo-cd", "10.1.1")
	ha := Request{Chart: ch, ReleaseName: "argo-cd", Namespace: "argocd", Parameters: []Parameter{{Name: "redis-ha.enabled", Value: "true"}}}
	first, err := Template(context.Background(), ha)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Template(context.Background(), Request{Chart: ch, ReleaseName: "argo-cd", Namespace: "argocd"}); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make([]error, 4)
	outs := make([][]byte, 4)
	for i := range outs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			outs[i], errs[i] = Template(context.Background(), ha)
		}()
	}
	wg.Wait()
	for i := range outs {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		if !bytes.Equal(outs[i], first) {
			t.Fatalf("render %d differs from the first render with redis-ha enabled", i)
		}
	}
	if len(ch.Dependencies()) != 1 || ch.Metadata.Dependencies[0].Enabled {
		t.Errorf("chart was modified: %d subcharts, enabled=%v", len(ch.Dependencies()), ch.Metadata.Dependencies[0].Enabled)
	}
}

func TestParseMirror(t *testing.T) {
	m, err := ParseMirror("https://argoproj.github.io/argo-helm=./charts")
	if err != nil || m != (Mirror{From: "https://argoproj.github.io/argo-helm", To: "./charts"}) {
		t.Errorf("got %+v, %v", m, err)
	}
	m, err = ParseMirror("https://a.example/charts=https://mirror.example/x?token=a=b")
	if err != nil || m.To != "https://mirror.example/x?token=a=b" {
		t.Errorf("split at the first '=': got %+v, %v", m, err)
	}
	for _, bad := range []string{"", "noequals", "=to", "from=", " = "} {
		if _, err := ParseMirror(bad); err == nil {
			t.Errorf("ParseMirror(%q): no error", bad)
		}
	}
}

// --chart-mirror to a local folder with index.yaml: no network at all.
func TestMirrorToLocalFolder(t *testing.T) {
	dir := sharedCharts(t)
	c := &Cache{Dir: t.TempDir(), Mirrors: []Mirror{{From: argoHelm, To: dir}}}
	ch, err := c.Load(context.Background(), ChartRef{RepoURL: argoHelm + "/", Chart: "argo-cd", Version: "10.1.1"})
	if err != nil {
		t.Fatal(err)
	}
	if chartID(ch) != "argo-cd-10.1.1" {
		t.Fatalf("loaded %s", chartID(ch))
	}
	// Local charts are not copied into the cache.
	if entries, _ := os.ReadDir(c.Dir); len(entries) != 0 {
		t.Errorf("cache dir has %d entries for a local mirror", len(entries))
	}

	// A folder of packages without index.yaml is indexed like `helm repo index`.
	bare := t.TempDir()
	for _, f := range []string{"argo-cd-6.6.0.tgz", "argo-cd-10.1.1.tgz"} {
		data, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(bare, f), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	c = &Cache{Mirrors: []Mirror{{From: argoHelm, To: bare}}}
	for _, tc := range []struct{ version, want string }{{"6.6.0", "argo-cd-6.6.0"}, {"10.*", "argo-cd-10.1.1"}, {">=1.0.0", "argo-cd-10.1.1"}} {
		ch, err := c.Load(context.Background(), ChartRef{RepoURL: argoHelm, Chart: "argo-cd", Version: tc.version})
		if err != nil {
			t.Fatalf("%s: %v", tc.version, err)
		}
		if chartID(ch) != tc.want {
			t.Errorf("%s: loaded %s, want %s", tc.version, chartID(ch), tc.want)
		}
	}
	_, err = c.Load(context.Background(), ChartRef{RepoURL: argoHelm, Chart: "argo-cd", Version: "7.0.0"})
	if err == nil || !strings.Contains(err.Error(), "mirror of "+argoHelm) || !strings.Contains(err.Error(), bare) {
		t.Errorf("error %v should name the folder and the mirrored URL", err)
	}
}

// --chart-mirror to an http(s) repository; the longest matching prefix wins and the rest of
// the URL is kept.
func TestMirrorToHTTP(t *testing.T) {
	dir := sharedCharts(t)
	parent := t.TempDir()
	if err := os.Symlink(dir, filepath.Join(parent, "argo-helm")); err != nil {
		t.Fatal(err)
	}
	srv := newRepoServer(t, parent)
	c := &Cache{Mirrors: []Mirror{
		{From: "https://argoproj.github.io", To: closedURL(t)},
		{From: argoHelm, To: srv.URL + "/argo-helm"},
	}}
	ch, err := c.Load(context.Background(), ChartRef{RepoURL: argoHelm, Chart: "argo-cd", Version: "6.6.0"})
	if err != nil {
		t.Fatal(err)
	}
	if chartID(ch) != "argo-cd-6.6.0" || srv.count("/argo-helm/index.yaml") != 1 || srv.count("/argo-helm/argo-cd-6.6.0.tgz") != 1 {
		t.Errorf("loaded %s with requests %v", chartID(ch), srv.paths)
	}
	// Prefix rewriting keeps the path below From.
	c = &Cache{Mirrors: []Mirror{{From: "https://argoproj.github.io", To: srv.URL}}}
	if _, err := c.Load(context.Background(), ChartRef{RepoURL: argoHelm, Chart: "argo-cd", Version: "10.1.1"}); err != nil {
		t.Fatal(err)
	}
	// A prefix only matches whole path segments.
	c = &Cache{Mirrors: []Mirror{{From: "https://argoproj.github.io/argo", To: srv.URL}}}
	src, err := c.resolve(argoHelm)
	if err != nil || src.loc != argoHelm {
		t.Errorf("resolve = %+v, %v; want no rewrite", src, err)
	}
	c = &Cache{Mirrors: []Mirror{{From: argoHelm, To: "oci://registry.example/mirror"}}}
	if src, err := c.resolve(argoHelm + "/sub"); err != nil || src.kind != kindOCI || src.loc != "oci://registry.example/mirror/sub" {
		t.Errorf("resolve to OCI = %+v, %v", src, err)
	}
}

// index.yaml may list absolute chart URLs (pkg/repo/chartrepo.go ResolveReferenceURL).
func TestIndexWithAbsoluteURLs(t *testing.T) {
	dir := sharedCharts(t)
	var base string
	mux := http.NewServeMux()
	mux.Handle("/packages/", http.StripPrefix("/packages/", http.FileServer(http.Dir(dir))))
	mux.HandleFunc("/repo/index.yaml", func(w http.ResponseWriter, r *http.Request) {
		data, err := os.ReadFile(filepath.Join(dir, "index.yaml"))
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		w.Write(bytes.ReplaceAll(data, []byte("- argo-cd-"), []byte("- "+base+"/packages/argo-cd-")))
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	base = srv.URL
	ch, err := (&Cache{}).Load(context.Background(), ChartRef{RepoURL: srv.URL + "/repo", Chart: "argo-cd", Version: "10.1.1"})
	if err != nil {
		t.Fatal(err)
	}
	if chartID(ch) != "argo-cd-10.1.1" {
		t.Errorf("loaded %s", chartID(ch))
	}
}

// Argo CD (newHelmClientResolveRevision + util/versions.MaxVersion) resolves a targetRevision
// that is not a version as a semver constraint: the highest matching version.
func TestLoadSemverConstraint(t *testing.T) {
	srv := newRepoServer(t, sharedCharts(t))
	c := &Cache{Dir: t.TempDir()}
	for _, tc := range []struct{ version, want string }{
		{"10.*", "argo-cd-10.1.1"}, {"6.6.*", "argo-cd-6.6.0"}, {">=1.0", "argo-cd-10.1.1"},
		{">=6.0.0, <7.0.0", "argo-cd-6.6.0"}, {"~6.6", "argo-cd-6.6.0"}, {"^10", "argo-cd-10.1.1"}, {"*", "argo-cd-10.1.1"},
	} {
		ch, err := c.Load(context.Background(), ChartRef{RepoURL: srv.URL, Chart: "argo-cd", Version: tc.version})
		if err != nil {
			t.Fatalf("%s: %v", tc.version, err)
		}
		if chartID(ch) != tc.want {
			t.Errorf("%s: loaded %s, want %s", tc.version, chartID(ch), tc.want)
		}
	}
	if srv.count("/index.yaml") != 1 {
		t.Errorf("index.yaml fetched %d times in one process, want 1", srv.count("/index.yaml"))
	}
	_, err := c.Load(context.Background(), ChartRef{RepoURL: srv.URL, Chart: "argo-cd", Version: ">=11"})
	if err == nil || !strings.Contains(err.Error(), `">=11"`) || !strings.Contains(err.Error(), `"argo-cd"`) {
		t.Errorf("unmatched constraint: %v", err)
	}
	_, err = c.Load(context.Background(), ChartRef{RepoURL: srv.URL, Chart: "argo-cd", Version: "main"})
	if err == nil || !strings.Contains(err.Error(), "invalid revision") {
		t.Errorf("invalid revision: %v", err)
	}

	// A new process re-resolves the constraint (index.yaml again) but does not download the
	// package again.
	before := srv.count("/argo-cd-10.1.1.tgz")
	c2 := &Cache{Dir: c.Dir}
	if _, err := c2.Load(context.Background(), ChartRef{RepoURL: srv.URL, Chart: "argo-cd", Version: "10.*"}); err != nil {
		t.Fatal(err)
	}
	if srv.count("/index.yaml") != 2 || srv.count("/argo-cd-10.1.1.tgz") != before {
		t.Errorf("requests after a new Cache: %v", srv.paths)
	}
}

func TestCacheLoadsOncePerProcessAndOnDisk(t *testing.T) {
	dir := sharedCharts(t)
	srv := newRepoServer(t, dir)
	cacheDir := t.TempDir()
	ref := ChartRef{RepoURL: srv.URL, Chart: "argo-cd", Version: "10.1.1"}

	c := &Cache{Dir: cacheDir}
	// Concurrent callers share one fetch.
	var wg sync.WaitGroup
	charts := make([]*chart.Chart, 8)
	errs := make([]error, 8)
	for i := range charts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			charts[i], errs[i] = c.Load(context.Background(), ref)
		}()
	}
	wg.Wait()
	for i := range charts {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		if charts[i] != charts[0] {
			t.Error("concurrent loads returned different charts")
		}
	}
	if srv.count("/index.yaml") != 1 || srv.count("/argo-cd-10.1.1.tgz") != 1 {
		t.Fatalf("requests: %v, want index.yaml and the package once", srv.paths)
	}

	// Second Load: no HTTP request.
	n := srv.requests()
	again, err := c.Load(context.Background(), ref)
	if err != nil {
		t.Fatal(err)
	}
	if again != charts[0] || srv.requests() != n {
		t.Errorf("second Load made %d requests", srv.requests()-n)
	}

	// Content-addressed store: sha256 of the .tgz, the digest index.yaml lists.
	tgz, err := os.ReadFile(filepath.Join(dir, "argo-cd-10.1.1.tgz"))
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(tgz)
	digest := hex.EncodeToString(sum[:])
	blob, err := os.ReadFile(filepath.Join(cacheDir, "blobs", "sha256", digest+".tgz"))
	if err != nil || !bytes.Equal(blob, tgz) {
		t.Fatalf("blob for sha256:%s: %v", digest, err)
	}
	if !strings.Contains(mustRead(t, filepath.Join(dir, "index.yaml")), digest) {
		t.Errorf("sha256 %s is not the digest index.yaml lists", digest)
	}
	refs, _ := filepath.Glob(filepath.Join(cacheDir, "refs", "*.json"))
	if len(refs) != 1 || !strings.Contains(mustRead(t, refs[0]), `"digest": "sha256:`+digest+`"`) {
		t.Errorf("refs = %v", refs)
	}
	if tmp, _ := filepath.Glob(filepath.Join(cacheDir, "*", ".tmp-*")); len(tmp) != 0 {
		t.Errorf("temp files left: %v", tmp)
	}

	// A new Cache (a new process) on the same Dir: no request at all.
	n = srv.requests()
	c2 := &Cache{Dir: cacheDir}
	ch, err := c2.Load(context.Background(), ref)
	if err != nil {
		t.Fatal(err)
	}
	if srv.requests() != n || chartID(ch) != "argo-cd-10.1.1" {
		t.Errorf("new Cache on the same Dir made %d requests", srv.requests()-n)
	}
	// ... even with the repository gone.
	srv.Close()
	if _, err := (&Cache{Dir: cacheDir}).Load(context.Background(), ref); err != nil {
		t.Errorf("offline load from the disk cache: %v", err)
	}

	// A corrupted blob is not trusted: it is downloaded again.
	srv2 := newRepoServer(t, dir)
	ref2 := ChartRef{RepoURL: srv2.URL, Chart: "crossplane", Version: "2.3.4"}
	if _, err := (&Cache{Dir: cacheDir}).Load(context.Background(), ref2); err != nil {
		t.Fatal(err)
	}
	xp, _ := os.ReadFile(filepath.Join(dir, "crossplane-2.3.4.tgz"))
	xsum := sha256.Sum256(xp)
	if err := os.WriteFile(filepath.Join(cacheDir, "blobs", "sha256", hex.EncodeToString(xsum[:])+".tgz"), []byte("garbage"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := (&Cache{Dir: cacheDir}).Load(context.Background(), ref2); err != nil {
		t.Fatal(err)
	}
	if srv2.count("/crossplane-2.3.4.tgz") != 2 {
		t.Errorf("corrupted blob: package fetched %d times, want 2", srv2.count("/crossplane-2.3.4.tgz"))
	}
}

func TestLoadCanceledContext(t *testing.T) {
	srv := newRepoServer(t, sharedCharts(t))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := (&Cache{}).Load(ctx, ChartRef{RepoURL: srv.URL, Chart: "argo-cd", Version: "10.1.1"})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}

// When a helm binary is available (HELM_BIN or helm on PATH), Template must print exactly
// what `helm template` prints, for every shared chart, with the flags Argo CD passes.
func TestMatchesHelmCLI(t *testing.T) {
	bin := os.Getenv("HELM_BIN")
	if bin == "" {
		var err error
		if bin, err = exec.LookPath("helm"); err != nil {
			t.Skip("no helm binary (set HELM_BIN to compare with `helm template`)")
		}
	}
	dir := sharedCharts(t)
	idx, err := repo.LoadIndexFile(filepath.Join(dir, "index.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	vals := filepath.Join(tmp, "values.yaml")
	valsData := []byte("commonLabels: {team: platform}\n")
	inline := filepath.Join(tmp, "inline.yaml")
	inlineData := []byte("global: {domain: argocd.example.com}\n")
	file := filepath.Join(tmp, "note.txt")
	fileData := []byte("hello, world\n")
	for _, f := range []struct {
		p string
		b []byte
	}{{vals, valsData}, {inline, inlineData}, {file, fileData}} {
		if err := os.WriteFile(f.p, f.b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// grafana (in kube-prometheus-stack) generates a random admin password unless one is set.
	fixed := Parameter{Name: "grafana.adminPassword", Value: "fixed"}
	variants := []struct {
		name string
		args []string
		req  Request
	}{
		{"argo-flags", []string{"--set", "a.b=1", "--set", "grafana.adminPassword=fixed", "--set-string", "c=true",
			"--values", vals, "--values", inline, "--api-versions", "monitoring.coreos.com/v1", "--include-crds"},
			Request{KubeVersion: "1.35.0", APIVersions: []string{"monitoring.coreos.com/v1"},
				Parameters: []Parameter{{Name: "a.b", Value: "1"}, fixed, {Name: "c", Value: "true", ForceString: true}},
				ValueFiles: []ValueFile{{Name: "values.yaml", Data: valsData}}, Values: inlineData}},
		{"skip-flags", []string{"--set", "grafana.adminPassword=fixed", "--set-file", "note=" + file, "--skip-tests", "--skip-schema-validation"},
			Request{KubeVersion: "1.33.0", SkipCRDs: true, SkipTests: true, SkipSchemaValidation: true,
				Parameters: []Parameter{fixed}, FileParameters: []ValueFile{{Name: "note", Data: fileData}}}},
	}
	for name, versions := range idx.Entries {
		for _, cv := range versions {
			for _, v := range variants {
				t.Run(name+"-"+cv.Version+"/"+v.name, func(t *testing.T) {
					tgz := filepath.Join(dir, cv.URLs[0])
					args := append([]string{"template", tgz, "--name-template", name, "--namespace", "ns", "--kube-version", v.req.KubeVersion}, v.args...)
					cmd := exec.Command(bin, args...)
					cmd.Env = append(os.Environ(), "HELM_CACHE_HOME="+t.TempDir(), "HELM_CONFIG_HOME="+t.TempDir(), "HELM_DATA_HOME="+t.TempDir())
					var stderr bytes.Buffer
					cmd.Stderr = &stderr
					want, err := cmd.Output()
					if err != nil {
						t.Fatalf("helm %v: %v\n%s", args, err, stderr.String())
					}
					req := v.req
					req.Chart, req.ReleaseName, req.Namespace = loadShared(t, name, cv.Version), name, "ns"
					got, err := Template(context.Background(), req)
					if err != nil {
						t.Fatal(err)
					}
					if !bytes.Equal(got, want) {
						t.Errorf("output differs from `helm %s` (%d vs %d bytes)%s", strings.Join(args, " "), len(got), len(want), firstDiff(got, want))
					}
				})
			}
		}
	}
}

func firstDiff(a, b []byte) string {
	al, bl := strings.Split(string(a), "\n"), strings.Split(string(b), "\n")
	for i := 0; i < len(al) && i < len(bl); i++ {
		if al[i] != bl[i] {
			return fmt.Sprintf("\nline %d:\n got: %s\nwant: %s", i+1, al[i], bl[i])
		}
	}
	return fmt.Sprintf("\n%d vs %d lines", len(al), len(bl))
}

func mustRead(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func jsonEqual(a, b interface{}) bool {
	ja, err1 := json.Marshal(a)
	jb, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && bytes.Equal(ja, jb)
}

// BenchmarkTemplate renders argo-cd 10.1.1 with default values (the chart loaded once).
func BenchmarkTemplate(b *testing.B) {
	ch := loadShared(b, "argo-cd", "10.1.1")
	req := Request{Chart: ch, ReleaseName: "argo-cd", Namespace: "argocd"}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := Template(context.Background(), req); err != nil {
			b.Fatal(err)
		}
	}
}
