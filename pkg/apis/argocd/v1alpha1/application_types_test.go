package v1alpha1

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/yaml"
)

// fullApplication sets every field of the spec, modelled on upstream's
// documented example docs/operator-manual/application.yaml and extended with
// the fields that example lacks (v3.6 types.go / application CRD). Boolean
// omitempty fields are true here: a false one would legitimately vanish on
// re-marshalling (covered by TestOmitEmpty).
const fullApplication = `
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: guestbook
  namespace: argocd
  labels:
    name: guestbook
  annotations:
    team: web
  finalizers:
  - resources-finalizer.argocd.argoproj.io
spec:
  project: default
  source:
    repoURL: https://github.com/argoproj/argocd-example-apps.git
    targetRevision: HEAD
    path: guestbook
    chart: chart-name
    ref: values
    name: main
    helm:
      passCredentials: true
      parameters:
      - name: "ingress.annotations.kubernetes\\.io/tls-acme"
        value: "true"
        forceString: true
      fileParameters:
      - name: config
        path: files/config.json
      releaseName: guestbook
      valueFiles:
      - values-prod.yaml
      ignoreMissingValueFiles: true
      values: |
        ingress:
          enabled: true
      valuesObject:
        ingress:
          enabled: true
          hosts:
          - mydomain.example.com
          labels: {}
          replicas: 2
      skipCrds: true
      skipTests: true
      skipSchemaValidation: true
      version: v3
      namespace: helm-ns
      kubeVersion: "1.33.0"
      apiVersions:
      - monitoring.coreos.com/v1/ServiceMonitor
    kustomize:
      version: v5.4.3
      namePrefix: prod-
      nameSuffix: -some-suffix
      commonLabels:
        foo: bar
      commonAnnotations:
        beep: boop-${ARGOCD_APP_REVISION}
      commonAnnotationsEnvsubst: true
      forceCommonLabels: true
      forceCommonAnnotations: true
      labelWithoutSelector: true
      labelIncludeTemplates: true
      images:
      - gcr.io/heptio-images/ks-guestbook-demo:0.2
      - my-app=gcr.io/my-repo/my-app:0.1
      namespace: custom-namespace
      replicas:
      - name: kustomize-guestbook-ui
        count: 4
      - name: kustomize-guestbook-api
        count: "2"
      patches:
      - path: patch.yaml
        options:
          allowNameChange: true
      - patch: |-
          - op: replace
            path: /spec/replicas
            value: 3
        target:
          group: apps
          version: v1
          kind: Deployment
          name: guestbook-ui
          namespace: default
          labelSelector: app=guestbook
          annotationSelector: tier=web
      components:
      - ../component
      ignoreMissingComponents: true
      kubeVersion: "1.33.0"
      apiVersions:
      - apps/v1/Deployment
    directory:
      recurse: true
      jsonnet:
        extVars:
        - name: foo
          value: bar
        - code: true
          name: baz
          value: "true"
        tlas:
        - name: foo
          value: bar
        libs:
        - vendor
      exclude: config.yaml
      include: '*.yaml'
    plugin:
      name: mypluginname
      env:
      - name: FOO
        value: bar
      parameters:
      - name: string-param
        string: example-string
      - name: array-param
        array: [item1, item2]
      - name: map-param
        map:
          param-name: param-value
      - name: empty-array-and-map
        array: []
        map: {}
  sources:
  - repoURL: https://github.com/argoproj/argocd-example-apps.git
    targetRevision: HEAD
    path: guestbook
    ref: my-repo
  - repoURL: https://charts.example.com
    chart: guestbook
    targetRevision: 1.2.3
    helm:
      valueFiles:
      - $my-repo/values.yaml
  sourceHydrator:
    drySource:
      repoURL: https://github.com/argoproj/argocd-example-apps
      targetRevision: HEAD
      path: helm-guestbook
      helm:
        valueFiles:
        - values-dev.yaml
      kustomize:
        namePrefix: dev-
      directory:
        recurse: true
      plugin:
        name: hydrate
    syncSource:
      targetBranch: environments/dev
      path: helm-guestbook
    hydrateTo:
      targetBranch: environments/dev-next
  destination:
    server: https://kubernetes.default.svc
    name: in-cluster
    namespace: guestbook
  info:
  - name: 'Example:'
    value: https://example.com
  syncPolicy:
    automated:
      prune: true
      selfHeal: true
      allowEmpty: true
      enabled: false
    syncOptions:
    - Validate=false
    - CreateNamespace=true
    managedNamespaceMetadata:
      labels:
        any: label
      annotations:
        the: same
    retry:
      limit: 5
      refresh: true
      backoff:
        duration: 5s
        factor: 2
        maxDuration: 3m
  ignoreDifferences:
  - group: apps
    kind: Deployment
    name: my-deployment
    namespace: my-namespace
    jsonPointers:
    - /spec/replicas
    jqPathExpressions:
    - .spec.template.spec.initContainers[] | select(.name == "injected")
    managedFieldsManagers:
    - kube-controller-manager
  revisionHistoryLimit: 10
`

// yamlToGeneric decodes YAML into generic JSON values for a semantic comparison.
func yamlToGeneric(t *testing.T, y []byte) any {
	t.Helper()
	j, err := yaml.YAMLToJSON(y)
	if err != nil {
		t.Fatalf("YAMLToJSON: %v", err)
	}
	var v any
	if err := json.Unmarshal(j, &v); err != nil {
		t.Fatalf("json.Unmarshal: %v", err)
	}
	return v
}

// TestApplicationRoundTrip proves every field name: a strict decode rejects any
// key our types do not know, and the re-marshalled document must equal the
// input, so no key is renamed or lost.
func TestApplicationRoundTrip(t *testing.T) {
	var app Application
	if err := yaml.UnmarshalStrict([]byte(fullApplication), &app); err != nil {
		t.Fatalf("UnmarshalStrict: %v", err)
	}
	out, err := yaml.Marshal(&app)
	if err != nil {
		t.Fatalf("Marshal: %v", err)
	}
	if got, want := yamlToGeneric(t, out), yamlToGeneric(t, []byte(fullApplication)); !reflect.DeepEqual(got, want) {
		t.Errorf("round trip differs\n got: %#v\nwant: %#v\nyaml:\n%s", got, want, out)
	}

	// Spot-check a few decoded values that the generic comparison cannot see.
	src := app.Spec.Source
	if c := src.Kustomize.Replicas[1].Count; c.StrVal != "2" {
		t.Errorf("string replica count decoded as %#v", c)
	}
	if p := src.Plugin.Parameters[3]; p.OptionalMap == nil || p.OptionalArray == nil {
		t.Errorf("empty map/array parameter lost its presence: %#v", p)
	}
	if e := app.Spec.SyncPolicy.Automated.Enabled; e == nil || *e {
		t.Errorf("automated.enabled = %v, want explicit false", e)
	}
}

func TestUnmarshalStrictRejectsUnknownFields(t *testing.T) {
	for _, doc := range []string{
		"spec: {project: p, destination: {}, source: {repoURL: r, helm: {valueFile: [a]}}}",
		"spec: {project: p, destination: {}, source: {repoURL: r, plugin: {parameters: [{name: a, strings: b}]}}}",
		"spec: {project: p, destination: {}, source: {repoURL: r, kustomize: {patches: [{target: {kinds: X}}]}}}",
	} {
		var app Application
		if err := yaml.UnmarshalStrict([]byte(doc), &app); err == nil {
			t.Errorf("UnmarshalStrict(%q) succeeded, want unknown field error", doc)
		}
	}
}

func TestOmitEmpty(t *testing.T) {
	f := false
	str := ""
	cases := []struct {
		name string
		in   any
		want string
	}{
		// repoURL and project carry no omitempty upstream.
		{"empty source keeps repoURL", ApplicationSource{}, `{"repoURL":""}`},
		{"empty spec keeps project and destination", ApplicationSpec{}, `{"destination":{},"project":""}`},
		{"empty application", Application{}, `{"metadata":{},"spec":{"destination":{},"project":""}}`},
		{"false prune/selfHeal/allowEmpty dropped", SyncPolicyAutomated{}, `{}`},
		{"explicit enabled false kept", SyncPolicyAutomated{Enabled: &f}, `{"enabled":false}`},
		{"retry without limit/refresh", RetryStrategy{}, `{}`},
		{"ignoreDifferences keeps kind", ResourceIgnoreDifferences{}, `{"kind":""}`},
		{"info keeps name and value", Info{}, `{"name":"","value":""}`},
		{"env entry keeps name and value", EnvEntry{}, `{"name":"","value":""}`},
		{"jsonnet var drops false code", JsonnetVar{Name: "a"}, `{"name":"a","value":""}`},
		{"helm parameter drops everything", HelmParameter{}, `{}`},
		{"replica keeps count", KustomizeReplica{}, `{"name":"","count":0}`},
		{"hydrator keeps required keys", SourceHydrator{}, `{"drySource":{"repoURL":"","targetRevision":"","path":""},"syncSource":{"targetBranch":"","path":""}}`},
		{"directory without jsonnet: {}", ApplicationSourceDirectory{Recurse: true}, `{"recurse":true}`},
		{"directory with jsonnet", ApplicationSourceDirectory{Jsonnet: ApplicationSourceJsonnet{Libs: []string{"v"}}}, `{"jsonnet":{"libs":["v"]}}`},
		{"nil valuesObject dropped", ApplicationSourceHelm{}, `{}`},
		// Plugin parameters: upstream's MarshalJSON always writes name, and
		// writes a set-but-nil map/array as {} / [].
		{"parameter always has name", ApplicationSourcePluginParameter{}, `{"name":""}`},
		{"empty string parameter kept", ApplicationSourcePluginParameter{Name: "s", String: &str}, `{"name":"s","string":""}`},
		{"nil map and array as {} and []", ApplicationSourcePluginParameter{Name: "m", OptionalMap: &OptionalMap{}, OptionalArray: &OptionalArray{}}, `{"name":"m","map":{},"array":[]}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := json.Marshal(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if !jsonEqual(t, got, []byte(tc.want)) {
				t.Errorf("got %s, want %s", got, tc.want)
			}
		})
	}
}

func TestPluginParameterDecoding(t *testing.T) {
	// As upstream (plain encoding/json on the embedded wrappers), a null map
	// or array still marks the key present and re-encodes as {} / [].
	var p ApplicationSourcePluginParameter
	if err := json.Unmarshal([]byte(`{"name":"n","map":null,"array":null}`), &p); err != nil {
		t.Fatal(err)
	}
	got, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"name":"n","map":{},"array":[]}`; !jsonEqual(t, got, []byte(want)) {
		t.Errorf("got %s, want %s", got, want)
	}
}

func jsonEqual(t *testing.T, a, b []byte) bool {
	t.Helper()
	var x, y any
	if err := json.Unmarshal(a, &x); err != nil {
		t.Fatalf("%s: %v", a, err)
	}
	if err := json.Unmarshal(b, &y); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	return reflect.DeepEqual(x, y)
}

func TestIsZero(t *testing.T) {
	raw := func(s string) *runtime.RawExtension { return &runtime.RawExtension{Raw: []byte(s)} }
	cases := []struct {
		name string
		zero bool
		got  bool
	}{
		{"nil helm", true, (*ApplicationSourceHelm)(nil).IsZero()},
		{"empty helm", true, (&ApplicationSourceHelm{ValueFiles: []string{}}).IsZero()},
		{"helm namespace", false, (&ApplicationSourceHelm{Namespace: "n"}).IsZero()},
		{"helm skipSchemaValidation", false, (&ApplicationSourceHelm{SkipSchemaValidation: true}).IsZero()},
		{"helm values", false, (&ApplicationSourceHelm{Values: "a: 1"}).IsZero()},
		{"helm valuesObject {}", false, (&ApplicationSourceHelm{ValuesObject: raw("{}")}).IsZero()},
		{"helm valuesObject without bytes", true, (&ApplicationSourceHelm{ValuesObject: &runtime.RawExtension{}}).IsZero()},
		{"nil kustomize", true, (*ApplicationSourceKustomize)(nil).IsZero()},
		{"kustomize namePrefix", false, (&ApplicationSourceKustomize{NamePrefix: "p"}).IsZero()},
		{"kustomize ignoreMissingComponents", false, (&ApplicationSourceKustomize{IgnoreMissingComponents: true}).IsZero()},
		// Upstream does not look at these switches.
		{"kustomize labelWithoutSelector only", true, (&ApplicationSourceKustomize{LabelWithoutSelector: true, ForceCommonLabels: true}).IsZero()},
		{"nil directory", true, (*ApplicationSourceDirectory)(nil).IsZero()},
		{"directory include only", true, (&ApplicationSourceDirectory{Include: "*.yaml"}).IsZero()},
		{"directory recurse", false, (&ApplicationSourceDirectory{Recurse: true}).IsZero()},
		{"directory jsonnet libs", false, (&ApplicationSourceDirectory{Jsonnet: ApplicationSourceJsonnet{Libs: []string{"v"}}}).IsZero()},
		{"nil sync policy", true, (*SyncPolicy)(nil).IsZero()},
		{"empty sync options", true, (&SyncPolicy{SyncOptions: SyncOptions{}}).IsZero()},
		{"automated {}", false, (&SyncPolicy{Automated: &SyncPolicyAutomated{}}).IsZero()},
		{"retry {}", false, (&SyncPolicy{Retry: &RetryStrategy{}}).IsZero()},
	}
	for _, tc := range cases {
		if tc.got != tc.zero {
			t.Errorf("%s: IsZero() = %v, want %v", tc.name, tc.got, tc.zero)
		}
	}
}

func TestNormalizeApplicationSpec(t *testing.T) {
	src := func(s ApplicationSource) *ApplicationSource { s.RepoURL = "r"; return &s }
	cases := []struct {
		name     string
		upstream string // test or code in argo-cd this case reproduces
		in, want ApplicationSpec
	}{
		{
			name:     "empty project defaults",
			upstream: "util/argo/argo_test.go TestNormalizeApplicationSpec",
			in:       ApplicationSpec{},
			want:     ApplicationSpec{Project: "default"},
		},
		{
			name:     "project kept",
			upstream: "util/argo/argo.go NormalizeApplicationSpec",
			in:       ApplicationSpec{Project: "p"},
			want:     ApplicationSpec{Project: "p"},
		},
		{
			name:     "zero sync policy removed",
			upstream: "util/argo/argo.go NormalizeApplicationSpec + SyncPolicy.IsZero",
			in:       ApplicationSpec{Project: "p", SyncPolicy: &SyncPolicy{SyncOptions: SyncOptions{}}},
			want:     ApplicationSpec{Project: "p"},
		},
		{
			name:     "automated {} kept",
			upstream: "SyncPolicy.IsZero",
			in:       ApplicationSpec{Project: "p", SyncPolicy: &SyncPolicy{Automated: &SyncPolicyAutomated{}}},
			want:     ApplicationSpec{Project: "p", SyncPolicy: &SyncPolicy{Automated: &SyncPolicyAutomated{}}},
		},
		{
			name:     "kustomize with only labelWithoutSelector removed",
			upstream: "ApplicationSourceKustomize.IsZero",
			in:       ApplicationSpec{Project: "p", Source: src(ApplicationSource{Kustomize: &ApplicationSourceKustomize{LabelWithoutSelector: true}})},
			want:     ApplicationSpec{Project: "p", Source: src(ApplicationSource{})},
		},
		{
			name:     "util/argo/argo.go NormalizeApplicationSpec: zero source.helm removed when sources is empty",
			upstream: "util/argo/argo.go NormalizeApplicationSpec (else branch: NormalizeSource(spec.Source))",
			in:       ApplicationSpec{Project: "p", Source: src(ApplicationSource{Helm: &ApplicationSourceHelm{ValueFiles: []string{}}})},
			want:     ApplicationSpec{Project: "p", Source: src(ApplicationSource{})},
		},
		{
			name:     "util/argo/argo.go NormalizeApplicationSpec: non-zero source.helm kept",
			upstream: "util/argo/argo.go NormalizeSource + ApplicationSourceHelm.IsZero",
			in:       ApplicationSpec{Project: "p", Source: src(ApplicationSource{Helm: &ApplicationSourceHelm{ValueFiles: []string{"values.yaml"}}})},
			want:     ApplicationSpec{Project: "p", Source: src(ApplicationSource{Helm: &ApplicationSourceHelm{ValueFiles: []string{"values.yaml"}}})},
		},
		{
			name:     "util/argo/argo.go NormalizeApplicationSpec: helm valuesObject {} is not zero and is kept",
			upstream: "util/argo/argo.go NormalizeSource + ApplicationSourceHelm.ValuesIsEmpty",
			in:       ApplicationSpec{Project: "p", Source: src(ApplicationSource{Helm: &ApplicationSourceHelm{ValuesObject: &runtime.RawExtension{Raw: []byte("{}")}}})},
			want:     ApplicationSpec{Project: "p", Source: src(ApplicationSource{Helm: &ApplicationSourceHelm{ValuesObject: &runtime.RawExtension{Raw: []byte("{}")}}})},
		},
		{
			name:     "util/argo/argo.go NormalizeApplicationSpec: sources[i].helm {} is kept (loop ranges over copies)",
			upstream: "util/argo/argo.go NormalizeApplicationSpec (for _, source := range spec.Sources { NormalizeSource(&source) })",
			in: ApplicationSpec{Project: "p", Sources: ApplicationSources{
				*src(ApplicationSource{Helm: &ApplicationSourceHelm{}}),
				*src(ApplicationSource{Helm: &ApplicationSourceHelm{ValueFiles: []string{"values.yaml"}}}),
			}},
			want: ApplicationSpec{Project: "p", Sources: ApplicationSources{
				*src(ApplicationSource{Helm: &ApplicationSourceHelm{}}),
				*src(ApplicationSource{Helm: &ApplicationSourceHelm{ValueFiles: []string{"values.yaml"}}}),
			}},
		},
		{
			name:     "util/argo/argo.go NormalizeApplicationSpec: sources[i] zero kustomize and directory are kept",
			upstream: "util/argo/argo.go NormalizeApplicationSpec (loop over copies of spec.Sources)",
			in: ApplicationSpec{Project: "p", Sources: ApplicationSources{
				*src(ApplicationSource{Kustomize: &ApplicationSourceKustomize{}}),
				*src(ApplicationSource{Kustomize: &ApplicationSourceKustomize{ForceCommonLabels: true}}),
				*src(ApplicationSource{Directory: &ApplicationSourceDirectory{}}),
				*src(ApplicationSource{Directory: &ApplicationSourceDirectory{Include: "*.yaml", Jsonnet: ApplicationSourceJsonnet{ExtVars: []JsonnetVar{}}}}),
			}},
			want: ApplicationSpec{Project: "p", Sources: ApplicationSources{
				*src(ApplicationSource{Kustomize: &ApplicationSourceKustomize{}}),
				*src(ApplicationSource{Kustomize: &ApplicationSourceKustomize{ForceCommonLabels: true}}),
				*src(ApplicationSource{Directory: &ApplicationSourceDirectory{}}),
				*src(ApplicationSource{Directory: &ApplicationSourceDirectory{Include: "*.yaml", Jsonnet: ApplicationSourceJsonnet{ExtVars: []JsonnetVar{}}}}),
			}},
		},
		{
			name:     "util/argo/argo.go NormalizeApplicationSpec: source is not normalised when sources is set",
			upstream: "util/argo/argo.go NormalizeApplicationSpec (spec.Source only in the else branch)",
			in: ApplicationSpec{Project: "p", Source: src(ApplicationSource{Helm: &ApplicationSourceHelm{}, Directory: &ApplicationSourceDirectory{}}),
				Sources: ApplicationSources{*src(ApplicationSource{Kustomize: &ApplicationSourceKustomize{}})}},
			want: ApplicationSpec{Project: "p", Source: src(ApplicationSource{Helm: &ApplicationSourceHelm{}, Directory: &ApplicationSourceDirectory{}}),
				Sources: ApplicationSources{*src(ApplicationSource{Kustomize: &ApplicationSourceKustomize{}})}},
		},
		{
			name:     "util/argo/argo.go NormalizeApplicationSpec: zero source.kustomize removed",
			upstream: "util/argo/argo_test.go TestNilOutZerValueAppSources",
			in:       ApplicationSpec{Project: "p", Source: src(ApplicationSource{Kustomize: &ApplicationSourceKustomize{}})},
			want:     ApplicationSpec{Project: "p", Source: src(ApplicationSource{})},
		},
		{
			name:     "util/argo/argo.go NormalizeApplicationSpec: non-zero source.kustomize kept",
			upstream: "util/argo/argo_test.go TestNilOutZerValueAppSources",
			in:       ApplicationSpec{Project: "p", Source: src(ApplicationSource{Kustomize: &ApplicationSourceKustomize{NamePrefix: "foo"}})},
			want:     ApplicationSpec{Project: "p", Source: src(ApplicationSource{Kustomize: &ApplicationSourceKustomize{NamePrefix: "foo"}})},
		},
		{
			name:     "util/argo/argo.go NormalizeApplicationSpec: source.kustomize with only forceCommonLabels removed",
			upstream: "util/argo/argo.go NormalizeSource + ApplicationSourceKustomize.IsZero",
			in:       ApplicationSpec{Project: "p", Source: src(ApplicationSource{Kustomize: &ApplicationSourceKustomize{ForceCommonLabels: true}})},
			want:     ApplicationSpec{Project: "p", Source: src(ApplicationSource{})},
		},
		{
			name:     "util/argo/argo.go NormalizeApplicationSpec: zero source.directory removed",
			upstream: "util/argo/argo_test.go TestNilOutZerValueAppSources",
			in:       ApplicationSpec{Project: "p", Source: src(ApplicationSource{Directory: &ApplicationSourceDirectory{Jsonnet: ApplicationSourceJsonnet{Libs: []string{}}}})},
			want:     ApplicationSpec{Project: "p", Source: src(ApplicationSource{})},
		},
		{
			name:     "util/argo/argo.go NormalizeApplicationSpec: source.directory with recurse kept",
			upstream: "util/argo/argo_test.go TestNilOutZerValueAppSources",
			in:       ApplicationSpec{Project: "p", Source: src(ApplicationSource{Directory: &ApplicationSourceDirectory{Recurse: true, Include: "*.yaml"}})},
			want:     ApplicationSpec{Project: "p", Source: src(ApplicationSource{Directory: &ApplicationSourceDirectory{Recurse: true, Include: "*.yaml"}})},
		},
		{
			name:     "util/argo/argo.go NormalizeApplicationSpec: source.directory with jsonnet libs kept",
			upstream: "util/argo/argo.go NormalizeSource + ApplicationSourceDirectory.IsZero",
			in:       ApplicationSpec{Project: "p", Source: src(ApplicationSource{Directory: &ApplicationSourceDirectory{Jsonnet: ApplicationSourceJsonnet{Libs: []string{"vendor"}}}})},
			want:     ApplicationSpec{Project: "p", Source: src(ApplicationSource{Directory: &ApplicationSourceDirectory{Jsonnet: ApplicationSourceJsonnet{Libs: []string{"vendor"}}}})},
		},
		{
			name:     "util/argo/argo.go NormalizeApplicationSpec: zero source.directory with only include keeps include",
			upstream: "util/argo/argo.go NormalizeSource (case source.Directory.Include != \"\")",
			in:       ApplicationSpec{Project: "p", Source: src(ApplicationSource{Directory: &ApplicationSourceDirectory{Include: "*.yaml", Jsonnet: ApplicationSourceJsonnet{TLAs: []JsonnetVar{}}}})},
			want:     ApplicationSpec{Project: "p", Source: src(ApplicationSource{Directory: &ApplicationSourceDirectory{Include: "*.yaml"}})},
		},
		{
			name:     "util/argo/argo.go NormalizeApplicationSpec: zero source.directory with only exclude keeps exclude",
			upstream: "util/argo/argo.go NormalizeSource (case source.Directory.Exclude != \"\")",
			in:       ApplicationSpec{Project: "p", Source: src(ApplicationSource{Directory: &ApplicationSourceDirectory{Exclude: "x", Jsonnet: ApplicationSourceJsonnet{ExtVars: []JsonnetVar{}}}})},
			want:     ApplicationSpec{Project: "p", Source: src(ApplicationSource{Directory: &ApplicationSourceDirectory{Exclude: "x"}})},
		},
		{
			name:     "util/argo/argo.go NormalizeApplicationSpec: zero source.directory with exclude and include keeps both",
			upstream: "util/argo/argo.go NormalizeSource (case Exclude != \"\" && Include != \"\")",
			in:       ApplicationSpec{Project: "p", Source: src(ApplicationSource{Directory: &ApplicationSourceDirectory{Exclude: "x", Include: "*.yaml", Jsonnet: ApplicationSourceJsonnet{ExtVars: []JsonnetVar{}}}})},
			want:     ApplicationSpec{Project: "p", Source: src(ApplicationSource{Directory: &ApplicationSourceDirectory{Exclude: "x", Include: "*.yaml"}})},
		},
		{
			name:     "source hydrator untouched",
			upstream: "util/argo/argo.go NormalizeApplicationSpec (does not look at sourceHydrator)",
			in:       ApplicationSpec{Project: "p", SourceHydrator: &SourceHydrator{DrySource: DrySource{Helm: &ApplicationSourceHelm{}}}},
			want:     ApplicationSpec{Project: "p", SourceHydrator: &SourceHydrator{DrySource: DrySource{Helm: &ApplicationSourceHelm{}}}},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.in
			NormalizeApplicationSpec(&got)
			if !reflect.DeepEqual(got, tc.want) {
				g, _ := json.Marshal(got)
				w, _ := json.Marshal(tc.want)
				t.Errorf("(%s)\n got %s\nwant %s", tc.upstream, g, w)
			}
		})
	}
	NormalizeApplicationSpec(nil) // must not panic
}

func TestNormalizeThenMarshal(t *testing.T) {
	spec := ApplicationSpec{Source: &ApplicationSource{RepoURL: "r", Directory: &ApplicationSourceDirectory{}, Helm: &ApplicationSourceHelm{}}}
	NormalizeApplicationSpec(&spec)
	out, err := yaml.Marshal(spec)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := strings.TrimSpace(string(out)), "destination: {}\nproject: default\nsource:\n  repoURL: r"; got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}
