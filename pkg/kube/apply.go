package kube

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/dynamic"
	"sigs.k8s.io/yaml"
)

const (
	// CRDWaitTimeout bounds how long Apply waits for a CustomResourceDefinition
	// it applied to become Established, and for a kind it does not know yet to
	// appear in discovery (a CRD created just before, by this or another
	// client).
	CRDWaitTimeout = 60 * time.Second
	// unknownKindGrace is how long an unknown kind is retried before Apply
	// checks whether any CRD defines it at all (and gives up at once if not).
	unknownKindGrace = 3 * time.Second
	// mappingRetryInterval is the pause between two discovery refreshes.
	mappingRetryInterval = 250 * time.Millisecond

	crdGroup    = "apiextensions.k8s.io"
	crdKind     = "CustomResourceDefinition"
	crdResource = "customresourcedefinitions"
)

// Apply server-side applies objs in order (Namespaces first, then
// CustomResourceDefinitions, then the rest, each group in the given order),
// with fieldManager and forced conflicts, as `kubectl apply --server-side
// --force-conflicts` does. It stops at the first error, which names the
// cluster and the object.
//
// Namespaced objects without a namespace go to "default"; a namespace on a
// cluster-scoped object is ignored. Kinds are resolved with c.Mapper; an
// unknown kind refreshes discovery and is retried for up to CRDWaitTimeout
// while a CustomResourceDefinition for it exists (for example one that was
// just created and is not Established yet). After applying a CRD, Apply
// waits until it is Established, so its instances can follow in the same
// call.
func (c *Cluster) Apply(ctx context.Context, objs []*unstructured.Unstructured, fieldManager string) error {
	if fieldManager == "" {
		return fmt.Errorf("%s: apply: a field manager is required", c)
	}
	_, err := c.ApplyReport(ctx, objs, fieldManager, false)
	return err
}

// Applied is what ApplyReport did to one object.
type Applied struct {
	Object string // Describe of the object
	Action string // AppliedCreated, AppliedConfigured or AppliedUnchanged
}

// Actions of Applied, as kubectl apply words them.
const (
	AppliedCreated    = "created"
	AppliedConfigured = "configured"
	AppliedUnchanged  = "unchanged"
)

// ApplyReport is Apply, and says for each object (in apply order) whether it was created,
// changed or left unchanged: the object is read before the apply and compared with what the
// apiserver answers (metadata.resourceVersion, generation and managedFields left out). With
// dryRun, every request is a server-side dry run (nothing is persisted, CRDs are not waited
// for) and the report says what a real apply would do.
func (c *Cluster) ApplyReport(ctx context.Context, objs []*unstructured.Unstructured, fieldManager string, dryRun bool) ([]Applied, error) {
	if fieldManager == "" {
		return nil, fmt.Errorf("%s: apply: a field manager is required", c)
	}
	var out []Applied
	for _, obj := range applyOrder(objs) {
		action, err := c.applyOne(ctx, obj, fieldManager, dryRun)
		if err != nil {
			return out, fmt.Errorf("%s: apply %s: %w", c, Describe(obj), err)
		}
		out = append(out, Applied{Object: Describe(obj), Action: action})
	}
	return out, nil
}

// sameObject compares two versions of an object without the fields every write changes.
func sameObject(a, b *unstructured.Unstructured) bool {
	strip := func(u *unstructured.Unstructured) map[string]any {
		o := u.DeepCopy()
		o.SetResourceVersion("")
		o.SetGeneration(0)
		o.SetManagedFields(nil)
		return o.Object
	}
	return equality.Semantic.DeepEqual(strip(a), strip(b))
}

// ApplyYAML decodes a multi-document YAML (or JSON) stream with DecodeYAML
// and applies its objects with Apply.
func (c *Cluster) ApplyYAML(ctx context.Context, data []byte, fieldManager string) error {
	objs, err := DecodeYAML(data)
	if err != nil {
		return fmt.Errorf("%s: %w", c, err)
	}
	return c.Apply(ctx, objs, fieldManager)
}

// DecodeYAML splits a multi-document YAML or JSON stream into objects.
// Empty and comment-only documents are skipped, and the items of a List
// (`kind: List`, `kind: FooList`) are returned instead of the list. Every
// object must have apiVersion, kind and metadata.name. Errors name the
// document (1-based) and, once known, the object; they never quote object
// content, so a Secret's data cannot end up in a message.
func DecodeYAML(data []byte) ([]*unstructured.Unstructured, error) {
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	var out []*unstructured.Unstructured
	for doc := 1; ; doc++ {
		raw, err := r.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("document %d: %w", doc, err)
		}
		js, err := yaml.YAMLToJSON(raw)
		if err != nil {
			return nil, fmt.Errorf("document %d: invalid YAML: %w", doc, err)
		}
		if t := bytes.TrimSpace(js); len(t) == 0 || bytes.Equal(t, []byte("null")) {
			continue
		}
		var m map[string]any
		if err := utiljson.Unmarshal(js, &m); err != nil {
			return nil, fmt.Errorf("document %d: not a Kubernetes object (a YAML mapping): %w", doc, err)
		}
		if m == nil {
			continue
		}
		u := &unstructured.Unstructured{Object: m}
		if u.IsList() {
			items, _, err := unstructured.NestedSlice(m, "items")
			if err != nil {
				return nil, fmt.Errorf("document %d: %s: items: %w", doc, u.GetKind(), err)
			}
			for i, it := range items {
				im, ok := it.(map[string]any)
				if !ok {
					return nil, fmt.Errorf("document %d: %s: items[%d] is not an object", doc, u.GetKind(), i)
				}
				item := &unstructured.Unstructured{Object: im}
				if err := checkObject(item); err != nil {
					return nil, fmt.Errorf("document %d: %s: items[%d]: %w", doc, u.GetKind(), i, err)
				}
				out = append(out, item)
			}
			continue
		}
		if err := checkObject(u); err != nil {
			return nil, fmt.Errorf("document %d: %w", doc, err)
		}
		out = append(out, u)
	}
}

func checkObject(u *unstructured.Unstructured) error {
	switch {
	case u.GetAPIVersion() == "" || u.GetKind() == "":
		return fmt.Errorf("%s: apiVersion and kind are required", Describe(u))
	case u.GetName() == "":
		return fmt.Errorf("%s: metadata.name is required (server-side apply cannot use generateName)", Describe(u))
	}
	return nil
}

// Describe names an object for messages: `Kind[.group] [namespace/]name`.
func Describe(u *unstructured.Unstructured) string {
	gvk := u.GroupVersionKind()
	kind := gvk.Kind
	if kind == "" {
		kind = "<no kind>"
	}
	if gvk.Group != "" {
		kind += "." + gvk.Group
	}
	name := u.GetName()
	if name == "" {
		name = "<no name>"
	}
	if ns := u.GetNamespace(); ns != "" {
		return kind + " " + ns + "/" + name
	}
	return kind + " " + name
}

// applyOrder returns objs with Namespaces first, then CRDs, then the rest,
// keeping the given order within each group.
func applyOrder(objs []*unstructured.Unstructured) []*unstructured.Unstructured {
	rank := func(u *unstructured.Unstructured) int {
		gvk := u.GroupVersionKind()
		switch {
		case gvk.Group == "" && gvk.Kind == "Namespace":
			return 0
		case gvk.Group == crdGroup && gvk.Kind == crdKind:
			return 1
		default:
			return 2
		}
	}
	out := make([]*unstructured.Unstructured, 0, len(objs))
	for r := 0; r <= 2; r++ {
		for _, u := range objs {
			if u != nil && rank(u) == r {
				out = append(out, u)
			}
		}
	}
	return out
}

func (c *Cluster) applyOne(ctx context.Context, obj *unstructured.Unstructured, fieldManager string, dryRun bool) (string, error) {
	if err := checkObject(obj); err != nil {
		return "", err
	}
	gvk := obj.GroupVersionKind()
	m, err := c.restMapping(ctx, gvk)
	if err != nil {
		return "", err
	}
	o := obj.DeepCopy()
	o.SetManagedFields(nil) // an apply request must not carry managedFields
	var ri dynamic.ResourceInterface = c.Dynamic.Resource(m.Resource)
	if m.Scope.Name() == meta.RESTScopeNameNamespace {
		ns := o.GetNamespace()
		if ns == "" {
			ns = metav1.NamespaceDefault
			o.SetNamespace(ns)
		}
		ri = c.Dynamic.Resource(m.Resource).Namespace(ns)
	} else {
		o.SetNamespace("")
	}
	cur, err := ri.Get(ctx, o.GetName(), metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		cur = nil
	case err != nil:
		return "", err
	}
	opts := metav1.ApplyOptions{FieldManager: fieldManager, Force: true}
	if dryRun {
		opts.DryRun = []string{metav1.DryRunAll}
	}
	out, err := ri.Apply(ctx, o.GetName(), o, opts)
	if err != nil {
		return "", err
	}
	action := AppliedConfigured
	switch {
	case cur == nil:
		action = AppliedCreated
	case sameObject(cur, out):
		action = AppliedUnchanged
	}
	if !dryRun && gvk.Group == crdGroup && gvk.Kind == crdKind {
		if err := c.waitEstablished(ctx, out.GetName()); err != nil {
			return "", err
		}
		c.resetMapper(ctx)
	}
	return action, nil
}

// restMapping resolves gvk, refreshing discovery while the kind is unknown
// but may still appear (see Apply).
func (c *Cluster) restMapping(ctx context.Context, gvk schema.GroupVersionKind) (*meta.RESTMapping, error) {
	mapper := meta.ToRESTMapperWithContext(c.Mapper)
	m, err := mapper.RESTMappingWithContext(ctx, gvk.GroupKind(), gvk.Version)
	if err == nil || !meta.IsNoMatchError(err) {
		return m, err
	}
	start := time.Now()
	wctx, cancel := context.WithTimeout(ctx, CRDWaitTimeout)
	defer cancel()
	werr := WaitFor(wctx, mappingRetryInterval, func(ctx context.Context) (bool, error) {
		c.resetMapper(ctx)
		m, err = mapper.RESTMappingWithContext(ctx, gvk.GroupKind(), gvk.Version)
		if err == nil {
			return true, nil
		}
		if !meta.IsNoMatchError(err) {
			return false, err
		}
		if time.Since(start) < unknownKindGrace {
			return false, nil
		}
		defined, lerr := c.crdDefines(ctx, gvk)
		if lerr == nil && !defined {
			return false, fmt.Errorf("kind %s of %s: %w", gvk.Kind, gvk.GroupVersion(), ErrUnknownKind)
		}
		return false, nil // a CRD defines it (or CRDs cannot be listed): wait
	})
	switch {
	case werr == nil:
		return m, nil
	case ctx.Err() != nil:
		return nil, fmt.Errorf("waiting for kind %s of %s to be served: %w", gvk.Kind, gvk.GroupVersion(), ctx.Err())
	case errors.Is(werr, context.DeadlineExceeded):
		return nil, fmt.Errorf("kind %s of %s still not served after %s (is its CustomResourceDefinition Established?): %w", gvk.Kind, gvk.GroupVersion(), CRDWaitTimeout, err)
	default:
		return nil, werr
	}
}

func (c *Cluster) resetMapper(ctx context.Context) {
	switch m := c.Mapper.(type) {
	case meta.ResettableRESTMapperWithContext:
		m.ResetWithContext(ctx)
	case meta.ResettableRESTMapper:
		m.Reset()
	}
}

func crdGVR() schema.GroupVersionResource {
	return schema.GroupVersionResource{Group: crdGroup, Version: "v1", Resource: crdResource}
}

// crdDefines reports whether a CRD serves gvk.
func (c *Cluster) crdDefines(ctx context.Context, gvk schema.GroupVersionKind) (bool, error) {
	list, err := c.Dynamic.Resource(crdGVR()).List(ctx, metav1.ListOptions{})
	if err != nil {
		return false, err
	}
	for _, crd := range list.Items {
		group, _, _ := unstructured.NestedString(crd.Object, "spec", "group")
		kind, _, _ := unstructured.NestedString(crd.Object, "spec", "names", "kind")
		if group != gvk.Group || kind != gvk.Kind {
			continue
		}
		versions, _, _ := unstructured.NestedSlice(crd.Object, "spec", "versions")
		for _, v := range versions {
			vm, ok := v.(map[string]any)
			if !ok {
				continue
			}
			name, _, _ := unstructured.NestedString(vm, "name")
			served, _, _ := unstructured.NestedBool(vm, "served")
			if name == gvk.Version && served {
				return true, nil
			}
		}
	}
	return false, nil
}

// CRDEstablished reports whether the CustomResourceDefinition name has
// condition Established=True. When it has not, state says why (not found,
// or its Established condition's status and message); names refused
// (NamesAccepted=False) are an error, which no wait mends.
func (c *Cluster) CRDEstablished(ctx context.Context, name string) (ok bool, state string, err error) {
	crd, err := c.Dynamic.Resource(crdGVR()).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return false, err.Error(), nil
	}
	conds, _, _ := unstructured.NestedSlice(crd.Object, "status", "conditions")
	state = "not Established yet"
	for _, cond := range conds {
		cm, ok := cond.(map[string]any)
		if !ok {
			continue
		}
		typ, _, _ := unstructured.NestedString(cm, "type")
		status, _, _ := unstructured.NestedString(cm, "status")
		msg, _, _ := unstructured.NestedString(cm, "message")
		switch {
		case typ == "Established" && status == "True":
			return true, "", nil
		case typ == "NamesAccepted" && status == "False":
			return false, "", fmt.Errorf("CRD %s: names not accepted: %s", name, msg)
		case typ == "Established":
			state = "Established=" + status + ": " + msg
		}
	}
	return false, state, nil
}

// waitEstablished waits until the CRD name has condition Established=True,
// failing at once when its names are refused (NamesAccepted=False).
func (c *Cluster) waitEstablished(ctx context.Context, name string) error {
	wctx, cancel := context.WithTimeout(ctx, CRDWaitTimeout)
	defer cancel()
	var last string
	err := WaitFor(wctx, mappingRetryInterval, func(ctx context.Context) (bool, error) {
		ok, state, err := c.CRDEstablished(ctx, name)
		last = state
		return ok, err
	})
	if err != nil {
		if last != "" {
			return fmt.Errorf("waiting for the CRD to be Established: %w (last: %s)", err, last)
		}
		return fmt.Errorf("waiting for the CRD to be Established: %w", err)
	}
	return nil
}
