package localfleet

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/gitops-hub/gitops-hub/pkg/hubconfig"
	"github.com/gitops-hub/gitops-hub/pkg/kube"
	"github.com/gitops-hub/gitops-hub/pkg/onboard"
)

// esoTestCRDs are small CRDs of our own for the kinds ESOCRDs names (group,
// version and scope as ESO v0.16.2 serves them), without schemas: the
// controller needs them served, not validated. The test objects set what the
// real CRDs would default.
func esoTestCRDs() string {
	kinds := []struct{ kind, plural, group, version, scope string }{
		{"ExternalSecret", "externalsecrets", "external-secrets.io", "v1", "Namespaced"},
		{"SecretStore", "secretstores", "external-secrets.io", "v1", "Namespaced"},
		{"ClusterSecretStore", "clustersecretstores", "external-secrets.io", "v1", "Cluster"},
		{"ClusterExternalSecret", "clusterexternalsecrets", "external-secrets.io", "v1", "Cluster"},
		{"PushSecret", "pushsecrets", "external-secrets.io", "v1alpha1", "Namespaced"},
		{"ClusterPushSecret", "clusterpushsecrets", "external-secrets.io", "v1alpha1", "Cluster"},
		{"GeneratorState", "generatorstates", "generators.external-secrets.io", "v1alpha1", "Namespaced"},
	}
	var b strings.Builder
	for _, k := range kinds {
		fmt.Fprintf(&b, `---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: %[2]s.%[3]s}
spec:
  group: %[3]s
  names: {kind: %[1]s, listKind: %[1]sList, plural: %[2]s, singular: %[5]s}
  scope: %[6]s
  versions:
    - name: %[4]s
      served: true
      storage: true
      subresources: {status: {}}
      schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}
`, k.kind, k.plural, k.group, k.version, strings.ToLower(k.kind), k.scope)
	}
	return b.String()
}

// esoStore is a ClusterSecretStore of ESO's kubernetes provider reading the
// hub namespace remote with the token and CA that PlaceHubToken placed.
func esoStore(name, hubServer, remote string) string {
	return fmt.Sprintf(`apiVersion: external-secrets.io/v1
kind: ClusterSecretStore
metadata: {name: %s}
spec:
  provider:
    kubernetes:
      remoteNamespace: %s
      server:
        url: %s
        caProvider: {type: Secret, name: hub-credentials, namespace: external-secrets, key: ca.crt}
      auth:
        token:
          bearerToken: {name: hub-credentials, namespace: external-secrets, key: token}
`, name, remote, hubServer)
}

// esoExternalSecret reads key property of hub Secret key through store into
// Secret monitoring/name.
func esoExternalSecret(name, store, key, property string) string {
	return fmt.Sprintf(`apiVersion: external-secrets.io/v1
kind: ExternalSecret
metadata: {name: %[1]s, namespace: monitoring}
spec:
  refreshInterval: 2s
  secretStoreRef: {kind: ClusterSecretStore, name: %[2]s}
  target: {name: %[1]s, creationPolicy: Owner, deletionPolicy: Retain}
  data:
    - secretKey: %[4]s
      remoteRef: {key: %[3]s, property: %[4]s, conversionStrategy: Default, decodingStrategy: None, metadataPolicy: None}
`, name, store, key, property)
}

// TestStartESO runs External Secrets Operator's controller (the v0.16.2
// binary of `make tools`) for a hosting cluster of a fleet of two
// apiserver-only clusters, hub and hosting:
//   - without its CRDs in the cluster it is not started, and the error names
//     the missing CRDs;
//   - with them it starts with KUBECONFIG and only the environment StartESO
//     gives, and is ready; StartESO again only waits for it;
//   - through the hub access `hubctl cluster add` sets up (onboard), it
//     copies a client's Secret from the hub into the hosting cluster and
//     follows a change; a store on another client's namespace gets no
//     Secret and reports the hub's Forbidden;
//   - Down stops it.
func TestStartESO(t *testing.T) {
	bin := requireReal(t, "etcd", "kube-apiserver", ESOBinary)
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()
	hosting := "local-develop-clientA-services"
	f := testFleet(t, "hub", hosting)
	f.BinDir = bin
	f.AllowHostNetwork = false
	f.APIServerOnly = []string{"hub", hosting}
	if err := f.Prepare(ctx); err != nil {
		t.Fatal(err)
	}
	for _, name := range f.Clusters() {
		base, err := f.ClusterBase(name)
		if err != nil {
			t.Fatal(err)
		}
		if err := f.EnsureAPIServerCluster(ctx, name, base); err != nil {
			t.Fatal(err)
		}
	}
	hub, err := kube.Load("hub", f.Kubeconfig("hub"))
	if err != nil {
		t.Fatal(err)
	}
	c1, err := kube.Load(hosting, f.Kubeconfig(hosting))
	if err != nil {
		t.Fatal(err)
	}
	proc := ESOProc(hosting)

	// No CRDs: not started.
	err = f.StartESO(ctx, hosting, ESOOptions{CRDsWithin: 3 * time.Second})
	if err == nil || !strings.Contains(err.Error(), "externalsecrets.external-secrets.io") || !strings.Contains(err.Error(), "generatorstates.generators.external-secrets.io") {
		t.Fatalf("StartESO without the CRDs: %v, want an error naming the missing CRDs", err)
	}
	if _, err := f.procs().Record(proc); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("StartESO without the CRDs left a process record: %v", err)
	}
	if err := f.StartESO(ctx, "hub", ESOOptions{}); err == nil || !strings.Contains(err.Error(), "not a hosting cluster") {
		t.Errorf("StartESO on the hub: %v, want an error", err)
	}

	// With the CRDs.
	if err := c1.ApplyYAML(ctx, []byte(esoTestCRDs()), "test"); err != nil {
		t.Fatal(err)
	}
	t.Setenv("HUBCTL_TEST_CALLER_ONLY", "leak")
	if err := f.StartESO(ctx, hosting, ESOOptions{}); err != nil {
		t.Fatal(err)
	}
	rec, err := f.procs().Record(proc)
	if err != nil || !rec.Alive() {
		t.Fatalf("%s: record %+v, %v: want a live process", proc, rec, err)
	}
	environ, err := os.ReadFile("/proc/" + strconv.Itoa(rec.PID) + "/environ")
	if err != nil {
		t.Fatal(err)
	}
	env := strings.Split(string(environ), "\x00")
	if !contains(env, "KUBECONFIG="+f.Kubeconfig(hosting)) || strings.Contains(string(environ), "HUBCTL_TEST_CALLER_ONLY") {
		t.Errorf("%s's environment %q: want KUBECONFIG=%s and nothing of the caller's", proc, env, f.Kubeconfig(hosting))
	}
	cmdline, _ := os.ReadFile("/proc/" + strconv.Itoa(rec.PID) + "/cmdline")
	for _, want := range []string{"--metrics-addr=0", "--enable-leader-election=false"} {
		if !strings.Contains(string(cmdline), want) {
			t.Errorf("%s's command line %q lacks %s", proc, cmdline, want)
		}
	}
	st, err := LoadState(f.StateDir)
	if err != nil {
		t.Fatal(err)
	}
	recorded := false
	for _, p := range st.Processes {
		recorded = recorded || (p.Name == proc && p.PID == rec.PID)
	}
	if !recorded {
		t.Errorf("%s (pid %d) is not in fleet.json: %+v", proc, rec.PID, st.Processes)
	}
	if err := f.StartESO(ctx, hosting, ESOOptions{}); err != nil {
		t.Fatalf("StartESO on a running one: %v", err)
	}
	if again, _ := f.procs().Record(proc); again.PID != rec.PID {
		t.Errorf("StartESO again started pid %d, want %d to be kept", again.PID, rec.PID)
	}

	// The hub side as `hubctl cluster add` makes it, and a client's Secret.
	acc, err := onboard.EnsureClientSecretAccess(ctx, hub.Client, hosting, "clientA", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := onboard.HubCA(hub.Config)
	if err != nil {
		t.Fatal(err)
	}
	hubServer, _ := f.Server("hub")
	if err := onboard.PlaceHubToken(ctx, c1.Client, acc.Token, hubServer, ca); err != nil {
		t.Fatal(err)
	}
	const p1, p2, other = "test-value-one", "test-value-two", "test-value-of-b"
	set := func(client, v string) {
		t.Helper()
		if _, err := hubconfig.Set(ctx, hub.Client, client, "grafana-admin", map[string][]byte{"admin-password": []byte(v)}); err != nil {
			t.Fatal(err)
		}
	}
	set("clientA", p1)
	set("clientB", other)
	if _, err := c1.Client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "monitoring"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	objs := esoStore("hub", hubServer, "client-clienta") + "---\n" + esoExternalSecret("grafana-admin", "hub", "grafana-admin", "admin-password") +
		"---\n" + esoStore("other-client", hubServer, "client-clientb") + "---\n" + esoExternalSecret("other-client", "other-client", "grafana-admin", "admin-password")
	if err := c1.ApplyYAML(ctx, []byte(objs), "test"); err != nil {
		t.Fatal(err)
	}
	secretHolds := func(name, want string) func() (bool, string) {
		return func() (bool, string) {
			s, err := c1.Client.CoreV1().Secrets("monitoring").Get(ctx, name, metav1.GetOptions{})
			if err != nil {
				return false, err.Error()
			}
			got := string(s.Data["admin-password"])
			return got == want, fmt.Sprintf("admin-password has %d bytes, sha %s", len(got), hubconfig.ShortHash([]byte(got)))
		}
	}
	waitFor(t, "monitoring/grafana-admin holding the hub's value", 90*time.Second, secretHolds("grafana-admin", p1))
	set("clientA", p2)
	waitFor(t, "monitoring/grafana-admin following the hub's change", 90*time.Second, secretHolds("grafana-admin", p2))

	// Another client's namespace: refused by the hub. ESO's kubernetes
	// provider validates a store with a SelfSubjectRulesReview in its remote
	// namespace (pkg/provider/kubernetes/validate.go of ESO v0.16.2), so the
	// store is not Ready and the ExternalSecret fails.
	esGVR := schema.GroupVersionResource{Group: "external-secrets.io", Version: "v1", Resource: "externalsecrets"}
	storeGVR := schema.GroupVersionResource{Group: "external-secrets.io", Version: "v1", Resource: "clustersecretstores"}
	waitFor(t, "the other client's store refused and its ExternalSecret failing", 90*time.Second, func() (bool, string) {
		store, err := c1.Dynamic.Resource(storeGVR).Get(ctx, "other-client", metav1.GetOptions{})
		if err != nil {
			return false, err.Error()
		}
		es, err := c1.Dynamic.Resource(esGVR).Namespace("monitoring").Get(ctx, "other-client", metav1.GetOptions{})
		if err != nil {
			return false, err.Error()
		}
		sc, ec := readyCondition(store), readyCondition(es)
		return strings.Contains(sc, "False") && strings.Contains(sc, "not allowed to get secrets") && strings.Contains(ec, "False"), sc + " | " + ec
	})
	if _, err := c1.Client.CoreV1().Secrets("monitoring").Get(ctx, "other-client", metav1.GetOptions{}); err == nil {
		t.Errorf("Secret monitoring/other-client exists: another client's Secret reached the cluster")
	}

	// Down stops it.
	if err := f.Down(ctx); err != nil {
		t.Fatal(err)
	}
	if !processGone(rec.PID, rec.StartTime) {
		t.Errorf("%s (pid %d) still runs after Down", proc, rec.PID)
	}
}

// readyCondition is "status reason: message" of an ESO object's Ready condition.
func readyCondition(u *unstructured.Unstructured) string {
	conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
	for _, c := range conds {
		m, ok := c.(map[string]any)
		if !ok || m["type"] != "Ready" {
			continue
		}
		return fmt.Sprintf("%s %s: %v %v", u.GetKind(), m["status"], m["reason"], m["message"])
	}
	return u.GetKind() + ": no Ready condition"
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// TestUpActionsESO: ESO starts after Argo CD (which installs its CRDs), once
// per cluster asked for, and not at all without Argo CD; a missing binary is
// a prerequisite failure that names it and `make tools`.
func TestUpActionsESO(t *testing.T) {
	f := &Fleet{StateDir: t.TempDir(), BinDir: t.TempDir(), Hub: "hub", Hosting: []string{"a", "b"}}
	names := func(opts UpOptions) []string {
		var out []string
		for _, a := range f.UpActions(opts) {
			out = append(out, a.Name)
		}
		return out
	}
	got := names(UpOptions{ESO: ESOOptions{Clusters: []string{"a", "b"}}})
	argo, esoA, esoB := -1, -1, -1
	for i, n := range got {
		switch {
		case strings.HasPrefix(n, "Starting Argo CD"):
			argo = i
		case strings.HasPrefix(n, "Starting External Secrets Operator for a "):
			esoA = i
		case strings.HasPrefix(n, "Starting External Secrets Operator for b "):
			esoB = i
		}
	}
	if argo < 0 || esoA != argo+1 || esoB != argo+2 {
		t.Errorf("actions %q: want ESO for a, then b, right after Argo CD", got)
	}
	for _, n := range names(UpOptions{NoArgoCD: true, ESO: ESOOptions{Clusters: []string{"a"}}}) {
		if strings.Contains(n, "External Secrets") {
			t.Errorf("ESO started without Argo CD: %q", n)
		}
	}
	err := f.checkESOBinary(ESOOptions{Clusters: []string{"a"}})
	if err == nil || !strings.Contains(err.Error(), ESOBinary) || !strings.Contains(err.Error(), "make tools") {
		t.Errorf("missing binary: %v", err)
	}
	if err := f.checkESOBinary(ESOOptions{}); err != nil {
		t.Errorf("no ESO cluster, yet: %v", err)
	}
	if err := os.WriteFile(f.Bin(ESOBinary), []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := f.checkESOBinary(ESOOptions{Clusters: []string{"a"}}); err != nil {
		t.Errorf("binary present: %v", err)
	}
	if args := strings.Join(ESOArgs(ESOOptions{}), " "); args != "--metrics-addr=0 --enable-leader-election=false --concurrent=2 --loglevel=info --zap-time-encoding=iso8601" {
		t.Errorf("ESOArgs: %s", args)
	}
}
