package hubconfig

import (
	"context"
	"fmt"
	"sort"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// HubStoreName is the name of the SecretStore (or ClusterSecretStore) of
// ESO's kubernetes provider that points at the hub, in every hosting
// cluster (docs/central-config.md). An ExternalSecret reads the hub when its
// spec.secretStoreRef.name is this.
const HubStoreName = "hub"

// Ref is one hub key an ExternalSecret reads.
type Ref struct {
	Cluster string `json:"cluster"`
	Client  string `json:"client"`
	App     string `json:"app"`
	// ExternalSecret is namespace/name in the hosting cluster ("" namespace:
	// the Application's destination namespace, unknown here).
	ExternalSecret string `json:"externalSecret"`
	Target         string `json:"target"` // the Secret ESO writes in the hosting cluster
	Namespace      string `json:"namespace"`
	Secret         string `json:"secret"`
	Key            string `json:"key,omitempty"` // "" : every key of the Secret (dataFrom.extract)
	// Status is set by Check: ok, missing-secret, missing-key, or an error.
	Status string `json:"status,omitempty"`
}

// Statuses of Check.
const (
	StatusOK            = "ok"
	StatusMissingSecret = "missing-secret"
	StatusMissingKey    = "missing-key"
)

// FindExternalSecrets returns every object in a values tree (any depth: the
// charts' extraObjects, extraManifests, extraDeploy lists) that is an
// ExternalSecret of external-secrets.io, in document order.
func FindExternalSecrets(v any) []map[string]any {
	var out []map[string]any
	var walk func(any)
	walk = func(v any) {
		switch t := v.(type) {
		case map[string]any:
			kind, _ := t["kind"].(string)
			api, _ := t["apiVersion"].(string)
			if kind == "ExternalSecret" && strings.HasPrefix(api, "external-secrets.io/") {
				out = append(out, t)
				return
			}
			keys := make([]string, 0, len(t))
			for k := range t {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				walk(t[k])
			}
		case []any:
			for _, e := range t {
				walk(e)
			}
		}
	}
	walk(v)
	return out
}

// HubRefs lists the hub keys es reads, when its store is the hub's (else
// nil). client picks the hub namespace. Malformed fields are errors naming
// the ExternalSecret.
func HubRefs(es map[string]any, client string) ([]Ref, error) {
	meta, _ := es["metadata"].(map[string]any)
	name, _ := meta["name"].(string)
	nsName, _ := meta["namespace"].(string)
	id := name
	if nsName != "" {
		id = nsName + "/" + name
	}
	spec, _ := es["spec"].(map[string]any)
	if !readsHub(spec["secretStoreRef"]) {
		return nil, nil
	}
	ns, err := Namespace(client)
	if err != nil {
		return nil, fmt.Errorf("ExternalSecret %s: %w", id, err)
	}
	target := name
	if t, ok := spec["target"].(map[string]any); ok {
		if n, _ := t["name"].(string); n != "" {
			target = n
		}
	}
	base := Ref{Client: client, ExternalSecret: id, Target: target, Namespace: ns}
	var out []Ref
	data, _ := spec["data"].([]any)
	for i, d := range data {
		dm, _ := d.(map[string]any)
		rr, _ := dm["remoteRef"].(map[string]any)
		key, _ := rr["key"].(string)
		if key == "" {
			return nil, fmt.Errorf("ExternalSecret %s: spec.data[%d].remoteRef.key is missing", id, i)
		}
		if store, ok := dm["sourceRef"].(map[string]any); ok && !readsHub(store["storeRef"]) {
			continue
		}
		prop, _ := rr["property"].(string)
		r := base
		r.Secret, r.Key = key, prop
		out = append(out, r)
	}
	from, _ := spec["dataFrom"].([]any)
	for i, d := range from {
		dm, _ := d.(map[string]any)
		ex, ok := dm["extract"].(map[string]any)
		if !ok {
			continue // find and generators select no fixed key
		}
		key, _ := ex["key"].(string)
		if key == "" {
			return nil, fmt.Errorf("ExternalSecret %s: spec.dataFrom[%d].extract.key is missing", id, i)
		}
		prop, _ := ex["property"].(string)
		r := base
		r.Secret, r.Key = key, prop
		out = append(out, r)
	}
	return out, nil
}

func readsHub(ref any) bool {
	m, _ := ref.(map[string]any)
	n, _ := m["name"].(string)
	return n == HubStoreName
}

// Check sets each Ref's Status from the hub: whether its Secret, and its
// key, exist. Each Secret is read once; values are only tested for presence.
func Check(ctx context.Context, c kubernetes.Interface, refs []Ref) error {
	type sk struct{ ns, name string }
	keys := map[sk]map[string]bool{}
	errs := map[sk]string{}
	for i := range refs {
		r := &refs[i]
		id := sk{r.Namespace, r.Secret}
		if _, done := keys[id]; !done && errs[id] == "" {
			s, err := c.CoreV1().Secrets(r.Namespace).Get(ctx, r.Secret, metav1.GetOptions{})
			switch {
			case apierrors.IsNotFound(err):
				keys[id] = nil
			case err != nil:
				if ctx.Err() != nil {
					return fmt.Errorf("secret %s/%s: %w", r.Namespace, r.Secret, err)
				}
				errs[id] = err.Error()
			default:
				present := map[string]bool{}
				for k := range s.Data {
					present[k] = true
				}
				keys[id] = present
			}
		}
		switch present, found := keys[id]; {
		case errs[id] != "":
			r.Status = errs[id]
		case !found || present == nil:
			r.Status = StatusMissingSecret
		case r.Key != "" && !present[r.Key]:
			r.Status = StatusMissingKey
		default:
			r.Status = StatusOK
		}
	}
	return nil
}
