package testenv_test

import (
	"context"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/gitops-hub/gitops-hub/internal/testenv"
	"github.com/gitops-hub/gitops-hub/pkg/kube"
)

func TestBinDir(t *testing.T) {
	t.Setenv(testenv.EnvBinDir, "/opt/bins")
	if got := testenv.BinDir(); got != "/opt/bins" {
		t.Errorf("BinDir with $%s = %q", testenv.EnvBinDir, got)
	}
	t.Setenv(testenv.EnvBinDir, "")
	t.Setenv(testenv.EnvCache, "/cache/gh")
	if got := testenv.BinDir(); got != "/cache/gh/bin/current" {
		t.Errorf("BinDir with $%s = %q", testenv.EnvCache, got)
	}
	t.Setenv(testenv.EnvCache, "")
	t.Setenv("XDG_CACHE_HOME", "/xdg")
	if got := testenv.BinDir(); got != "/xdg/gitops-hub/bin/current" {
		t.Errorf("BinDir with $XDG_CACHE_HOME = %q", got)
	}
}

func TestStartShared(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	env := testenv.New(ctx, t, testenv.Options{}, "alpha", "beta")
	a, b := env.Cluster("alpha"), env.Cluster("beta")
	if a == nil || b == nil || env.Cluster("gamma") != nil {
		t.Fatalf("Cluster lookup: alpha=%v beta=%v", a, b)
	}
	if a.Config.Host == b.Config.Host {
		t.Fatalf("both clusters at %s", a.Config.Host)
	}
	for _, c := range []*kube.Cluster{a, b} {
		v, err := c.ServerVersion(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(v, "v1.") {
			t.Errorf("%s: version %q", c.Name, v)
		}
		host := strings.TrimPrefix(c.Config.Host, "https://")
		h, port, _ := net.SplitHostPort(host)
		if p, err := strconv.Atoi(port); h != "127.0.0.1" || err != nil || p >= 32768 {
			t.Errorf("%s: server %s: want 127.0.0.1 and a port below 32768", c.Name, c.Config.Host)
		}
		// The kubeconfig on disk is self-contained and loads on its own.
		if _, err := os.Stat(c.Kubeconfig); err != nil {
			t.Fatal(err)
		}
		again, err := kube.Load(c.Name, c.Kubeconfig)
		if err != nil {
			t.Fatal(err)
		}
		if err := again.WaitReady(ctx); err != nil {
			t.Fatal(err)
		}
	}
	// Data is separate although etcd is shared.
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "only-in-alpha"}}
	if _, err := a.Client.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Client.CoreV1().Namespaces().Get(ctx, ns.Name, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Fatalf("namespace of alpha seen in beta: err=%v", err)
	}
	// Each cluster has its own CA: alpha's admin credentials fail against beta.
	if string(env.PKI("alpha").CAData) == string(env.PKI("beta").CAData) {
		t.Error("alpha and beta share a CA")
	}

	// Stop one cluster: it becomes unreachable at once, the other keeps working.
	if err := env.Stop("alpha"); err != nil {
		t.Fatal(err)
	}
	if err := env.Stop("alpha"); err != nil {
		t.Fatal("second Stop:", err)
	}
	sctx, scancel := context.WithTimeout(ctx, 5*time.Second)
	defer scancel()
	if _, err := a.ServerVersion(sctx); err == nil {
		t.Error("alpha still answers after Stop")
	}
	if err := b.WaitReady(ctx); err != nil {
		t.Fatal(err)
	}

	// Restart it: the client built before works again, on the same data.
	if err := env.Restart(ctx, "alpha"); err != nil {
		t.Fatal(err)
	}
	if env.Cluster("alpha") != a {
		t.Error("Cluster returns another client after Restart")
	}
	if _, err := a.Client.CoreV1().Namespaces().Get(ctx, ns.Name, metav1.GetOptions{}); err != nil {
		t.Errorf("namespace of alpha after Restart: %v", err)
	}
	if err := env.Restart(ctx, "alpha"); err != nil {
		t.Error("Restart of a running cluster:", err)
	}
	if err := env.Restart(ctx, "gamma"); err == nil {
		t.Error("Restart of an unknown cluster: no error")
	}
}

func TestControllerManager(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	env := testenv.New(ctx, t, testenv.Options{ControllerManager: true}, "kcm")
	c := env.Cluster("kcm")
	// The token controller fills a legacy service-account token Secret.
	sec := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "default-token", Namespace: "default", Annotations: map[string]string{corev1.ServiceAccountNameKey: "default"}},
		Type:       corev1.SecretTypeServiceAccountToken,
	}
	if err := kube.WaitFor(ctx, 200*time.Millisecond, func(ctx context.Context) (bool, error) {
		_, err := c.Client.CoreV1().ServiceAccounts("default").Get(ctx, "default", metav1.GetOptions{})
		return err == nil, nil
	}); err != nil {
		t.Fatal("no default ServiceAccount in default:", err)
	}
	if _, err := c.Client.CoreV1().Secrets("default").Create(ctx, sec, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := kube.WaitFor(ctx, 200*time.Millisecond, func(ctx context.Context) (bool, error) {
		s, err := c.Client.CoreV1().Secrets("default").Get(ctx, sec.Name, metav1.GetOptions{})
		return err == nil && len(s.Data[corev1.ServiceAccountTokenKey]) > 0, nil
	}); err != nil {
		t.Fatal("token Secret never filled:", err)
	}
}
