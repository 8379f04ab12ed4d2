package cmd

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"sigs.k8s.io/yaml"

	"github.com/gitops-hub/gitops-hub/pkg/action"
	"github.com/gitops-hub/gitops-hub/pkg/kube"
	"github.com/gitops-hub/gitops-hub/pkg/onboard"
)

// clusterFlags are the flags every cluster subcommand shares: the tree, the hub, the target.
type clusterFlags struct {
	repo   string
	hub    kubeFlags
	target kubeFlags
}

func (f *clusterFlags) add(c *cobra.Command, withTarget bool) {
	fs := c.Flags()
	fs.StringVar(&f.repo, "repo", ".", "the GitOps tree")
	f.hub.addHubFlags(fs)
	_ = c.RegisterFlagCompletionFunc("context", completeContexts(&f.hub, nil))
	if withTarget {
		f.target.addTargetFlags(fs)
		_ = c.RegisterFlagCompletionFunc("target-context", completeContexts(&f.target, &f.hub))
	}
}

func (f *clusterFlags) config(streams Streams) *action.Configuration {
	cfg := &action.Configuration{
		RepoDir: f.repo, Progress: streams.ErrOut,
		Hub: func() (*kube.Cluster, error) { return f.hub.load("hub", nil) },
	}
	if f.target.set() {
		cfg.Target = func() (*kube.Cluster, error) { return f.target.load("target", &f.hub) }
	}
	return cfg
}

// completeClusterNames completes the first argument with the registry's cluster names.
func completeClusterNames(f *clusterFlags) func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	return func(_ *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
		if len(args) > 0 {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		return action.ClusterNames(action.TreeFS(action.RepoRoot(f.repo))), cobra.ShellCompDirectiveNoFileComp
	}
}

func newClusterCommand(streams Streams) *cobra.Command {
	c := &cobra.Command{
		Use:   "cluster",
		Short: "Register, list, rotate and remove the hub's clusters",
	}
	c.AddCommand(newClusterAddCommand(streams), newClusterListCommand(streams), newClusterRotateCommand(streams), newClusterRemoveCommand(streams))
	return c
}

type clusterAddOptions struct {
	clusterFlags
	a           action.ClusterAdd
	annotations []string
	execCommand string
	execArgs    []string
	execEnv     []string
	execAPI     string
	execHint    string
}

func newClusterAddCommand(streams Streams) *cobra.Command {
	o := &clusterAddOptions{}
	c := &cobra.Command{
		Use:   "add NAME",
		Short: "Register a cluster in the hub, from a kubeconfig context",
		Long: `Register the target cluster (--target-context / --target-kubeconfig) in the hub (the current
or --context cluster) as NAME:

- the registry entry clusters/NAME/cluster.yaml: written from --environment, --client, --enable and
  --annotation when it does not exist (commit it), else used as it is;
- in the target, a ServiceAccount, a ClusterRole and a binding with the least rights that deploying
  addons needs (--namespaces: a Role and a RoleBinding in each of those namespaces instead), and a
  token with a bounded lifetime (--token-ttl), never a never-expiring token Secret. For EKS,
  --aws-cluster-name (and --aws-role-arn) store Argo CD's awsAuthConfig and no token; --exec-command
  stores an exec credential plugin;
- one real API call to the target with exactly the credentials to be stored, then the hub's
  cluster Secret with the entry's labels and annotations;
- when the entry has a client label: on the hub, the ServiceAccount eso-NAME in client-<client>
  that may only read that namespace's Secrets, and in the target the Secret
  external-secrets/hub-credentials (its token, the hub's CA, and --hub-server, the hub's API URL
  as the target reaches it; default: the hub kubeconfig's), which the target's External Secrets
  Operator reads the client's Secrets with (docs/central-config.md).

Running it again changes nothing while the stored token is valid; two runs at once end with one
correct Secret. A failure leaves no half-registered cluster: run the same command again.`,
		Example: `  hubctl cluster add eks-develop-clientC-services --context hub --target-context eks-develop-clientC \
      --environment develop --client clientC --enable argocd,ingress_nginx
  hubctl cluster add eks-prod-clientA-services --context hub --target-context eks-prod-clientA \
      --aws-cluster-name prod-clientA --aws-role-arn arn:aws:iam::111122223333:role/argocd-deployer`,
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: completeClusterNames(&o.clusterFlags),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.a.Name = args[0]
			return runClusterAdd(cmd.Context(), streams, o)
		},
	}
	o.add(c, true)
	f := c.Flags()
	f.StringVar(&o.a.Environment, "environment", "", "environment label of a new registry entry (develop, staging, prod, ...)")
	f.StringVar(&o.a.Client, "client", "", "client label of a new registry entry")
	f.StringSliceVar(&o.a.Enable, "enable", nil, "addons to enable in a new registry entry (comma-separated: argocd,ingress_nginx)")
	f.StringArrayVar(&o.annotations, "annotation", nil, "annotation k=v of a new registry entry (repeatable)")
	f.StringVar(&o.a.Server, "server", "", "URL the hub's Argo CD reaches the target at (default: the target kubeconfig's)")
	f.StringSliceVar(&o.a.Namespaces, "namespaces", nil, "limit Argo CD to these namespaces of the target (comma-separated)")
	f.DurationVar(&o.a.TokenTTL, "token-ttl", onboard.DefaultTokenTTL, "lifetime of the token (at least 10m; the apiserver may cap it)")
	f.StringVar(&o.a.HubServer, "hub-server", "", "hub API URL as the target's External Secrets Operator reaches it, for a cluster with a client label (default: the hub kubeconfig's)")
	f.DurationVar(&o.a.HubTokenTTL, "hub-token-ttl", onboard.DefaultESOTokenTTL, "lifetime of the target's hub token for External Secrets Operator")
	f.StringVar(&o.a.AWSClusterName, "aws-cluster-name", "", "EKS cluster name: store awsAuthConfig (argocd-k8s-auth) instead of a token")
	f.StringVar(&o.a.AWSRoleARN, "aws-role-arn", "", "IAM role Argo CD assumes for the EKS cluster")
	f.StringVar(&o.execCommand, "exec-command", "", "store an exec credential plugin: its command")
	f.StringArrayVar(&o.execArgs, "exec-arg", nil, "argument of the exec plugin (repeatable)")
	f.StringArrayVar(&o.execEnv, "exec-env", nil, "environment variable k=v of the exec plugin (repeatable)")
	f.StringVar(&o.execAPI, "exec-api-version", onboard.ExecAPIVersion, "client.authentication.k8s.io version of the exec plugin")
	f.StringVar(&o.execHint, "exec-install-hint", "", "message shown when the exec plugin is missing")
	_ = c.RegisterFlagCompletionFunc("enable", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		addons, _ := action.Addons(action.TreeFS(action.RepoRoot(o.repo)))
		return addons, cobra.ShellCompDirectiveNoFileComp
	})
	return c
}

func parseKV(flag string, kvs []string) (map[string]string, error) {
	out := map[string]string{}
	for _, kv := range kvs {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("--%s %q: want k=v", flag, kv)
		}
		out[k] = v
	}
	return out, nil
}

func runClusterAdd(ctx context.Context, streams Streams, o *clusterAddOptions) error {
	var err error
	if o.a.Annotations, err = parseKV("annotation", o.annotations); err != nil {
		return err
	}
	if o.execCommand != "" {
		env, err := parseKV("exec-env", o.execEnv)
		if err != nil {
			return err
		}
		o.a.Exec = &onboard.ExecProviderConfig{Command: o.execCommand, Args: o.execArgs, Env: env, APIVersion: o.execAPI, InstallHint: o.execHint}
	} else if len(o.execArgs)+len(o.execEnv) > 0 {
		return errors.New("--exec-arg and --exec-env need --exec-command")
	}
	o.a.Config = o.config(streams)
	res, err := o.a.Run(ctx)
	if err != nil {
		return err
	}
	if res.Unchanged {
		fmt.Fprintf(streams.ErrOut, "cluster add: %s is registered (Secret %s) and its credentials work: nothing changed\n", o.a.Name, res.Secret)
	} else {
		fmt.Fprintf(streams.ErrOut, "cluster add: %s registered: Secret %s, credential %s", o.a.Name, res.Secret, res.Credential)
		if !res.Expires.IsZero() {
			fmt.Fprintf(streams.ErrOut, " (ServiceAccount %s, expires %s)", res.ServiceAccount, res.Expires.UTC().Format(time.RFC3339))
		}
		fmt.Fprintln(streams.ErrOut)
	}
	if h := res.HubAccess; h != nil {
		fmt.Fprintf(streams.ErrOut, "cluster add: %s reads its client's Secrets on the hub (%s) as ServiceAccount %s; token in %s, expires %s\n", o.a.Name, h.Server, h.ServiceAccount, h.Credentials, h.Expires.UTC().Format(time.RFC3339))
	}
	if res.EntryWritten {
		fmt.Fprintf(streams.ErrOut, "cluster add: wrote the registry entry; commit it in a pull request:\n")
		fmt.Fprintln(streams.Out, res.Entry)
	}
	return nil
}

type clusterListOptions struct {
	clusterFlags
	l      action.ClusterList
	output string
}

var listOutputs = []string{"table", "json", "yaml"}

func newClusterListCommand(streams Streams) *cobra.Command {
	o := &clusterListOptions{}
	c := &cobra.Command{
		Use:   "list",
		Short: "Compare the registry in Git with the hub's cluster Secrets, and check each cluster's credentials",
		Long: `For each cluster: whether it is in Git and the hub, only in Git (not registered) or only in the hub
(unknown to Git); the labels and annotations that differ between Git and the hub (they decide what
is deployed where); the credential kind and a token's days to expiry (its exp claim); and whether
the cluster answers a real call with the stored credentials (in parallel, each bounded by
--timeout). Exit status 1 on drift, expired credentials or an unreachable cluster.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runClusterList(cmd.Context(), streams, o)
		},
	}
	o.add(c, false)
	c.Flags().StringVarP(&o.output, "output", "o", "table", "output format: table, json or yaml")
	c.Flags().DurationVar(&o.l.Timeout, "timeout", 10*time.Second, "bound of each cluster's reachability call")
	_ = c.RegisterFlagCompletionFunc("output", cobra.FixedCompletions(listOutputs, cobra.ShellCompDirectiveNoFileComp))
	return c
}

func runClusterList(ctx context.Context, streams Streams, o *clusterListOptions) error {
	if !slices.Contains(listOutputs, o.output) {
		return fmt.Errorf("-o %q: want one of %s", o.output, strings.Join(listOutputs, ", "))
	}
	o.l.Config = o.config(streams)
	rows, err := o.l.Run(ctx)
	if err != nil {
		return err
	}
	switch o.output {
	case "json", "yaml":
		if rows == nil {
			rows = []*action.ClusterInfo{}
		}
		data, err := json.MarshalIndent(rows, "", "  ")
		if err != nil {
			return err
		}
		if o.output == "yaml" {
			if data, err = yaml.JSONToYAML(data); err != nil {
				return err
			}
		}
		if _, err := streams.Out.Write(append(data, '\n')); err != nil {
			return err
		}
	default:
		writeClusterTable(streams.Out, rows)
	}
	n := 0
	for _, r := range rows {
		if r.Problem() {
			n++
		}
	}
	if n > 0 {
		return &findingsError{n: n}
	}
	return nil
}

func writeClusterTable(w io.Writer, rows []*action.ClusterInfo) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tWHERE\tCREDENTIAL\tEXPIRES IN\tREACHABLE\tDRIFT")
	for _, r := range rows {
		exp := "-"
		switch {
		case r.Expired:
			exp = "EXPIRED"
		case r.DaysLeft != nil:
			exp = fmt.Sprintf("%dd", *r.DaysLeft)
		}
		reach := "-"
		if r.Reachable != nil {
			reach = "yes"
			if !*r.Reachable {
				reach = "NO"
			}
		}
		d := "-"
		if len(r.Drift) > 0 {
			d = strings.Join(r.Drift, "; ")
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", r.Name, r.Where, orDash(r.Credential), exp, reach, d)
	}
	tw.Flush()
	for _, r := range rows {
		if r.Error != "" {
			fmt.Fprintf(w, "%s: %s\n", r.Name, r.Error)
		}
	}
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func newClusterRotateCommand(streams Streams) *cobra.Command {
	o := &clusterFlags{}
	r := &action.ClusterRotate{}
	c := &cobra.Command{
		Use:   "rotate [NAME...]",
		Short: "Give clusters new credentials, then revoke the old ones",
		Long: `Issue new credentials (the next generation's ServiceAccount and a token), verify them with a
real call, store them in the hub's Secret, then delete the previous generation's ServiceAccount and
binding, which revokes its tokens. Without --target-context the target is reached with the stored
credentials, so a cron job on the hub alone keeps the fleet alive. A cluster with a client label
also gets a new hub token for its External Secrets Operator (external-secrets/hub-credentials),
when its current one expires within --expiring-within (always without it):

  hubctl cluster rotate --all --expiring-within 336h`,
		ValidArgsFunction: completeClusterNames(o),
		RunE: func(cmd *cobra.Command, args []string) error {
			r.Names, r.Config = args, o.config(streams)
			res, err := r.Run(cmd.Context())
			for _, x := range res {
				switch {
				case x.Error != "":
					fmt.Fprintf(streams.ErrOut, "%s: %s\n", x.Name, x.Error)
				case x.Skipped != "":
					fmt.Fprintf(streams.ErrOut, "%s: skipped: %s\n", x.Name, x.Skipped)
				default:
					fmt.Fprintf(streams.Out, "%s: rotated: ServiceAccount %s, expires %s; revoked %s\n", x.Name, x.ServiceAccount, x.Expires.UTC().Format(time.RFC3339), strings.Join(x.Revoked, ", "))
				}
				if h := x.HubAccess; h != nil {
					fmt.Fprintf(streams.Out, "%s: new hub token for External Secrets Operator in %s (ServiceAccount %s on the hub), expires %s\n", x.Name, h.Credentials, h.ServiceAccount, h.Expires.UTC().Format(time.RFC3339))
				} else if x.HubSkipped != "" {
					fmt.Fprintf(streams.ErrOut, "%s: hub token skipped: %s\n", x.Name, x.HubSkipped)
				}
			}
			return err
		},
	}
	o.add(c, true)
	c.Flags().BoolVar(&r.All, "all", false, "every cluster whose Secret holds a hubctl token")
	c.Flags().DurationVar(&r.ExpiringWithin, "expiring-within", 0, "only tokens expiring within this duration (e.g. 336h)")
	c.Flags().DurationVar(&r.TokenTTL, "token-ttl", onboard.DefaultTokenTTL, "lifetime of the new token")
	c.Flags().DurationVar(&r.HubTokenTTL, "hub-token-ttl", onboard.DefaultESOTokenTTL, "lifetime of the new hub token of a client's cluster (External Secrets Operator)")
	return c
}

func newClusterRemoveCommand(streams Streams) *cobra.Command {
	o := &clusterFlags{}
	r := &action.ClusterRemove{}
	var yes bool
	c := &cobra.Command{
		Use:   "remove NAME",
		Short: "Unregister a cluster from the hub",
		Long: `Print the Applications that disappear with the cluster (generated offline from the tree with the
hub's registry) and whether Argo CD deletes their resources (resources-finalizer) or leaves them
running (preserveResourcesOnDeletion); ask for confirmation (--yes, or y on a terminal); delete the
hub's cluster Secret. --revoke also deletes the ServiceAccounts and RBAC hubctl created in the target
(--target-context). Git is never edited unless --delete-entry is given.`,
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: completeClusterNames(o),
		RunE: func(cmd *cobra.Command, args []string) error {
			r.Name, r.Config = args[0], o.config(streams)
			return runClusterRemove(cmd.Context(), streams, r, yes)
		},
	}
	o.add(c, true)
	c.Flags().BoolVarP(&yes, "yes", "y", false, "do not ask for confirmation")
	c.Flags().BoolVar(&r.Revoke, "revoke", false, "also delete the ServiceAccounts and RBAC hubctl created in the target, the target's hub-credentials Secret and its ServiceAccount on the hub")
	c.Flags().BoolVar(&r.DeleteEntry, "delete-entry", false, "also delete clusters/NAME/cluster.yaml from the tree")
	return c
}

func runClusterRemove(ctx context.Context, streams Streams, r *action.ClusterRemove, yes bool) error {
	plan, err := r.Plan(ctx)
	if err != nil {
		return err
	}
	if plan.Secret != "" {
		fmt.Fprintf(streams.Out, "Removing cluster %s (hub Secret %s). %d Application(s) will disappear:\n", r.Name, plan.Secret, len(plan.Apps))
		for _, a := range plan.Apps {
			what := "its resources stay running (preserveResourcesOnDeletion)"
			if a.DeletesResources {
				what = "Argo CD deletes its resources (resources-finalizer)"
			}
			fmt.Fprintf(streams.Out, "  %s (ApplicationSet %s): %s\n", a.Name, a.AppSet, what)
		}
	}
	if !yes {
		f, ok := streams.In.(*os.File)
		if !ok || !isTerminal(f) {
			return errors.New("cluster remove: confirm with --yes (stdin is not a terminal)")
		}
		fmt.Fprint(streams.ErrOut, "Proceed? [y/N] ")
		line, _ := bufio.NewReader(f).ReadString('\n')
		if a := strings.ToLower(strings.TrimSpace(line)); a != "y" && a != "yes" {
			return errors.New("cluster remove: not confirmed; nothing changed")
		}
	}
	done, err := r.Run(ctx, plan)
	for _, d := range done {
		fmt.Fprintln(streams.ErrOut, "cluster remove: "+d)
	}
	return err
}

func isTerminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
