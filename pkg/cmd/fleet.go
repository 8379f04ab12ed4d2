package cmd

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/gitops-hub/gitops-hub/internal/netns"
	"github.com/gitops-hub/gitops-hub/pkg/action"
	"github.com/gitops-hub/gitops-hub/pkg/localfleet"
	"github.com/gitops-hub/gitops-hub/pkg/status"
)

// newUpCommand builds up; args are hubctl's command line, re-run in a
// network namespace when this process is not isolated.
func newUpCommand(streams Streams, args []string) *cobra.Command {
	o := &action.Up{}
	c := &cobra.Command{
		Use:   "up",
		Short: "Start the local fleet: a hub with Argo CD and the local hosting clusters",
		Long: `Start, on this machine, a hub cluster and the local hosting clusters of the local overlay
(hack/local-fleet/overlay/clusters/*/cluster.yaml, labelled provider=local): real etcd, kube-apiserver, kube-controller-manager and kube-scheduler (kwok's
binary runtime, with simulated nodes), the real Argo CD controllers as local processes, a Git
daemon serving this repository's HEAD with the overlay laid over it (the local clusters, and the
Git daemon and chart server allowed in every AppProject) and a Helm chart server of --charts. The hub is bootstrapped (Argo CD
CRDs, the argo-cd chart, the root Application), the hosting clusters are registered, and up waits
until every Application is Synced and Healthy.

A registry entry annotated local_runtime: apiserver becomes an apiserver-only cluster instead: a
bare kube-apiserver on an etcd shared with the other such clusters, for measuring how far one hub
scales (hack/fleet-scale.sh). Nothing runs its Pods, so its Applications are waited for Synced
only.

The binaries come from 'make tools' (hack/tools/build.sh), cached outside the repository; after
it, up works offline. Everything listens on 127.0.0.1, inside a network namespace that has only
loopback (up re-executes itself under unshare when needed). up on a running fleet completes it.
A failed up names the failed step and its logs and leaves nothing running.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runUp(cmd.Context(), streams, o, args)
		},
	}
	f := c.Flags()
	f.StringVar(&o.Repo, "repo", "", "repository (its HEAD, with the local overlay hack/local-fleet/overlay laid over it, is served to Argo CD; default: the Git working tree containing the working directory)")
	f.StringVar(&o.StateDir, "state-dir", os.Getenv("HUBCTL_STATE_DIR"), "state directory (default $HUBCTL_STATE_DIR or $XDG_STATE_HOME/gitops-hub/fleet)")
	f.StringVar(&o.BinDir, "bin-dir", os.Getenv("HUBCTL_BIN_DIR"), "directory of etcd, kube-apiserver, kwokctl, argocd, ... (default $HUBCTL_BIN_DIR or the hack/tools cache)")
	f.StringVar(&o.ChartsDir, "charts", "", "Helm repository folder served to Argo CD (default $HUBCTL_CHARTS_DIR; make one with hubctl charts pull DIR)")
	f.DurationVar(&o.Timeout, "timeout", 10*time.Minute, "how long to wait for every Application to be Synced and Healthy")
	f.BoolVar(&o.AllowHostNetwork, "allow-host-network", false, "run outside a loopback-only network namespace (not recommended)")
	return c
}

func runUp(ctx context.Context, streams Streams, o *action.Up, args []string) error {
	if ok, why := netns.Isolated(); !ok && !o.AllowHostNetwork {
		fmt.Fprintf(streams.ErrOut, "not in an isolated network namespace (%s): re-executing in one\n", why)
		// Into the running fleet's namespace when there is one, else a new one.
		if err := localfleet.ReexecIsolatedFor(stateDir(o.StateDir), args); err != nil {
			return err
		}
	}
	o.Progress = streams.ErrOut
	// ctx is cancelled on SIGINT and SIGTERM by the CLI's one signal
	// handler (cmd/hubctl).
	res, err := o.Run(ctx)
	if err != nil {
		return err
	}
	if err := status.WriteTable(streams.Out, status.FleetOf(res.Apps), false); err != nil {
		return err
	}
	fmt.Fprintf(streams.Out, "\nThe fleet runs; its state is in %s\n", res.Fleet.StateDir)
	for _, c := range res.Fleet.Clusters() {
		fmt.Fprintf(streams.Out, "  %-32s KUBECONFIG=%s\n", c, res.Fleet.Kubeconfig(c))
	}
	if res.State != nil && res.State.Netns != nil {
		fmt.Fprintf(streams.Out, "It runs in its own network namespace: enter it with %s\n", res.State.Netns.Enter)
	}
	fmt.Fprintln(streams.Out, "Status: hubctl status --local    Stop and remove: hubctl down")
	return nil
}

func newDownCommand(streams Streams) *cobra.Command {
	o := &action.Down{}
	c := &cobra.Command{
		Use:   "down",
		Short: "Stop every process of the local fleet and remove its state",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.Progress = streams.ErrOut
			return o.Run(cmd.Context())
		},
	}
	c.Flags().StringVar(&o.StateDir, "state-dir", os.Getenv("HUBCTL_STATE_DIR"), "state directory of the fleet")
	return c
}

// newInternalCommand holds helpers hubctl starts as processes of the local
// fleet; they are not meant to be run by hand.
func newInternalCommand() *cobra.Command {
	c := &cobra.Command{Use: "internal", Short: "Helpers started by hubctl up", Hidden: true}
	var addr string
	serve := &cobra.Command{
		Use:  "serve-charts DIR",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return localfleet.ServeCharts(cmd.Context(), args[0], addr)
		},
	}
	serve.Flags().StringVar(&addr, "addr", "127.0.0.1:18879", "listen address (loopback only)")
	var gitAddr, gitUser, gitPasswordFile string
	serveGit := &cobra.Command{
		Use:  "serve-git DIR",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return localfleet.ServeGit(cmd.Context(), args[0], gitAddr, gitUser, gitPasswordFile)
		},
	}
	serveGit.Flags().StringVar(&gitAddr, "addr", "127.0.0.1:19419", "listen address (loopback only)")
	serveGit.Flags().StringVar(&gitUser, "user", localfleet.WorkloadsUser, "the user name HTTP basic auth accepts")
	serveGit.Flags().StringVar(&gitPasswordFile, "password-file", "", "file holding the password HTTP basic auth accepts")
	c.AddCommand(serve, serveGit)
	return c
}

// stateDir is the fleet's state directory: the flag, else the default.
func stateDir(flag string) string {
	d, _ := action.StateDir(flag)
	return d
}
