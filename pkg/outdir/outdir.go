// Package outdir replaces an output folder that hubctl owns, atomically.
//
// hubctl writes into a folder only when it is absent, empty, or a previous
// hubctl output (it holds the Marker file that hubctl writes into every
// output). Anything else (a regular file, a symbolic link, a folder of other
// work) is refused with nothing touched; force overrides the marker check for
// a folder. A folder that contains (is, or is an ancestor of) the
// repository, the working directory, $HOME or /, and a Git repository or
// .git folder, are always refused, force or not.
//
// The new content is written into a hidden sibling folder
// (.<name>.hubctl-<random>) and swapped with the old one in one system call
// (renameat2 RENAME_EXCHANGE on Linux, renamex_np RENAME_SWAP on macOS), so
// at every instant the folder exists with either its whole old or its whole
// new content. Where the file system cannot exchange (NFS, FUSE, other
// systems) two renames are used, and a crash between them leaves the old
// content in the sibling folder.
package outdir

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Marker is the file hubctl writes at the root of every output folder; a
// folder holding it is a previous hubctl output, which hubctl may replace.
const Marker = ".hubctl-render"

// markerHeader is the first line of Marker: a file named Marker that does
// not start with it is not hubctl's.
const markerHeader = "hubctl render output\n"

const markerText = markerHeader + `
This folder was written by 'hubctl render --out' and is replaced as a whole
by the next render into it: any file added here is deleted then. hubctl
replaces a folder only if it is absent, empty or holds this file (or with
--force); it never replaces a folder that contains the repository, the
working directory, $HOME or /.
`

// tmpInfix names hubctl's sibling folders: .<name>.hubctl-<random>.
const tmpInfix = ".hubctl-"

// Dir is an output folder that hubctl may replace.
type Dir struct {
	// Path is the folder, absolute with every symbolic link resolved.
	Path string
	// Given is the path as the user gave it (for messages).
	Given string
	force bool
}

// state is what a path holds today.
type state int

const (
	absent state = iota
	empty
	owned   // a previous hubctl output
	foreign // a non-empty folder without the marker
)

// RefusedError says why hubctl does not replace the folder.
type RefusedError struct {
	Dir    string
	Reason string
}

func (e *RefusedError) Error() string {
	return fmt.Sprintf("--out %s: %s; nothing was changed", e.Dir, e.Reason)
}

// Protected is a folder that an output folder may never be or contain.
type Protected struct {
	What string // "the repository", ...
	Path string
}

// Open resolves dir (symbolic links and "..", as the kernel does) and checks
// that hubctl may replace it: see the package comment. protected are the
// folders dir may never contain, besides /; those that do not exist are
// ignored. Open changes nothing on disk.
func Open(dir string, force bool, protected []Protected) (*Dir, error) {
	if dir == "" {
		return nil, &RefusedError{Dir: `""`, Reason: "empty path"}
	}
	if strings.ContainsRune(dir, 0) {
		return nil, &RefusedError{Dir: fmt.Sprintf("%q", dir), Reason: "the path contains a NUL byte"}
	}
	abs, err := resolve(dir)
	if err != nil {
		return nil, &RefusedError{Dir: dir, Reason: err.Error()}
	}
	d := &Dir{Path: abs, Given: dir, force: force}
	if abs == filepath.Dir(abs) {
		return nil, d.refuse("it is the root folder /; --force does not override this")
	}
	for _, p := range protected {
		rp, ok := resolveExisting(p.Path)
		if !ok {
			continue
		}
		if contains(abs, rp) {
			rel := "is"
			if rp != abs {
				rel = "contains"
			}
			return nil, d.refuse(fmt.Sprintf("it %s %s %s; --force does not override this", rel, p.What, rp))
		}
	}
	if strings.HasPrefix(filepath.Base(abs), ".") && strings.Contains(filepath.Base(abs), tmpInfix) {
		return nil, d.refuse("its name is that of a hubctl temporary folder (." + "<name>" + tmpInfix + "<random>)")
	}
	if _, err := d.check(); err != nil {
		return nil, err
	}
	return d, nil
}

func (d *Dir) refuse(reason string) error { return &RefusedError{Dir: d.Given, Reason: reason} }

// check returns what the folder holds today and refuses what hubctl may not
// replace.
func (d *Dir) check() (state, error) {
	st, err := inspect(d.Path)
	if err != nil {
		var r *RefusedError
		if errors.As(err, &r) {
			r.Dir = d.Given
		}
		return 0, err
	}
	if st == foreign && isGit(d.Path) {
		return 0, d.refuse(fmt.Sprintf("%s is a Git repository or its .git folder; --force does not override this", d.Path))
	}
	if st == foreign && !d.force {
		return 0, d.refuse(fmt.Sprintf("%s is a non-empty folder without hubctl's %s file, so not a previous 'hubctl render --out'; choose an absent or empty folder, or pass --force to replace it and everything in it", d.Path, Marker))
	}
	return st, nil
}

// inspect says what path holds: it never follows a symbolic link.
func inspect(path string) (state, error) {
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return absent, nil
	}
	if err != nil {
		return 0, err
	}
	switch {
	case fi.Mode()&fs.ModeSymlink != 0:
		return 0, &RefusedError{Reason: path + " is a symbolic link, not a folder; give the folder it points to"}
	case !fi.IsDir():
		return 0, &RefusedError{Reason: fmt.Sprintf("%s is a %s, not a folder; hubctl never replaces a file", path, kind(fi.Mode()))}
	}
	if isOwned(path) {
		return owned, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	names, err := f.Readdirnames(1)
	if errors.Is(err, io.EOF) || (err == nil && len(names) == 0) {
		return empty, nil
	}
	if err != nil {
		return 0, err
	}
	return foreign, nil
}

func kind(m fs.FileMode) string {
	switch {
	case m.IsRegular():
		return "regular file"
	case m&fs.ModeDevice != 0:
		return "device"
	case m&fs.ModeNamedPipe != 0:
		return "named pipe"
	case m&fs.ModeSocket != 0:
		return "socket"
	}
	return "special file"
}

// isGit: dir is a .git folder or holds one (a repository or a worktree).
func isGit(dir string) bool {
	if filepath.Base(dir) == ".git" {
		return true
	}
	_, err := os.Lstat(filepath.Join(dir, ".git"))
	return err == nil
}

// isOwned: dir holds a regular file Marker that starts with markerHeader.
func isOwned(dir string) bool {
	p := filepath.Join(dir, Marker)
	fi, err := os.Lstat(p)
	if err != nil || !fi.Mode().IsRegular() {
		return false
	}
	f, err := os.Open(p)
	if err != nil {
		return false
	}
	defer f.Close()
	buf := make([]byte, len(markerHeader))
	if _, err := io.ReadFull(f, buf); err != nil {
		return false
	}
	return bytes.Equal(buf, []byte(markerHeader))
}

// contains: a is b or an ancestor of b (both absolute and clean).
func contains(a, b string) bool {
	if a == b {
		return true
	}
	if !strings.HasSuffix(a, string(filepath.Separator)) {
		a += string(filepath.Separator)
	}
	return strings.HasPrefix(b, a)
}

func resolveExisting(p string) (string, bool) {
	if p == "" {
		return "", false
	}
	abs, err := filepath.Abs(p)
	if err != nil {
		return "", false
	}
	r, err := filepath.EvalSymlinks(abs)
	if err != nil {
		return "", false
	}
	return r, true
}

// resolve makes p absolute and resolves its symbolic links and ".."
// component by component, as the kernel does ("link/.." is the parent of
// the link's target). Components from the first missing one on are kept
// as given; ".." after a missing component is an error. A final component
// that is a symbolic link is left unresolved (inspect refuses it).
func resolve(p string) (string, error) {
	var cur string
	if filepath.IsAbs(p) {
		cur = filepath.VolumeName(p) + string(filepath.Separator)
	} else {
		wd, err := os.Getwd()
		if err != nil {
			return "", err
		}
		if cur, err = filepath.EvalSymlinks(wd); err != nil {
			return "", err
		}
	}
	parts := strings.Split(filepath.ToSlash(strings.TrimPrefix(p, filepath.VolumeName(p))), "/")
	last := len(parts) - 1
	for last >= 0 && (parts[last] == "" || parts[last] == ".") {
		last--
	}
	missing := ""
	for i, c := range parts {
		switch c {
		case "", ".":
			continue
		case "..":
			if missing != "" {
				return "", fmt.Errorf("%s does not exist, so %q cannot be resolved", missing, p)
			}
			cur = filepath.Dir(cur)
			continue
		}
		next := filepath.Join(cur, c)
		if missing != "" {
			cur = next
			continue
		}
		fi, err := os.Lstat(next)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			missing = next
			cur = next
		case err != nil:
			return "", err
		case fi.Mode()&fs.ModeSymlink != 0 && i != last:
			r, err := filepath.EvalSymlinks(next)
			if err != nil {
				return "", fmt.Errorf("symbolic link %s: %w", next, err)
			}
			cur = r
		default:
			cur = next
		}
	}
	return cur, nil
}

// Replace writes the new content with fill into a fresh sibling folder
// (fill gets its path; Marker is already in it) and swaps it in for the
// folder. When fill fails or ctx is cancelled, the sibling is removed and
// the folder is untouched. Leftover siblings of an earlier hubctl killed
// mid-way (named .<name>.hubctl-<random>, empty or holding the Marker, not
// in use by a running hubctl) are removed first.
func (d *Dir) Replace(ctx context.Context, fill func(ctx context.Context, root string) error) (err error) {
	parent, base := filepath.Dir(d.Path), filepath.Base(d.Path)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return err
	}
	prefix := tmpPrefix(base)
	removeLeftovers(parent, prefix)
	tmp, err := os.MkdirTemp(parent, prefix)
	if err != nil {
		return err
	}
	unlock := lock(tmp)
	swapped := false
	defer func() {
		unlock()
		// tmp holds the new content (on failure) or the old one (swapped).
		if rmErr := os.RemoveAll(tmp); rmErr != nil && err == nil {
			what := "the new content"
			if swapped {
				what = "the previous content"
			}
			err = fmt.Errorf("%s was written, but removing %s, in %s, failed: %w", d.Path, what, tmp, rmErr)
		}
	}()
	if err := os.WriteFile(filepath.Join(tmp, Marker), []byte(markerText), 0o644); err != nil {
		return err
	}
	if err := fill(ctx, tmp); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("interrupted, left unchanged: %w", err)
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		return err
	}
	// What is there now may have changed while rendering: check again.
	st, err := d.check()
	if err != nil {
		return err
	}
	if st == absent {
		// os.Rename fails if anything appeared there since.
		if err := os.Rename(tmp, d.Path); err != nil {
			return err
		}
		swapped = true
		return nil
	}
	if err := swap(tmp, d.Path, prefix); err != nil {
		return err
	}
	swapped = true
	return nil
}

// swap exchanges the folders a and b atomically where the system can, else
// with two renames through a sibling named with prefix.
func swap(a, b, prefix string) error {
	err := exchange(a, b)
	if err == nil || !errors.Is(err, errExchangeUnsupported) {
		return err
	}
	// A fresh name (os.Rename never replaces a folder).
	aside, err := os.MkdirTemp(filepath.Dir(b), prefix)
	if err != nil {
		return err
	}
	if err := os.Remove(aside); err != nil {
		return err
	}
	if err := os.Rename(b, aside); err != nil {
		return err
	}
	if err := os.Rename(a, b); err != nil {
		if back := os.Rename(aside, b); back != nil {
			return fmt.Errorf("%w; the previous content is in %s (%v)", err, aside, back)
		}
		return err
	}
	return os.Rename(aside, a)
}

var errExchangeUnsupported = errors.New("atomic exchange not supported")

func tmpPrefix(base string) string {
	// Keep the name under 255 bytes with MkdirTemp's random suffix.
	if len(base) > 200 {
		base = base[:200]
	}
	return "." + base + tmpInfix
}

// removeLeftovers removes the siblings named prefix* that hubctl left when
// killed: folders (not links) that are empty or hold the Marker and that no
// running hubctl holds locked. Errors are ignored: a leftover stays.
func removeLeftovers(parent, prefix string) {
	entries, err := os.ReadDir(parent)
	if err != nil {
		return
	}
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), prefix) || !e.IsDir() || e.Type()&fs.ModeSymlink != 0 {
			continue
		}
		p := filepath.Join(parent, e.Name())
		unlock, ok := tryLock(p)
		if !ok {
			continue
		}
		if isOwned(p) {
			os.RemoveAll(p)
		} else {
			os.Remove(p) // only when empty
		}
		unlock()
	}
}
