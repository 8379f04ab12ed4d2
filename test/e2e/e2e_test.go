// Package e2e runs the local fleet for real and asserts what the proposal
// promises: every enabled addon of every local hosting cluster is Synced and
// Healthy with its resources in the hosting cluster, values layering reaches
// the clusters, a Secret set on the hub with `hubctl config set` reaches the
// hosting cluster of its client through External Secrets Operator (and
// follows a change) while another client's cluster is refused it
// (secrets_test.go), a commit is applied without restarting anything, removing an
// enable_<addon> label removes the Application but not the addon's
// resources, the verbs work on the running fleet when run as a user runs
// them (the hubctl executable: `cluster add` of a third cluster, `cluster
// list`, `cluster rotate`, `cluster remove --yes`, `status -o json` and
// `status --html`), and a stopped hosting cluster neither blocks the other
// nor stays behind once it is back.
//
// It needs the binaries of `make tools` and a loopback-only network
// namespace: run it with `make e2e`. It is skipped unless HUBCTL_E2E=1.
package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/gitops-hub/gitops-hub/internal/netns"
	"github.com/gitops-hub/gitops-hub/pkg/action"
	"github.com/gitops-hub/gitops-hub/pkg/kube"
	"github.com/gitops-hub/gitops-hub/pkg/localfleet"
	"github.com/gitops-hub/gitops-hub/pkg/registry"
	"github.com/gitops-hub/gitops-hub/pkg/status"
)

const (
	develop = "local-develop-clientA-services"
	staging = "local-staging-clientB-services"
)

type logWriter struct{ t *testing.T }

func (w logWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func git(t *testing.T, dir string, args ...string) {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-C", dir, "-c", "user.name=e2e", "-c", "user.email=e2e@gitops-hub.invalid"}, args...)...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// edit rewrites a file of the clone with fn and commits it.
func edit(t *testing.T, repo, file, msg string, fn func(string) string) {
	t.Helper()
	p := filepath.Join(repo, file)
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	changed := fn(string(data))
	if changed == string(data) {
		t.Fatalf("edit of %s changed nothing", file)
	}
	if err := os.WriteFile(p, []byte(changed), 0o644); err != nil {
		t.Fatal(err)
	}
	git(t, repo, "commit", "-qam", msg)
}

func configMapValue(ctx context.Context, c *kube.Cluster, ns, name, key string) (string, bool, error) {
	cm, err := c.Client.CoreV1().ConfigMaps(ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return "", false, err
	}
	v, ok := cm.Data[key]
	return v, ok, nil
}

func waitFor(t *testing.T, ctx context.Context, what string, timeout time.Duration, cond func(ctx context.Context) (bool, error)) time.Duration {
	t.Helper()
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if err := kube.WaitFor(ctx, time.Second, cond); err != nil {
		t.Fatalf("%s: not within %s: %v", what, timeout, err)
	}
	d := time.Since(start)
	t.Logf("%s after %s", what, d.Round(100*time.Millisecond))
	return d
}

// trace logs, every few seconds and only when it changes, the state of the
// Applications whose destination is cluster, so that a slow or failed
// convergence shows its timeline. Stop it with the returned function.
func trace(t *testing.T, ctx context.Context, hub *kube.Cluster, cluster string) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	start := time.Now()
	go func() {
		defer close(done)
		last := map[string]string{}
		for {
			if apps, err := status.List(ctx, hub.Dynamic, "argocd"); err == nil {
				for _, a := range apps {
					if !strings.HasSuffix(a.Name, strings.ToLower(cluster)) {
						continue
					}
					line := fmt.Sprintf("sync %s health %s operation %s %v", a.Sync, a.Health, a.Operation, a.Messages)
					if last[a.Name] != line {
						last[a.Name] = line
						t.Logf("  +%s %s: %s", time.Since(start).Round(time.Second), a.Name, line)
					}
				}
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(3 * time.Second):
			}
		}
	}()
	return func() { cancel(); <-done }
}

// logTail logs the last n lines of a process log that mention match.
func logTail(t *testing.T, path, match string, n int) {
	data, err := os.ReadFile(path)
	if err != nil {
		t.Logf("%s: %v", path, err)
		return
	}
	var lines []string
	for _, l := range strings.Split(string(data), "\n") {
		if strings.Contains(l, match) {
			lines = append(lines, l)
		}
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	t.Logf("last %d lines of %s that mention %s:\n%s", len(lines), path, match, strings.Join(lines, "\n"))
}

func TestLocalFleet(t *testing.T) {
	if os.Getenv("HUBCTL_E2E") != "1" {
		t.Skip("set HUBCTL_E2E=1 (make e2e) to run the local fleet end-to-end test")
	}
	if ok, why := netns.Isolated(); !ok {
		t.Fatalf("the e2e test must run in a loopback-only network namespace (%s): make e2e", why)
	}
	// The real upstream charts, as a Helm repository folder (hubctl charts pull DIR).
	chartsDir := os.Getenv(action.EnvChartsDir)
	if chartsDir == "" {
		t.Fatalf("set $%s to a Helm repository folder of the charts the tree uses (hubctl charts pull DIR)", action.EnvChartsDir)
	}
	ctx := context.Background()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	// A clone of the repository: the test commits to it.
	repo := filepath.Join(t.TempDir(), "gitops-hub")
	if out, err := exec.Command("git", "clone", "-q", "--no-hardlinks", root, repo).CombinedOutput(); err != nil {
		t.Fatalf("git clone: %v\n%s", err, out)
	}
	git(t, repo, "checkout", "-q", "-B", "main")

	// The hubctl executable: it serves the charts, and the verbs scenario runs
	// it as a user would. `make e2e` builds bin/hubctl just before; without it
	// the test builds its own.
	hubctl, err := filepath.Abs("../../bin/hubctl")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(hubctl); err != nil {
		hubctl = filepath.Join(t.TempDir(), "hubctl")
		if out, err := exec.Command("go", "build", "-o", hubctl, "../../cmd/hubctl").CombinedOutput(); err != nil {
			t.Fatalf("building hubctl (it serves the charts): %v\n%s", err, out)
		}
	}
	t.Logf("hubctl: %s", hubctl)
	stateDir := filepath.Join(t.TempDir(), "state")
	if os.Getenv("HUBCTL_E2E_KEEP") == "1" {
		// Outside t.TempDir, which is removed at the end even when kept.
		d, err := os.MkdirTemp("", "hubctl-e2e-")
		if err != nil {
			t.Fatal(err)
		}
		stateDir = filepath.Join(d, "state")
	}
	up := &action.Up{
		Hubctl:    hubctl,
		Repo:      repo,
		StateDir:  stateDir,
		ChartsDir: chartsDir,
		Timeout:   15 * time.Minute, // 15 Applications with ESO; fleets of other jobs share the 2 cores
		Progress:  logWriter{t},
	}
	start := time.Now()
	res, err := up.Run(ctx)
	if err != nil {
		t.Fatalf("hubctl up: %v", err)
	}
	f := res.Fleet
	t.Cleanup(func() {
		if t.Failed() && os.Getenv("HUBCTL_E2E_KEEP") == "1" {
			t.Logf("HUBCTL_E2E_KEEP=1: the fleet stays up in %s", f.StateDir)
			return
		}
		dctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		if err := f.Down(dctx); err != nil {
			t.Errorf("down: %v", err)
		}
	})
	t.Logf("fleet up and all %d Applications Synced and Healthy in %s", len(res.Apps), time.Since(start).Round(time.Second))

	hub := load(t, f, action.HubName)
	dev := load(t, f, develop)
	stg := load(t, f, staging)

	t.Run("every enabled addon is an Application, Synced and Healthy, with its resources in the hosting cluster", func(t *testing.T) {
		apps, err := status.List(ctx, hub.Dynamic, "argocd")
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]bool{}
		for _, c := range []string{develop, staging} {
			for _, chart := range []string{"argo-cd", "crossplane", "kube-prometheus-stack", "backstage", "ingress-nginx", "aws-for-fluent-bit", "external-secrets"} {
				want["addon-"+chart+"-"+strings.ToLower(c)] = true
			}
		}
		for _, a := range apps {
			if want[a.Name] {
				if !a.Ready() {
					t.Errorf("%s: sync %s health %s operation %s", a.Name, a.Sync, a.Health, a.Operation)
				}
				delete(want, a.Name)
			}
		}
		if len(want) > 0 {
			t.Errorf("Applications not generated: %v", want)
		}
		for _, c := range []*kube.Cluster{dev, stg} {
			d, err := c.Client.AppsV1().Deployments("argocd").Get(ctx, "argo-cd-argocd-server", metav1.GetOptions{})
			if err != nil {
				t.Errorf("%s: the per-client Argo CD is not deployed: %v", c.Name, err)
				continue
			}
			if d.Status.ReadyReplicas < 1 {
				t.Errorf("%s: argo-cd-argocd-server has no ready replica", c.Name)
			}
		}
	})

	t.Run("values layering: a cluster-layer value reaches only its cluster; the staging pin gives its chart version", func(t *testing.T) {
		v, ok, err := configMapValue(ctx, dev, "argocd", "argocd-cm", "installationID")
		if err != nil || !ok || v != develop {
			t.Errorf("%s argocd-cm installationID = %q (present %v, %v), want %q from its cluster layer", develop, v, ok, err, develop)
		}
		if v, ok, err := configMapValue(ctx, stg, "argocd", "argocd-cm", "installationID"); err != nil || ok {
			t.Errorf("%s argocd-cm has installationID %q (err %v): another cluster's layer leaked", staging, v, err)
		}
		for c, want := range map[*kube.Cluster]string{dev: "argo-cd-10.1.1", stg: "argo-cd-6.6.0"} {
			d, err := c.Client.AppsV1().Deployments("argocd").Get(ctx, "argo-cd-argocd-server", metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if got := d.Labels["helm.sh/chart"]; got != want {
				t.Errorf("%s: chart %q, want %q", c.Name, got, want)
			}
		}
	})

	t.Run("a Secret set on the hub with hubctl config set reaches its client's cluster only, and follows a change", func(t *testing.T) {
		testClientSecrets(t, ctx, f, hubctl, dev, stg)
	})

	// Before the next scenario changes the develop cluster's installationID.
	testClientArgoCD(t, ctx, f, hubctl, hub, dev)

	t.Run("a commit that changes a values file is applied without restarting anything", func(t *testing.T) {
		marker := fmt.Sprintf("e2e-%d", time.Now().UnixNano())
		edit(t, repo, action.LocalOverlayDir+"/clusters/"+develop+"/addons/argo-cd/values.yaml", "e2e: change a cluster value", func(s string) string {
			return strings.Replace(s, "installationID: "+develop, "installationID: "+marker, 1)
		})
		if _, err := action.Publish(ctx, f, repo); err != nil {
			t.Fatal(err)
		}
		d := waitFor(t, ctx, "the new value in "+develop, 4*time.Minute, func(ctx context.Context) (bool, error) {
			v, _, err := configMapValue(ctx, dev, "argocd", "argocd-cm", "installationID")
			return err == nil && v == marker, nil
		})
		t.Logf("MEASURE commit-to-applied %s", d.Round(100*time.Millisecond))
	})

	t.Run("removing enable_backstage removes the Application and keeps the resources", func(t *testing.T) {
		edit(t, repo, action.LocalOverlayDir+"/clusters/"+develop+"/cluster.yaml", "e2e: disable backstage", func(s string) string {
			return strings.Replace(s, "    enable_backstage: \"true\"\n", "", 1)
		})
		reg, err := registry.LoadGlob(os.DirFS(repo), action.LocalClusterRegistry)
		if err != nil {
			t.Fatal(err)
		}
		c, ok := reg.ByName(develop)
		if !ok {
			t.Fatal("cluster vanished from the registry")
		}
		if err := action.Register(ctx, f, c); err != nil {
			t.Fatal(err)
		}
		app := "addon-backstage-" + strings.ToLower(develop)
		waitFor(t, ctx, "Application "+app+" deleted", 3*time.Minute, func(ctx context.Context) (bool, error) {
			_, err := hub.Dynamic.Resource(status.ApplicationsGVR).Namespace("argocd").Get(ctx, app, metav1.GetOptions{})
			return errors.IsNotFound(err), nil
		})
		time.Sleep(5 * time.Second) // a cascading delete would have started by now
		deps, err := dev.Client.AppsV1().Deployments("backstage").List(ctx, metav1.ListOptions{})
		if err != nil || len(deps.Items) == 0 {
			t.Errorf("backstage's resources were removed from %s (%v): preserveResourcesOnDeletion and prune=false must keep them", develop, err)
		}
	})

	t.Run("cluster add, list, rotate and remove a third cluster with the hubctl executable", func(t *testing.T) {
		testClusterVerbs(t, ctx, f, repo, hubctl, hub)
	})

	t.Run("status -o json and status --html on the fleet's hub", func(t *testing.T) {
		testStatus(t, ctx, f, hubctl)
	})

	t.Run("a stopped hosting cluster does not block the other; it converges after restart", func(t *testing.T) {
		stop := trace(t, ctx, hub, staging)
		t.Cleanup(func() {
			stop()
			if t.Failed() {
				logTail(t, f.LogPath(localfleet.ProcController), strings.ToLower(staging), 60)
			}
		})
		// HUBCTL_E2E_RESTARTS repeats the scenario, to study its timing.
		rounds, _ := strconv.Atoi(os.Getenv("HUBCTL_E2E_RESTARTS"))
		for round := 1; round <= max(rounds, 1); round++ {
			restartRound(t, ctx, f, repo, dev, stg, round)
		}
		if _, err := action.WaitSynced(ctx, f, 8*time.Minute, logWriter{t}); err != nil {
			t.Error(err)
		}
	})
}

// restartRound stops the staging cluster, commits a default value, checks
// that develop gets it meanwhile, starts staging again and waits until it
// has it too.
func restartRound(t *testing.T, ctx context.Context, f *localfleet.Fleet, repo string, dev, stg *kube.Cluster, round int) {
	t.Helper()
	if err := f.StopCluster(ctx, staging); err != nil {
		t.Fatal(err)
	}
	t.Logf("round %d: %s stopped", round, staging)
	marker := fmt.Sprintf("e2e-%d", time.Now().UnixNano())
	edit(t, repo, "environments/default/addons/argo-cd/values.yaml", "e2e: change a default value", func(s string) string {
		if old := regexp.MustCompile(`(?m)^    gitops-hub\.e2e-marker: .*$`); old.MatchString(s) {
			return old.ReplaceAllLiteralString(s, "    gitops-hub.e2e-marker: "+marker)
		}
		return strings.Replace(s, "configs:\n  cm:\n", "configs:\n  cm:\n    gitops-hub.e2e-marker: "+marker+"\n", 1)
	})
	if _, err := action.Publish(ctx, f, repo); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, develop+" synced the commit while "+staging+" is down", 4*time.Minute, func(ctx context.Context) (bool, error) {
		v, _, err := configMapValue(ctx, dev, "argocd", "argocd-cm", "gitops-hub.e2e-marker")
		return err == nil && v == marker, nil
	})
	if err := f.StartCluster(ctx, staging); err != nil {
		t.Fatal(err)
	}
	t.Logf("round %d: %s started again", round, staging)
	d := waitFor(t, ctx, staging+" converged after restart", 8*time.Minute, func(ctx context.Context) (bool, error) {
		v, _, err := configMapValue(ctx, stg, "argocd", "argocd-cm", "gitops-hub.e2e-marker")
		return err == nil && v == marker, nil
	})
	t.Logf("MEASURE restart-to-converged %s", d.Round(100*time.Millisecond))
}

func load(t *testing.T, f *localfleet.Fleet, name string) *kube.Cluster {
	t.Helper()
	c, err := kube.Load(name, f.Kubeconfig(name))
	if err != nil {
		t.Fatal(err)
	}
	return c
}
