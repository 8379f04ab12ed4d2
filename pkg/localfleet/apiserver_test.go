package localfleet

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestAPIServerOnlyClusters runs two apiserver-only clusters on the shared
// etcd: their data is apart, it survives a stop and start, a second Ensure
// only waits, and Down (the test fleet's cleanup) leaves no process.
func TestAPIServerOnlyClusters(t *testing.T) {
	bin := requireReal(t, "etcd", "kube-apiserver")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	a, b := "light-develop-a-services", "light-develop-b-services"
	f := testFleet(t, "hub", a, b)
	f.BinDir = bin
	f.AllowHostNetwork = false
	f.APIServerOnly = []string{a, b}
	if err := f.Prepare(ctx); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{a, b} {
		base, err := f.ClusterBase(name)
		if err != nil {
			t.Fatal(err)
		}
		if err := f.EnsureAPIServerCluster(ctx, name, base); err != nil {
			t.Fatal(err)
		}
		if !f.ClusterAlive(name) {
			t.Fatalf("%s: ClusterAlive is false right after EnsureAPIServerCluster", name)
		}
	}
	recs, err := f.procs().List()
	if err != nil {
		t.Fatal(err)
	}
	etcds := 0
	for _, r := range recs {
		if r.Name == ProcSharedEtcd {
			etcds++
		}
	}
	if etcds != 1 {
		t.Errorf("%d shared etcd records, want one for both clusters: %v", etcds, recs)
	}

	ca := clientFor(t, f.Kubeconfig(a))
	cb := clientFor(t, f.Kubeconfig(b))
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "only-in-a", Namespace: "default"}, Data: map[string]string{"k": "v"}}
	if _, err := ca.CoreV1().ConfigMaps("default").Create(ctx, cm, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := cb.CoreV1().ConfigMaps("default").Get(ctx, "only-in-a", metav1.GetOptions{}); !errors.IsNotFound(err) {
		t.Errorf("%s sees %s's ConfigMap (err %v): the etcd prefixes must keep them apart", b, a, err)
	}

	// fleet.json records them, so down and status of another process know.
	g, st, err := Load(f.StateDir)
	if err != nil {
		t.Fatal(err)
	}
	if !g.IsAPIServerOnly(a) || !g.IsAPIServerOnly(b) || g.IsAPIServerOnly("hub") {
		t.Errorf("loaded fleet: apiserver-only %v", g.APIServerOnly)
	}
	if c := st.cluster(a); c == nil || c.ManagedBy != ManagedByHubctl || c.Server == "" {
		t.Errorf("fleet.json cluster %s: %+v", a, c)
	}

	// Ensure again: it runs already, nothing new is started.
	before, _ := f.procs().Record(APIServerProc(a))
	base, _ := f.ClusterBase(a)
	if err := f.EnsureAPIServerCluster(ctx, a, base); err != nil {
		t.Fatal(err)
	}
	if after, _ := f.procs().Record(APIServerProc(a)); after.PID != before.PID {
		t.Errorf("a second EnsureAPIServerCluster restarted the apiserver (pid %d, then %d)", before.PID, after.PID)
	}

	if err := f.StopCluster(ctx, a); err != nil {
		t.Fatal(err)
	}
	if f.ClusterAlive(a) {
		t.Fatal("ClusterAlive after StopCluster")
	}
	if _, err := ca.CoreV1().ConfigMaps("default").Get(ctx, "only-in-a", metav1.GetOptions{}); err == nil {
		t.Fatal("the stopped cluster still answers")
	}
	if _, err := cb.CoreV1().Namespaces().Get(ctx, "default", metav1.GetOptions{}); err != nil {
		t.Errorf("stopping %s stopped %s too: %v", a, b, err)
	}
	if err := f.StartCluster(ctx, a); err != nil {
		t.Fatal(err)
	}
	got, err := clientFor(t, f.Kubeconfig(a)).CoreV1().ConfigMaps("default").Get(ctx, "only-in-a", metav1.GetOptions{})
	if err != nil || got.Data["k"] != "v" {
		t.Errorf("after a restart the ConfigMap is %v (%v): the data must stay in the shared etcd", got, err)
	}
	if err := f.DeleteCluster(ctx, a); err != nil {
		t.Fatal(err)
	}
	if f.ClusterAlive(a) || slices.ContainsFunc(processesMentioning(f.StateDir), func(s string) bool { return strings.Contains(s, "--etcd-prefix=/"+a) }) {
		t.Error("DeleteCluster left the apiserver running")
	}
}
