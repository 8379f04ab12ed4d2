package hubconfig_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"k8s.io/client-go/kubernetes/fake"
	"sigs.k8s.io/yaml"

	"github.com/gitops-hub/gitops-hub/pkg/hubconfig"
)

const valuesWithExternalSecrets = `
grafana:
  admin:
    existingSecret: grafana-admin
extraManifests:
  - apiVersion: external-secrets.io/v1
    kind: ExternalSecret
    metadata: {name: grafana-admin, namespace: monitoring}
    spec:
      secretStoreRef: {kind: SecretStore, name: hub}
      target: {name: grafana-admin}
      data:
        - secretKey: admin-password
          remoteRef: {key: grafana-admin, property: admin-password}
        - secretKey: admin-user
          remoteRef: {key: grafana-admin, property: admin-user}
      dataFrom:
        - extract: {key: thanos-objstore}
        - find: {name: {regexp: ".*"}}
  - apiVersion: external-secrets.io/v1
    kind: ExternalSecret
    metadata: {name: elsewhere}
    spec:
      secretStoreRef: {kind: ClusterSecretStore, name: aws}
      data:
        - secretKey: x
          remoteRef: {key: y}
  - apiVersion: v1
    kind: ConfigMap
    metadata: {name: not-me}
nested:
  deeper:
    - apiVersion: external-secrets.io/v1beta1
      kind: ExternalSecret
      metadata: {name: deep}
      spec:
        secretStoreRef: {name: hub}
        data:
          - secretKey: k
            remoteRef: {key: s3}
`

func refsOf(t *testing.T, doc, client string) []hubconfig.Ref {
	t.Helper()
	var v map[string]any
	if err := yaml.Unmarshal([]byte(doc), &v); err != nil {
		t.Fatal(err)
	}
	var out []hubconfig.Ref
	for _, es := range hubconfig.FindExternalSecrets(v) {
		refs, err := hubconfig.HubRefs(es, client)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, refs...)
	}
	return out
}

func show(refs []hubconfig.Ref) string {
	var s []string
	for _, r := range refs {
		s = append(s, fmt.Sprintf("%s>%s:%s/%s[%s]%s", r.ExternalSecret, r.Target, r.Namespace, r.Secret, r.Key, r.Status))
	}
	return strings.Join(s, " ")
}

func TestHubRefs(t *testing.T) {
	got := show(refsOf(t, valuesWithExternalSecrets, "clientA"))
	want := "monitoring/grafana-admin>grafana-admin:client-clienta/grafana-admin[admin-password] " +
		"monitoring/grafana-admin>grafana-admin:client-clienta/grafana-admin[admin-user] " +
		"monitoring/grafana-admin>grafana-admin:client-clienta/thanos-objstore[] " +
		"deep>deep:client-clienta/s3[]"
	if got != want {
		t.Errorf("refs\n got %s\nwant %s", got, want)
	}
}

func TestHubRefsErrors(t *testing.T) {
	es := map[string]any{"metadata": map[string]any{"name": "x"}, "spec": map[string]any{
		"secretStoreRef": map[string]any{"name": "hub"},
		"data":           []any{map[string]any{"secretKey": "k", "remoteRef": map[string]any{}}},
	}}
	if _, err := hubconfig.HubRefs(es, "clientA"); err == nil || !strings.Contains(err.Error(), "ExternalSecret x") || !strings.Contains(err.Error(), "data[0]") {
		t.Errorf("missing key: %v", err)
	}
	es["spec"].(map[string]any)["data"] = nil
	if _, err := hubconfig.HubRefs(es, ""); err == nil || !strings.Contains(err.Error(), "ExternalSecret x") {
		t.Errorf("no client: %v", err)
	}
}

func TestCheck(t *testing.T) {
	ctx := context.Background()
	c := fake.NewClientset()
	if _, err := hubconfig.Set(ctx, c, "clientA", "grafana-admin", map[string][]byte{"admin-password": []byte("p")}); err != nil {
		t.Fatal(err)
	}
	refs := refsOf(t, valuesWithExternalSecrets, "clientA")
	if err := hubconfig.Check(ctx, c, refs); err != nil {
		t.Fatal(err)
	}
	var st []string
	for _, r := range refs {
		st = append(st, r.Status)
	}
	if got, want := strings.Join(st, " "), "ok missing-key missing-secret missing-secret"; got != want {
		t.Errorf("statuses %q, want %q", got, want)
	}
}
