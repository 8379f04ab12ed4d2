package action

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"

	"github.com/gitops-hub/gitops-hub/pkg/kube"
	"github.com/gitops-hub/gitops-hub/pkg/status"
)

// Status reads the state of a hub's fleet: every Application as a cluster ×
// addon matrix.
type Status struct {
	// Hub is the hub cluster.
	Hub *kube.Cluster
	// Context is the kubeconfig context Hub came from, for messages and
	// titles ("" when unknown).
	Context string
	// Namespace is Argo CD's namespace on the hub (default argocd).
	Namespace string
}

func (s *Status) namespace() string {
	if s.Namespace == "" {
		return ArgoCDNamespace
	}
	return s.Namespace
}

// hubError names the hub, its context and server.
func (s *Status) hubError(err error) error {
	where := "the hub"
	if s.Context != "" {
		where = fmt.Sprintf("hub of context %q", s.Context)
	}
	if s.Hub != nil && s.Hub.Config != nil {
		where += " (" + s.Hub.Config.Host + ")"
	}
	return fmt.Errorf("%s: %w", where, err)
}

// Run reads the fleet once.
func (s *Status) Run(ctx context.Context) (*status.Fleet, error) {
	f, err := status.Read(ctx, s.Hub.Dynamic, s.namespace())
	if err != nil {
		return nil, s.hubError(err)
	}
	f.Hub = s.Context
	return f, nil
}

// Watch reads the fleet, calls fn, then calls it again after every change
// until ctx ends. The first read has the hub's request timeout; the watches
// are long-running requests without it.
func (s *Status) Watch(ctx context.Context, fn func(*status.Fleet) error) error {
	var watcher dynamic.Interface
	if s.Hub.Config != nil && s.Hub.Config.Timeout != 0 {
		cfg := rest.CopyConfig(s.Hub.Config)
		cfg.Timeout = 0
		w, err := dynamic.NewForConfig(cfg)
		if err != nil {
			return s.hubError(err)
		}
		watcher = w
	}
	err := status.Watch(ctx, s.Hub.Dynamic, watcher, s.namespace(), func(f *status.Fleet) error {
		f.Hub = s.Context
		return fn(f)
	})
	if err != nil {
		return s.hubError(err)
	}
	return nil
}

// LocalHubKubeconfig is the kubeconfig of the local fleet's hub in stateDir
// (default: the fleet's default state directory).
func LocalHubKubeconfig(stateDir string) (string, error) {
	dir, err := StateDir(stateDir)
	if err != nil {
		return "", err
	}
	kc := filepath.Join(dir, HubName, "kubeconfig")
	if _, err := os.Stat(kc); err != nil {
		return "", fmt.Errorf("no local fleet in %s (run hubctl up, or name a hub with --kubeconfig/--context): %w", dir, err)
	}
	return kc, nil
}
