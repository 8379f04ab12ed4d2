package bootstrap

import (
	"context"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/client-go/rest"

	"github.com/gitops-hub/gitops-hub/pkg/kube"
)

func deployment(name string, want, available int32) *appsv1.Deployment {
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "argocd", Generation: 1, Labels: map[string]string{"app.kubernetes.io/instance": "argocd"}},
		Spec:       appsv1.DeploymentSpec{Replicas: &want},
		Status:     appsv1.DeploymentStatus{ObservedGeneration: 1, UpdatedReplicas: want, AvailableReplicas: available},
	}
}

func TestWaitAvailable(t *testing.T) {
	ctx := context.Background()
	ready := &kube.Cluster{Name: "hub", Config: &rest.Config{}, Client: fake.NewClientset(deployment("argocd-server", 1, 1), deployment("argocd-repo-server", 2, 2))}
	if err := waitAvailable(ctx, ready, "argocd", "argocd", 5*time.Second); err != nil {
		t.Errorf("available: %v", err)
	}
	notReady := &kube.Cluster{Name: "hub", Config: &rest.Config{}, Client: fake.NewClientset(deployment("argocd-server", 1, 1), deployment("argocd-repo-server", 2, 1))}
	err := waitAvailable(ctx, notReady, "argocd", "argocd", 1500*time.Millisecond)
	if err == nil || !strings.Contains(err.Error(), "Deployment argocd-repo-server: 1/2 available") || strings.Contains(err.Error(), "argocd-server:") {
		t.Errorf("not available: %v", err)
	}
	none := &kube.Cluster{Name: "hub", Config: &rest.Config{}, Client: fake.NewClientset()}
	if err := waitAvailable(ctx, none, "argocd", "argocd", 1500*time.Millisecond); err == nil || !strings.Contains(err.Error(), "no Deployment or StatefulSet") {
		t.Errorf("nothing installed: %v", err)
	}
}

func TestWaitSynced(t *testing.T) {
	app := func(sync string) *unstructured.Unstructured {
		return &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
			"metadata": map[string]any{"name": "hub-root", "namespace": "argocd"},
			"status":   map[string]any{"sync": map[string]any{"status": sync}, "health": map[string]any{"status": "Healthy"}},
		}}
	}
	ctx := context.Background()
	for sync, ok := range map[string]bool{"Synced": true, "OutOfSync": false} {
		dyn := dynamicfake.NewSimpleDynamicClient(runtime.NewScheme(), app(sync))
		err := waitSynced(ctx, &kube.Cluster{Name: "hub", Config: &rest.Config{}, Dynamic: dyn}, "argocd", "hub-root", 1500*time.Millisecond)
		if ok != (err == nil) {
			t.Errorf("%s: %v", sync, err)
		}
		if err != nil && !strings.Contains(err.Error(), `sync "OutOfSync"`) {
			t.Errorf("the error does not say the last state: %v", err)
		}
	}
}
