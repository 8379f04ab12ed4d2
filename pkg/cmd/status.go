package cmd

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/gitops-hub/gitops-hub/pkg/action"
	"github.com/gitops-hub/gitops-hub/pkg/fsutil"
	"github.com/gitops-hub/gitops-hub/pkg/localfleet"
	"github.com/gitops-hub/gitops-hub/pkg/status"
)

type statusOptions struct {
	kube      kubeFlags
	local     bool
	stateDir  string
	namespace string
	output    string
	watch     bool
	html      string
	// The client view: the client's Argo CD on each hosting cluster.
	clients         bool
	clientNamespace string
	clientTimeout   time.Duration
	getenv          func(string) string
	args            []string // hubctl's command line, re-run in the local fleet's network namespace
}

func newStatusCommand(streams Streams, args []string) *cobra.Command {
	o := &statusOptions{getenv: os.Getenv, args: args}
	c := &cobra.Command{
		Use:   "status",
		Short: "Show every Application of the hub: cluster × addon, sync, health and the version synced",
		Long: `Read the hub's Applications and cluster Secrets and print the cluster × addon matrix: a
row per cluster with its environment (the cluster Secret's environment label), a column per
addon (the addon label of the Applications an ApplicationSet generated, else the ApplicationSet's
name). A cell shows the version the cluster runs (the chart version, read from the
Application's status, never from the spec; "old->new" while a new one is pending) and, when the
Application is not Synced and Healthy, its sync/health. Applications no ApplicationSet
generated are listed apart; every problem follows with its messages, one per line.

The hub, as kubectl finds it: --context, --kubeconfig, $KUBECONFIG, ~/.kube/config. The local
fleet's hub (hubctl up) instead with --local, --state-dir or $HUBCTL_STATE_DIR (when neither
--kubeconfig nor --context is given), or when there is no kubeconfig at all.

--clients also reads the client's Argo CD on every hosting cluster the hub registers, with the
credentials of its cluster Secret on the hub (the operator needs none): its Applications
(namespace --client-namespace, default argocd), their sync, health and version, shown after the
matrix, as "clients" in -o json and as a section of the --html page. The clusters are read in
parallel, each within --client-timeout; a cluster that is unreachable, refuses the credentials or
has no Argo CD is shown as such, with the cluster and the API call.

--watch prints again after each change until interrupted (Ctrl-C); --html FILE also writes a
self-contained page (problems first, a cell's details on click), replaced atomically.

Exit status: 0 when every Application is Synced and Healthy, 1 when some is not (with --watch:
at the last print), 2 on an error. With --clients, a client Application that is not Synced and
Healthy, or a hosting cluster that cannot be read, is also a finding (1); a cluster without Argo
CD is not.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runStatus(cmd.Context(), streams, o)
		},
	}
	o.kube.addFlags(c)
	f := c.Flags()
	f.BoolVar(&o.local, "local", false, "the local fleet's hub (hubctl up)")
	f.StringVar(&o.stateDir, "state-dir", "", "state directory of the local fleet (implies --local; default $HUBCTL_STATE_DIR)")
	f.StringVarP(&o.namespace, "namespace", "n", action.ArgoCDNamespace, "Argo CD's namespace on the hub")
	f.StringVarP(&o.output, "output", "o", status.OutputTable, "output format: "+strings.Join(status.Outputs, "|"))
	f.BoolVarP(&o.watch, "watch", "w", false, "print again after every change, until interrupted")
	f.StringVar(&o.html, "html", "", "also write a self-contained HTML page to this file")
	f.BoolVar(&o.clients, "clients", false, "also read the client's Argo CD on every hosting cluster, with the hub's stored credentials")
	f.StringVar(&o.clientNamespace, "client-namespace", action.ArgoCDNamespace, "the client's Argo CD namespace in each hosting cluster (with --clients)")
	f.DurationVar(&o.clientTimeout, "client-timeout", action.DefaultClientTimeout, "bound on reading one hosting cluster (with --clients)")
	_ = c.RegisterFlagCompletionFunc("output", cobra.FixedCompletions(status.Outputs, cobra.ShellCompDirectiveNoFileComp))
	_ = c.MarkFlagFilename("html", "html")
	_ = c.MarkFlagDirname("state-dir")
	return c
}

// useLocalFleet is the rule that picks the hub: --kubeconfig or --context
// name a hub as kubectl does; otherwise --local, --state-dir or
// $HUBCTL_STATE_DIR name the local fleet; otherwise a kubeconfig
// ($KUBECONFIG, ~/.kube/config) gives the current context; with none, the
// local fleet.
func (o *statusOptions) useLocalFleet() bool {
	switch {
	case o.kube.given():
		return false
	case o.local || o.stateDir != "" || o.getenv("HUBCTL_STATE_DIR") != "":
		return true
	}
	return !o.kube.haveKubeconfig()
}

func runStatus(ctx context.Context, streams Streams, o *statusOptions) error {
	if !slices.Contains(status.Outputs, o.output) {
		return fmt.Errorf("unknown output format %q (want one of %s)", o.output, strings.Join(status.Outputs, ", "))
	}
	if !o.clients && (o.clientNamespace != action.ArgoCDNamespace || o.clientTimeout != action.DefaultClientTimeout) {
		return errors.New("--client-namespace and --client-timeout apply to the client view: add --clients")
	}
	if o.clientTimeout <= 0 {
		return fmt.Errorf("--client-timeout %s: want a positive duration", o.clientTimeout)
	}
	if o.local && o.kube.given() {
		return errors.New("--local and --kubeconfig/--context name two different hubs: give one")
	}
	kf := o.kube
	if o.useLocalFleet() {
		dir := o.stateDir
		if dir == "" {
			dir = o.getenv("HUBCTL_STATE_DIR")
		}
		// The local fleet's hub is reachable only inside its network namespace.
		if err := localfleet.EnterNetns(stateDir(dir), o.args); err != nil {
			return err
		}
		kc, err := action.LocalHubKubeconfig(dir)
		if err != nil {
			return err
		}
		kf = kubeFlags{kubeconfig: kc, requestTimeout: o.kube.requestTimeout}
	}
	hub, context, err := kf.cluster()
	if err != nil {
		return err
	}
	a := &action.Status{Hub: hub, Context: context, Namespace: o.namespace,
		Clients: o.clients, ClientNamespace: o.clientNamespace, ClientTimeout: o.clientTimeout}
	if !o.watch {
		f, err := a.Run(ctx)
		if err != nil {
			return err
		}
		return printStatus(streams, o, f)
	}
	// Ctrl-C cancels ctx (the CLI's one signal handler, cmd/hubctl) and ends the watch.
	var last []byte
	var lastErr error
	err = a.Watch(ctx, func(f *status.Fleet) error {
		var buf bytes.Buffer
		if err := status.Write(&buf, f, o.output); err != nil {
			return err
		}
		if bytes.Equal(buf.Bytes(), last) {
			return nil
		}
		if last != nil {
			fmt.Fprintf(streams.ErrOut, "\n--- %s\n", time.Now().Format(time.TimeOnly))
		}
		last = buf.Bytes()
		lastErr = printStatus(streams, o, f)
		var fe *findingsError
		if lastErr != nil && !errors.As(lastErr, &fe) {
			return lastErr
		}
		return nil
	})
	if err != nil {
		return err
	}
	return lastErr
}

// printStatus writes the fleet to stdout (and the page), the counts to
// stderr, and returns a findingsError when some Application is not ready
// (with the client view: also a client Application, or a hosting cluster
// that could not be read).
func printStatus(streams Streams, o *statusOptions, f *status.Fleet) error {
	if err := status.Write(streams.Out, f, o.output); err != nil {
		return err
	}
	if o.html != "" {
		if err := writeStatusPage(o.html, f); err != nil {
			return err
		}
	}
	ready, total := f.Summary()
	fmt.Fprintf(streams.ErrOut, "%d/%d Applications Synced and Healthy\n", ready, total)
	findings := total - ready
	if cs := f.ClientSummary(); cs != nil {
		fmt.Fprintln(streams.ErrOut, cs.Text())
		findings += cs.Findings()
	}
	if findings > 0 {
		return &findingsError{n: findings}
	}
	return nil
}

// writeStatusPage writes the HTML page atomically. It replaces an existing
// file only when hubctl wrote it (it carries the page's generator marker).
func writeStatusPage(path string, f *status.Fleet) error {
	if old, err := os.ReadFile(path); err == nil {
		if !bytes.Contains(old, []byte(status.HTMLGenerator)) {
			return fmt.Errorf("--html %s: the file exists and is not a page hubctl status wrote; not overwriting it", path)
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("--html %s: %w", path, err)
	}
	var buf bytes.Buffer
	if err := status.WriteHTML(&buf, f); err != nil {
		return err
	}
	return fsutil.ReplaceFile(path, buf.Bytes(), 0o644)
}
