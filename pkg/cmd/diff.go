package cmd

import (
	"bufio"
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/gitops-hub/gitops-hub/pkg/action"
	"github.com/gitops-hub/gitops-hub/pkg/diff"
)

type diffOptions struct {
	action.Diff
	Output       string
	ExitCode     bool
	FailOnDelete bool
}

func newDiffCommand(streams Streams) *cobra.Command {
	o := &diffOptions{}
	c := &cobra.Command{
		Use:   "diff",
		Short: "Show, offline, what a change of the GitOps tree does to every cluster",
		Long: `Compare two revisions of the repository the way Argo CD would see them: for each side the
cluster registry, the ApplicationSets and the values are read from that revision's Git objects
(no checkout), the Applications are generated, then rendered. Applications are matched by name,
objects by group, kind, namespace and name.

--base defaults to HEAD; --head defaults to the working tree, uncommitted changes included.

A removed Application deletes its resources only when the base Application carries Argo CD's
resources finalizer (deletesResources); a removed object is deleted only when the head
Application syncs automatically with prune: true (pruned). A cluster renamed with the same
server, or an Application that moved to another name, shows as one rename. Argo CD's tracking
label and annotation, and checksum/* annotations over unchanged ConfigMaps and Secrets, are
ignored; Secret values are shown as a short hash, never in clear.

An Application whose render inputs (chart, values, release, namespace, Kubernetes version)
are equal on both sides is not rendered at all.

Exit status: 0 (changes or not); with --exit-code 1 when anything changed; with
--fail-on-delete 1 when an Application or an object is removed; 2 on an error.`,
		Example: `  hubctl diff                                   # working tree against HEAD
  hubctl diff --base origin/main -o markdown     # a pull-request comment
  hubctl diff --base v1.2.0 --head v1.3.0 --cluster eks-prod-clientA-services
  hubctl diff --fail-on-delete -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runDiff(cmd.Context(), streams, o)
		},
	}
	f := c.Flags()
	f.StringVar(&o.Repo, "repo", ".", "repository folder (a Git repository)")
	f.StringVar(&o.Base, "base", "HEAD", "base revision (branch, tag, commit or revision expression)")
	f.StringVar(&o.Head, "head", "", "head revision (default: the working tree, uncommitted changes included)")
	f.StringArrayVar(&o.Clusters, "cluster", nil, "only Applications deployed to this cluster on either side (repeatable)")
	f.StringVarP(&o.Output, "output", "o", diff.FormatText, "output format: "+strings.Join(diff.Formats, ", "))
	f.BoolVar(&o.ExitCode, "exit-code", false, "exit 1 when anything changed")
	f.BoolVar(&o.FailOnDelete, "fail-on-delete", false, "exit 1 when an Application or an object is removed")
	addChartFlags(f, &o.Source)
	return c
}

func runDiff(ctx context.Context, streams Streams, o *diffOptions) error {
	if !slices.Contains(diff.Formats, o.Output) {
		return fmt.Errorf("--output %q: want one of %s", o.Output, strings.Join(diff.Formats, ", "))
	}
	res, err := o.Diff.Run(ctx)
	if err != nil {
		return err
	}
	for _, w := range res.Warnings {
		fmt.Fprintf(streams.ErrOut, "Warning: %s\n", w)
	}
	w := bufio.NewWriter(streams.Out)
	if err := res.Report.Write(w, o.Output); err != nil {
		return err
	}
	if err := w.Flush(); err != nil {
		return fmt.Errorf("writing output: %w", err)
	}
	fmt.Fprintf(streams.ErrOut, "rendered %d Application(s) of the base and %d of the head; the others have equal inputs on both sides\n", res.RenderedBase, res.RenderedHead)
	if len(res.RenderErrors) > 0 {
		for _, e := range res.RenderErrors {
			fmt.Fprintf(streams.ErrOut, "Error: %v\n", e)
		}
		return fmt.Errorf("%d Application(s) failed to render; the diff leaves them out", len(res.RenderErrors))
	}
	rep := res.Report
	if o.FailOnDelete && rep.HasRemovals() {
		return &findingsError{n: 1}
	}
	if o.ExitCode && rep.HasChanges() {
		return &findingsError{n: 1}
	}
	return nil
}
