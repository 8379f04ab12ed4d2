package action

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"

	"github.com/gitops-hub/gitops-hub/pkg/conventions"
	"github.com/gitops-hub/gitops-hub/pkg/kube"
	"github.com/gitops-hub/gitops-hub/pkg/onboard"
	"github.com/gitops-hub/gitops-hub/pkg/status"
)

// Status reads the state of a hub's fleet: every Application as a cluster ×
// addon matrix and, with Clients, the client's Argo CD on each hosting
// cluster.
type Status struct {
	// Hub is the hub cluster.
	Hub *kube.Cluster
	// Context is the kubeconfig context Hub came from, for messages and
	// titles ("" when unknown).
	Context string
	// Namespace is Argo CD's namespace on the hub (default argocd).
	Namespace string

	// Clients also reads the client's Argo CD on every hosting cluster the
	// hub registers, through the hub's registration: the credentials of its
	// cluster Secret (what the hub's Argo CD uses; the operator needs none).
	Clients bool
	// ClientNamespace is the client's Argo CD namespace in each hosting
	// cluster (default argocd).
	ClientNamespace string
	// ClientTimeout bounds the read of one hosting cluster (default 10 s).
	ClientTimeout time.Duration
	// Parallel is how many hosting clusters are read at once (default DefaultParallel).
	Parallel int
	// Connect builds clients from stored credentials (default kube.NewForConfig).
	Connect Connector
}

// DefaultClientTimeout bounds the read of one hosting cluster's client Argo CD.
const DefaultClientTimeout = 10 * time.Second

// DefaultParallel is how many hosting clusters cluster list and status --clients call at once.
const DefaultParallel = 16

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
	if err := s.readClients(ctx, f); err != nil {
		return nil, s.hubError(err)
	}
	return f, nil
}

// readClients fills f.Clients when s.Clients: for every cluster Secret of the
// hub (but the hub itself, in-cluster), its stored credentials, then the
// Applications of the client's Argo CD namespace there, in parallel, each
// cluster bounded by ClientTimeout. A cluster that cannot be read is an entry
// saying why, never an error: only a hub whose cluster Secrets cannot be
// listed fails the read.
func (s *Status) readClients(ctx context.Context, f *status.Fleet) error {
	if !s.Clients {
		return nil
	}
	secrets, err := listClusterSecrets(ctx, s.Hub, s.namespace())
	if err != nil {
		return fmt.Errorf("reading the hosting clusters' credentials for the client view (--clients): %w", err)
	}
	ns, timeout, parallel := s.ClientNamespace, s.ClientTimeout, s.Parallel
	if ns == "" {
		ns = ArgoCDNamespace
	}
	if timeout <= 0 {
		timeout = DefaultClientTimeout
	}
	if parallel <= 0 {
		parallel = DefaultParallel
	}
	cfg := &Configuration{Connect: s.Connect}
	out := make([]status.ClientArgoCD, 0, len(secrets))
	var mu sync.Mutex
	add := func(c status.ClientArgoCD) {
		mu.Lock()
		defer mu.Unlock()
		out = append(out, c)
	}
	var g errgroup.Group // every cluster, parallel at a time
	g.SetLimit(parallel)
	for i := range secrets {
		sec := &secrets[i]
		name := string(sec.Data[onboard.KeyName])
		if name == "" {
			name = sec.Name
		}
		env := sec.Labels[conventions.EnvironmentLabel]
		server, cc, err := onboard.ParseClusterSecret(sec)
		if err != nil {
			add(status.ClientUnavailableError(name, env, string(sec.Data[onboard.KeyServer]), ns, fmt.Errorf("cluster %s: its credentials on the hub: %w", name, err)))
			continue
		}
		if strings.TrimRight(server, "/") == status.InClusterServer {
			continue // the hub itself: its Applications are the matrix
		}
		g.Go(func() error {
			cctx, cancel := context.WithTimeout(ctx, timeout)
			defer cancel()
			c, err := cfg.connectStored(name, server, cc, timeout)
			if err != nil {
				add(status.ClientUnavailableError(name, env, server, ns, err))
				return nil
			}
			add(status.ReadClient(cctx, c.Dynamic, name, env, server, ns))
			return nil
		})
	}
	_ = g.Wait() // each cluster's outcome is its entry, never an error
	status.SortClients(out)
	f.Clients = out
	return nil
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
		// The client view is read again at each print (a change on the hub).
		if err := s.readClients(ctx, f); err != nil {
			return err
		}
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
