package action

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/client-go/rest"
	clienttesting "k8s.io/client-go/testing"

	"github.com/gitops-hub/gitops-hub/pkg/conventions"
	"github.com/gitops-hub/gitops-hub/pkg/kube"
	"github.com/gitops-hub/gitops-hub/pkg/onboard"
	"github.com/gitops-hub/gitops-hub/pkg/registry"
)

// jwt makes a JWT-shaped token with an exp claim (unsigned: hubctl only reads exp).
func jwt(exp time.Time, id string) string {
	enc := base64.RawURLEncoding.EncodeToString
	payload, _ := json.Marshal(map[string]any{"exp": exp.Unix(), "jti": id})
	return enc([]byte(`{"alg":"RS256"}`)) + "." + enc(payload) + "." + enc([]byte("sig"))
}

var crdGVR = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}

// fakeHub is a hub with the argocd namespace and, with argo, Argo CD's CRDs.
func fakeHub(argo bool) *kube.Cluster {
	var crds []runtime.Object
	if argo {
		for _, n := range []string{"applications.argoproj.io", "applicationsets.argoproj.io", "appprojects.argoproj.io"} {
			u := &unstructured.Unstructured{}
			u.SetAPIVersion("apiextensions.k8s.io/v1")
			u.SetKind("CustomResourceDefinition")
			u.SetName(n)
			crds = append(crds, u)
		}
	}
	dyn := dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(), map[schema.GroupVersionResource]string{crdGVR: "CustomResourceDefinitionList"}, crds...)
	cs := fake.NewClientset(&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "argocd"}})
	return &kube.Cluster{Name: "hub", Config: &rest.Config{Host: "https://hub.example.com"}, Client: cs, Dynamic: dyn}
}

// fakeTarget is a target whose TokenRequests answer tokens expiring after the asked lifetime.
func fakeTarget(now time.Time) (*kube.Cluster, *int) {
	cs := fake.NewClientset()
	n := tokenReactor(cs, now)
	return &kube.Cluster{Name: "target", Config: &rest.Config{Host: "https://target.example.com:6443", TLSClientConfig: rest.TLSClientConfig{CAData: []byte("CA")}}, Client: cs}, n
}

// tokenReactor makes cs answer TokenRequests with tokens expiring after the asked lifetime
// (from now); it returns the count of tokens minted.
func tokenReactor(cs *fake.Clientset, now time.Time) *int {
	n := new(int)
	var mu sync.Mutex
	cs.PrependReactor("create", "serviceaccounts", func(a clienttesting.Action) (bool, runtime.Object, error) {
		ca, ok := a.(clienttesting.CreateAction)
		if !ok || ca.GetSubresource() != "token" {
			return false, nil, nil
		}
		tr := ca.GetObject().(*authenticationv1.TokenRequest).DeepCopy()
		mu.Lock()
		*n++
		id := *n
		mu.Unlock()
		exp := now.Add(time.Duration(*tr.Spec.ExpirationSeconds) * time.Second)
		tr.Status = authenticationv1.TokenRequestStatus{Token: jwt(exp, fmt.Sprint(id)), ExpirationTimestamp: metav1.NewTime(exp)}
		return true, tr, nil
	})
	return n
}

// connector records the configs it is given; a config is accepted when accept says so.
type connector struct {
	mu      sync.Mutex
	configs []*rest.Config
	accept  func(*rest.Config) error
}

func (c *connector) connect(name string, cfg *rest.Config) (*kube.Cluster, error) {
	c.mu.Lock()
	c.configs = append(c.configs, rest.CopyConfig(cfg))
	c.mu.Unlock()
	cs := fake.NewClientset()
	accept := c.accept
	cs.PrependReactor("list", "*", func(a clienttesting.Action) (bool, runtime.Object, error) {
		if accept != nil {
			if err := accept(cfg); err != nil {
				return true, nil, err
			}
		}
		return false, nil, nil
	})
	return &kube.Cluster{Name: name, Config: cfg, Client: cs}, nil
}

func copyTree(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS("testdata/tree")); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestClusterAddWithFakes(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	hub := fakeHub(true)
	hub.Config.TLSClientConfig.CAData = []byte("HUB CA")
	hubTokens := tokenReactor(hub.Client.(*fake.Clientset), now)
	target, tokens := fakeTarget(now)
	conn := &connector{}
	repo := copyTree(t)
	var progress bytes.Buffer
	cfg := &Configuration{
		RepoDir: repo, Progress: &progress, Now: func() time.Time { return now },
		Hub: func() (*kube.Cluster, error) { return hub, nil }, Target: func() (*kube.Cluster, error) { return target, nil },
		Connect: conn.connect,
	}
	add := &ClusterAdd{Config: cfg, Name: "eks-new", Environment: "develop", Client: "clientC", Enable: []string{"web"},
		Annotations: map[string]string{"team": "a"}, TokenTTL: 48 * time.Hour}
	res, err := add.Run(ctx)
	if err != nil {
		t.Fatalf("%v\n%s", err, progress.String())
	}
	if !res.EntryWritten || res.Entry != "clusters/eks-new/cluster.yaml" || res.Credential != "token" {
		t.Errorf("result %+v", res)
	}
	// The registry entry: labels and annotations from the flags and the root Application.
	data, err := os.ReadFile(filepath.Join(repo, res.Entry))
	if err != nil {
		t.Fatal(err)
	}
	cs, err := registry.Parse(res.Entry, data)
	if err != nil {
		t.Fatalf("the written entry does not parse: %v\n%s", err, data)
	}
	e := cs[0]
	if e.Name != "eks-new" || e.Server != "https://target.example.com:6443" || e.Labels["environment"] != "develop" || e.Labels["client"] != "clientC" ||
		e.Labels["enable_web"] != "true" || e.Annotations["team"] != "a" || e.Annotations["addons_repo_url"] != "https://git.example.com/fleet.git" || e.SecretName != "cluster-eks-new" {
		t.Errorf("entry %+v", e)
	}
	// The hub Secret: the entry's labels and annotations, hubctl's, and exactly the verified token.
	s, err := hub.Client.CoreV1().Secrets("argocd").Get(ctx, "cluster-eks-new", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	server, cc, err := onboard.ParseClusterSecret(s)
	if err != nil {
		t.Fatal(err)
	}
	if server != "https://target.example.com:6443" || string(cc.TLSClientConfig.CAData) != "CA" || s.Labels["enable_web"] != "true" ||
		s.Annotations[conventions.GenerationAnnotation] != "1" || s.Annotations[conventions.ServiceAccountAnnotation] != "kube-system/hubctl-argocd-g1" {
		t.Errorf("Secret: server %s, labels %v, annotations %v", server, s.Labels, s.Annotations)
	}
	if len(conn.configs) != 1 || conn.configs[0].BearerToken != cc.BearerToken || conn.configs[0].Host != server {
		t.Errorf("the verification did not use exactly the stored credentials: %d calls", len(conn.configs))
	}
	if exp, ok := onboard.TokenExpiry(cc.BearerToken); !ok || !exp.Equal(now.Add(48*time.Hour)) || !res.Expires.Equal(exp) {
		t.Errorf("token expiry %v (%v), result %v", exp, ok, res.Expires)
	}
	// In the target: the generation's ServiceAccount, the role, the binding; no token Secret.
	tc := target.Client
	if _, err := tc.CoreV1().ServiceAccounts("kube-system").Get(ctx, "hubctl-argocd-g1", metav1.GetOptions{}); err != nil {
		t.Error(err)
	}
	if _, err := tc.RbacV1().ClusterRoleBindings().Get(ctx, "hubctl-argocd-g1", metav1.GetOptions{}); err != nil {
		t.Error(err)
	}
	role, err := tc.RbacV1().ClusterRoles().Get(ctx, "hubctl-argocd", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range role.Rules {
		for _, v := range r.Verbs {
			if v == "*" || v == "impersonate" {
				t.Errorf("role grants %q: not least privilege (%v)", v, r)
			}
		}
	}
	if secs, _ := tc.CoreV1().Secrets("kube-system").List(ctx, metav1.ListOptions{}); len(secs.Items) != 0 {
		t.Errorf("a token Secret was created in the target: %v", secs.Items[0].Name)
	}
	// The client label: the hub ServiceAccount of the cluster in the client's namespace, and
	// its token with the hub's URL and CA in the target's external-secrets/hub-credentials.
	if _, err := hub.Client.CoreV1().ServiceAccounts("client-clientc").Get(ctx, "eso-eks-new", metav1.GetOptions{}); err != nil {
		t.Errorf("hub ServiceAccount: %v", err)
	}
	hc, err := tc.CoreV1().Secrets("external-secrets").Get(ctx, "hub-credentials", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if exp, ok := onboard.TokenExpiry(string(hc.Data["token"])); !ok || !exp.Equal(now.Add(onboard.DefaultESOTokenTTL)) || *hubTokens != 1 ||
		string(hc.Data["server"]) != "https://hub.example.com" || string(hc.Data["ca.crt"]) != "HUB CA" {
		t.Errorf("hub-credentials: expiry %v, server %q, ca %q, %d hub tokens", exp, hc.Data["server"], hc.Data["ca.crt"], *hubTokens)
	}
	if res.HubAccess == nil || res.HubAccess.ServiceAccount != "client-clientc/eso-eks-new" || res.HubAccess.Credentials != "external-secrets/hub-credentials" {
		t.Errorf("result hub access %+v", res.HubAccess)
	}

	// Second run: the stored token is valid: nothing changes, no new token is minted.
	progress.Reset()
	res2, err := (&ClusterAdd{Config: cfg, Name: "eks-new", Environment: "ignored", TokenTTL: 48 * time.Hour}).Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !res2.Unchanged || res2.EntryWritten || *tokens != 1 {
		t.Errorf("second run: %+v, %d tokens minted", res2, *tokens)
	}
	if !strings.Contains(progress.String(), "exists: used as it is") {
		t.Errorf("second run did not say the entry is used as it is:\n%s", progress.String())
	}

	// A token close to its end is replaced by the next generation, and the previous one revoked.
	cfg.Now = func() time.Time { return now.Add(47 * time.Hour) }
	res3, err := (&ClusterAdd{Config: cfg, Name: "eks-new", TokenTTL: 48 * time.Hour}).Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if res3.Unchanged || res3.ServiceAccount != "kube-system/hubctl-argocd-g2" {
		t.Errorf("renewal: %+v", res3)
	}
	if _, err := tc.CoreV1().ServiceAccounts("kube-system").Get(ctx, "hubctl-argocd-g1", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("generation 1 ServiceAccount not revoked: %v", err)
	}
}

func TestClusterAddVerificationFailureWritesNothing(t *testing.T) {
	ctx := context.Background()
	hub := fakeHub(true)
	target, _ := fakeTarget(time.Now())
	repo := copyTree(t)
	conn := &connector{accept: func(*rest.Config) error {
		return apierrors.NewForbidden(schema.GroupResource{Resource: "namespaces"}, "", fmt.Errorf("RBAC: access denied"))
	}}
	cfg := &Configuration{RepoDir: repo, Hub: func() (*kube.Cluster, error) { return hub, nil }, Target: func() (*kube.Cluster, error) { return target, nil }, Connect: conn.connect}
	_, err := (&ClusterAdd{Config: cfg, Name: "eks-new", Environment: "develop", VerifyTimeout: 500 * time.Millisecond}).Run(ctx)
	if err == nil || !strings.Contains(err.Error(), "list namespaces with the stored credentials") || !strings.Contains(err.Error(), "nothing was written in the hub") {
		t.Fatalf("err = %v", err)
	}
	if secs, _ := hub.Client.CoreV1().Secrets("argocd").List(ctx, metav1.ListOptions{}); len(secs.Items) != 0 {
		t.Error("a hub Secret was written")
	}
	if _, err := os.Stat(filepath.Join(repo, "clusters/eks-new/cluster.yaml")); err == nil {
		t.Error("the registry entry was written")
	}
}

func TestClusterAddWithoutArgoCD(t *testing.T) {
	target, _ := fakeTarget(time.Now())
	cfg := &Configuration{RepoDir: copyTree(t), Hub: func() (*kube.Cluster, error) { return fakeHub(false), nil }, Target: func() (*kube.Cluster, error) { return target, nil }, Connect: (&connector{}).connect}
	_, err := (&ClusterAdd{Config: cfg, Name: "existing"}).Run(context.Background())
	if err == nil || !strings.Contains(err.Error(), "Argo CD is not installed on this cluster") || !strings.Contains(err.Error(), "hubctl bootstrap") {
		t.Fatalf("err = %v", err)
	}
}

func TestClusterAddEKSAndExec(t *testing.T) {
	ctx := context.Background()
	for name, add := range map[string]ClusterAdd{
		"aws":  {AWSClusterName: "prod-a", AWSRoleARN: "arn:aws:iam::1:role/deployer"},
		"exec": {Exec: &onboard.ExecProviderConfig{Command: "get-token", Args: []string{"--x"}, APIVersion: onboard.ExecAPIVersion}},
	} {
		t.Run(name, func(t *testing.T) {
			hub := fakeHub(true)
			target, tokens := fakeTarget(time.Now())
			conn := &connector{}
			add.Config = &Configuration{RepoDir: copyTree(t), Hub: func() (*kube.Cluster, error) { return hub, nil }, Target: func() (*kube.Cluster, error) { return target, nil }, Connect: conn.connect}
			add.Name = "existing"
			res, err := add.Run(ctx)
			if err != nil {
				t.Fatal(err)
			}
			s, _ := hub.Client.CoreV1().Secrets("argocd").Get(ctx, "cluster-existing", metav1.GetOptions{})
			_, cc, err := onboard.ParseClusterSecret(s)
			if err != nil {
				t.Fatal(err)
			}
			if res.Credential != name || cc.CredentialKind() != name || cc.BearerToken != "" || *tokens != 0 {
				t.Errorf("credential %s/%s, token %q, %d tokens minted", res.Credential, cc.CredentialKind(), cc.BearerToken, *tokens)
			}
			if sas, _ := target.Client.CoreV1().ServiceAccounts("kube-system").List(ctx, metav1.ListOptions{}); len(sas.Items) != 0 {
				t.Error("a ServiceAccount was created for non-token credentials")
			}
			ep := conn.configs[0].ExecProvider
			want := map[string]string{"aws": "argocd-k8s-auth aws --cluster-name prod-a --role-arn arn:aws:iam::1:role/deployer", "exec": "get-token --x"}[name]
			if ep == nil || strings.Join(append([]string{ep.Command}, ep.Args...), " ") != want {
				t.Errorf("verified with exec provider %+v, want %q", ep, want)
			}
		})
	}
}

func TestClusterListWithFakes(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	hub := fakeHub(true)
	secret := func(name, server, token string, labels map[string]string) *corev1.Secret {
		cfg, _ := json.Marshal(onboard.ClusterConfig{BearerToken: token})
		l := map[string]string{conventions.SecretTypeLabel: "cluster"}
		for k, v := range labels {
			l[k] = v
		}
		return &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "cluster-" + name, Namespace: "argocd", Labels: l,
			Annotations: map[string]string{"addons_repo_revision": "v2", conventions.GenerationAnnotation: "1"}},
			Data: map[string][]byte{"name": []byte(name), "server": []byte(server), "config": []byte(cfg)}}
	}
	for _, s := range []*corev1.Secret{
		secret("existing", "https://existing.example.com", jwt(now.Add(-time.Hour), "1"), map[string]string{"environment": "prod", "enable_web": "true", "enable_db": "true"}),
		secret("stray", "https://stray.example.com", jwt(now.Add(72*time.Hour), "2"), nil),
	} {
		if _, err := hub.Client.CoreV1().Secrets("argocd").Create(ctx, s, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	conn := &connector{accept: func(c *rest.Config) error {
		if exp, _ := onboard.TokenExpiry(c.BearerToken); exp.Before(now) {
			return apierrors.NewUnauthorized("token expired")
		}
		return nil
	}}
	cfg := &Configuration{RepoDir: copyTree(t), Now: func() time.Time { return now }, Hub: func() (*kube.Cluster, error) { return hub, nil }, Connect: conn.connect}
	rows, err := (&ClusterList{Config: cfg}).Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 {
		t.Fatalf("%d rows", len(rows))
	}
	ex, stray := rows[0], rows[1]
	if ex.Where != InBoth || !ex.Expired || ex.Reachable == nil || *ex.Reachable || !strings.Contains(ex.Error, "token expired") || !ex.Problem() {
		t.Errorf("existing: %+v", ex)
	}
	wantDrift := []string{`label enable_db="true" only in the hub`, `annotation addons_repo_revision: Git "v1", hub "v2"`}
	if strings.Join(ex.Drift, "|") != strings.Join(wantDrift, "|") {
		t.Errorf("drift %q, want %q", ex.Drift, wantDrift)
	}
	if stray.Where != OnlyHub || stray.Expired || *stray.DaysLeft != 3 || !*stray.Reachable || stray.Problem() {
		t.Errorf("stray: %+v", stray)
	}
	if len(conn.configs) != 2 {
		t.Errorf("%d reachability calls, want 2", len(conn.configs))
	}
}

func TestClusterRemovePlan(t *testing.T) {
	ctx := context.Background()
	hub := fakeHub(true)
	cfg, _ := json.Marshal(onboard.ClusterConfig{BearerToken: "secret-token"})
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "cluster-existing", Namespace: "argocd", UID: "u1",
		Labels: map[string]string{conventions.SecretTypeLabel: "cluster", "enable_web": "true", "enable_db": "true"}},
		Data: map[string][]byte{"name": []byte("existing"), "server": []byte("https://existing.example.com"), "config": cfg}}
	if _, err := hub.Client.CoreV1().Secrets("argocd").Create(ctx, s, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	repo := copyTree(t)
	rm := &ClusterRemove{Config: &Configuration{RepoDir: repo, Hub: func() (*kube.Cluster, error) { return hub, nil }}, Name: "existing"}
	plan, err := rm.Plan(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// The hub's labels decide (enable_db is only in the hub), not Git's.
	got := fmt.Sprint(plan.Apps)
	if want := "[{db-existing db false} {web-existing web true}]"; got != want {
		t.Errorf("apps %s, want %s", got, want)
	}
	if _, err := rm.Run(ctx, plan); err != nil {
		t.Fatal(err)
	}
	if _, err := hub.Client.CoreV1().Secrets("argocd").Get(ctx, "cluster-existing", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("Secret still there: %v", err)
	}
	if _, err := os.Stat(filepath.Join(repo, "clusters/existing/cluster.yaml")); err != nil {
		t.Errorf("the registry entry was touched without --delete-entry: %v", err)
	}
}

func TestClusterAddRefusesPathsOutOfTheTree(t *testing.T) {
	target, _ := fakeTarget(time.Now())
	hub := fakeHub(true)
	for _, name := range []string{"../escape", "a/b", "", "-x"} {
		cfg := &Configuration{RepoDir: copyTree(t), Hub: func() (*kube.Cluster, error) { return hub, nil }, Target: func() (*kube.Cluster, error) { return target, nil }, Connect: (&connector{}).connect}
		if _, err := (&ClusterAdd{Config: cfg, Name: name, Environment: "develop"}).Run(context.Background()); err == nil || !strings.Contains(err.Error(), "cluster name") {
			t.Errorf("name %q: %v", name, err)
		}
	}
	// clusters/ is a link out of the repository: nothing is written there.
	repo, outside := copyTree(t), t.TempDir()
	if err := os.RemoveAll(filepath.Join(repo, "clusters")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(repo, "clusters")); err != nil {
		t.Fatal(err)
	}
	cfg := &Configuration{RepoDir: repo, Hub: func() (*kube.Cluster, error) { return hub, nil }, Target: func() (*kube.Cluster, error) { return target, nil }, Connect: (&connector{}).connect}
	_, err := (&ClusterAdd{Config: cfg, Name: "eks-new", Environment: "develop"}).Run(context.Background())
	if err == nil || !strings.Contains(err.Error(), "leads out of the repository") {
		t.Errorf("symlinked clusters/: %v", err)
	}
	if entries, _ := os.ReadDir(outside); len(entries) != 0 {
		t.Errorf("wrote outside the repository: %v", entries)
	}
	if secs, _ := hub.Client.CoreV1().Secrets("argocd").List(context.Background(), metav1.ListOptions{}); len(secs.Items) != 0 {
		t.Error("the hub Secret was written although the entry cannot be")
	}
}
