package gitfs

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"
	"strings"
	"syscall"
)

// ErrOutsideRepository is wrapped by the error of every access through a
// symbolic link that is absolute or resolves outside the repository, in the
// working tree as in a commit's tree.
var ErrOutsideRepository = errors.New("symbolic link points outside the repository")

// ErrNotRegular is wrapped by the error of opening a file of the working tree
// that is neither a regular file nor a directory: a device, a FIFO, a socket
// (or a symbolic link to one). Git cannot commit such files; reading one
// could block forever (a FIFO) or never end (/dev/zero).
var ErrNotRegular = errors.New("not a regular file")

// WorkTree returns the working tree at dir as a read-only fs.FS confined to
// dir:
//
//   - every ".git" file or directory is hidden;
//   - symbolic links are followed only while they stay inside dir: a link
//     that is absolute or resolves outside dir (directly, through another
//     link, or through ".." after a link) fails with an error wrapping
//     ErrOutsideRepository, as it does in a commit's tree (Open with a
//     revision). Links inside dir behave as usual; Lstat and ReadLink do not
//     follow the last element;
//   - opening anything that is not a regular file or a directory (a device,
//     a FIFO, a socket) fails with an error wrapping ErrNotRegular, without
//     blocking; Stat still describes it.
//
// The confinement is the kernel's view of dir through an os.Root (openat
// relative to a directory descriptor, never a path string), so a link is
// judged where it resolves, not by its text.
func WorkTree(dir string) (fs.FS, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("repository %s: %w", dir, err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("repository %s: not a directory", dir)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("repository %s: %w", dir, err)
	}
	return workTree{root: root}, nil
}

// workTree is a working tree through an os.Root, with every ".git" element
// hidden. The Root's descriptor is closed by its finalizer.
type workTree struct {
	root *os.Root
}

var (
	_ fs.ReadFileFS = workTree{}
	_ fs.ReadDirFS  = workTree{}
	_ fs.StatFS     = workTree{}
	_ fs.ReadLinkFS = workTree{}
)

func hidden(name string) bool {
	for elem := range strings.SplitSeq(name, "/") {
		if elem == ".git" {
			return true
		}
	}
	return false
}

func (w workTree) check(op, name string) error {
	if !fs.ValidPath(name) {
		return &fs.PathError{Op: op, Path: name, Err: fs.ErrInvalid}
	}
	if hidden(name) {
		return &fs.PathError{Op: op, Path: name, Err: fs.ErrNotExist}
	}
	return nil
}

// pathError names name (not the root's path) and turns os.Root's escape
// error into ErrOutsideRepository. Names are fs.ValidPath (no ".."), so an
// escape can only come from a symbolic link.
func pathError(op, name string, err error) error {
	inner := err
	var pe *fs.PathError
	if errors.As(err, &pe) {
		inner = pe.Err
	}
	if inner != nil && inner.Error() == "path escapes from parent" {
		inner = ErrOutsideRepository
	}
	return &fs.PathError{Op: op, Path: name, Err: inner}
}

// open opens name for reading, refusing anything but regular files and
// directories. O_NONBLOCK makes opening a FIFO return at once (a FIFO
// created between the check and the open is still refused after fstat).
func (w workTree) open(op, name string) (*os.File, error) {
	if err := w.check(op, name); err != nil {
		return nil, err
	}
	if fi, err := w.root.Stat(name); err != nil {
		return nil, pathError(op, name, err)
	} else if err := CheckRegular(op, name, fi); err != nil {
		return nil, err
	}
	f, err := w.root.OpenFile(name, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, pathError(op, name, err)
	}
	fi, err := f.Stat()
	if err == nil {
		err = CheckRegular(op, name, fi)
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// CheckRegular returns nil for a regular file or a directory, else an
// *fs.PathError wrapping ErrNotRegular that says what fi is (FIFO, socket,
// device).
func CheckRegular(op, name string, fi fs.FileInfo) error {
	m := fi.Mode()
	if m.IsRegular() || m.IsDir() {
		return nil
	}
	kind := "special file"
	switch {
	case m&fs.ModeNamedPipe != 0:
		kind = "FIFO"
	case m&fs.ModeSocket != 0:
		kind = "socket"
	case m&fs.ModeCharDevice != 0:
		kind = "character device"
	case m&fs.ModeDevice != 0:
		kind = "device"
	}
	return &fs.PathError{Op: op, Path: name, Err: fmt.Errorf("%w: a %s", ErrNotRegular, kind)}
}

func (w workTree) Open(name string) (fs.File, error) {
	f, err := w.open("open", name)
	if err != nil {
		return nil, err
	}
	if fi, err := f.Stat(); err == nil && fi.IsDir() {
		return &filteredDir{ReadDirFile: f}, nil
	}
	return f, nil
}

func (w workTree) ReadFile(name string) ([]byte, error) {
	f, err := w.open("read", name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(f)
	if err != nil {
		return nil, pathError("read", name, err)
	}
	return data, nil
}

func (w workTree) ReadDir(name string) ([]fs.DirEntry, error) {
	f, err := w.open("readdir", name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	entries, err := f.ReadDir(-1)
	if err != nil {
		return nil, pathError("readdir", name, err)
	}
	slices.SortFunc(entries, func(a, b fs.DirEntry) int { return strings.Compare(a.Name(), b.Name()) })
	return slices.DeleteFunc(entries, func(e fs.DirEntry) bool { return e.Name() == ".git" }), nil
}

func (w workTree) Stat(name string) (fs.FileInfo, error) {
	if err := w.check("stat", name); err != nil {
		return nil, err
	}
	fi, err := w.root.Stat(name)
	if err != nil {
		return nil, pathError("stat", name, err)
	}
	return fi, nil
}

func (w workTree) Lstat(name string) (fs.FileInfo, error) {
	if err := w.check("lstat", name); err != nil {
		return nil, err
	}
	fi, err := w.root.Lstat(name)
	if err != nil {
		return nil, pathError("lstat", name, err)
	}
	return fi, nil
}

func (w workTree) ReadLink(name string) (string, error) {
	if err := w.check("readlink", name); err != nil {
		return "", err
	}
	target, err := w.root.Readlink(name)
	if err != nil {
		return "", pathError("readlink", name, err)
	}
	return target, nil
}

// filteredDir drops ".git" from a directory listing.
type filteredDir struct {
	fs.ReadDirFile
}

func (d *filteredDir) ReadDir(n int) ([]fs.DirEntry, error) {
	for {
		entries, err := d.ReadDirFile.ReadDir(n)
		kept := slices.DeleteFunc(entries, func(e fs.DirEntry) bool { return e.Name() == ".git" })
		// Asked for n > 0 entries and only .git came back: read on rather than
		// return an empty, non-EOF batch.
		if n > 0 && len(kept) == 0 && len(entries) > 0 && err == nil {
			continue
		}
		return kept, err
	}
}
