package e2e

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/gitops-hub/gitops-hub/pkg/action"
	"github.com/gitops-hub/gitops-hub/pkg/hubconfig"
	"github.com/gitops-hub/gitops-hub/pkg/kube"
	"github.com/gitops-hub/gitops-hub/pkg/localfleet"
	"github.com/gitops-hub/gitops-hub/pkg/status"
)

// Argo CD's resource tracking (argo-cd common/common.go): the annotation of
// annotation-based tracking, "<app>:<group>/<kind>:<namespace>/<name>", and
// the installation ID an instance with configs.cm.installationID adds next to
// it; an instance takes an object for its own only when both match
// (util/argo/resource_tracking.go).
const (
	trackingIDAnnotation     = "argocd.argoproj.io/tracking-id"
	installationIDAnnotation = "argocd.argoproj.io/installation-id"
)

const (
	clientApp = "clienta-workloads" // clientA's root Application, AppProject and workload namespace
	clientNS  = "clienta-workloads"
)

// testClientArgoCD: clientA's Argo CD (run by hubctl up against the develop cluster) synced
// clientA's sample workload from the fleet's workload repository, with the credential that came
// from the hub through ESO; a commit to that repository reaches the cluster; the hub's and the
// client's Argo CD never take each other's objects for their own.
func testClientArgoCD(t *testing.T, ctx context.Context, f *localfleet.Fleet, hubctl string, hub, dev *kube.Cluster) {
	t.Run("the client's Argo CD syncs its workload from its repository with the credential from the hub", func(t *testing.T) {
		apps, err := status.List(ctx, dev.Dynamic, "argocd")
		if err != nil {
			t.Fatal(err)
		}
		if len(apps) != 1 || apps[0].Name != clientApp || !apps[0].Ready() {
			t.Fatalf("clientA's Argo CD: want only %s, Synced and Healthy; have %+v", clientApp, apps)
		}
		app, err := dev.Dynamic.Resource(status.ApplicationsGVR).Namespace("argocd").Get(ctx, clientApp, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if repo, _, _ := unstructured.NestedString(app.Object, "spec", "source", "repoURL"); repo != f.WorkloadsURL() {
			t.Errorf("root Application reads %q, want the workload repository %s (registry annotation client_workloads_repo_url)", repo, f.WorkloadsURL())
		}
		d, err := dev.Client.AppsV1().Deployments(clientNS).Get(ctx, "sample", metav1.GetOptions{})
		if err != nil || d.Status.ReadyReplicas < 1 {
			t.Errorf("the sample Deployment is not ready in %s/%s: %v", develop, clientNS, err)
		}
		if v, _, err := configMapValue(ctx, dev, clientNS, "sample", "message"); err != nil || v != "hello from clienta" {
			t.Errorf("sample ConfigMap message %q (%v)", v, err)
		}

		// The repository requires credentials ...
		resp, err := http.Get(f.WorkloadsURL() + "/info/refs?service=git-upload-pack")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("the workload repository answers %d without credentials, want 401", resp.StatusCode)
		}
		// ... and the ones the client's Argo CD used came from the hub: ESO made its repository
		// Secret from the ExternalSecret, with the hub Secret's password (compared by hash, never
		// printed).
		sec, err := dev.Client.CoreV1().Secrets("argocd").Get(ctx, action.WorkloadsRepoSecret, metav1.GetOptions{})
		if err != nil {
			t.Fatalf("the repository Secret in %s: %v", develop, err)
		}
		if sec.Labels["argocd.argoproj.io/secret-type"] != "repository" || string(sec.Data["url"]) != f.WorkloadsURL() || string(sec.Data["type"]) != "git" {
			t.Errorf("repository Secret: labels %v, url %q, type %q", sec.Labels, sec.Data["url"], sec.Data["type"])
		}
		owned := false
		for _, o := range sec.OwnerReferences {
			owned = owned || (o.Kind == "ExternalSecret" && o.Name == action.WorkloadsRepoSecret)
		}
		if !owned {
			t.Errorf("the repository Secret is not ESO's (owner references %v)", sec.OwnerReferences)
		}
		hubNS, err := hubconfig.Namespace("clientA")
		if err != nil {
			t.Fatal(err)
		}
		onHub, err := hub.Client.CoreV1().Secrets(hubNS).Get(ctx, action.WorkloadsRepoSecret, metav1.GetOptions{})
		if err != nil {
			t.Fatalf("the hub Secret: %v", err)
		}
		if sha256.Sum256(sec.Data["password"]) != sha256.Sum256(onHub.Data["password"]) || len(sec.Data["password"]) == 0 {
			t.Error("the repository Secret's password is not the hub's")
		}
	})

	t.Run("hubctl status --clients shows the client's Argo CD through the hub's registration", func(t *testing.T) {
		// Read with the credentials the hub stores for each hosting cluster (cluster add's
		// least-privilege role), not with the fleet's admin kubeconfigs.
		out := mustHubctl(t, ctx, hubctl, "status", "--clients", "-o", "json", "--kubeconfig", f.Kubeconfig(action.HubName))
		var doc struct {
			Clients []status.ClientArgoCD `json:"clients"`
		}
		if err := json.Unmarshal([]byte(out), &doc); err != nil {
			t.Fatalf("status --clients -o json: %v\n%s", err, out)
		}
		seen := map[string]status.ClientArgoCD{}
		for _, c := range doc.Clients {
			seen[c.Cluster] = c
		}
		c, ok := seen[develop]
		if !ok || c.State != "Read" {
			t.Fatalf("status --clients: %s is %+v, want state Read", develop, c)
		}
		found := false
		for _, a := range c.Apps {
			if a.Name == clientApp {
				found = true
				if a.Sync != "Synced" || a.Health != "Healthy" {
					t.Errorf("status --clients: %s/%s sync %q health %q, want Synced and Healthy", develop, a.Name, a.Sync, a.Health)
				}
			} else {
				t.Errorf("status --clients: %s shows %s, which is no Application of the client's Argo CD", develop, a.Name)
			}
		}
		if !found {
			t.Errorf("status --clients: %s does not show %s: %+v", develop, clientApp, c.Apps)
		}
		if s, ok := seen[staging]; !ok || s.State == "Unavailable" {
			t.Errorf("status --clients: %s is %+v, want it read through the hub's registration", staging, s)
		}
	})

	t.Run("a commit to the client's workload repository reaches the hosting cluster", func(t *testing.T) {
		work := filepath.Join(t.TempDir(), "workloads")
		if out, err := exec.Command("git", "clone", "-q", f.WorkloadsRepoPath(), work).CombinedOutput(); err != nil {
			t.Fatalf("git clone: %v\n%s", err, out)
		}
		marker := fmt.Sprintf("e2e-%d", time.Now().UnixNano())
		edit(t, work, "clienta/sample.yaml", "e2e: change clientA's workload", func(s string) string {
			return strings.Replace(s, "message: hello from clienta", "message: "+marker, 1)
		})
		git(t, work, "push", "-q", "origin", "HEAD:main")
		// What a Git webhook would trigger: without it the repo-server's revision cache (3 min)
		// delays the new commit.
		if err := status.Refresh(ctx, dev.Dynamic, "argocd", "hard"); err != nil {
			t.Fatal(err)
		}
		d := waitFor(t, ctx, "the commit in "+develop, 4*time.Minute, func(ctx context.Context) (bool, error) {
			v, _, err := configMapValue(ctx, dev, clientNS, "sample", "message")
			return err == nil && v == marker, nil
		})
		t.Logf("MEASURE client-commit-to-applied %s", d.Round(100*time.Millisecond))
	})

	t.Run("the hub never shows the client's workload as its own, and the reverse", func(t *testing.T) {
		installationID, _, err := configMapValue(ctx, dev, "argocd", "argocd-cm", "installationID")
		if err != nil || installationID == "" {
			t.Fatalf("clientA's argocd-cm has no installationID (%v)", err)
		}
		// The client's objects carry the client's tracking: its Application's name and its
		// installation ID.
		cm, err := dev.Client.CoreV1().ConfigMaps(clientNS).Get(ctx, "sample", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if id := cm.Annotations[trackingIDAnnotation]; !strings.HasPrefix(id, clientApp+":") {
			t.Errorf("sample ConfigMap tracking-id %q, want the client's Application %s", id, clientApp)
		}
		if got := cm.Annotations[installationIDAnnotation]; got != installationID {
			t.Errorf("sample ConfigMap installation-id %q, want the client's %q", got, installationID)
		}
		// No hub Application lists an object of the client's namespace; the hub's argo-cd addon
		// lists the client's AppProject and root Application (the hub owns those two).
		hubApps, err := hub.Dynamic.Resource(status.ApplicationsGVR).Namespace("argocd").List(ctx, metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		hubOwnsRoot := false
		for _, a := range hubApps.Items {
			for _, r := range resources(a) {
				if r.namespace == clientNS || (r.kind == "Namespace" && r.name == clientNS) {
					t.Errorf("hub Application %s lists the client's %s %s/%s", a.GetName(), r.kind, r.namespace, r.name)
				}
				if a.GetName() == "addon-argo-cd-"+strings.ToLower(develop) && r.kind == "Application" && r.name == clientApp {
					hubOwnsRoot = true
				}
			}
		}
		if !hubOwnsRoot {
			t.Errorf("the hub's argo-cd addon of %s does not list the root Application %s", develop, clientApp)
		}
		// The reverse: the client's Argo CD has no Application for the addons, and its root
		// Application lists only the client's objects; an addon's object carries the hub's
		// tracking, not the client's installation ID.
		root, err := dev.Dynamic.Resource(status.ApplicationsGVR).Namespace("argocd").Get(ctx, clientApp, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		rs := resources(*root)
		if len(rs) == 0 {
			t.Error("the root Application lists no resource")
		}
		for _, r := range rs {
			if r.namespace != clientNS && !(r.kind == "Namespace" && r.name == clientNS) {
				t.Errorf("the client's root Application lists %s %s/%s, not the client's", r.kind, r.namespace, r.name)
			}
		}
		addon, err := dev.Client.CoreV1().ConfigMaps("argocd").Get(ctx, "argocd-cm", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if id := addon.Annotations[trackingIDAnnotation]; !strings.HasPrefix(id, "addon-argo-cd-") {
			t.Errorf("argocd-cm in %s: tracking-id %q, want the hub's Application", develop, id)
		}
		if got := addon.Annotations[installationIDAnnotation]; got == installationID {
			t.Errorf("argocd-cm in %s carries the client's installation ID", develop)
		}
	})
}

type trackedResource struct{ kind, namespace, name string }

// resources lists status.resources of an Application.
func resources(app unstructured.Unstructured) []trackedResource {
	list, _, _ := unstructured.NestedSlice(app.Object, "status", "resources")
	var out []trackedResource
	for _, it := range list {
		m, ok := it.(map[string]any)
		if !ok {
			continue
		}
		s := func(k string) string { v, _ := m[k].(string); return v }
		out = append(out, trackedResource{kind: s("kind"), namespace: s("namespace"), name: s("name")})
	}
	return out
}
