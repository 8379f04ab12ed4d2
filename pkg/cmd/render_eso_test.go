package cmd

import (
	"strings"
	"testing"
)

// dig walks nested maps and lists ("0" indexes a list).
func dig(v any, path ...string) any {
	for _, p := range path {
		switch t := v.(type) {
		case map[string]any:
			v = t[p]
		case []any:
			if p != "0" || len(t) == 0 {
				return nil
			}
			v = t[0]
		default:
			return nil
		}
	}
	return v
}

// TestRenderExternalSecretsAddon renders the external-secrets addon with the real chart: the
// ClusterSecretStore "hub" reads the cluster's client namespace on the hub with the
// hub-credentials Secret that `hubctl cluster add` places, the ExternalSecrets of the layers
// follow it (a cluster layer removes one with null), and neither the webhook nor the cert
// controller is rendered.
func TestRenderExternalSecretsAddon(t *testing.T) {
	out, errOut, code := run(t, renderArgs(t, repoRoot, "--cluster", "eks-develop-clientXPTO-services", "--app", "external-secrets")...)
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	objs := parseStream(t, out)
	store := objs["ClusterSecretStore/hub"]
	if store == nil {
		t.Fatalf("no ClusterSecretStore hub in\n%s", strings.Join(keys(objs), "\n"))
	}
	k8s := dig(store, "spec", "provider", "kubernetes")
	for path, want := range map[string]string{
		"remoteNamespace":                  "client-clientxpto",
		"server/url":                       "https://0A1B2C3D4E5F60718293A4B5C6D7E8F9.gr7.us-east-1.eks.amazonaws.com",
		"server/caProvider/name":           "hub-credentials",
		"server/caProvider/namespace":      "external-secrets",
		"server/caProvider/key":            "ca.crt",
		"auth/token/bearerToken/name":      "hub-credentials",
		"auth/token/bearerToken/namespace": "external-secrets",
		"auth/token/bearerToken/key":       "token",
	} {
		if got, _ := dig(k8s, strings.Split(path, "/")...).(string); got != want {
			t.Errorf("store %s = %q, want %q", path, got, want)
		}
	}
	if es := objs["ExternalSecret/backstage-postgres"]; es == nil || dig(es, "metadata", "namespace") != "backstage" || dig(es, "spec", "secretStoreRef", "name") != "hub" {
		t.Errorf("ExternalSecret backstage-postgres: %v", es)
	}
	if _, ok := objs["ExternalSecret/grafana-admin"]; ok {
		t.Error("grafana-admin rendered on a cluster whose layer removes it (no kube-prometheus-stack)")
	}
	for k := range objs {
		if strings.HasPrefix(k, "CustomResourceDefinition/") { // the Webhook generator's CRD is not the webhook
			continue
		}
		if strings.HasPrefix(k, "ValidatingWebhookConfiguration/") || strings.Contains(k, "cert-controller") || strings.Contains(k, "webhook") {
			t.Errorf("rendered %s: the webhook and the cert controller are off", k)
		}
	}
}

// TestRenderGrafanaAdminFromHub: on a client's cluster the ExternalSecret grafana-admin writes
// the Secret that kube-prometheus-stack's Grafana reads its admin from (admin-user and
// admin-password), and prod's Prometheus uploads to the object store configured by the
// delivered thanos-objstore Secret.
func TestRenderGrafanaAdminFromHub(t *testing.T) {
	out, errOut, code := run(t, renderArgs(t, repoRoot, "--cluster", "eks-prod-clientA-services", "--app", "external-secrets", "--app", "kube-prometheus-stack")...)
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	objs := parseStream(t, out)
	es := objs["ExternalSecret/grafana-admin"]
	if es == nil || dig(es, "metadata", "namespace") != "monitoring" || dig(es, "spec", "target", "name") != "grafana-admin" ||
		dig(es, "spec", "data", "0", "remoteRef", "key") != "grafana-admin" || dig(es, "spec", "data", "0", "remoteRef", "property") != "admin-password" {
		t.Fatalf("ExternalSecret grafana-admin: %v", es)
	}
	tmpl, _ := dig(es, "spec", "target", "template", "data").(map[string]any)
	if _, ok := tmpl["admin-user"]; !ok || !strings.Contains(tmpl["admin-password"].(string), ".password") {
		t.Errorf("grafana-admin template: %v", tmpl)
	}
	// Grafana's Deployment reads both keys from that Secret.
	dep := objs["Deployment/kube-prometheus-stack-grafana"]
	if dep == nil {
		t.Fatalf("no Grafana Deployment in\n%s", strings.Join(keys(objs), "\n"))
	}
	refs := map[string]bool{}
	for _, c := range dig(dep, "spec", "template", "spec", "containers").([]any) {
		for _, e := range dig(c, "env").([]any) {
			if ref, ok := dig(e, "valueFrom", "secretKeyRef").(map[string]any); ok && ref["name"] == "grafana-admin" {
				refs[ref["key"].(string)] = true
			}
		}
	}
	if !refs["admin-user"] || !refs["admin-password"] {
		t.Errorf("Grafana reads %v from grafana-admin, want admin-user and admin-password", refs)
	}
	for k := range objs {
		if strings.HasPrefix(k, "Secret/") && strings.Contains(k, "grafana") && k != "Secret/grafana-admin" {
			t.Errorf("the chart still renders a Secret with a Grafana password: %s", k)
		}
	}
	prom := objs["Prometheus/kube-prometheus-stack-prometheus"]
	if got := dig(prom, "spec", "thanos", "objectStorageConfig", "name"); got != "thanos-objstore" {
		t.Errorf("Prometheus thanos.objectStorageConfig.name = %v, want thanos-objstore", got)
	}
	if es := objs["ExternalSecret/thanos-objstore"]; es == nil || !strings.Contains(dig(es, "spec", "target", "template", "data", "objstore.yml").(string), "bucket:") {
		t.Errorf("ExternalSecret thanos-objstore: %v", es)
	}
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}
