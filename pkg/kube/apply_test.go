package kube_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/gitops-hub/gitops-hub/internal/testenv"
	"github.com/gitops-hub/gitops-hub/pkg/kube"
)

const widgetCRD = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.com
spec:
  group: example.com
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget, listKind: WidgetList}
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
            properties:
              size: {type: integer}
              color: {type: string}
`

var widgetGVR = schema.GroupVersionResource{Group: "example.com", Version: "v1", Resource: "widgets"}

func TestApply(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	c := testenv.Start(ctx, t, "apply")

	v, err := c.ServerVersion(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(v, "v1.35.") {
		t.Errorf("ServerVersion = %q, want v1.35.x", v)
	}
	if err := c.WaitReady(ctx); err != nil {
		t.Fatal(err)
	}

	// The instance comes first in the stream and its namespace last: Apply
	// orders Namespaces, then CRDs (waiting until Established), then the rest.
	stream := `apiVersion: example.com/v1
kind: Widget
metadata: {name: w1, namespace: shop}
spec: {size: 3, color: red}
---
` + widgetCRD + `---
apiVersion: v1
kind: ConfigMap
metadata: {name: settings}
data: {a: "1"}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: widget-reader, namespace: ignored-for-cluster-scoped}
rules: [{apiGroups: [example.com], resources: [widgets], verbs: [get]}]
---
apiVersion: v1
kind: Namespace
metadata: {name: shop}
`
	if err := c.ApplyYAML(ctx, []byte(stream), "hubctl-test"); err != nil {
		t.Fatal(err)
	}
	w, err := c.Dynamic.Resource(widgetGVR).Namespace("shop").Get(ctx, "w1", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if size, _, _ := unstructuredInt(w.Object, "spec", "size"); size != 3 {
		t.Errorf("spec.size = %d", size)
	}
	if mf := w.GetManagedFields(); len(mf) != 1 || mf[0].Manager != "hubctl-test" || mf[0].Operation != metav1.ManagedFieldsOperationApply {
		t.Errorf("managedFields %+v, want one Apply entry by hubctl-test", mf)
	}
	if _, err := c.Client.CoreV1().ConfigMaps("default").Get(ctx, "settings", metav1.GetOptions{}); err != nil {
		t.Errorf("ConfigMap without namespace not in default: %v", err)
	}
	if _, err := c.Client.RbacV1().ClusterRoles().Get(ctx, "widget-reader", metav1.GetOptions{}); err != nil {
		t.Error(err)
	}

	// Re-applying changed fields updates; another manager's conflicting
	// change is overridden (forced conflicts).
	w.Object["spec"] = map[string]any{"size": int64(5), "color": "blue"}
	w.SetManagedFields(nil)
	w.SetResourceVersion("")
	if _, err := c.Dynamic.Resource(widgetGVR).Namespace("shop").Apply(ctx, "w1", w, metav1.ApplyOptions{FieldManager: "someone-else", Force: true}); err != nil {
		t.Fatal(err)
	}
	if err := c.ApplyYAML(ctx, []byte(stream), "hubctl-test"); err != nil {
		t.Fatal("re-apply:", err)
	}
	w, err = c.Dynamic.Resource(widgetGVR).Namespace("shop").Get(ctx, "w1", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if size, _, _ := unstructuredInt(w.Object, "spec", "size"); size != 3 {
		t.Errorf("after forced re-apply spec.size = %d, want 3", size)
	}
}

// TestApplyAfterForeignCRD: a CRD created by another client right before
// (not Established yet, unknown to this client's cached discovery) is found
// by refreshing discovery.
func TestApplyAfterForeignCRD(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	c := testenv.Start(ctx, t, "foreign")
	// Fill c's discovery cache before the CRD exists.
	if err := c.ApplyYAML(ctx, []byte("apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n"), "hubctl-test"); err != nil {
		t.Fatal(err)
	}
	other, err := kube.Load("foreign-other-client", c.Kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	crds, err := kube.DecodeYAML([]byte(widgetCRD))
	if err != nil {
		t.Fatal(err)
	}
	crdGVR := schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}
	if _, err := other.Dynamic.Resource(crdGVR).Create(ctx, crds[0], metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	err = c.ApplyYAML(ctx, []byte("apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w2, namespace: shop}\nspec: {size: 1}\n"), "hubctl-test")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Dynamic.Resource(widgetGVR).Namespace("shop").Get(ctx, "w2", metav1.GetOptions{}); err != nil {
		t.Fatal(err)
	}
}

func TestApplyErrors(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	c := testenv.Start(ctx, t, "errors")

	// An unknown kind that no CRD defines fails after a short grace, not
	// after the whole CRD wait.
	start := time.Now()
	err := c.ApplyYAML(ctx, []byte("apiVersion: nothing.example.com/v1\nkind: Gadget\nmetadata: {name: g, namespace: default}\n"), "hubctl-test")
	if !errors.Is(err, kube.ErrUnknownKind) {
		t.Fatalf("unknown kind: %v, want ErrUnknownKind", err)
	}
	if took := time.Since(start); took > 20*time.Second {
		t.Errorf("unknown kind took %s to fail", took)
	}
	t.Logf("unknown kind: %v", err)
	for _, want := range []string{`cluster "errors"`, "Gadget.nothing.example.com default/g"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %q", err, want)
		}
	}

	// An object the apiserver rejects: the error names it; Secret data is
	// not quoted.
	err = c.ApplyYAML(ctx, []byte("apiVersion: v1\nkind: Secret\nmetadata: {name: s, namespace: missing-ns}\nstringData: {password: hunter2}\n"), "hubctl-test")
	if !apierrors.IsNotFound(err) {
		t.Fatalf("Secret in a missing namespace: %v, want NotFound", err)
	}
	t.Logf("rejected object: %v", err)
	if !strings.Contains(err.Error(), "Secret missing-ns/s") || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("error %q: want it to name Secret missing-ns/s and not quote its data", err)
	}

	if err := c.Apply(ctx, nil, ""); err == nil {
		t.Error("Apply without a field manager succeeded")
	}
}

func unstructuredInt(obj map[string]any, path ...string) (int64, bool, error) {
	cur := any(obj)
	for _, p := range path {
		m, ok := cur.(map[string]any)
		if !ok {
			return 0, false, nil
		}
		cur = m[p]
	}
	n, ok := cur.(int64)
	return n, ok, nil
}
