package generate

import (
	"fmt"
	"maps"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"
)

// normalizeSpec applies upstream's NormalizeApplicationSpec (util/argo/argo.go)
// to the JSON tree of an Application, as the controller does before it writes
// the Application: an empty project becomes "default", a zero syncPolicy is
// dropped and, for single-source specs only, zero helm/kustomize/directory
// blocks are dropped (upstream's loop over spec.sources works on copies).
// Shared subtrees are cloned before they change.
func normalizeSpec(app map[string]any) {
	spec, ok := app["spec"].(map[string]any)
	if !ok {
		return
	}
	if p, _ := spec["project"].(string); p == "" {
		spec["project"] = "default"
	}
	if sp, ok := spec["syncPolicy"].(map[string]any); ok && syncPolicyZero(sp) {
		delete(spec, "syncPolicy")
	}
	if srcs, _ := spec["sources"].([]any); len(srcs) > 0 {
		return
	}
	src, ok := spec["source"].(map[string]any)
	if !ok {
		return
	}
	var out map[string]any
	cow := func() map[string]any {
		if out == nil {
			out = maps.Clone(src)
		}
		return out
	}
	if h, ok := src["helm"].(map[string]any); ok && helmZero(h) {
		delete(cow(), "helm")
	}
	if k, ok := src["kustomize"].(map[string]any); ok && kustomizeZero(k) {
		delete(cow(), "kustomize")
	}
	if d, ok := src["directory"].(map[string]any); ok && directoryZero(d) {
		kept := map[string]any{}
		for _, f := range []string{"exclude", "include"} {
			if v, ok := d[f]; ok {
				kept[f] = v
			}
		}
		if len(kept) > 0 {
			cow()["directory"] = kept
		} else {
			delete(cow(), "directory")
		}
	}
	if out != nil {
		spec["source"] = out
	}
}

func syncPolicyZero(sp map[string]any) bool {
	for _, k := range []string{"automated", "syncOptions", "retry", "managedNamespaceMetadata"} {
		if _, ok := sp[k]; ok {
			return false
		}
	}
	return true
}

// helmZero: omitempty already removed every zero field, so a zero helm block
// is empty but for a null valuesObject (a RawExtension without bytes). Any
// other valuesObject, even {}, makes the block non-zero: upstream's
// ValuesIsEmpty looks at yaml.JSONToYAML(valuesObject), which is "{}\n" for
// an empty object.
func helmZero(h map[string]any) bool {
	for k, v := range h {
		if k == "valuesObject" && v == nil {
			continue
		}
		return false
	}
	return true
}

// kustomizeZero mirrors upstream's IsZero, which ignores these fields.
func kustomizeZero(k map[string]any) bool {
	for f := range k {
		switch f {
		case "forceCommonLabels", "forceCommonAnnotations", "commonAnnotationsEnvsubst", "labelWithoutSelector", "labelIncludeTemplates":
		default:
			return false
		}
	}
	return true
}

func directoryZero(d map[string]any) bool {
	if r, _ := d["recurse"].(bool); r {
		return false
	}
	if j, ok := d["jsonnet"].(map[string]any); ok && len(j) > 0 {
		return false
	}
	return true
}

// validateObjectMeta applies the API server's checks on the generated
// Application's name and labels: the controller does not check them, so an
// invalid one fails when the Application is created.
//
// seen caches the verdict on label keys and values, which repeat across the
// Applications of an ApplicationSet.
func validateObjectMeta(app map[string]any, seen map[string][]string) error {
	check := func(kind, s string, f func(string) []string) []string {
		key := kind + "\x00" + s
		if msgs, ok := seen[key]; ok {
			return msgs
		}
		msgs := f(s)
		seen[key] = msgs
		return msgs
	}
	md, _ := app["metadata"].(map[string]any)
	name, _ := md["name"].(string)
	var errs []string
	for _, msg := range validation.IsDNS1123Subdomain(name) {
		errs = append(errs, fmt.Sprintf("metadata.name: Invalid value: %q: %s", name, msg))
	}
	if l, ok := md["labels"].(map[string]any); ok {
		for _, k := range sortedKeys(l) {
			for _, msg := range check("k", k, validation.IsQualifiedName) {
				errs = append(errs, fmt.Sprintf("metadata.labels: Invalid value: %q: %s", k, msg))
			}
			v, _ := l[k].(string)
			for _, msg := range check("v", v, validation.IsValidLabelValue) {
				errs = append(errs, fmt.Sprintf("metadata.labels: Invalid value: %q: %s", v, msg))
			}
		}
	}
	if a, ok := md["annotations"].(map[string]any); ok {
		for _, k := range sortedKeys(a) {
			for _, msg := range check("k", strings.ToLower(k), validation.IsQualifiedName) {
				errs = append(errs, fmt.Sprintf("metadata.annotations: Invalid value: %q: %s", k, msg))
			}
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("the API server would reject it: %s", strings.Join(errs, "; "))
	}
	return nil
}
