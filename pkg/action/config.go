package action

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"time"

	"helm.sh/helm/v3/pkg/chart"
	"k8s.io/client-go/rest"

	"github.com/gitops-hub/gitops-hub/pkg/gitfs"
	"github.com/gitops-hub/gitops-hub/pkg/kube"
	"github.com/gitops-hub/gitops-hub/pkg/onboard"
	"github.com/gitops-hub/gitops-hub/pkg/render/helm"
)

// ClusterLoader returns the clients of a cluster (the hub, or a target cluster), as the
// command line's kubeconfig flags name it. Tests return clusters of internal/testenv, or
// kube.Clusters holding client-go fakes.
type ClusterLoader func() (*kube.Cluster, error)

// Connector builds the clients of a cluster from a client config: the live verbs call it with
// exactly the credentials they store in (or read from) a hub cluster Secret. Default
// kube.NewForConfig.
type Connector func(name string, cfg *rest.Config) (*kube.Cluster, error)

// ChartSource loads a Helm chart (helm.Cache: upstream repositories, mirrors, a local folder).
type ChartSource interface {
	Load(ctx context.Context, ref helm.ChartRef) (*chart.Chart, error)
}

// Configuration is what the live verbs (bootstrap, cluster add|list|rotate|remove) take from
// their surroundings, in the manner of Helm's action.Configuration: the tree, how to reach the
// hub and a target cluster, how to fetch charts, where progress goes. pkg/cmd fills it from
// flags; tests fill it with real apiservers or fakes.
type Configuration struct {
	// RepoDir is the tree on disk (default "."); registry entries are written under it.
	RepoDir string
	// Repo reads the tree (default the working tree at RepoDir, confined to it:
	// gitfs.WorkTree).
	Repo fs.FS
	// Hub loads the hub cluster.
	Hub ClusterLoader
	// Target loads the target cluster (cluster add, and rotate or remove --revoke with a
	// kubeconfig); nil when none was given.
	Target ClusterLoader
	// Connect builds clients from stored credentials (default kube.NewForConfig).
	Connect Connector
	// Charts loads charts (bootstrap).
	Charts ChartSource
	// Progress receives progress lines (stderr); nil discards them.
	Progress io.Writer
	// Now is the clock (default time.Now).
	Now func() time.Time
}

func (c *Configuration) repoDir() string {
	if c.RepoDir == "" {
		return "."
	}
	return c.RepoDir
}

func (c *Configuration) repo() fs.FS {
	if c.Repo != nil {
		return c.Repo
	}
	return TreeFS(c.repoDir())
}

// TreeFS is the working tree at dir, confined to the repository
// (gitfs.WorkTree); when it cannot be opened, every read fails with the
// reason.
func TreeFS(dir string) fs.FS {
	fsys, err := gitfs.WorkTree(dir)
	if err != nil {
		return errFS{err}
	}
	return fsys
}

// errFS fails every Open with the error that kept the tree from being opened.
type errFS struct{ err error }

func (e errFS) Open(string) (fs.File, error) { return nil, e.err }

func (c *Configuration) progress() io.Writer {
	if c.Progress == nil {
		return io.Discard
	}
	return c.Progress
}

func (c *Configuration) now() time.Time {
	if c.Now == nil {
		return time.Now()
	}
	return c.Now()
}

func (c *Configuration) connect(name string, cfg *rest.Config) (*kube.Cluster, error) {
	if c.Connect == nil {
		return kube.NewForConfig(name, cfg)
	}
	return c.Connect(name, cfg)
}

// connectStored builds the clients of the cluster a hub cluster Secret registers, with exactly
// the server and credentials it stores, as Argo CD builds them (onboard.ClusterConfig.RESTConfig:
// bearer token, TLS client config, exec provider or awsAuthConfig). timeout > 0 bounds each
// request.
func (c *Configuration) connectStored(name, server string, cc *onboard.ClusterConfig, timeout time.Duration) (*kube.Cluster, error) {
	rc := cc.RESTConfig(server)
	rc.Timeout = timeout
	return c.connect(name+" with its stored credentials", rc)
}

func (c *Configuration) hub() (*kube.Cluster, error) {
	if c.Hub == nil {
		return nil, errors.New("no hub cluster (kubeconfig)")
	}
	return c.Hub()
}
