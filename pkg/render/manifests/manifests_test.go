package manifests

import (
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"testing"
	"testing/fstest"

	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/gitops-hub/gitops-hub/pkg/apis/argocd/v1alpha1"
)

// Test names cite the upstream code they pin: argoproj/argo-cd
// reposerver/repository/repository.go (findManifests, getObjsFromYAMLOrJSON,
// GenerateManifests) and util/kustomize/kustomize.go (Build and its
// apply* steps).

func file(s string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(s)} }

func cm(name string) string {
	return "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: " + name + "\n"
}

// names returns "Kind/name" of every object, in order.
func names(objs []map[string]any) []string {
	var out []string
	for _, o := range objs {
		md, _ := o["metadata"].(map[string]any)
		out = append(out, o["kind"].(string)+"/"+md["name"].(string))
	}
	return out
}

func find(t *testing.T, objs []map[string]any, kind, name string) map[string]any {
	t.Helper()
	for _, o := range objs {
		md, _ := o["metadata"].(map[string]any)
		if o["kind"] == kind && md["name"] == name {
			return o
		}
	}
	t.Fatalf("no %s/%s in %v", kind, name, names(objs))
	return nil
}

func get(o map[string]any, path ...any) any {
	var cur any = o
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, ok := cur.(map[string]any)
			if !ok {
				return nil
			}
			cur = m[k]
		case int:
			l, ok := cur.([]any)
			if !ok || k >= len(l) {
				return nil
			}
			cur = l[k]
		}
	}
	return cur
}

func mustDir(t *testing.T, fsys fstest.MapFS, dir string, opts *v1alpha1.ApplicationSourceDirectory) []map[string]any {
	t.Helper()
	objs, err := Directory(fsys, dir, opts)
	if err != nil {
		t.Fatalf("Directory(%s): %v", dir, err)
	}
	return objs
}

func wantNames(t *testing.T, objs []map[string]any, want ...string) {
	t.Helper()
	if got := names(objs); !reflect.DeepEqual(got, want) {
		t.Fatalf("objects:\n got  %v\n want %v", got, want)
	}
}

var tree = fstest.MapFS{
	"app/b.yaml":          file(cm("b")),
	"app/a.yml":           file(cm("a")),
	"app/c.json":          file(`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c"}}`),
	"app/README.md":       file("not a manifest"),
	"app/values.txt":      file("x: 1"),
	"app/sub/d.yaml":      file(cm("d")),
	"app/sub/deep/e.yaml": file(cm("e")),
	"app/sub/skip.yaml":   file(cm("skipped") + "# +argocd:skip-file-rendering\n"),
	"app/UPPER.YAML":      file(cm("upper")), // the name filter is case-sensitive
}

func TestFindManifests_RecurseOffReadsOnlyTopLevel(t *testing.T) {
	objs := mustDir(t, tree, "app", nil)
	// Lexical walk order: a.yml, b.yaml, c.json.
	wantNames(t, objs, "ConfigMap/a", "ConfigMap/b", "ConfigMap/c")
}

func TestFindManifests_RecurseOnWalksSubdirectoriesAndHonoursSkipMarker(t *testing.T) {
	objs := mustDir(t, tree, "app", &v1alpha1.ApplicationSourceDirectory{Recurse: true})
	wantNames(t, objs, "ConfigMap/a", "ConfigMap/b", "ConfigMap/c", "ConfigMap/d", "ConfigMap/e")
}

func TestFindManifests_RootDirectory(t *testing.T) {
	fsys := fstest.MapFS{"x.yaml": file(cm("x")), "d/y.yaml": file(cm("y"))}
	for _, dir := range []string{".", "", "/"} {
		wantNames(t, mustDir(t, fsys, dir, nil), "ConfigMap/x")
	}
}

func TestFindManifests_IncludeExcludeGlobs(t *testing.T) {
	rec := func(include, exclude string) *v1alpha1.ApplicationSourceDirectory {
		return &v1alpha1.ApplicationSourceDirectory{Recurse: true, Include: include, Exclude: exclude}
	}
	for _, tc := range []struct {
		name             string
		include, exclude string
		want             []string
	}{
		// Argo CD's glob has no separator: `*` crosses "/".
		{"include star crosses slashes", "*.yaml", "", []string{"ConfigMap/b", "ConfigMap/d", "ConfigMap/e"}},
		{"include brace set", "{a.yml,c.json}", "", []string{"ConfigMap/a", "ConfigMap/c"}},
		{"include brace set with paths", "{sub/*,a.yml}", "", []string{"ConfigMap/a", "ConfigMap/d", "ConfigMap/e"}},
		{"exclude directory", "", "sub/*", []string{"ConfigMap/a", "ConfigMap/b", "ConfigMap/c"}},
		{"exclude brace set", "", "{b.yaml,sub/deep/*}", []string{"ConfigMap/a", "ConfigMap/c", "ConfigMap/d"}},
		{"exclude wins over include", "*.yaml", "sub/deep/*", []string{"ConfigMap/b", "ConfigMap/d"}},
		{"character class and single", "[ab].y?l", "", []string{"ConfigMap/a"}},
		{"include matches the relative path, not the base name", "d.yaml", "", nil},
		// An invalid pattern matches nothing (upstream logs and returns false).
		{"invalid include selects nothing", "[", "", nil},
		{"invalid exclude excludes nothing", "", "[", []string{"ConfigMap/a", "ConfigMap/b", "ConfigMap/c", "ConfigMap/d", "ConfigMap/e"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantNames(t, mustDir(t, tree, "app", rec(tc.include, tc.exclude)), tc.want...)
		})
	}
}

func TestGetObjsFromYAMLOrJSON_MultiDocumentAndEmptyDocuments(t *testing.T) {
	fsys := fstest.MapFS{"m/all.yaml": file("---\n# leading comment\n---\n" + cm("one") + "---\n---\n\n---\n" + cm("two") +
		"--- # trailing comment\n" + "apiVersion: v1\r\nkind: Secret\r\nmetadata:\r\n  name: three\r\n---\n")}
	wantNames(t, mustDir(t, fsys, "m", nil), "ConfigMap/one", "ConfigMap/two", "Secret/three")
}

func TestGenerateManifests_ListKindsAreExpanded(t *testing.T) {
	fsys := fstest.MapFS{
		"l/list.yaml": file(`apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: ConfigMap
  metadata: {name: i1}
- apiVersion: v1
  kind: Service
  metadata: {name: i2}
---
apiVersion: v1
kind: ConfigMapList
items:
- {apiVersion: v1, kind: ConfigMap, metadata: {name: i3}}
---
apiVersion: v1
kind: ConfigMapList
items: null
`),
		"l/list.json": file(`{"apiVersion":"v1","kind":"List","items":[{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"j1"}}]}`),
	}
	wantNames(t, mustDir(t, fsys, "l", nil), "ConfigMap/j1", "ConfigMap/i1", "Service/i2", "ConfigMap/i3")

	bad := fstest.MapFS{"l/list.yaml": file("apiVersion: v1\nkind: List\nitems:\n- just a string\n")}
	if _, err := Directory(bad, "l", nil); err == nil || !strings.Contains(err.Error(), "items member is not an object") {
		t.Fatalf("want items error, got %v", err)
	}
}

func TestGetObjsFromYAMLOrJSON_JSONFiles(t *testing.T) {
	ok := fstest.MapFS{"j/o.json": file("\n  {\"apiVersion\": \"apps/v1\", \"kind\": \"Deployment\", \"metadata\": {\"name\": \"d\"}, \"spec\": {\"replicas\": 3, \"ratio\": 0.5}}\n")}
	objs := mustDir(t, ok, "j", nil)
	wantNames(t, objs, "Deployment/d")
	// Numbers come out as Kubernetes decodes them: int64, float64.
	if r := get(objs[0], "spec", "replicas"); r != int64(3) {
		t.Errorf("replicas = %#v, want int64(3)", r)
	}
	if r := get(objs[0], "spec", "ratio"); r != 0.5 {
		t.Errorf("ratio = %#v, want 0.5", r)
	}
	for name, content := range map[string]string{
		"array":    `[{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"a"}}]`,
		"multiple": `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"a"}} {"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"b"}}`,
		"kindless": `{"apiVersion":"v1","metadata":{"name":"a"}}`,
		"syntax":   "{\n\"apiVersion\": \"v1\",\n\"kind\": \"ConfigMap\"\n\"metadata\": {}}",
		"empty":    "",
	} {
		t.Run(name, func(t *testing.T) {
			_, err := Directory(fstest.MapFS{"j/bad.json": file(content)}, "j", nil)
			if err == nil || !strings.Contains(err.Error(), "j/bad.json") {
				t.Fatalf("want an error naming j/bad.json, got %v", err)
			}
			if name == "syntax" && !strings.Contains(err.Error(), "line 4") {
				t.Errorf("want the line of the syntax error, got %v", err)
			}
		})
	}
}

func TestGetObjsFromYAMLOrJSON_BadYAMLNamesFileAndLine(t *testing.T) {
	fsys := fstest.MapFS{"bad/x.yaml": file(cm("ok") + "---\n" + "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: broken\n  labels: {a: b\n")}
	_, err := Directory(fsys, "bad", nil)
	if err == nil {
		t.Fatal("want an error")
	}
	// The document starts on line 6 of the file; go-yaml reports its line 5.
	for _, want := range []string{"bad/x.yaml", "line 10", "failed to unmarshal"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}

	// A first document that fails in a file that looks like a manifest.
	first := fstest.MapFS{"bad/y.yaml": file("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n   bad: indent\n")}
	if _, err := Directory(first, "bad", nil); err == nil || !strings.Contains(err.Error(), "bad/y.yaml: line ") {
		t.Fatalf("want an error naming bad/y.yaml and a line, got %v", err)
	}

	sep := fstest.MapFS{"bad/z.yaml": file(cm("a") + "--- extra\n" + cm("b"))}
	if _, err := Directory(sep, "bad", nil); err == nil || !strings.Contains(err.Error(), "line 5") || !strings.Contains(err.Error(), "invalid Yaml document separator") {
		t.Fatalf("want a separator error on line 5, got %v", err)
	}
}

// Upstream ignores a YAML file whose first document is not a Kubernetes
// object unless the file contains "apiVersion:", "kind:" and "metadata:";
// a bad document after a good one is always an error.
func TestGetObjsFromYAMLOrJSON_NonManifestYAML(t *testing.T) {
	fsys := fstest.MapFS{
		"v/values.yaml": file("replicaCount: 2\nimage:\n  tag: v1\n"),
		"v/broken.yaml": file("this: is: not yaml\n"),
		"v/cm.yaml":     file(cm("real")),
	}
	wantNames(t, mustDir(t, fsys, "v", nil), "ConfigMap/real")

	for name, content := range map[string]string{
		"kindless doc after a good one": cm("good") + "---\nfoo: bar\n",
		"kindless but manifest-like":    "apiVersion: v1\nmetadata:\n  name: x\nspec:\n  kind: nested\n",
		"scalar after a good one":       cm("good") + "---\njust a string\n",
	} {
		t.Run(name, func(t *testing.T) {
			_, err := Directory(fstest.MapFS{"v/m.yaml": file(content)}, "v", nil)
			if err == nil || !strings.Contains(err.Error(), "v/m.yaml") {
				t.Fatalf("want an error naming v/m.yaml, got %v", err)
			}
		})
	}
}

func TestFindManifests_Jsonnet(t *testing.T) {
	fsys := fstest.MapFS{"j/a.yaml": file(cm("a")), "j/main.jsonnet": file("{}")}
	_, err := Directory(fsys, "j", nil)
	if !errors.Is(err, ErrJsonnetUnsupported) || !strings.Contains(err.Error(), "j/main.jsonnet") {
		t.Fatalf("want ErrJsonnetUnsupported naming the file, got %v", err)
	}
	objs := mustDir(t, fsys, "j", &v1alpha1.ApplicationSourceDirectory{Exclude: "*.jsonnet"})
	wantNames(t, objs, "ConfigMap/a")
}

func TestFindManifests_Errors(t *testing.T) {
	if _, err := Directory(tree, "nope", nil); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("missing dir: %v", err)
	}
	if _, err := Directory(tree, "app/b.yaml", nil); err == nil || !strings.Contains(err.Error(), "not a directory") {
		t.Errorf("file as dir: %v", err)
	}
	if _, err := Directory(tree, "../x", nil); err == nil {
		t.Error("want an error for a path leaving the repository")
	}
}

func TestGetPotentiallyValidManifests_MaxCombinedSize(t *testing.T) {
	old := MaxCombinedDirectoryManifestsSize
	defer func() { MaxCombinedDirectoryManifestsSize = old }()
	MaxCombinedDirectoryManifestsSize = int64(len(cm("a")) + 1)
	fsys := fstest.MapFS{"s/a.yaml": file(cm("a")), "s/b.yaml": file(cm("b"))}
	if _, err := Directory(fsys, "s", nil); !errors.Is(err, ErrExceededMaxCombinedManifestFileSize) {
		t.Fatalf("want ErrExceededMaxCombinedManifestFileSize, got %v", err)
	}
}

func TestUTFUtil_BOMsAreDecoded(t *testing.T) {
	utf16le := []byte{0xFF, 0xFE}
	for _, r := range cm("wide") {
		utf16le = append(utf16le, byte(r), 0)
	}
	fsys := fstest.MapFS{
		"u/bom.yaml":  &fstest.MapFile{Data: append([]byte{0xEF, 0xBB, 0xBF}, cm("bom")...)},
		"u/wide.yaml": &fstest.MapFile{Data: utf16le},
	}
	wantNames(t, mustDir(t, fsys, "u", nil), "ConfigMap/bom", "ConfigMap/wide")
}

// ---- Kustomize ----

const deployment = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 1
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: nginx:1.25
        envFrom:
        - configMapRef: {name: example-configmap-2}
`

func kustTree() fstest.MapFS {
	return fstest.MapFS{
		"base/kustomization.yaml": file("resources:\n- deployment.yaml\n- service.yaml\n"),
		"base/deployment.yaml":    file(deployment),
		"base/service.yaml": file(`apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector: {app: web}
  ports: [{port: 80}]
`),
		"overlays/prod/kustomization.yaml": file(`apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
- ../../base
- namespace.yaml
configMapGenerator:
- name: example-configmap-2
  literals:
  - FOO=Bar
`),
		"overlays/prod/namespace.yaml": file("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: prod\n"),
		"components/debug/kustomization.yaml": file(`apiVersion: kustomize.config.k8s.io/v1alpha1
kind: Component
patches:
- target: {kind: Deployment}
  patch: |-
    - op: add
      path: /metadata/annotations
      value: {debug: "on"}
`),
	}
}

func mustKust(t *testing.T, fsys fstest.MapFS, dir string, opts *v1alpha1.ApplicationSourceKustomize) []map[string]any {
	t.Helper()
	objs, err := Kustomize(fsys, dir, opts)
	if err != nil {
		t.Fatalf("Kustomize(%s): %v", dir, err)
	}
	return objs
}

// configMapHash computes, independently of kustomize's code, the name
// suffix of a generated ConfigMap: the sha256 of the JSON
// {"data":...,"kind":"ConfigMap","name":""} (keys sorted), its first 10 hex
// digits with 0, 1, 3, a, e spelled g, h, k, m, t. The name is empty because
// kustomize's kyaml-based hasher looks "metadata/name" up as one field and
// finds nothing: since kustomize v4 the suffix depends on the data only.
// kubernetes.io's kustomization task page shows it: a ConfigMap generated
// with FOO=Bar is example-configmap-1-42cfbf598f (older kustomize, which
// hashed the name too, gave example-configmap-2-g2hdhfc6tk for the same
// data, still shown on that page for the literal example).
func configMapHash(data map[string]string) string {
	b, _ := json.Marshal(map[string]any{"kind": "ConfigMap", "name": "", "data": data})
	h := fmt.Sprintf("%x", sha256.Sum256(b))[:10]
	return strings.NewReplacer("0", "g", "1", "h", "3", "k", "a", "m", "e", "t").Replace(h)
}

func TestKustomizeBuild_BaseOverlayAndConfigMapGenerator(t *testing.T) {
	objs := mustKust(t, kustTree(), "overlays/prod", nil)
	suffix := configMapHash(map[string]string{"FOO": "Bar"})
	if suffix != "42cfbf598f" {
		t.Fatalf("independent hash computation gives %s, documented 42cfbf598f", suffix)
	}
	hashed := "example-configmap-2-" + suffix
	// Legacy output order of `kustomize build`: Namespace first.
	wantNames(t, objs, "Namespace/prod", "ConfigMap/"+hashed, "Service/web", "Deployment/web")
	if got := get(find(t, objs, "ConfigMap", hashed), "data", "FOO"); got != "Bar" {
		t.Errorf("data.FOO = %v", got)
	}
	ref := get(find(t, objs, "Deployment", "web"), "spec", "template", "spec", "containers", 0, "envFrom", 0, "configMapRef", "name")
	if ref != hashed {
		t.Errorf("configMapRef = %v, want %s (kustomize rewrites references to generated names)", ref, hashed)
	}
	if r := get(find(t, objs, "Deployment", "web"), "spec", "replicas"); r != int64(1) {
		t.Errorf("replicas = %#v, want int64(1)", r)
	}
}

func TestKustomizeBuild_ArgoOptions(t *testing.T) {
	opts := &v1alpha1.ApplicationSourceKustomize{
		NamePrefix:   "p-",
		NameSuffix:   "-s",
		Namespace:    "team-a",
		Images:       v1alpha1.KustomizeImages{"nginx=registry.example/nginx:1.27@sha256:abc", "busybox:1.36"},
		CommonLabels: map[string]string{"team": "a", "rev": "${ARGOCD_APP_REVISION_SHORT}"},
		Replicas:     v1alpha1.KustomizeReplicas{{Name: "web", Count: intstr.FromString("4")}},
	}
	objs, err := KustomizeWithOptions(kustTree(), "overlays/prod", opts, KustomizeOptions{Env: map[string]string{"ARGOCD_APP_REVISION_SHORT": "abc1234"}})
	if err != nil {
		t.Fatal(err)
	}
	d := find(t, objs, "Deployment", "p-web-s")
	if got := get(d, "metadata", "namespace"); got != "team-a" {
		t.Errorf("namespace = %v", got)
	}
	if got := get(d, "spec", "template", "spec", "containers", 0, "image"); got != "registry.example/nginx:1.27@sha256:abc" {
		t.Errorf("image = %v", got)
	}
	if got := get(d, "spec", "replicas"); got != int64(4) {
		t.Errorf("replicas = %#v", got)
	}
	// commonLabels go on metadata, selectors and templates; values are
	// env-substituted.
	for _, p := range [][]any{{"metadata", "labels"}, {"spec", "selector", "matchLabels"}, {"spec", "template", "metadata", "labels"}} {
		l, _ := get(d, p...).(map[string]any)
		if l["team"] != "a" || l["rev"] != "abc1234" {
			t.Errorf("%v = %v", p, l)
		}
	}
	// The prefixed, hashed ConfigMap is still referenced.
	var cmName string
	for _, o := range objs {
		if o["kind"] == "ConfigMap" {
			cmName = get(o, "metadata", "name").(string)
		}
	}
	// The hash is appended last, after prefix and suffix.
	if want := "p-example-configmap-2-s-" + configMapHash(map[string]string{"FOO": "Bar"}); cmName != want {
		t.Errorf("ConfigMap name %q, want %q", cmName, want)
	}
	if ref := get(d, "spec", "template", "spec", "containers", 0, "envFrom", 0, "configMapRef", "name"); ref != cmName {
		t.Errorf("configMapRef = %v, want %s", ref, cmName)
	}
	// kustomize's namespace transformer renames a Namespace object of the
	// kustomization to the namespace set (and it gets no prefix).
	find(t, objs, "Namespace", "team-a")
}

func TestKustomizeBuild_LabelWithoutSelectorIncludeTemplates(t *testing.T) {
	opts := &v1alpha1.ApplicationSourceKustomize{
		CommonLabels:          map[string]string{"env": "prod"},
		LabelWithoutSelector:  true,
		LabelIncludeTemplates: true,
	}
	d := find(t, mustKust(t, kustTree(), "overlays/prod", opts), "Deployment", "web")
	if l, _ := get(d, "spec", "selector", "matchLabels").(map[string]any); l["env"] != nil {
		t.Errorf("selector got the label: %v", l)
	}
	if l, _ := get(d, "spec", "template", "metadata", "labels").(map[string]any); l["env"] != "prod" {
		t.Errorf("template labels = %v", l)
	}
	opts.LabelWithoutSelector = false
	if _, err := Kustomize(kustTree(), "overlays/prod", opts); err == nil || !strings.Contains(err.Error(), "without-selector") {
		t.Errorf("labelIncludeTemplates without labelWithoutSelector: %v", err)
	}
}

func TestKustomizeBuild_CommonAnnotationsForceAndEnvsubst(t *testing.T) {
	fsys := kustTree()
	fsys["overlays/prod/kustomization.yaml"] = file(string(fsys["overlays/prod/kustomization.yaml"].Data) + "commonAnnotations:\n  owner: x\n")
	opts := &v1alpha1.ApplicationSourceKustomize{CommonAnnotations: map[string]string{"owner": "y", "app": "$ARGOCD_APP_NAME"}}
	if _, err := Kustomize(fsys, "overlays/prod", opts); err == nil || !strings.Contains(err.Error(), "owner") {
		t.Fatalf("want an already-in-kustomization error, got %v", err)
	}
	opts.ForceCommonAnnotations = true
	env := KustomizeOptions{Env: map[string]string{"ARGOCD_APP_NAME": "shop"}}
	objs, err := KustomizeWithOptions(fsys, "overlays/prod", opts, env)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := get(find(t, objs, "Service", "web"), "metadata", "annotations").(map[string]any)
	if a["owner"] != "y" || a["app"] != "$ARGOCD_APP_NAME" {
		t.Errorf("annotations without commonAnnotationsEnvsubst = %v", a)
	}
	opts.CommonAnnotationsEnvsubst = true
	objs, err = KustomizeWithOptions(fsys, "overlays/prod", opts, env)
	if err != nil {
		t.Fatal(err)
	}
	if a, _ := get(find(t, objs, "Service", "web"), "metadata", "annotations").(map[string]any); a["app"] != "shop" {
		t.Errorf("annotations with commonAnnotationsEnvsubst = %v", a)
	}
}

func TestKustomizeBuild_PatchesAndComponents(t *testing.T) {
	opts := &v1alpha1.ApplicationSourceKustomize{
		Patches: v1alpha1.KustomizePatches{{
			Target: &v1alpha1.KustomizeSelector{KustomizeResId: v1alpha1.KustomizeResId{KustomizeGvk: v1alpha1.KustomizeGvk{Kind: "Service"}}},
			Patch:  "- op: replace\n  path: /spec/ports/0/port\n  value: 8080\n",
		}},
		Components: []string{"../../components/debug"},
	}
	objs := mustKust(t, kustTree(), "overlays/prod", opts)
	if p := get(find(t, objs, "Service", "web"), "spec", "ports", 0, "port"); p != int64(8080) {
		t.Errorf("patched port = %#v", p)
	}
	if a := get(find(t, objs, "Deployment", "web"), "metadata", "annotations", "debug"); a != "on" {
		t.Errorf("component annotation = %v", a)
	}

	// A missing component is an error...
	opts = &v1alpha1.ApplicationSourceKustomize{Components: []string{"../../components/debug", "../../components/missing"}}
	if _, err := Kustomize(kustTree(), "overlays/prod", opts); err == nil || !strings.Contains(err.Error(), "components/missing") {
		t.Fatalf("want a no-match error, got %v", err)
	}
	// ...unless ignoreMissingComponents, which (like upstream's securejoin
	// check) looks the path up inside the app directory.
	fsys := kustTree()
	fsys["overlays/prod/extra/kustomization.yaml"] = file(string(fsys["components/debug/kustomization.yaml"].Data))
	opts = &v1alpha1.ApplicationSourceKustomize{Components: []string{"extra", "missing"}, IgnoreMissingComponents: true}
	objs = mustKust(t, fsys, "overlays/prod", opts)
	if a := get(find(t, objs, "Deployment", "web"), "metadata", "annotations", "debug"); a != "on" {
		t.Errorf("component annotation = %v", a)
	}
	opts.Components = []string{"missing"}
	if _, err := Kustomize(fsys, "overlays/prod", opts); err == nil {
		t.Error("upstream fails when ignoreMissingComponents leaves no component")
	}
}

func TestKustomizeBuild_RemoteBaseIsAnError(t *testing.T) {
	for _, ref := range []string{
		"https://github.com/kubernetes-sigs/kustomize//examples/multibases?ref=v1.0.6",
		"github.com/argoproj/argo-cd/manifests/cluster-install?ref=v2.9.0",
		"git@github.com:org/repo.git//deploy",
		"https://raw.githubusercontent.com/org/repo/main/deploy.yaml",
	} {
		t.Run(ref, func(t *testing.T) {
			fsys := kustTree()
			// The remote reference sits in the base, one level down.
			fsys["base/kustomization.yaml"] = file("resources:\n- deployment.yaml\n- " + ref + "\n")
			_, err := Kustomize(fsys, "overlays/prod", nil)
			if !errors.Is(err, ErrRemoteUnsupported) || !strings.Contains(err.Error(), "base/kustomization.yaml") {
				t.Fatalf("want ErrRemoteUnsupported naming base/kustomization.yaml, got %v", err)
			}
		})
	}
	fsys := kustTree()
	fsys["overlays/prod/kustomization.yaml"] = file("resources:\n- ../../base\npatches:\n- path: https://example.com/p.yaml\n")
	if _, err := Kustomize(fsys, "overlays/prod", nil); !errors.Is(err, ErrRemoteUnsupported) {
		t.Fatalf("remote patch file: %v", err)
	}
}

func TestKustomizeBuild_MissingKustomization(t *testing.T) {
	fsys := fstest.MapFS{"plain/a.yaml": file(cm("a"))}
	// Argo CD detects the source type from the files: without a
	// kustomization and without kustomize options it is a directory.
	wantNames(t, mustKust(t, fsys, "plain", nil), "ConfigMap/a")
	wantNames(t, mustKust(t, fsys, "plain", &v1alpha1.ApplicationSourceKustomize{ForceCommonLabels: true}), "ConfigMap/a")
	// With options, Argo CD runs kustomize, which fails.
	if _, err := Kustomize(fsys, "plain", &v1alpha1.ApplicationSourceKustomize{NamePrefix: "x-"}); err == nil || !strings.Contains(err.Error(), "missing kustomization") {
		t.Fatalf("want a missing kustomization error, got %v", err)
	}
	// Two kustomization files are an error, as for kustomize.
	two := fstest.MapFS{"k/kustomization.yaml": file("resources: []\n"), "k/Kustomization": file("resources: []\n")}
	if _, err := Kustomize(two, "k", nil); err == nil || !strings.Contains(err.Error(), "multiple") {
		t.Fatalf("want a multiple kustomization files error, got %v", err)
	}
}

func TestKustomizeBuild_ErrorsFromKustomize(t *testing.T) {
	fsys := kustTree()
	fsys["overlays/prod/kustomization.yaml"] = file("resources:\n- ../../base\nbogusField: 1\n")
	if _, err := Kustomize(fsys, "overlays/prod", nil); err == nil || !strings.Contains(err.Error(), "bogusField") {
		t.Fatalf("want kustomize's strict parse error, got %v", err)
	}
	// Helm inflation is off by default in Argo CD (kustomize.buildOptions).
	fsys["overlays/prod/kustomization.yaml"] = file("helmCharts:\n- name: x\n  repo: https://charts.example\n  version: 1.0.0\n")
	if _, err := Kustomize(fsys, "overlays/prod", nil); err == nil {
		t.Fatal("want an error for helmCharts without --enable-helm")
	}
}

// ---- kustomize edit semantics ----

func TestKustomizeEditSetImage(t *testing.T) {
	for _, tc := range []struct {
		arg  string
		want string // name newName newTag digest
	}{
		{"nginx:1.27", "nginx  1.27 "},
		{"nginx@sha256:abc", "nginx   sha256:abc"},
		{"nginx=registry/nginx", "nginx registry/nginx  "},
		{"nginx=registry:5000/nginx:1.27@sha256:abc", "nginx registry:5000/nginx 1.27 sha256:abc"},
		{"nginx:1.27@sha256:abc", "nginx  1.27 sha256:abc"},
	} {
		img, err := parseImageArg(tc.arg)
		if err != nil {
			t.Fatalf("%s: %v", tc.arg, err)
		}
		if got := strings.Join([]string{img.Name, img.NewName, img.NewTag, img.Digest}, " "); got != tc.want {
			t.Errorf("%s: got %q, want %q", tc.arg, got, tc.want)
		}
	}
	if _, err := parseImageArg("nginx"); err == nil {
		t.Error("a bare name is not a valid image override")
	}
}

func TestKustomizeEditSetImage_MergeAndPreserve(t *testing.T) {
	fsys := kustTree()
	fsys["overlays/prod/kustomization.yaml"] = file("resources:\n- ../../base\nimages:\n- name: nginx\n  newName: mirror/nginx\n  newTag: old\n- name: redis\n  newTag: \"7\"\n")
	opts := &v1alpha1.ApplicationSourceKustomize{Images: v1alpha1.KustomizeImages{"nginx=*:1.27"}}
	d := find(t, mustKust(t, fsys, "overlays/prod", opts), "Deployment", "web")
	if got := get(d, "spec", "template", "spec", "containers", 0, "image"); got != "mirror/nginx:1.27" {
		t.Errorf("image = %v, want mirror/nginx:1.27 (\"*\" keeps newName)", got)
	}
}

func TestKustomizeEditSetReplicas_InvalidCount(t *testing.T) {
	opts := &v1alpha1.ApplicationSourceKustomize{Replicas: v1alpha1.KustomizeReplicas{{Name: "web", Count: intstr.FromString("many")}}}
	if _, err := Kustomize(kustTree(), "overlays/prod", opts); err == nil || !strings.Contains(err.Error(), "expected integer value") {
		t.Fatalf("want an integer error, got %v", err)
	}
}

func TestKustomizeEditAddLabel_ExistingLabelNeedsForce(t *testing.T) {
	fsys := kustTree()
	fsys["overlays/prod/kustomization.yaml"] = file("resources:\n- ../../base\ncommonLabels:\n  team: old\n")
	opts := &v1alpha1.ApplicationSourceKustomize{CommonLabels: map[string]string{"team": "new"}}
	if _, err := Kustomize(fsys, "overlays/prod", opts); err == nil || !strings.Contains(err.Error(), "label team") {
		t.Fatalf("want an already-in-kustomization error, got %v", err)
	}
	opts.ForceCommonLabels = true
	d := find(t, mustKust(t, fsys, "overlays/prod", opts), "Deployment", "web")
	if got := get(d, "metadata", "labels", "team"); got != "new" {
		t.Errorf("team = %v", got)
	}
}

func TestEnvsubst(t *testing.T) {
	env := map[string]string{"A": "1"}
	for in, want := range map[string]string{"$A": "1", "${A}x": "1x", "$B": "", "$$A": "$A", "plain": "plain"} {
		if got := envsubst(env, in); got != want {
			t.Errorf("envsubst(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestSplitYAMLDocuments_StartLines(t *testing.T) {
	docs := splitYAMLDocuments([]byte("---\na: 1\n---\n\n---\nb: 2\r\nc: 3\n"))
	var got []int
	for _, d := range docs {
		got = append(got, d.start)
	}
	sort.Ints(got)
	if !reflect.DeepEqual(got, []int{1, 4, 6}) {
		t.Errorf("start lines = %v", got)
	}
}

// The kustomization is rewritten only through kustomize's own types: a
// no-op edit (the namespace it already has) must not change the build.
func TestKustomizeEdit_RewriteKeepsTheKustomization(t *testing.T) {
	fsys := kustTree()
	fsys["overlays/prod/kustomization.yaml"] = file(`# comment
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namespace: prod
bases:
- ../../base
resources:
- namespace.yaml
sortOptions:
  order: fifo
patchesStrategicMerge:
- |-
  apiVersion: v1
  kind: Service
  metadata: {name: web}
  spec: {type: NodePort}
replacements:
- source: {kind: Service, name: web, fieldPath: metadata.name}
  targets:
  - select: {kind: Deployment}
    fieldPaths: [metadata.annotations.svc]
    options: {create: true}
imageTags:
- name: nginx
  newTag: "9"
configMapGenerator:
- name: example-configmap-2
  literals: [FOO=Bar]
generatorOptions:
  disableNameSuffixHash: true
`)
	plain := mustKust(t, fsys, "overlays/prod", nil)
	edited := mustKust(t, fsys, "overlays/prod", &v1alpha1.ApplicationSourceKustomize{Namespace: "prod"})
	if !reflect.DeepEqual(plain, edited) {
		t.Fatalf("a no-op edit changed the build:\n%v\n%v", plain, edited)
	}
	// fifo order: resources, then the legacy bases (kustomize appends them
	// to resources), then generated objects.
	wantNames(t, plain, "Namespace/prod", "Deployment/web", "Service/web", "ConfigMap/example-configmap-2")
	d := find(t, plain, "Deployment", "web")
	if get(d, "metadata", "annotations", "svc") != "web" || get(d, "spec", "template", "spec", "containers", 0, "image") != "nginx:9" {
		t.Errorf("replacement/imageTags lost: %v", d)
	}
}

func TestKustomizeBuild_ConcurrentBuilds(t *testing.T) {
	fsys := kustTree()
	want := mustKust(t, fsys, "overlays/prod", nil)
	errs := make(chan error, 8)
	for range 8 {
		go func() {
			got, err := Kustomize(fsys, "overlays/prod", &v1alpha1.ApplicationSourceKustomize{})
			if err == nil && !reflect.DeepEqual(got, want) {
				err = errors.New("different output")
			}
			errs <- err
		}()
	}
	for range 8 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}

func TestGetAppSourceType(t *testing.T) {
	fsys := fstest.MapFS{
		"both/Chart.yaml":         file("name: x\nversion: 1.0.0\n"),
		"both/kustomization.yaml": file("resources: []\n"),
		"chart/Chart.yaml":        file("name: x\nversion: 1.0.0\n"),
		"chart/zChart.yaml":       file(""),
		"late/kustomization.yaml": file(""),
		"late/zChart.yaml":        file(""),
		"plain/a.yaml":            file(cm("a")),
		"plain/sub/Chart.yaml":    file(""),
	}
	for dir, want := range map[string]string{"both": "Kustomize", "chart": "Helm", "late": "Helm", "plain": "Directory"} {
		if got, err := DetectSourceType(fsys, dir); err != nil || got != want {
			t.Errorf("DetectSourceType(%s) = %s, %v; want %s", dir, got, err, want)
		}
	}
	if got, _ := SourceType(fsys, "both", &v1alpha1.ApplicationSource{Directory: &v1alpha1.ApplicationSourceDirectory{}}); got != "Directory" {
		t.Errorf("explicit directory: %s", got)
	}
	if _, err := SourceType(fsys, "both", &v1alpha1.ApplicationSource{Directory: &v1alpha1.ApplicationSourceDirectory{}, Kustomize: &v1alpha1.ApplicationSourceKustomize{}}); err == nil {
		t.Error("want a multiple sources error")
	}
}
