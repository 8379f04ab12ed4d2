package action

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/gitops-hub/gitops-hub/internal/testenv"
	"github.com/gitops-hub/gitops-hub/pkg/hubconfig"
	"github.com/gitops-hub/gitops-hub/pkg/localfleet"
	"github.com/gitops-hub/gitops-hub/pkg/registry"
)

// esoControllerVersion is the ESO version `make tools` builds
// (hack/tools/external-secrets/go.mod), without its "v".
func esoControllerVersion(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile("../../hack/tools/external-secrets/go.mod")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^require github\.com/external-secrets/external-secrets v(\S+)$`).FindSubmatch(data)
	if m == nil {
		t.Fatal("hack/tools/external-secrets/go.mod: no require of github.com/external-secrets/external-secrets")
	}
	return string(m[1])
}

// TestShippedOverlayRunsESO: every local cluster with a client runs External
// Secrets Operator, with the chart of the controller version `make tools`
// builds (the production generators pin 2.9.0; the label's generator wins),
// the local hub as hub.server, and Grafana's password from the hub, not a
// fixed one.
func TestShippedOverlayRunsESO(t *testing.T) {
	locals, err := LocalClusters("../..")
	if err != nil {
		t.Fatal(err)
	}
	want := esoControllerVersion(t)
	var withClient []string
	for _, c := range locals {
		if clientOf(c.Labels) != "" {
			withClient = append(withClient, c.Name)
		}
		if c.Labels[ESOLabel] == "true" && c.Labels["external_secrets_chart_version"] != want {
			t.Errorf("%s: external_secrets_chart_version %q, want %q (the controller of hack/tools/external-secrets)", c.Name, c.Labels["external_secrets_chart_version"], want)
		}
	}
	if got := LocalESOClusters(locals); strings.Join(got, ",") != strings.Join(withClient, ",") || len(got) == 0 {
		t.Errorf("local clusters running ESO %v, want every one with a client %v", got, withClient)
	}

	res, err := (&Generate{Repo: "../..", ClusterFiles: overlayClusterFiles(t, locals)}).Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	versions := map[string]string{}
	for _, a := range res.Apps {
		if !strings.HasPrefix(a.Name, "addon-external-secrets-") {
			continue
		}
		spec, _ := a.Object["spec"].(map[string]any)
		sources, _ := spec["sources"].([]any)
		for _, src := range sources {
			if m, _ := src.(map[string]any); m["chart"] == "external-secrets" {
				versions[a.Name], _ = m["targetRevision"].(string)
			}
		}
	}
	for _, name := range withClient {
		app := "addon-external-secrets-" + strings.ToLower(name)
		if versions[app] != want {
			t.Errorf("%s: chart version %q, want %q (generated: %v)", app, versions[app], want, versions)
		}
	}

	hubURL := "https://127.0.0.1:" + strconv.Itoa(localfleet.DefaultPorts().ClusterBase)
	for _, name := range withClient {
		var v struct {
			Hub struct {
				Server string `json:"server"`
			} `json:"hub"`
			Webhook, CertController struct {
				Create *bool `json:"create"`
			}
		}
		readYAML(t, filepath.Join("../..", LocalOverlayDir, "clusters", name, "addons", "external-secrets", "values.yaml"), &v)
		if v.Hub.Server != hubURL {
			t.Errorf("%s: hub.server %q, want the local hub %s", name, v.Hub.Server, hubURL)
		}
		var kps map[string]any
		readYAML(t, filepath.Join("../..", LocalOverlayDir, "clusters", name, "addons", "kube-prometheus-stack", "values.yaml"), &kps)
		if g, ok := kps["grafana"].(map[string]any); ok {
			if _, fixed := g["adminPassword"]; fixed {
				t.Errorf("%s: kube-prometheus-stack sets a fixed grafana.adminPassword; it comes from the hub", name)
			}
			if _, over := g["admin"]; over {
				t.Errorf("%s: kube-prometheus-stack overrides grafana.admin (existingSecret grafana-admin comes from the hub)", name)
			}
		}
	}
}

func overlayClusterFiles(t *testing.T, locals []*registry.Cluster) []string {
	t.Helper()
	var out []string
	for _, c := range locals {
		out = append(out, filepath.Join("../..", LocalOverlayDir, "clusters", c.Name, "cluster.yaml"))
	}
	return out
}

func readYAML(t *testing.T, path string, v any) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(data, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

func TestLocalESOClients(t *testing.T) {
	c := func(name, client, eso string) *registry.Cluster {
		return &registry.Cluster{Name: name, Labels: map[string]string{"client": client, ESOLabel: eso}}
	}
	locals := []*registry.Cluster{c("a1", "clientA", "true"), c("b1", "clientB", "false"), c("a2", "clientA", "true"), c("x", "", "true"), c("c1", "clientC", "true")}
	if got := strings.Join(localESOClients(locals), ","); got != "clientA,clientC" {
		t.Errorf("clients %q, want clientA,clientC (each once, only those running ESO)", got)
	}
	if got := strings.Join(LocalESOClusters(locals), ","); got != "a1,a2,x,c1" {
		t.Errorf("ESO clusters %q, want a1,a2,x,c1", got)
	}
}

// TestSeedGrafanaAdmin (real kube-apiserver): up gives a client a random
// Grafana admin password on the hub when it has none, never prints it, and
// keeps one that exists (a password set with hubctl config set survives up).
func TestSeedGrafanaAdmin(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	env := testenv.New(ctx, t, testenv.Options{}, "hub")
	hub := env.Cluster("hub")
	var progress bytes.Buffer
	if err := SeedGrafanaAdmin(ctx, hub, "clientA", &progress); err != nil {
		t.Fatal(err)
	}
	s, err := hub.Client.CoreV1().Secrets("client-clienta").Get(ctx, GrafanaAdminSecret, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	first := string(s.Data[GrafanaAdminKey])
	if len(first) < 20 || len(s.Data) != 1 {
		t.Fatalf("seeded secret has %d keys and a %d-byte %s, want one random key of at least 20 bytes", len(s.Data), len(first), GrafanaAdminKey)
	}
	if strings.Contains(progress.String(), first) {
		t.Errorf("progress shows the password: %q", progress.String())
	}
	if err := SeedGrafanaAdmin(ctx, hub, "clientB", &progress); err != nil {
		t.Fatal(err)
	}
	other, err := hubconfig.Get(ctx, hub.Client, "clientB", GrafanaAdminSecret)
	if err != nil {
		t.Fatal(err)
	}
	if other.Keys[0].SHA256 == hubconfig.ShortHash([]byte(first)) {
		t.Error("two clients got the same random password")
	}

	// Set by the platform engineer: kept.
	if _, err := (&ConfigSet{Hub: hub.Client, Client: "clientA", Name: GrafanaAdminSecret, Literals: []string{GrafanaAdminKey + "=chosen-by-hand"}}).Run(ctx); err != nil {
		t.Fatal(err)
	}
	if err := SeedGrafanaAdmin(ctx, hub, "clientA", &progress); err != nil {
		t.Fatal(err)
	}
	got, err := hubconfig.Get(ctx, hub.Client, "clientA", GrafanaAdminSecret)
	if err != nil {
		t.Fatal(err)
	}
	if got.Keys[0].SHA256 != hubconfig.ShortHash([]byte("chosen-by-hand")) {
		t.Error("SeedGrafanaAdmin replaced a password set with config set")
	}
}
