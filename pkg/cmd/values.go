package cmd

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/gitops-hub/gitops-hub/pkg/action"
	"github.com/gitops-hub/gitops-hub/pkg/source"
)

func newValuesCommand(streams Streams) *cobra.Command {
	o := &action.Values{}
	c := &cobra.Command{
		Use:   "values CLUSTER ADDON",
		Short: "Show the merged Helm values of one Application and which layer set each key",
		Long: `Print the values Helm renders an addon with on one cluster: the chart's defaults, then
each values file of the Application (environments/default, environments/<env>, clusters/<name>),
then inline values and parameters, merged as Helm merges them. Each key carries, in a comment,
the layer that set it. Layer files that were looked for but are missing are listed on stderr.

ADDON is the Application name, the ApplicationSet (with or without "addons-") or the chart.`,
		Example: `  hubctl values eks-develop-clientA-services argo-cd`,
		Args:    cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Cluster, o.Addon = args[0], args[1]
			return runValues(cmd.Context(), streams, o)
		},
	}
	f := c.Flags()
	f.StringVar(&o.Repo, "repo", "", "repository folder (default: the Git working tree containing the working directory)")
	f.StringArrayVar(&o.AppSetFiles, "appset", nil, "ApplicationSet file (repeatable; default: all under bootstrap/)")
	f.StringArrayVar(&o.ClusterFiles, "clusters", nil, "cluster Secrets file (repeatable; default: clusters/*/cluster.yaml)")
	addLimitFlags(f, &o.Generate)
	addSourceFlags(f, &o.Render)
	return c
}

func runValues(ctx context.Context, streams Streams, o *action.Values) error {
	res, err := o.Run(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(streams.ErrOut, "# Application %s, chart %s\n", res.App.Name, res.Chart)
	fmt.Fprintln(streams.ErrOut, "# layers, lowest precedence first:")
	for _, l := range res.Layers {
		fmt.Fprintf(streams.ErrOut, "#   %s\n", l)
	}
	for _, m := range res.Missing {
		fmt.Fprintf(streams.ErrOut, "#   %s (missing, skipped: ignoreMissingValueFiles)\n", m)
	}
	return source.FormatProvenance(streams.Out, res.Merged, res.Origin)
}
