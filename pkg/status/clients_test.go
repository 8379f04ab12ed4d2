package status

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	k8stesting "k8s.io/client-go/testing"
)

func clientFixture(t *testing.T) []*unstructured.Unstructured {
	t.Helper()
	return objectsOf(t, "clients.yaml")
}

// failingCluster is a hosting cluster whose list of Applications fails with err.
func failingCluster(t *testing.T, err error) *dynamicfake.FakeDynamicClient {
	c := fakeHub(t, nil)
	c.PrependReactor("list", "applications", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, err
	})
	return c
}

// readClientsFixture reads the client view of the fixture's three registered clusters: one
// with a client Argo CD, one unreachable, one without Argo CD.
func readClientsFixture(t *testing.T) []ClientArgoCD {
	t.Helper()
	ctx := context.Background()
	refused := errors.New(`Get "https://prod.example/apis/argoproj.io/v1alpha1/namespaces/argocd/applications": dial tcp 127.0.0.1:1: connect: connection refused`)
	out := []ClientArgoCD{
		ReadClient(ctx, failingCluster(t, apierrors.NewNotFound(schema.GroupResource{Group: "argoproj.io", Resource: "applications"}, "")), "eks-staging-b", "staging", "https://staging.example", "argocd"),
		ReadClient(ctx, fakeHub(t, clientFixture(t)), "eks-develop-a", "develop", "https://dev.example", "argocd"),
		ReadClient(ctx, failingCluster(t, refused), "eks-prod-a", "prod", "https://prod.example", "argocd"),
	}
	SortClients(out)
	return out
}

func TestReadClient(t *testing.T) {
	cs := readClientsFixture(t)
	var got []string
	for _, c := range cs {
		got = append(got, c.Cluster+"="+c.State)
	}
	if strings.Join(got, ",") != "eks-develop-a=Read,eks-prod-a=Unavailable,eks-staging-b=NotInstalled" {
		t.Errorf("states: %s", strings.Join(got, ","))
	}
	dev := cs[0]
	var apps []string
	for _, a := range dev.Apps {
		apps = append(apps, a.Name+"@"+a.Cluster+"="+a.Sync+"/"+a.Health+" "+a.Version+"->"+a.TargetVersion)
	}
	// Only namespace argocd; in-cluster (by server or by name) is the hosting cluster itself.
	want := "guestbook@eks-develop-a=Synced/Healthy aaaaaaa->,payments@eks-develop-a=OutOfSync/Degraded aaaaaaa->bbbbbbb,reports@client-a-batch=Synced/Healthy 1.4.2->"
	if strings.Join(apps, ",") != want {
		t.Errorf("apps:\n%s\nwant\n%s", strings.Join(apps, ","), want)
	}
	for _, tc := range []struct {
		c    ClientArgoCD
		want []string
	}{
		{cs[1], []string{"cluster eks-prod-a (https://prod.example)", "list applications.argoproj.io in namespace argocd", "with the hub's stored credentials", "connection refused"}},
		{cs[2], []string{"cluster eks-staging-b (https://staging.example)", "list applications.argoproj.io in namespace argocd", "no Argo CD there"}},
	} {
		for _, w := range tc.want {
			if !strings.Contains(tc.c.Error, w) {
				t.Errorf("%s: error %q lacks %q", tc.c.Cluster, tc.c.Error, w)
			}
		}
	}
	forbidden := ReadClient(context.Background(), failingCluster(t, apierrors.NewForbidden(schema.GroupResource{Group: "argoproj.io", Resource: "applications"}, "", errors.New("RBAC"))), "c", "", "", "argocd")
	if forbidden.State != ClientUnavailable || !strings.Contains(forbidden.Error, "forbidden") {
		t.Errorf("Forbidden: %+v, want Unavailable naming it", forbidden)
	}
	s := (&Fleet{Clients: cs}).ClientSummary()
	if s.Total != 3 || s.Ready != 2 || strings.Join(s.NotReady, ",") != "eks-develop-a/payments" || strings.Join(s.Unavailable, ",") != "eks-prod-a" || strings.Join(s.NotInstalled, ",") != "eks-staging-b" || s.Findings() != 2 {
		t.Errorf("summary %+v", s)
	}
	if (&Fleet{}).ClientSummary() != nil {
		t.Error("a fleet read without the client view has a client summary")
	}
}

func TestClientsGolden(t *testing.T) {
	f := readFixture(t)
	f.Hub = "hub-context"
	f.Clients = readClientsFixture(t)
	goldenFormats(t, "fleet-clients", f)
}

// The JSON document keeps its shape: without the client view it has no clients key, with it
// the hub's summary still counts the hub's Applications only.
func TestClientsJSONBackwardCompatible(t *testing.T) {
	decode := func(f *Fleet) map[string]any {
		var b bytes.Buffer
		if err := WriteJSON(&b, f); err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := json.Unmarshal(b.Bytes(), &m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	without := decode(readFixture(t))
	if _, ok := without["clients"]; ok {
		t.Error("clients key without the client view")
	}
	if _, ok := without["summary"].(map[string]any)["clients"]; ok {
		t.Error("summary.clients without the client view")
	}
	f := readFixture(t)
	f.Clients = readClientsFixture(t)
	with := decode(f)
	sum := with["summary"].(map[string]any)
	if sum["total"] != float64(7) || sum["ready"] != float64(3) {
		t.Errorf("hub summary changed with the client view: %v", sum)
	}
	cs := sum["clients"].(map[string]any)
	if cs["total"] != float64(3) || cs["ready"] != float64(2) {
		t.Errorf("summary.clients = %v", cs)
	}
	if n := len(with["clients"].([]any)); n != 3 {
		t.Errorf("%d clients, want 3", n)
	}
	for k := range without {
		if _, ok := with[k]; !ok {
			t.Errorf("key %s lost with the client view", k)
		}
	}
}
