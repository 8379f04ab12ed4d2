package validate

import (
	"errors"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/gitops-hub/gitops-hub/pkg/generate"
	"github.com/gitops-hub/gitops-hub/pkg/render"
)

func objects(t *testing.T, docs ...string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, d := range docs {
		var o map[string]any
		if err := yaml.Unmarshal([]byte(d), &o); err != nil {
			t.Fatal(err)
		}
		out = append(out, o)
	}
	return out
}

const crd = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com}
spec:
  group: example.com
  scope: Namespaced
  names: {kind: Widget, plural: widgets, singular: widget, listKind: WidgetList}
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec:
              type: object
              required: [size]
              properties:
                size: {type: integer, minimum: 1}
`

func TestCheckRendered(t *testing.T) {
	app := &generate.Application{Name: "app-a", AppSet: "set"}
	for _, tc := range []struct {
		name, kube string
		docs       []string
		err        error
		want       []string // rule: message substring
	}{
		{"valid objects", "1.35.0", []string{
			"apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: a}\nspec:\n  replicas: 2\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec: {containers: [{name: web, image: nginx, ports: [{containerPort: 80}]}]}\n",
			crd, "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w, namespace: a}\nspec: {size: 3}\n",
			"apiVersion: example.com/v1\nkind: Gadget\nmetadata: {name: g}\nspec: {anything: true}\n",
		}, nil, nil},
		{"unknown field in a Deployment", "1.35.0", []string{
			"apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  replicass: 2\n  selector: {matchLabels: {app: web}}\n  template: {metadata: {labels: {app: web}}, spec: {containers: [{name: web, image: nginx}]}}\n",
		}, nil, []string{"schema: apps/v1 Deployment web: rejected by the Kubernetes API schema: .spec.replicass: field not declared in schema"}},
		{"wrong type in a Service", "1.35.0", []string{
			"apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {ports: [{port: eighty}]}\n",
		}, nil, []string{"schema: v1 Service s: "}},
		{"removed API version", "1.35.0", []string{
			"apiVersion: policy/v1beta1\nkind: PodDisruptionBudget\nmetadata: {name: p}\nspec: {maxUnavailable: 1}\n",
		}, nil, []string{"removed-api: policy/v1beta1 PodDisruptionBudget p: policy/v1beta1 PodDisruptionBudget is removed in Kubernetes 1.25 (rendering for 1.35); use policy/v1 PodDisruptionBudget"}},
		{"same object, older cluster: only deprecated", "1.22.0", []string{
			"apiVersion: policy/v1beta1\nkind: PodDisruptionBudget\nmetadata: {name: p}\nspec: {maxUnavailable: 1}\n",
		}, nil, []string{"deprecated-api: policy/v1beta1 PodDisruptionBudget p: policy/v1beta1 PodDisruptionBudget is deprecated in v1.21+, unavailable in v1.25+; use policy/v1 PodDisruptionBudget"}},
		{"API version k8s.io/api no longer has", "1.35.0", []string{
			"apiVersion: extensions/v1beta1\nkind: Ingress\nmetadata: {name: i}\nspec: {}\n",
		}, nil, []string{"removed-api: extensions/v1beta1 Ingress i: "}},
		{"custom resource its CRD rejects", "1.35.0", []string{
			crd, "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\nspec: {size: 0, colour: red}\n",
		}, nil, []string{
			"crd-schema: example.com/v1 Widget w: rejected by its CustomResourceDefinition: spec.size: Invalid value: 0",
			"crd-schema: example.com/v1 Widget w: unknown fields (pruned by the API server): spec.colour",
		}},
		{"the Application's helm.kubeVersion wins", "1.35.0", []string{
			"apiVersion: policy/v1beta1\nkind: PodDisruptionBudget\nmetadata: {name: p}\nspec: {maxUnavailable: 1}\n",
		}, nil, []string{"deprecated-api: policy/v1beta1 PodDisruptionBudget p: policy/v1beta1 PodDisruptionBudget is deprecated in v1.21+"}},
		{"render error", "1.35.0", nil, errors.New("helm template podinfo-6.5.0: boom"), []string{"render-failed: Application/app-a: helm template podinfo-6.5.0: boom"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := &Report{}
			a := app
			if strings.Contains(tc.name, "helm.kubeVersion") {
				a = &generate.Application{Name: "app-a", AppSet: "set", Object: map[string]any{"spec": map[string]any{
					"source": map[string]any{"chart": "x", "helm": map[string]any{"kubeVersion": "v1.22.3"}}}}}
			}
			res := []render.Result{{App: a, Cluster: "c", Objects: objects(t, tc.docs...), Err: tc.err}}
			if err := CheckRendered(r, &Tree{}, res, tc.kube); err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, f := range r.Findings {
				got = append(got, f.Rule+": "+f.Object+": "+f.Message)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("findings:\n%s\nwant %d:\n%s", strings.Join(got, "\n"), len(tc.want), strings.Join(tc.want, "\n"))
			}
			for i, w := range tc.want {
				if !strings.HasPrefix(got[i], w) && !strings.Contains(got[i], w) {
					t.Errorf("finding %d:\n got  %s\n want %s", i, got[i], w)
				}
			}
		})
	}
}
