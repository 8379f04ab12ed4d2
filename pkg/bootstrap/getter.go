package bootstrap

import (
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/gitops-hub/gitops-hub/pkg/kube"
)

// restGetter is the genericclioptions.RESTClientGetter Helm gets for the hub. It is built from
// the hub's rest.Config rather than by reloading its kubeconfig (genericclioptions.ConfigFlags
// with KubeConfig set): so Helm talks to exactly the server, with exactly the credentials, of
// the kube.Cluster it was given, whichever kubeconfig context it was loaded with (a
// kube.Cluster does not record its context) and also when it was built from a rest.Config
// alone. Discovery is cached in memory only: nothing is written to ~/.kube/cache, whose
// per-host entries go stale when a local fleet's hub comes back at the same address.
type restGetter struct {
	config    *rest.Config
	namespace string
	disco     discovery.CachedDiscoveryInterface
}

var _ genericclioptions.RESTClientGetter = (*restGetter)(nil)

func newRESTGetter(hub *kube.Cluster, namespace string) (*restGetter, error) {
	cfg := rest.CopyConfig(hub.Config)
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return nil, err
	}
	return &restGetter{config: cfg, namespace: namespace, disco: memory.NewMemCacheClient(dc)}, nil
}

func (g *restGetter) ToRESTConfig() (*rest.Config, error) { return rest.CopyConfig(g.config), nil }

func (g *restGetter) ToDiscoveryClient() (discovery.CachedDiscoveryInterface, error) {
	return g.disco, nil
}

func (g *restGetter) ToRESTMapper() (meta.RESTMapper, error) {
	mapper := restmapper.NewDeferredDiscoveryRESTMapper(g.disco)
	return restmapper.NewShortcutExpander(mapper, g.disco, nil), nil
}

// ToRawKubeConfigLoader only serves the namespace: Helm's kube client puts objects that a
// chart leaves without a namespace into it.
func (g *restGetter) ToRawKubeConfigLoader() clientcmd.ClientConfig {
	return clientcmd.NewDefaultClientConfig(*clientcmdapi.NewConfig(), &clientcmd.ConfigOverrides{
		Context: clientcmdapi.Context{Namespace: g.namespace},
	})
}
