package localfleet

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/gitops-hub/gitops-hub/internal/controlplane"
	"github.com/gitops-hub/gitops-hub/internal/supervisor"
)

// Apiserver-only clusters: the light variant of a hosting cluster, for
// measuring how far one hub scales. Each is a bare kube-apiserver (about
// 40 % of a kwok cluster's memory with the six addons) whose data lives under its own prefix of
// one etcd shared by all of them (process ProcSharedEtcd). Nothing else
// runs: no controllers, no scheduler, no nodes. So objects are stored and
// served exactly as in a real cluster (Argo CD syncs, diffs and watches them
// the same way), but Deployments never get Pods and Argo CD reports them
// Progressing: wait for Synced, not Healthy. Hook Jobs never finish either.

const (
	// ProcSharedEtcd is the etcd of every apiserver-only cluster.
	ProcSharedEtcd = "etcd-shared"
	// ManagedByHubctl marks a ClusterState whose processes hubctl starts
	// itself (recorded under pids/ like the fleet's services).
	ManagedByHubctl = "hubctl"
)

// APIServerProc is the process name of an apiserver-only cluster's kube-apiserver.
func APIServerProc(cluster string) string { return "kube-apiserver-" + cluster }

// IsAPIServerOnly reports whether a cluster of the fleet is apiserver-only.
func (f *Fleet) IsAPIServerOnly(name string) bool { return slices.Contains(f.APIServerOnly, name) }

func (f *Fleet) sharedEtcdPorts() (client, peer int) {
	p := f.ports().SharedEtcd
	if p == 0 {
		p = DefaultPorts().SharedEtcd
	}
	return p, p + 1
}

// ensureSharedEtcd starts the shared etcd unless it runs, and waits until
// it is healthy.
func (f *Fleet) ensureSharedEtcd(ctx context.Context) (string, error) {
	client, peer := f.sharedEtcdPorts()
	url := controlplane.EtcdURL(client)
	c := supervisor.Command{Path: f.Bin("etcd"), Args: controlplane.EtcdArgs("shared", filepath.Join(f.StateDir, ProcSharedEtcd), client, peer)}
	ports := []labeledPort{{client, "shared etcd"}, {peer, "shared etcd peer"}}
	return url, f.ensureProcess(ctx, ProcSharedEtcd, c, ports, "healthy at "+url+"/health", defaultReadyWithin, func(ctx context.Context) (bool, error) {
		return httpOK(ctx, url+"/health"), nil
	})
}

// EnsureAPIServerCluster makes an apiserver-only cluster run on port: the
// shared etcd first, then its key material (kept across restarts in
// <state>/<name>/pki), its admin kubeconfig and its kube-apiserver, recorded
// in fleet.json. A running one is only waited for.
func (f *Fleet) EnsureAPIServerCluster(ctx context.Context, name string, port int) error {
	if err := validClusterName(name); err != nil {
		return err
	}
	if err := f.checkNetwork(); err != nil {
		return fmt.Errorf("cluster %s: %w", name, err)
	}
	for _, b := range []string{"etcd", "kube-apiserver"} {
		if !isExecutable(f.Bin(b)) {
			return fmt.Errorf("cluster %s: %s missing in %s (build it with hack/tools/build.sh, or set $%s)", name, b, f.binDir(), EnvBinDir)
		}
	}
	if err := f.ensureStateDir(); err != nil {
		return err
	}
	etcdURL, err := f.ensureSharedEtcd(ctx)
	if err != nil {
		return fmt.Errorf("cluster %s: %w", name, err)
	}
	dir := filepath.Join(f.StateDir, name)
	pki, err := controlplane.EnsurePKI(filepath.Join(dir, "pki"), name)
	if err != nil {
		return fmt.Errorf("cluster %s: %w", name, err)
	}
	api := controlplane.APIServer{Name: name, EtcdURL: etcdURL, Port: port, CertDir: filepath.Join(dir, "certs"), PKI: pki,
		Extra: []string{"--watch-cache=false"}}
	kubeconfig := f.Kubeconfig(name)
	if err := controlplane.WriteKubeconfig(kubeconfig, name, api.Server(), pki); err != nil {
		return fmt.Errorf("cluster %s: kubeconfig: %w", name, err)
	}
	if err := f.updateState(func(s *State) {
		cs := ClusterState{Name: name, Ports: ClusterPorts{APIServer: port}, Server: api.Server(), Kubeconfig: kubeconfig, ManagedBy: ManagedByHubctl}
		if !slices.Contains(s.APIServerOnly, name) {
			s.APIServerOnly = append(s.APIServerOnly, name)
		}
		if c := s.cluster(name); c != nil {
			*c = cs
		} else {
			s.Clusters = append(s.Clusters, cs)
		}
	}); err != nil {
		return fmt.Errorf("cluster %s: recording it in %s: %w", name, stateFile, err)
	}
	ready, err := apiServerReady(kubeconfig)
	if err != nil {
		return fmt.Errorf("cluster %s: %w", name, err)
	}
	proc := APIServerProc(name)
	c := supervisor.Command{Path: f.Bin("kube-apiserver"), Args: api.Args(), Env: append(os.Environ(), apiServerOnlyEnv()...)}
	err = f.ensureProcess(ctx, proc, c, []labeledPort{{port, name + " kube-apiserver"}}, "ready at "+api.Server()+"/readyz", defaultReadyWithin, func(ctx context.Context) (bool, error) {
		ok, _ := ready(ctx)
		return ok, nil
	})
	if err != nil {
		return fmt.Errorf("cluster %s: %w", name, err)
	}
	return nil
}

// apiServerOnlyEnv and --watch-cache=false trade CPU for memory: with the
// six addons synced by Argo CD a kwok cluster's apiserver peaks at about
// 0.9 GiB, one of these at about 470 MiB (docs/benchmarks.md). A lower limit
// (300 MiB) kept the garbage collector running and made the fleet slower.
// Without its watch cache an apiserver serves every watch from etcd:
// slower, but the same API.
func apiServerOnlyEnv() []string { return []string{"GOGC=50", "GOMEMLIMIT=400MiB"} }

// stopAPIServerCluster stops an apiserver-only cluster's kube-apiserver; its
// data stays in the shared etcd.
func (f *Fleet) stopAPIServerCluster(ctx context.Context, name string) error {
	if err := f.procs().Stop(ctx, APIServerProc(name)); err != nil {
		return fmt.Errorf("stop cluster %s: %w", name, err)
	}
	return f.updateState(func(s *State) {
		if c := s.cluster(name); c != nil {
			c.Stopped = true
		}
	})
}
