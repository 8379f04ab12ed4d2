package source

import (
	"bytes"
	"reflect"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/gitops-hub/gitops-hub/pkg/apis/argocd/v1alpha1"
)

func doc(t *testing.T, s string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := yaml.Unmarshal([]byte(s), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func layer(t *testing.T, name, s string) Layer { return Layer{Name: name, Values: doc(t, s)} }

func checkMerge(t *testing.T, layers []Layer, wantYAML string, wantOrigin map[string]string) {
	t.Helper()
	merged, origin, err := MergeChecked(layers)
	if err != nil {
		t.Fatal(err)
	}
	if want := doc(t, wantYAML); !reflect.DeepEqual(normalizeNumbers(merged), want) {
		got, _ := yaml.Marshal(merged)
		t.Errorf("merged:\n%s\nwant:\n%s", got, wantYAML)
	}
	if wantOrigin != nil && !reflect.DeepEqual(origin, wantOrigin) {
		t.Errorf("origin:\n got %v\nwant %v", origin, wantOrigin)
	}
}

// normalizeNumbers turns the int64 of --set into float64, as a YAML
// document decodes.
func normalizeNumbers(v map[string]any) map[string]any {
	b, _ := yaml.Marshal(v)
	var out map[string]any
	_ = yaml.Unmarshal(b, &out)
	return out
}

// helm pkg/cli/values/options.go mergeMaps: value files merge in order,
// later wins, maps merge recursively, anything else replaces (a list is
// replaced, never merged; a null replaces a map).
func TestMerge_HelmMergeMaps(t *testing.T) {
	checkMerge(t, []Layer{
		{Name: "chart"},
		layer(t, "f1", "a: {x: 1, w: 1}\nlist: [1, 2, 3]\nm: {k: v}\ns: one\n"),
		layer(t, "f2", "a: {w: 2, z: 2}\nlist: [9]\nm: null\ns: {now: map}\n"),
	}, "a: {x: 1, w: 2, z: 2}\nlist: [9]\nm: null\ns: {now: map}\n", map[string]string{
		"a.x": "f1", "a.w": "f2", "a.z": "f2", "list": "f2", "m": "f2", "s.now": "f2",
	})
}

// helm pkg/chartutil/coalesce.go coalesceValues / coalesceTablesFullKey:
// chart defaults fill in what the user did not set; a user null deletes a
// key the chart sets (top level and nested); a null for a key the chart
// does not set stays; a user scalar beats a chart map and the reverse.
func TestMerge_HelmCoalesce(t *testing.T) {
	checkMerge(t, []Layer{
		layer(t, "chart", `
top: default
gone: default
keep: {a: 1, b: 1, sub: {c: 1}}
scalarOverMap: {x: 1}
mapOverScalar: scalar
chartNull: null
emptyMap: {}
list: [a]
`),
		layer(t, "user", `
top: user
gone: null
keep: {b: 2, sub: {c: null, d: 2}, extra: null}
scalarOverMap: 5
mapOverScalar: {w: 2}
unknownNull: null
list: [b, c]
`),
	}, `
top: user
keep: {a: 1, b: 2, sub: {d: 2}, extra: null}
scalarOverMap: 5
mapOverScalar: {w: 2}
chartNull: null
emptyMap: {}
unknownNull: null
list: [b, c]
`, map[string]string{
		"top": "user", "keep.a": "chart", "keep.b": "user", "keep.sub.d": "user", "keep.extra": "user",
		"scalarOverMap": "user", "mapOverScalar.w": "user", "chartNull": "chart", "emptyMap": "chart",
		"unknownNull": "user", "list": "user",
	})
	// A map whose keys the user all nulled ends up empty: a leaf, set by the user.
	checkMerge(t, []Layer{layer(t, "chart", "m: {c: 1}\n"), layer(t, "f1", "m: {c: 2}\n"), layer(t, "f2", "m: {c: null}\n")},
		"m: {}\n", map[string]string{"m": "f2"})
	// Top level: a user null deletes the key even when the chart's value is
	// null too (coalesceValues deletes without looking at the chart value).
	checkMerge(t, []Layer{layer(t, "chart", "a: null\nb: {c: null}\n"), layer(t, "user", "a: null\nb: {c: null}\n")},
		"b: {c: null}\n", map[string]string{"b.c": "user"})
}

// helm pkg/strvals/parser.go (which Merge calls): --set syntax and typing; Helm applies every
// --set, then every --set-string, then every --set-file, after all value
// files (pkg/cli/values/options.go MergeValues), whatever the order given.
func TestMerge_HelmSetParameters(t *testing.T) {
	p := func(name, value string, force bool) Layer {
		q := Param{Name: name, Value: value, ForceString: force}
		flag := "--set"
		if force {
			flag = "--set-string"
		}
		return Layer{Name: flag + " " + name + "=" + value, Set: &q}
	}
	checkMerge(t, []Layer{
		layer(t, "chart", "image: {repository: nginx, tag: '1.0'}\nlist: [{name: a, v: 1}, {name: b, v: 2}]\n"),
		p("image.tag", "2.0", true), // given first, applied after every --set
		p("image.tag", "3", false),
		layer(t, "file", "image: {tag: from-file}\nlist: [{name: x}]\nenabled: false\n"),
		p("enabled", "TRUE", false),
		p("count", "010", false), // leading zero: a string
		p("zero", "0", false),
		p("num", "42", false),
		p("nil", "null", false),
		p("list[0].v", "7", false),
		p("list[2]", "c", false),
		p(`dotted\.key`, "x,y", false), // Argo CD escapes the comma
		p("arr", "{a,b}", false),
		p("s", "true", true),
	}, `
image: {repository: nginx, tag: "2.0"}
list: [{name: x, v: 7}, null, c]
enabled: true
count: "010"
zero: 0
num: 42
nil: null
dotted.key: "x,y"
arr: [a, b]
s: "true"
`, map[string]string{
		"image.repository": "chart", "image.tag": "--set-string image.tag=2.0", "list": "--set list[2]=c",
		"enabled": "--set enabled=TRUE", "count": "--set count=010", "zero": "--set zero=0", "num": "--set num=42",
		"nil": "--set nil=null", `dotted\.key`: `--set dotted\.key=x,y`, "arr": "--set arr={a,b}", "s": "--set-string s=true",
	})

	// Types: int64 for --set integers, strings for --set-string.
	merged, _ := Merge([]Layer{{}, p("n", "42", false), p("s", "42", true)})
	if _, ok := merged["n"].(int64); !ok {
		t.Errorf("n = %T", merged["n"])
	}
	if merged["s"] != "42" {
		t.Errorf("s = %#v", merged["s"])
	}

	// Errors Helm reports; Merge leaves the parameter out.
	for _, c := range []struct {
		base  string
		param Layer
		msg   string
	}{
		{"a: scalar\n", p("a.b", "1", false), "is string, not map"},
		{"a: null\n", p("a.b", "1", false), "is nil, not map"},
		{"a: scalar\n", p("a[0]", "1", false), "is string, not []interface"},
		{"", p("a", "{x,y", false), "list must terminate with '}'"},
		{"", p("a[x]", "1", false), "error parsing index"},
		{"", p("a[-1]", "1", false), "negative"},
		{"", p("a[70000]", "1", false), "greater than maximum"},
		{"", p("a[0]x", "1", false), "unexpected data at end of array index"},
	} {
		layers := []Layer{{Name: "chart"}, layer(t, "file", c.base), c.param}
		_, _, err := MergeChecked(layers)
		wantError(t, err, c.param.Name, c.msg)
		merged, _ := Merge(layers)
		if want := doc(t, c.base); len(want) != 0 && !reflect.DeepEqual(merged, want) {
			t.Errorf("%s: Merge applied a rejected parameter: %v", c.param.Name, merged)
		}
	}
	// A map where the chart has one: the parameter creates it in the user
	// values, then coalescing adds the chart's other keys.
	checkMerge(t, []Layer{layer(t, "chart", "a: {x: 1}\n"), p("a.w", "2", false)}, "a: {x: 1, w: 2}\n",
		map[string]string{"a.x": "chart", "a.w": "--set a.w=2"})
}

// --set-file: the file's content, as a string, at the key.
func TestMerge_HelmSetFile(t *testing.T) {
	f := NamedFile{Name: "tls.ca", Entry: "$values/certs/ca.pem", Data: []byte("PEM\n")}
	checkMerge(t, []Layer{{Name: "chart"}, layer(t, "file", "tls: {ca: old, key: k}\n"), {Name: "--set-file tls.ca=$values/certs/ca.pem", SetFile: &f}},
		"tls: {ca: \"PEM\\n\", key: k}\n", map[string]string{"tls.ca": "--set-file tls.ca=$values/certs/ca.pem", "tls.key": "file"})
}

// Merge does not modify its input layers.
func TestMerge_InputsUntouched(t *testing.T) {
	chart := doc(t, "a: {b: 1}\nl: [1]\n")
	user := doc(t, "a: {c: null}\nl: [2]\n")
	q := Param{Name: "l[0]", Value: "3"}
	before1, before2 := deepCopyMap(chart), deepCopyMap(user)
	Merge([]Layer{{Name: "c", Values: chart}, {Name: "u", Values: user}, {Name: "p", Set: &q}})
	if !reflect.DeepEqual(chart, before1) || !reflect.DeepEqual(user, before2) {
		t.Errorf("inputs modified: %v %v", chart, user)
	}
}

// The layering of this repository (docs/architecture.md "Values layering"):
// chart defaults < environments/default < environments/<env> <
// clusters/<cluster>, with ignoreMissingValueFiles: the cluster layer wins
// over the environment layer, a missing layer is skipped only with
// ignoreMissingValueFiles, and without it the missing file is an error
// naming it.
func TestLayering_ClusterWinsOverEnvironment(t *testing.T) {
	files := []string{
		"$values/environments/default/addons/argo-cd/values.yaml",
		"$values/environments/develop/addons/argo-cd/values.yaml",
		"$values/environments/staging/addons/argo-cd/values.yaml", // missing layer
		"$values/clusters/eks-develop-clientA-services/addons/argo-cd/values.yaml",
	}
	app := multiApp(&v1alpha1.ApplicationSourceHelm{IgnoreMissingValueFiles: true, ValueFiles: files})
	in := mustResolve(t, app, 1, chartFS())
	if !reflect.DeepEqual(in.Missing, []string{files[2]}) {
		t.Errorf("missing = %v", in.Missing)
	}
	layers, err := in.Layers()
	if err != nil {
		t.Fatal(err)
	}
	chart := layer(t, "argo-cd 10.1.1 values.yaml", "replicas: 1\nimage: {tag: v3}\nlayer: chart\n")
	merged, origin, err := MergeChecked(append([]Layer{chart}, layers...))
	if err != nil {
		t.Fatal(err)
	}
	want := doc(t, "layer: cluster\nreplicas: 3\nimage: {tag: v3}\nconfigs: {cm: {a: default, b: develop}}\n")
	if !reflect.DeepEqual(merged, want) {
		t.Errorf("merged = %v", merged)
	}
	wantOrigin := map[string]string{
		"layer":        files[3],
		"replicas":     files[3],
		"image.tag":    "argo-cd 10.1.1 values.yaml",
		"configs.cm.a": files[0],
		"configs.cm.b": files[1],
	}
	if !reflect.DeepEqual(origin, wantOrigin) {
		t.Errorf("origin = %v", origin)
	}

	app.Spec.Sources[1].Helm.IgnoreMissingValueFiles = false
	_, err = ResolveHelm(app, 1, testRepos(), chartFS())
	wantError(t, err, files[2], "does not exist")
}

// UserValues is Helm's MergeValues: files, inline values, then parameters;
// no chart defaults.
func TestUserValues(t *testing.T) {
	app := multiApp(&v1alpha1.ApplicationSourceHelm{
		ValueFiles: []string{"$values/environments/default/addons/argo-cd/values.yaml"},
		Values:     "replicas: 5\nconfigs: {cm: {a: inline}}\n",
		Parameters: []v1alpha1.HelmParameter{{Name: "configs.cm.b", Value: "param"}},
	})
	in := mustResolve(t, app, 1, chartFS())
	got, err := in.UserValues()
	if err != nil {
		t.Fatal(err)
	}
	want := doc(t, "layer: default\nreplicas: 5\nconfigs: {cm: {a: inline, b: param}}\n")
	if !reflect.DeepEqual(got, want) {
		t.Errorf("UserValues = %v", got)
	}
	layers, _ := in.Layers()
	var layerNames []string
	for _, l := range layers {
		layerNames = append(layerNames, l.Name)
	}
	if strings.Join(layerNames, " | ") != "$values/environments/default/addons/argo-cd/values.yaml | helm.values | --set configs.cm.b=param" {
		t.Errorf("layer names = %v", layerNames)
	}
}

func TestFormatProvenance(t *testing.T) {
	merged, origin := Merge([]Layer{
		layer(t, "chart values.yaml", "configs: {params: {server.insecure: true}}\nreplicas: 1\nempty: {}\n"),
		layer(t, "$values/environments/default/addons/argo-cd/values.yaml", "configs: {cm: {application.instanceLabelKey: gitops-hub.io/client-instance}}\n"),
		layer(t, "$values/environments/develop/addons/argo-cd/values.yaml", "server: {extraArgs: [--insecure]}\nnote: \"line1\\nline2\\n\"\n"),
		layer(t, "$values/clusters/x/addons/argo-cd/values.yaml", "replicas: 3\n\"null\": yes\n"),
	})
	var b bytes.Buffer
	if err := FormatProvenance(&b, merged, origin); err != nil {
		t.Fatal(err)
	}
	want := `configs:
  cm:
    application.instanceLabelKey: gitops-hub.io/client-instance # $values/environments/default/addons/argo-cd/values.yaml
  params:
    server.insecure: true # chart values.yaml
empty: {} # chart values.yaml
note: | # $values/environments/develop/addons/argo-cd/values.yaml
  line1
  line2
"null": true # $values/clusters/x/addons/argo-cd/values.yaml
replicas: 3 # $values/clusters/x/addons/argo-cd/values.yaml
server:
  extraArgs: # $values/environments/develop/addons/argo-cd/values.yaml
    - --insecure
`
	if b.String() != want {
		t.Errorf("got:\n%s\nwant:\n%s", b.String(), want)
	}
	// It is YAML that reads back to the merged values.
	if back := doc(t, b.String()); !reflect.DeepEqual(back, merged) {
		t.Errorf("read back: %v", back)
	}
	b.Reset()
	if err := FormatProvenance(&b, map[string]any{}, nil); err != nil || b.String() != "{}\n" {
		t.Errorf("empty: %q %v", b.String(), err)
	}
}
