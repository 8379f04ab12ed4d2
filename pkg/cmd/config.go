package cmd

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/client-go/kubernetes"

	"github.com/gitops-hub/gitops-hub/pkg/action"
	"github.com/gitops-hub/gitops-hub/pkg/conventions"
	"github.com/gitops-hub/gitops-hub/pkg/hubconfig"
)

// defaultConfigRequestTimeout bounds every request of `hubctl config` to the
// hub unless --request-timeout says otherwise ("0" means none, as in kubectl).
const defaultConfigRequestTimeout = 30 * time.Second

// connect sets *dst to the clientset of the hub the flags name.
func (k *kubeFlags) connect(dst *kubernetes.Interface) error {
	c, _, err := k.cluster()
	if err != nil {
		return fmt.Errorf("hub: %w", err)
	}
	*dst = c.Client
	return nil
}

func newConfigCommand(streams Streams) *cobra.Command {
	hub := kubeFlags{}
	cmd := &cobra.Command{
		Use:   "config",
		Short: "Manage the clients' central configuration (Secrets) on the hub",
		Long: `Manage the Secrets each client keeps on the hub, in the namespace client-<client>
(lowercased). External Secrets Operator on the client's hosting clusters reads them
(see docs/central-config.md). No command ever prints a value: only keys, sizes and
the first digits of each value's SHA-256.`,
	}
	hub.addHubFlags(cmd.PersistentFlags())
	hub.requestTimeout = defaultConfigRequestTimeout
	cmd.PersistentFlags().Lookup("request-timeout").DefValue = defaultConfigRequestTimeout.String()
	_ = cmd.RegisterFlagCompletionFunc("context", completeContexts(&hub, nil))
	cmd.AddCommand(newConfigSetCommand(streams, &hub), newConfigGetCommand(streams, &hub),
		newConfigListCommand(streams, &hub), newConfigDeleteCommand(streams, &hub),
		newConfigPlanCommand(streams, &hub))
	return cmd
}

func addOutputFlag(cmd *cobra.Command, p *string) {
	cmd.Flags().StringVarP(p, "output", "o", "table", "output format: table or json")
}

func newConfigSetCommand(streams Streams, hub *kubeFlags) *cobra.Command {
	o := &action.ConfigSet{}
	var format string
	cmd := &cobra.Command{
		Use:   "set CLIENT NAME (--from-literal KEY=VALUE | --from-file [KEY=]FILE)...",
		Short: "Create or replace the Secret NAME of CLIENT on the hub",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Client, o.Name, o.Stdin = args[0], args[1], cmd.InOrStdin()
			return runConfigSet(cmd.Context(), streams, hub, o, format)
		},
	}
	cmd.Flags().StringArrayVar(&o.Literals, "from-literal", nil, "a key and its value, KEY=VALUE (repeatable)")
	cmd.Flags().StringArrayVar(&o.Files, "from-file", nil, "a key and the file holding its value, [KEY=]FILE (repeatable; the key defaults to the file's name; KEY=- reads standard input)")
	addOutputFlag(cmd, &format)
	return cmd
}

func runConfigSet(ctx context.Context, streams Streams, hub *kubeFlags, o *action.ConfigSet, format string) error {
	if err := hub.connect(&o.Hub); err != nil {
		return err
	}
	in, err := o.Run(ctx)
	if err != nil {
		return err
	}
	verb := "updated"
	if in.Created {
		verb = "created"
	}
	fmt.Fprintf(streams.ErrOut, "secret %s/%s %s\n", in.Namespace, in.Name, verb)
	return action.WriteSecretInfos(streams.Out, format, []hubconfig.Info{in})
}

func newConfigGetCommand(streams Streams, hub *kubeFlags) *cobra.Command {
	o := &action.ConfigGet{}
	var format string
	cmd := &cobra.Command{
		Use:   "get CLIENT NAME",
		Short: "Show the keys of the Secret NAME of CLIENT (sizes and hashes, never values)",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Client, o.Name = args[0], args[1]
			if err := hub.connect(&o.Hub); err != nil {
				return err
			}
			in, err := o.Run(cmd.Context())
			if err != nil {
				return err
			}
			return action.WriteSecretInfos(streams.Out, format, []hubconfig.Info{in})
		},
	}
	addOutputFlag(cmd, &format)
	return cmd
}

func newConfigListCommand(streams Streams, hub *kubeFlags) *cobra.Command {
	o := &action.ConfigList{}
	var format string
	cmd := &cobra.Command{
		Use:   "list [CLIENT]",
		Short: "List the Secrets of CLIENT, or of every client, on the hub",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				o.Client = args[0]
			}
			if err := hub.connect(&o.Hub); err != nil {
				return err
			}
			infos, err := o.Run(cmd.Context())
			if err != nil {
				return err
			}
			return action.WriteSecretInfos(streams.Out, format, infos)
		},
	}
	addOutputFlag(cmd, &format)
	return cmd
}

func newConfigDeleteCommand(streams Streams, hub *kubeFlags) *cobra.Command {
	o := &action.ConfigDelete{}
	return &cobra.Command{
		Use:   "delete CLIENT NAME",
		Short: "Delete the Secret NAME of CLIENT (only one hubctl created)",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Client, o.Name = args[0], args[1]
			if err := hub.connect(&o.Hub); err != nil {
				return err
			}
			if err := o.Run(cmd.Context()); err != nil {
				return err
			}
			ns, _ := hubconfig.Namespace(o.Client)
			fmt.Fprintf(streams.ErrOut, "secret %s/%s deleted\n", ns, o.Name)
			return nil
		},
	}
}

func newConfigPlanCommand(streams Streams, hub *kubeFlags) *cobra.Command {
	o := &action.ConfigPlan{}
	var format string
	cmd := &cobra.Command{
		Use:   "plan",
		Short: "Show which hub Secret key every ExternalSecret of the tree reads, on which cluster",
		Long: `Offline, from the tree: generate the Applications, merge each Helm source's value files
and find the ExternalSecrets in them (in the charts' extraObjects, extraManifests or
extraDeploy lists) whose spec.secretStoreRef.name is "hub". Each reads a key of the Secret
client-<client>/<remoteRef.key> on the hub, <client> being the cluster's "client" label.

With --kubeconfig or --context, also read the hub and report the Secrets and keys that are
referenced but missing there (exit 1). Values are never read out, only their presence.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if cmd.Flags().Changed("kubeconfig") || cmd.Flags().Changed("context") {
				if err := hub.connect(&o.Hub); err != nil {
					return err
				}
			}
			res, err := o.Run(cmd.Context())
			if err != nil {
				return err
			}
			if err := action.WriteConfigPlan(streams.Out, format, res); err != nil {
				return err
			}
			for _, p := range res.Problems {
				fmt.Fprintf(streams.ErrOut, "problem: %s\n", p)
			}
			if n := len(res.Problems) + res.Missing(); n > 0 {
				return &findingsError{n: n}
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Repo, "repo", ".", "repository folder")
	f.StringArrayVar(&o.AppSetFiles, "appset", nil, "ApplicationSet file (repeatable; default: all under bootstrap/)")
	f.StringArrayVar(&o.ClusterFiles, "clusters", nil, "cluster Secrets file (repeatable; default: clusters/*/cluster.yaml)")
	f.StringVar(&o.ClientLabel, "client-label", conventions.ClientLabel, "registry label naming a cluster's client")
	addSourceFlags(f, &o.Render)
	addOutputFlag(cmd, &format)
	return cmd
}
