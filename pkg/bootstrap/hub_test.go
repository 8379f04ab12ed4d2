package bootstrap

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/release"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/gitops-hub/gitops-hub/internal/testcharts"
	"github.com/gitops-hub/gitops-hub/internal/testenv"
	"github.com/gitops-hub/gitops-hub/pkg/kube"
)

// loadArgoCDChart loads the real argo-cd 10.1.1 chart from the Helm
// repository folder of upstream charts ($HUBCTL_CHARTS_DIR).
func loadArgoCDChart(t *testing.T) *chart.Chart {
	t.Helper()
	argoCDChart := filepath.Join(testcharts.Upstream(t), "argo-cd-10.1.1.tgz")
	c, err := loader.Load(argoCDChart)
	if err != nil {
		t.Fatalf("load %s: %v", argoCDChart, err)
	}
	return c
}

// crdDirForTest finds Argo CD's CRDs: where hack/tools/build.sh puts them, else in the Go
// module cache (manifests/crds of the pinned Argo CD module, as build.sh copies them from).
func crdDirForTest(t *testing.T) string {
	t.Helper()
	candidates := []string{DefaultCRDDir()}
	modCache := os.Getenv("GOMODCACHE")
	if modCache == "" {
		gopath := os.Getenv("GOPATH")
		if gopath == "" {
			if home, err := os.UserHomeDir(); err == nil {
				gopath = filepath.Join(home, "go")
			}
		}
		if gopath != "" {
			modCache = filepath.Join(filepath.SplitList(gopath)[0], "pkg", "mod")
		}
	}
	if modCache != "" {
		candidates = append(candidates, filepath.Join(modCache, "github.com", "argoproj", "argo-cd", "v3@"+ArgoCDVersion, "manifests", "crds"))
	}
	for _, dir := range candidates {
		if _, err := ReadCRDs(dir); err == nil {
			t.Logf("Argo CD CRDs from %s", dir)
			return dir
		}
	}
	t.Skipf("Argo CD CRDs not found in %s (run hack/tools/build.sh argocd)", strings.Join(candidates, " or "))
	return ""
}

var (
	crdRes = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}
	appRes = schema.GroupVersionResource{Group: "argoproj.io", Version: "v1alpha1", Resource: "applications"}
)

// helmConfig is a Helm action configuration against the hub, for checking the release.
func helmConfig(t *testing.T, hub *kube.Cluster, ns string) *action.Configuration {
	t.Helper()
	getter, err := newRESTGetter(hub, ns)
	if err != nil {
		t.Fatal(err)
	}
	cfg := new(action.Configuration)
	if err := cfg.Init(getter, ns, "secret", func(string, ...any) {}); err != nil {
		t.Fatal(err)
	}
	return cfg
}

func TestHub(t *testing.T) {
	ch := loadArgoCDChart(t)
	crdDir := crdDirForTest(t)
	rootApp, err := os.ReadFile(filepath.Join("..", "..", filepath.FromSlash(RootAppPath)))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	hub := testenv.Start(ctx, t, "hub")

	const (
		ns      = "argocd"
		repoURL = "file:///srv/fleet/gitops-hub.git"
	)
	var progress bytes.Buffer
	opts := Options{
		CRDDir:   crdDir,
		Chart:    ch,
		Values:   map[string]any{"configs": map[string]any{"cm": map[string]any{"admin.enabled": false}}},
		RepoURL:  repoURL,
		RootApp:  rootApp,
		Progress: &progress,
		Projects: []*unstructured.Unstructured{{Object: map[string]any{
			"apiVersion": "argoproj.io/v1alpha1", "kind": "AppProject",
			"metadata": map[string]any{"name": "platform", "namespace": "elsewhere"},
			"spec":     map[string]any{"sourceRepos": []any{"*"}},
		}}},
	}

	// A chart that refuses the Kubernetes version fails in its own step, before any release
	// exists; the next run starts from there.
	t.Run("step error", func(t *testing.T) {
		bad := opts
		bad.KubeVersion = "1.20.0" // argo-cd 10.1.1 wants >=1.25
		bad.Progress = nil
		_, err := Hub(ctx, hub, bad)
		if err == nil {
			t.Fatal("no error for a chart that refuses Kubernetes 1.20")
		}
		if !strings.HasPrefix(err.Error(), "bootstrap: chart argo-cd-10.1.1 as release argocd in namespace argocd: helm install:") ||
			!strings.Contains(err.Error(), "kubeVersion") {
			t.Errorf("error does not name its step and cause: %v", err)
		}
	})

	start := time.Now()
	if _, err := Hub(ctx, hub, opts); err != nil {
		t.Fatalf("Hub: %v\nprogress:\n%s", err, progress.String())
	}
	t.Logf("first Hub run: %s\n%s", time.Since(start).Round(time.Millisecond), progress.String())
	var lines []string // the steps; object lines are indented
	for _, l := range strings.Split(strings.TrimSpace(progress.String()), "\n") {
		if !strings.HasPrefix(l, "bootstrap:   ") {
			lines = append(lines, l)
		}
	}
	wantSteps := []string{
		"bootstrap: namespace argocd",
		"bootstrap: Argo CD CRDs (",
		"bootstrap: chart argo-cd-10.1.1 as release argocd in namespace argocd",
		"bootstrap: AppProject argocd/default (unless it exists)",
		"bootstrap: 1 AppProjects and root Application argocd/hub-root (repoURL " + repoURL + ")",
	}
	if len(lines) != len(wantSteps) {
		t.Errorf("progress has %d lines, want %d:\n%s", len(lines), len(wantSteps), progress.String())
	} else {
		for i, w := range wantSteps {
			if !strings.HasPrefix(lines[i], w) {
				t.Errorf("progress line %d = %q, want prefix %q", i+1, lines[i], w)
			}
		}
	}

	// CRDs: Established, and not owned by the Helm release (crds.install=false).
	for _, name := range []string{"applications.argoproj.io", "applicationsets.argoproj.io", "appprojects.argoproj.io"} {
		crd, err := hub.Dynamic.Resource(crdRes).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			t.Errorf("CRD %s: %v", name, err)
			continue
		}
		if ok, why := crdEstablished(crd); !ok {
			t.Errorf("CRD %s not Established: %s", name, why)
		}
		if crd.GetLabels()["app.kubernetes.io/managed-by"] == "Helm" || crd.GetAnnotations()["meta.helm.sh/release-name"] != "" {
			t.Errorf("CRD %s is managed by Helm; crds.install=false should leave it to Hub", name)
		}
	}

	// The chart's objects.
	cm, err := hub.Client.CoreV1().ConfigMaps(ns).Get(ctx, "argocd-cm", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("argocd-cm: %v", err)
	}
	if got := cm.Data["timeout.reconciliation"]; got != "10s" {
		t.Errorf("argocd-cm timeout.reconciliation = %q, want 10s", got)
	}
	if got := cm.Data["admin.enabled"]; got != "false" {
		t.Errorf("argocd-cm admin.enabled = %q, want false (from Options.Values)", got)
	}
	if got := cm.Labels["app.kubernetes.io/managed-by"]; got != "Helm" {
		t.Errorf("argocd-cm managed-by = %q, want Helm", got)
	}
	params, err := hub.Client.CoreV1().ConfigMaps(ns).Get(ctx, "argocd-cmd-params-cm", metav1.GetOptions{})
	if err != nil {
		t.Errorf("argocd-cmd-params-cm: %v", err)
	} else if got := params.Data["server.insecure"]; got != "true" {
		t.Errorf("argocd-cmd-params-cm server.insecure = %q, want true", got)
	}
	for _, name := range []string{"argocd-rbac-cm", "argocd-ssh-known-hosts-cm", "argocd-tls-certs-cm", "argocd-gpg-keys-cm"} {
		if _, err := hub.Client.CoreV1().ConfigMaps(ns).Get(ctx, name, metav1.GetOptions{}); err != nil {
			t.Errorf("ConfigMap %s: %v", name, err)
		}
	}
	if _, err := hub.Client.CoreV1().Secrets(ns).Get(ctx, "argocd-secret", metav1.GetOptions{}); err != nil {
		t.Errorf("argocd-secret: %v", err)
	}
	const controller = "argocd-application-controller"
	if _, err := hub.Client.CoreV1().ServiceAccounts(ns).Get(ctx, controller, metav1.GetOptions{}); err != nil {
		t.Errorf("ServiceAccount %s: %v", controller, err)
	}
	if _, err := hub.Client.RbacV1().Roles(ns).Get(ctx, controller, metav1.GetOptions{}); err != nil {
		t.Errorf("Role %s: %v", controller, err)
	}
	if rb, err := hub.Client.RbacV1().RoleBindings(ns).Get(ctx, controller, metav1.GetOptions{}); err != nil {
		t.Errorf("RoleBinding %s: %v", controller, err)
	} else if len(rb.Subjects) == 0 || rb.Subjects[0].Name != controller {
		t.Errorf("RoleBinding %s subjects = %v", controller, rb.Subjects)
	}
	if _, err := hub.Client.RbacV1().ClusterRoles().Get(ctx, controller, metav1.GetOptions{}); err != nil {
		t.Errorf("ClusterRole %s: %v", controller, err)
	}
	if _, err := hub.Client.RbacV1().ClusterRoleBindings().Get(ctx, controller, metav1.GetOptions{}); err != nil {
		t.Errorf("ClusterRoleBinding %s: %v", controller, err)
	}
	for _, name := range []string{"argocd-applicationset-controller", "argocd-repo-server", "argocd-server"} {
		if _, err := hub.Client.CoreV1().ServiceAccounts(ns).Get(ctx, name, metav1.GetOptions{}); err != nil {
			t.Errorf("ServiceAccount %s: %v", name, err)
		}
	}
	if _, err := hub.Client.AppsV1().StatefulSets(ns).Get(ctx, controller, metav1.GetOptions{}); err != nil {
		t.Errorf("StatefulSet %s: %v", controller, err)
	}

	// The redis-secret-init hook is not run; Hub made its Secret.
	redis, err := hub.Client.CoreV1().Secrets(ns).Get(ctx, RedisSecretName, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("Secret %s: %v", RedisSecretName, err)
	}
	if len(redis.Data["auth"]) != 16 {
		t.Errorf("Secret %s auth has %d bytes, want 16", RedisSecretName, len(redis.Data["auth"]))
	}
	if _, err := hub.Client.BatchV1().Jobs(ns).Get(ctx, "argocd-redis-secret-init", metav1.GetOptions{}); err == nil {
		t.Error("the redis-secret-init hook Job was created: hooks should be disabled")
	}

	// The Helm release, stored as a Secret.
	checkRelease := func(rev int, status release.Status) {
		t.Helper()
		name := "sh.helm.release.v1.argocd.v" + strconv.Itoa(rev)
		s, err := hub.Client.CoreV1().Secrets(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			t.Errorf("release Secret %s: %v", name, err)
			return
		}
		if s.Type != "helm.sh/release.v1" || s.Labels["owner"] != "helm" || s.Labels["status"] != string(status) {
			t.Errorf("release Secret %s: type %q labels %v, want helm.sh/release.v1, owner=helm, status=%s", name, s.Type, s.Labels, status)
		}
	}
	checkRelease(1, release.StatusDeployed)

	// The default AppProject, as argocd-server would have made it.
	proj, err := hub.Dynamic.Resource(appProjectGVR).Namespace(ns).Get(ctx, "default", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("AppProject default: %v", err)
	}
	if repos, _, _ := unstructured.NestedStringSlice(proj.Object, "spec", "sourceRepos"); len(repos) != 1 || repos[0] != "*" {
		t.Errorf("AppProject default sourceRepos = %v, want [*]", repos)
	}
	// A changed default project is kept by the next run.
	if err := unstructured.SetNestedStringSlice(proj.Object, []string{repoURL}, "spec", "sourceRepos"); err != nil {
		t.Fatal(err)
	}
	if _, err := hub.Dynamic.Resource(appProjectGVR).Namespace(ns).Update(ctx, proj, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}

	// The root Application.
	app, err := hub.Dynamic.Resource(appRes).Namespace(ns).Get(ctx, "hub-root", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("root Application: %v", err)
	}
	for path, want := range map[string]string{
		"spec.source.repoURL":        repoURL,
		"spec.source.targetRevision": "main",
		"spec.source.path":           "bootstrap/control-plane",
		"spec.project":               "default",
		"spec.destination.server":    "https://kubernetes.default.svc",
	} {
		if got, _, _ := unstructured.NestedString(app.Object, strings.Split(path, ".")...); got != want {
			t.Errorf("root Application %s = %q, want %q", path, got, want)
		}
	}

	// Second run: the release is upgraded in place, with the new values.
	progress.Reset()
	opts.Values = map[string]any{"configs": map[string]any{"cm": map[string]any{"timeout.reconciliation": "20s"}}}
	opts.Revision = "local"
	start = time.Now()
	if _, err := Hub(ctx, hub, opts); err != nil {
		t.Fatalf("second Hub: %v\nprogress:\n%s", err, progress.String())
	}
	t.Logf("second Hub run: %s", time.Since(start).Round(time.Millisecond))
	if _, err := hub.Dynamic.Resource(appProjectGVR).Namespace(ns).Get(ctx, "platform", metav1.GetOptions{}); err != nil {
		t.Errorf("AppProject platform not applied into the Argo CD namespace: %v", err)
	}

	// Third run, same inputs: nothing changes, and the result says so (no new release revision).
	res, err := Hub(ctx, hub, opts)
	if err != nil {
		t.Fatalf("third Hub: %v", err)
	}
	if res.Changed() {
		t.Errorf("third run with the same inputs changed something: %+v", res.Changes)
	}
	if _, err := helmConfig(t, hub, ns).Releases.Get("argocd", 3); err == nil {
		t.Error("third run made release revision 3")
	}

	// A dry run with a change prints the manifest and reports the change, but writes nothing.
	var out bytes.Buffer
	dry := opts
	dry.DryRun, dry.Out = true, &out
	dry.Values = map[string]any{"configs": map[string]any{"cm": map[string]any{"timeout.reconciliation": "30s"}}}
	res, err = Hub(ctx, hub, dry)
	if err != nil {
		t.Fatalf("dry run: %v", err)
	}
	if !res.Changed() || !strings.Contains(out.String(), "timeout.reconciliation: 30s") || !strings.Contains(out.String(), "name: hub-root") {
		t.Errorf("dry run: changed=%v, output lacks the new argocd-cm or the root Application:\n%.2000s", res.Changed(), out.String())
	}
	if cm, err := hub.Client.CoreV1().ConfigMaps(ns).Get(ctx, "argocd-cm", metav1.GetOptions{}); err != nil || cm.Data["timeout.reconciliation"] != "20s" {
		t.Errorf("dry run changed argocd-cm (err %v)", err)
	}
	checkRelease(1, release.StatusSuperseded)
	checkRelease(2, release.StatusDeployed)
	cm, err = hub.Client.CoreV1().ConfigMaps(ns).Get(ctx, "argocd-cm", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("argocd-cm: %v", err)
	}
	if got := cm.Data["timeout.reconciliation"]; got != "20s" {
		t.Errorf("after upgrade: argocd-cm timeout.reconciliation = %q, want 20s", got)
	}
	if got, ok := cm.Data["admin.enabled"]; ok && got == "false" {
		t.Errorf("after upgrade: admin.enabled = %q: the first run's values were reused", got)
	}
	redis2, err := hub.Client.CoreV1().Secrets(ns).Get(ctx, RedisSecretName, metav1.GetOptions{})
	if err != nil || !bytes.Equal(redis2.Data["auth"], redis.Data["auth"]) {
		t.Errorf("Secret %s changed on the second run (err %v)", RedisSecretName, err)
	}
	proj, err = hub.Dynamic.Resource(appProjectGVR).Namespace(ns).Get(ctx, "default", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("AppProject default: %v", err)
	}
	if repos, _, _ := unstructured.NestedStringSlice(proj.Object, "spec", "sourceRepos"); len(repos) != 1 || repos[0] != repoURL {
		t.Errorf("second run changed the existing AppProject default: sourceRepos = %v", repos)
	}
	app, err = hub.Dynamic.Resource(appRes).Namespace(ns).Get(ctx, "hub-root", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("root Application: %v", err)
	}
	if got, _, _ := unstructured.NestedString(app.Object, "spec", "source", "targetRevision"); got != "local" {
		t.Errorf("after second run: targetRevision = %q, want local", got)
	}

	// An interrupted run leaves the release pending; the next run still upgrades it.
	cfg := helmConfig(t, hub, ns)
	last, err := cfg.Releases.Last("argocd")
	if err != nil {
		t.Fatal(err)
	}
	last.SetStatus(release.StatusPendingUpgrade, "simulated interruption")
	if err := cfg.Releases.Update(last); err != nil {
		t.Fatal(err)
	}
	if _, err := Hub(ctx, hub, opts); err != nil {
		t.Fatalf("Hub after an interrupted upgrade: %v", err)
	}
	checkRelease(2, release.StatusSuperseded) // marked failed, then superseded by the upgrade
	checkRelease(3, release.StatusDeployed)
}

func TestHubChecksOptionsFirst(t *testing.T) {
	// Nothing here reaches a cluster: the checks come before the first step.
	hub := &kube.Cluster{Name: "unused"}
	rootApp := []byte("apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata: {name: r}\nspec: {source: {repoURL: a}}\n")
	crdDir := t.TempDir()
	if err := os.WriteFile(filepath.Join(crdDir, "a.yaml"), []byte("apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {name: as.example.com}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ch := &chart.Chart{}
	for name, c := range map[string]struct {
		opts Options
		want string
	}{
		"no chart":     {Options{CRDDir: crdDir, RootApp: rootApp}, "Options.Chart"},
		"empty CRDs":   {Options{CRDDir: t.TempDir(), Chart: ch, RootApp: rootApp}, "bootstrap: CRDs: no CustomResourceDefinition"},
		"bad root app": {Options{CRDDir: crdDir, Chart: ch, RootApp: []byte("kind: [")}, "bootstrap: root Application: bootstrap/root-app.yaml"},
		"bad version":  {Options{CRDDir: crdDir, Chart: ch, RootApp: rootApp, KubeVersion: "x.y"}, "Options.KubeVersion"},
	} {
		t.Run(name, func(t *testing.T) {
			var progress bytes.Buffer
			c.opts.Progress = &progress
			_, err := Hub(context.Background(), hub, c.opts)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("err = %v, want it to contain %q", err, c.want)
			}
			if progress.Len() != 0 {
				t.Errorf("a step started: %q", progress.String())
			}
		})
	}
	if _, err := Hub(context.Background(), nil, Options{}); err == nil {
		t.Error("nil hub: no error")
	}
}
