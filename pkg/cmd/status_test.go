package cmd

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/gitops-hub/gitops-hub/internal/testenv"
	"github.com/gitops-hub/gitops-hub/pkg/bootstrap"
	"github.com/gitops-hub/gitops-hub/pkg/kube"
	"github.com/gitops-hub/gitops-hub/pkg/status"
)

func TestStatusPicksTheHub(t *testing.T) {
	home := t.TempDir()
	withConfig := filepath.Join(t.TempDir(), "config")
	if err := os.WriteFile(withConfig, []byte("apiVersion: v1\nkind: Config\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name       string
		o          statusOptions
		kubeconfig string // $KUBECONFIG
		env        string // $HUBCTL_STATE_DIR
		local      bool
	}{
		{name: "no kubeconfig at all: the local fleet", local: true},
		{name: "$KUBECONFIG: its current context", kubeconfig: withConfig},
		{name: "--local", o: statusOptions{local: true}, kubeconfig: withConfig, local: true},
		{name: "--state-dir", o: statusOptions{stateDir: "/s"}, kubeconfig: withConfig, local: true},
		{name: "$HUBCTL_STATE_DIR", env: "/s", kubeconfig: withConfig, local: true},
		{name: "--context wins over $HUBCTL_STATE_DIR", o: statusOptions{kube: kubeFlags{context: "hub"}}, env: "/s"},
		{name: "--kubeconfig wins over --state-dir", o: statusOptions{kube: kubeFlags{kubeconfig: withConfig}, stateDir: "/s"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("HOME", home) // no ~/.kube/config
			t.Setenv("KUBECONFIG", tc.kubeconfig)
			o := tc.o
			o.getenv = func(k string) string {
				if k == "HUBCTL_STATE_DIR" {
					return tc.env
				}
				return ""
			}
			if got := o.useLocalFleet(); got != tc.local {
				t.Errorf("useLocalFleet() = %v, want %v", got, tc.local)
			}
		})
	}
}

func TestStatusFlagErrors(t *testing.T) {
	t.Setenv("HUBCTL_STATE_DIR", "")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"status", "-o", "yaml", "--context", "x"}, `unknown output format "yaml"`},
		{[]string{"status", "--local", "--context", "x"}, "--local and --kubeconfig/--context"},
		{[]string{"status", "--kubeconfig", "/nonexistent/kubeconfig"}, "/nonexistent/kubeconfig"},
	} {
		_, stderr, code := run(t, tc.args...)
		if code != ExitError || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", tc.args, code, stderr, tc.want)
		}
	}
}

func TestStatusCompletion(t *testing.T) {
	kc := filepath.Join(t.TempDir(), "config")
	cfg := clientcmdapi.NewConfig()
	for _, n := range []string{"prod-hub", "dev-hub"} {
		cfg.Clusters[n] = &clientcmdapi.Cluster{Server: "https://127.0.0.1:1"}
		cfg.Contexts[n] = &clientcmdapi.Context{Cluster: n}
	}
	if err := clientcmd.WriteToFile(*cfg, kc); err != nil {
		t.Fatal(err)
	}
	t.Setenv("KUBECONFIG", kc)
	out, _, code := run(t, "__complete", "status", "--context", "")
	if code != 0 || !strings.Contains(out, "dev-hub\nprod-hub\n") {
		t.Errorf("--context completion: exit %d\n%s", code, out)
	}
	out, _, code = run(t, "__complete", "status", "-o", "")
	if code != 0 || !strings.Contains(out, "table\nwide\njson\n") {
		t.Errorf("-o completion: exit %d\n%s", code, out)
	}
}

func TestStatusPageNeverOverwritesForeignFiles(t *testing.T) {
	path := filepath.Join(t.TempDir(), "notes.html")
	if err := os.WriteFile(path, []byte("<p>mine</p>"), 0o644); err != nil {
		t.Fatal(err)
	}
	f := status.FleetOf(nil)
	if err := writeStatusPage(path, f); err == nil || !strings.Contains(err.Error(), "not a page hubctl status wrote") {
		t.Fatalf("err = %v", err)
	}
	if b, _ := os.ReadFile(path); string(b) != "<p>mine</p>" {
		t.Errorf("the file was changed: %q", b)
	}
	// Its own page is replaced.
	own := filepath.Join(filepath.Dir(path), "status.html")
	for i := 0; i < 2; i++ {
		if err := writeStatusPage(own, f); err != nil {
			t.Fatalf("write %d: %v", i, err)
		}
	}
}

// syncBuffer is a bytes.Buffer safe for a writer and a reader goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

var crdGVR = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}

// applicationCRD is Argo CD's Application CRD where hack/tools/build.sh put
// it, else the stand-in under testdata/crds.
func applicationCRD(t testing.TB) *unstructured.Unstructured {
	t.Helper()
	if crds, err := bootstrap.ReadCRDs(bootstrap.DefaultCRDDir()); err == nil {
		for _, c := range crds {
			if c.GetName() == "applications.argoproj.io" {
				t.Logf("Argo CD's Application CRD from %s", bootstrap.DefaultCRDDir())
				return c
			}
		}
	}
	data, err := os.ReadFile(filepath.Join("testdata", "crds", "applications.argoproj.io.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	objs, err := kube.DecodeYAML(data)
	if err != nil || len(objs) != 1 {
		t.Fatalf("testdata CRD: %v", err)
	}
	t.Log("Application CRD: the stand-in of testdata/crds")
	return objs[0]
}

// seedHub installs the Application CRD and creates the fixture's cluster
// Secrets and Applications with their status (Argo CD's Application CRD has
// no status subresource: its controller writes status with the object).
func seedHub(ctx context.Context, t *testing.T, hub *kube.Cluster) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "status", "testdata", "fleet.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	objs, err := kube.DecodeYAML(data)
	if err != nil {
		t.Fatal(err)
	}
	healthy := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
		"metadata": map[string]any{"name": "fine", "namespace": "other"},
		"spec": map[string]any{"project": "default", "destination": map[string]any{"name": "in-cluster", "namespace": "x"},
			"source": map[string]any{"repoURL": "https://charts.example", "chart": "x", "targetRevision": "1.0.0"}},
		"status": map[string]any{"sync": map[string]any{"status": "Synced", "revision": "1.0.0"}, "health": map[string]any{"status": "Healthy"}},
	}}
	withArgoCD(ctx, t, hub, []string{"argocd", "other"}, append(objs, healthy))
}

// kubeconfigOf names a test cluster's kubeconfig context ctxName.
func kubeconfigOf(t testing.TB, c *kube.Cluster, ctxName string, into *clientcmdapi.Config) {
	t.Helper()
	cfg, err := clientcmd.LoadFromFile(c.Kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	cur := cfg.Contexts[cfg.CurrentContext]
	into.Clusters[ctxName] = cfg.Clusters[cur.Cluster]
	into.AuthInfos[ctxName] = cfg.AuthInfos[cur.AuthInfo]
	into.Contexts[ctxName] = &clientcmdapi.Context{Cluster: ctxName, AuthInfo: ctxName}
}

// TestStatusRealAPIServer runs hubctl status against real kube-apiservers:
// a hub with Applications and their status as Argo CD's controller writes
// them, and a bare cluster without Argo CD.
func TestStatusRealAPIServer(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	env := testenv.New(ctx, t, testenv.Options{}, "hub", "bare")
	hub := env.Cluster("hub")
	seedHub(ctx, t, hub)

	dir := t.TempDir()
	merged := clientcmdapi.NewConfig()
	kubeconfigOf(t, hub, "hub-ctx", merged)
	kubeconfigOf(t, env.Cluster("bare"), "bare-ctx", merged)
	merged.CurrentContext = "bare-ctx"
	mergedPath := filepath.Join(dir, "merged")
	if err := clientcmd.WriteToFile(*merged, mergedPath); err != nil {
		t.Fatal(err)
	}
	t.Setenv("HOME", dir)
	t.Setenv("HUBCTL_STATE_DIR", "")
	t.Setenv("KUBECONFIG", mergedPath)

	wantTable, err := os.ReadFile(filepath.Join("..", "status", "testdata", "golden", "fleet.table"))
	if err != nil {
		t.Fatal(err)
	}

	t.Run("$KUBECONFIG's current context has no Argo CD", func(t *testing.T) {
		stdout, stderr, code := run(t, "status")
		if code != ExitError || stdout != "" {
			t.Fatalf("exit %d, stdout %q; want 2 and nothing", code, stdout)
		}
		for _, want := range []string{`hub of context "bare-ctx"`, "list applications.argoproj.io in namespace argocd", "Argo CD is not installed on this cluster", "hubctl bootstrap"} {
			if !strings.Contains(stderr, want) {
				t.Errorf("stderr lacks %q:\n%s", want, stderr)
			}
		}
	})
	t.Run("--context picks the hub in $KUBECONFIG", func(t *testing.T) {
		stdout, stderr, code := run(t, "status", "--context", "hub-ctx", "--request-timeout", "30s")
		if code != ExitFindings {
			t.Fatalf("exit %d, want 1 (some Applications not Synced and Healthy); stderr:\n%s", code, stderr)
		}
		if stdout != string(wantTable) {
			t.Errorf("the table read from a real apiserver differs from the fake client's golden file:\n%s", stdout)
		}
		if !strings.Contains(stderr, "3/7 Applications Synced and Healthy") {
			t.Errorf("stderr: %s", stderr)
		}
	})
	t.Run("--kubeconfig wins over $KUBECONFIG", func(t *testing.T) {
		only := clientcmdapi.NewConfig()
		kubeconfigOf(t, hub, "only-hub", only)
		only.CurrentContext = "only-hub"
		p := filepath.Join(dir, "only-hub")
		if err := clientcmd.WriteToFile(*only, p); err != nil {
			t.Fatal(err)
		}
		stdout, stderr, code := run(t, "status", "--kubeconfig", p, "-o", "json")
		if code != ExitFindings {
			t.Fatalf("exit %d; stderr:\n%s", code, stderr)
		}
		var doc struct {
			Kind    string
			Hub     string
			Summary struct {
				Total, Ready int
				NotReady     []string
			}
			Applications []status.App
		}
		if err := json.Unmarshal([]byte(stdout), &doc); err != nil {
			t.Fatalf("%v:\n%s", err, stdout)
		}
		if doc.Kind != "FleetStatus" || doc.Hub != "only-hub" || doc.Summary.Total != 7 || doc.Summary.Ready != 3 || len(doc.Summary.NotReady) != 4 {
			t.Errorf("json: kind %s hub %s summary %+v", doc.Kind, doc.Hub, doc.Summary)
		}
	})
	t.Run("every Application ready: exit 0", func(t *testing.T) {
		_, stderr, code := run(t, "status", "--context", "hub-ctx", "-n", "other")
		if code != ExitOK || !strings.Contains(stderr, "1/1 Applications Synced and Healthy") {
			t.Errorf("exit %d, stderr %s", code, stderr)
		}
	})
	t.Run("unknown context", func(t *testing.T) {
		_, stderr, code := run(t, "status", "--context", "nope")
		if code != ExitError || !strings.Contains(stderr, `"nope"`) {
			t.Errorf("exit %d, stderr %s", code, stderr)
		}
	})
	t.Run("unreachable hub names the context and the call", func(t *testing.T) {
		down := clientcmdapi.NewConfig()
		kubeconfigOf(t, hub, "down", down)
		down.Clusters["down"].Server = "https://127.0.0.1:1" // nothing listens there
		down.CurrentContext = "down"
		p := filepath.Join(dir, "down")
		if err := clientcmd.WriteToFile(*down, p); err != nil {
			t.Fatal(err)
		}
		_, stderr, code := run(t, "status", "--kubeconfig", p, "--request-timeout", "5s")
		if code != ExitError || !strings.Contains(stderr, `hub of context "down" (https://127.0.0.1:1)`) || !strings.Contains(stderr, "list applications.argoproj.io") {
			t.Errorf("exit %d, stderr %s", code, stderr)
		}
	})
	t.Run("--html", func(t *testing.T) {
		page := filepath.Join(dir, "status.html")
		_, stderr, code := run(t, "status", "--context", "hub-ctx", "--html", page)
		if code != ExitFindings {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		b, err := os.ReadFile(page)
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{status.HTMLGenerator, `data-app="addon-crossplane-eks-develop-a"`, "3/7 Applications Synced and Healthy"} {
			if !bytes.Contains(b, []byte(want)) {
				t.Errorf("the page lacks %q", want)
			}
		}
		if bytes.Contains(b, []byte(`src="http`)) || bytes.Contains(b, []byte(`href="http`)) {
			t.Error("the page loads an external asset")
		}
	})
	t.Run("--watch prints again on a change", func(t *testing.T) {
		wctx, stop := context.WithCancel(ctx)
		defer stop()
		var out, errOut syncBuffer
		codes := make(chan int, 1)
		go func() {
			codes <- Run(wctx, []string{"status", "--context", "hub-ctx", "--watch", "-o", "json", "--request-timeout", "20s"}, Streams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut})
		}()
		waitOutput := func(what string, ok func(string) bool) {
			t.Helper()
			deadline := time.Now().Add(60 * time.Second)
			for !ok(out.String()) {
				if time.Now().After(deadline) {
					t.Fatalf("%s: not printed within 60 s; stdout:\n%s\nstderr:\n%s", what, out.String(), errOut.String())
				}
				time.Sleep(100 * time.Millisecond)
			}
		}
		waitOutput("the first state", func(s string) bool { return strings.Contains(s, `"ready": 3`) })
		apps := hub.Dynamic.Resource(status.ApplicationsGVR).Namespace("argocd")
		app, err := apps.Get(ctx, "addon-crossplane-eks-prod-a", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		app.Object["status"] = map[string]any{
			"sync":    map[string]any{"status": "Synced", "revision": "2.3.4"},
			"health":  map[string]any{"status": "Healthy"},
			"history": []any{map[string]any{"id": int64(0), "revision": "2.3.4", "deployedAt": "2026-01-03T00:00:00Z"}},
		}
		if _, err := apps.Update(ctx, app, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
		waitOutput("the new state", func(s string) bool { return strings.Contains(s, `"ready": 4`) })
		stop()
		select {
		case code := <-codes:
			if code != ExitFindings {
				t.Errorf("exit %d after the watch ended, want 1 (3 Applications still not ready)", code)
			}
		case <-time.After(30 * time.Second):
			t.Fatal("status --watch did not stop when its context ended")
		}
		if n := strings.Count(out.String(), `"kind": "FleetStatus"`); n != 2 {
			t.Errorf("%d documents printed, want 2 (one per state)", n)
		}
	})
}

// BenchmarkStatusRealAPIServer times one `hubctl status -o table` (kubeconfig
// loading, the two list calls, the matrix, the output) against a real
// kube-apiserver holding a synthetic hub: 30 registered clusters × 6 addons,
// 180 Applications with the status fields Argo CD writes.
func BenchmarkStatusRealAPIServer(b *testing.B) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	env := testenv.New(ctx, b, testenv.Options{}, "hub")
	hub := env.Cluster("hub")
	crd := applicationCRD(b)
	if _, err := hub.Dynamic.Resource(crdGVR).Create(ctx, crd, metav1.CreateOptions{}); err != nil {
		b.Fatal(err)
	}
	if _, err := hub.Client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "argocd"}}, metav1.CreateOptions{}); err != nil {
		b.Fatal(err)
	}
	apps := hub.Dynamic.Resource(status.ApplicationsGVR).Namespace("argocd")
	if err := kube.WaitFor(ctx, 200*time.Millisecond, func(ctx context.Context) (bool, error) {
		_, err := apps.List(ctx, metav1.ListOptions{})
		return err == nil, nil
	}); err != nil {
		b.Fatal(err)
	}
	addons := []string{"argo-cd", "aws-for-fluent-bit", "backstage", "crossplane", "ingress-nginx", "kube-prometheus-stack"}
	for i := 0; i < 30; i++ {
		cluster := fmt.Sprintf("eks-develop-client%02d-services", i)
		secret := &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Name: "cluster-" + cluster, Namespace: "argocd",
				Labels: map[string]string{"argocd.argoproj.io/secret-type": "cluster", "environment": "develop"}},
			StringData: map[string]string{"name": cluster, "server": "https://" + cluster + ".example", "config": "{}"},
		}
		if _, err := hub.Client.CoreV1().Secrets("argocd").Create(ctx, secret, metav1.CreateOptions{}); err != nil {
			b.Fatal(err)
		}
		for _, addon := range addons {
			app := &unstructured.Unstructured{Object: map[string]any{
				"apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
				"metadata": map[string]any{"name": "addon-" + addon + "-" + cluster, "namespace": "argocd",
					"labels": map[string]any{status.AddonLabel: addon},
					"ownerReferences": []any{map[string]any{"apiVersion": "argoproj.io/v1alpha1", "kind": "ApplicationSet",
						"name": "addons-" + addon, "uid": "00000000-0000-0000-0000-000000000001"}}},
				"spec": map[string]any{"project": "default", "destination": map[string]any{"name": cluster, "namespace": addon},
					"sources": []any{
						map[string]any{"repoURL": "https://git.example/gitops-hub.git", "targetRevision": "main", "ref": "values"},
						map[string]any{"repoURL": "https://charts.example", "chart": addon, "targetRevision": "1.0.0"}}},
				"status": map[string]any{
					"sync":   map[string]any{"status": "Synced", "revisions": []any{"0123456789abcdef0123456789abcdef01234567", "1.0.0"}},
					"health": map[string]any{"status": "Healthy"},
					"history": []any{map[string]any{"id": int64(0), "deployedAt": "2026-01-01T00:00:00Z",
						"revisions": []any{"0123456789abcdef0123456789abcdef01234567", "1.0.0"}}}},
			}}
			if _, err := apps.Create(ctx, app, metav1.CreateOptions{}); err != nil {
				b.Fatal(err)
			}
		}
	}
	kc := clientcmdapi.NewConfig()
	kubeconfigOf(b, hub, "hub-ctx", kc)
	kc.CurrentContext = "hub-ctx"
	path := filepath.Join(b.TempDir(), "kubeconfig")
	if err := clientcmd.WriteToFile(*kc, path); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		var out, errOut bytes.Buffer
		if code := Run(ctx, []string{"status", "--kubeconfig", path}, Streams{Out: &out, ErrOut: &errOut}); code != ExitOK {
			b.Fatalf("exit %d: %s", code, errOut.String())
		}
	}
}
