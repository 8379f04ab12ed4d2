package localfleet

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/gitops-hub/gitops-hub/internal/supervisor"
)

// serviceReadyWithin bounds the wait for a service process to work.
const serviceReadyWithin = 60 * time.Second

// RedisBinary is the Redis-compatible server the fleet runs for Argo CD's
// cache: miniredis wrapped by hack/tools/redis, built by `make tools` into
// the binary directory, so no system package is needed.
const RedisBinary = "miniredis"

// redisCommand is how the fleet runs its redis: RedisBinary from the binary
// directory, else (for a BinDir of one's own binaries) a redis-server found
// on PATH, else an error that says how to get one.
func (f *Fleet) redisCommand(dir string, port int) (supervisor.Command, error) {
	if bin := f.Bin(RedisBinary); isExecutable(bin) {
		return supervisor.Command{Path: bin, Args: []string{"-addr", net.JoinHostPort("127.0.0.1", strconv.Itoa(port))}, Dir: dir}, nil
	}
	if bin, err := exec.LookPath("redis-server"); err == nil {
		return supervisor.Command{Path: bin, Dir: dir, Args: []string{
			"--bind", "127.0.0.1", "--port", strconv.Itoa(port), "--protected-mode", "yes",
			"--save", "", "--appendonly", "no", "--daemonize", "no", "--dir", dir, "--logfile", "",
		}}, nil
	}
	return supervisor.Command{}, fmt.Errorf("redis: %s not found in %s and no redis-server on PATH (build it with hack/tools/build.sh redis, part of make tools)", RedisBinary, f.binDir())
}

// StartRedis starts the fleet's redis (see redisCommand) on
// 127.0.0.1:Ports.Redis, without persistence, working directory
// <state>/redis, and waits until it answers PING. Like every starter here,
// it does not start a process that runs already: it only waits for it.
func (f *Fleet) StartRedis(ctx context.Context) error {
	if err := f.checkNetwork(); err != nil {
		return fmt.Errorf("redis: %w", err)
	}
	if err := f.ensureStateDir(); err != nil {
		return err
	}
	dir := filepath.Join(f.StateDir, "redis")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	port := f.ports().Redis
	cmd, err := f.redisCommand(dir, port)
	if err != nil {
		return err
	}
	return f.ensureProcess(ctx, ProcRedis, cmd, []labeledPort{{port, "redis"}},
		"answering PING on "+f.RedisAddr(), serviceReadyWithin, func(ctx context.Context) (bool, error) {
			return redisPing(ctx, f.RedisAddr()) == nil, nil
		})
}

func redisPing(ctx context.Context, addr string) error {
	d := net.Dialer{Timeout: 2 * time.Second}
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(2 * time.Second))
	// A RESP array, not an inline command: miniredis reads only arrays.
	if _, err := io.WriteString(c, "*1\r\n$4\r\nPING\r\n"); err != nil {
		return err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return err
	}
	if !strings.HasPrefix(line, "+PONG") {
		return fmt.Errorf("redis answered %q", strings.TrimSpace(line))
	}
	return nil
}

// Publish makes the commit at HEAD of the Git working tree repoDir the tip of
// branch Branch of the bare repository the git daemon serves
// (<state>/git/gitops-hub.git, created on first use), and returns its hash.
// Only committed work is published; call Publish again after a new commit.
// The bare repository fetches from repoDir (no hooks of repoDir run), and a
// shallow clone (as CI checks out) works.
func (f *Fleet) Publish(ctx context.Context, repoDir string) (string, error) {
	return f.PublishOverlay(ctx, repoDir, nil)
}

// PublishOverlay is Publish, but with ov (when not nil) the branch points at
// a commit on top of HEAD whose tree is HEAD's with the overlay applied (see
// Overlay). It returns the published commit.
func (f *Fleet) PublishOverlay(ctx context.Context, repoDir string, ov *Overlay) (string, error) {
	src, err := filepath.Abs(repoDir)
	if err != nil {
		return "", err
	}
	git, err := exec.LookPath("git")
	if err != nil {
		return "", fmt.Errorf("publish: git not found on PATH: %w", err)
	}
	safe := []string{"-c", "safe.directory=" + src, "-c", "safe.directory=" + filepath.Join(src, ".git")}
	head, err := runGit(ctx, git, src, append(safe, "rev-parse", "--verify", "HEAD^{commit}")...)
	if err != nil {
		return "", fmt.Errorf("publish %s: no commit at HEAD: %w", src, err)
	}
	if err := f.ensureStateDir(); err != nil {
		return "", err
	}
	bare := f.RepoPath()
	if _, err := os.Stat(filepath.Join(bare, "HEAD")); errors.Is(err, fs.ErrNotExist) {
		if err := os.MkdirAll(filepath.Dir(bare), 0o755); err != nil {
			return "", err
		}
		if _, err := runGit(ctx, git, filepath.Dir(bare), "init", "--quiet", "--bare", bare); err != nil {
			return "", fmt.Errorf("publish: creating %s: %w", bare, err)
		}
		if _, err := runGit(ctx, git, bare, "symbolic-ref", "HEAD", "refs/heads/"+Branch); err != nil {
			return "", fmt.Errorf("publish: %s: %w", bare, err)
		}
	}
	// With an overlay, HEAD is fetched to a ref of its own and the branch
	// moves once, to the overlay commit. Fetched to the branch, HEAD without
	// the overlay would be served for as long as the overlay commit takes: an
	// Argo CD refresh in that window syncs the AppProjects of HEAD, which
	// refuse the fleet's URLs, and every local Application reports
	// InvalidSpecError ("application repo ... is not permitted in project")
	// until its next refresh.
	fetched := "refs/heads/" + Branch
	if ov != nil {
		fetched = publishedHeadRef
	}
	// The commit itself, not a ref name of src: HEAD may be detached.
	args := append(safe, "fetch", "--quiet", "--no-tags", "--update-shallow", "--force", src, "+"+head+":"+fetched)
	if _, err := runGit(ctx, git, bare, args...); err != nil {
		// Older git refuses to fetch a commit by hash unless advertised:
		// fetch HEAD then point the branch at it.
		args := append(safe, "fetch", "--quiet", "--no-tags", "--update-shallow", "--force", src, "HEAD")
		if _, err2 := runGit(ctx, git, bare, args...); err2 != nil {
			return "", fmt.Errorf("publish %s into %s: %w", src, bare, errors.Join(err, err2))
		}
		if _, err := runGit(ctx, git, bare, "update-ref", fetched, head); err != nil {
			return "", fmt.Errorf("publish %s into %s: %w", src, bare, err)
		}
	}
	want := head
	if ov != nil {
		if want, err = ov.commit(ctx, git, bare, head); err != nil {
			return "", fmt.Errorf("publish %s: %w", src, err)
		}
		if _, err := runGit(ctx, git, bare, "update-ref", "refs/heads/"+Branch, want); err != nil {
			return "", fmt.Errorf("publish %s into %s: %w", src, bare, err)
		}
	}
	got, err := runGit(ctx, git, bare, "rev-parse", "--verify", "refs/heads/"+Branch)
	if err != nil || got != want {
		return "", fmt.Errorf("publish: %s has %s at %s, want %s (%v)", bare, Branch, got, want, err)
	}
	return want, nil
}

// publishedHeadRef holds, in the served repository, the HEAD that the
// overlay commit is made on: not a branch, so no client sees it.
const publishedHeadRef = "refs/hubctl/published-head"

// runGit runs git in dir without the caller's GIT_* variables and returns
// its trimmed stdout.
func runGit(ctx context.Context, git, dir string, args ...string) (string, error) {
	return runGitIn(ctx, git, dir, nil, nil, args...)
}

// runGitIn is runGit with extra environment variables (GIT_INDEX_FILE, ...)
// and stdin.
func runGitIn(ctx context.Context, git, dir string, env []string, stdin io.Reader, args ...string) (string, error) {
	out, err := runGitRaw(ctx, git, dir, env, stdin, args...)
	return strings.TrimSpace(string(out)), err
}

// runGitRaw is runGitIn with stdout as it is.
func runGitRaw(ctx context.Context, git, dir string, env []string, stdin io.Reader, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, git, args...)
	cmd.Dir = dir
	cmd.Stdin = stdin
	cmd.Env = append(append(filterEnv(os.Environ(), func(k string) bool { return strings.HasPrefix(k, "GIT_") }),
		"GIT_TERMINAL_PROMPT=0"), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("git %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return stdout.Bytes(), nil
}

// StartGitDaemon starts `git daemon` serving <state>/git read-only on
// 127.0.0.1:Ports.Git (GitURL()), and waits until git ls-remote sees branch
// Branch there. Publish first.
func (f *Fleet) StartGitDaemon(ctx context.Context) error {
	if err := f.checkNetwork(); err != nil {
		return fmt.Errorf("git daemon: %w", err)
	}
	git, err := exec.LookPath("git")
	if err != nil {
		return fmt.Errorf("git daemon: git not found on PATH: %w", err)
	}
	if _, err := os.Stat(filepath.Join(f.RepoPath(), "HEAD")); err != nil {
		return fmt.Errorf("git daemon: nothing published yet (%s): Publish first", f.RepoPath())
	}
	port := f.ports().Git
	base := filepath.Join(f.StateDir, "git")
	env := filterEnv(os.Environ(), func(k string) bool { return strings.HasPrefix(k, "GIT_") })
	// `git daemon` forks git-daemon and waits for it: run git-daemon itself,
	// so the recorded PID is the daemon's. It runs itself again for each
	// connection, found on PATH, where the git wrapper would have put its
	// exec-path.
	daemon, argv0, args := git, "git", []string{"daemon"}
	if execPath, err := runGit(ctx, git, f.StateDir, "--exec-path"); err == nil && isExecutable(filepath.Join(execPath, "git-daemon")) {
		daemon, argv0, args = filepath.Join(execPath, "git-daemon"), "git-daemon", nil
		env = append(filterEnv(env, func(k string) bool { return k == "PATH" }),
			"PATH="+execPath+string(os.PathListSeparator)+os.Getenv("PATH"))
	}
	args = append(args,
		"--listen=127.0.0.1", "--port="+strconv.Itoa(port), "--base-path="+base,
		"--export-all", "--reuseaddr", "--informative-errors", "--verbose", base)
	url := f.GitURL()
	c := supervisor.Command{Path: daemon, Argv0: argv0, Args: args, Env: env, Dir: base}
	return f.ensureProcess(ctx, ProcGitDaemon, c, []labeledPort{{port, "git daemon"}}, "serving "+url, serviceReadyWithin, func(ctx context.Context) (bool, error) {
		if !tcpOpen(ctx, "127.0.0.1:"+strconv.Itoa(port)) {
			return false, nil
		}
		out, err := runGit(ctx, git, base, "ls-remote", url, "refs/heads/"+Branch)
		return err == nil && strings.Contains(out, "refs/heads/"+Branch), nil
	})
}

// ServeCharts serves the folder dir (a Helm repository: index.yaml and the
// packaged charts it lists) over plain HTTP on addr until ctx ends; one line
// per request goes to stderr. hubctl exposes it as
// `hubctl internal serve-charts DIR --addr 127.0.0.1:PORT`, which
// StartChartServer runs as a managed process.
func ServeCharts(ctx context.Context, dir, addr string) error {
	if _, err := os.Stat(filepath.Join(dir, "index.yaml")); err != nil {
		return fmt.Errorf("serve charts: %s is not a Helm repository: %w", dir, err)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("serve charts: %w", err)
	}
	files := http.FileServer(http.Dir(dir))
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			http.Error(w, "read-only", http.StatusMethodNotAllowed)
			return
		}
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		files.ServeHTTP(rec, r)
		fmt.Fprintf(os.Stderr, "%s %s %s %d %dB\n", time.Now().UTC().Format(time.RFC3339), r.Method, r.URL.Path, rec.status, rec.bytes)
	})
	fmt.Fprintf(os.Stderr, "serving %s on http://%s\n", dir, ln.Addr())
	if err := serveUntilDone(ctx, &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}, ln); err != nil {
		return fmt.Errorf("serve charts: %w", err)
	}
	return nil
}

// serveUntilDone serves srv on ln until ctx ends, then shuts it down
// (waiting up to 5 s for requests in flight); a shutdown is no error.
func serveUntilDone(ctx context.Context, srv *http.Server, ln net.Listener) error {
	done := make(chan struct{})
	go func() {
		select {
		case <-ctx.Done():
			sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			defer cancel()
			_ = srv.Shutdown(sctx)
		case <-done:
		}
	}()
	err := srv.Serve(ln)
	close(done)
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

type statusRecorder struct {
	http.ResponseWriter
	status int
	bytes  int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	n, err := r.ResponseWriter.Write(b)
	r.bytes += n
	return n, err
}

// ChartServerArgs are the arguments StartChartServer gives the hubctl
// executable: internal serve-charts DIR --addr ADDR.
func ChartServerArgs(dir, addr string) []string {
	return []string{"internal", "serve-charts", dir, "--addr", addr}
}

// StartChartServer starts `<selfExe> internal serve-charts <dir> --addr
// 127.0.0.1:<Ports.Charts>` (ServeCharts in a process of its own) and waits
// until ChartURL()/index.yaml answers. selfExe is the hubctl executable
// (os.Executable()).
func (f *Fleet) StartChartServer(ctx context.Context, selfExe, dir string) error {
	if err := f.checkNetwork(); err != nil {
		return fmt.Errorf("chart server: %w", err)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(abs, "index.yaml")); err != nil {
		return fmt.Errorf("chart server: %s is not a Helm repository (no index.yaml): %w", abs, err)
	}
	port := f.ports().Charts
	addr := "127.0.0.1:" + strconv.Itoa(port)
	c := supervisor.Command{Path: selfExe, Argv0: "hubctl", Args: ChartServerArgs(abs, addr)}
	url := f.ChartURL() + "/index.yaml"
	return f.ensureProcess(ctx, ProcChartServer, c, []labeledPort{{port, "chart server"}}, "serving "+url, serviceReadyWithin, func(ctx context.Context) (bool, error) {
		return httpOK(ctx, url), nil
	})
}

// ensureProcess starts process name unless it runs already (after checking
// that its ports are free), then waits until ready says yes. So starting a
// running fleet's services again converges instead of failing.
func (f *Fleet) ensureProcess(ctx context.Context, name string, c supervisor.Command, ports []labeledPort, what string, timeout time.Duration, ready func(ctx context.Context) (bool, error)) error {
	if f.procs().Alive(name) {
		fmt.Fprintf(f.out(), "   %s runs already\n", name)
	} else {
		if err := checkPortsFree(ports, name); err != nil {
			return err
		}
		if err := f.startProcess(name, c); err != nil {
			return err
		}
	}
	return f.waitProcess(ctx, name, what, timeout, ready)
}

// startProcess starts a process of the fleet and records it in fleet.json.
func (f *Fleet) startProcess(name string, c supervisor.Command) error {
	if err := f.ensureStateDir(); err != nil {
		return err
	}
	rec, err := f.procs().Start(name, c)
	if err != nil {
		return err
	}
	return f.updateState(func(s *State) { s.setProcess(rec) })
}

// waitProcess polls check until it says yes, failing as soon as process
// name is gone; errors name the process, its PID and log, with its last lines.
func (f *Fleet) waitProcess(ctx context.Context, name, what string, timeout time.Duration, check func(ctx context.Context) (bool, error)) error {
	return f.procs().WaitRunning(ctx, name, what, func(ctx context.Context) error {
		return poll(ctx, timeout, 200*time.Millisecond, check)
	})
}

func tcpOpen(ctx context.Context, addr string) bool {
	d := net.Dialer{Timeout: time.Second}
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return false
	}
	c.Close()
	return true
}

// httpStatus GETs url and returns its status code; ok is false when
// nothing answered.
func httpStatus(ctx context.Context, url string) (code int, ok bool) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, false
	}
	resp, err := (&http.Client{Timeout: 2 * time.Second}).Do(req)
	if err != nil {
		return 0, false
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	return resp.StatusCode, true
}

// httpAnswers reports whether url answers HTTP at all, whatever the status.
func httpAnswers(ctx context.Context, url string) bool {
	_, ok := httpStatus(ctx, url)
	return ok
}

// httpOK reports whether url answers 200 OK.
func httpOK(ctx context.Context, url string) bool {
	code, ok := httpStatus(ctx, url)
	return ok && code == http.StatusOK
}
