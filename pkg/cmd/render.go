package cmd

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"sort"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/gitops-hub/gitops-hub/pkg/action"
	"github.com/gitops-hub/gitops-hub/pkg/outdir"
	"github.com/gitops-hub/gitops-hub/pkg/render"
)

type renderOptions struct {
	action.Render
	Output string
	OutDir string
	Force  bool
}

// addSourceFlags are the flags that say where sources come from, shared by
// render and values.
func addSourceFlags(f *pflag.FlagSet, r *action.Render) {
	f.StringVar(&r.Revision, "revision", "", "Git revision of --repo to read values and manifests from (default: the working tree)")
	addChartFlags(f, r)
}

// addChartFlags are the source flags that do not pick a revision (diff
// picks two).
func addChartFlags(f *pflag.FlagSet, r *action.Render) {
	f.StringArrayVar(&r.RepoURLs, "repo-url", nil, "URL under which Argo CD knows this repository (repeatable; Git remotes and the root Application's repoURL are added)")
	f.StringArrayVar(&r.ChartMirrors, "chart-mirror", nil, "rewrite a chart repository URL: FROM=TO, TO a Helm repository URL, oci:// registry or folder of packaged charts (repeatable)")
	f.StringVar(&r.Config, "config", "", "config file with repoURLs, chartMirrors, kubeVersion, apiVersions (default: hubctl.yaml in --repo, if present)")
	f.StringVar(&r.KubeVersion, "kube-version", "", "Kubernetes version of the destination clusters (default 1.35.0)")
	f.StringArrayVar(&r.APIVersions, "api-versions", nil, "API versions available in the destination clusters (repeatable)")
	f.StringVar(&r.Limits.ConnectTimeout, "connect-timeout", "", "limit on connecting to a chart repository (TCP + TLS; default 30s; config limits.connectTimeout)")
	f.StringVar(&r.Limits.HTTPTimeout, "http-timeout", "", "limit on one whole chart repository request, body included (default 5m; config limits.httpTimeout)")
	f.StringVar(&r.Limits.MaxIndexSize, "max-index-size", "", "limit on a repository's index.yaml (default 64Mi; config limits.maxIndexSize)")
	f.StringVar(&r.Limits.MaxChartSize, "max-chart-size", "", "limit on a chart package (default 64Mi; config limits.maxChartSize)")
	f.StringVar(&r.CacheDir, "cache-dir", "", "chart cache (default $HUBCTL_CACHE_DIR or $XDG_CACHE_HOME/gitops-hub/charts)")
}

func newRenderCommand(streams Streams) *cobra.Command {
	o := &renderOptions{}
	c := &cobra.Command{
		Use:   "render",
		Short: "Render, offline, the manifests every cluster gets from its Applications",
		Long: `Generate the Applications (as 'hubctl generate'), then render each one as Argo CD's
repo-server would: Helm charts with their layered values files ($values refs read from this
repository at --revision), plain directories and Kustomize sources.

Identical renders are done once; independent renders run in parallel; charts are fetched
once into a content-addressed cache. Every Application is rendered even when another fails;
errors are reported at the end and the exit status is then 2.

--out DIR writes DIR/<cluster>/<application>.yaml (DIR/<cluster>/<namespace>/<application>.yaml
for Applications of one cluster that share a name) and a marker file DIR/.hubctl-render. DIR
must be absent, empty or a previous hubctl output (it holds the marker); anything else is
refused with nothing changed. --force also replaces a non-empty folder without the marker, but
never a file, a link, a Git repository, or a folder that is or contains the repository, the
working directory, $HOME or /. DIR is swapped whole and atomically, and only when every Application rendered: a
failed or interrupted render leaves it as it was.`,
		Example: `  hubctl render --cluster eks-develop-clientA-services
  hubctl render --out rendered/                     # rendered/<cluster>/<application>.yaml
  hubctl render --app argo-cd --chart-mirror https://argoproj.github.io/argo-helm=./charts`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runRender(cmd.Context(), streams, o)
		},
	}
	f := c.Flags()
	addGenerateFlags(f, &o.Generate, streams)
	addSourceFlags(f, &o.Render)
	f.StringArrayVar(&o.Apps, "app", nil, "only this Application, addon (ApplicationSet, with or without addons-) or chart (repeatable)")
	f.StringArrayVar(&o.Apps, "addon", nil, "alias of --app")
	f.StringVarP(&o.Output, "output", "o", "yaml", "output format: yaml")
	f.StringVar(&o.OutDir, "out", "", "write DIR/<cluster>/<application>.yaml instead of stdout; DIR is replaced atomically, only if absent, empty or a previous hubctl output")
	f.BoolVar(&o.Force, "force", false, "let --out replace a non-empty folder that is not a previous hubctl output (never a Git repository, nor one that is or contains the repository, the working directory, $HOME or /)")
	return c
}

func runRender(ctx context.Context, streams Streams, o *renderOptions) error {
	if o.Output != "yaml" {
		return fmt.Errorf("--output %q: render prints yaml", o.Output)
	}
	var out *outdir.Dir
	if o.OutDir != "" {
		// Refuse a wrong --out before rendering, with nothing touched.
		var err error
		if out, err = outdir.Open(o.OutDir, o.Force, protectedDirs(o.Repo)); err != nil {
			return err
		}
	}
	res, err := o.Render.Run(ctx)
	if err != nil {
		return err
	}
	for _, w := range res.Generated.Warnings {
		fmt.Fprintf(streams.ErrOut, "Warning: %s\n", w)
	}
	for _, e := range res.Generated.Errors {
		fmt.Fprintf(streams.ErrOut, "Error: %v\n", e)
	}
	results := append([]render.Result(nil), res.Results...)
	sort.SliceStable(results, func(i, j int) bool {
		if results[i].Cluster != results[j].Cluster {
			return results[i].Cluster < results[j].Cluster
		}
		return results[i].App.Name < results[j].App.Name
	})
	if out != nil {
		// An Application that cannot have its file fails like a render.
		_, pathErrs := action.TreePaths(results)
		for i, err := range pathErrs {
			if results[i].Err == nil && err != nil {
				results[i].Err = err
			}
		}
	} else {
		w := bufio.NewWriter(streams.Out)
		first := true
		for _, r := range results {
			if r.Err != nil || len(r.Objects) == 0 {
				continue
			}
			b, err := r.YAML()
			if err != nil {
				return err
			}
			if !first {
				fmt.Fprint(w, "---\n")
			}
			first = false
			fmt.Fprintf(w, "# Application %s -> cluster %s\n", r.App.Name, r.Cluster)
			w.Write(b)
		}
		if err := w.Flush(); err != nil {
			return fmt.Errorf("writing output: %w", err)
		}
	}
	failed := 0
	for _, r := range results {
		if r.Err != nil {
			failed++
			fmt.Fprintf(streams.ErrOut, "Error: %v\n", r.Err)
		}
	}
	rendered := len(results) - failed
	fmt.Fprintf(streams.ErrOut, "rendered %d Application(s) for %d cluster(s)", rendered, countClusters(results))
	if failed > 0 {
		fmt.Fprintf(streams.ErrOut, "; %d failed\n", failed)
		if out != nil {
			return fmt.Errorf("%d Application(s) failed to render: --out %s left unchanged", failed, o.OutDir)
		}
		return fmt.Errorf("%d Application(s) failed to render", failed)
	}
	fmt.Fprintln(streams.ErrOut)
	if out != nil {
		if err := action.WriteTree(ctx, out, results); err != nil {
			return fmt.Errorf("--out %s: %w", o.OutDir, err)
		}
	}
	if len(res.Generated.Errors) > 0 {
		return &findingsError{n: len(res.Generated.Errors)}
	}
	return nil
}

// protectedDirs are the folders --out may never be or contain: the
// repository, the working directory and $HOME (outdir.Open adds /).
func protectedDirs(repo string) []outdir.Protected {
	if repo == "" {
		repo = "."
	}
	dirs := []outdir.Protected{{What: "the repository", Path: repo}, {What: "the working directory", Path: "."}}
	if home, err := os.UserHomeDir(); err == nil {
		dirs = append(dirs, outdir.Protected{What: "$HOME", Path: home})
	}
	return dirs
}

func countClusters(rs []render.Result) int {
	seen := map[string]bool{}
	for _, r := range rs {
		if r.Err == nil {
			seen[r.Cluster] = true
		}
	}
	return len(seen)
}
