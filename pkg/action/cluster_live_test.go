package action

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/gitops-hub/gitops-hub/internal/testenv"
	"github.com/gitops-hub/gitops-hub/pkg/conventions"
	"github.com/gitops-hub/gitops-hub/pkg/hubconfig"
	"github.com/gitops-hub/gitops-hub/pkg/kube"
	"github.com/gitops-hub/gitops-hub/pkg/onboard"
)

// liveEnv starts a hub (with the argocd namespace and stand-ins for Argo CD's CRDs) and a
// target, real kube-apiservers on one etcd.
func liveEnv(ctx context.Context, t testing.TB) (*testenv.Env, *kube.Cluster, *kube.Cluster) {
	t.Helper()
	env := testenv.New(ctx, t, testenv.Options{}, "hub", "target")
	hub, target := env.Cluster("hub"), env.Cluster("target")
	crds, err := os.ReadFile("testdata/crds/argocd-minimal.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := hub.ApplyYAML(ctx, crds, "test"); err != nil {
		t.Fatal(err)
	}
	if _, err := hub.Client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "argocd"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	return env, hub, target
}

func liveConfig(t testing.TB, hub, target *kube.Cluster, progress io.Writer) *Configuration {
	return &Configuration{
		RepoDir: copyTree(t), Progress: progress,
		Hub: func() (*kube.Cluster, error) { return hub, nil }, Target: func() (*kube.Cluster, error) { return target, nil },
	}
}

// argoView is the client Argo CD builds from the hub's cluster Secret.
func argoView(ctx context.Context, t *testing.T, hub *kube.Cluster, secret string) (*kube.Cluster, *onboard.ClusterConfig) {
	t.Helper()
	s, err := hub.Client.CoreV1().Secrets("argocd").Get(ctx, secret, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	server, cc, err := onboard.ParseClusterSecret(s)
	if err != nil {
		t.Fatal(err)
	}
	c, err := kube.NewForConfig("argocd-view", cc.RESTConfig(server))
	if err != nil {
		t.Fatal(err)
	}
	return c, cc
}

func TestLiveClusterAddListRotateRemove(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	_, hub, target := liveEnv(ctx, t)
	var progress bytes.Buffer
	cfg := liveConfig(t, hub, target, &progress)

	start := time.Now()
	res, err := (&ClusterAdd{Config: cfg, Name: "existing"}).Run(ctx)
	if err != nil {
		t.Fatalf("%v\n%s", err, progress.String())
	}
	t.Logf("cluster add: %s", time.Since(start).Round(time.Millisecond))
	if res.HubAccess != nil {
		t.Errorf("a cluster without a client label got hub access: %s", dump(res.HubAccess))
	}
	if _, err := target.Client.CoreV1().Namespaces().Get(ctx, "external-secrets", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("external-secrets namespace in a cluster without a client label: %v", err)
	}
	argo, cc := argoView(ctx, t, hub, "cluster-existing")
	// Argo CD's view works: it can deploy (create a namespace and a Deployment's ConfigMap).
	if _, err := argo.Client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "web"}}, metav1.CreateOptions{}); err != nil {
		t.Errorf("Argo CD's credentials cannot create a namespace: %v", err)
	}
	// ...but cannot impersonate.
	imp := rest.CopyConfig(argo.Config)
	imp.Impersonate = rest.ImpersonationConfig{UserName: "system:admin"}
	if ic, err := kube.NewForConfig("impersonating", imp); err == nil {
		if _, err := ic.Client.CoreV1().Namespaces().List(ctx, metav1.ListOptions{}); !apierrors.IsForbidden(err) {
			t.Errorf("impersonation with Argo CD's credentials: %v, want Forbidden", err)
		}
	}
	exp, ok := onboard.TokenExpiry(cc.BearerToken)
	if !ok || exp.Sub(time.Now()) < 89*24*time.Hour || exp.Sub(time.Now()) > 91*24*time.Hour || !exp.Equal(res.Expires) {
		t.Errorf("token expiry %v, want ~90 days (result %v)", exp, res.Expires)
	}

	// list: registered, reachable, no drift.
	start = time.Now()
	rows, err := (&ClusterList{Config: cfg}).Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("cluster list: %s", time.Since(start).Round(time.Millisecond))
	if len(rows) != 1 || rows[0].Where != InBoth || rows[0].Problem() || *rows[0].DaysLeft < 89 {
		t.Errorf("list: %s", dump(rows))
	}

	// rotate with the stored credentials only: the old token is revoked, the new one works.
	rot, err := (&ClusterRotate{Config: &Configuration{RepoDir: cfg.RepoDir, Hub: cfg.Hub}, Names: []string{"existing"}}).Run(ctx)
	if err != nil {
		t.Fatalf("rotate: %v %s", err, dump(rot))
	}
	argo2, cc2 := argoView(ctx, t, hub, "cluster-existing")
	if cc2.BearerToken == cc.BearerToken || rot[0].ServiceAccount != "kube-system/hubctl-argocd-g2" {
		t.Errorf("rotate: %s", dump(rot))
	}
	if _, err := argo2.Client.CoreV1().Namespaces().List(ctx, metav1.ListOptions{}); err != nil {
		t.Errorf("the new token does not work: %v", err)
	}
	if err := kube.WaitFor(ctx, 200*time.Millisecond, func(ctx context.Context) (bool, error) {
		_, err := argo.Client.CoreV1().Namespaces().List(ctx, metav1.ListOptions{})
		return apierrors.IsUnauthorized(err), nil
	}); err != nil {
		t.Errorf("the old token still works after rotate")
	}

	// An expired token shows as expired (and unreachable). The apiserver will not mint a
	// token shorter than 10 minutes, so the stored token is replaced by a JWT-shaped one whose
	// exp claim is in the past, which the apiserver refuses.
	s, _ := hub.Client.CoreV1().Secrets("argocd").Get(ctx, "cluster-existing", metav1.GetOptions{})
	expired := *cc2
	expired.BearerToken = jwt(time.Now().Add(-time.Hour), "expired")
	s.Data["config"], _ = json.Marshal(expired)
	if _, err := hub.Client.CoreV1().Secrets("argocd").Update(ctx, s, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	rows, err = (&ClusterList{Config: cfg}).Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if r := rows[0]; !r.Expired || *r.Reachable || !r.Problem() || !strings.Contains(r.Error, "Unauthorized") {
		t.Errorf("expired token: %s", dump(rows))
	}
	// rotate with the expired credentials fails and says what to do; with the target it works.
	if _, err := (&ClusterRotate{Config: &Configuration{RepoDir: cfg.RepoDir, Hub: cfg.Hub}, Names: []string{"existing"}}).Run(ctx); err == nil {
		t.Error("rotate with expired stored credentials: no error")
	}
	if rot, err := (&ClusterRotate{Config: cfg, Names: []string{"existing"}}).Run(ctx); err != nil || rot[0].ServiceAccount != "kube-system/hubctl-argocd-g3" {
		t.Fatalf("rotate with the target: %v %s", err, dump(rot))
	}

	// remove --revoke: the Secret, the ServiceAccounts and the bindings go; the entry stays.
	rm := &ClusterRemove{Config: cfg, Name: "existing", Revoke: true}
	plan, err := rm.Plan(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.Apps) != 1 || plan.Apps[0].Name != "web-existing" || !plan.Apps[0].DeletesResources {
		t.Errorf("plan %s", dump(plan))
	}
	if _, err := rm.Run(ctx, plan); err != nil {
		t.Fatal(err)
	}
	if _, err := hub.Client.CoreV1().Secrets("argocd").Get(ctx, "cluster-existing", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("hub Secret: %v", err)
	}
	sel := metav1.ListOptions{LabelSelector: conventions.ManagedByLabel + "=hubctl"}
	if sas, _ := target.Client.CoreV1().ServiceAccounts("kube-system").List(ctx, sel); len(sas.Items) != 0 {
		t.Errorf("ServiceAccounts left: %d", len(sas.Items))
	}
	if b, _ := target.Client.RbacV1().ClusterRoleBindings().List(ctx, sel); len(b.Items) != 0 {
		t.Errorf("ClusterRoleBindings left: %d", len(b.Items))
	}
	if _, err := os.Stat(cfg.RepoDir + "/clusters/existing/cluster.yaml"); err != nil {
		t.Errorf("registry entry: %v", err)
	}
}

func TestLiveClusterAddConcurrent(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	_, hub, target := liveEnv(ctx, t)
	cfg := liveConfig(t, hub, target, nil)
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = (&ClusterAdd{Config: cfg, Name: "eks-new", Environment: "develop", Enable: []string{"web"}}).Run(ctx)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	list, err := hub.Client.CoreV1().Secrets("argocd").List(ctx, metav1.ListOptions{})
	if err != nil || len(list.Items) != 1 {
		t.Fatalf("hub Secrets: %v %d", err, len(list.Items))
	}
	argo, _ := argoView(ctx, t, hub, list.Items[0].Name)
	if _, err := argo.Client.CoreV1().Namespaces().List(ctx, metav1.ListOptions{}); err != nil {
		t.Errorf("the stored token does not work: %v", err)
	}
	sas, _ := target.Client.CoreV1().ServiceAccounts("kube-system").List(ctx, metav1.ListOptions{LabelSelector: conventions.ManagedByLabel + "=hubctl"})
	if len(sas.Items) != 1 {
		t.Errorf("%d ServiceAccounts in the target, want 1", len(sas.Items))
	}
	rows, err := (&ClusterList{Config: cfg}).Run(ctx)
	if err != nil || len(rows) != 2 {
		t.Fatalf("list: %v %s", err, dump(rows))
	}
	for _, r := range rows {
		if r.Name == "eks-new" && (r.Where != InBoth || r.Problem()) {
			t.Errorf("eks-new: %s", dump(r))
		}
	}
}

// stopAt stops the hub's kube-apiserver when a progress line of cluster add contains marker:
// the hook runs between two steps of the command, and the step after it starts only once the
// apiserver process has exited.
type stopAt struct {
	t      *testing.T
	env    *testenv.Env
	marker string
	done   bool
	buf    bytes.Buffer
}

func (s *stopAt) Write(b []byte) (int, error) {
	s.buf.Write(b)
	if !s.done && bytes.Contains(b, []byte(s.marker)) {
		s.done = true
		if err := s.env.Stop("hub"); err != nil {
			s.t.Error(err)
		}
	}
	return len(b), nil
}

// TestLiveClusterAddHubStopsHalfway stops the real hub kube-apiserver during cluster add,
// at each step after the hub was first read: no hub Secret is left, the error says what to
// run, and once the apiserver is back the same command completes the registration.
func TestLiveClusterAddHubStopsHalfway(t *testing.T) {
	for _, tc := range []struct{ name, marker string }{
		{"before the target's access", "ServiceAccount, role and binding"},
		{"before the hub Secret", "verifying the token credentials"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			defer cancel()
			env, hub, target := liveEnv(ctx, t)
			stop := &stopAt{t: t, env: env, marker: tc.marker}
			cfg := liveConfig(t, hub, target, stop)
			_, err := (&ClusterAdd{Config: cfg, Name: "existing"}).Run(ctx)
			if !stop.done {
				t.Fatalf("the hub was never stopped (no progress line with %q):\n%s", tc.marker, stop.buf.String())
			}
			if err == nil {
				t.Fatalf("no error with the hub apiserver stopped\n%s", stop.buf.String())
			}
			if !strings.Contains(err.Error(), "write Secret argocd/cluster-existing") || !strings.Contains(err.Error(), "run the same `hubctl cluster add existing ...` again") {
				t.Errorf("the error does not say what failed and what to run: %v", err)
			}
			if err := env.Restart(ctx, "hub"); err != nil {
				t.Fatal(err)
			}
			// Nothing half-registered in the hub.
			if _, err := hub.Client.CoreV1().Secrets("argocd").Get(ctx, "cluster-existing", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
				t.Errorf("hub Secret after the failure: %v", err)
			}
			// The hub is back: the same command completes, on the same generation.
			res, err := (&ClusterAdd{Config: cfg, Name: "existing"}).Run(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if res.ServiceAccount != "kube-system/hubctl-argocd-g1" || res.Secret != "argocd/cluster-existing" {
				t.Errorf("re-run: %s", dump(res))
			}
			argo, _ := argoView(ctx, t, hub, "cluster-existing")
			if _, err := argo.Client.CoreV1().Namespaces().List(ctx, metav1.ListOptions{}); err != nil {
				t.Errorf("the stored token does not work: %v", err)
			}
		})
	}
}

func dump(v any) string {
	b, _ := json.MarshalIndent(v, "", " ")
	return string(b)
}

// BenchmarkLiveClusterAdd measures a first registration (access in the target, token,
// verification, hub Secret); each iteration then removes it with --revoke.
func BenchmarkLiveClusterAdd(b *testing.B) {
	ctx := context.Background()
	_, hub, target := liveEnv(ctx, b)
	cfg := liveConfig(b, hub, target, nil)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := (&ClusterAdd{Config: cfg, Name: "existing"}).Run(ctx); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		rm := &ClusterRemove{Config: cfg, Name: "existing", Revoke: true}
		plan, err := rm.Plan(ctx)
		if err == nil {
			_, err = rm.Run(ctx, plan)
		}
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
}

// BenchmarkLiveClusterList30 measures cluster list with 30 registered clusters (30 hub
// Secrets holding working credentials of one target apiserver), each checked with a real call.
func BenchmarkLiveClusterList30(b *testing.B) {
	ctx := context.Background()
	_, hub, target := liveEnv(ctx, b)
	cfg := liveConfig(b, hub, target, nil)
	if _, err := (&ClusterAdd{Config: cfg, Name: "existing"}).Run(ctx); err != nil {
		b.Fatal(err)
	}
	s, err := hub.Client.CoreV1().Secrets("argocd").Get(ctx, "cluster-existing", metav1.GetOptions{})
	if err != nil {
		b.Fatal(err)
	}
	for i := 1; i < 30; i++ {
		c := s.DeepCopy()
		c.ObjectMeta = metav1.ObjectMeta{Name: s.Name + "-" + strconv.Itoa(i), Namespace: s.Namespace, Labels: s.Labels, Annotations: s.Annotations}
		c.Data["name"] = []byte("copy-" + strconv.Itoa(i))
		if _, err := hub.Client.CoreV1().Secrets("argocd").Create(ctx, c, metav1.CreateOptions{}); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		rows, err := (&ClusterList{Config: cfg}).Run(ctx)
		if err != nil || len(rows) != 30 {
			b.Fatalf("%v, %d rows", err, len(rows))
		}
		for _, r := range rows {
			if r.Reachable == nil || !*r.Reachable {
				b.Fatalf("%s unreachable: %s", r.Name, r.Error)
			}
		}
	}
}

// TestLiveRotateAllExpiringWithin is the cron job: only tokens expiring within the window are
// rotated, with the stored credentials alone.
func TestLiveRotateAllExpiringWithin(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	_, hub, target := liveEnv(ctx, t)
	cfg := liveConfig(t, hub, target, nil)
	if _, err := (&ClusterAdd{Config: cfg, Name: "existing", TokenTTL: 30 * time.Minute}).Run(ctx); err != nil {
		t.Fatal(err)
	}
	hubOnly := &Configuration{RepoDir: cfg.RepoDir, Hub: cfg.Hub}
	res, err := (&ClusterRotate{Config: hubOnly, All: true, ExpiringWithin: 10 * time.Minute}).Run(ctx)
	if err != nil || len(res) != 1 || res[0].Skipped == "" {
		t.Fatalf("outside the window: %v %s", err, dump(res))
	}
	res, err = (&ClusterRotate{Config: hubOnly, All: true, ExpiringWithin: time.Hour}).Run(ctx)
	if err != nil || len(res) != 1 || res[0].ServiceAccount != "kube-system/hubctl-argocd-g2" {
		t.Fatalf("inside the window: %v %s", err, dump(res))
	}
	rows, err := (&ClusterList{Config: cfg}).Run(ctx)
	if err != nil || rows[0].Problem() || *rows[0].DaysLeft < 89 {
		t.Errorf("after rotate: %v %s", err, dump(rows))
	}
}

// esoView is the hub client a hosting cluster's External Secrets Operator builds from its
// external-secrets/hub-credentials Secret: the server, the CA and the token only.
func esoView(ctx context.Context, t *testing.T, hosting *kube.Cluster) (kubernetes.Interface, string) {
	t.Helper()
	s, err := hosting.Client.CoreV1().Secrets("external-secrets").Get(ctx, "hub-credentials", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cfg := &rest.Config{Host: string(s.Data["server"]), BearerToken: string(s.Data["token"]), TLSClientConfig: rest.TLSClientConfig{CAData: s.Data["ca.crt"]}}
	c, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c, string(s.Data["token"])
}

// TestLiveClusterAddHubAccess: a client's cluster added with cluster add reads its client's
// Secrets on the hub with what cluster add placed in it, and gets a real 403 on another
// client's; rotate gives it a new working token; remove --revoke takes the access away.
func TestLiveClusterAddHubAccess(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	_, hub, target := liveEnv(ctx, t)
	var progress bytes.Buffer
	cfg := liveConfig(t, hub, target, &progress)
	for _, cl := range []string{"clientA", "clientB"} {
		if _, err := hubconfig.Set(ctx, hub.Client, cl, "grafana-admin", map[string][]byte{"admin-password": []byte("pw-" + cl)}); err != nil {
			t.Fatal(err)
		}
	}
	res, err := (&ClusterAdd{Config: cfg, Name: "eks-a", Environment: "develop", Client: "clientA", Enable: []string{"web"}}).Run(ctx)
	if err != nil {
		t.Fatalf("%v\n%s", err, progress.String())
	}
	if res.HubAccess == nil || res.HubAccess.ServiceAccount != "client-clienta/eso-eks-a" || res.HubAccess.Server != strings.TrimRight(hub.Config.Host, "/") {
		t.Fatalf("hub access %s", dump(res.HubAccess))
	}
	eso, token := esoView(ctx, t, target)
	s, err := eso.CoreV1().Secrets("client-clienta").Get(ctx, "grafana-admin", metav1.GetOptions{})
	if err != nil || string(s.Data["admin-password"]) != "pw-clientA" {
		t.Errorf("reading its own client's Secret: %v", err)
	}
	if _, err := eso.CoreV1().Secrets("client-clientb").Get(ctx, "grafana-admin", metav1.GetOptions{}); !apierrors.IsForbidden(err) {
		t.Errorf("reading another client's Secret: %v, want Forbidden", err)
	}
	if _, err := eso.CoreV1().Secrets("client-clientb").List(ctx, metav1.ListOptions{}); !apierrors.IsForbidden(err) {
		t.Errorf("listing another client's Secrets: %v, want Forbidden", err)
	}

	// rotate with the hub only (the stored Argo CD credentials reach the target): a new hub
	// token, which works.
	rot, err := (&ClusterRotate{Config: &Configuration{RepoDir: cfg.RepoDir, Hub: cfg.Hub}, Names: []string{"eks-a"}}).Run(ctx)
	if err != nil || rot[0].HubAccess == nil {
		t.Fatalf("rotate: %v %s", err, dump(rot))
	}
	eso2, token2 := esoView(ctx, t, target)
	if token2 == token {
		t.Error("rotate kept the same hub token")
	}
	if _, err := eso2.CoreV1().Secrets("client-clienta").Get(ctx, "grafana-admin", metav1.GetOptions{}); err != nil {
		t.Errorf("the rotated hub token does not read its client's Secret: %v", err)
	}
	// Outside the window the hub token is left alone.
	rot, err = (&ClusterRotate{Config: &Configuration{RepoDir: cfg.RepoDir, Hub: cfg.Hub}, Names: []string{"eks-a"}, ExpiringWithin: 24 * time.Hour}).Run(ctx)
	if err != nil || rot[0].HubAccess != nil || !strings.Contains(rot[0].HubSkipped, "not within") {
		t.Errorf("rotate outside the window: %v %s", err, dump(rot))
	}

	// remove --revoke: the hub ServiceAccount and binding and the target's hub-credentials go;
	// the hub token stops working; the client's Secrets stay.
	rm := &ClusterRemove{Config: cfg, Name: "eks-a", Revoke: true}
	plan, err := rm.Plan(ctx)
	if err != nil {
		t.Fatal(err)
	}
	done, err := rm.Run(ctx, plan)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(done, "\n"), "ServiceAccount client-clienta/eso-eks-a") {
		t.Errorf("remove: %s", dump(done))
	}
	if _, err := hub.Client.CoreV1().ServiceAccounts("client-clienta").Get(ctx, "eso-eks-a", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("hub ServiceAccount after remove --revoke: %v", err)
	}
	if _, err := hub.Client.RbacV1().RoleBindings("client-clienta").Get(ctx, "eso-eks-a", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("hub RoleBinding after remove --revoke: %v", err)
	}
	if _, err := target.Client.CoreV1().Secrets("external-secrets").Get(ctx, "hub-credentials", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("hub-credentials after remove --revoke: %v", err)
	}
	if err := kube.WaitFor(ctx, 200*time.Millisecond, func(ctx context.Context) (bool, error) {
		_, err := eso2.CoreV1().Secrets("client-clienta").Get(ctx, "grafana-admin", metav1.GetOptions{})
		return apierrors.IsUnauthorized(err), nil
	}); err != nil {
		t.Errorf("the hub token still works after remove --revoke")
	}
	if _, err := hub.Client.CoreV1().Secrets("client-clienta").Get(ctx, "grafana-admin", metav1.GetOptions{}); err != nil {
		t.Errorf("the client's Secret: %v", err)
	}
}
