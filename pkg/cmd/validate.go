package cmd

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/gitops-hub/gitops-hub/pkg/action"
	"github.com/gitops-hub/gitops-hub/pkg/validate"
)

type validateOptions struct {
	action.Validate
	Output string
}

func newValidateCommand(streams Streams) *cobra.Command {
	o := &validateOptions{}
	c := &cobra.Command{
		Use:   "validate",
		Short: "Check the GitOps tree for mistakes Argo CD accepts silently",
		Long: `Check, offline and without charts, what passes silently today: enable_ labels no
ApplicationSet selects, environments without a layer, cluster directories named otherwise than
their cluster, duplicate registry entries, labels and annotations the templates read but a
cluster lacks, values for charts nobody deploys, values files that are not YAML, Applications
their AppProject refuses, duplicate Applications, ApplicationSets that delete on removal or
prune, floating chart versions and committed credentials. Every rule is in docs/validate.md.

With --render every Application is also rendered (charts needed) and its manifests checked:
the Kubernetes API schema, the CRDs found in the render, and APIs deprecated or removed in the
clusters' Kubernetes version.

Exit status: 1 when a finding is an error, 0 with only warnings or none, 2 when it cannot run.`,
		Example: `  hubctl validate
  hubctl validate -o sarif > hubctl.sarif           # annotate a pull request
  hubctl validate --render --chart-mirror https://argoproj.github.io/argo-helm=./charts`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runValidate(cmd.Context(), streams, o)
		},
	}
	f := c.Flags()
	f.StringVar(&o.Repo, "repo", ".", "repository folder")
	addSourceFlags(f, &o.Render)
	f.BoolVar(&o.RenderManifests, "render", false, "also render every Application and check the manifests (needs the charts)")
	f.StringVarP(&o.Output, "output", "o", "text", "output format: text, json or sarif")
	return c
}

func runValidate(ctx context.Context, streams Streams, o *validateOptions) error {
	switch o.Output {
	case "text", "json", "sarif":
	default:
		return fmt.Errorf("--output %q: use text, json or sarif", o.Output)
	}
	rep, err := o.Validate.Run(ctx)
	if err != nil {
		return err
	}
	switch o.Output {
	case "json":
		err = validate.WriteJSON(streams.Out, rep)
	case "sarif":
		err = validate.WriteSARIF(streams.Out, rep, Version)
	default:
		err = validate.WriteText(streams.Out, rep)
	}
	if err != nil {
		return fmt.Errorf("writing output: %w", err)
	}
	if rep.HasErrors() {
		return &findingsError{n: len(rep.Findings)}
	}
	return nil
}
