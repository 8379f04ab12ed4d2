package onboard_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"maps"
	"net"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"

	"github.com/gitops-hub/gitops-hub/internal/testenv"
	"github.com/gitops-hub/gitops-hub/pkg/kube"
	"github.com/gitops-hub/gitops-hub/pkg/onboard"
	"github.com/gitops-hub/gitops-hub/pkg/registry"
)

// entry parses a registry entry the way clusters/<name>/cluster.yaml is read.
func entry(t *testing.T, doc string) *registry.Cluster {
	t.Helper()
	cs, err := registry.Parse("cluster.yaml", []byte(doc))
	if err != nil || len(cs) != 1 {
		t.Fatalf("registry.Parse: %v (%d entries)", err, len(cs))
	}
	return cs[0]
}

const clientAEntry = `apiVersion: v1
kind: Secret
metadata:
  name: eks-develop-clienta-services
  namespace: argocd
  labels:
    argocd.argoproj.io/secret-type: cluster
    environment: develop
    client: clientA
    enable_argocd: "true"
    enable_backstage: "true"
  annotations:
    addons_repo_url: https://example.com/gitops-hub.git
    addons_repo_revision: main
type: Opaque
stringData:
  name: eks-develop-clientA-services
  server: https://ABC.gr7.eu-west-1.eks.amazonaws.com
`

// clientAEdited is clientAEntry after a Git change: enable_backstage removed,
// environment changed, a label and an annotation added, one annotation changed.
const clientAEdited = `apiVersion: v1
kind: Secret
metadata:
  name: eks-develop-clienta-services
  namespace: argocd
  labels:
    argocd.argoproj.io/secret-type: cluster
    environment: staging
    client: clientA
    enable_argocd: "true"
    enable_ingress_nginx: "true"
  annotations:
    addons_repo_url: https://example.com/gitops-hub.git
    addons_repo_revision: v2
    addons_chart_repository: https://charts.example.com
type: Opaque
stringData:
  name: eks-develop-clientA-services
  server: https://ABC.gr7.eu-west-1.eks.amazonaws.com
`

func TestClusterConfigJSON(t *testing.T) {
	// The shape of declarative-setup.md "Clusters" (bearer token + CA).
	cfg := onboard.ClusterConfig{BearerToken: "tok", TLSClientConfig: onboard.TLSClientConfig{CAData: []byte("ca")}}
	got, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"bearerToken":"tok","tlsClientConfig":{"insecure":false,"caData":"Y2E="}}`; string(got) != want {
		t.Errorf("config JSON\n got %s\nwant %s", got, want)
	}
}

func startHub(ctx context.Context, t *testing.T, opts testenv.Options, names ...string) *testenv.Env {
	t.Helper()
	env := testenv.New(ctx, t, opts, names...)
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: onboard.DefaultNamespace}}
	if _, err := env.Cluster("hub").Client.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	return env
}

func hubSecret(ctx context.Context, t *testing.T, hub *kube.Cluster, name string) *corev1.Secret {
	t.Helper()
	s, err := hub.Client.CoreV1().Secrets(onboard.DefaultNamespace).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// asArgoCD builds the client Argo CD builds from a cluster Secret.
func asArgoCD(t *testing.T, s *corev1.Secret) (*kube.Cluster, *onboard.ClusterConfig) {
	t.Helper()
	server, cfg, err := onboard.ParseClusterSecret(s)
	if err != nil {
		t.Fatal(err)
	}
	c, err := kube.NewForConfig("argocd-view-of-"+string(s.Data["name"]), cfg.RESTConfig(server))
	if err != nil {
		t.Fatal(err)
	}
	return c, cfg
}

func checkMeta(t *testing.T, s *corev1.Secret, want *registry.Cluster) {
	t.Helper()
	if !maps.Equal(s.Labels, want.Labels) {
		t.Errorf("labels\n got %v\nwant %v", s.Labels, want.Labels)
	}
	if !maps.Equal(s.Annotations, want.Annotations) {
		t.Errorf("annotations\n got %v\nwant %v", s.Annotations, want.Annotations)
	}
	if got := string(s.Data["name"]); got != want.Name {
		t.Errorf("data.name %q, want %q", got, want.Name)
	}
	if s.Type != corev1.SecretTypeOpaque {
		t.Errorf("type %s", s.Type)
	}
}

func TestRegister(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	env := startHub(ctx, t, testenv.Options{}, "hub", "hosting", "spare")
	hub, hosting := env.Cluster("hub"), env.Cluster("hosting")
	git := entry(t, clientAEntry)

	// A bare apiserver has no token controller: the default wait (5 s) runs
	// out and the TokenRequest fallback mints the token.
	start := time.Now()
	ret, err := onboard.Register(ctx, hub, hosting, git, onboard.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("first registration took %s", time.Since(start).Round(time.Millisecond))
	s := hubSecret(ctx, t, hub, git.SecretName)
	if ret.UID != s.UID {
		t.Errorf("returned Secret uid %s, hub has %s", ret.UID, s.UID)
	}
	checkMeta(t, s, git)
	if got := string(s.Data["server"]); got != hosting.Config.Host {
		t.Errorf("data.server %q, want the hosting apiserver %q", got, hosting.Config.Host)
	}
	if len(s.Data) != 3 {
		t.Errorf("data keys %v, want name, server, config", slicesKeys(s.Data))
	}

	// config has exactly Argo CD's shape, with the hosting cluster's CA.
	var raw map[string]any
	if err := json.Unmarshal(s.Data["config"], &raw); err != nil {
		t.Fatal(err)
	}
	tls, _ := raw["tlsClientConfig"].(map[string]any)
	if len(raw) != 2 || raw["bearerToken"] == "" || tls == nil || tls["insecure"] != false || len(tls) != 2 {
		t.Errorf("config keys: %v / tlsClientConfig keys: %v", slicesKeys(raw), slicesKeys(tls))
	}
	ca, err := base64.StdEncoding.DecodeString(tls["caData"].(string))
	if err != nil {
		t.Fatal("caData is not base64:", err)
	}
	if string(ca) != string(env.PKI("hosting").CAData) {
		t.Error("caData is not the hosting cluster's CA")
	}

	// The token works against the hosting apiserver, as Argo CD will use it.
	argo, _ := asArgoCD(t, s)
	checkArgoCDAccess(ctx, t, argo, "guestbook")

	// ...and not against the hub (each cluster signs its own tokens).
	atHub := rest.CopyConfig(argo.Config)
	atHub.Host = hub.Config.Host
	atHub.CAData = env.PKI("hub").CAData
	argoAtHub, err := kube.NewForConfig("token-at-hub", atHub)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := argoAtHub.Client.CoreV1().Namespaces().List(ctx, metav1.ListOptions{}); !apierrors.IsUnauthorized(err) {
		t.Errorf("hosting token against the hub: %v, want Unauthorized", err)
	}

	fast := onboard.Options{TokenWait: time.Second}

	t.Run("re-register applies Git's labels and annotations", func(t *testing.T) {
		edited := entry(t, clientAEdited)
		if _, err := onboard.Register(ctx, hub, hosting, edited, fast); err != nil {
			t.Fatal(err)
		}
		s := hubSecret(ctx, t, hub, edited.SecretName)
		checkMeta(t, s, edited)
		if _, ok := s.Labels["enable_backstage"]; ok {
			t.Error("label enable_backstage removed in Git is still on the Secret")
		}
		argo, _ := asArgoCD(t, s)
		checkArgoCDAccess(ctx, t, argo, "guestbook-2")
	})

	t.Run("idempotent", func(t *testing.T) {
		for i := 0; i < 2; i++ {
			if _, err := onboard.Register(ctx, hub, hosting, git, fast); err != nil {
				t.Fatalf("registration %d: %v", i+1, err)
			}
		}
		checkMeta(t, hubSecret(ctx, t, hub, git.SecretName), git)
		list, err := hub.Client.CoreV1().Secrets(onboard.DefaultNamespace).List(ctx, metav1.ListOptions{LabelSelector: registry.SecretTypeLabel + "=cluster"})
		if err != nil {
			t.Fatal(err)
		}
		if len(list.Items) != 1 {
			t.Errorf("%d cluster Secrets in the hub, want 1", len(list.Items))
		}
		crb, err := hosting.Client.RbacV1().ClusterRoleBindings().Get(ctx, onboard.ClusterRoleBindingName, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if len(crb.Subjects) != 1 || crb.Subjects[0].Name != onboard.DefaultServiceAccount || crb.Subjects[0].Namespace != "kube-system" || crb.RoleRef.Name != onboard.ClusterRoleName {
			t.Errorf("ClusterRoleBinding %+v -> %+v", crb.Subjects, crb.RoleRef)
		}
		role, err := hosting.Client.RbacV1().ClusterRoles().Get(ctx, onboard.ClusterRoleName, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if len(role.Rules) != 2 || len(role.Rules[1].NonResourceURLs) != 1 {
			t.Errorf("ClusterRole rules %+v", role.Rules)
		}
		// The token of every registration keeps working.
		argo, _ := asArgoCD(t, hubSecret(ctx, t, hub, git.SecretName))
		if _, err := argo.Client.CoreV1().Namespaces().List(ctx, metav1.ListOptions{}); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("duplicate cluster name is refused", func(t *testing.T) {
		dup := *git
		dup.SecretName = "another-secret"
		_, err := onboard.Register(ctx, hub, env.Cluster("spare"), &dup, fast)
		if err == nil || !strings.Contains(err.Error(), "already registers a cluster named") {
			t.Fatalf("err = %v", err)
		}
	})

	t.Run("unregister", func(t *testing.T) {
		if err := onboard.Unregister(ctx, hub, git.Name, onboard.Options{}); err != nil {
			t.Fatal(err)
		}
		if _, err := hub.Client.CoreV1().Secrets(onboard.DefaultNamespace).Get(ctx, git.SecretName, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			t.Fatalf("Secret still there: %v", err)
		}
		err := onboard.Unregister(ctx, hub, git.Name, onboard.Options{})
		if !errors.Is(err, onboard.ErrNotRegistered) {
			t.Fatalf("second Unregister: %v, want ErrNotRegistered", err)
		}
	})

	t.Run("remove manager", func(t *testing.T) {
		if err := onboard.RemoveManager(ctx, hosting, onboard.Options{}); err != nil {
			t.Fatal(err)
		}
		if err := onboard.RemoveManager(ctx, hosting, onboard.Options{}); err != nil {
			t.Fatal("second RemoveManager:", err)
		}
		if _, err := hosting.Client.CoreV1().ServiceAccounts("kube-system").Get(ctx, onboard.DefaultServiceAccount, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			t.Errorf("ServiceAccount: %v", err)
		}
		if _, err := hosting.Client.RbacV1().ClusterRoles().Get(ctx, onboard.ClusterRoleName, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			t.Errorf("ClusterRole: %v", err)
		}
	})

	t.Run("unreachable hosting cluster fails fast naming it", func(t *testing.T) {
		if err := env.Stop("spare"); err != nil {
			t.Fatal(err)
		}
		other := entry(t, strings.NewReplacer("eks-develop-clienta-services", "eks-develop-clientb-services", "clientA", "clientB").Replace(clientAEntry))
		rctx, rcancel := context.WithTimeout(ctx, 30*time.Second)
		defer rcancel()
		start := time.Now()
		_, err := onboard.Register(rctx, hub, env.Cluster("spare"), other, onboard.Options{})
		took := time.Since(start)
		if err == nil {
			t.Fatal("registered a stopped cluster")
		}
		t.Logf("error after %s: %v", took.Round(time.Millisecond), err)
		if !strings.Contains(err.Error(), `"eks-develop-clientB-services"`) || !strings.Contains(err.Error(), "unreachable") {
			t.Errorf("error does not name the cluster or say it is unreachable: %v", err)
		}
		if took > 10*time.Second {
			t.Errorf("took %s to fail", took)
		}
		if _, err := hub.Client.CoreV1().Secrets(onboard.DefaultNamespace).Get(ctx, other.SecretName, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			t.Errorf("a Secret was written for the unreachable cluster: %v", err)
		}
	})
}

// TestRegisterHungCluster: a hosting "apiserver" that accepts connections
// and never answers fails at the caller's deadline, naming the cluster.
func TestRegisterHungCluster(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0") // never accepts: the TLS handshake hangs
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	hung, err := kube.NewForConfig("hung", &rest.Config{Host: "https://" + ln.Addr().String()})
	if err != nil {
		t.Fatal(err)
	}
	hub, err := kube.NewForConfig("no-hub", &rest.Config{Host: "https://127.0.0.1:1"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	start := time.Now()
	_, err = onboard.Register(ctx, hub, hung, entry(t, clientAEntry), onboard.Options{})
	took := time.Since(start)
	if err == nil || !strings.Contains(err.Error(), `"eks-develop-clientA-services"`) || !strings.Contains(err.Error(), `"hung"`) || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v; want it to name the cluster and wrap context.DeadlineExceeded", err)
	}
	if took > 5*time.Second {
		t.Errorf("took %s with a 2s deadline", took)
	}
}

// TestRegisterWithTokenController: with kube-controller-manager running, the
// token comes from the long-lived token Secret, as with `argocd cluster add`.
func TestRegisterWithTokenController(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	env := startHub(ctx, t, testenv.Options{ControllerManager: true}, "hub", "hosting")
	hub, hosting := env.Cluster("hub"), env.Cluster("hosting")
	git := entry(t, clientAEntry)
	if _, err := onboard.Register(ctx, hub, hosting, git, onboard.Options{TokenWait: time.Minute}); err != nil {
		t.Fatal(err)
	}
	s := hubSecret(ctx, t, hub, git.SecretName)
	checkMeta(t, s, git)
	argo, cfg := asArgoCD(t, s)
	tokSecret, err := hosting.Client.CoreV1().Secrets("kube-system").Get(ctx, onboard.DefaultServiceAccount+onboard.TokenSecretSuffix, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.BearerToken != string(tokSecret.Data[corev1.ServiceAccountTokenKey]) {
		t.Error("the registered token is not the token controller's")
	}
	checkArgoCDAccess(ctx, t, argo, "guestbook")
}

// checkArgoCDAccess does what Argo CD does with the credentials: list
// namespaces, create a namespace and a Deployment in it.
func checkArgoCDAccess(ctx context.Context, t *testing.T, argo *kube.Cluster, ns string) {
	t.Helper()
	if _, err := argo.Client.CoreV1().Namespaces().List(ctx, metav1.ListOptions{}); err != nil {
		t.Fatalf("list namespaces with the registered token: %v", err)
	}
	if _, err := argo.Client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create namespace with the registered token: %v", err)
	}
	labels := map[string]string{"app": "guestbook"}
	dep := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "guestbook", Namespace: ns},
		Spec: appsv1.DeploymentSpec{
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "guestbook", Image: "example.invalid/guestbook:1"}}},
			},
		},
	}
	if _, err := argo.Client.AppsV1().Deployments(ns).Create(ctx, dep, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create a Deployment with the registered token: %v", err)
	}
}

func slicesKeys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
