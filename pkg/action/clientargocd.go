package action

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/gitops-hub/gitops-hub/pkg/conventions"
	"github.com/gitops-hub/gitops-hub/pkg/kube"
	"github.com/gitops-hub/gitops-hub/pkg/localfleet"
	"github.com/gitops-hub/gitops-hub/pkg/registry"
	"github.com/gitops-hub/gitops-hub/pkg/status"
)

// Registry annotations that give a client's Argo CD its workloads (the
// argo-cd and external-secrets ApplicationSets read them).
const (
	WorkloadsRepoURLAnnotation  = "client_workloads_repo_url"
	WorkloadsPathAnnotation     = "client_workloads_path"
	WorkloadsRevisionAnnotation = "client_workloads_revision"
	// WorkloadsRepoSecret is the hub Secret (in client-<client>) holding the
	// workload repository's credential, and the ExternalSecret and Argo CD
	// repository Secret made from it in the hosting cluster.
	WorkloadsRepoSecret = "workloads-repo"
	// LocalWorkloadsDir is the sample workload repository's content in this
	// repository (one directory per client), seeded into the local fleet's
	// workload repository.
	LocalWorkloadsDir = "hack/local-fleet/workloads"
)

// ClientArgoCDClusters are the local clusters whose client's Argo CD the
// fleet runs: kwok clusters with the argo-cd addon, a client and the
// workload annotation naming the fleet's workload repository.
func ClientArgoCDClusters(f *localfleet.Fleet, locals []*registry.Cluster) []*registry.Cluster {
	var out []*registry.Cluster
	for _, c := range locals {
		if f.IsAPIServerOnly(c.Name) || c.Labels[conventions.EnableLabel("argocd")] != "true" || clientOf(c.Labels) == "" {
			continue
		}
		if c.Annotations[WorkloadsRepoURLAnnotation] == f.WorkloadsURL() {
			out = append(out, c)
		}
	}
	return out
}

// ClientWorkloadsSetup returns the steps that prepare the clients'
// workloads in the local fleet, run once the hub is bootstrapped: the
// workload repository seeded from LocalWorkloadsDir and served with a
// generated password (never printed), and that credential stored on the
// hub, as `hubctl config set <client> workloads-repo` stores it, for every
// client of clusters.
func ClientWorkloadsSetup(f *localfleet.Fleet, clusters []*registry.Cluster, repo, hubctl string) []localfleet.Action {
	if len(clusters) == 0 {
		return nil
	}
	clients := map[string]bool{}
	var names []string
	for _, c := range clusters {
		if cl := clientOf(c.Labels); !clients[cl] {
			clients[cl] = true
			names = append(names, cl)
		}
	}
	return []localfleet.Action{
		{Name: "Serving the clients' workload repository (" + f.WorkloadsURL() + ", basic auth)", Run: func(ctx context.Context) error {
			if _, _, err := f.SeedWorkloads(ctx, repo, LocalWorkloadsDir); err != nil {
				return err
			}
			if _, err := f.WorkloadsPassword(); err != nil {
				return err
			}
			exe := hubctl
			if exe == "" {
				var err error
				if exe, err = os.Executable(); err != nil {
					return err
				}
			}
			return f.StartWorkloadsServer(ctx, exe)
		}},
		{Name: "Storing its credential on the hub (" + WorkloadsRepoSecret + " of " + strings.Join(names, ", ") + ")", Run: func(ctx context.Context) error {
			pw, err := f.WorkloadsPassword()
			if err != nil {
				return err
			}
			hub, err := kube.Load(HubName, f.Kubeconfig(HubName))
			if err != nil {
				return err
			}
			for _, cl := range names {
				set := &ConfigSet{Hub: hub.Client, Client: cl, Name: WorkloadsRepoSecret,
					Files: []string{"password=-"}, Literals: []string{"username=" + localfleet.WorkloadsUser}, Stdin: strings.NewReader(pw)}
				if _, err := set.Run(ctx); err != nil {
					return err
				}
			}
			return nil
		}},
	}
}

// ClientArgoCDActions start the client's Argo CD of each cluster
// (localfleet.StartClientArgoCD) and wait until its Applications are Synced
// and Healthy (within timeout each): its root Application read the client's
// repository with the credential that came from the hub.
func ClientArgoCDActions(f *localfleet.Fleet, clusters []*registry.Cluster, timeout time.Duration, progress io.Writer) []localfleet.Action {
	var out []localfleet.Action
	for _, c := range clusters {
		client := clientOf(c.Labels)
		out = append(out,
			localfleet.Action{Name: "Starting " + client + "'s Argo CD for " + c.Name + " (repo-server, application-controller)", Run: func(ctx context.Context) error {
				return f.StartClientArgoCD(ctx, c.Name, localfleet.ClientArgoCDOptions{})
			}},
			localfleet.Action{Name: "Waiting until " + client + "'s Applications on " + c.Name + " are Synced and Healthy", Run: func(ctx context.Context) error {
				_, err := WaitClientSynced(ctx, f, c.Name, timeout, progress)
				return err
			}},
		)
	}
	return out
}

// WaitClientSynced polls the client's Argo CD of cluster (its Applications
// in the cluster's namespace argocd) until there is at least one and every
// one is Synced and Healthy with its last operation Succeeded.
func WaitClientSynced(ctx context.Context, f *localfleet.Fleet, cluster string, timeout time.Duration, progress io.Writer) ([]status.App, error) {
	c, err := kube.Load(cluster, f.Kubeconfig(cluster))
	if err != nil {
		return nil, err
	}
	apps, err := waitApps(ctx, c, status.App.Ready, "Applications of "+cluster, timeout, progress)
	if err != nil {
		return apps, fmt.Errorf("the client Argo CD of %s: %w", cluster, err)
	}
	return apps, nil
}

// waitApps polls the Applications in namespace argocd of c (named what in
// progress lines) until there is at least one and ready says yes for each,
// printing changes to progress.
func waitApps(ctx context.Context, c *kube.Cluster, ready func(status.App) bool, what string, timeout time.Duration, progress io.Writer) ([]status.App, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var apps []status.App
	last := ""
	err := kube.WaitFor(ctx, 2*time.Second, func(ctx context.Context) (bool, error) {
		got, err := status.List(ctx, c.Dynamic, ArgoCDNamespace)
		if err != nil {
			return false, nil // keep the last list: the error message names what was not ready
		}
		apps = got
		n := 0
		for _, a := range apps {
			if ready(a) {
				n++
			}
		}
		if line := fmt.Sprintf("   %d/%d %s Synced and Healthy", n, len(apps), what); line != last {
			fmt.Fprintln(progress, line)
			last = line
		}
		return len(apps) > 0 && n == len(apps), nil
	})
	if err != nil {
		var msg string
		for _, a := range apps {
			if !ready(a) {
				msg += fmt.Sprintf("\n  %s: sync %s, health %s, operation %s %s", a.Name, a.Sync, a.Health, a.Operation, strings.Join(a.Messages, "; "))
			}
		}
		return apps, fmt.Errorf("not every Application became Synced and Healthy within %s:%s", timeout, msg)
	}
	return apps, nil
}
