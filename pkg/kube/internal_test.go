package kube

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func TestApplyOrder(t *testing.T) {
	objs, err := DecodeYAML([]byte(`
apiVersion: example.com/v1
kind: Widget
metadata: {name: w, namespace: shop}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: cm, namespace: shop}
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com}
---
apiVersion: v1
kind: Namespace
metadata: {name: shop}
`))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, o := range applyOrder(objs) {
		got = append(got, o.GetKind())
	}
	if want := "Namespace CustomResourceDefinition Widget ConfigMap"; strings.Join(got, " ") != want {
		t.Errorf("order %v, want %s", got, want)
	}
	if len(applyOrder([]*unstructured.Unstructured{nil})) != 0 {
		t.Error("nil object kept")
	}
}
