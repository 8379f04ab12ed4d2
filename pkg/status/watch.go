package status

import (
	"context"
	"fmt"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/dynamic/dynamicinformer"
	"k8s.io/client-go/tools/cache"
)

// watchSettle is how long Watch waits after a change for more changes before
// it rebuilds the fleet: Argo CD updates an Application several times per
// reconciliation, and one print per burst is enough.
const watchSettle = 300 * time.Millisecond

// Watch reads the fleet and calls fn with it, then watches the Applications
// and the cluster Secrets of namespace (client-go informers on the dynamic
// client) and calls fn again after each burst of changes, until ctx ends
// (then it returns nil) or fn returns an error. The first read's errors are
// returned as Read returns them. The informers use watcher (nil: hub), a
// client without a per-request timeout: a watch is a long-running request,
// ended by the server (the reflector asks for 5-10 min) and then resumed.
// The informers keep only the fields status
// shows (no managed fields, no resource list, a cluster Secret's name, server
// and labels but never its credentials), so memory stays bounded by the
// number of Applications.
func Watch(ctx context.Context, hub, watcher dynamic.Interface, namespace string, fn func(*Fleet) error) error {
	if watcher == nil {
		watcher = hub
	}
	first, readWarnings, secretsReadable, err := read(ctx, hub, namespace)
	if err != nil {
		return err
	}
	if err := fn(first); err != nil {
		return err
	}
	changed := make(chan struct{}, 1)
	notify := func() {
		select {
		case changed <- struct{}{}:
		default:
		}
	}
	handler := cache.ResourceEventHandlerFuncs{
		AddFunc:    func(any) { notify() },
		UpdateFunc: func(any, any) { notify() },
		DeleteFunc: func(any) { notify() },
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	start := func(inf cache.SharedIndexInformer, transform cache.TransformFunc) (cache.InformerSynced, error) {
		if err := inf.SetTransform(transform); err != nil {
			return nil, err
		}
		if _, err := inf.AddEventHandler(handler); err != nil {
			return nil, err
		}
		go inf.Run(ctx.Done())
		return inf.HasSynced, nil
	}
	appInf := dynamicinformer.NewFilteredDynamicInformer(watcher, ApplicationsGVR, namespace, 0, cache.Indexers{}, nil).Informer()
	appsSynced, err := start(appInf, slimApplication)
	if err != nil {
		return err
	}
	synced := []cache.InformerSynced{appsSynced}
	var secretInf cache.SharedIndexInformer
	if secretsReadable {
		secretInf = dynamicinformer.NewFilteredDynamicInformer(watcher, SecretsGVR, namespace, 0, cache.Indexers{},
			func(o *metav1.ListOptions) { o.LabelSelector = ClusterSecretSelector }).Informer()
		s, err := start(secretInf, slimClusterSecret)
		if err != nil {
			return err
		}
		synced = append(synced, s)
	}
	if !cache.WaitForCacheSync(ctx.Done(), synced...) {
		return nil // ctx ended
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-changed:
		}
		// Let the burst settle.
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(watchSettle):
		}
		select {
		case <-changed:
		default:
		}
		var secrets []*unstructured.Unstructured
		if secretInf != nil {
			secrets = objects(secretInf.GetStore().List())
		}
		f := Build(objects(appInf.GetStore().List()), secrets)
		f.Warnings = append(append([]string(nil), readWarnings...), f.Warnings...)
		f.Hub = first.Hub
		if err := fn(f); err != nil {
			return err
		}
	}
}

func objects(items []any) []*unstructured.Unstructured {
	out := make([]*unstructured.Unstructured, 0, len(items))
	for _, it := range items {
		if u, ok := it.(*unstructured.Unstructured); ok {
			out = append(out, u)
		}
	}
	return out
}

// slimApplication keeps what fromObject reads.
func slimApplication(obj any) (any, error) {
	u, ok := obj.(*unstructured.Unstructured)
	if !ok {
		return obj, nil // a tombstone
	}
	out := &unstructured.Unstructured{Object: map[string]any{}}
	out.SetAPIVersion(u.GetAPIVersion())
	out.SetKind(u.GetKind())
	out.SetName(u.GetName())
	out.SetNamespace(u.GetNamespace())
	out.SetUID(u.GetUID())
	out.SetResourceVersion(u.GetResourceVersion())
	out.SetLabels(u.GetLabels())
	out.SetOwnerReferences(u.GetOwnerReferences())
	copyPath := func(path ...string) {
		if v, ok, _ := unstructured.NestedFieldNoCopy(u.Object, path...); ok {
			_ = unstructured.SetNestedField(out.Object, v, path...)
		}
	}
	copyPath("spec", "destination")
	copyPath("spec", "source")
	copyPath("spec", "sources")
	copyPath("status", "sync")
	copyPath("status", "health")
	copyPath("status", "conditions")
	copyPath("status", "operationState", "phase")
	copyPath("status", "operationState", "message")
	if hist, ok, _ := unstructured.NestedFieldNoCopy(u.Object, "status", "history"); ok {
		if h, ok := hist.([]any); ok && len(h) > 0 {
			_ = unstructured.SetNestedField(out.Object, []any{h[len(h)-1]}, "status", "history")
		}
	}
	return out, nil
}

// slimClusterSecret keeps a cluster Secret's name, labels and its name and
// server keys; never its config (the credentials).
func slimClusterSecret(obj any) (any, error) {
	u, ok := obj.(*unstructured.Unstructured)
	if !ok {
		return obj, nil
	}
	out := &unstructured.Unstructured{Object: map[string]any{}}
	out.SetAPIVersion("v1")
	out.SetKind("Secret")
	out.SetName(u.GetName())
	out.SetNamespace(u.GetNamespace())
	out.SetUID(u.GetUID())
	out.SetResourceVersion(u.GetResourceVersion())
	out.SetLabels(u.GetLabels())
	data, _, _ := unstructured.NestedStringMap(u.Object, "data")
	keep := map[string]any{}
	for _, k := range []string{"name", "server"} {
		if v, ok := data[k]; ok {
			keep[k] = v
		}
	}
	if err := unstructured.SetNestedMap(out.Object, keep, "data"); err != nil {
		return nil, fmt.Errorf("cluster Secret %s: %w", u.GetName(), err)
	}
	return out, nil
}
