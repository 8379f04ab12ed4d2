package cmd

import (
	"fmt"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/gitops-hub/gitops-hub/pkg/kube"
)

// kubeFlags are kubectl's flags for reaching a cluster: --kubeconfig (else $KUBECONFIG, else
// ~/.kube/config, merged as kubectl merges them), --context and --request-timeout. Every
// command that talks to a cluster uses them; prefix names a second cluster ("target-").
type kubeFlags struct {
	prefix         string
	kubeconfig     string
	context        string
	requestTimeout time.Duration
}

// addHubFlags registers --kubeconfig, --context and --request-timeout.
func (k *kubeFlags) addHubFlags(f *pflag.FlagSet) {
	f.StringVar(&k.kubeconfig, "kubeconfig", "", "kubeconfig of the hub (default $KUBECONFIG, else ~/.kube/config)")
	f.StringVar(&k.context, "context", "", "kubeconfig context of the hub (default: the current context)")
	f.DurationVar(&k.requestTimeout, "request-timeout", 0, "timeout of one API request, e.g. 30s (0: none)")
}

// addTargetFlags registers --target-kubeconfig and --target-context.
func (k *kubeFlags) addTargetFlags(f *pflag.FlagSet) {
	k.prefix = "target-"
	f.StringVar(&k.kubeconfig, "target-kubeconfig", "", "kubeconfig of the target cluster (default: the hub's kubeconfig files)")
	f.StringVar(&k.context, "target-context", "", "kubeconfig context of the target cluster")
}

// set reports whether a target was named.
func (k *kubeFlags) set() bool { return k.kubeconfig != "" || k.context != "" }

// rules are kubectl's loading rules: an explicit file, else $KUBECONFIG (a list), else
// ~/.kube/config.
func (k *kubeFlags) rules(fallback *kubeFlags) *clientcmd.ClientConfigLoadingRules {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	switch {
	case k.kubeconfig != "":
		rules.ExplicitPath = k.kubeconfig
	case fallback != nil && fallback.kubeconfig != "":
		rules.ExplicitPath = fallback.kubeconfig
	}
	return rules
}

// load builds the clients of the named cluster; name labels it in messages. fallback supplies
// the kubeconfig file (and request timeout) a target flag set leaves out.
func (k *kubeFlags) load(name string, fallback *kubeFlags) (*kube.Cluster, error) {
	cfg, ctxName, rules, err := k.restConfig(fallback)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	c, err := kube.NewForConfig(fmt.Sprintf("%s (context %q)", name, ctxName), cfg)
	if err != nil {
		return nil, err
	}
	c.Kubeconfig = rules.ExplicitPath
	return c, nil
}

// restConfig resolves the flags as kubectl does: the client configuration of the context, the
// context's name and the loading rules used. Errors name the kubeconfig files and the context.
func (k *kubeFlags) restConfig(fallback *kubeFlags) (*rest.Config, string, *clientcmd.ClientConfigLoadingRules, error) {
	rules := k.rules(fallback)
	cc := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{CurrentContext: k.context})
	raw, err := cc.RawConfig()
	if err != nil {
		return nil, k.context, rules, fmt.Errorf("loading kubeconfig %s: %w", describeRules(rules), err)
	}
	ctxName := k.context
	if ctxName == "" {
		ctxName = raw.CurrentContext
	}
	cfg, err := cc.ClientConfig()
	if err != nil {
		return nil, ctxName, rules, fmt.Errorf("kubeconfig %s, context %q: %w", describeRules(rules), ctxName, err)
	}
	cfg.Timeout = k.requestTimeout
	if cfg.Timeout == 0 && fallback != nil {
		cfg.Timeout = fallback.requestTimeout
	}
	return cfg, ctxName, rules, nil
}

// describeRules names the kubeconfig files rules read, for messages.
func describeRules(r *clientcmd.ClientConfigLoadingRules) string {
	if r.ExplicitPath != "" {
		return r.ExplicitPath
	}
	if len(r.Precedence) > 0 {
		return strings.Join(r.Precedence, string(os.PathListSeparator))
	}
	return "(none)"
}

// contexts lists the contexts of the kubeconfig the flags name (for shell completion).
func (k *kubeFlags) contexts(fallback *kubeFlags) []string {
	raw, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(k.rules(fallback), &clientcmd.ConfigOverrides{}).RawConfig()
	if err != nil {
		return nil
	}
	var out []string
	for n := range raw.Contexts {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// completeContexts completes a --context style flag.
func completeContexts(k *kubeFlags, fallback *kubeFlags) func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	return func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return k.contexts(fallback), cobra.ShellCompDirectiveNoFileComp
	}
}

// addFlags registers the hub flags on c, with completion of --context (status).
func (k *kubeFlags) addFlags(c *cobra.Command) {
	k.addHubFlags(c.Flags())
	_ = c.RegisterFlagCompletionFunc("context", completeContexts(k, nil))
}

// given reports whether --kubeconfig or --context was set.
func (k *kubeFlags) given() bool { return k.set() }

// haveKubeconfig reports whether some kubeconfig exists: --kubeconfig,
// $KUBECONFIG or ~/.kube/config.
func (k *kubeFlags) haveKubeconfig() bool {
	if k.kubeconfig != "" {
		return true
	}
	for _, p := range k.rules(nil).Precedence {
		if _, err := os.Stat(p); err == nil {
			return true
		}
	}
	return false
}

// cluster builds the clients of the hub the flags name, labelled with its
// context's name, and returns that name. Errors name the kubeconfig files and
// the context.
func (k *kubeFlags) cluster() (*kube.Cluster, string, error) {
	cfg, name, _, err := k.restConfig(nil)
	if err != nil {
		return nil, name, err
	}
	c, err := kube.NewForConfig(name, cfg)
	if err != nil {
		return nil, name, err
	}
	c.Kubeconfig = k.kubeconfig
	return c, name, nil
}
