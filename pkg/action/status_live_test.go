package action

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/gitops-hub/gitops-hub/pkg/bootstrap"
	"github.com/gitops-hub/gitops-hub/pkg/kube"
	"github.com/gitops-hub/gitops-hub/pkg/onboard"
	"github.com/gitops-hub/gitops-hub/pkg/status"
)

// applicationCRD is Argo CD's Application CRD: the real one where hack/tools/build.sh put it,
// else the stand-in of testdata/crds.
func applicationCRD(t *testing.T) *unstructured.Unstructured {
	t.Helper()
	var crd *unstructured.Unstructured
	if crds, err := bootstrap.ReadCRDs(bootstrap.DefaultCRDDir()); err == nil {
		for _, o := range crds {
			if o.GetName() == "applications.argoproj.io" {
				crd = o
				t.Logf("Argo CD's Application CRD from %s", bootstrap.DefaultCRDDir())
			}
		}
	}
	if crd == nil {
		data, err := os.ReadFile("testdata/crds/argocd-minimal.yaml")
		if err != nil {
			t.Fatal(err)
		}
		objs, err := kube.DecodeYAML(data)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range objs {
			if o.GetName() == "applications.argoproj.io" {
				crd = o
			}
		}
		t.Log("Application CRD: the stand-in of testdata/crds")
	}
	return crd
}

// TestLiveStatusClients: `cluster add` registers a real target with its least-privilege
// ClusterRole and a real token; status then reads the client's Argo CD there through the
// hub's cluster Secret only: first without Argo CD (NotInstalled), then with the Application
// CRD and Applications with their status; a registered cluster nobody answers for is shown
// unavailable, without failing the read.
func TestLiveStatusClients(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	_, hub, target := liveEnv(ctx, t)
	cfg := liveConfig(t, hub, target, nil)
	if _, err := (&ClusterAdd{Config: cfg, Name: "existing"}).Run(ctx); err != nil {
		t.Fatal(err)
	}
	// A second registration whose apiserver is gone: nothing listens on port 1.
	dead := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "cluster-gone", Namespace: "argocd", Labels: map[string]string{"argocd.argoproj.io/secret-type": "cluster", "environment": "prod"}},
		StringData: map[string]string{onboard.KeyName: "gone", onboard.KeyServer: "https://127.0.0.1:1", onboard.KeyConfig: `{"bearerToken":"x","tlsClientConfig":{"insecure":true}}`},
	}
	if _, err := hub.Client.CoreV1().Secrets("argocd").Create(ctx, dead, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	// The operator's view needs nothing of the target: status gets only the hub.
	read := func() map[string]status.ClientArgoCD {
		t.Helper()
		f, err := (&Status{Hub: hub, Context: "hub", Clients: true, ClientTimeout: 10 * time.Second}).Run(ctx)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]status.ClientArgoCD{}
		for _, c := range f.Clients {
			out[c.Cluster] = c
		}
		if len(out) != 2 {
			t.Fatalf("clients: %+v, want existing and gone", f.Clients)
		}
		return out
	}

	before := read()
	if c := before["existing"]; c.State != status.ClientNotInstalled || !strings.Contains(c.Error, "list applications.argoproj.io in namespace argocd") {
		t.Errorf("before Argo CD: %+v", c)
	}
	if c := before["gone"]; c.State != status.ClientUnavailable || !strings.Contains(c.Error, "cluster gone (https://127.0.0.1:1)") || !strings.Contains(c.Error, "connection refused") {
		t.Errorf("gone: %+v", c)
	}

	// Argo CD's CRD, its namespace and Applications with their status (the CRD has no status
	// subresource: Argo CD writes status with the object). Apply waits for the CRD.
	data, err := os.ReadFile(filepath.Join("..", "status", "testdata", "clients.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	objs, err := kube.DecodeYAML(data)
	if err != nil {
		t.Fatal(err)
	}
	for _, ns := range []string{"argocd", "team-x"} {
		n := &unstructured.Unstructured{}
		n.SetAPIVersion("v1")
		n.SetKind("Namespace")
		n.SetName(ns)
		objs = append(objs, n)
	}
	if err := target.Apply(ctx, append(objs, applicationCRD(t)), "test"); err != nil {
		t.Fatal(err)
	}

	after := read()
	c := after["existing"]
	if c.State != status.ClientRead || c.Error != "" {
		t.Fatalf("with Argo CD: %+v", c)
	}
	var got []string
	for _, a := range c.Apps {
		got = append(got, a.Name+"@"+a.Cluster+"="+a.Sync+"/"+a.Health+" "+a.Version)
	}
	if want := "guestbook@existing=Synced/Healthy aaaaaaa,payments@existing=OutOfSync/Degraded aaaaaaa,reports@client-a-batch=Synced/Healthy 1.4.2"; strings.Join(got, ",") != want {
		t.Errorf("client Applications:\n%s\nwant\n%s", strings.Join(got, ","), want)
	}
	if after["gone"].State != status.ClientUnavailable {
		t.Errorf("gone: %+v", after["gone"])
	}
}
