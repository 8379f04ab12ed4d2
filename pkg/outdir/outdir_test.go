package outdir

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

func write(t *testing.T, p, s string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

func read(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func entries(t *testing.T, dir string) string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var n []string
	for _, e := range es {
		n = append(n, e.Name())
	}
	return strings.Join(n, " ")
}

// fillWith writes name=content files.
func fillWith(files map[string]string) func(context.Context, string) error {
	return func(_ context.Context, root string) error {
		for n, c := range files {
			if err := os.MkdirAll(filepath.Dir(filepath.Join(root, n)), 0o755); err != nil {
				return err
			}
			if err := os.WriteFile(filepath.Join(root, n), []byte(c), 0o644); err != nil {
				return err
			}
		}
		return nil
	}
}

func TestResolve(t *testing.T) {
	root, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(filepath.Join(root, "a", "b"), 0o755)
	os.MkdirAll(filepath.Join(root, "x", "y"), 0o755)
	os.Symlink(filepath.Join(root, "x", "y"), filepath.Join(root, "a", "link"))
	for in, want := range map[string]string{
		root + "/a/b/..":            root + "/a",
		root + "/a/./b//":           root + "/a/b",
		root + "/a/link/..":         root + "/x", // the kernel's "..": parent of the link's target
		root + "/a/link/new/deeper": root + "/x/y/new/deeper",
		root + "/a/link":            root + "/a/link", // a final link is not followed (inspect refuses it)
	} {
		got, err := resolve(in)
		if err != nil || got != want {
			t.Errorf("resolve(%s) = %s, %v; want %s", in, got, err, want)
		}
	}
	if _, err := resolve(root + "/missing/../a"); err == nil {
		t.Error(`".." after a missing folder resolved`)
	}
	t.Chdir(filepath.Join(root, "a", "b"))
	if got, err := resolve(".."); err != nil || got != root+"/a" {
		t.Errorf(`resolve("..") from a/b = %s, %v`, got, err)
	}
}

func TestOpen(t *testing.T) {
	root := t.TempDir()
	repo := filepath.Join(root, "repo")
	write(t, filepath.Join(repo, ".git", "HEAD"), "ref: refs/heads/main\n")
	write(t, filepath.Join(root, "notes.txt"), "notes")
	write(t, filepath.Join(root, "work", "plan.md"), "plan")
	write(t, filepath.Join(root, "old", Marker), markerText)
	write(t, filepath.Join(root, "old", "c", "a.yaml"), "a")
	write(t, filepath.Join(root, "fake", Marker), "not hubctl's\n")
	os.Mkdir(filepath.Join(root, "empty"), 0o755)
	write(t, filepath.Join(root, "other-repo", ".git", "HEAD"), "ref: refs/heads/main\n")
	write(t, filepath.Join(root, "other-repo", "main.go"), "package main\n")
	os.Symlink(filepath.Join(root, "old"), filepath.Join(root, "link"))
	protected := []Protected{{"the repository", repo}, {"$HOME", filepath.Join(root, "does-not-exist")}}
	for _, tc := range []struct {
		dir   string
		force bool
		want  string // "" = accepted, else a word of the refusal
	}{
		{"absent", false, ""},
		{"absent/deeper", false, ""},
		{"empty", false, ""},
		{"old", false, ""},
		{"work", false, "without hubctl's .hubctl-render file"},
		{"work", true, ""},
		{"fake", false, "without hubctl's"}, // a marker of other content is not hubctl's
		{"notes.txt", false, "regular file"},
		{"notes.txt", true, "regular file"},
		{"link", false, "symbolic link"},
		{"link", true, "symbolic link"},
		{"repo", true, "it is the repository"},
		{".", true, "it contains the repository"},
		{"repo/sub", false, ""},
		{"other-repo", true, "Git repository"},
		{"other-repo/.git", true, "Git repository"},
		{"/", true, "root folder"},
		{".old.hubctl-123", false, "temporary folder"},
	} {
		dir := tc.dir
		if !filepath.IsAbs(dir) {
			dir = filepath.Join(root, dir)
		}
		before := entries(t, root)
		d, err := Open(dir, tc.force, protected)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("Open(%s, force=%v): %v", tc.dir, tc.force, err)
		case tc.want != "" && err == nil:
			t.Errorf("Open(%s, force=%v) accepted %s", tc.dir, tc.force, d.Path)
		case tc.want != "" && !strings.Contains(err.Error(), tc.want):
			t.Errorf("Open(%s, force=%v): %v, want %q", tc.dir, tc.force, err, tc.want)
		}
		var r *RefusedError
		if tc.want != "" && err != nil && !errors.As(err, &r) {
			t.Errorf("Open(%s): %T is not a *RefusedError", tc.dir, err)
		}
		if after := entries(t, root); after != before {
			t.Errorf("Open(%s) changed the folder: %s -> %s", tc.dir, before, after)
		}
	}
	if _, err := Open("a\x00b", true, nil); err == nil {
		t.Error("a path with a NUL byte was accepted")
	}
}

func TestReplace(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "out")
	d, err := Open(dir, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Replace(context.Background(), fillWith(map[string]string{"c/a.yaml": "one"})); err != nil {
		t.Fatal(err)
	}
	if got := read(t, filepath.Join(dir, "c", "a.yaml")); got != "one" {
		t.Errorf("a.yaml = %q", got)
	}
	if !strings.HasPrefix(read(t, filepath.Join(dir, Marker)), markerHeader) {
		t.Error("no marker")
	}
	if fi, _ := os.Stat(dir); fi.Mode().Perm() != 0o755 {
		t.Errorf("mode %v, want 0755", fi.Mode().Perm())
	}
	write(t, filepath.Join(dir, "added.txt"), "added")
	if err := d.Replace(context.Background(), fillWith(map[string]string{"c/b.yaml": "two"})); err != nil {
		t.Fatal(err)
	}
	if got, want := entries(t, dir), ".hubctl-render c"; got != want {
		t.Errorf("after the second Replace: %s, want %s", got, want)
	}
	if got := entries(t, filepath.Join(dir, "c")); got != "b.yaml" {
		t.Errorf("c holds %s", got)
	}
	if got := entries(t, root); got != "out" {
		t.Errorf("left beside out: %s", got)
	}

	// A failing fill and a cancelled context leave the folder as it was.
	failing := errors.New("boom")
	if err := d.Replace(context.Background(), func(ctx context.Context, root string) error {
		write(t, filepath.Join(root, "c", "half.yaml"), "half")
		return failing
	}); !errors.Is(err, failing) {
		t.Errorf("Replace = %v, want the fill's error", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	if err := d.Replace(ctx, func(ctx context.Context, root string) error {
		write(t, filepath.Join(root, "c", "half.yaml"), "half")
		cancel() // SIGINT while writing
		return nil
	}); !errors.Is(err, context.Canceled) {
		t.Errorf("Replace = %v, want context.Canceled", err)
	}
	if got := entries(t, filepath.Join(dir, "c")); got != "b.yaml" {
		t.Errorf("after a failed Replace c holds %s", got)
	}
	if got := entries(t, root); got != "out" {
		t.Errorf("left beside out: %s", got)
	}

	// The folder was filled with other work while rendering: refused.
	os.Remove(filepath.Join(dir, Marker))
	if err := d.Replace(context.Background(), fillWith(nil)); err == nil || !strings.Contains(err.Error(), "without hubctl's") {
		t.Errorf("Replace over a folder that lost its marker: %v", err)
	}
	if got := entries(t, filepath.Join(dir, "c")); got != "b.yaml" {
		t.Errorf("c holds %s", got)
	}
}

// TestReplaceKeepsLockedLeftovers: a sibling that a running hubctl holds is
// not a leftover.
func TestReplaceKeepsLockedLeftovers(t *testing.T) {
	if runtime.GOOS != "linux" && runtime.GOOS != "darwin" {
		t.Skip("flock(2) only")
	}
	root := t.TempDir()
	busy := filepath.Join(root, ".out.hubctl-42")
	write(t, filepath.Join(busy, Marker), markerText)
	unlock := lock(busy)
	defer unlock()
	stale := filepath.Join(root, ".out.hubctl-43")
	write(t, filepath.Join(stale, Marker), markerText)
	d, err := Open(filepath.Join(root, "out"), false, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Replace(context.Background(), fillWith(nil)); err != nil {
		t.Fatal(err)
	}
	if got, want := entries(t, root), ".out.hubctl-42 out"; got != want {
		t.Errorf("%s, want %s", got, want)
	}
}

// TestExchange: the two folders swap in one call, where the file system
// supports it (renameat2 RENAME_EXCHANGE, renamex_np RENAME_SWAP).
func TestExchange(t *testing.T) {
	root := t.TempDir()
	a, b := filepath.Join(root, "a"), filepath.Join(root, "b")
	write(t, filepath.Join(a, "from-a"), "a")
	write(t, filepath.Join(b, "from-b"), "b")
	err := exchange(a, b)
	if errors.Is(err, errExchangeUnsupported) {
		t.Skipf("%s: %v", runtime.GOOS, err)
	}
	if err != nil {
		t.Fatal(err)
	}
	if entries(t, a) != "from-b" || entries(t, b) != "from-a" {
		t.Errorf("not exchanged: a holds %s, b holds %s", entries(t, a), entries(t, b))
	}
}

// TestReplaceNeverRemovesTheFolder: while Replace runs again and again, a
// reader always finds the folder with a complete content (a kill at any
// instant leaves one). Two renames leave an instant without the folder.
func TestReplaceNeverRemovesTheFolder(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "out")
	d, err := Open(dir, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Replace(context.Background(), fillWith(map[string]string{"a.yaml": "0"})); err != nil {
		t.Fatal(err)
	}
	os.Mkdir(filepath.Join(root, "probe1"), 0o755)
	os.Mkdir(filepath.Join(root, "probe2"), 0o755)
	if err := exchange(filepath.Join(root, "probe1"), filepath.Join(root, "probe2")); errors.Is(err, errExchangeUnsupported) {
		t.Skipf("no atomic exchange on this system: %v", err)
	}
	var stop atomic.Bool
	var missing atomic.Int64
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for !stop.Load() {
			if _, err := os.Stat(filepath.Join(dir, "a.yaml")); err != nil {
				missing.Add(1)
			}
		}
	}()
	for i := range 100 {
		if err := d.Replace(context.Background(), fillWith(map[string]string{"a.yaml": string(rune('0' + i%10))})); err != nil {
			t.Fatal(err)
		}
	}
	stop.Store(true)
	wg.Wait()
	if n := missing.Load(); n > 0 {
		t.Errorf("the folder or its content was missing %d time(s) during Replace", n)
	}
}
