package validate

import (
	"fmt"
	"sort"
	"strings"

	apiextensionsinternal "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apiextensionsv1beta1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1beta1"
	structuralschema "k8s.io/apiextensions-apiserver/pkg/apiserver/schema"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/pruning"
	crdvalidation "k8s.io/apiextensions-apiserver/pkg/apiserver/validation"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/managedfields"
	"k8s.io/apimachinery/pkg/util/version"
	"k8s.io/apiserver/pkg/endpoints/deprecation"
	"k8s.io/client-go/applyconfigurations"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"

	"github.com/gitops-hub/gitops-hub/pkg/render"
)

// removedObject is what prerelease-lifecycle-gen generates on k8s.io/api
// types of beta and alpha versions.
type removedObject interface {
	APILifecycleRemoved() (major, minor int)
}

// manifestChecker holds what the manifest rules share across renders.
type manifestChecker struct {
	major, minor int
	kube         string
	// scheme knows the built-in types of k8s.io/api and the
	// CustomResourceDefinition API, built here rather than taken from
	// client-go's global scheme, which other packages add to.
	scheme *runtime.Scheme
	types  managedfields.TypeConverter
}

func newScheme() (*runtime.Scheme, error) {
	s := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(s); err != nil {
		return nil, err
	}
	if err := apiextensionsv1.AddToScheme(s); err != nil {
		return nil, err
	}
	return s, apiextensionsv1beta1.AddToScheme(s)
}

// CheckRendered adds the manifest rules (render-failed, removed-api,
// deprecated-api, schema, crd-schema) for rendered Applications to r.
// kubeVersion is the Kubernetes version rendered for ("" = 1.35.0); an
// Application whose Helm source sets helm.kubeVersion is checked against
// that version, as it is rendered for it.
func CheckRendered(r *Report, t *Tree, results []render.Result, kubeVersion string) error {
	if kubeVersion == "" {
		kubeVersion = "1.35.0"
	}
	sch, err := newScheme()
	if err != nil {
		return err
	}
	types := applyconfigurations.NewTypeConverter(sch)
	checkers := map[string]*manifestChecker{}
	checker := func(kv string) (*manifestChecker, error) {
		if mc, ok := checkers[kv]; ok {
			return mc, nil
		}
		v, err := version.ParseGeneric(kv)
		if err != nil {
			return nil, fmt.Errorf("kube version %q: %w", kv, err)
		}
		mc := &manifestChecker{major: int(v.Major()), minor: int(v.Minor()), kube: fmt.Sprintf("%d.%d", v.Major(), v.Minor()), scheme: sch, types: types}
		checkers[kv] = mc
		return mc, nil
	}

	aggs := map[string]*aggregate{}
	var order []string
	for _, res := range results {
		file, line := "", 0
		if as := t.appSetOf(res.App); as != nil {
			file, line = as.doc.File, as.doc.Line
		}
		if res.Err != nil {
			r.add(RuleRenderFailed, file, line, "Application/"+res.App.Name, "%v", res.Err)
			continue
		}
		mc, err := checker(appKubeVersion(res, kubeVersion))
		if err != nil {
			r.add(RuleRenderFailed, file, line, "Application/"+res.App.Name, "%v", err)
			continue
		}
		for _, f := range mc.check(res.Objects) {
			key := f.rule + "\x00" + file + "\x00" + f.object + "\x00" + f.message
			g, ok := aggs[key]
			if !ok {
				g = &aggregate{rule: f.rule, file: file, line: line, object: f.object, message: f.message}
				aggs[key] = g
				order = append(order, key)
			}
			g.apps = append(g.apps, res.App.Name)
		}
	}
	for _, k := range order {
		g := aggs[k]
		sort.Strings(g.apps)
		apps, more := g.apps, ""
		if len(apps) > 5 {
			apps, more = apps[:5], fmt.Sprintf(" and %d more", len(apps)-5)
		}
		r.add(g.rule, g.file, g.line, g.object, "%s (rendered by Application %s%s)", g.message, strings.Join(apps, ", "), more)
	}
	r.sort()
	return nil
}

type objectFinding struct{ rule, object, message string }

func objectName(u *unstructured.Unstructured) string {
	n := u.GetName()
	if ns := u.GetNamespace(); ns != "" {
		n = ns + "/" + n
	}
	return u.GetAPIVersion() + " " + u.GetKind() + " " + n
}

// check runs the manifest rules on one render.
func (mc *manifestChecker) check(objs []map[string]any) []objectFinding {
	var out []objectFinding
	crds := map[schema.GroupVersionKind]*apiextensionsinternal.JSONSchemaProps{}
	for _, o := range objs {
		u := &unstructured.Unstructured{Object: o}
		if u.GroupVersionKind().GroupKind() != (schema.GroupKind{Group: "apiextensions.k8s.io", Kind: "CustomResourceDefinition"}) {
			continue
		}
		var crd apiextensionsv1.CustomResourceDefinition
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(o, &crd); err != nil {
			continue // reported by the schema rule
		}
		for _, ver := range crd.Spec.Versions {
			if ver.Schema == nil || ver.Schema.OpenAPIV3Schema == nil {
				continue
			}
			var in apiextensionsinternal.JSONSchemaProps
			if err := apiextensionsv1.Convert_v1_JSONSchemaProps_To_apiextensions_JSONSchemaProps(ver.Schema.OpenAPIV3Schema, &in, nil); err != nil {
				continue
			}
			crds[schema.GroupVersionKind{Group: crd.Spec.Group, Version: ver.Name, Kind: crd.Spec.Names.Kind}] = &in
		}
	}
	for _, o := range objs {
		u := &unstructured.Unstructured{Object: o}
		gvk := u.GroupVersionKind()
		name := objectName(u)
		if s, ok := crds[gvk]; ok {
			out = append(out, checkCustomResource(u, s, name)...)
			continue
		}
		if !mc.scheme.IsGroupRegistered(gvk.Group) {
			continue // a custom resource whose CRD is not in the render
		}
		if !mc.scheme.Recognizes(gvk) {
			// A built-in group, but a version (or kind) k8s.io/api no
			// longer has: removed long ago.
			out = append(out, objectFinding{RuleRemovedAPI, name, fmt.Sprintf("%s %s is not served by Kubernetes %s", gvk.GroupVersion(), gvk.Kind, mc.kube)})
			continue
		}
		typed, err := mc.scheme.New(gvk)
		if err == nil {
			err = runtime.DefaultUnstructuredConverter.FromUnstructured(o, typed)
		}
		if err != nil {
			out = append(out, objectFinding{RuleSchema, name, fmt.Sprintf("does not decode as %s %s: %v", gvk.GroupVersion(), gvk.Kind, err)})
			continue
		}
		typed.GetObjectKind().SetGroupVersionKind(gvk)
		if rm, ok := typed.(removedObject); ok {
			if maj, mn := rm.APILifecycleRemoved(); maj > 0 && (mc.major > maj || (mc.major == maj && mc.minor >= mn)) {
				out = append(out, objectFinding{RuleRemovedAPI, name, fmt.Sprintf("%s %s is removed in Kubernetes %d.%d (rendering for %s)%s", gvk.GroupVersion(), gvk.Kind, maj, mn, mc.kube, replacement(typed))})
				continue
			}
		}
		if deprecation.IsDeprecated(typed, mc.major, mc.minor) {
			out = append(out, objectFinding{RuleDeprecatedAPI, name, deprecation.WarningMessage(typed)})
		}
		if gvk.Group == apiextensionsv1.GroupName {
			continue // client-go ships no schema for the CRD API itself
		}
		if _, err := mc.types.ObjectToTyped(u); err != nil {
			out = append(out, objectFinding{RuleSchema, name, fmt.Sprintf("rejected by the Kubernetes API schema: %v", err)})
		}
	}
	return out
}

func replacement(obj runtime.Object) string {
	type replaced interface {
		APILifecycleReplacement() schema.GroupVersionKind
	}
	if r, ok := obj.(replaced); ok {
		if gvk := r.APILifecycleReplacement(); !gvk.Empty() {
			return fmt.Sprintf("; use %s %s", gvk.GroupVersion(), gvk.Kind)
		}
	}
	return ""
}

// checkCustomResource validates u against its CRD version's schema, with
// the API server's validator and structural pruning for unknown fields.
func checkCustomResource(u *unstructured.Unstructured, s *apiextensionsinternal.JSONSchemaProps, name string) []objectFinding {
	var out []objectFinding
	validator, _, err := crdvalidation.NewSchemaValidator(s)
	if err != nil {
		return []objectFinding{{RuleCRDSchema, name, fmt.Sprintf("the CustomResourceDefinition's schema does not compile: %v", err)}}
	}
	if errs := crdvalidation.ValidateCustomResource(nil, u.UnstructuredContent(), validator); len(errs) > 0 {
		out = append(out, objectFinding{RuleCRDSchema, name, fmt.Sprintf("rejected by its CustomResourceDefinition: %v", errs.ToAggregate())})
	}
	if st, err := structuralschema.NewStructural(s); err == nil {
		obj := runtime.DeepCopyJSON(u.UnstructuredContent())
		unknown := pruning.PruneWithOptions(obj, st, true, structuralschema.UnknownFieldPathOptions{TrackUnknownFieldPaths: true})
		if len(unknown) > 0 {
			sort.Strings(unknown)
			out = append(out, objectFinding{RuleCRDSchema, name, fmt.Sprintf("unknown fields (pruned by the API server): %s", strings.Join(unknown, ", "))})
		}
	}
	return out
}

// appKubeVersion is the helm.kubeVersion of the Application's first Helm
// source that sets one, else def.
func appKubeVersion(res render.Result, def string) string {
	for _, s := range res.App.Sources() {
		if h, ok := s["helm"].(map[string]any); ok {
			if kv, _ := h["kubeVersion"].(string); kv != "" {
				return kv
			}
		}
	}
	return def
}
