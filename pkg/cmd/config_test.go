package cmd_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/gitops-hub/gitops-hub/internal/testenv"
	"github.com/gitops-hub/gitops-hub/pkg/cmd"
	"github.com/gitops-hub/gitops-hub/pkg/hubconfig"
)

func hubctl(ctx context.Context, args ...string) (code int, stdout, stderr string) {
	return hubctlIn(ctx, "", args...)
}

func hubctlIn(ctx context.Context, stdin string, args ...string) (code int, stdout, stderr string) {
	var out, errOut bytes.Buffer
	code = cmd.Run(ctx, args, cmd.Streams{In: strings.NewReader(stdin), Out: &out, ErrOut: &errOut})
	return code, out.String(), errOut.String()
}

// TestConfigAgainstHub drives `hubctl config` against a real kube-apiserver.
func TestConfigAgainstHub(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	hub := testenv.Start(ctx, t, "hub")
	kc := []string{"--kubeconfig", hub.Kubeconfig}
	const pw = "Pa55-never-printed"
	file := filepath.Join(t.TempDir(), "objstore.yml")
	if err := os.WriteFile(file, []byte("type: S3\nconfig:\n  secret_key: "+pw+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var all strings.Builder
	run := func(want int, args ...string) string {
		t.Helper()
		code, out, errOut := hubctl(ctx, append(append([]string{"config"}, args...), kc...)...)
		all.WriteString(out + errOut)
		if code != want {
			t.Fatalf("hubctl config %v: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", args, code, want, out, errOut)
		}
		return out + errOut
	}

	out := run(0, "set", "clientA", "grafana-admin", "--from-literal", "admin-password="+pw, "--from-literal", "admin-user=admin")
	if !strings.Contains(out, "client-clienta/grafana-admin created") || !strings.Contains(out, hubconfig.ShortHash([]byte(pw))) {
		t.Errorf("set:\n%s", out)
	}
	s, err := hub.Client.CoreV1().Secrets("client-clienta").Get(ctx, "grafana-admin", metav1.GetOptions{})
	if err != nil || string(s.Data["admin-password"]) != pw || s.Labels[hubconfig.ManagedByLabel] != hubconfig.ManagedBy {
		t.Fatalf("secret on the hub: %v", err)
	}
	ns, err := hub.Client.CoreV1().Namespaces().Get(ctx, "client-clienta", metav1.GetOptions{})
	if err != nil || ns.Labels[hubconfig.ManagedByLabel] != hubconfig.ManagedBy {
		t.Fatalf("namespace: %v %v", err, ns.Labels)
	}

	out = run(0, "set", "clientA", "grafana-admin", "--from-literal", "admin-password=new-"+pw)
	if !strings.Contains(out, "updated") || !strings.Contains(out, hubconfig.ShortHash([]byte("new-"+pw))) || strings.Contains(out, "admin-user") {
		t.Errorf("update:\n%s", out)
	}
	run(0, "set", "clientB", "thanos-objstore", "--from-file", "objstore.yml="+file)
	code, out, errOut := hubctlIn(ctx, pw, append([]string{"config", "set", "clientB", "piped", "--from-file", "pw=-"}, kc...)...)
	all.WriteString(out + errOut)
	if s, err := hub.Client.CoreV1().Secrets("client-clientb").Get(ctx, "piped", metav1.GetOptions{}); code != 0 || err != nil || string(s.Data["pw"]) != pw {
		t.Errorf("set from standard input: exit %d, %v\n%s", code, err, errOut)
	}

	out = run(0, "get", "clientA", "grafana-admin")
	if !strings.Contains(out, "admin-password") || !strings.Contains(out, "hubctl") {
		t.Errorf("get:\n%s", out)
	}
	out = run(0, "list")
	if !strings.Contains(out, "client-clienta") || !strings.Contains(out, "client-clientb") || !strings.Contains(out, "objstore.yml") {
		t.Errorf("list:\n%s", out)
	}
	out = run(0, "list", "clientB", "-o", "json")
	if strings.Contains(out, "client-clienta") || !strings.Contains(out, `"thanos-objstore"`) {
		t.Errorf("list clientB:\n%s", out)
	}

	// A Secret hubctl did not create is neither replaced nor deleted.
	foreign := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "by-hand", Namespace: "client-clienta"}, StringData: map[string]string{"k": "v"}}
	if _, err := hub.Client.CoreV1().Secrets("client-clienta").Create(ctx, foreign, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if out := run(2, "delete", "clientA", "by-hand"); !strings.Contains(out, "not managed by hubctl") {
		t.Errorf("delete foreign:\n%s", out)
	}
	if out := run(2, "set", "clientA", "by-hand", "--from-literal", "k="+pw); !strings.Contains(out, "not managed by hubctl") {
		t.Errorf("set foreign:\n%s", out)
	}
	if got, err := hub.Client.CoreV1().Secrets("client-clienta").Get(ctx, "by-hand", metav1.GetOptions{}); err != nil || string(got.Data["k"]) != "v" {
		t.Errorf("foreign Secret changed: %v", err)
	}

	run(0, "delete", "clientA", "grafana-admin")
	if _, err := hub.Client.CoreV1().Secrets("client-clienta").Get(ctx, "grafana-admin", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("after delete: %v", err)
	}
	if out := run(2, "get", "clientA", "grafana-admin"); !strings.Contains(out, "not found") {
		t.Errorf("get deleted:\n%s", out)
	}
	if strings.Contains(all.String(), pw) {
		t.Errorf("a secret value was printed:\n%s", all.String())
	}
}

func TestConfigBadHub(t *testing.T) {
	ctx := context.Background()
	missing := filepath.Join(t.TempDir(), "nope.yaml")
	code, _, errOut := hubctl(ctx, "config", "list", "--kubeconfig", missing)
	if code != 2 || !strings.Contains(errOut, "nope.yaml") {
		t.Errorf("missing kubeconfig: exit %d\n%s", code, errOut)
	}
	kc := filepath.Join(t.TempDir(), "kubeconfig")
	const doc = `apiVersion: v1
kind: Config
clusters: [{name: hub, cluster: {server: "https://127.0.0.1:1"}}]
users: [{name: admin, user: {token: t}}]
contexts: [{name: hub, context: {cluster: hub, user: admin}}]
current-context: hub
`
	if err := os.WriteFile(kc, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, errOut = hubctl(ctx, "config", "list", "--kubeconfig", kc, "--context", "nope")
	if code != 2 || !strings.Contains(errOut, "nope") {
		t.Errorf("unknown context: exit %d\n%s", code, errOut)
	}
	code, _, errOut = hubctl(ctx, "config", "list", "--kubeconfig", kc, "--request-timeout", "soon")
	if code != 2 || !strings.Contains(errOut, "soon") {
		t.Errorf("bad --request-timeout: exit %d\n%s", code, errOut)
	}
	code, _, errOut = hubctl(ctx, "config", "set", "clientA")
	if code != 2 || !strings.Contains(errOut, "accepts 2 arg") {
		t.Errorf("missing NAME: exit %d\n%s", code, errOut)
	}
}

// planTree copies the shipped tree into a temporary folder, adds an
// ExternalSecret reading the hub to kube-prometheus-stack's default layer,
// and a layer of eks-develop-clientB-services whose extraManifests list
// replaces it (Helm replaces lists).
func planTree(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, sub := range []string{"bootstrap", "clusters", "environments"} {
		if err := os.CopyFS(filepath.Join(dir, sub), os.DirFS(filepath.Join("../..", sub))); err != nil {
			t.Fatal(err)
		}
	}
	cfg, err := os.ReadFile(filepath.Join("../..", "hubctl.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	write := func(rel, data string, appendTo bool) {
		t.Helper()
		p := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		flag := os.O_CREATE | os.O_WRONLY | os.O_TRUNC
		if appendTo {
			flag = os.O_CREATE | os.O_WRONLY | os.O_APPEND
		}
		f, err := os.OpenFile(p, flag, 0o644)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if _, err := f.WriteString(data); err != nil {
			t.Fatal(err)
		}
	}
	write("hubctl.yaml", string(cfg), false)
	write("environments/default/addons/kube-prometheus-stack/values.yaml", `
extraManifests:
  - apiVersion: external-secrets.io/v1
    kind: ExternalSecret
    metadata: {name: grafana-admin}
    spec:
      secretStoreRef: {kind: SecretStore, name: hub}
      target: {name: grafana-admin}
      data:
        - {secretKey: admin-password, remoteRef: {key: grafana-admin, property: admin-password}}
        - {secretKey: admin-user, remoteRef: {key: grafana-admin, property: admin-user}}
`, true)
	write("clusters/eks-develop-clientB-services/addons/kube-prometheus-stack/values.yaml", `
extraManifests:
  - apiVersion: external-secrets.io/v1
    kind: ExternalSecret
    metadata: {name: thanos}
    spec:
      secretStoreRef: {kind: SecretStore, name: hub}
      dataFrom:
        - extract: {key: thanos-objstore}
`, true)
	return dir
}

// planRows returns the plan's table rows keyed "cluster hub-secret key".
func planRows(t *testing.T, out string) map[string]string {
	t.Helper()
	rows := map[string]string{}
	for _, l := range strings.Split(strings.TrimSpace(out), "\n")[1:] {
		f := strings.Fields(l)
		if len(f) != 7 {
			t.Fatalf("plan row %q", l)
		}
		rows[f[0]+" "+f[4]+" "+f[5]] = f[6]
	}
	return rows
}

// shippedPlan is the plan of the shipped tree: the ExternalSecrets of the external-secrets
// addon's layers (environments/*/addons/external-secrets, clusters/*/addons/external-secrets), on
// the clusters that enable it, plus workloads-repo (from the ApplicationSet's values) on the
// clusters whose registry entry has client_workloads_repo_url, and only there.
var shippedPlan = []string{
	"eks-develop-clientA-services client-clienta/backstage-postgres (all)",
	"eks-develop-clientA-services client-clienta/grafana-admin admin-password",
	"eks-develop-clientA-services client-clienta/workloads-repo (all)",
	"eks-develop-clientB-services client-clientb/grafana-admin admin-password",
	"eks-develop-clientXPTO-services client-clientxpto/backstage-postgres (all)",
	"eks-prod-clientA-services client-clienta/backstage-postgres (all)",
	"eks-prod-clientA-services client-clienta/backstage-techdocs AWS_ACCESS_KEY_ID",
	"eks-prod-clientA-services client-clienta/backstage-techdocs AWS_SECRET_ACCESS_KEY",
	"eks-prod-clientA-services client-clienta/crossplane-provider-aws credentials",
	"eks-prod-clientA-services client-clienta/grafana-admin admin-password",
	"eks-prod-clientA-services client-clienta/thanos-objstore access_key",
	"eks-prod-clientA-services client-clienta/thanos-objstore secret_key",
	"eks-prod-clientA-services client-clienta/workloads-repo (all)",
	"eks-staging-clientA-services client-clienta/backstage-postgres (all)",
	"eks-staging-clientA-services client-clienta/grafana-admin admin-password",
}

// TestConfigPlanShipped: the shipped tree's plan is exactly shippedPlan: the prod layer adds its
// entries, a cluster layer removes one (`name: null`), and the local fleet (no
// enable_external_secrets) reads nothing.
func TestConfigPlanShipped(t *testing.T) {
	code, out, errOut := hubctl(context.Background(), "config", "plan", "--repo", "../..")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	rows := planRows(t, out)
	var got []string
	for k, v := range rows {
		got = append(got, k)
		if v != "-" {
			t.Errorf("%s: status %q offline", k, v)
		}
	}
	sort.Strings(got)
	if !slices.Equal(got, shippedPlan) {
		t.Errorf("plan of the shipped tree:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(shippedPlan, "\n"))
	}
}

func TestConfigPlanOffline(t *testing.T) {
	dir := planTree(t)
	code, out, errOut := hubctl(context.Background(), "config", "plan", "--repo", dir)
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	rows := planRows(t, out)
	for _, want := range append([]string{
		"eks-develop-clientA-services client-clienta/grafana-admin admin-user",
		"eks-staging-clientA-services client-clienta/grafana-admin admin-user",
		"eks-develop-clientB-services client-clientb/thanos-objstore (all)",
	}, shippedPlan...) {
		if rows[want] != "-" {
			t.Errorf("no row %q in\n%s", want, out)
		}
	}
	for k := range rows {
		if strings.HasPrefix(k, "eks-develop-clientB-services client-clientb/grafana-admin admin-user") {
			t.Errorf("the cluster layer's list should replace the default one: %q", k)
		}
		if strings.Contains(k, "clientXPTO") && strings.Contains(k, "grafana-admin") {
			t.Errorf("clientXPTO runs no kube-prometheus-stack: %q", k)
		}
	}
	// shipped, plus kube-prometheus-stack's list: admin-user on the 3 clientA clusters;
	// clientB's own list: thanos-objstore.
	if len(rows) != len(shippedPlan)+3+1 {
		t.Errorf("%d rows:\n%s", len(rows), out)
	}
}

// TestConfigPlanAgainstHub checks the missing Secrets and keys on a real hub.
func TestConfigPlanAgainstHub(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	dir := planTree(t)
	hub := testenv.Start(ctx, t, "hub")
	if _, err := hubconfig.Set(ctx, hub.Client, "clientA", "grafana-admin", map[string][]byte{"admin-password": []byte("p")}); err != nil {
		t.Fatal(err)
	}
	if _, err := hubconfig.Set(ctx, hub.Client, "clientB", "thanos-objstore", map[string][]byte{"objstore.yml": []byte("type: S3")}); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := hubctl(ctx, "config", "plan", "--repo", dir, "--kubeconfig", hub.Kubeconfig)
	if code != 1 {
		t.Fatalf("exit %d, want 1 (missing keys)\n%s\n%s", code, out, errOut)
	}
	rows := planRows(t, out)
	for k, want := range map[string]string{
		"eks-develop-clientA-services client-clienta/grafana-admin admin-password": "ok",
		"eks-develop-clientA-services client-clienta/grafana-admin admin-user":     "missing-key",
		"eks-develop-clientB-services client-clientb/grafana-admin admin-password": "missing-secret",
		"eks-develop-clientB-services client-clientb/thanos-objstore (all)":        "ok",
	} {
		if rows[k] != want {
			t.Errorf("%s: %q, want %q", k, rows[k], want)
		}
	}
	if _, err := hubconfig.Set(ctx, hub.Client, "clientA", "grafana-admin", map[string][]byte{"admin-password": []byte("p"), "admin-user": []byte("u")}); err != nil {
		t.Fatal(err)
	}
	if _, err := hubconfig.Set(ctx, hub.Client, "clientB", "grafana-admin", map[string][]byte{"admin-password": []byte("p"), "admin-user": []byte("u")}); err != nil {
		t.Fatal(err)
	}
	// what the shipped tree reads
	for _, s := range []struct{ client, name, keys string }{
		{"clientA", "backstage-postgres", "POSTGRES_HOST"},
		{"clientXPTO", "backstage-postgres", "POSTGRES_HOST"},
		{"clientA", "backstage-techdocs", "AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY"},
		{"clientA", "crossplane-provider-aws", "credentials"},
		{"clientA", "thanos-objstore", "access_key secret_key"},
		{"clientA", "workloads-repo", "username password"}, // the client's Argo CD's repository credential
	} {
		data := map[string][]byte{}
		for _, k := range strings.Fields(s.keys) {
			data[k] = []byte("v")
		}
		if _, err := hubconfig.Set(ctx, hub.Client, s.client, s.name, data); err != nil {
			t.Fatal(err)
		}
	}
	if code, out, errOut := hubctl(ctx, "config", "plan", "--repo", dir, "--kubeconfig", hub.Kubeconfig); code != 0 {
		t.Errorf("everything set: exit %d\n%s\n%s", code, out, errOut)
	}
}

// TestShippedExternalSecretsPermitted: every ExternalSecret of the shipped plan goes to a namespace
// that the external-secrets addon's AppProject (security) allows, or Argo CD refuses the whole sync
// ("namespace argocd is not permitted in project 'security'", seen in the local fleet when
// workloads-repo was added in namespace argocd).
func TestShippedExternalSecretsPermitted(t *testing.T) {
	code, out, errOut := hubctl(context.Background(), "config", "plan", "--repo", "../..", "-o", "json")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, errOut)
	}
	var refs []hubconfig.Ref
	if err := json.Unmarshal([]byte(out), &refs); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile("../../bootstrap/control-plane/argocd-config/projects/security.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var proj struct {
		Spec struct {
			Destinations []struct{ Name, Namespace string } `json:"destinations"`
		} `json:"spec"`
	}
	if err := yaml.Unmarshal(data, &proj); err != nil {
		t.Fatal(err)
	}
	allowed := map[string]bool{}
	for _, d := range proj.Spec.Destinations {
		if d.Name == "*" {
			allowed[d.Namespace] = true
		}
	}
	checked := 0
	for _, r := range refs {
		ns, _, ok := strings.Cut(r.ExternalSecret, "/")
		if !ok || !strings.HasPrefix(r.App, "addon-external-secrets-") {
			continue
		}
		checked++
		if !allowed[ns] {
			t.Errorf("%s on %s: namespace %s is not a destination of the security AppProject", r.ExternalSecret, r.Cluster, ns)
		}
	}
	if checked == 0 {
		t.Fatal("no ExternalSecret of the external-secrets addon in the plan")
	}
}
