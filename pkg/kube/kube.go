// Package kube holds the Kubernetes clients of one cluster (typed, dynamic,
// RESTMapper) and the few operations the live side of hubctl needs on every
// cluster: server-side apply of unstructured objects, readiness and version.
//
// Nothing here logs or prints object contents, so Secrets applied through it
// never leak.
package kube

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
	"k8s.io/client-go/tools/clientcmd"
)

// Client-side rate limits of a Cluster loaded by Load or NewForConfig when
// the config sets none. client-go's defaults (5 QPS, burst 10) throttle a
// local fleet where one process bootstraps several clusters at once.
const (
	DefaultQPS   = 100
	DefaultBurst = 200
)

// UserAgent is sent with every request of a Cluster built here.
const UserAgent = "hubctl"

// Cluster is one Kubernetes cluster and its clients. All fields are set by
// Load and NewForConfig; Mapper resolves kinds through (cached) discovery and
// is reset by Apply when a kind is unknown.
type Cluster struct {
	Name       string // a label for messages: the fleet's name for the cluster
	Kubeconfig string // the kubeconfig it was loaded from; empty when built from a rest.Config
	Config     *rest.Config
	Client     kubernetes.Interface
	Dynamic    dynamic.Interface
	Mapper     meta.RESTMapper
}

// Load reads a kubeconfig (its current context) and builds the clients of the
// cluster it points to. An empty kubeconfigPath means the usual rules:
// $KUBECONFIG, then ~/.kube/config. name is only a label for messages.
func Load(name, kubeconfigPath string) (*Cluster, error) {
	return LoadContext(name, kubeconfigPath, "")
}

// LoadContext is Load with an explicit kubeconfig context ("" = current).
func LoadContext(name, kubeconfigPath, contextName string) (*Cluster, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	if kubeconfigPath != "" {
		rules = &clientcmd.ClientConfigLoadingRules{ExplicitPath: kubeconfigPath}
	}
	overrides := &clientcmd.ConfigOverrides{CurrentContext: contextName}
	cfg, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, overrides).ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("cluster %q: loading kubeconfig %s: %w", name, orDefault(kubeconfigPath, "(default rules)"), err)
	}
	c, err := NewForConfig(name, cfg)
	if err != nil {
		return nil, err
	}
	c.Kubeconfig = kubeconfigPath
	return c, nil
}

// NewForConfig builds the clients of a cluster from a rest.Config (copied; QPS
// and Burst raised to DefaultQPS/DefaultBurst when unset). The typed, dynamic
// and discovery clients share one HTTP client.
func NewForConfig(name string, cfg *rest.Config) (*Cluster, error) {
	cfg = rest.CopyConfig(cfg)
	if cfg.QPS == 0 {
		cfg.QPS = DefaultQPS
	}
	if cfg.Burst == 0 {
		cfg.Burst = DefaultBurst
	}
	if cfg.UserAgent == "" {
		cfg.UserAgent = UserAgent
	}
	hc, err := rest.HTTPClientFor(cfg)
	if err != nil {
		return nil, fmt.Errorf("cluster %q (%s): HTTP client: %w", name, cfg.Host, err)
	}
	return newForConfigAndClient(name, cfg, hc)
}

func newForConfigAndClient(name string, cfg *rest.Config, hc *http.Client) (*Cluster, error) {
	client, err := kubernetes.NewForConfigAndClient(cfg, hc)
	if err != nil {
		return nil, fmt.Errorf("cluster %q (%s): clientset: %w", name, cfg.Host, err)
	}
	dyn, err := dynamic.NewForConfigAndClient(cfg, hc)
	if err != nil {
		return nil, fmt.Errorf("cluster %q (%s): dynamic client: %w", name, cfg.Host, err)
	}
	disco, err := discovery.NewDiscoveryClientForConfigAndClient(cfg, hc)
	if err != nil {
		return nil, fmt.Errorf("cluster %q (%s): discovery client: %w", name, cfg.Host, err)
	}
	mapper := restmapper.NewDeferredDiscoveryRESTMapperWithContext(memory.NewMemCacheClientWithContext(disco))
	return &Cluster{Name: name, Config: cfg, Client: client, Dynamic: dyn, Mapper: mapper}, nil
}

// String names the cluster and its server, for messages.
func (c *Cluster) String() string {
	if c.Config == nil {
		return fmt.Sprintf("cluster %q", c.Name)
	}
	return fmt.Sprintf("cluster %q (%s)", c.Name, c.Config.Host)
}

// readyzAttemptTimeout bounds one /readyz request, so that a hung apiserver
// does not eat the whole wait.
const readyzAttemptTimeout = 5 * time.Second

// WaitReady polls the apiserver's /readyz every 200ms until it answers "ok"
// or ctx ends. The error then names the cluster and carries the last answer.
func (c *Cluster) WaitReady(ctx context.Context) error {
	var last error
	err := WaitFor(ctx, 200*time.Millisecond, func(ctx context.Context) (bool, error) {
		actx, cancel := context.WithTimeout(ctx, readyzAttemptTimeout)
		defer cancel()
		body, err := c.Client.Discovery().RESTClient().Get().AbsPath("/readyz").DoRaw(actx)
		if err != nil {
			last = err
			return false, nil
		}
		if s := strings.TrimSpace(string(body)); s != "ok" {
			last = fmt.Errorf("/readyz answered %q", s)
			return false, nil
		}
		return true, nil
	})
	if err != nil {
		if last != nil {
			return fmt.Errorf("%s: not ready: %w (last answer: %v)", c, err, last)
		}
		return fmt.Errorf("%s: not ready: %w", c, err)
	}
	return nil
}

// ServerVersion returns the apiserver's version (its gitVersion, e.g. v1.35.4).
func (c *Cluster) ServerVersion(ctx context.Context) (string, error) {
	v, err := discovery.ToDiscoveryInterfaceWithContext(c.Client.Discovery()).ServerVersionWithContext(ctx)
	if err != nil {
		return "", fmt.Errorf("%s: server version: %w", c, err)
	}
	return v.GitVersion, nil
}

// WaitFor calls cond every interval (the first time at once) until it
// reports true, returns an error, or ctx ends. A cond error is returned as
// is; the end of ctx is returned as ctx's error (context.DeadlineExceeded or
// context.Canceled), so callers can tell a timeout with errors.Is.
func WaitFor(ctx context.Context, interval time.Duration, cond func(ctx context.Context) (bool, error)) error {
	var condErr error
	err := wait.PollUntilContextCancel(ctx, interval, true, func(ctx context.Context) (bool, error) {
		ok, err := cond(ctx)
		if err != nil {
			condErr = err
		}
		return ok, err
	})
	switch {
	case err == nil:
		return nil
	case condErr != nil:
		return condErr
	case ctx.Err() != nil:
		return ctx.Err()
	case wait.Interrupted(err):
		return context.DeadlineExceeded
	default:
		return err
	}
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// ErrUnknownKind is returned (wrapped) by Apply for an object whose kind the
// cluster does not serve and no CustomResourceDefinition defines.
var ErrUnknownKind = errors.New("the cluster serves no such kind and no CustomResourceDefinition defines it")
