package localfleet

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/tools/clientcmd"
)

// argoCDSetup is what bootstrap puts into the hub before the controllers
// start (here by hand: the namespace, Argo CD's ConfigMaps and Secret).
const argoCDSetup = `apiVersion: v1
kind: Namespace
metadata: {name: argocd}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: argocd-cm
  namespace: argocd
  labels: {app.kubernetes.io/name: argocd-cm, app.kubernetes.io/part-of: argocd}
data:
  timeout.reconciliation: 10s
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: argocd-rbac-cm
  namespace: argocd
  labels: {app.kubernetes.io/name: argocd-rbac-cm, app.kubernetes.io/part-of: argocd}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: argocd-cmd-params-cm
  namespace: argocd
  labels: {app.kubernetes.io/name: argocd-cmd-params-cm, app.kubernetes.io/part-of: argocd}
---
apiVersion: v1
kind: Secret
metadata:
  name: argocd-secret
  namespace: argocd
  labels: {app.kubernetes.io/name: argocd-secret, app.kubernetes.io/part-of: argocd}
type: Opaque
stringData:
  server.secretkey: test-only
---
apiVersion: argoproj.io/v1alpha1
kind: AppProject
metadata:
  name: default
  namespace: argocd
spec:
  sourceRepos: ['*']
  destinations: [{server: '*', namespace: '*'}]
  clusterResourceWhitelist: [{group: '*', kind: '*'}]
`

func kubectl(t *testing.T, kubeconfig, stdin string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command("kubectl", append([]string{"--kubeconfig", kubeconfig}, args...)...)
	cmd.Env = append(os.Environ(), "KUBECACHEDIR="+filepath.Join(filepath.Dir(kubeconfig), "kube-cache"))
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if err != nil {
		return "", fmt.Errorf("kubectl %s: %w: %s", strings.Join(args, " "), err, errb.String())
	}
	return strings.TrimSpace(out.String()), nil
}

func mustKubectl(t *testing.T, kubeconfig, stdin string, args ...string) string {
	t.Helper()
	out, err := kubectl(t, kubeconfig, stdin, args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// waitFor polls cond (every 250ms) for up to timeout and returns how long it took.
func waitFor(t *testing.T, what string, timeout time.Duration, cond func() (bool, string)) time.Duration {
	t.Helper()
	start := time.Now()
	last := ""
	for time.Since(start) < timeout {
		ok, state := cond()
		if ok {
			return time.Since(start)
		}
		last = state
		time.Sleep(250 * time.Millisecond)
	}
	t.Fatalf("%s: not after %s (last: %s)", what, timeout, last)
	return 0
}

// clusterSecret is the Argo CD cluster Secret of a fleet cluster (what the
// registration does for real).
func clusterSecret(t *testing.T, name, kubeconfig string) string {
	t.Helper()
	cfg, err := clientcmd.LoadFromFile(kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	kctx := cfg.Contexts[cfg.CurrentContext]
	cl, user := cfg.Clusters[kctx.Cluster], cfg.AuthInfos[kctx.AuthInfo]
	b64 := base64.StdEncoding.EncodeToString
	conf, _ := json.Marshal(map[string]any{"tlsClientConfig": map[string]string{
		"caData": b64(cl.CertificateAuthorityData), "certData": b64(user.ClientCertificateData), "keyData": b64(user.ClientKeyData),
	}})
	return fmt.Sprintf(`apiVersion: v1
kind: Secret
metadata:
  name: cluster-%s
  namespace: argocd
  labels: {argocd.argoproj.io/secret-type: cluster}
type: Opaque
stringData:
  name: %s
  server: %s
  config: '%s'
`, strings.ToLower(name), name, cl.Server, conf)
}

// TestArgoCDEndToEnd runs UpActions as hubctl up would (with a hand-made
// bootstrap), then has the real Argo CD deploy from the git daemon and the
// chart server into a hosting cluster, picks up a new commit, survives the
// hosting apiserver being stopped and started, and tears down.
func TestArgoCDEndToEnd(t *testing.T) {
	bin := requireReal(t, append(clusterBinaryNames(), append(argoCDBinaryNames(), RedisBinary)...)...)
	for _, tool := range []string{"git", "kubectl"} {
		if _, err := exec.LookPath(tool); err != nil {
			unavailable(t, "%s not on PATH", tool)
		}
	}
	// Where hack/tools/build.sh puts Argo CD's CRDs: <cache>/argocd-v3.6.1/crds.
	crds := ""
	caches := []string{os.Getenv(EnvCache), filepath.Dir(filepath.Dir(bin))}
	if base, err := os.UserCacheDir(); err == nil {
		caches = append(caches, filepath.Join(base, "gitops-hub"))
	}
	for _, c := range caches {
		if d := filepath.Join(c, "argocd-v3.6.1", "crds"); c != "" && isExecutable(filepath.Join(bin, "argocd")) {
			if _, err := os.Stat(filepath.Join(d, "application-crd.yaml")); err == nil {
				crds = d
				break
			}
		}
	}
	if crds == "" {
		unavailable(t, "Argo CD CRDs not found in <cache>/argocd-v3.6.1/crds of %v (hack/tools/build.sh argocd)", caches)
	}
	charts := testChartRepo(t)
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()

	// The repository Argo CD reads: one ConfigMap under app/.
	repo := t.TempDir()
	env := gitEnv(t)
	run(t, repo, env, "git", "init", "-q", "-b", "main")
	if err := os.MkdirAll(filepath.Join(repo, "app"), 0o755); err != nil {
		t.Fatal(err)
	}
	cm := "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: demo\ndata:\n  v: \"%d\"\n"
	commitFile(t, repo, "app/cm.yaml", fmt.Sprintf(cm, 1))

	hosting := "hosting-1"
	f := testFleet(t, "hub", hosting)
	f.AllowHostNetwork = false
	hubKC := f.Kubeconfig("hub")
	bootstrap := Action{Name: "Bootstrapping the hub (test: CRDs and argocd-setup by hand)", Run: func(ctx context.Context) error {
		if _, err := kubectl(t, hubKC, "", "apply", "--server-side", "-f", crds); err != nil {
			return err
		}
		for _, crd := range []string{"applications.argoproj.io", "applicationsets.argoproj.io", "appprojects.argoproj.io"} {
			waitFor(t, "CRD "+crd+" Established", time.Minute, func() (bool, string) {
				out, err := kubectl(t, hubKC, "", "get", "crd", crd, "-o", `jsonpath={.status.conditions[?(@.type=="Established")].status}`)
				return err == nil && out == "True", out
			})
		}
		_, err := kubectl(t, hubKC, argoCDSetup, "apply", "--server-side", "-f", "-")
		return err
	}}
	start := time.Now()
	err = f.Run(ctx, f.UpActions(UpOptions{RepoDir: repo, ChartsDir: charts, SelfExe: exe, Bootstrap: []Action{bootstrap}}))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("TIMING up (2 clusters, redis, git daemon, chart server, bootstrap, Argo CD): %s", time.Since(start).Round(100*time.Millisecond))
	pids := map[string]int{}
	for _, p := range []string{ProcRepoServer, ProcController, ProcAppSet, ProcRedis, ProcGitDaemon} {
		if !f.procs().Alive(p) {
			t.Fatalf("%s not alive after up", p)
		}
		r, _ := f.procs().Record(p)
		pids[p] = r.PID
	}
	// up again on the running fleet converges: nothing restarted.
	start = time.Now()
	if err := f.Run(ctx, f.UpActions(UpOptions{RepoDir: repo, ChartsDir: charts, SelfExe: exe})); err != nil {
		t.Fatalf("second up: %v", err)
	}
	t.Logf("TIMING second up on the running fleet: %s", time.Since(start).Round(100*time.Millisecond))
	for p, pid := range pids {
		if r, _ := f.procs().Record(p); r.PID != pid || !r.Alive() {
			t.Errorf("second up restarted %s: pid %d, then %d", p, pid, r.PID)
		}
	}

	// Register the hosting cluster; an ApplicationSet makes its Application.
	mustKubectl(t, hubKC, clusterSecret(t, hosting, f.Kubeconfig(hosting)), "apply", "-f", "-")
	server, _ := f.Server(hosting)
	appset := fmt.Sprintf(`apiVersion: argoproj.io/v1alpha1
kind: ApplicationSet
metadata: {name: demo, namespace: argocd}
spec:
  goTemplate: true
  generators:
  - clusters: {selector: {matchLabels: {argocd.argoproj.io/secret-type: cluster}}}
  template:
    metadata: {name: 'demo-{{.name}}'}
    spec:
      project: default
      source: {repoURL: %q, targetRevision: %s, path: app}
      destination: {server: '{{.server}}', namespace: demo}
      syncPolicy:
        automated: {prune: true, selfHeal: true}
        syncOptions: [CreateNamespace=true]
        retry: {limit: 30, backoff: {duration: 2s, factor: 1, maxDuration: 5s}}
`, f.GitURL(), Branch)
	start = time.Now()
	mustKubectl(t, hubKC, appset, "apply", "-f", "-")
	app := "demo-" + hosting
	status := func(name string) func() (bool, string) {
		return func() (bool, string) {
			out, err := kubectl(t, hubKC, "", "-n", "argocd", "get", "application", name, "-o",
				"jsonpath={.status.sync.status}/{.status.health.status}/{.status.operationState.phase}")
			if err != nil {
				return false, err.Error()
			}
			return out == "Synced/Healthy/Succeeded", out
		}
	}
	waitFor(t, "Application "+app+" created", time.Minute, func() (bool, string) {
		_, err := kubectl(t, hubKC, "", "-n", "argocd", "get", "application", app)
		return err == nil, fmt.Sprint(err)
	})
	t.Logf("TIMING ApplicationSet -> Application: %s", time.Since(start).Round(10*time.Millisecond))
	waitFor(t, app+" Synced/Healthy", 3*time.Minute, status(app))
	t.Logf("TIMING ApplicationSet -> Synced/Healthy: %s", time.Since(start).Round(10*time.Millisecond))
	cmValue := func(want string) func() (bool, string) {
		return func() (bool, string) {
			out, err := kubectl(t, f.Kubeconfig(hosting), "", "-n", "demo", "get", "configmap", "demo", "-o", "jsonpath={.data.v}")
			return err == nil && out == want, out + fmt.Sprint(err)
		}
	}
	waitFor(t, "ConfigMap in "+hosting, 10*time.Second, cmValue("1"))

	// A new commit, published, reaches the hosting cluster (refresh asked for).
	commitFile(t, repo, "app/cm.yaml", fmt.Sprintf(cm, 2))
	start = time.Now()
	if _, err := f.Publish(ctx, repo); err != nil {
		t.Fatal(err)
	}
	mustKubectl(t, hubKC, "", "-n", "argocd", "annotate", "--overwrite", "application", app, "argocd.argoproj.io/refresh=normal")
	waitFor(t, "new commit applied in "+hosting, 2*time.Minute, cmValue("2"))
	t.Logf("TIMING commit -> Publish -> refresh -> applied in hosting cluster: %s", time.Since(start).Round(10*time.Millisecond))

	// A chart from the chart server, rendered by the repo-server's helm.
	{
		chartApp := fmt.Sprintf(`apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {name: fluent, namespace: argocd}
spec:
  project: default
  source: {repoURL: %q, chart: demo, targetRevision: 0.1.0}
  destination: {server: %q, namespace: fluent}
  syncPolicy:
    automated: {prune: true, selfHeal: true}
    syncOptions: [CreateNamespace=true]
`, f.ChartURL(), server)
		start = time.Now()
		mustKubectl(t, hubKC, chartApp, "apply", "-f", "-")
		waitFor(t, "chart Application Synced/Healthy", 3*time.Minute, status("fluent"))
		t.Logf("TIMING chart Application (demo from the chart server) -> Synced/Healthy: %s", time.Since(start).Round(10*time.Millisecond))
	}

	// The hosting apiserver goes away; a change made meanwhile is applied
	// once it is back (the Applications retry their syncs).
	if err := f.StopCluster(ctx, hosting); err != nil {
		t.Fatal(err)
	}
	commitFile(t, repo, "app/cm.yaml", fmt.Sprintf(cm, 3))
	if _, err := f.Publish(ctx, repo); err != nil {
		t.Fatal(err)
	}
	mustKubectl(t, hubKC, "", "-n", "argocd", "annotate", "--overwrite", "application", app, "argocd.argoproj.io/refresh=normal")
	time.Sleep(10 * time.Second)
	seen, _ := kubectl(t, hubKC, "", "-n", "argocd", "get", "application", app, "-o",
		"jsonpath={.status.sync.status}/{.status.health.status}/{.status.operationState.phase}: {.status.operationState.message}")
	t.Logf("while %s is stopped, %s shows: %.300s", hosting, app, seen)
	for _, p := range []string{ProcRepoServer, ProcController, ProcAppSet} {
		if !f.procs().Alive(p) {
			t.Fatalf("%s died while the hosting cluster was stopped", p)
		}
	}
	if err := f.StartCluster(ctx, hosting); err != nil {
		t.Fatal(err)
	}
	start = time.Now()
	waitFor(t, "change made while stopped applied after the restart", 3*time.Minute, cmValue("3"))
	t.Logf("TIMING hosting cluster restarted -> pending change applied: %s", time.Since(start).Round(10*time.Millisecond))
	waitFor(t, app+" Synced/Healthy after the restart", 3*time.Minute, status(app))

	recs, _ := f.procs().List()
	start = time.Now()
	if err := f.Down(ctx); err != nil {
		t.Fatal(err)
	}
	t.Logf("TIMING down: %s", time.Since(start).Round(10*time.Millisecond))
	for _, r := range recs {
		if r.Alive() {
			t.Errorf("%s alive after Down", r.Name)
		}
	}
	if _, err := os.Stat(f.StateDir); err == nil {
		t.Fatal("state directory left after Down")
	}
}
