package action

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

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
	"github.com/gitops-hub/gitops-hub/pkg/status"
)

// hubClusterSecret is a hub cluster Secret registering name at server with config.
func hubClusterSecret(name, server, env string, config string) *corev1.Secret {
	return &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "cluster-" + name, Namespace: "argocd", Labels: map[string]string{
			conventions.SecretTypeLabel: conventions.SecretTypeCluster, conventions.EnvironmentLabel: env,
		}},
		Data: map[string][]byte{onboard.KeyName: []byte(name), onboard.KeyServer: []byte(server), onboard.KeyConfig: []byte(config)},
	}
}

func clientConfigJSON(t *testing.T, cc onboard.ClusterConfig) string {
	t.Helper()
	b, err := json.Marshal(cc)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func dynWithApps(t *testing.T, objs ...runtime.Object) *dynamicfake.FakeDynamicClient {
	t.Helper()
	return dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(), map[schema.GroupVersionResource]string{
		status.ApplicationsGVR: "ApplicationList", status.SecretsGVR: "SecretList",
	}, objs...)
}

func clientApp(name, ns, sync, health string) runtime.Object {
	u := map[string]any{
		"apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
		"metadata": map[string]any{"name": name, "namespace": ns},
		"spec":     map[string]any{"project": "default", "destination": map[string]any{"server": "https://kubernetes.default.svc", "namespace": name}},
		"status":   map[string]any{"sync": map[string]any{"status": sync, "revision": "1.0.0"}, "health": map[string]any{"status": health}},
	}
	return &unstructured.Unstructured{Object: u}
}

// TestStatusClientsWithFakes: the client view reads each registered cluster with exactly the
// credentials of its hub Secret (token, awsAuthConfig), lists the client namespace there, and
// shows every failure for its cluster only.
func TestStatusClientsWithFakes(t *testing.T) {
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done() // never answers
	}))
	defer hang.Close()
	secrets := []runtime.Object{
		hubClusterSecret("a", "https://a.example", "develop", clientConfigJSON(t, onboard.ClusterConfig{BearerToken: "token-a", TLSClientConfig: onboard.TLSClientConfig{CAData: []byte("CA-A")}})),
		hubClusterSecret("b", "https://b.example", "prod", clientConfigJSON(t, onboard.ClusterConfig{AWSAuthConfig: &onboard.AWSAuthConfig{ClusterName: "eks-b", RoleARN: "arn:aws:iam::1:role/r"}})),
		hubClusterSecret("c", "https://c.example", "prod", clientConfigJSON(t, onboard.ClusterConfig{BearerToken: "revoked"})),
		hubClusterSecret("broken", "https://broken.example", "prod", `{"bearerToken": "do-not-print-me"`),
		hubClusterSecret("slow", hang.URL, "prod", clientConfigJSON(t, onboard.ClusterConfig{BearerToken: "token-slow", TLSClientConfig: onboard.TLSClientConfig{Insecure: true}})),
		hubClusterSecret("hub-itself", "https://kubernetes.default.svc", "", clientConfigJSON(t, onboard.ClusterConfig{})),
	}
	hub := &kube.Cluster{Name: "hub", Config: &rest.Config{Host: "https://hub.example"}, Client: fake.NewClientset(secrets...), Dynamic: dynWithApps(t)}

	var mu sync.Mutex
	seen := map[string]*rest.Config{}
	connect := func(name string, cfg *rest.Config) (*kube.Cluster, error) {
		mu.Lock()
		seen[cfg.Host] = rest.CopyConfig(cfg)
		mu.Unlock()
		switch cfg.Host {
		case "https://a.example":
			return &kube.Cluster{Name: name, Config: cfg, Dynamic: dynWithApps(t,
				clientApp("guestbook", "clients-argocd", "Synced", "Healthy"),
				clientApp("payments", "clients-argocd", "OutOfSync", "Degraded"),
				clientApp("not-the-clients", "argocd", "OutOfSync", "Missing"))}, nil
		case "https://b.example":
			d := dynWithApps(t)
			d.PrependReactor("list", "applications", func(clienttesting.Action) (bool, runtime.Object, error) {
				return true, nil, apierrors.NewNotFound(schema.GroupResource{Group: "argoproj.io", Resource: "applications"}, "")
			})
			return &kube.Cluster{Name: name, Config: cfg, Dynamic: d}, nil
		case "https://c.example":
			d := dynWithApps(t)
			d.PrependReactor("list", "applications", func(clienttesting.Action) (bool, runtime.Object, error) {
				return true, nil, apierrors.NewUnauthorized("Unauthorized")
			})
			return &kube.Cluster{Name: name, Config: cfg, Dynamic: d}, nil
		}
		return kube.NewForConfig(name, cfg) // slow: a real client, bounded by ClientTimeout
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	s := &Status{Hub: hub, Clients: true, ClientNamespace: "clients-argocd", ClientTimeout: time.Second, Connect: connect}
	f, err := s.Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range f.Clients {
		got = append(got, c.Cluster+"="+c.State)
	}
	if strings.Join(got, ",") != "a=Read,b=NotInstalled,broken=Unavailable,c=Unavailable,slow=Unavailable" {
		t.Errorf("clusters: %s (the hub itself, in-cluster, is not a hosting cluster)", strings.Join(got, ","))
	}
	byName := map[string]status.ClientArgoCD{}
	for _, c := range f.Clients {
		byName[c.Cluster] = c
		t.Logf("%s: %s %s", c.Cluster, c.State, c.Error)
	}
	var apps []string
	for _, a := range byName["a"].Apps {
		apps = append(apps, a.Name+"@"+a.Cluster+"="+a.Sync+"/"+a.Health+"/"+a.Environment)
	}
	if strings.Join(apps, ",") != "guestbook@a=Synced/Healthy/develop,payments@a=OutOfSync/Degraded/develop" {
		t.Errorf("cluster a: %s", strings.Join(apps, ","))
	}
	for name, want := range map[string][]string{
		"b":      {"cluster b (https://b.example)", "list applications.argoproj.io in namespace clients-argocd", "no Argo CD there"},
		"c":      {"cluster c (https://c.example)", "list applications.argoproj.io in namespace clients-argocd", "Unauthorized"},
		"broken": {"cluster broken", "its credentials on the hub", "not valid JSON"},
		"slow":   {"cluster slow (" + hang.URL + ")", "list applications.argoproj.io in namespace clients-argocd", "exceeded"},
	} {
		for _, w := range want {
			if !strings.Contains(byName[name].Error, w) {
				t.Errorf("%s: error %q lacks %q", name, byName[name].Error, w)
			}
		}
		if strings.Contains(byName[name].Error, "do-not-print-me") {
			t.Errorf("%s: the error quotes the stored credentials", name)
		}
	}
	// Exactly the stored credentials, as Argo CD builds them.
	if a := seen["https://a.example"]; a == nil || a.BearerToken != "token-a" || string(a.CAData) != "CA-A" || a.Timeout != time.Second {
		t.Errorf("cluster a config: %+v", a)
	}
	if b := seen["https://b.example"]; b == nil || b.ExecProvider == nil || b.ExecProvider.Command != onboard.AWSAuthCommand ||
		strings.Join(b.ExecProvider.Args, " ") != "aws --cluster-name eks-b --role-arn arn:aws:iam::1:role/r" || b.BearerToken != "" {
		t.Errorf("cluster b config (awsAuthConfig): %+v", b)
	}
	if _, ok := seen["https://kubernetes.default.svc"]; ok {
		t.Error("the hub itself (in-cluster) was read as a hosting cluster")
	}
	cs := f.ClientSummary()
	if cs.Total != 2 || cs.Ready != 1 || cs.Findings() != 4 || strings.Join(cs.NotInstalled, ",") != "b" {
		t.Errorf("client summary %+v", cs)
	}
}

func TestStatusWithoutClientsReadsNoCredentials(t *testing.T) {
	secrets := fake.NewClientset(hubClusterSecret("a", "https://a.example", "develop", `{"bearerToken":"t"}`))
	secrets.PrependReactor("list", "secrets", func(clienttesting.Action) (bool, runtime.Object, error) {
		return true, nil, errors.New("the typed Secrets were read")
	})
	hub := &kube.Cluster{Name: "hub", Config: &rest.Config{Host: "https://hub.example"}, Client: secrets, Dynamic: dynWithApps(t)}
	connect := func(string, *rest.Config) (*kube.Cluster, error) {
		return nil, errors.New("connected to a hosting cluster")
	}
	f, err := (&Status{Hub: hub, Connect: connect}).Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if f.Clients != nil {
		t.Errorf("clients read without Clients: %+v", f.Clients)
	}
	// With Clients, a hub whose cluster Secrets cannot be listed fails, naming the call.
	_, err = (&Status{Hub: hub, Connect: connect, Clients: true}).Run(context.Background())
	if err == nil || !strings.Contains(err.Error(), "list cluster Secrets in namespace argocd") || !strings.Contains(err.Error(), "--clients") {
		t.Errorf("err = %v", err)
	}
}

// With --watch, every print has the client view, read again.
func TestStatusWatchReadsClients(t *testing.T) {
	secrets := fake.NewClientset(hubClusterSecret("a", "https://a.example", "develop", `{"bearerToken":"t"}`))
	hub := &kube.Cluster{Name: "hub", Config: &rest.Config{Host: "https://hub.example"}, Client: secrets, Dynamic: dynWithApps(t)}
	var mu sync.Mutex
	reads := 0
	connect := func(name string, cfg *rest.Config) (*kube.Cluster, error) {
		mu.Lock()
		reads++
		mu.Unlock()
		return &kube.Cluster{Name: name, Config: cfg, Dynamic: dynWithApps(t, clientApp("guestbook", "argocd", "Synced", "Healthy"))}, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var got *status.Fleet
	err := (&Status{Hub: hub, Clients: true, Connect: connect}).Watch(ctx, func(f *status.Fleet) error {
		got = f
		cancel()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got == nil || len(got.Clients) != 1 || got.Clients[0].State != status.ClientRead || len(got.Clients[0].Apps) != 1 || reads != 1 {
		t.Errorf("watch print: %+v (reads %d)", got, reads)
	}
}
