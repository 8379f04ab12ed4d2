package cmd

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/gitops-hub/gitops-hub/internal/testenv"
	"github.com/gitops-hub/gitops-hub/pkg/kube"
	"github.com/gitops-hub/gitops-hub/pkg/onboard"
	"github.com/gitops-hub/gitops-hub/pkg/status"
)

func TestStatusClientsFlagErrors(t *testing.T) {
	t.Setenv("HUBCTL_STATE_DIR", "")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"status", "--context", "x", "--client-namespace", "apps"}, "add --clients"},
		{[]string{"status", "--context", "x", "--client-timeout", "3s"}, "add --clients"},
		{[]string{"status", "--context", "x", "--clients", "--client-timeout", "0s"}, "want a positive duration"},
	} {
		_, stderr, code := run(t, tc.args...)
		if code != ExitError || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", tc.args, code, stderr, tc.want)
		}
	}
}

// withArgoCD installs Argo CD's Application CRD in c, creates namespaces there, then objs
// (Applications with their status, as Argo CD's controller writes them, and Secrets).
func withArgoCD(ctx context.Context, t *testing.T, c *kube.Cluster, namespaces []string, objs []*unstructured.Unstructured) {
	t.Helper()
	if _, err := c.Dynamic.Resource(crdGVR).Create(ctx, applicationCRD(t), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, ns := range namespaces {
		if _, err := c.Client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	apps := c.Dynamic.Resource(status.ApplicationsGVR)
	if err := kube.WaitFor(ctx, 200*time.Millisecond, func(ctx context.Context) (bool, error) {
		_, err := apps.Namespace(namespaces[0]).List(ctx, metav1.ListOptions{})
		return err == nil, nil
	}); err != nil {
		t.Fatalf("the Application API is not served: %v", err)
	}
	for _, o := range objs {
		gvr := status.SecretsGVR
		if o.GetKind() == "Application" {
			gvr = status.ApplicationsGVR
		}
		if _, err := c.Dynamic.Resource(gvr).Namespace(o.GetNamespace()).Create(ctx, o, metav1.CreateOptions{}); err != nil {
			t.Fatalf("create %s %s: %v", o.GetKind(), o.GetName(), err)
		}
	}
}

// TestStatusClientsRealAPIServer runs `hubctl status --clients` against a real hub and a real
// hosting cluster: the hub registers the hosting cluster with a least-privilege token (as
// cluster add grants it), the hosting cluster runs a client Argo CD's Applications. The
// operator's kubeconfig names only the hub.
func TestStatusClientsRealAPIServer(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	env := testenv.New(ctx, t, testenv.Options{}, "hub", "hosting")
	hub, hosting := env.Cluster("hub"), env.Cluster("hosting")

	root := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
		"metadata": map[string]any{"name": "root", "namespace": "argocd"},
		"spec": map[string]any{"project": "default", "destination": map[string]any{"name": "in-cluster", "namespace": "argocd"},
			"source": map[string]any{"repoURL": "https://git.example/gitops-hub.git", "targetRevision": "main", "path": "bootstrap"}},
		"status": map[string]any{"sync": map[string]any{"status": "Synced", "revision": "0123456789abcdef0123456789abcdef01234567"}, "health": map[string]any{"status": "Healthy"}},
	}}
	withArgoCD(ctx, t, hub, []string{"argocd"}, []*unstructured.Unstructured{root})
	data, err := os.ReadFile(filepath.Join("..", "status", "testdata", "clients.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	clientApps, err := kube.DecodeYAML(data)
	if err != nil {
		t.Fatal(err)
	}
	withArgoCD(ctx, t, hosting, []string{"argocd", "team-x"}, clientApps)

	grant, err := onboard.GrantAccess(ctx, hosting, onboard.AccessOptions{Cluster: "eks-develop-clientA-services", Generation: 1, TokenTTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := json.Marshal(onboard.ClusterConfig{BearerToken: grant.Token, TLSClientConfig: onboard.TLSClientConfig{CAData: hosting.Config.CAData}})
	if err != nil {
		t.Fatal(err)
	}
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "cluster-eks-develop-clienta-services", Namespace: "argocd",
			Labels: map[string]string{"argocd.argoproj.io/secret-type": "cluster", "environment": "develop", "client": "clientA"}},
		StringData: map[string]string{"name": "eks-develop-clientA-services", "server": hosting.Config.Host, "config": string(cfg)},
	}
	if _, err := hub.Client.CoreV1().Secrets("argocd").Create(ctx, secret, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	kc := clientcmdapi.NewConfig()
	kubeconfigOf(t, hub, "hub-ctx", kc)
	kc.CurrentContext = "hub-ctx"
	dir := t.TempDir()
	path := filepath.Join(dir, "kubeconfig")
	if err := clientcmd.WriteToFile(*kc, path); err != nil {
		t.Fatal(err)
	}
	t.Setenv("HOME", dir)
	t.Setenv("HUBCTL_STATE_DIR", "")
	t.Setenv("KUBECONFIG", path)

	t.Run("text", func(t *testing.T) {
		stdout, stderr, code := run(t, "status", "--clients")
		if code != ExitFindings {
			t.Fatalf("exit %d, want 1 (client Application payments is not Synced and Healthy); stderr:\n%s", code, stderr)
		}
		golden(t, "status-clients.table", stdout)
		for _, want := range []string{"1/1 Applications Synced and Healthy", "client Argo CD: 2/3 Applications Synced and Healthy on 1 hosting cluster(s)"} {
			if !strings.Contains(stderr, want) {
				t.Errorf("stderr lacks %q:\n%s", want, stderr)
			}
		}
		if strings.Contains(stdout+stderr, grant.Token) {
			t.Error("the stored token is printed")
		}
	})
	t.Run("without --clients the hub alone decides the exit status", func(t *testing.T) {
		stdout, _, code := run(t, "status")
		if code != ExitOK || strings.Contains(stdout, "Client Argo CD") {
			t.Errorf("exit %d:\n%s", code, stdout)
		}
	})
	t.Run("json", func(t *testing.T) {
		stdout, stderr, code := run(t, "status", "--clients", "-o", "json")
		if code != ExitFindings {
			t.Fatalf("exit %d; stderr:\n%s", code, stderr)
		}
		var doc struct {
			Summary struct {
				Total, Ready int
				Clients      status.ClientSummary
			}
			Clients []status.ClientArgoCD
		}
		if err := json.Unmarshal([]byte(stdout), &doc); err != nil {
			t.Fatalf("%v:\n%s", err, stdout)
		}
		if doc.Summary.Total != 1 || doc.Summary.Ready != 1 || doc.Summary.Clients.Total != 3 || strings.Join(doc.Summary.Clients.NotReady, ",") != "eks-develop-clientA-services/payments" {
			t.Errorf("summary %+v", doc.Summary)
		}
		if len(doc.Clients) != 1 || doc.Clients[0].Server != hosting.Config.Host || doc.Clients[0].State != status.ClientRead || len(doc.Clients[0].Apps) != 3 {
			t.Errorf("clients %+v", doc.Clients)
		}
	})
	t.Run("--client-namespace without Argo CD there", func(t *testing.T) {
		stdout, stderr, code := run(t, "status", "--clients", "--client-namespace", "team-x")
		if code != ExitFindings || !strings.Contains(stdout, "eks-develop-clientA-services  elsewhere") {
			t.Errorf("exit %d\n%s\n%s", code, stdout, stderr)
		}
	})
	t.Run("--html", func(t *testing.T) {
		page := filepath.Join(dir, "status.html")
		if _, stderr, code := run(t, "status", "--clients", "--html", page); code != ExitFindings {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		b, err := os.ReadFile(page)
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{`id="clients"`, `data-app="payments"`, "Deployment payments has 0/2 ready replicas"} {
			if !strings.Contains(string(b), want) {
				t.Errorf("the page lacks %q", want)
			}
		}
	})
}
