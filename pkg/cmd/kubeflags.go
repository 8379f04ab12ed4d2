package cmd

import (
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/spf13/cobra"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/gitops-hub/gitops-hub/pkg/kube"
)

// kubeFlags are kubectl's connection flags: --kubeconfig, --context and
// --request-timeout, on top of $KUBECONFIG and ~/.kube/config, resolved by
// client-go's clientcmd exactly as kubectl resolves them.
type kubeFlags struct {
	kubeconfig     string
	context        string
	requestTimeout string
}

func (k *kubeFlags) addFlags(c *cobra.Command) {
	f := c.Flags()
	f.StringVar(&k.kubeconfig, "kubeconfig", "", "path to the kubeconfig file (default $KUBECONFIG, then ~/.kube/config)")
	f.StringVar(&k.context, "context", "", "the kubeconfig context of the hub (default: the current context)")
	f.StringVar(&k.requestTimeout, "request-timeout", "0", "how long to wait for one API request before giving up, e.g. 30s, 2m (0: no limit)")
	_ = c.RegisterFlagCompletionFunc("context", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return k.contexts(), cobra.ShellCompDirectiveNoFileComp
	})
}

// given reports whether --kubeconfig or --context was set.
func (k *kubeFlags) given() bool { return k.kubeconfig != "" || k.context != "" }

func (k *kubeFlags) loadingRules() *clientcmd.ClientConfigLoadingRules {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = k.kubeconfig
	return rules
}

// haveKubeconfig reports whether some kubeconfig exists: --kubeconfig,
// $KUBECONFIG or ~/.kube/config.
func (k *kubeFlags) haveKubeconfig() bool {
	if k.kubeconfig != "" {
		return true
	}
	for _, p := range k.loadingRules().Precedence {
		if _, err := os.Stat(p); err == nil {
			return true
		}
	}
	return false
}

func (k *kubeFlags) clientConfig() clientcmd.ClientConfig {
	return clientcmd.NewNonInteractiveDeferredLoadingClientConfig(k.loadingRules(),
		&clientcmd.ConfigOverrides{CurrentContext: k.context, Timeout: k.requestTimeout})
}

// contexts are the kubeconfig's context names, for completion.
func (k *kubeFlags) contexts() []string {
	raw, err := k.clientConfig().RawConfig()
	if err != nil {
		return nil
	}
	var out []string
	for name := range raw.Contexts {
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}

// cluster builds the clients of the context's cluster and returns the
// context's name. Errors name the kubeconfig files and the context.
func (k *kubeFlags) cluster() (*kube.Cluster, string, error) {
	cc := k.clientConfig()
	raw, err := cc.RawConfig()
	if err != nil {
		return nil, k.context, fmt.Errorf("loading kubeconfig %s: %w", k.files(), err)
	}
	name := k.context
	if name == "" {
		name = raw.CurrentContext
	}
	cfg, err := cc.ClientConfig()
	if err != nil {
		return nil, name, fmt.Errorf("kubeconfig %s, context %q: %w", k.files(), name, err)
	}
	c, err := kube.NewForConfig(name, cfg)
	if err != nil {
		return nil, name, err
	}
	c.Kubeconfig = k.kubeconfig
	return c, name, nil
}

func (k *kubeFlags) files() string {
	if k.kubeconfig != "" {
		return k.kubeconfig
	}
	if p := k.loadingRules().Precedence; len(p) > 0 {
		return strings.Join(p, string(os.PathListSeparator))
	}
	return "(none)"
}
