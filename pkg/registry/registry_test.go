package registry

import (
	"bytes"
	"errors"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"

	"go.yaml.in/yaml/v3"

	"github.com/gitops-hub/gitops-hub/internal/fleetgen"
	"github.com/gitops-hub/gitops-hub/pkg/loader"
)

// secretYAML is a cluster Secret as kept in Git; extra is inserted at the
// top level after `type`.
func secretYAML(name, extra string) string {
	return `apiVersion: v1
kind: Secret
metadata:
  name: cluster-` + name + `
  namespace: argocd
  labels:
    argocd.argoproj.io/secret-type: cluster
    environment: prod
  annotations:
    addons_repo_url: https://github.com/gitops-hub/gitops-hub.git
type: Opaque
` + extra
}

func mustParse(t *testing.T, data string) []*Cluster {
	t.Helper()
	cs, err := Parse("clusters.yaml", []byte(data))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return cs
}

func TestParseStringData(t *testing.T) {
	cs := mustParse(t, secretYAML("prod", "stringData:\n  name: prod\n  server: https://prod.example.com\n  project: platform\n  config: '{}'\n"))
	if len(cs) != 1 {
		t.Fatalf("got %d clusters", len(cs))
	}
	want := &Cluster{
		Name: "prod", Server: "https://prod.example.com", Project: "platform",
		Labels:      map[string]string{SecretTypeLabel: SecretTypeCluster, "environment": "prod"},
		Annotations: map[string]string{"addons_repo_url": "https://github.com/gitops-hub/gitops-hub.git"},
		SecretName:  "cluster-prod", Namespace: "argocd", File: "clusters.yaml", Line: 1,
	}
	if !reflect.DeepEqual(cs[0], want) {
		t.Errorf("got  %+v\nwant %+v", cs[0], want)
	}
	if cs[0].Pos() != "clusters.yaml:1" {
		t.Errorf("Pos() = %q", cs[0].Pos())
	}
}

func TestParseData(t *testing.T) {
	// name: prod, server: https://prod.example.com; no project key.
	cs := mustParse(t, secretYAML("prod", "data:\n  name: cHJvZA==\n  server: aHR0cHM6Ly9wcm9kLmV4YW1wbGUuY29t\n"))
	c := cs[0]
	if c.Name != "prod" || c.Server != "https://prod.example.com" || c.Project != "" {
		t.Errorf("name %q, server %q, project %q", c.Name, c.Server, c.Project)
	}
}

// stringData is the write-side form: Kubernetes merges it over data, so it
// wins for keys present in both.
func TestParseStringDataOverridesData(t *testing.T) {
	cs := mustParse(t, secretYAML("prod", `data:
  name: b2xk
  server: aHR0cHM6Ly9vbGQ=
  project: ZnJvbS1kYXRh
stringData:
  name: new
  server: https://new
`))
	c := cs[0]
	if c.Name != "new" || c.Server != "https://new" || c.Project != "from-data" {
		t.Errorf("name %q, server %q, project %q; want new, https://new, from-data", c.Name, c.Server, c.Project)
	}
}

func TestParseErrors(t *testing.T) {
	const lead = "# registry\n---\n" // the Secret document starts on line 3
	cases := []struct {
		name string
		data string
		want string // whole message
	}{
		{
			name: "invalid base64",
			data: lead + secretYAML("prod", "data:\n  name: cHJvZA==\n  server: not*base64\n"),
			want: `clusters.yaml:3: Secret "cluster-prod": data.server is not valid base64: illegal base64 data at input byte 3`,
		},
		{
			name: "not a Secret",
			data: lead + "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\n",
			want: `clusters.yaml:3: Secret "cm": v1/ConfigMap is not a Secret: a cluster registry holds only Argo CD cluster Secrets (apiVersion v1, kind Secret)`,
		},
		{
			name: "no kind",
			data: "metadata:\n  name: x\n",
			want: `clusters.yaml:1: Secret "x": /<no kind> is not a Secret: a cluster registry holds only Argo CD cluster Secrets (apiVersion v1, kind Secret)`,
		},
		{
			name: "wrong apiVersion",
			data: "apiVersion: v2\nkind: Secret\nmetadata:\n  name: x\n",
			want: `clusters.yaml:1: Secret "x": v2/Secret is not a Secret: a cluster registry holds only Argo CD cluster Secrets (apiVersion v1, kind Secret)`,
		},
		{
			name: "repository Secret",
			data: lead + "apiVersion: v1\nkind: Secret\nmetadata:\n  name: repo\n  labels:\n    argocd.argoproj.io/secret-type: repository\n",
			want: `clusters.yaml:3: Secret "repo": not an Argo CD cluster Secret: label argocd.argoproj.io/secret-type=cluster is missing`,
		},
		{
			name: "no labels",
			data: "apiVersion: v1\nkind: Secret\nmetadata:\n  name: plain\n",
			want: `clusters.yaml:1: Secret "plain": not an Argo CD cluster Secret: label argocd.argoproj.io/secret-type=cluster is missing`,
		},
		{
			name: "unknown top-level field",
			data: lead + secretYAML("prod", "stringData:\n  name: prod\nspec: {}\n"),
			want: "clusters.yaml:3: Secret \"cluster-prod\": invalid YAML: yaml: unmarshal errors:\n  line 16: field spec not found in type registry.secret",
		},
		{
			// Kubernetes rejects it (labels are strings); go-yaml alone
			// would read the string "true".
			name: "unquoted bool label",
			data: lead + strings.Replace(secretYAML("prod", "stringData:\n  name: prod\n"), "    environment: prod\n", "    environment: prod\n    enable_x: true\n", 1),
			want: "clusters.yaml:3: Secret \"cluster-prod\": invalid YAML: yaml: unmarshal errors:\n  line 11: value of \"enable_x\" is a YAML bool, not a string: quote it",
		},
		{
			name: "number annotation and stringData",
			data: strings.Replace(secretYAML("prod", "stringData:\n  name: prod\n  port: 443\n"), "  annotations:\n", "  annotations:\n    replicas: 3\n", 1),
			want: "clusters.yaml:1: Secret \"cluster-prod\": invalid YAML: yaml: unmarshal errors:\n  line 10: value of \"replicas\" is a YAML int, not a string: quote it\n  line 15: value of \"port\" is a YAML int, not a string: quote it",
		},
		{
			name: "list label",
			data: strings.Replace(secretYAML("prod", ""), "    environment: prod\n", "    environment: [a]\n", 1),
			want: "clusters.yaml:1: Secret \"cluster-prod\": invalid YAML: yaml: unmarshal errors:\n  line 8: cannot unmarshal !!seq into string",
		},
		{
			// go-yaml's own line for this document is 3 (it counts parser
			// errors from 0); shifted by the two lines before the document.
			name: "malformed YAML",
			data: lead + "apiVersion: v1\nkind: Secret\nmetadata:\n  name: [x\n",
			want: "clusters.yaml:3: invalid YAML: yaml: line 5: did not find expected ',' or ']'",
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cs, err := Parse("clusters.yaml", []byte(c.data))
			if err == nil {
				t.Fatalf("no error; clusters %+v", cs)
			}
			if cs != nil {
				t.Errorf("clusters returned with an error")
			}
			if err.Error() != c.want {
				t.Errorf("error\n got %q\nwant %q", err, c.want)
			}
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Errorf("error %T is not a *ParseError", err)
			}
		})
	}
}

// Quoted values, YAML strings that look like other types to a human, and
// null are all fine.
func TestParseStringLikeValues(t *testing.T) {
	data := strings.Replace(secretYAML("prod", "stringData:\n  name: prod\n  server: https://prod\n"), "    environment: prod\n",
		"    environment: prod\n    enable_x: \"true\"\n    version: '1.30'\n    date: 2024-01-01\n    empty: \"\"\n    nothing:\n    word: yes-please\n", 1)
	c := mustParse(t, data)[0]
	want := map[string]string{
		SecretTypeLabel: SecretTypeCluster, "environment": "prod", "enable_x": "true", "version": "1.30",
		"date": "2024-01-01", "empty": "", "nothing": "", "word": "yes-please",
	}
	if !reflect.DeepEqual(c.Labels, want) {
		t.Errorf("labels\n got %v\nwant %v", c.Labels, want)
	}
}

// Anchors, merge keys and duplicate keys behave as go-yaml decodes them.
func TestParseYAMLFeatures(t *testing.T) {
	data := `apiVersion: v1
kind: Secret
metadata:
  name: x
  labels: &l
    argocd.argoproj.io/secret-type: cluster
    a: b
  annotations:
    <<: *l
    c: d
stringData: {name: x}
`
	c := mustParse(t, data)[0]
	want := map[string]string{SecretTypeLabel: SecretTypeCluster, "a": "b", "c": "d"}
	if !reflect.DeepEqual(c.Annotations, want) {
		t.Errorf("annotations = %v, want %v", c.Annotations, want)
	}
	_, err := Parse("d.yaml", []byte(strings.Replace(data, "    c: d\n", "    c: d\n    c: e\n", 1)))
	if want := `d.yaml:1: Secret "x": invalid YAML: yaml: unmarshal errors:` + "\n" + `  line 11: mapping key "c" already defined at line 10`; err == nil || err.Error() != want {
		t.Errorf("duplicate key: error %v, want %q", err, want)
	}
}

// stringMap reads what map[string]string reads, except non-string scalars.
func FuzzStringMap(f *testing.F) {
	for _, s := range []string{"a: b", "a: true", "{a: 1, b: '1'}", "a: &x b\nc: *x", "<<: {a: b}\nc: d", "a: 2024-01-01", "~: x", "a: !!binary aGk=", "a: [1]", "a: b\na: c", "? [k]\n: v"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var plain map[string]string
		perr := yaml.Unmarshal(data, &plain)
		var sm stringMap
		serr := yaml.Unmarshal(data, &sm)
		if serr == nil {
			if perr != nil {
				t.Fatalf("stringMap accepts %q, map[string]string fails: %v", data, perr)
			}
			if !reflect.DeepEqual(map[string]string(sm), plain) {
				t.Fatalf("%q: stringMap %v, map[string]string %v", data, sm, plain)
			}
			return
		}
		if perr == nil && !strings.Contains(serr.Error(), "not a string: quote it") {
			t.Fatalf("%q: stringMap error %v, map[string]string accepts it", data, serr)
		}
	})
}

// A Secret exported with `kubectl get secret -o yaml` carries server-side
// metadata; it is accepted and ignored.
func TestParseKubectlExport(t *testing.T) {
	data := `apiVersion: v1
data:
  name: cHJvZA==
  server: aHR0cHM6Ly9wcm9kLmV4YW1wbGUuY29t
  config: e30=
kind: Secret
metadata:
  annotations:
    kubectl.kubernetes.io/last-applied-configuration: |
      {"apiVersion":"v1","kind":"Secret"}
  creationTimestamp: "2024-05-01T10:00:00Z"
  generation: 1
  labels:
    argocd.argoproj.io/secret-type: cluster
  managedFields:
  - apiVersion: v1
    fieldsType: FieldsV1
    fieldsV1:
      f:data:
        .: {}
        f:name: {}
    manager: kubectl-client-side-apply
    operation: Update
    time: "2024-05-01T10:00:00Z"
  name: cluster-prod
  namespace: argocd
  ownerReferences: []
  finalizers: []
  resourceVersion: "123456"
  uid: 0b0c1f8e-8f4e-4f7a-9c2e-1c2d3e4f5a6b
  selfLink: /api/v1/namespaces/argocd/secrets/cluster-prod
immutable: false
type: Opaque
`
	c := mustParse(t, data)[0]
	if c.Name != "prod" || c.Server != "https://prod.example.com" || c.SecretName != "cluster-prod" || c.Namespace != "argocd" {
		t.Errorf("got %+v", c)
	}
	// kubectl's last-applied-configuration holds the whole Secret, token
	// included: it is dropped (see TestLastAppliedConfigurationIsDropped).
	if _, ok := c.Annotations[LastAppliedAnnotation]; ok || len(c.Annotations) != 0 {
		t.Errorf("annotations = %v", c.Annotations)
	}
}

func TestParseMultipleDocuments(t *testing.T) {
	data := "# header\n---\n" + secretYAML("a", "stringData: {name: a, server: https://a}\n") +
		"---\n" + secretYAML("b", "stringData: {name: b, server: https://b}\n") +
		"...\n---\n# trailing comment only\n"
	cs := mustParse(t, data)
	if len(cs) != 2 {
		t.Fatalf("got %d clusters", len(cs))
	}
	if cs[0].Name != "a" || cs[0].Line != 3 || cs[1].Name != "b" || cs[1].Line != 16 {
		t.Errorf("clusters: %s@%d, %s@%d; want a@3, b@16", cs[0].Name, cs[0].Line, cs[1].Name, cs[1].Line)
	}
	// Errors of several documents are all reported.
	bad := secretYAML("a", "data: {name: '!!'}\n") + "---\n" + secretYAML("b", "data: {server: '??'}\n")
	_, err := Parse("x.yaml", []byte(bad))
	if err == nil {
		t.Fatal("no error")
	}
	msg := err.Error()
	if !strings.Contains(msg, `x.yaml:1: Secret "cluster-a": data.name`) || !strings.Contains(msg, `x.yaml:14: Secret "cluster-b": data.server`) {
		t.Errorf("error does not name both Secrets: %q", msg)
	}
}

func cluster(name, server, file string, line int) *Cluster {
	return &Cluster{Name: name, Server: server, SecretName: "cluster-" + name, File: file, Line: line}
}

func TestNew(t *testing.T) {
	r, err := New([]*Cluster{
		cluster("zeta", "https://zeta/", "a.yaml", 1),
		cluster("alpha", "https://alpha", "a.yaml", 20),
		cluster("mid", "https://kubernetes.default.svc", "b.yaml", 1),
	})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range r.Clusters {
		names = append(names, c.Name)
	}
	if want := []string{"alpha", "mid", "zeta"}; !reflect.DeepEqual(names, want) {
		t.Errorf("Clusters = %v, want sorted %v", names, want)
	}
	if c, ok := r.ByName("alpha"); !ok || c.Server != "https://alpha" {
		t.Errorf("ByName(alpha) = %v, %v", c, ok)
	}
	if c, ok := r.ByName("missing"); ok || c != nil {
		t.Errorf("ByName(missing) = %v, %v", c, ok)
	}
	for server, want := range map[string]bool{
		"https://alpha":                  true,
		"https://alpha/":                 true, // trailing slash ignored both ways
		"https://zeta":                   true,
		"https://zeta//":                 true,
		"https://kubernetes.default.svc": true,
		"https://ALPHA":                  false,
		"https://alpha:443":              false,
		"":                               false,
	} {
		if got := r.HasServer(server); got != want {
			t.Errorf("HasServer(%q) = %v, want %v", server, got, want)
		}
	}
}

func TestNewDuplicateNames(t *testing.T) {
	_, err := New([]*Cluster{
		cluster("prod", "https://a", "clusters/a.yaml", 3),
		cluster("dev", "https://d", "clusters/d.yaml", 1),
		cluster("prod", "https://b", "clusters/b.yaml", 7),
	})
	if err == nil {
		t.Fatal("duplicate names accepted")
	}
	want := `clusters/b.yaml:7: Secret "cluster-prod": cluster name "prod" is already registered by Secret "cluster-prod" at clusters/a.yaml:3`
	if err.Error() != want {
		t.Errorf("error\n got %q\nwant %q", err, want)
	}
	// Same server under two names is allowed (Argo CD keys by name).
	if _, err := New([]*Cluster{cluster("a", "https://same", "f", 1), cluster("b", "https://same/", "f", 9)}); err != nil {
		t.Errorf("same server, two names: %v", err)
	}
}

func TestLoad(t *testing.T) {
	fsys := fstest.MapFS{
		"clusters/prod/cluster.yaml": {Data: []byte(secretYAML("prod", "stringData: {name: prod, server: https://prod}\n"))},
		"clusters/dev/cluster.yaml": {Data: []byte("# dev\n---\n" + secretYAML("dev", "stringData: {name: dev, server: https://dev}\n") +
			"---\n" + secretYAML("dev2", "stringData: {name: dev2, server: https://dev2}\n"))},
		"clusters/dup/cluster.yaml": {Data: []byte(secretYAML("dup", "stringData: {name: prod, server: https://other}\n"))},
		"clusters/bad/cluster.yaml": {Data: []byte(secretYAML("bad", "data: {name: '***'}\n"))},
	}
	r, err := Load(loader.RepoFiles(fsys, "clusters/prod/cluster.yaml", "clusters/dev/cluster.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Clusters) != 3 {
		t.Fatalf("got %d clusters", len(r.Clusters))
	}
	if c, ok := r.ByName("dev2"); !ok || c.Pos() != "clusters/dev/cluster.yaml:16" {
		t.Errorf("dev2: %v at %s", ok, c.Pos())
	}
	if !r.HasServer("https://prod/") {
		t.Error("HasServer(https://prod/) = false")
	}

	_, err = Load(loader.RepoFiles(fsys, "clusters/prod/cluster.yaml", "clusters/dup/cluster.yaml"))
	if err == nil || !strings.Contains(err.Error(), "clusters/dup/cluster.yaml:1") || !strings.Contains(err.Error(), "clusters/prod/cluster.yaml:1") {
		t.Errorf("duplicate across files: error %v must name both files", err)
	}

	_, err = Load(loader.RepoFiles(fsys, "clusters/bad/cluster.yaml", "clusters/missing.yaml", "clusters/prod/cluster.yaml"))
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{`clusters/bad/cluster.yaml:1: Secret "cluster-bad": data.name is not valid base64`, "reading cluster registry: open clusters/missing.yaml: file does not exist"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}
}

func TestParseFleetKeepsOrder(t *testing.T) {
	const n = 5000
	var buf bytes.Buffer
	if err := fleetgen.Write(&buf, n, 42); err != nil {
		t.Fatal(err)
	}
	data := buf.Bytes()
	// Expected Secret names and document lines, read off the text.
	var wantNames []string
	var wantLines []int
	nameRE := regexp.MustCompile(`^  name: (cluster-\S+)$`)
	for i, l := range strings.Split(string(data), "\n") {
		if l == "---" {
			wantLines = append(wantLines, i+2)
		}
		if m := nameRE.FindStringSubmatch(l); m != nil {
			wantNames = append(wantNames, m[1])
		}
	}
	if len(wantNames) != n || len(wantLines) != n {
		t.Fatalf("fleetgen wrote %d names, %d separators", len(wantNames), len(wantLines))
	}
	cs, err := Parse("fleet.yaml", data)
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != n {
		t.Fatalf("got %d clusters, want %d", len(cs), n)
	}
	for i, c := range cs {
		if c.SecretName != wantNames[i] || c.Line != wantLines[i] || "cluster-"+c.Name != c.SecretName {
			t.Fatalf("cluster %d: %s (name %s) at line %d; want %s at line %d", i, c.SecretName, c.Name, c.Line, wantNames[i], wantLines[i])
		}
		if c.Labels["enable_argocd"] != "true" || !strings.HasPrefix(c.Server, "https://") {
			t.Fatalf("cluster %d: labels %v, server %q", i, c.Labels, c.Server)
		}
	}
	if _, err := New(cs); err != nil {
		t.Errorf("fleet names are not unique: %v", err)
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(secretYAML("a", "stringData: {name: a, server: https://a}\n")))
	f.Add([]byte(secretYAML("a", "data: {name: YQ==}\n") + "---\n" + secretYAML("b", "data: {name: '*'}\n")))
	f.Add([]byte("apiVersion: v1\nkind: Secret\nmetadata: {labels: {argocd.argoproj.io/secret-type: cluster, x: true}}\n"))
	f.Add([]byte("metadata: {labels: &a {k: *a}}\n"))
	f.Add([]byte("---\n--- x\n...\nkind: [\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		cs, err := Parse("f.yaml", data)
		if err != nil {
			if cs != nil {
				t.Fatal("clusters and an error")
			}
			if !strings.HasPrefix(err.Error(), "f.yaml:") {
				t.Fatalf("error does not name the file: %q", err)
			}
			return
		}
		docs := loader.SplitDocuments("f.yaml", data)
		if len(cs) != len(docs) {
			t.Fatalf("%d clusters from %d documents", len(cs), len(docs))
		}
		for i, c := range cs {
			if c.File != "f.yaml" || c.Line != docs[i].Line || c.Labels[SecretTypeLabel] != SecretTypeCluster {
				t.Fatalf("cluster %d: %+v (document at line %d)", i, c, docs[i].Line)
			}
		}
	})
}

func BenchmarkParse10000(b *testing.B) {
	var buf bytes.Buffer
	if err := fleetgen.Write(&buf, 10000, 1); err != nil {
		b.Fatal(err)
	}
	data := buf.Bytes()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		cs, err := Parse("fleet.yaml", data)
		if err != nil || len(cs) != 10000 {
			b.Fatalf("Parse: %d clusters, %v", len(cs), err)
		}
	}
}

// What `kubectl -n argocd get secret -l argocd.argoproj.io/secret-type=cluster
// -o yaml` writes for several Secrets: a v1 List with items (the README's
// recipe). Each item is a cluster, positioned at its own line.
func TestParseKubectlList(t *testing.T) {
	data := `apiVersion: v1
items:
- apiVersion: v1
  data:
    name: cHJvZA==
    server: aHR0cHM6Ly9wcm9kLmV4YW1wbGUuY29t
  kind: Secret
  metadata:
    labels:
      argocd.argoproj.io/secret-type: cluster
      environment: prod
    name: cluster-prod
    namespace: argocd
    resourceVersion: "1"
  type: Opaque
- apiVersion: v1
  kind: Secret
  metadata:
    labels:
      argocd.argoproj.io/secret-type: cluster
    name: cluster-dev
    namespace: argocd
  stringData:
    name: dev
    server: https://dev.example.com
kind: List
metadata:
  resourceVersion: ""
`
	cs := mustParse(t, data)
	if len(cs) != 2 {
		t.Fatalf("%d clusters, want 2", len(cs))
	}
	if cs[0].Name != "prod" || cs[0].Server != "https://prod.example.com" || cs[0].Labels["environment"] != "prod" || cs[0].Line != 3 {
		t.Errorf("first item: %+v", cs[0])
	}
	if cs[1].Name != "dev" || cs[1].Line != 16 {
		t.Errorf("second item: %+v", cs[1])
	}
	// A List beside plain documents; an item that is not a cluster Secret
	// is an error at its line.
	mixed := secretYAML("a", "stringData: {name: a, server: https://a}\n") + "---\napiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: cm}\n"
	_, err := Parse("clusters.yaml", []byte(mixed))
	if err == nil || !strings.Contains(err.Error(), "ConfigMap is not a Secret") {
		t.Fatalf("a List with a ConfigMap: %v", err)
	}
	if _, err := Parse("clusters.yaml", []byte("apiVersion: v2\nkind: List\nitems: []\n")); err == nil {
		t.Error("a List of another apiVersion: no error")
	}
	if cs, err := Parse("clusters.yaml", []byte("apiVersion: v1\nkind: List\nitems: []\n")); err != nil || len(cs) != 0 {
		t.Errorf("an empty List: %v, %v", cs, err)
	}
}
