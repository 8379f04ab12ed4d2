package cmd

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/gitops-hub/gitops-hub/pkg/action"
	"github.com/gitops-hub/gitops-hub/pkg/kube"
)

type bootstrapOptions struct {
	repo         string
	hub          kubeFlags
	chartMirrors []string
	b            action.Bootstrap
}

func newBootstrapCommand(streams Streams) *cobra.Command {
	o := &bootstrapOptions{}
	c := &cobra.Command{
		Use:   "bootstrap",
		Short: "Install or upgrade Argo CD on the hub from this tree, then hand the hub to Git",
		Long: `Install or upgrade Argo CD on the hub (the current or --context cluster) from this tree: the
chart pinned in bootstrap/hub/argo-cd.yaml with the values of bootstrap/hub/values.yaml, then the
AppProjects and the root Application (bootstrap/root-app.yaml). It waits until Argo CD is available
and, with --wait-sync, until the root Application is Synced.

A second run changes nothing and says so; a new chart pin upgrades the release. --dry-run prints
what would be applied and changes nothing. Charts come from their repositories, or from
--chart-mirror FROM=TO and $HUBCTL_CHARTS_DIR (a folder of packaged charts). Progress goes to
stderr.`,
		Example: `  hubctl bootstrap --context hub
  hubctl bootstrap --context hub --dry-run > hub.yaml
  hubctl bootstrap --context hub --wait-sync 5m`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runBootstrap(cmd.Context(), streams, o)
		},
	}
	f := c.Flags()
	f.StringVar(&o.repo, "repo", ".", "the GitOps tree")
	o.hub.addHubFlags(f)
	f.StringArrayVar(&o.chartMirrors, "chart-mirror", nil, "rewrite a chart repository URL: FROM=TO (repeatable)")
	f.DurationVar(&o.b.WaitAvailable, "wait", 5*time.Minute, "how long to wait until Argo CD is available (0: do not wait)")
	f.DurationVar(&o.b.WaitSync, "wait-sync", 0, "also wait this long until the root Application is Synced (0: do not wait)")
	f.BoolVar(&o.b.DryRun, "dry-run", false, "print what would be applied; change nothing")
	f.StringVar(&o.b.RepoURL, "repo-url", "", "the URL the hub reads this repository at (default: the root Application's)")
	f.StringVar(&o.b.Revision, "revision", "", "the revision the root Application follows (default: the root Application's)")
	f.StringVar(&o.b.CRDDir, "crd-dir", "", "apply Argo CD's CRDs from this folder instead of the chart's")
	_ = c.RegisterFlagCompletionFunc("context", completeContexts(&o.hub, nil))
	return c
}

func runBootstrap(ctx context.Context, streams Streams, o *bootstrapOptions) error {
	charts, err := action.NewChartSource(os.Getenv("HUBCTL_CHARTS_DIR"), o.chartMirrors)
	if err != nil {
		return err
	}
	o.b.Config = &action.Configuration{
		RepoDir: o.repo, Charts: charts, Progress: streams.ErrOut,
		Hub: func() (*kube.Cluster, error) { return o.hub.load("hub", nil) },
	}
	o.b.Out = streams.Out
	res, err := o.b.Run(ctx)
	if err != nil {
		return err
	}
	switch {
	case o.b.DryRun && res.Changed():
		fmt.Fprintln(streams.ErrOut, "bootstrap: dry run: the objects above would be applied; nothing was changed")
	case o.b.DryRun:
		fmt.Fprintln(streams.ErrOut, "bootstrap: dry run: the hub is up to date; nothing would change")
	case res.Changed():
		fmt.Fprintln(streams.ErrOut, "bootstrap: done; the hub follows Git")
	default:
		fmt.Fprintln(streams.ErrOut, "bootstrap: the hub is up to date; nothing changed")
	}
	return nil
}
