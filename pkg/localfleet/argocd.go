package localfleet

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/gitops-hub/gitops-hub/internal/supervisor"
	"github.com/gitops-hub/gitops-hub/pkg/conventions"
)

// ArgoCDOptions tune StartArgoCD.
type ArgoCDOptions struct {
	// Namespace is Argo CD's namespace in the hub; default "argocd".
	Namespace string
	// Kubeconfig is the hub's kubeconfig; default Kubeconfig(Hub).
	Kubeconfig string
	// Server also starts argocd-server (plain HTTP on 127.0.0.1:Ports.Server).
	Server bool
	// AppResync is the application-controller's --app-resync in seconds; 0 means 30.
	AppResync int
	// AppHardResync is its --app-hard-resync in seconds (a periodic hard
	// refresh, which bypasses the caches); 0 means none. In a real install
	// argocd-cm's timeout.hard.reconciliation reaches the controller as the
	// environment of its Deployment; local processes take the flag.
	AppHardResync int
	// AppResyncJitter is its --app-resync-jitter in seconds, the random delay
	// added to each periodic refresh (Argo CD's default is 60); 0 means none.
	AppResyncJitter int
	// LogLevel is every process's --loglevel; default "info".
	LogLevel string
}

func (o ArgoCDOptions) withDefaults(f *Fleet) ArgoCDOptions {
	if o.Namespace == "" {
		o.Namespace = conventions.ArgoCDNamespace
	}
	if o.Kubeconfig == "" {
		o.Kubeconfig = f.Kubeconfig(f.Hub)
	}
	if o.AppResync == 0 {
		o.AppResync = 30
	}
	if o.LogLevel == "" {
		o.LogLevel = "info"
	}
	return o
}

// argoCDBinaries are what the Argo CD processes need in BinDir (the repo-server
// runs helm and the wrappers from PATH).
func argoCDBinaryNames() []string {
	return []string{"argocd", "helm", "git-verify-wrapper.sh", "gpg-wrapper.sh"}
}

// StartArgoCD starts the Argo CD controllers as local processes against the
// hub, one after the other, each waited for:
//
//   - argocd-repo-server on 127.0.0.1:Ports.RepoServer (metrics on 127.0.0.1),
//     ready when its port accepts connections;
//   - argocd-application-controller (HOSTNAME=argocd-application-controller-0,
//     --app-resync opts.AppResync), ready when /healthz on its metrics port
//     answers, which it serves once its caches synced;
//   - argocd-applicationset-controller (metrics, probe and webhook on
//     127.0.0.1), ready when its probe port answers HTTP and its log says
//     "Starting workers" (Argo CD registers no health check: /healthz is 404);
//   - with opts.Server, argocd-server (--insecure) on 127.0.0.1:Ports.Server.
//
// Every process gets ARGOCD_FAKE_IN_CLUSTER=true, KUBECONFIG, HOME, TMPDIR and
// Argo CD's data paths under <state>/argocd, ARGOCD_GPG_ENABLED=false and
// PATH=BinDir:$PATH; the caller's ARGOCD_*, *REDIS_*, HELM_*, GIT_* and XDG_*
// variables are not passed. The hub must hold Argo CD's CRDs, namespace and
// ConfigMaps first (bootstrap), and redis must run (StartRedis). A role
// that runs already is not started again, only waited for.
func (f *Fleet) StartArgoCD(ctx context.Context, opts ArgoCDOptions) error {
	opts = opts.withDefaults(f)
	if err := f.checkNetwork(); err != nil {
		return fmt.Errorf("argo cd: %w", err)
	}
	var missing []string
	for _, b := range argoCDBinaryNames() {
		if !isExecutable(f.Bin(b)) {
			missing = append(missing, b)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("argo cd: missing in %s: %s (build them with hack/tools/build.sh argocd helm, or set $%s)", f.binDir(), strings.Join(missing, ", "), EnvBinDir)
	}
	if _, err := os.Stat(opts.Kubeconfig); err != nil {
		return fmt.Errorf("argo cd: hub kubeconfig: %w", err)
	}
	p := f.ports()
	repoPorts := []labeledPort{{p.RepoServer, "argocd-repo-server"}, {p.RepoServerMetrics, "argocd-repo-server metrics"}}
	controllerPorts := []labeledPort{{p.ControllerMetrics, "argocd-application-controller metrics"}}
	appsetPorts := []labeledPort{
		{p.AppSetMetrics, "argocd-applicationset-controller metrics"}, {p.AppSetProbe, "argocd-applicationset-controller probe"},
		{p.AppSetWebhook, "argocd-applicationset-controller webhook"},
	}
	serverPorts := []labeledPort{{p.Server, "argocd-server"}, {p.ServerMetrics, "argocd-server metrics"}}
	if err := f.ensureStateDir(); err != nil {
		return err
	}
	env, err := f.argoCDEnv(opts.Kubeconfig)
	if err != nil {
		return fmt.Errorf("argo cd: %w", err)
	}
	bin := f.Bin("argocd")
	common := []string{"--loglevel", opts.LogLevel, "--logformat", "text"}
	local := func(port int) string { return "127.0.0.1:" + strconv.Itoa(port) }
	redis := f.RedisAddr()
	repoServer := f.RepoServerAddr()

	// repo-server
	args := slices.Concat(common, []string{
		"--address", "127.0.0.1", "--port", strconv.Itoa(p.RepoServer),
		"--metrics-address", "127.0.0.1", "--metrics-port", strconv.Itoa(p.RepoServerMetrics),
		"--redis", redis})
	if err := f.startArgoCD(ctx, ProcRepoServer, bin, args, env, nil, repoPorts, "listening on "+repoServer, func(ctx context.Context) (bool, error) {
		return tcpOpen(ctx, repoServer), nil
	}); err != nil {
		return err
	}

	// application-controller
	args = slices.Concat(common, []string{
		"--kubeconfig", opts.Kubeconfig, "--namespace", opts.Namespace,
		"--redis", redis, "--repo-server", repoServer, "--commit-server", local(p.CommitServer),
		"--metrics-port", strconv.Itoa(p.ControllerMetrics), "--app-resync", strconv.Itoa(opts.AppResync), "--app-hard-resync", strconv.Itoa(opts.AppHardResync),
		"--app-resync-jitter", strconv.Itoa(opts.AppResyncJitter)})
	healthz := "http://" + local(p.ControllerMetrics) + "/healthz"
	if err := f.startArgoCD(ctx, ProcController, bin, args, env, []string{"HOSTNAME=argocd-application-controller-0"}, controllerPorts,
		"healthy at "+healthz+" (served once its caches synced)", func(ctx context.Context) (bool, error) {
			return httpOK(ctx, healthz), nil
		}); err != nil {
		return err
	}

	// applicationset-controller
	args = slices.Concat(common, []string{
		"--kubeconfig", opts.Kubeconfig, "--namespace", opts.Namespace, "--argocd-repo-server", repoServer,
		"--metrics-addr", local(p.AppSetMetrics), "--probe-addr", local(p.AppSetProbe), "--webhook-addr", local(p.AppSetWebhook)})
	// v3.6.1 registers no health check on its probe server (its /healthz
	// answers 404): ready is the probe port answering HTTP and the log
	// saying the controller started its workers (its caches synced).
	probe := "http://" + local(p.AppSetProbe) + "/healthz"
	appsetLog := f.LogPath(ProcAppSet)
	offset := fileSize(appsetLog)
	if f.procs().Alive(ProcAppSet) {
		offset = 0
	}
	if err := f.startArgoCD(ctx, ProcAppSet, bin, args, env, nil, appsetPorts, "answering at "+probe+" with its workers started", func(ctx context.Context) (bool, error) {
		return httpAnswers(ctx, probe) && logContains(appsetLog, offset, "Starting workers"), nil
	}); err != nil {
		return err
	}

	if !opts.Server {
		return nil
	}
	static := filepath.Join(f.StateDir, "argocd", "static")
	if err := os.MkdirAll(static, 0o755); err != nil {
		return err
	}
	args = slices.Concat(common, []string{
		"--insecure", "--address", "127.0.0.1", "--port", strconv.Itoa(p.Server),
		"--metrics-address", "127.0.0.1", "--metrics-port", strconv.Itoa(p.ServerMetrics),
		"--kubeconfig", opts.Kubeconfig, "--namespace", opts.Namespace,
		"--repo-server", repoServer, "--redis", redis, "--staticassets", static})
	serverHealthz := "http://" + local(p.Server) + "/healthz"
	return f.startArgoCD(ctx, ProcServer, bin, args, env, nil, serverPorts, "healthy at "+serverHealthz, func(ctx context.Context) (bool, error) {
		return httpOK(ctx, serverHealthz), nil
	})
}

// startArgoCD starts one Argo CD role of the multi-call binary (unless it
// runs already) and waits for it.
func (f *Fleet) startArgoCD(ctx context.Context, role, bin string, args, env, extraEnv []string, ports []labeledPort, what string, ready func(ctx context.Context) (bool, error)) error {
	return f.startArgoCDAs(ctx, role, role, filepath.Join(f.StateDir, "argocd"), bin, args, env, extraEnv, ports, what, ready)
}

// startArgoCDAs is startArgoCD for a process named name (role is the Argo
// CD role it runs as), working directory dir.
func (f *Fleet) startArgoCDAs(ctx context.Context, name, role, dir, bin string, args, env, extraEnv []string, ports []labeledPort, what string, ready func(ctx context.Context) (bool, error)) error {
	env = append(append(append([]string(nil), env...), "ARGOCD_BINARY_NAME="+role), extraEnv...)
	c := supervisor.Command{Path: bin, Argv0: role, Args: args, Env: env, Dir: dir}
	return f.ensureProcess(ctx, name, c, ports, what, defaultReadyWithin, ready)
}

// argoCDEnv is the environment of every Argo CD process: the caller's,
// without what would change Argo CD's, Helm's or Git's behaviour, plus the
// local fleet's settings. Directories are created.
func (f *Fleet) argoCDEnv(kubeconfig string) ([]string, error) {
	return f.argoCDEnvAt(filepath.Join(f.StateDir, "argocd"), kubeconfig)
}

// argoCDEnvAt is argoCDEnv with Argo CD's directories under root.
func (f *Fleet) argoCDEnvAt(root, kubeconfig string) ([]string, error) {
	dirs := map[string]string{
		"HOME":                      filepath.Join(root, "home"),
		"TMPDIR":                    filepath.Join(root, "tmp"),
		"ARGOCD_TLS_DATA_PATH":      filepath.Join(root, "tls"),
		"ARGOCD_SSH_DATA_PATH":      filepath.Join(root, "ssh"),
		"ARGOCD_GNUPGHOME":          filepath.Join(root, "gpg", "keys"),
		"ARGOCD_GPG_DATA_PATH":      filepath.Join(root, "gpg", "source"),
		"ARGOCD_PLUGINSOCKFILEPATH": filepath.Join(root, "cmp"),
	}
	env := filterEnv(os.Environ(), func(k string) bool {
		return strings.HasPrefix(k, "ARGOCD_") || strings.Contains(k, "REDIS_") || strings.HasPrefix(k, "HELM_") ||
			strings.HasPrefix(k, "GIT_") || strings.HasPrefix(k, "XDG_") || strings.HasPrefix(k, "KUBE") ||
			k == "HOSTNAME" || k == "PATH" || dirs[k] != ""
	})
	for k, d := range dirs {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, err
		}
		env = append(env, k+"="+d)
	}
	return append(env,
		"PATH="+f.binDir()+string(os.PathListSeparator)+os.Getenv("PATH"),
		"KUBECONFIG="+kubeconfig,
		"ARGOCD_FAKE_IN_CLUSTER=true",
		"ARGOCD_GPG_ENABLED=false",
	), nil
}

func fileSize(path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return fi.Size()
}

// logContains reports whether a line of the log at path holds s after offset.
func logContains(path string, offset int64, s string) bool {
	return logLineContains(path, offset, s)
}
