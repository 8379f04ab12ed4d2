package cmd

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/gitops-hub/gitops-hub/pkg/action"
)

func newChartsCommand(streams Streams) *cobra.Command {
	c := &cobra.Command{
		Use:   "charts",
		Short: "Work with the Helm charts the tree uses",
		Args:  cobra.NoArgs,
	}
	c.AddCommand(newChartsPullCommand(streams))
	return c
}

func newChartsPullCommand(streams Streams) *cobra.Command {
	o := &action.ChartsPull{}
	c := &cobra.Command{
		Use:   "pull DIR",
		Short: "Copy every chart the tree's Applications use into DIR, a Helm repository folder",
		Long: `Generate the Applications (as 'hubctl generate'), then copy every chart they use (repository,
chart and version, after cluster annotations and --chart-mirror; each once) into DIR as a Helm
repository folder: the packages as their repositories serve them, and index.yaml with relative
URLs. It is the one command that prepares an air-gapped machine: then

  HUBCTL_CHARTS_DIR=DIR hubctl up                                # the local fleet serves DIR
  hubctl render --chart-mirror https://argoproj.github.io/argo-helm=DIR ...

Charts come through the render chart cache (--cache-dir). Files already in DIR are never
removed or replaced: a package there must be the same chart and version (it is then not
downloaded again), and the entries of an existing index.yaml are kept. A second run downloads
nothing.`,
		Example: `  hubctl charts pull ./charts
  hubctl charts pull ./charts --cluster eks-develop-clientA-services`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Dir = args[0]
			return runChartsPull(cmd.Context(), streams, o)
		},
	}
	f := c.Flags()
	addGenerateFlags(f, &o.Generate, streams)
	f.StringArrayVar(&o.ChartMirrors, "chart-mirror", nil, "rewrite a chart repository URL: FROM=TO, TO a Helm repository URL, oci:// registry or folder of packaged charts (repeatable)")
	f.StringVar(&o.Config, "config", "", "config file with chartMirrors (default: hubctl.yaml in --repo, if present)")
	f.StringVar(&o.CacheDir, "cache-dir", "", "chart cache (default $HUBCTL_CACHE_DIR or $XDG_CACHE_HOME/gitops-hub/charts)")
	return c
}

func runChartsPull(ctx context.Context, streams Streams, o *action.ChartsPull) error {
	o.Progress = streams.ErrOut
	res, err := o.Run(ctx)
	if err != nil {
		return err
	}
	for _, w := range res.Generated.Warnings {
		fmt.Fprintf(streams.ErrOut, "Warning: %s\n", w)
	}
	for _, e := range res.Generated.Errors {
		fmt.Fprintf(streams.ErrOut, "Warning: left out, as Argo CD would skip it: %v\n", e)
	}
	for _, c := range res.Charts {
		if _, err := fmt.Fprintf(streams.Out, "%s\n", c.File); err != nil {
			return err
		}
	}
	n := res.Downloaded()
	switch {
	case n == 0 && !res.IndexWritten:
		fmt.Fprintf(streams.ErrOut, "%d chart(s) in %s; nothing downloaded: it holds every chart already\n", len(res.Charts), o.Dir)
	default:
		fmt.Fprintf(streams.ErrOut, "%d chart(s) in %s: %d downloaded, %d already there; index.yaml written\n", len(res.Charts), o.Dir, n, len(res.Charts)-n)
	}
	return nil
}
