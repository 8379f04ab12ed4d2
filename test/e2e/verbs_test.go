package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/gitops-hub/gitops-hub/pkg/action"
	"github.com/gitops-hub/gitops-hub/pkg/kube"
	"github.com/gitops-hub/gitops-hub/pkg/localfleet"
	"github.com/gitops-hub/gitops-hub/pkg/onboard"
	"github.com/gitops-hub/gitops-hub/pkg/status"
)

// The third cluster the verbs scenario adds to the running fleet: an
// apiserver-only cluster (the cheapest kind, docs/local-fleet.md) with one
// addon without hooks, so that its Application can become Synced although
// nothing runs its Pods.
const (
	third        = "local-qa-clientC-services"
	thirdPort    = 16520
	thirdAddon   = "aws-for-fluent-bit"
	thirdNS      = "amazon-cloudwatch"
	hubctlBudget = 2 * time.Minute
)

// runHubctl runs the hubctl executable as a user would, bounded in time,
// and returns its stdout, stderr and exit code. Both streams are logged.
func runHubctl(t *testing.T, ctx context.Context, hubctl string, args ...string) (string, string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, hubctlBudget)
	defer cancel()
	var out, errOut bytes.Buffer
	cmd := exec.CommandContext(ctx, hubctl, args...)
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	code := 0
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		code = exit.ExitCode()
	case err != nil:
		t.Fatalf("hubctl %s: %v", strings.Join(args, " "), err)
	}
	if ctx.Err() != nil {
		t.Fatalf("hubctl %s: not done within %s\nstderr:\n%s", strings.Join(args, " "), hubctlBudget, errOut.String())
	}
	t.Logf("hubctl %s: exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, out.String(), errOut.String())
	return out.String(), errOut.String(), code
}

// mustHubctl is runHubctl that fails the test unless hubctl exits 0.
func mustHubctl(t *testing.T, ctx context.Context, hubctl string, args ...string) string {
	t.Helper()
	out, errOut, code := runHubctl(t, ctx, hubctl, args...)
	if code != 0 {
		t.Fatalf("hubctl %s: exit %d, want 0\n%s", strings.Join(args, " "), code, errOut)
	}
	return out
}

// appOf reads one Application of the hub; found is false when it does not exist.
func appOf(ctx context.Context, hub *kube.Cluster, name string) (status.App, bool, error) {
	apps, err := status.List(ctx, hub.Dynamic, action.ArgoCDNamespace)
	if err != nil {
		return status.App{}, false, err
	}
	for _, a := range apps {
		if a.Name == name {
			return a, true, nil
		}
	}
	return status.App{}, false, nil
}

// configMapsContain reports whether some ConfigMap of ns holds s in a value.
func configMapsContain(ctx context.Context, c *kube.Cluster, ns, s string) (bool, error) {
	list, err := c.Client.CoreV1().ConfigMaps(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		return false, err
	}
	for _, cm := range list.Items {
		for _, v := range cm.Data {
			if strings.Contains(v, s) {
				return true, nil
			}
		}
	}
	return false, nil
}

// testClusterVerbs is the scenario of the verbs on the running fleet:
// `cluster add` a third cluster and wait for its Application, `cluster list`
// (clean), `cluster rotate` (the old token stops working, Argo CD keeps
// syncing with the new one), `cluster remove --yes` (the Application goes,
// its workloads stay in the target).
func testClusterVerbs(t *testing.T, ctx context.Context, f *localfleet.Fleet, repo, hubctl string, hub *kube.Cluster) {
	hubKC := f.Kubeconfig(action.HubName)
	if err := f.EnsureAPIServerCluster(ctx, third, thirdPort); err != nil {
		t.Fatalf("starting the third cluster: %v", err)
	}
	if !f.IsAPIServerOnly(third) {
		f.APIServerOnly = append(f.APIServerOnly, third)
	}
	tgt := load(t, f, third)
	app := "addon-" + thirdAddon + "-" + strings.ToLower(third)
	stop := trace(t, ctx, hub, third)
	t.Cleanup(func() {
		stop()
		if t.Failed() {
			logTail(t, f.LogPath(localfleet.ProcController), strings.ToLower(third), 60)
		}
	})

	// cluster add, as a platform team runs it: the hub's kubeconfig, the
	// target's, and the labels of a new registry entry.
	mustHubctl(t, ctx, hubctl, "cluster", "add", third, "--repo", repo,
		"--kubeconfig", hubKC, "--target-kubeconfig", f.Kubeconfig(third),
		"--environment", "develop", "--client", "clientC", "--enable", "aws_for_fluent_bit",
		"--annotation", "addons_repo_url="+f.GitURL(), "--annotation", "addons_repo_revision="+localfleet.Branch,
		"--annotation", "addons_chart_repository="+f.ChartURL())
	entry := filepath.Join("clusters", third, "cluster.yaml")
	if _, err := os.Stat(filepath.Join(repo, entry)); err != nil {
		t.Fatalf("cluster add did not write the registry entry %s: %v", entry, err)
	}
	git(t, repo, "add", entry)
	git(t, repo, "commit", "-qm", "e2e: register "+third)
	if _, err := action.Publish(ctx, f, repo); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "Application "+app+" Synced with its DaemonSet in "+third, 4*time.Minute, func(ctx context.Context) (bool, error) {
		a, ok, err := appOf(ctx, hub, app)
		if err != nil || !ok || !a.Synced() {
			return false, nil
		}
		ds, err := tgt.Client.AppsV1().DaemonSets(thirdNS).List(ctx, metav1.ListOptions{})
		return err == nil && len(ds.Items) > 0, nil
	})

	// cluster list: every registered cluster reachable with its stored
	// credentials, no drift between Git and the hub: exit 0.
	out := mustHubctl(t, ctx, hubctl, "cluster", "list", "-o", "json", "--repo", repo, "--kubeconfig", hubKC)
	var rows []action.ClusterInfo
	if err := json.Unmarshal([]byte(out), &rows); err != nil {
		t.Fatalf("cluster list -o json: %v\n%s", err, out)
	}
	seen := false
	for _, r := range rows {
		if r.Problem() {
			t.Errorf("cluster list: %s has a problem: drift %v, expired %v, error %q", r.Name, r.Drift, r.Expired, r.Error)
		}
		if r.Name == third {
			seen = true
			if r.Where != action.InBoth || r.Credential != "token" || r.Reachable == nil || !*r.Reachable || r.DaysLeft == nil || *r.DaysLeft < 80 {
				t.Errorf("cluster list: %s: where %q, credential %q, reachable %v, days left %v; want in Git and the hub, a reachable token of 90 days", r.Name, r.Where, r.Credential, r.Reachable, r.DaysLeft)
			}
		}
	}
	if !seen {
		t.Errorf("cluster list does not show %s", third)
	}

	// cluster rotate with the stored credentials only (no --target-*), as a
	// cron job on the hub runs it.
	oldToken := storedToken(t, ctx, hub, third)
	out = mustHubctl(t, ctx, hubctl, "cluster", "rotate", third, "--repo", repo, "--kubeconfig", hubKC)
	if !strings.Contains(out, third+": rotated") {
		t.Fatalf("cluster rotate printed no rotation of %s: %q", third, out)
	}
	if newToken := storedToken(t, ctx, hub, third); newToken.BearerToken == oldToken.BearerToken {
		t.Fatal("cluster rotate left the hub Secret's token unchanged")
	}
	waitFor(t, ctx, "the token from before the rotation is revoked", time.Minute, func(ctx context.Context) (bool, error) {
		c, err := kubernetes.NewForConfig(oldToken.RESTConfig(tgt.Config.Host))
		if err != nil {
			return false, err
		}
		_, err = c.CoreV1().Namespaces().List(ctx, metav1.ListOptions{Limit: 1})
		return apierrors.IsUnauthorized(err), nil
	})
	marker := fmt.Sprintf("/gitops-hub/e2e/rotated-%d", time.Now().UnixNano())
	values := filepath.Join("clusters", third, "addons", thirdAddon, "values.yaml")
	if err := os.MkdirAll(filepath.Join(repo, filepath.Dir(values)), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(repo, values), []byte("cloudWatchLogs:\n  logGroupName: "+marker+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	git(t, repo, "add", values)
	git(t, repo, "commit", "-qm", "e2e: a value of "+third+" after the rotation")
	if _, err := action.Publish(ctx, f, repo); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "a commit applied in "+third+" with the rotated token", 4*time.Minute, func(ctx context.Context) (bool, error) {
		return configMapsContain(ctx, tgt, thirdNS, marker)
	})

	// cluster remove --yes: it names the Application that goes and says its
	// resources stay.
	out = mustHubctl(t, ctx, hubctl, "cluster", "remove", third, "--yes", "--repo", repo, "--kubeconfig", hubKC)
	if !strings.Contains(out, app) || !strings.Contains(out, "preserveResourcesOnDeletion") {
		t.Errorf("cluster remove did not announce that %s disappears and keeps its resources:\n%s", app, out)
	}
	waitFor(t, ctx, "Application "+app+" deleted", 3*time.Minute, func(ctx context.Context) (bool, error) {
		_, ok, err := appOf(ctx, hub, app)
		return err == nil && !ok, nil
	})
	time.Sleep(5 * time.Second) // a cascading delete would have started by now
	ds, err := tgt.Client.AppsV1().DaemonSets(thirdNS).List(ctx, metav1.ListOptions{})
	if err != nil || len(ds.Items) == 0 {
		t.Errorf("%s's workloads were removed from %s (%v): remove must leave them running", thirdAddon, third, err)
	}
	if _, err := os.Stat(filepath.Join(repo, entry)); err != nil {
		t.Errorf("cluster remove without --delete-entry changed Git: %v", err)
	}
	// The third cluster is no longer needed: free its memory for the next scenarios.
	if err := f.StopCluster(ctx, third); err != nil {
		t.Error(err)
	}
}

// storedToken reads the credentials of a cluster's hub Secret.
func storedToken(t *testing.T, ctx context.Context, hub *kube.Cluster, name string) *onboard.ClusterConfig {
	t.Helper()
	s, err := hub.Client.CoreV1().Secrets(action.ArgoCDNamespace).Get(ctx, action.SecretNameFor(name), metav1.GetOptions{})
	if err != nil {
		t.Fatalf("the hub Secret of %s: %v", name, err)
	}
	_, cc, err := onboard.ParseClusterSecret(s)
	if err != nil {
		t.Fatalf("the hub Secret of %s: %v", name, err)
	}
	if cc.BearerToken == "" {
		t.Fatalf("the hub Secret of %s holds no token", name)
	}
	return cc
}

// testStatus runs `status -o json` and `status --html` against the fleet's
// hub once every Application is Synced and Healthy.
func testStatus(t *testing.T, ctx context.Context, f *localfleet.Fleet, hubctl string) {
	if _, err := action.WaitSynced(ctx, f, 6*time.Minute, logWriter{t}); err != nil {
		t.Fatal(err)
	}
	hubKC := f.Kubeconfig(action.HubName)
	start := time.Now()
	out := mustHubctl(t, ctx, hubctl, "status", "-o", "json", "--kubeconfig", hubKC)
	t.Logf("MEASURE status -o json %s", time.Since(start).Round(10*time.Millisecond))
	var doc struct {
		Kind    string       `json:"kind"`
		Apps    []status.App `json:"applications"`
		Summary struct {
			Total, Ready int
			NotReady     []string `json:"notReady"`
		} `json:"summary"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("status -o json: %v\n%s", err, out)
	}
	if doc.Kind != "FleetStatus" || len(doc.Apps) == 0 || doc.Summary.Total != len(doc.Apps) || doc.Summary.Ready != len(doc.Apps) || len(doc.Summary.NotReady) != 0 {
		t.Errorf("status -o json: kind %q, %d Applications, summary %+v: want every Application ready", doc.Kind, len(doc.Apps), doc.Summary)
	}
	for _, a := range doc.Apps {
		if a.Sync != "Synced" || a.Health != "Healthy" {
			t.Errorf("status -o json: %s: sync %q health %q", a.Name, a.Sync, a.Health)
		}
	}

	page := filepath.Join(t.TempDir(), "status.html")
	mustHubctl(t, ctx, hubctl, "status", "--html", page, "--kubeconfig", hubKC)
	data, err := os.ReadFile(page)
	if err != nil {
		t.Fatalf("status --html wrote no page: %v", err)
	}
	html := string(data)
	if !strings.Contains(html, "<html") {
		t.Errorf("%s is no HTML page", page)
	}
	for _, a := range doc.Apps {
		if !strings.Contains(html, a.Name) {
			t.Errorf("the status page does not name Application %s", a.Name)
		}
	}
	// Self-contained: no stylesheet, script or image loaded from elsewhere.
	for _, ext := range []string{`src="http`, `href="http`, `src='http`, `href='http`, `<link `, `@import`, `url(http`} {
		if strings.Contains(html, ext) {
			t.Errorf("the status page loads an external asset (%s)", ext)
		}
	}
}
