package localfleet

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
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
	// LogLevel is every process's --loglevel; default "info".
	LogLevel string
}

func (o ArgoCDOptions) withDefaults(f *Fleet) ArgoCDOptions {
	if o.Namespace == "" {
		o.Namespace = "argocd"
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
//     127.0.0.1), ready when its probe's /healthz answers;
//   - with opts.Server, argocd-server (--insecure) on 127.0.0.1:Ports.Server.
//
// Every process gets ARGOCD_FAKE_IN_CLUSTER=true, KUBECONFIG, HOME, TMPDIR and
// Argo CD's data paths under <state>/argocd, ARGOCD_GPG_ENABLED=false and
// PATH=BinDir:$PATH; the caller's ARGOCD_*, *REDIS_*, HELM_*, GIT_* and XDG_*
// variables are not passed. The hub must hold Argo CD's CRDs, namespace and
// ConfigMaps first (bootstrap), and redis must run (StartRedis).
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
	ports := []labeledPort{
		{p.RepoServer, "argocd-repo-server"}, {p.RepoServerMetrics, "argocd-repo-server metrics"},
		{p.ControllerMetrics, "argocd-application-controller metrics"},
		{p.AppSetMetrics, "argocd-applicationset-controller metrics"}, {p.AppSetProbe, "argocd-applicationset-controller probe"},
		{p.AppSetWebhook, "argocd-applicationset-controller webhook"},
	}
	if opts.Server {
		ports = append(ports, labeledPort{p.Server, "argocd-server"}, labeledPort{p.ServerMetrics, "argocd-server metrics"})
	}
	if err := checkPortsFree(ports, "argo cd"); err != nil {
		return err
	}
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
	if err := f.startArgoCD(ctx, ProcRepoServer, bin, args, env, nil, "listening on "+repoServer, func(ctx context.Context) (bool, error) {
		return tcpOpen(ctx, repoServer), nil
	}); err != nil {
		return err
	}

	// application-controller
	args = slices.Concat(common, []string{
		"--kubeconfig", opts.Kubeconfig, "--namespace", opts.Namespace,
		"--redis", redis, "--repo-server", repoServer, "--commit-server", local(p.CommitServer),
		"--metrics-port", strconv.Itoa(p.ControllerMetrics), "--app-resync", strconv.Itoa(opts.AppResync)})
	healthz := "http://" + local(p.ControllerMetrics) + "/healthz"
	if err := f.startArgoCD(ctx, ProcController, bin, args, env, []string{"HOSTNAME=argocd-application-controller-0"},
		"healthy at "+healthz+" (served once its caches synced)", func(ctx context.Context) (bool, error) {
			return httpOK(ctx, healthz), nil
		}); err != nil {
		return err
	}

	// applicationset-controller
	args = slices.Concat(common, []string{
		"--kubeconfig", opts.Kubeconfig, "--namespace", opts.Namespace, "--argocd-repo-server", repoServer,
		"--metrics-addr", local(p.AppSetMetrics), "--probe-addr", local(p.AppSetProbe), "--webhook-addr", local(p.AppSetWebhook)})
	probe := "http://" + local(p.AppSetProbe) + "/healthz"
	if err := f.startArgoCD(ctx, ProcAppSet, bin, args, env, nil, "healthy at "+probe, func(ctx context.Context) (bool, error) {
		return httpOK(ctx, probe), nil
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
	return f.startArgoCD(ctx, ProcServer, bin, args, env, nil, "healthy at "+serverHealthz, func(ctx context.Context) (bool, error) {
		return httpOK(ctx, serverHealthz), nil
	})
}

// startArgoCD starts one Argo CD role of the multi-call binary and waits for it.
func (f *Fleet) startArgoCD(ctx context.Context, role, bin string, args, env, extraEnv []string, what string, ready func(ctx context.Context) (bool, error)) error {
	env = append(append(append([]string(nil), env...), "ARGOCD_BINARY_NAME="+role), extraEnv...)
	dir := filepath.Join(f.StateDir, "argocd")
	if err := f.startProcess(role, Command{Path: bin, Argv0: role, Args: args, Env: env, Dir: dir}); err != nil {
		return err
	}
	return f.waitProcess(ctx, role, what, defaultReadyWithin, ready)
}

// argoCDEnv is the environment of every Argo CD process: the caller's,
// without what would change Argo CD's, Helm's or Git's behaviour, plus the
// local fleet's settings. Directories are created.
func (f *Fleet) argoCDEnv(kubeconfig string) ([]string, error) {
	root := filepath.Join(f.StateDir, "argocd")
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
