package kube_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/gitops-hub/gitops-hub/pkg/kube"
)

func TestDecodeYAML(t *testing.T) {
	objs, err := kube.DecodeYAML([]byte(`# leading comment
---
apiVersion: v1
kind: ConfigMap
metadata: {name: a, namespace: x}
data: {n: "1"}
---
# only a comment
---
apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: ConfigMap
  metadata: {name: b}
- apiVersion: apps/v1
  kind: Deployment
  metadata: {name: c, namespace: web}
  spec: {replicas: 3}
---
{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "d"}}
`))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, o := range objs {
		got = append(got, kube.Describe(o))
	}
	if want := "ConfigMap x/a|ConfigMap b|Deployment.apps web/c|Namespace d"; strings.Join(got, "|") != want {
		t.Errorf("got %q, want %q", strings.Join(got, "|"), want)
	}
	// Integers stay integers (not float64), as the apiserver expects.
	if r, ok := objs[2].Object["spec"].(map[string]any)["replicas"].(int64); !ok || r != 3 {
		t.Errorf("replicas = %#v", objs[2].Object["spec"])
	}
}

func TestDecodeYAMLErrors(t *testing.T) {
	for _, tc := range []struct{ doc, want string }{
		{"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\nkind: Secret\nmetadata: {name: s, namespace: vault}\ndata: {password: c2VjcmV0}\n", "document 2: Secret vault/s: apiVersion and kind are required"},
		{"apiVersion: v1\nkind: Secret\nmetadata: {generateName: s-}\nstringData: {password: hunter2}\n", "document 1: Secret <no name>: metadata.name is required"},
		{"a: [\n", "document 1: invalid YAML"},
		{"- just\n- a list\n", "document 1: not a Kubernetes object"},
	} {
		_, err := kube.DecodeYAML([]byte(tc.doc))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("DecodeYAML(%q): %v, want %q", tc.doc, err, tc.want)
			continue
		}
		for _, secret := range []string{"hunter2", "c2VjcmV0"} {
			if strings.Contains(err.Error(), secret) {
				t.Errorf("error quotes Secret data: %v", err)
			}
		}
	}
}

func TestWaitFor(t *testing.T) {
	ctx := context.Background()
	n := 0
	if err := kube.WaitFor(ctx, time.Millisecond, func(context.Context) (bool, error) { n++; return n == 3, nil }); err != nil || n != 3 {
		t.Errorf("WaitFor: %v after %d calls", err, n)
	}
	boom := errors.New("boom")
	if err := kube.WaitFor(ctx, time.Millisecond, func(context.Context) (bool, error) { return false, boom }); !errors.Is(err, boom) {
		t.Errorf("cond error: %v", err)
	}
	tctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if err := kube.WaitFor(tctx, 10*time.Millisecond, func(context.Context) (bool, error) { return false, nil }); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("timeout: %v", err)
	}
}
