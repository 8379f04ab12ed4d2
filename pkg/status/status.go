// Package status reads the fleet's state from the hub: every Application
// with its destination, sync status, health and last operation.
package status

import (
	"context"
	"fmt"
	"sort"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"

	"github.com/gitops-hub/gitops-hub/pkg/output"
)

// ApplicationsGVR is argoproj.io/v1alpha1 applications.
var ApplicationsGVR = schema.GroupVersionResource{Group: "argoproj.io", Version: "v1alpha1", Resource: "applications"}

// App is the state of one Application.
type App struct {
	Name      string
	AppSet    string
	Cluster   string
	Sync      string // Synced, OutOfSync, Unknown
	Health    string // Healthy, Progressing, Degraded, Missing, ...
	Operation string // phase of the last operation: Succeeded, Running, Failed, ...
	Revision  string // chart version (or revision) synced
	Message   string // condition or operation message when not ready
}

// Ready reports whether the Application is Synced and Healthy and its last
// operation (if any) succeeded.
func (a App) Ready() bool {
	return a.Synced() && a.Health == "Healthy"
}

// Synced reports whether the Application is Synced and its last operation
// (if any) succeeded, whatever its health.
func (a App) Synced() bool {
	return a.Sync == "Synced" && (a.Operation == "" || a.Operation == "Succeeded")
}

// List reads every Application of namespace from the hub.
func List(ctx context.Context, hub dynamic.Interface, namespace string) ([]App, error) {
	l, err := hub.Resource(ApplicationsGVR).Namespace(namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("listing Applications in the hub (namespace %s): %w", namespace, err)
	}
	apps := make([]App, 0, len(l.Items))
	for _, it := range l.Items {
		apps = append(apps, fromObject(&it))
	}
	sort.Slice(apps, func(i, j int) bool { return apps[i].Name < apps[j].Name })
	return apps, nil
}

func str(o map[string]any, path ...string) string {
	s, _, _ := unstructured.NestedString(o, path...)
	return s
}

func fromObject(u *unstructured.Unstructured) App {
	o := u.Object
	a := App{
		Name:      u.GetName(),
		Cluster:   str(o, "spec", "destination", "name"),
		Sync:      str(o, "status", "sync", "status"),
		Health:    str(o, "status", "health", "status"),
		Operation: str(o, "status", "operationState", "phase"),
	}
	if a.Cluster == "" {
		a.Cluster = str(o, "spec", "destination", "server")
	}
	if strings.TrimSuffix(a.Cluster, "/") == "https://kubernetes.default.svc" {
		a.Cluster = "in-cluster"
	}
	for _, ref := range u.GetOwnerReferences() {
		if ref.Kind == "ApplicationSet" {
			a.AppSet = ref.Name
		}
	}
	if a.AppSet == "" {
		a.AppSet = a.Name
	}
	srcs, _, _ := unstructured.NestedSlice(o, "spec", "sources")
	if s, ok, _ := unstructured.NestedMap(o, "spec", "source"); ok {
		srcs = append(srcs, s)
	}
	for _, s := range srcs {
		m, _ := s.(map[string]any)
		if c, _ := m["chart"].(string); c != "" {
			a.Revision, _ = m["targetRevision"].(string)
		}
	}
	if !a.Ready() {
		if msg := str(o, "status", "operationState", "message"); msg != "" && a.Operation != "Succeeded" {
			a.Message = msg
		}
		conds, _, _ := unstructured.NestedSlice(o, "status", "conditions")
		for _, c := range conds {
			m, _ := c.(map[string]any)
			if msg, _ := m["message"].(string); msg != "" {
				a.Message = strings.TrimSpace(fmt.Sprintf("%s %s: %s", a.Message, m["type"], msg))
			}
		}
		if a.Message == "" {
			a.Message = str(o, "status", "health", "message")
		}
	}
	return a
}

// Summary counts ready Applications.
func Summary(apps []App) (ready, total int) {
	for _, a := range apps {
		if a.Ready() {
			ready++
		}
	}
	return ready, len(apps)
}

// Matrix is the cluster × ApplicationSet table; each cell shows the chart
// version and, when not ready, the sync and health status.
func Matrix(apps []App) output.Matrix {
	m := output.Matrix{Corner: "cluster", Cells: map[[2]string]string{}}
	rows, cols := map[string]bool{}, map[string]bool{}
	for _, a := range apps {
		rows[a.Cluster], cols[a.AppSet] = true, true
		cell := a.Revision
		if cell == "" {
			cell = "yes"
		}
		if !a.Ready() {
			cell += fmt.Sprintf(" (%s/%s)", orUnknown(a.Sync), orUnknown(a.Health))
		}
		m.Cells[[2]string{a.Cluster, a.AppSet}] = cell
	}
	for r := range rows {
		m.Rows = append(m.Rows, r)
	}
	for c := range cols {
		m.Columns = append(m.Columns, c)
	}
	return m
}

func orUnknown(s string) string {
	if s == "" {
		return "Unknown"
	}
	return s
}

// Refresh asks Argo CD to refresh every Application of namespace now, with
// the annotation argocd.argoproj.io/refresh ("normal" or "hard": a hard
// refresh also bypasses the repo-server's caches).
func Refresh(ctx context.Context, hub dynamic.Interface, namespace, kind string) error {
	l, err := hub.Resource(ApplicationsGVR).Namespace(namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		return fmt.Errorf("listing Applications to refresh: %w", err)
	}
	patch := []byte(fmt.Sprintf(`{"metadata":{"annotations":{"argocd.argoproj.io/refresh":%q}}}`, kind))
	for _, it := range l.Items {
		if _, err := hub.Resource(ApplicationsGVR).Namespace(namespace).Patch(ctx, it.GetName(), types.MergePatchType, patch, metav1.PatchOptions{}); err != nil {
			return fmt.Errorf("refreshing Application %s: %w", it.GetName(), err)
		}
	}
	return nil
}
