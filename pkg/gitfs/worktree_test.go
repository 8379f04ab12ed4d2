//go:build unix

package gitfs

import (
	"context"
	"errors"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// withDeadline fails the test instead of hanging when fn blocks (reading a
// FIFO without a writer blocks forever).
func withDeadline(t *testing.T, what string, fn func()) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn()
	}()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatalf("%s blocked", what)
	}
}

// The working tree follows the rule of a commit's tree (Open with a
// revision): no symbolic link may resolve outside the repository, and
// reading a FIFO, socket or device is an error, not a hang.
func TestWorkTreeConfinement(t *testing.T) {
	outside := t.TempDir()
	if err := os.WriteFile(filepath.Join(outside, "secret.txt"), []byte("canary-outside-0c41\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	mustWrite := func(name, content string) {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	link := func(target, name string) {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(target, p); err != nil {
			t.Skip("symlinks unsupported:", err)
		}
	}
	mustWrite("charts/app/values.yaml", "a: 1\n")
	link("../charts/app/values.yaml", "env/values.yaml")   // inside: followed
	link("../charts/app", "env/chart")                     // directory inside: followed
	link("/proc/self/environ", "env/environ.yaml")         // absolute
	link(filepath.Join(outside, "secret.txt"), "abs.yaml") // absolute, to a file outside
	rel, err := filepath.Rel(filepath.Join(dir, "env"), filepath.Join(outside, "secret.txt"))
	if err != nil {
		t.Fatal(err)
	}
	link(rel, "env/relative-out.yaml")             // relative, resolves outside
	link(filepath.Dir(rel), "env/outdir")          // a directory outside
	link("../env/relative-out.yaml", "chain.yaml") // through another link
	link("chart/../../..", "env/dotdot")           // ".." after a link, out of the tree
	if err := syscall.Mkfifo(filepath.Join(dir, "env/fifo.yaml"), 0o644); err != nil {
		t.Fatal(err)
	}
	link("fifo.yaml", "env/to-fifo.yaml")
	sock := filepath.Join(dir, "env/sock")
	if l, err := net.Listen("unix", sock); err == nil {
		t.Cleanup(func() { l.Close() })
	} else {
		sock = ""
	}

	wt, err := WorkTree(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got := readString(t, wt, "env/values.yaml"); got != "a: 1\n" {
		t.Errorf("link inside the tree: %q", got)
	}
	if got := readString(t, wt, "env/chart/values.yaml"); got != "a: 1\n" {
		t.Errorf("directory link inside the tree: %q", got)
	}
	if es, err := fs.ReadDir(wt, "env/chart"); err != nil || len(es) != 1 {
		t.Errorf("ReadDir through an inside link = %v, %v", es, err)
	}
	if target, err := fs.ReadLink(wt, "abs.yaml"); err != nil || !strings.HasSuffix(target, "secret.txt") {
		t.Errorf("ReadLink of an escaping link = %q, %v (the link itself is readable)", target, err)
	}
	if fi, err := fs.Lstat(wt, "env/environ.yaml"); err != nil || fi.Mode()&fs.ModeSymlink == 0 {
		t.Errorf("Lstat of an escaping link = %v, %v", fi, err)
	}

	for _, name := range []string{"env/environ.yaml", "abs.yaml", "env/relative-out.yaml", "chain.yaml", "env/outdir/secret.txt", "env/dotdot/etc/hostname"} {
		data, err := fs.ReadFile(wt, name)
		if !errors.Is(err, ErrOutsideRepository) {
			t.Errorf("ReadFile(%s) = %q, %v; want ErrOutsideRepository", name, data, err)
			continue
		}
		if !strings.Contains(err.Error(), name) || strings.Contains(err.Error(), "canary") {
			t.Errorf("ReadFile(%s) error %q does not name the file (or leaks)", name, err)
		}
		if _, err := fs.Stat(wt, name); !errors.Is(err, ErrOutsideRepository) {
			t.Errorf("Stat(%s) = %v", name, err)
		}
		if _, err := wt.Open(name); !errors.Is(err, ErrOutsideRepository) {
			t.Errorf("Open(%s) = %v", name, err)
		}
	}
	if _, err := fs.ReadDir(wt, "env/outdir"); !errors.Is(err, ErrOutsideRepository) {
		t.Errorf("ReadDir of a directory outside = %v", err)
	}

	special := []string{"env/fifo.yaml", "env/to-fifo.yaml"}
	if sock != "" {
		special = append(special, "env/sock")
	}
	for _, name := range special {
		withDeadline(t, "reading "+name, func() {
			data, err := fs.ReadFile(wt, name)
			if !errors.Is(err, ErrNotRegular) || !strings.Contains(err.Error(), name) {
				t.Errorf("ReadFile(%s) = %q, %v; want ErrNotRegular naming the file", name, data, err)
			}
			if f, err := wt.Open(name); !errors.Is(err, ErrNotRegular) {
				t.Errorf("Open(%s) = %v, %v", name, f, err)
			}
		})
		if fi, err := fs.Stat(wt, name); err != nil || fi.Mode().IsRegular() {
			t.Errorf("Stat(%s) = %v, %v; want a description", name, fi, err)
		}
	}
	// Walking the tree lists the links and special files without following
	// or reading them.
	var names []string
	if err := fs.WalkDir(wt, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		names = append(names, p)
		return nil
	}); err != nil {
		t.Fatalf("WalkDir: %v", err)
	}
	if len(names) < 10 {
		t.Errorf("walk = %v", names)
	}
}

// Open with no revision is the confined working tree.
func TestOpenWorkingTreeIsConfined(t *testing.T) {
	dir := t.TempDir()
	if err := os.Symlink("/proc/self/environ", filepath.Join(dir, "environ.yaml")); err != nil {
		t.Skip("symlinks unsupported:", err)
	}
	wt, err := Open(context.Background(), dir, "")
	if err != nil {
		t.Fatal(err)
	}
	if data, err := fs.ReadFile(wt, "environ.yaml"); !errors.Is(err, ErrOutsideRepository) {
		t.Errorf("ReadFile = %q, %v", data, err)
	}
}

// A character device inside the tree (mknod needs privileges) is refused.
func TestWorkTreeRefusesDevice(t *testing.T) {
	dir := t.TempDir()
	if err := syscall.Mknod(filepath.Join(dir, "zero.yaml"), syscall.S_IFCHR|0o644, int(1<<8|5)); err != nil {
		t.Skip("mknod:", err)
	}
	wt, err := WorkTree(dir)
	if err != nil {
		t.Fatal(err)
	}
	withDeadline(t, "reading a device", func() {
		if data, err := fs.ReadFile(wt, "zero.yaml"); !errors.Is(err, ErrNotRegular) || !strings.Contains(err.Error(), "character device") {
			t.Errorf("ReadFile = %d bytes, %v", len(data), err)
		}
	})
}
