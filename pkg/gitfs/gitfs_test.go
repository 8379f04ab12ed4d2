package gitfs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/gitops-hub/gitops-hub/pkg/loader"
)

// repo is a throw-away Git repository.
type repo struct {
	t   *testing.T
	dir string
}

func newRepo(t *testing.T) *repo {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed")
	}
	r := &repo{t: t, dir: t.TempDir()}
	r.git("init", "-q", "-b", "main")
	return r
}

func (r *repo) git(args ...string) string {
	r.t.Helper()
	cmd := exec.Command("git", append([]string{"-C", r.dir,
		"-c", "user.name=test", "-c", "user.email=test@example.com", "-c", "commit.gpgsign=false"}, args...)...)
	cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "HOME="+r.dir, "GIT_AUTHOR_DATE=2026-01-01T00:00:00Z", "GIT_COMMITTER_DATE=2026-01-01T00:00:00Z")
	out, err := cmd.CombinedOutput()
	if err != nil {
		r.t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

func (r *repo) write(name, content string) {
	r.t.Helper()
	p := filepath.Join(r.dir, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		r.t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		r.t.Fatal(err)
	}
}

func (r *repo) commit(msg string) string {
	r.t.Helper()
	r.git("add", "-A")
	r.git("commit", "-q", "--allow-empty", "-m", msg)
	return r.git("rev-parse", "HEAD")
}

func readString(t *testing.T, fsys fs.FS, name string) string {
	t.Helper()
	b, err := fs.ReadFile(fsys, name)
	if err != nil {
		t.Fatalf("ReadFile(%s): %v", name, err)
	}
	return string(b)
}

func TestOpenRevisions(t *testing.T) {
	r := newRepo(t)
	r.write("environments/develop/values.yaml", "replicas: 1\n")
	r.write("environments/prod/values.yaml", "replicas: 3\n")
	r.write("README.md", "v1\n")
	first := r.commit("first")
	r.write("environments/develop/values.yaml", "replicas: 2\n") // changed
	if err := os.Remove(filepath.Join(r.dir, "environments/prod/values.yaml")); err != nil {
		t.Fatal(err)
	}
	r.write("clusters/a/values.yaml", "x: 1\n") // added
	second := r.commit("second")
	r.git("tag", "v2")
	ctx := context.Background()

	old, err := Open(ctx, r.dir, first)
	if err != nil {
		t.Fatal(err)
	}
	if got := readString(t, old, "environments/develop/values.yaml"); got != "replicas: 1\n" {
		t.Errorf("first: develop = %q", got)
	}
	if got := readString(t, old, "environments/prod/values.yaml"); got != "replicas: 3\n" {
		t.Errorf("first: prod = %q", got)
	}
	if _, err := fs.Stat(old, "clusters"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("first: clusters exists: %v", err)
	}

	for _, rev := range []string{second, "main", "v2", "HEAD", second[:10]} {
		cur, err := Open(ctx, r.dir, rev)
		if err != nil {
			t.Fatalf("%s: %v", rev, err)
		}
		if got := readString(t, cur, "environments/develop/values.yaml"); got != "replicas: 2\n" {
			t.Errorf("%s: develop = %q (file changed between commits)", rev, got)
		}
		if _, err := fs.Stat(cur, "environments/prod/values.yaml"); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s: deleted file still present: %v", rev, err)
		}
		if _, err := fs.Stat(cur, "environments/prod"); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s: directory of the deleted file still present: %v", rev, err)
		}
	}

	// HEAD~1 is a revision expression, resolved by git.
	prev, err := Open(ctx, r.dir, "HEAD~1")
	if err != nil {
		t.Fatal(err)
	}
	if got := readString(t, prev, "environments/develop/values.yaml"); got != "replicas: 1\n" {
		t.Errorf("HEAD~1: develop = %q", got)
	}
}

func TestOpenUnknownRevision(t *testing.T) {
	r := newRepo(t)
	r.write("a.txt", "a")
	r.commit("c")
	for _, rev := range []string{"no-such-branch", "0123456789abcdef0123456789abcdef01234567", "--output=/tmp/x"} {
		_, err := Open(context.Background(), r.dir, rev)
		if err == nil {
			t.Fatalf("%s: no error", rev)
		}
		if !strings.Contains(err.Error(), r.dir) || !strings.Contains(err.Error(), fmt.Sprintf("%q", rev)) {
			t.Errorf("%s: error does not name the repository and the revision: %v", rev, err)
		}
	}
	// A tree object is not a commit.
	tree := r.git("rev-parse", "HEAD^{tree}")
	if _, err := Open(context.Background(), r.dir, tree); err == nil {
		t.Errorf("tree %s accepted as a revision", tree)
	}
	// Not a repository at all.
	if _, err := Open(context.Background(), t.TempDir(), "HEAD"); err == nil {
		t.Error("a directory that is not a repository gave no error")
	}
}

func TestOpenWorkingTree(t *testing.T) {
	r := newRepo(t)
	r.write("a/b.yaml", "committed\n")
	r.commit("c")
	r.write("a/b.yaml", "edited, not committed\n")
	r.write("new.yaml", "untracked\n")
	wt, err := Open(context.Background(), r.dir, "")
	if err != nil {
		t.Fatal(err)
	}
	if got := readString(t, wt, "a/b.yaml"); got != "edited, not committed\n" {
		t.Errorf("a/b.yaml = %q", got)
	}
	if got := readString(t, wt, "new.yaml"); got != "untracked\n" {
		t.Errorf("new.yaml = %q", got)
	}
	// .git is hidden everywhere.
	if _, err := fs.Stat(wt, ".git"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Stat(.git) = %v", err)
	}
	if _, err := fs.ReadFile(wt, ".git/HEAD"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("ReadFile(.git/HEAD) = %v", err)
	}
	var names []string
	if err := fs.WalkDir(wt, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		names = append(names, p)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	want := []string{".", "a", "a/b.yaml", "new.yaml"}
	if !reflect.DeepEqual(names, want) {
		t.Errorf("walk = %v, want %v", names, want)
	}
	if err := fstest.TestFS(wt, "a/b.yaml", "new.yaml"); err != nil {
		t.Error(err)
	}
	// The same through an fs.File opened on the root, read one entry at a time.
	f, err := wt.Open(".")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var one []string
	for {
		es, err := f.(fs.ReadDirFile).ReadDir(1)
		for _, e := range es {
			one = append(one, e.Name())
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	slices.Sort(one) // os order, not sorted
	if strings.Join(one, ",") != "a,new.yaml" {
		t.Errorf("ReadDir(1) loop = %v", one)
	}

	if _, err := Open(context.Background(), filepath.Join(r.dir, "new.yaml"), ""); err == nil {
		t.Error("a file accepted as a working tree")
	}
}

// The in-memory tree passes the standard library's fs.FS conformance test,
// including symbolic links and executables.
func TestCommitTreeConformance(t *testing.T) {
	r := newRepo(t)
	r.write("charts/app/Chart.yaml", "name: app\n")
	r.write("charts/app/values.yaml", "a: 1\n")
	r.write("charts/app/templates/cm.yaml", "kind: ConfigMap\n")
	r.write("bin/run.sh", "#!/bin/sh\n")
	if err := os.Chmod(filepath.Join(r.dir, "bin/run.sh"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("charts/app/values.yaml", filepath.Join(r.dir, "link.yaml")); err != nil {
		t.Skip("symlinks unsupported:", err)
	}
	if err := os.Symlink("app", filepath.Join(r.dir, "charts/alias")); err != nil {
		t.Fatal(err)
	}
	r.write("bad/README", "x")
	if err := os.Symlink("../../outside", filepath.Join(r.dir, "bad/escape")); err != nil {
		t.Fatal(err)
	}
	r.commit("c")
	fsys, err := Open(context.Background(), r.dir, "HEAD")
	if err != nil {
		t.Fatal(err)
	}
	if got := readString(t, fsys, "link.yaml"); got != "a: 1\n" {
		t.Errorf("link.yaml = %q", got)
	}
	if got := readString(t, fsys, "charts/alias/Chart.yaml"); got != "name: app\n" {
		t.Errorf("through a directory link: %q", got)
	}
	if target, err := fs.ReadLink(fsys, "link.yaml"); err != nil || target != "charts/app/values.yaml" {
		t.Errorf("ReadLink = %q, %v", target, err)
	}
	if fi, err := fs.Lstat(fsys, "link.yaml"); err != nil || fi.Mode()&fs.ModeSymlink == 0 {
		t.Errorf("Lstat = %v, %v", fi, err)
	}
	if fi, err := fs.Stat(fsys, "bin/run.sh"); err != nil || fi.Mode().Perm() != 0o755 {
		t.Errorf("executable: %v, %v", fi, err)
	}
	if _, err := fs.ReadFile(fsys, "bad/escape"); err == nil || errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a link out of the repository: %v", err)
	}
	if target, err := fs.ReadLink(fsys, "bad/escape"); err != nil || target != "../../outside" {
		t.Errorf("ReadLink of the escaping link = %q, %v", target, err)
	}
	for dir, files := range map[string][]string{
		"charts": {"alias", "app/Chart.yaml", "app/templates/cm.yaml", "app/values.yaml"},
		"bin":    {"run.sh"},
	} {
		sub, err := fs.Sub(fsys, dir)
		if err != nil {
			t.Fatal(err)
		}
		if err := fstest.TestFS(sub, files...); err != nil {
			t.Errorf("%s: %v", dir, err)
		}
	}
	sub, err := fs.Sub(fsys, "charts/app")
	if err != nil {
		t.Fatal(err)
	}
	if got := readString(t, sub, "templates/cm.yaml"); got != "kind: ConfigMap\n" {
		t.Errorf("sub: %q", got)
	}
}

func TestEmptyCommitAndSubmodule(t *testing.T) {
	r := newRepo(t)
	r.commit("empty")
	fsys, err := Open(context.Background(), r.dir, "HEAD")
	if err != nil {
		t.Fatal(err)
	}
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil || len(entries) != 0 {
		t.Fatalf("empty commit: %v, %v", entries, err)
	}

	// A gitlink (submodule) entry is an empty directory.
	sub := newRepo(t)
	sub.write("x", "x")
	subHead := sub.commit("sub")
	r.git("update-index", "--add", "--cacheinfo", "160000,"+subHead+",vendor/sub")
	r.git("commit", "-q", "-m", "submodule")
	fsys, err = Open(context.Background(), r.dir, "HEAD")
	if err != nil {
		t.Fatal(err)
	}
	fi, err := fs.Stat(fsys, "vendor/sub")
	if err != nil || !fi.IsDir() {
		t.Fatalf("submodule: %v, %v", fi, err)
	}
}

func TestRemoteURLs(t *testing.T) {
	r := newRepo(t)
	if urls, err := RemoteURLs(context.Background(), r.dir); err != nil || len(urls) != 0 {
		t.Fatalf("no remotes: %v, %v", urls, err)
	}
	r.git("remote", "add", "origin", "git@github.com:gitops-hub/gitops-hub.git")
	r.git("remote", "add", "mirror", "https://git.example.com/gitops-hub.git")
	r.git("remote", "set-url", "--push", "mirror", "https://push.example.com/x.git")
	r.git("remote", "add", "dup", "git@github.com:gitops-hub/gitops-hub.git")
	urls, err := RemoteURLs(context.Background(), r.dir)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"git@github.com:gitops-hub/gitops-hub.git", "https://git.example.com/gitops-hub.git"}
	if !reflect.DeepEqual(urls, want) {
		t.Errorf("RemoteURLs = %v, want %v (fetch URLs only, no duplicates)", urls, want)
	}
	if _, err := RemoteURLs(context.Background(), t.TempDir()); err == nil {
		t.Error("not a repository: no error")
	}
}

// A repository of a few thousand files opens quickly (one cat-file process).
// The commit is built with git fast-import, without a working tree.
func TestManyFiles(t *testing.T) {
	r := newRepo(t)
	const n = 3000
	var stream strings.Builder
	stream.WriteString("commit refs/heads/main\ncommitter test <test@example.com> 1767225600 +0000\ndata 4\nmany\n")
	for i := range n {
		content := fmt.Sprintf("i: %d\n", i)
		fmt.Fprintf(&stream, "M 100644 inline clusters/c%03d/addons/app%d/values.yaml\ndata %d\n%s\n", i/10, i%10, len(content), content)
	}
	cmd := exec.Command("git", "-C", r.dir, "fast-import", "--quiet")
	cmd.Stdin = strings.NewReader(stream.String())
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("fast-import: %v\n%s", err, out)
	}
	start := time.Now()
	fsys, err := Open(context.Background(), r.dir, "main")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("Open of %d files: %v", n, time.Since(start))
	count := 0
	err = fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			count++
		}
		return err
	})
	if err != nil || count != n {
		t.Fatalf("walked %d files, %v", count, err)
	}
	if got := readString(t, fsys, "clusters/c299/addons/app9/values.yaml"); got != "i: 2999\n" {
		t.Errorf("last file = %q", got)
	}
}

// A committed blob over loader.MaxFileSize is not held in memory and cannot be read; the
// rest of the commit is.
func TestRevisionBlobOverTheLimit(t *testing.T) {
	r := newRepo(t)
	r.write("small.yaml", "a: 1\n")
	if err := os.WriteFile(filepath.Join(r.dir, "big.yaml"), make([]byte, loader.MaxFileSize+1), 0o644); err != nil {
		t.Fatal(err)
	}
	r.commit("big")
	fsys, err := Open(context.Background(), r.dir, "HEAD")
	if err != nil {
		t.Fatal(err)
	}
	if got := readString(t, fsys, "small.yaml"); got != "a: 1\n" {
		t.Errorf("small.yaml = %q", got)
	}
	if _, err := fs.ReadFile(fsys, "big.yaml"); !errors.Is(err, loader.ErrTooLarge) || !strings.Contains(err.Error(), "big.yaml") {
		t.Errorf("ReadFile(big.yaml) = %v, want ErrTooLarge", err)
	}
	if _, err := fsys.Open("big.yaml"); !errors.Is(err, loader.ErrTooLarge) {
		t.Errorf("Open(big.yaml) = %v, want ErrTooLarge", err)
	}
	if fi, err := fs.Stat(fsys, "big.yaml"); err != nil || fi.Size() != loader.MaxFileSize+1 {
		t.Errorf("Stat(big.yaml) = %v, %v", fi, err)
	}
}
