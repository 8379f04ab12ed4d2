package output

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

func sampleApps(n int) []map[string]any {
	var objs []map[string]any
	for i := 0; i < n; i++ {
		objs = append(objs, map[string]any{
			"apiVersion": "argoproj.io/v1alpha1",
			"kind":       "Application",
			"metadata": map[string]any{
				"name":       fmt.Sprintf("addon-argo-cd-eks-develop-client%04d-services", i),
				"namespace":  "argocd",
				"finalizers": []any{"resources-finalizer.argocd.argoproj.io"},
				"labels":     map[string]any{"gitops-hub.io/addon": "argo-cd", "weird": "yes: no # really"},
			},
			"spec": map[string]any{
				"project":     "argocd",
				"destination": map[string]any{"name": fmt.Sprintf("eks-develop-client%04d-services", i), "namespace": "argocd"},
				"sources": []any{
					map[string]any{"repoURL": "https://github.com/gitops-hub/gitops-hub.git", "targetRevision": "main", "ref": "values"},
					map[string]any{"chart": "argo-cd", "targetRevision": "10.1.1", "helm": map[string]any{
						"ignoreMissingValueFiles": true,
						"valueFiles":              []any{"$values/environments/default/addons/argo-cd/values.yaml"},
						"valuesObject":            map[string]any{"replicas": json.Number("2"), "ratio": 0.5, "empty": nil},
					}},
				},
				"syncPolicy": map[string]any{"automated": map[string]any{}, "syncOptions": []any{"CreateNamespace=true"}},
			},
		})
	}
	return objs
}

// TestWriteYAMLMatchesLibrary: the parallel fast writer prints exactly what
// sigs.k8s.io/yaml prints, document by document, in order.
func TestWriteYAMLMatchesLibrary(t *testing.T) {
	for _, n := range []int{0, 1, 3, 2000} {
		objs := sampleApps(n)
		var got bytes.Buffer
		if err := WriteYAML(&got, objs); err != nil {
			t.Fatal(err)
		}
		var want []string
		for _, o := range objs {
			b, err := yaml.Marshal(o)
			if err != nil {
				t.Fatal(err)
			}
			want = append(want, string(b))
		}
		if w := strings.Join(want, "---\n"); got.String() != w {
			t.Fatalf("n=%d: output differs from sigs.k8s.io/yaml (%d vs %d bytes)", n, got.Len(), len(w))
		}
	}
}

func TestWriteJSONIsAList(t *testing.T) {
	var b bytes.Buffer
	if err := WriteJSON(&b, sampleApps(2)); err != nil {
		t.Fatal(err)
	}
	var list struct {
		Kind  string           `json:"kind"`
		Items []map[string]any `json:"items"`
	}
	if err := json.Unmarshal(b.Bytes(), &list); err != nil {
		t.Fatal(err)
	}
	if list.Kind != "List" || len(list.Items) != 2 {
		t.Fatalf("got kind %q with %d items", list.Kind, len(list.Items))
	}
	b.Reset()
	if err := WriteJSON(&b, nil); err != nil || !strings.Contains(b.String(), `"items": []`) {
		t.Fatalf("empty list: %q %v", b.String(), err)
	}
}

func TestWriteMatrix(t *testing.T) {
	var b bytes.Buffer
	m := Matrix{Corner: "cluster", Rows: []string{"b", "a"}, Columns: []string{"y", "x"},
		Cells: map[[2]string]string{{"a", "x"}: "1.0.0", {"b", "y"}: "2.0.0"}}
	if err := WriteMatrix(&b, m); err != nil {
		t.Fatal(err)
	}
	want := "CLUSTER  X      Y\na        1.0.0  -\nb        -      2.0.0\n"
	if b.String() != want {
		t.Fatalf("got\n%s\nwant\n%s", b.String(), want)
	}
}
