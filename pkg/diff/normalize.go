package diff

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strings"
)

// Argo CD's resource tracking, set on every object at sync time and not
// part of what the repository renders (argo-cd util/argo/resource_tracking.go):
// the annotation of annotation-based tracking, and the instance label of
// label-based tracking (application.instanceLabelKey, by default
// app.kubernetes.io/instance, which then holds the Application's name). A
// label with another value (a release name) comes from the chart: kept.
const (
	TrackingIDAnnotation = "argocd.argoproj.io/tracking-id"
	InstanceLabel        = "app.kubernetes.io/instance"
	// ArgoInstanceLabel is the instance label key this repository's hub uses
	// (see environments/default/addons/argo-cd/values.yaml).
	ArgoInstanceLabel = "argocd.argoproj.io/instance"
	checksumPrefix    = "checksum/"
	lastApplied       = "kubectl.kubernetes.io/last-applied-configuration"
)

// normalize returns a copy of o without what does not come from the
// repository: the tracking annotation, the instance label when it holds the
// Application's name, and (with stripChecksum) every checksum/* annotation;
// a Secret's values are replaced by a short hash.
func normalize(o map[string]any, appName string, stripChecksum bool) map[string]any {
	c, _ := deepCopy(o).(map[string]any)
	if md, ok := c["metadata"].(map[string]any); ok {
		if ann, ok := md["annotations"].(map[string]any); ok {
			delete(ann, TrackingIDAnnotation)
			if len(ann) == 0 {
				delete(md, "annotations")
			}
		}
		if l, ok := md["labels"].(map[string]any); ok {
			for _, key := range []string{InstanceLabel, ArgoInstanceLabel} {
				if v, _ := l[key].(string); v == appName {
					delete(l, key)
				}
			}
			if len(l) == 0 {
				delete(md, "labels")
			}
		}
	}
	if stripChecksum {
		stripChecksums(c)
	}
	if IsSecret(c) {
		MaskSecret(c)
	}
	return c
}

// IsSecret reports whether o is a core Secret.
func IsSecret(o map[string]any) bool {
	av, _ := o["apiVersion"].(string)
	k, _ := o["kind"].(string)
	return av == "v1" && k == "Secret"
}

// MaskSecret replaces, in place, every value of a Secret's data and
// stringData with "<sha256:xxxxxxxx>", the first 8 hex digits of the
// SHA-256 of the value's bytes (data decoded from base64), so that a reader
// sees which keys changed and never a value. An annotation that may repeat
// the values (kubectl's last-applied-configuration) is masked as a whole.
func MaskSecret(o map[string]any) {
	for _, field := range []string{"data", "stringData"} {
		m, ok := o[field].(map[string]any)
		if !ok {
			if o[field] != nil {
				o[field] = Mask([]byte(stringOf(o[field])))
			}
			continue
		}
		for k, v := range m {
			s := stringOf(v)
			raw := []byte(s)
			if field == "data" {
				if b, err := base64.StdEncoding.DecodeString(s); err == nil {
					raw = b
				}
			}
			m[k] = Mask(raw)
		}
	}
	if md, ok := o["metadata"].(map[string]any); ok {
		if ann, ok := md["annotations"].(map[string]any); ok {
			if v, ok := ann[lastApplied]; ok {
				ann[lastApplied] = Mask([]byte(stringOf(v)))
			}
		}
	}
}

// Mask is the short hash that stands for a secret value.
func Mask(b []byte) string {
	s := sha256.Sum256(b)
	return "<sha256:" + hex.EncodeToString(s[:])[:8] + ">"
}

func stringOf(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	return yamlOf(v)
}

// stripChecksums deletes checksum/* keys from every annotations map of the
// object (its own and its Pod templates').
func stripChecksums(v any) {
	switch t := v.(type) {
	case map[string]any:
		for k, x := range t {
			if k == "annotations" {
				if ann, ok := x.(map[string]any); ok {
					for a := range ann {
						if strings.HasPrefix(a, checksumPrefix) {
							delete(ann, a)
						}
					}
					if len(ann) == 0 {
						delete(t, k)
					}
					continue
				}
			}
			stripChecksums(x)
		}
	case []any:
		for _, x := range t {
			stripChecksums(x)
		}
	}
}

func deepCopy(v any) any {
	switch t := v.(type) {
	case map[string]any:
		c := make(map[string]any, len(t))
		for k, x := range t {
			c[k] = deepCopy(x)
		}
		return c
	case []any:
		c := make([]any, len(t))
		for i, x := range t {
			c[i] = deepCopy(x)
		}
		return c
	case map[string]string:
		c := make(map[string]any, len(t))
		for k, x := range t {
			c[k] = x
		}
		return c
	default:
		return v
	}
}
