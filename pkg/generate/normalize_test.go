package generate

import (
	"encoding/json"
	"math/rand"
	"reflect"
	"testing"

	"k8s.io/apimachinery/pkg/runtime"

	"github.com/gitops-hub/gitops-hub/pkg/apis/argocd/v1alpha1"
)

// The tests in this file prove that normalizeSpec, which works on the JSON
// tree of a generated Application, agrees with the typed
// v1alpha1.NormalizeApplicationSpec (upstream's NormalizeApplicationSpec in
// util/argo/argo.go): for a spec S, normalizeSpec({"spec": tree(S)}) must
// equal tree(NormalizeApplicationSpec(S)).

// normSpecTree encodes spec the way the brief of this test asks: json.Marshal,
// then json.Unmarshal into map[string]any.
func normSpecTree(t *testing.T, spec *v1alpha1.ApplicationSpec) map[string]any {
	t.Helper()
	b, err := json.Marshal(spec)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func normJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return "<" + err.Error() + ">"
	}
	return string(b)
}

// normDiff runs both normalisations on spec (which it consumes: the typed
// normalisation changes it) and returns a description of the difference, or
// "" when they agree. It also checks that normalizeSpec did not modify the
// input tree's source map, which may be shared with other Applications.
func normDiff(t *testing.T, spec *v1alpha1.ApplicationSpec) string {
	t.Helper()
	in := normSpecTree(t, spec)
	inJSON := normJSON(in)
	srcBefore := normJSON(in["source"])
	src := in["source"]

	app := map[string]any{"spec": in}
	normalizeSpec(app)
	got := app["spec"]

	v1alpha1.NormalizeApplicationSpec(spec)
	want := normSpecTree(t, spec)

	if !reflect.DeepEqual(got, want) {
		return "\n   in   " + inJSON + "\n   got  " + normJSON(got) + "\n   want " + normJSON(want)
	}
	if after := normJSON(src); after != srcBefore {
		return "\n   in   " + inJSON + "\n   normalizeSpec modified the input source map in place: " + srcBefore + " -> " + after
	}
	return ""
}

func normRaw(s string) *runtime.RawExtension { return &runtime.RawExtension{Raw: []byte(s)} }

func TestNormalizeSpecMatchesTyped(t *testing.T) {
	type (
		spec   = v1alpha1.ApplicationSpec
		source = v1alpha1.ApplicationSource
		helm   = v1alpha1.ApplicationSourceHelm
		kust   = v1alpha1.ApplicationSourceKustomize
		dir    = v1alpha1.ApplicationSourceDirectory
		jsn    = v1alpha1.ApplicationSourceJsonnet
		sp     = v1alpha1.SyncPolicy
	)
	one := func(s source) *spec {
		s.RepoURL, s.Path = "https://example.com/repo.git", "p"
		return &spec{Project: "proj", Source: &s}
	}
	multi := func(srcs ...source) *spec {
		for i := range srcs {
			srcs[i].RepoURL = "https://example.com/repo.git"
		}
		return &spec{Project: "proj", Sources: srcs}
	}
	cases := []struct {
		name string
		spec *spec
	}{
		// helm
		{"helm {}", one(source{Helm: &helm{}})},
		{"helm zero (empty valueFiles)", one(source{Helm: &helm{ValueFiles: []string{}, Parameters: []v1alpha1.HelmParameter{}}})},
		{"helm valueFiles", one(source{Helm: &helm{ValueFiles: []string{"values.yaml"}}})},
		{"helm version", one(source{Helm: &helm{Version: "v3"}})},
		{"helm skipCrds", one(source{Helm: &helm{SkipCrds: true}})},
		{"helm values", one(source{Helm: &helm{Values: "a: 1"}})},
		{"helm valuesObject {}", one(source{Helm: &helm{ValuesObject: normRaw(`{}`)}})},
		{"helm valuesObject {a:1}", one(source{Helm: &helm{ValuesObject: normRaw(`{"a":1}`)}})},
		{"helm valuesObject without bytes", one(source{Helm: &helm{ValuesObject: &runtime.RawExtension{}}})},
		{"helm valuesObject without bytes + values", one(source{Helm: &helm{ValuesObject: &runtime.RawExtension{}, Values: "a: 1"}})},
		// kustomize
		{"kustomize {}", one(source{Kustomize: &kust{}})},
		{"kustomize only forceCommonLabels", one(source{Kustomize: &kust{ForceCommonLabels: true}})},
		{"kustomize only ignored switches", one(source{Kustomize: &kust{ForceCommonLabels: true, ForceCommonAnnotations: true, CommonAnnotationsEnvsubst: true, LabelWithoutSelector: true, LabelIncludeTemplates: true}})},
		{"kustomize empty images", one(source{Kustomize: &kust{Images: v1alpha1.KustomizeImages{}, CommonLabels: map[string]string{}}})},
		{"kustomize namePrefix", one(source{Kustomize: &kust{NamePrefix: "x-"}})},
		{"kustomize namePrefix + forceCommonLabels", one(source{Kustomize: &kust{NamePrefix: "x-", ForceCommonLabels: true}})},
		{"kustomize ignoreMissingComponents", one(source{Kustomize: &kust{IgnoreMissingComponents: true}})},
		// directory
		{"directory {}", one(source{Directory: &dir{}})},
		{"directory recurse", one(source{Directory: &dir{Recurse: true}})},
		{"directory jsonnet libs", one(source{Directory: &dir{Jsonnet: jsn{Libs: []string{"vendor"}}}})},
		{"directory empty jsonnet lists", one(source{Directory: &dir{Jsonnet: jsn{ExtVars: []v1alpha1.JsonnetVar{}, Libs: []string{}}}})},
		{"directory only include", one(source{Directory: &dir{Include: "*.yaml"}})},
		{"directory only exclude", one(source{Directory: &dir{Exclude: "x"}})},
		{"directory include and exclude", one(source{Directory: &dir{Include: "*.yaml", Exclude: "x"}})},
		{"directory recurse + include", one(source{Directory: &dir{Recurse: true, Include: "*.yaml"}})},
		{"directory jsonnet libs + exclude", one(source{Directory: &dir{Exclude: "x", Jsonnet: jsn{Libs: []string{"vendor"}}}})},
		// all three at once
		{"all zero blocks", one(source{Helm: &helm{}, Kustomize: &kust{}, Directory: &dir{}})},
		{"zero blocks + include", one(source{Helm: &helm{}, Kustomize: &kust{LabelWithoutSelector: true}, Directory: &dir{Include: "*.yaml"}})},
		// multi-source: upstream ranges over copies, so nothing is dropped
		{"multi-source zero blocks", multi(
			source{Helm: &helm{}},
			source{Kustomize: &kust{}},
			source{Directory: &dir{}},
			source{Directory: &dir{Include: "*.yaml"}},
		)},
		{"multi-source and single source with zero blocks", func() *spec {
			s := multi(source{Helm: &helm{}, Kustomize: &kust{ForceCommonLabels: true}})
			s.Source = &source{RepoURL: "r", Helm: &helm{}, Directory: &dir{}}
			return s
		}()},
		{"nil source", &spec{Project: "proj"}},
		{"source hydrator untouched", &spec{Project: "proj", SourceHydrator: &v1alpha1.SourceHydrator{DrySource: v1alpha1.DrySource{Helm: &helm{}, Directory: &dir{}}}}},
		// syncPolicy
		{"syncPolicy {}", &spec{Project: "proj", SyncPolicy: &sp{}}},
		{"syncPolicy empty syncOptions", &spec{Project: "proj", SyncPolicy: &sp{SyncOptions: v1alpha1.SyncOptions{}}}},
		{"syncPolicy automated {}", &spec{Project: "proj", SyncPolicy: &sp{Automated: &v1alpha1.SyncPolicyAutomated{}}}},
		{"syncPolicy only syncOptions", &spec{Project: "proj", SyncPolicy: &sp{SyncOptions: v1alpha1.SyncOptions{"CreateNamespace=true"}}}},
		{"syncPolicy retry {}", &spec{Project: "proj", SyncPolicy: &sp{Retry: &v1alpha1.RetryStrategy{}}}},
		{"syncPolicy managedNamespaceMetadata {}", &spec{Project: "proj", SyncPolicy: &sp{ManagedNamespaceMetadata: &v1alpha1.ManagedNamespaceMetadata{}}}},
		// project
		{"empty project", &spec{}},
		{"empty project with source", func() *spec { s := one(source{Helm: &helm{}}); s.Project = ""; return s }()},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if d := normDiff(t, tc.spec); d != "" {
				t.Errorf("normalizeSpec and v1alpha1.NormalizeApplicationSpec differ:%s", d)
			}
		})
	}
}

// normRandSpec builds a random spec from the building blocks of
// TestNormalizeSpecMatchesTyped. Every value is freshly allocated.
func normRandSpec(r *rand.Rand) *v1alpha1.ApplicationSpec {
	pick := func(n int) int { return r.Intn(n) }
	helms := []func() *v1alpha1.ApplicationSourceHelm{
		func() *v1alpha1.ApplicationSourceHelm { return nil },
		func() *v1alpha1.ApplicationSourceHelm { return &v1alpha1.ApplicationSourceHelm{} },
		func() *v1alpha1.ApplicationSourceHelm {
			return &v1alpha1.ApplicationSourceHelm{ValueFiles: []string{}}
		},
		func() *v1alpha1.ApplicationSourceHelm {
			return &v1alpha1.ApplicationSourceHelm{ValueFiles: []string{"values.yaml"}}
		},
		func() *v1alpha1.ApplicationSourceHelm { return &v1alpha1.ApplicationSourceHelm{ReleaseName: "rel"} },
		func() *v1alpha1.ApplicationSourceHelm { return &v1alpha1.ApplicationSourceHelm{PassCredentials: true} },
		func() *v1alpha1.ApplicationSourceHelm { return &v1alpha1.ApplicationSourceHelm{Values: "a: 1"} },
		func() *v1alpha1.ApplicationSourceHelm {
			return &v1alpha1.ApplicationSourceHelm{ValuesObject: normRaw(`{}`)}
		},
		func() *v1alpha1.ApplicationSourceHelm {
			return &v1alpha1.ApplicationSourceHelm{ValuesObject: normRaw(`{"a":{"b":1}}`)}
		},
		func() *v1alpha1.ApplicationSourceHelm {
			return &v1alpha1.ApplicationSourceHelm{ValuesObject: &runtime.RawExtension{}}
		},
	}
	kusts := []func() *v1alpha1.ApplicationSourceKustomize{
		func() *v1alpha1.ApplicationSourceKustomize { return nil },
		func() *v1alpha1.ApplicationSourceKustomize { return &v1alpha1.ApplicationSourceKustomize{} },
		func() *v1alpha1.ApplicationSourceKustomize {
			return &v1alpha1.ApplicationSourceKustomize{ForceCommonLabels: true}
		},
		func() *v1alpha1.ApplicationSourceKustomize {
			return &v1alpha1.ApplicationSourceKustomize{ForceCommonAnnotations: true, LabelWithoutSelector: true, LabelIncludeTemplates: true, CommonAnnotationsEnvsubst: true}
		},
		func() *v1alpha1.ApplicationSourceKustomize {
			return &v1alpha1.ApplicationSourceKustomize{Images: v1alpha1.KustomizeImages{}, Components: []string{}}
		},
		func() *v1alpha1.ApplicationSourceKustomize {
			return &v1alpha1.ApplicationSourceKustomize{NamePrefix: "x-"}
		},
		func() *v1alpha1.ApplicationSourceKustomize {
			return &v1alpha1.ApplicationSourceKustomize{CommonLabels: map[string]string{"a": "b"}, ForceCommonLabels: true}
		},
		func() *v1alpha1.ApplicationSourceKustomize {
			return &v1alpha1.ApplicationSourceKustomize{IgnoreMissingComponents: true}
		},
	}
	dirs := []func() *v1alpha1.ApplicationSourceDirectory{
		func() *v1alpha1.ApplicationSourceDirectory { return nil },
		func() *v1alpha1.ApplicationSourceDirectory { return &v1alpha1.ApplicationSourceDirectory{} },
		func() *v1alpha1.ApplicationSourceDirectory {
			return &v1alpha1.ApplicationSourceDirectory{Recurse: true}
		},
		func() *v1alpha1.ApplicationSourceDirectory {
			return &v1alpha1.ApplicationSourceDirectory{Jsonnet: v1alpha1.ApplicationSourceJsonnet{Libs: []string{"vendor"}}}
		},
		func() *v1alpha1.ApplicationSourceDirectory {
			return &v1alpha1.ApplicationSourceDirectory{Jsonnet: v1alpha1.ApplicationSourceJsonnet{TLAs: []v1alpha1.JsonnetVar{}}}
		},
		func() *v1alpha1.ApplicationSourceDirectory {
			return &v1alpha1.ApplicationSourceDirectory{Include: "*.yaml"}
		},
		func() *v1alpha1.ApplicationSourceDirectory {
			return &v1alpha1.ApplicationSourceDirectory{Exclude: "x"}
		},
		func() *v1alpha1.ApplicationSourceDirectory {
			return &v1alpha1.ApplicationSourceDirectory{Include: "*.yaml", Exclude: "x"}
		},
		func() *v1alpha1.ApplicationSourceDirectory {
			return &v1alpha1.ApplicationSourceDirectory{Recurse: true, Exclude: "x"}
		},
	}
	policies := []func() *v1alpha1.SyncPolicy{
		func() *v1alpha1.SyncPolicy { return nil },
		func() *v1alpha1.SyncPolicy { return &v1alpha1.SyncPolicy{} },
		func() *v1alpha1.SyncPolicy { return &v1alpha1.SyncPolicy{SyncOptions: v1alpha1.SyncOptions{}} },
		func() *v1alpha1.SyncPolicy {
			return &v1alpha1.SyncPolicy{Automated: &v1alpha1.SyncPolicyAutomated{}}
		},
		func() *v1alpha1.SyncPolicy {
			return &v1alpha1.SyncPolicy{SyncOptions: v1alpha1.SyncOptions{"CreateNamespace=true"}}
		},
		func() *v1alpha1.SyncPolicy { return &v1alpha1.SyncPolicy{Retry: &v1alpha1.RetryStrategy{Limit: 2}} },
	}
	src := func() *v1alpha1.ApplicationSource {
		return &v1alpha1.ApplicationSource{
			RepoURL:   "https://example.com/repo.git",
			Path:      "p",
			Helm:      helms[pick(len(helms))](),
			Kustomize: kusts[pick(len(kusts))](),
			Directory: dirs[pick(len(dirs))](),
		}
	}
	s := &v1alpha1.ApplicationSpec{SyncPolicy: policies[pick(len(policies))]()}
	if pick(2) == 0 {
		s.Project = "proj"
	}
	if pick(4) != 0 {
		s.Source = src()
	}
	if pick(2) == 0 {
		for n := pick(3) + 1; n > 0; n-- {
			s.Sources = append(s.Sources, *src())
		}
	}
	return s
}

func TestNormalizeSpecMatchesTypedRandom(t *testing.T) {
	const seed, iterations = 20240611, 2000
	r := rand.New(rand.NewSource(seed))
	failures := 0
	for i := 0; i < iterations; i++ {
		if d := normDiff(t, normRandSpec(r)); d != "" {
			t.Errorf("seed %d, iteration %d: normalizeSpec and v1alpha1.NormalizeApplicationSpec differ:%s", seed, i, d)
			if failures++; failures == 5 {
				t.Fatal("too many differences, stopping")
			}
		}
	}
}
