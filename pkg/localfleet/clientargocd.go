package localfleet

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/gitops-hub/gitops-hub/pkg/conventions"
	"github.com/gitops-hub/gitops-hub/pkg/kube"
)

// The client's Argo CD in the local fleet. On a real hosting cluster the
// argo-cd addon's Deployments run it; under kwok those Pods are only
// simulated, so, as for the hub, its repo-server and application-controller
// run here as local processes, pointed at the hosting cluster's
// kube-apiserver (its admin kubeconfig; namespace argocd there), with a redis
// of their own and their own loopback ports. They read what the hub's Argo CD
// synced into that cluster: the CRDs, argocd-cm (with the cluster's
// installationID and instance label key), argocd-secret, the client's
// AppProject and root Application, and the repository Secret ESO delivered.

// clientArgoCDPortBase is the first port of the client Argo CDs: hosting
// cluster i (in f.Hosting order) uses the clientArgoCDStride ports from
// clientArgoCDPortBase + i*clientArgoCDStride (ClientArgoCDPortsOf).
const (
	clientArgoCDPortBase = 18200
	clientArgoCDStride   = 10
)

// ClientArgoCDPorts are the loopback ports of one client Argo CD.
type ClientArgoCDPorts struct {
	Redis             int
	RepoServer        int
	RepoServerMetrics int
	// ControllerMetrics is the application-controller's metrics and
	// /healthz port (bound on every address of the fleet's namespace).
	ControllerMetrics int
	// CommitServer is only passed to the controller; nothing listens there.
	CommitServer int
}

// ClientArgoCDPortsOf returns the ports of cluster's client Argo CD.
func (f *Fleet) ClientArgoCDPortsOf(cluster string) (ClientArgoCDPorts, error) {
	i := slices.Index(f.Hosting, cluster)
	if i < 0 {
		return ClientArgoCDPorts{}, fmt.Errorf("client argo cd: %q is not a hosting cluster of the fleet (%v)", cluster, f.Hosting)
	}
	b := clientArgoCDPortBase + i*clientArgoCDStride
	if b+clientArgoCDStride > maxPort {
		return ClientArgoCDPorts{}, fmt.Errorf("client argo cd of %s: ports from %d exceed %d", cluster, b, maxPort)
	}
	return ClientArgoCDPorts{Redis: b, RepoServer: b + 1, RepoServerMetrics: b + 2, ControllerMetrics: b + 3, CommitServer: b + 4}, nil
}

// Process names of a cluster's client Argo CD.
func ClientRedisProc(cluster string) string      { return ProcRedis + "-" + cluster }
func ClientRepoServerProc(cluster string) string { return ProcRepoServer + "-" + cluster }
func ClientControllerProc(cluster string) string { return ProcController + "-" + cluster }

// ClientArgoCDProcs are the processes of a cluster's client Argo CD.
func ClientArgoCDProcs(cluster string) []string {
	return []string{ClientControllerProc(cluster), ClientRepoServerProc(cluster), ClientRedisProc(cluster)}
}

// ClientArgoCDOptions tune StartClientArgoCD.
type ClientArgoCDOptions struct {
	// AppResync is the controller's --app-resync in seconds; 0 means 30.
	AppResync int
	// LogLevel is every process's --loglevel; default "info".
	LogLevel string
	// PrereqsWithin bounds the wait for what the argo-cd addon installs
	// (CRDs, argocd-cm, argocd-secret); 0 means 5 minutes.
	PrereqsWithin time.Duration
}

func (o ClientArgoCDOptions) withDefaults() ClientArgoCDOptions {
	if o.AppResync == 0 {
		o.AppResync = 30
	}
	if o.LogLevel == "" {
		o.LogLevel = "info"
	}
	if o.PrereqsWithin == 0 {
		o.PrereqsWithin = 5 * time.Minute
	}
	return o
}

// clientArgoCDPrereqs are what the client's Argo CD reads at start, all
// installed by the hub's argo-cd addon.
var (
	clientArgoCDCRDs   = []string{"applications.argoproj.io", "appprojects.argoproj.io"}
	clientArgoCDConfig = []string{"argocd-cm", "argocd-secret"}
)

const argoCDPartOfLabel = "app.kubernetes.io/part-of"

// StartClientArgoCD runs the client's Argo CD of a hosting cluster: once
// the hub's argo-cd addon put its CRDs, argocd-cm and argocd-secret there
// (waited for up to opts.PrereqsWithin), a redis (process
// ClientRedisProc), argocd-repo-server (ClientRepoServerProc, ready when its
// port accepts connections) and argocd-application-controller
// (ClientControllerProc, --kubeconfig the cluster's, --namespace argocd,
// ready when /healthz answers), each on the ports of ClientArgoCDPortsOf,
// with Argo CD's directories under <state>/<cluster>/argocd. What runs
// already is only waited for; Down stops them with the fleet's other
// processes.
func (f *Fleet) StartClientArgoCD(ctx context.Context, cluster string, opts ClientArgoCDOptions) error {
	opts = opts.withDefaults()
	what := "client argo cd of " + cluster
	p, err := f.ClientArgoCDPortsOf(cluster)
	if err != nil {
		return err
	}
	if err := f.checkNetwork(); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	for _, b := range argoCDBinaryNames() {
		if !isExecutable(f.Bin(b)) {
			return fmt.Errorf("%s: %s missing in %s (build it with hack/tools/build.sh argocd helm, or set $%s)", what, b, f.binDir(), EnvBinDir)
		}
	}
	kubeconfig := f.Kubeconfig(cluster)
	c, err := kube.Load(cluster, kubeconfig)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if err := f.waitClientArgoCDPrereqs(ctx, c, opts.PrereqsWithin); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	root := filepath.Join(f.StateDir, cluster, "argocd")
	if err := os.MkdirAll(root, 0o700); err != nil {
		return err
	}
	local := func(port int) string { return "127.0.0.1:" + strconv.Itoa(port) }

	redisDir := filepath.Join(root, "redis")
	if err := os.MkdirAll(redisDir, 0o700); err != nil {
		return err
	}
	redisCmd, err := f.redisCommand(redisDir, p.Redis)
	if err != nil {
		return err
	}
	redis := local(p.Redis)
	if err := f.ensureProcess(ctx, ClientRedisProc(cluster), redisCmd, []labeledPort{{p.Redis, "redis of " + what}},
		"answering PING on "+redis, serviceReadyWithin, func(ctx context.Context) (bool, error) {
			return redisPing(ctx, redis) == nil, nil
		}); err != nil {
		return err
	}

	env, err := f.argoCDEnvAt(root, kubeconfig)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	bin := f.Bin("argocd")
	common := []string{"--loglevel", opts.LogLevel, "--logformat", "text"}
	repoServer := local(p.RepoServer)
	args := slices.Concat(common, []string{
		"--address", "127.0.0.1", "--port", strconv.Itoa(p.RepoServer),
		"--metrics-address", "127.0.0.1", "--metrics-port", strconv.Itoa(p.RepoServerMetrics),
		"--redis", redis})
	if err := f.startArgoCDAs(ctx, ClientRepoServerProc(cluster), ProcRepoServer, root, bin, args, env, nil,
		[]labeledPort{{p.RepoServer, "argocd-repo-server of " + what}, {p.RepoServerMetrics, "argocd-repo-server metrics of " + what}},
		"listening on "+repoServer, func(ctx context.Context) (bool, error) { return tcpOpen(ctx, repoServer), nil }); err != nil {
		return err
	}

	args = slices.Concat(common, []string{
		"--kubeconfig", kubeconfig, "--namespace", conventions.ArgoCDNamespace,
		"--redis", redis, "--repo-server", repoServer, "--commit-server", local(p.CommitServer),
		"--metrics-port", strconv.Itoa(p.ControllerMetrics), "--app-resync", strconv.Itoa(opts.AppResync),
		"--app-resync-jitter", "0"})
	healthz := "http://" + local(p.ControllerMetrics) + "/healthz"
	return f.startArgoCDAs(ctx, ClientControllerProc(cluster), ProcController, root, bin, args, env,
		[]string{"HOSTNAME=argocd-application-controller-0"},
		[]labeledPort{{p.ControllerMetrics, "argocd-application-controller metrics of " + what}},
		"healthy at "+healthz+" (served once its caches synced)", func(ctx context.Context) (bool, error) { return httpOK(ctx, healthz), nil })
}

// waitClientArgoCDPrereqs polls c until Argo CD's CRDs are Established and
// its argocd-cm and argocd-secret exist there (the hub's argo-cd addon syncs
// them).
func (f *Fleet) waitClientArgoCDPrereqs(ctx context.Context, c *kube.Cluster, within time.Duration) error {
	return f.waitUntilPresent(ctx, within, fmt.Sprintf("the argo-cd addon in %s", c), func(ctx context.Context) ([]string, error) {
		missing, err := notEstablished(ctx, c, clientArgoCDCRDs)
		if err != nil {
			return nil, err
		}
		for _, name := range clientArgoCDConfig {
			var obj metav1.Object
			var err error
			if strings.HasSuffix(name, "-cm") {
				obj, err = c.Client.CoreV1().ConfigMaps(conventions.ArgoCDNamespace).Get(ctx, name, metav1.GetOptions{})
			} else {
				obj, err = c.Client.CoreV1().Secrets(conventions.ArgoCDNamespace).Get(ctx, name, metav1.GetOptions{})
			}
			if err != nil {
				missing = append(missing, conventions.ArgoCDNamespace+"/"+name)
				continue
			}
			// Argo CD's settings informers see only what carries this label
			// (argo-cd util/settings/settings.go): without it the controller
			// exits with "configmap argocd-cm not found".
			if v := obj.GetLabels()[argoCDPartOfLabel]; v != "argocd" {
				return nil, fmt.Errorf("%s/%s in %s is labelled %s=%q, not \"argocd\": Argo CD would not read it (check the argo-cd addon's values)",
					conventions.ArgoCDNamespace, name, c, argoCDPartOfLabel, v)
			}
		}
		return missing, nil
	})
}
