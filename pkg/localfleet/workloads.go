package localfleet

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"net/http/cgi"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/gitops-hub/gitops-hub/internal/supervisor"
	"github.com/gitops-hub/gitops-hub/pkg/fsutil"
)

// The clients' workload repository of the local fleet: one bare Git
// repository (WorkloadsRepoName, one directory per client) served over HTTP
// by `hubctl internal serve-git` (ServeGit: git http-backend behind HTTP
// basic auth, read-only) at WorkloadsURL(). It requires credentials, so that
// the client's Argo CD can only read it with the credential the hub holds
// (client-<client>/workloads-repo, delivered by ESO). `up` seeds it once from
// a directory of the repository's HEAD; after that it is the clients' own:
// `up` never moves its branch again.
const (
	WorkloadsRepoName = "workloads.git"
	// WorkloadsUser is the user name the workload repository accepts.
	WorkloadsUser = "gitops"
	// ProcWorkloadsServer serves the workload repository.
	ProcWorkloadsServer = "workloads-git-server"
	// workloadsPort is where it listens on 127.0.0.1 (the local overlay's
	// client_workloads_repo_url names it).
	workloadsPort = 19419
	// maxPasswordFile bounds the password file ServeGit reads.
	maxPasswordFile = 4 << 10
)

// WorkloadsURL is the workload repository's URL.
func (f *Fleet) WorkloadsURL() string {
	return "http://127.0.0.1:" + strconv.Itoa(workloadsPort) + "/" + WorkloadsRepoName
}

// WorkloadsRepoPath is the bare workload repository.
func (f *Fleet) WorkloadsRepoPath() string {
	return filepath.Join(f.StateDir, "workloads", WorkloadsRepoName)
}

// workloadsPasswordFile holds the workload repository's password (0600).
func (f *Fleet) workloadsPasswordFile() string {
	return filepath.Join(f.StateDir, "workloads", "password")
}

// WorkloadsPassword returns the workload repository's password, generated
// (24 random bytes, hex) and stored in <state>/workloads/password (mode 0600)
// on first use. It is never printed or logged.
func (f *Fleet) WorkloadsPassword() (string, error) {
	path := f.workloadsPasswordFile()
	if b, err := readPasswordFile(path); err == nil {
		return b, nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return "", err
	}
	if err := f.ensureStateDir(); err != nil {
		return "", err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return "", err
	}
	raw := make([]byte, 24)
	if _, err := rand.Read(raw); err != nil {
		return "", err
	}
	pw := hex.EncodeToString(raw)
	if err := fsutil.ReplaceFile(path, []byte(pw+"\n"), 0o600); err != nil {
		return "", err
	}
	return pw, nil
}

// readPasswordFile reads a password file of at most maxPasswordFile bytes
// (a regular file), without its trailing newline.
func readPasswordFile(path string) (string, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return "", err
	}
	if !fi.Mode().IsRegular() || fi.Size() > maxPasswordFile {
		return "", fmt.Errorf("password file %s: want a regular file of at most %d bytes", path, maxPasswordFile)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	pw := strings.TrimRight(string(b), "\r\n")
	if pw == "" {
		return "", fmt.Errorf("password file %s is empty", path)
	}
	return pw, nil
}

// SeedWorkloads creates the workload repository, unless it exists, with one
// commit on branch Branch whose tree is directory dir of repoDir's HEAD
// (e.g. hack/local-fleet/workloads: one directory per client). The commit is
// deterministic (HEAD's dates, a fixed author). It returns the commit of
// Branch, and whether it was created now.
func (f *Fleet) SeedWorkloads(ctx context.Context, repoDir, dir string) (string, bool, error) {
	git, err := exec.LookPath("git")
	if err != nil {
		return "", false, fmt.Errorf("workload repository: git not found on PATH: %w", err)
	}
	bare := f.WorkloadsRepoPath()
	if rev, err := runGit(ctx, git, bare, "rev-parse", "--verify", "refs/heads/"+Branch); err == nil {
		return rev, false, nil
	}
	src, err := filepath.Abs(repoDir)
	if err != nil {
		return "", false, err
	}
	if err := f.ensureStateDir(); err != nil {
		return "", false, err
	}
	if err := os.MkdirAll(filepath.Dir(bare), 0o700); err != nil {
		return "", false, err
	}
	if _, err := os.Stat(filepath.Join(bare, "HEAD")); errors.Is(err, fs.ErrNotExist) {
		if _, err := runGit(ctx, git, filepath.Dir(bare), "init", "--quiet", "--bare", bare); err != nil {
			return "", false, fmt.Errorf("workload repository: creating %s: %w", bare, err)
		}
		if _, err := runGit(ctx, git, bare, "symbolic-ref", "HEAD", "refs/heads/"+Branch); err != nil {
			return "", false, fmt.Errorf("workload repository %s: %w", bare, err)
		}
	}
	safe := []string{"-c", "safe.directory=" + src, "-c", "safe.directory=" + filepath.Join(src, ".git")}
	head, err := runGit(ctx, git, src, append(safe, "rev-parse", "--verify", "HEAD^{commit}")...)
	if err != nil {
		return "", false, fmt.Errorf("workload repository: %s has no commit at HEAD: %w", src, err)
	}
	const seedRef = "refs/hubctl/seed"
	if _, err := runGit(ctx, git, bare, append(safe, "fetch", "--quiet", "--no-tags", "--force", src, "+HEAD:"+seedRef)...); err != nil {
		return "", false, fmt.Errorf("workload repository: fetching %s: %w", src, err)
	}
	tree, err := runGit(ctx, git, bare, "rev-parse", "--verify", head+":"+dir)
	if err != nil {
		return "", false, fmt.Errorf("workload repository: %s has no directory %s at HEAD (commit it): %w", src, dir, err)
	}
	date, err := runGit(ctx, git, bare, "show", "-s", "--format=%cI", head)
	if err != nil {
		return "", false, err
	}
	env := []string{
		"GIT_AUTHOR_NAME=hubctl up", "GIT_AUTHOR_EMAIL=hubctl@localhost", "GIT_AUTHOR_DATE=" + date,
		"GIT_COMMITTER_NAME=hubctl up", "GIT_COMMITTER_EMAIL=hubctl@localhost", "GIT_COMMITTER_DATE=" + date,
	}
	commit, err := runGitIn(ctx, git, bare, env, nil, "commit-tree", tree, "-m", "The clients' sample workloads ("+dir+")")
	if err != nil {
		return "", false, fmt.Errorf("workload repository: %w", err)
	}
	if _, err := runGit(ctx, git, bare, "update-ref", "refs/heads/"+Branch, commit, ""); err != nil {
		return "", false, fmt.Errorf("workload repository: %w", err)
	}
	_, _ = runGit(ctx, git, bare, "update-ref", "-d", seedRef)
	return commit, true, nil
}

// ServeGitArgs are the arguments StartWorkloadsServer gives the hubctl
// executable: internal serve-git DIR --addr ADDR --user USER
// --password-file FILE (the password itself never is on a command line).
func ServeGitArgs(dir, addr, user, passwordFile string) []string {
	return []string{"internal", "serve-git", dir, "--addr", addr, "--user", user, "--password-file", passwordFile}
}

// StartWorkloadsServer starts `<selfExe> internal serve-git` for the
// workload repository (ServeGit in a process of its own) on
// 127.0.0.1:19419 and waits until it answers, and refuses, a request
// without credentials. SeedWorkloads and WorkloadsPassword first.
func (f *Fleet) StartWorkloadsServer(ctx context.Context, selfExe string) error {
	if err := f.checkNetwork(); err != nil {
		return fmt.Errorf("workload repository server: %w", err)
	}
	if _, err := os.Stat(filepath.Join(f.WorkloadsRepoPath(), "HEAD")); err != nil {
		return fmt.Errorf("workload repository server: no repository yet (%s): SeedWorkloads first", f.WorkloadsRepoPath())
	}
	if _, err := readPasswordFile(f.workloadsPasswordFile()); err != nil {
		return fmt.Errorf("workload repository server: %w", err)
	}
	addr := "127.0.0.1:" + strconv.Itoa(workloadsPort)
	c := supervisor.Command{Path: selfExe, Argv0: "hubctl",
		Args: ServeGitArgs(filepath.Dir(f.WorkloadsRepoPath()), addr, WorkloadsUser, f.workloadsPasswordFile())}
	probe := f.WorkloadsURL() + "/info/refs?service=git-upload-pack"
	return f.ensureProcess(ctx, ProcWorkloadsServer, c, []labeledPort{{workloadsPort, "workload repository server"}},
		"serving "+f.WorkloadsURL()+" (401 without credentials)", serviceReadyWithin, func(ctx context.Context) (bool, error) {
			code, ok := httpStatus(ctx, probe)
			return ok && code == http.StatusUnauthorized, nil
		})
}

// ServeGit serves the bare Git repositories under dir, read-only, over HTTP
// on addr until ctx ends: `git http-backend` (smart HTTP, through
// net/http/cgi) behind HTTP basic auth for user and the password in
// passwordFile (read once; compared in constant time). A request without
// them gets 401, a push (git-receive-pack) 403. One line per request goes to
// stderr, never a credential.
func ServeGit(ctx context.Context, dir, addr, user, passwordFile string) error {
	git, err := exec.LookPath("git")
	if err != nil {
		return fmt.Errorf("serve git: git not found on PATH: %w", err)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	if fi, err := os.Stat(abs); err != nil || !fi.IsDir() {
		return fmt.Errorf("serve git: %s is not a directory (%v)", abs, err)
	}
	if user == "" {
		return errors.New("serve git: --user is empty")
	}
	pw, err := readPasswordFile(passwordFile)
	if err != nil {
		return fmt.Errorf("serve git: %w", err)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("serve git: %w", err)
	}
	backend := &cgi.Handler{
		Path: git,
		Args: []string{"http-backend"},
		Dir:  abs,
		Env: []string{
			"GIT_PROJECT_ROOT=" + abs, "GIT_HTTP_EXPORT_ALL=1", "PATH=" + os.Getenv("PATH"),
			"HOME=" + abs, "GIT_CONFIG_NOSYSTEM=1",
		},
	}
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		defer func() {
			fmt.Fprintf(os.Stderr, "%s %s %s %d %dB\n", time.Now().UTC().Format(time.RFC3339), r.Method, r.URL.Path, rec.status, rec.bytes)
		}()
		u, p, ok := r.BasicAuth()
		if !ok || subtle.ConstantTimeCompare([]byte(u), []byte(user)) != 1 || subtle.ConstantTimeCompare([]byte(p), []byte(pw)) != 1 {
			rec.Header().Set("WWW-Authenticate", `Basic realm="gitops-hub workloads"`)
			http.Error(rec, "authentication required", http.StatusUnauthorized)
			return
		}
		if r.URL.Query().Get("service") == "git-receive-pack" || strings.HasSuffix(r.URL.Path, "/git-receive-pack") {
			http.Error(rec, "read-only", http.StatusForbidden)
			return
		}
		backend.ServeHTTP(rec, r)
	})
	fmt.Fprintf(os.Stderr, "serving the Git repositories of %s on http://%s (basic auth, read-only)\n", abs, ln.Addr())
	if err := serveUntilDone(ctx, &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second, MaxHeaderBytes: 64 << 10}, ln); err != nil {
		return fmt.Errorf("serve git: %w", err)
	}
	return nil
}
