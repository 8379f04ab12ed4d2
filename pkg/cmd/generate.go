package cmd

import (
	"context"
	"fmt"
	"sort"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/gitops-hub/gitops-hub/pkg/action"
	"github.com/gitops-hub/gitops-hub/pkg/generate"
	"github.com/gitops-hub/gitops-hub/pkg/output"
)

type generateOptions struct {
	action.Generate
	Output string
}

func newGenerateCommand(streams Streams) *cobra.Command {
	o := &generateOptions{}
	c := &cobra.Command{
		Use:   "generate",
		Short: "Print the Applications the hub's ApplicationSets generate, offline",
		Long: `Evaluate the ApplicationSets of the repository against the cluster registry,
exactly as Argo CD's ApplicationSet controller would, and print the Applications.

No cluster, no Argo CD and no network are needed. By default every ApplicationSet
under bootstrap/ is evaluated against the cluster Secrets in clusters/*/cluster.yaml.

Exit status: 0 when every Application is valid; 1 when some Applications are invalid
(they are reported on stderr and left out, the others are printed, as Argo CD creates
the valid ones); 2 on an error (nothing is printed on stdout).`,
		Example: `  hubctl generate
  hubctl generate -o table
  hubctl generate --cluster eks-develop-clientA-services
  hubctl generate --appset bootstrap/control-plane/addons/oss/appset-argocd.yaml --clusters fleet.yaml`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runGenerate(cmd.Context(), streams, o)
		},
	}
	f := c.Flags()
	addGenerateFlags(f, &o.Generate, streams)
	f.StringVarP(&o.Output, "output", "o", output.FormatYAML, "output format: yaml, json or table")
	return c
}

// addGenerateFlags are the input flags shared by every offline verb
// (--clusters - reads streams.In).
func addGenerateFlags(f *pflag.FlagSet, g *action.Generate, streams Streams) {
	g.Stdin = streams.In
	f.StringVar(&g.Repo, "repo", "", "repository folder (ApplicationSets under bootstrap/, registry in clusters/, files for Git generators; default: the Git working tree containing the working directory)")
	f.StringArrayVar(&g.AppSetFiles, "appset", nil, "ApplicationSet file (repeatable; default: all under bootstrap/ of --repo); with --repo, a relative path is read from the repository")
	f.StringArrayVar(&g.ClusterFiles, "clusters", nil, "multi-document YAML of Argo CD cluster Secrets, or a v1 List of them as kubectl get -o yaml writes; - reads standard input (repeatable; default: clusters/*/cluster.yaml of --repo)")
	f.StringArrayVar(&g.Clusters, "cluster", nil, "only Applications deployed to this cluster (repeatable)")
	addLimitFlags(f, g)
}

// addLimitFlags are the generation limits (README "Limits").
func addLimitFlags(f *pflag.FlagSet, g *action.Generate) {
	f.IntVar(&g.MaxApplications, "max-applications", generate.DefaultMaxApplications, "limit on the Applications of one ApplicationSet (and the parameter sets of one generator)")
}

func runGenerate(ctx context.Context, streams Streams, o *generateOptions) error {
	switch o.Output {
	case output.FormatYAML, output.FormatJSON, output.FormatTable:
	default:
		return fmt.Errorf("--output %q: must be yaml, json or table", o.Output)
	}
	res, err := o.Generate.Run(ctx)
	if err != nil {
		return err
	}
	for _, w := range res.Warnings {
		fmt.Fprintf(streams.ErrOut, "Warning: %s\n", w)
	}
	objs := make([]map[string]any, len(res.Apps))
	for i, a := range res.Apps {
		objs[i] = a.Object
	}
	// Every error that is not an I/O error happened above: stdout is
	// written only once the result is complete.
	switch o.Output {
	case output.FormatYAML:
		err = output.WriteYAML(streams.Out, objs)
	case output.FormatJSON:
		err = output.WriteJSON(streams.Out, objs)
	case output.FormatTable:
		err = output.WriteMatrix(streams.Out, fleetMatrix(res))
	}
	if err != nil {
		return fmt.Errorf("writing output: %w", err)
	}
	for _, e := range res.Errors {
		fmt.Fprintf(streams.ErrOut, "Error: %v\n", e)
	}
	if len(res.Errors) > 0 {
		fmt.Fprintf(streams.ErrOut, "%d Application(s) are invalid and were left out, as Argo CD would skip them\n", len(res.Errors))
		return &findingsError{n: len(res.Errors)}
	}
	return nil
}

// fleetMatrix is the cluster × ApplicationSet table: each cell shows the
// chart version (or revision) the cluster gets.
func fleetMatrix(res *action.GenerateResult) output.Matrix {
	m := output.Matrix{Corner: "cluster", Cells: map[[2]string]string{}}
	rows := map[string]bool{}
	for _, c := range res.Registry.Clusters {
		rows[c.Name] = true
	}
	cols := map[string]bool{}
	for _, r := range res.AppSets {
		cols[r.AppSet] = true
	}
	for _, a := range res.Apps {
		cl := action.DestinationCluster(res.Registry, a)
		rows[cl] = true
		key := [2]string{cl, a.AppSet}
		v := revisionOf(a)
		if prev := m.Cells[key]; prev != "" {
			v = prev + "," + v
		}
		m.Cells[key] = v
	}
	for r := range rows {
		m.Rows = append(m.Rows, r)
	}
	for c := range cols {
		m.Columns = append(m.Columns, c)
	}
	sort.Strings(m.Rows)
	return m
}

// revisionOf returns the chart version of the Application's chart source,
// else the revision of its first source, else "yes".
func revisionOf(app *generate.Application) string {
	first := ""
	for _, m := range app.Sources() {
		rev, _ := m["targetRevision"].(string)
		if _, ok := m["chart"]; ok && rev != "" {
			return rev
		}
		if first == "" {
			first = rev
		}
	}
	if first != "" {
		return first
	}
	return "yes"
}
