package kube_test

import (
	"context"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/gitops-hub/gitops-hub/internal/testenv"
	"github.com/gitops-hub/gitops-hub/pkg/kube"
)

func TestApplyReport(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	c := testenv.Start(ctx, t, "report")
	cm := func(v string) []byte {
		return []byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: r, namespace: default}\ndata: {k: " + v + "}\n")
	}
	step := func(data []byte, dryRun bool, want string) {
		t.Helper()
		objs, err := kube.DecodeYAML(data)
		if err != nil {
			t.Fatal(err)
		}
		got, err := c.ApplyReport(ctx, objs, "test", dryRun)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || got[0].Action != want || got[0].Object != "ConfigMap default/r" {
			t.Errorf("dryRun=%v: %+v, want %s", dryRun, got, want)
		}
	}
	step(cm("a"), true, kube.AppliedCreated)
	if _, err := c.Client.CoreV1().ConfigMaps("default").Get(ctx, "r", metav1.GetOptions{}); err == nil {
		t.Fatal("a dry run created the ConfigMap")
	}
	step(cm("a"), false, kube.AppliedCreated)
	step(cm("a"), false, kube.AppliedUnchanged)
	step(cm("b"), true, kube.AppliedConfigured)
	step(cm("a"), false, kube.AppliedUnchanged) // the dry run changed nothing
	step(cm("b"), false, kube.AppliedConfigured)
}
