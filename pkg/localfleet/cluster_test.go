package localfleet

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

func clientFor(t *testing.T, kubeconfig string) *kubernetes.Clientset {
	t.Helper()
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	c, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func readyNodes(t *testing.T, ctx context.Context, kubeconfig string) int {
	t.Helper()
	nodes, err := clientFor(t, kubeconfig).CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, node := range nodes.Items {
		for _, c := range node.Status.Conditions {
			if c.Type == corev1.NodeReady && c.Status == corev1.ConditionTrue {
				n++
			}
		}
	}
	return n
}

// TestClusterLifecycle creates a hub and a hosting cluster with the real
// binaries, stops and starts the hosting one, deletes it, and tears down.
func TestClusterLifecycle(t *testing.T) {
	bin := requireReal(t, clusterBinaryNames()...)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	// kwokctl must never touch ~/.kube/config: give it a HOME to watch.
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("KWOK_RUNTIME", "docker") // a caller's KWOK_* must not leak into kwokctl

	hosting := "local-develop-clientA-services"
	f := testFleet(t, "hub", hosting)
	f.BinDir = bin
	f.AllowHostNetwork = false
	if err := f.Prepare(ctx); err != nil {
		t.Fatal(err)
	}
	for _, name := range f.Clusters() {
		base, err := f.ClusterBase(name)
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		if err := f.CreateCluster(ctx, name, base); err != nil {
			t.Fatal(err)
		}
		t.Logf("TIMING create cluster %s (ready, %d nodes): %s", name, f.nodes(), time.Since(start).Round(10*time.Millisecond))
		kc := f.Kubeconfig(name)
		b, err := os.ReadFile(kc)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(b), "certificate-authority-data") || !strings.Contains(string(b), "client-key-data") ||
			!strings.Contains(string(b), "server: https://127.0.0.1:"+strconv.Itoa(base)) {
			t.Fatalf("%s is not a self-contained kubeconfig for port %d:\n%s", kc, base, b)
		}
		if fi, _ := os.Stat(kc); fi.Mode().Perm() != 0o600 {
			t.Errorf("%s mode %v, want 0600", kc, fi.Mode().Perm())
		}
		if n := readyNodes(t, ctx, kc); n != 2 {
			t.Errorf("%s: %d Ready nodes, want 2", name, n)
		}
	}
	if _, err := os.Stat(filepath.Join(home, ".kube")); !errors.Is(err, fs.ErrNotExist) {
		out, _ := exec.Command("find", filepath.Join(home, ".kube")).CombinedOutput()
		t.Fatalf("kwokctl wrote into $HOME/.kube: %v\n%s", err, out)
	}

	s, err := LoadState(f.StateDir)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Clusters) != 2 || s.Clusters[1].Name != hosting || s.Clusters[1].ManagedBy != "kwokctl" {
		t.Fatalf("fleet.json clusters: %+v", s.Clusters)
	}
	var comps []string
	for _, c := range s.Clusters[1].Components {
		comps = append(comps, strings.TrimPrefix(c.Name, hosting+"/"))
		if !c.Alive() {
			t.Errorf("component %s (pid %d) recorded but not alive", c.Name, c.PID)
		}
	}
	slices.Sort(comps)
	if want := []string{"etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok-controller"}; !slices.Equal(comps, want) {
		t.Fatalf("components %v, want %v", comps, want)
	}
	// Every listener is on 127.0.0.1 (kwokctl's default is 0.0.0.0).
	for _, c := range s.Clusters[1].Components {
		if strings.Contains(strings.Join(c.Command, " "), "0.0.0.0") {
			t.Errorf("%s listens on 0.0.0.0: %v", c.Name, c.Command)
		}
	}

	// Stop the hosting cluster: its apiserver is gone, the hub is not.
	hostingComps := s.Clusters[1].Components
	start := time.Now()
	if err := f.StopCluster(ctx, hosting); err != nil {
		t.Fatal(err)
	}
	t.Logf("TIMING stop cluster: %s", time.Since(start).Round(10*time.Millisecond))
	for _, c := range hostingComps {
		if c.Alive() {
			t.Errorf("%s (pid %d) alive after StopCluster", c.Name, c.PID)
		}
	}
	waitTCPClosed(t, s.Clusters[1].Ports.APIServer, 5*time.Second)
	if f.ClusterAlive(hosting) || !f.ClusterAlive("hub") {
		t.Fatalf("ClusterAlive: hosting %v, hub %v", f.ClusterAlive(hosting), f.ClusterAlive("hub"))
	}
	if err := waitAPIServer(ctx, f.Kubeconfig("hub"), 5*time.Second); err != nil {
		t.Fatalf("hub after stopping %s: %v", hosting, err)
	}

	// A PID file naming an unrelated live process (ours: a recycled PID) must
	// neither be signalled nor keep kwokctl from starting that component.
	bogus := filepath.Join(f.kwokClusterDir(hosting), "pids", "kube-scheduler.pid")
	if err := os.WriteFile(bogus, []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
		t.Fatal(err)
	}
	start = time.Now()
	if err := f.StartCluster(ctx, hosting); err != nil {
		t.Fatal(err)
	}
	t.Logf("TIMING start cluster: %s", time.Since(start).Round(10*time.Millisecond))
	if n := readyNodes(t, ctx, f.Kubeconfig(hosting)); n != 2 {
		t.Errorf("after restart: %d Ready nodes, want 2 (data kept)", n)
	}
	names := map[string]bool{}
	for _, c := range f.kwokComponents(hosting) {
		names[c.Name] = true
		if c.PID == os.Getpid() {
			t.Errorf("%s recorded with the test's own PID", c.Name)
		}
	}
	if !names[hosting+"/kube-scheduler"] || !names[hosting+"/kube-apiserver"] || len(names) != 5 {
		t.Fatalf("components after start: %v", names)
	}

	// Delete the hosting cluster.
	live := f.kwokComponents(hosting)
	if err := f.DeleteCluster(ctx, hosting); err != nil {
		t.Fatal(err)
	}
	for _, c := range live {
		if c.Alive() {
			t.Errorf("%s alive after DeleteCluster", c.Name)
		}
	}
	for _, p := range []string{f.kwokClusterDir(hosting), filepath.Join(f.StateDir, hosting)} {
		if _, err := os.Stat(p); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s left after DeleteCluster: %v", p, err)
		}
	}
	if s, _ := LoadState(f.StateDir); len(s.Clusters) != 1 || s.Clusters[0].Name != "hub" {
		t.Errorf("fleet.json clusters after delete: %+v", s.Clusters)
	}
	if err := f.DeleteCluster(ctx, hosting); err != nil {
		t.Errorf("second DeleteCluster: %v", err)
	}

	// Down removes the hub and everything else; twice is fine.
	hubComps := f.kwokComponents("hub")
	holder, holderErr := f.procs().Record(ProcNetnsHolder)
	if s, _ := LoadState(f.StateDir); s.Netns == nil || holderErr != nil || s.Netns.HolderPID != holder.PID {
		t.Errorf("network namespace not recorded: %+v, %v", s.Netns, holderErr)
	} else {
		t.Logf("enter the namespace with: %s", s.Netns.Enter)
	}
	start = time.Now()
	if err := f.Down(ctx); err != nil {
		t.Fatal(err)
	}
	t.Logf("TIMING down: %s", time.Since(start).Round(10*time.Millisecond))
	for _, c := range append(hubComps, holder) {
		if c.Alive() {
			t.Errorf("%s alive after Down", c.Name)
		}
	}
	if _, err := os.Stat(f.StateDir); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("state directory left after Down: %v", err)
	}
	if err := f.Down(ctx); err != nil {
		t.Fatalf("second Down: %v", err)
	}
}

// Down of a fleet whose processes all died (e.g. killed by hand) still
// deletes the clusters' data and the state.
func TestDownAfterCrash(t *testing.T) {
	requireReal(t, clusterBinaryNames()...)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	f := testFleet(t, "crashhub")
	f.AllowHostNetwork = false
	if err := f.Prepare(ctx); err != nil {
		t.Fatal(err)
	}
	base, _ := f.ClusterBase("crashhub")
	if err := f.CreateCluster(ctx, "crashhub", base); err != nil {
		t.Fatal(err)
	}
	comps := f.kwokComponents("crashhub")
	for _, c := range comps {
		if err := syscall.Kill(c.PID, syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range comps {
		deadline := time.Now().Add(5 * time.Second)
		for c.Alive() && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
		}
	}
	if err := f.Down(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(f.StateDir); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("state directory left: %v", err)
	}
}
