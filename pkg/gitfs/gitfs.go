// Package gitfs exposes a Git repository as a read-only fs.FS: either its
// working tree, or the tree of one commit read with the git CLI (the way Argo
// CD's repo-server sees a repository after checking out a revision).
//
// A commit's tree is read with three git commands and nothing else:
//
//	git -C DIR rev-parse --verify --end-of-options REV^{commit}
//	git -C DIR ls-tree -r -z --full-tree COMMIT
//	git -C DIR cat-file --batch            (every blob, in one process)
//
// All file contents are loaded when the tree is opened (a GitOps repository of
// a few thousand files loads in well under a second), so the returned fs.FS
// needs no git process afterwards and is safe for concurrent use.
//
// Tree entries map to fs.FS as a checkout would: regular files are mode 0644
// (0755 when executable in Git), symbolic links (mode 120000) are symlinks
// whose target is the blob's content (Open and Stat follow them inside the
// tree; Lstat and ReadLink, from fs.ReadLinkFS, do not), and submodules
// (gitlinks, mode 160000) are empty directories, since their content is not
// part of the commit. Modification times are the zero time.
package gitfs

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gitops-hub/gitops-hub/pkg/loader"
)

// Open returns the repository at repoDir as it is at revision. An empty
// revision is the working tree (WorkTree: confined to repoDir, with every
// ".git" file or directory hidden); any other revision is resolved with `git
// rev-parse` (a branch, tag, commit SHA, or any revision expression such as
// HEAD~1) and its commit tree is returned as an in-memory, read-only fs.FS.
// Errors name the repository and the revision.
func Open(ctx context.Context, repoDir, revision string) (fs.FS, error) {
	if revision == "" {
		return WorkTree(repoDir)
	}
	commit, err := gitOutput(ctx, repoDir, nil, "rev-parse", "--verify", "--end-of-options", revision+"^{commit}")
	if err != nil {
		return nil, fmt.Errorf("repository %s: unknown revision %q: %w", repoDir, revision, err)
	}
	sha := strings.TrimSpace(string(commit))
	if sha == "" {
		return nil, fmt.Errorf("repository %s: unknown revision %q", repoDir, revision)
	}
	listing, err := gitOutput(ctx, repoDir, nil, "ls-tree", "-r", "-z", "--full-tree", sha)
	if err != nil {
		return nil, fmt.Errorf("repository %s, revision %q (%s): listing the tree: %w", repoDir, revision, sha, err)
	}
	m, err := buildTree(listing)
	if err != nil {
		return nil, fmt.Errorf("repository %s, revision %q (%s): %w", repoDir, revision, sha, err)
	}
	if err := m.loadBlobs(ctx, repoDir); err != nil {
		return nil, fmt.Errorf("repository %s, revision %q (%s): reading file contents: %w", repoDir, revision, sha, err)
	}
	return m, nil
}

// RemoteURLs lists the fetch URLs of the repository's remotes (`git remote
// -v`), in the order git prints them, without duplicates. A repository
// without remotes gives an empty list.
func RemoteURLs(ctx context.Context, repoDir string) ([]string, error) {
	out, err := gitOutput(ctx, repoDir, nil, "remote", "-v")
	if err != nil {
		return nil, fmt.Errorf("repository %s: listing remotes: %w", repoDir, err)
	}
	var urls []string
	for line := range strings.SplitSeq(string(out), "\n") {
		// "<name>\t<url> (fetch)"
		_, rest, ok := strings.Cut(line, "\t")
		if !ok {
			continue
		}
		u, ok := strings.CutSuffix(strings.TrimSpace(rest), " (fetch)")
		if !ok {
			continue
		}
		u = strings.TrimSpace(u)
		if u != "" && !slices.Contains(urls, u) {
			urls = append(urls, u)
		}
	}
	return urls, nil
}

// gitOutput runs git -C dir args... and returns its standard output; the
// error carries git's standard error.
func gitOutput(ctx context.Context, dir string, stdin io.Reader, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, "git", append([]string{"-C", dir}, args...)...)
	cmd.Stdin = stdin
	// No pager, no prompts, no locale-dependent messages.
	cmd.Env = append(os.Environ(), "GIT_TERMINAL_PROMPT=0", "GIT_PAGER=cat", "LC_ALL=C")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(stderr.String())
		if msg == "" {
			return nil, fmt.Errorf("git %s: %w", args[0], err)
		}
		return nil, fmt.Errorf("git %s: %w: %s", args[0], err, msg)
	}
	return stdout.Bytes(), nil
}

// node is one entry of an in-memory tree.
type node struct {
	name string // base name ("." for the root)
	mode fs.FileMode
	oid  string // blob object id (files and symlinks)
	data []byte // file content, or symlink target
	// tooLarge is the size of a blob over loader.MaxFileSize, which is not kept in memory:
	// reading it fails.
	tooLarge int64
	entries  []*node
	index    map[string]*node
}

func (n *node) isDir() bool { return n.mode.IsDir() }

// memFS is a commit's tree.
type memFS struct {
	root *node
}

var (
	_ fs.FS         = (*memFS)(nil)
	_ fs.ReadFileFS = (*memFS)(nil)
	_ fs.ReadDirFS  = (*memFS)(nil)
	_ fs.StatFS     = (*memFS)(nil)
	_ fs.ReadLinkFS = (*memFS)(nil)
)

// buildTree parses `git ls-tree -r -z` output: "<mode> SP <type> SP <oid> TAB <path> NUL".
func buildTree(listing []byte) (*memFS, error) {
	root := &node{name: ".", mode: fs.ModeDir | 0o755, index: map[string]*node{}}
	for rec := range bytes.SplitSeq(listing, []byte{0}) {
		if len(rec) == 0 {
			continue
		}
		meta, p, ok := bytes.Cut(rec, []byte{'\t'})
		if !ok {
			return nil, fmt.Errorf("unexpected ls-tree record %q", rec)
		}
		fields := strings.Fields(string(meta))
		if len(fields) != 3 {
			return nil, fmt.Errorf("unexpected ls-tree record %q", rec)
		}
		gitMode, typ, oid := fields[0], fields[1], fields[2]
		var mode fs.FileMode
		switch {
		case typ == "commit": // submodule
			mode = fs.ModeDir | 0o755
			oid = ""
		case gitMode == "120000":
			mode = fs.ModeSymlink | 0o777
		case gitMode == "100755":
			mode = 0o755
		case typ == "blob":
			mode = 0o644
		default:
			continue // trees are not listed with -r; anything else is ignored
		}
		name := string(p)
		if !fs.ValidPath(name) || name == "." {
			return nil, fmt.Errorf("invalid path %q in tree", name)
		}
		dir := root
		parts := strings.Split(name, "/")
		for _, part := range parts[:len(parts)-1] {
			child := dir.index[part]
			if child == nil {
				child = &node{name: part, mode: fs.ModeDir | 0o755, index: map[string]*node{}}
				dir.index[part] = child
				dir.entries = append(dir.entries, child)
			}
			dir = child
		}
		leaf := &node{name: parts[len(parts)-1], mode: mode, oid: oid}
		if mode.IsDir() {
			leaf.index = map[string]*node{}
		}
		dir.index[leaf.name] = leaf
		dir.entries = append(dir.entries, leaf)
	}
	var sortDir func(n *node)
	sortDir = func(n *node) {
		slices.SortFunc(n.entries, func(a, b *node) int { return strings.Compare(a.name, b.name) })
		for _, c := range n.entries {
			if c.isDir() {
				sortDir(c)
			}
		}
	}
	sortDir(root)
	return &memFS{root: root}, nil
}

// loadBlobs reads every blob with one `git cat-file --batch`.
func (m *memFS) loadBlobs(ctx context.Context, repoDir string) error {
	byOID := map[string][]*node{}
	var oids []string
	var walk func(n *node)
	walk = func(n *node) {
		for _, c := range n.entries {
			switch {
			case c.isDir():
				walk(c)
			case c.oid != "":
				if _, seen := byOID[c.oid]; !seen {
					oids = append(oids, c.oid)
				}
				byOID[c.oid] = append(byOID[c.oid], c)
			}
		}
	}
	walk(m.root)
	if len(oids) == 0 {
		return nil
	}
	cmd := exec.CommandContext(ctx, "git", "-C", repoDir, "cat-file", "--batch")
	cmd.Env = append(os.Environ(), "GIT_TERMINAL_PROMPT=0", "LC_ALL=C")
	cmd.Stdin = strings.NewReader(strings.Join(oids, "\n") + "\n")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("git cat-file: %w", err)
	}
	readErr := readBatch(bufio.NewReaderSize(stdout, 1<<16), oids, byOID)
	if readErr != nil {
		_, _ = io.Copy(io.Discard, stdout)
	}
	waitErr := cmd.Wait()
	if readErr != nil {
		return readErr
	}
	if waitErr != nil {
		return fmt.Errorf("git cat-file: %w: %s", waitErr, strings.TrimSpace(stderr.String()))
	}
	return nil
}

// readBatch parses `git cat-file --batch` output: for each requested object
// "<oid> SP <type> SP <size> LF <content> LF", or "<oid> SP missing LF".
func readBatch(r *bufio.Reader, oids []string, byOID map[string][]*node) error {
	for _, want := range oids {
		header, err := r.ReadString('\n')
		if err != nil {
			return fmt.Errorf("git cat-file: reading object %s: %w", want, err)
		}
		fields := strings.Fields(header)
		if len(fields) == 2 && fields[1] == "missing" {
			return fmt.Errorf("git cat-file: object %s is missing", want)
		}
		if len(fields) != 3 {
			return fmt.Errorf("git cat-file: unexpected header %q", strings.TrimSpace(header))
		}
		size, err := strconv.ParseInt(fields[2], 10, 64)
		if err != nil || size < 0 {
			return fmt.Errorf("git cat-file: unexpected header %q", strings.TrimSpace(header))
		}
		if size > loader.MaxFileSize {
			// Bounded memory: a committed multi-GiB blob (it compresses well) is skipped here
			// and is an error only if something reads it.
			if _, err := r.Discard(int(size)); err != nil {
				return fmt.Errorf("git cat-file: reading object %s: %w", want, err)
			}
			for _, n := range byOID[want] {
				n.tooLarge = size
			}
			if _, err := r.Discard(1); err != nil {
				return fmt.Errorf("git cat-file: reading object %s: %w", want, err)
			}
			continue
		}
		data := make([]byte, size)
		if _, err := io.ReadFull(r, data); err != nil {
			return fmt.Errorf("git cat-file: reading object %s: %w", want, err)
		}
		if _, err := r.Discard(1); err != nil { // the LF after the content
			return fmt.Errorf("git cat-file: reading object %s: %w", want, err)
		}
		for _, n := range byOID[want] {
			n.data = data
		}
	}
	return nil
}

const maxLinkHops = 40

// lookup finds name in the tree. Symbolic links in the directory part are
// always followed; the final element is followed when follow is true.
func (m *memFS) lookup(op, name string, follow bool) (*node, string, error) {
	if !fs.ValidPath(name) {
		return nil, "", &fs.PathError{Op: op, Path: name, Err: fs.ErrInvalid}
	}
	if name == "." {
		return m.root, ".", nil
	}
	hops := 0
	// pending holds the elements still to walk; resolved the elements walked.
	pending := strings.Split(name, "/")
	var resolved []string
	cur := m.root
	stack := []*node{m.root}
	for len(pending) > 0 {
		elem := pending[0]
		pending = pending[1:]
		switch elem {
		case ".":
			continue
		case "..":
			if len(resolved) == 0 {
				return nil, "", &fs.PathError{Op: op, Path: name, Err: ErrOutsideRepository}
			}
			resolved = resolved[:len(resolved)-1]
			stack = stack[:len(stack)-1]
			cur = stack[len(stack)-1]
			continue
		}
		if !cur.isDir() {
			return nil, "", &fs.PathError{Op: op, Path: name, Err: fs.ErrNotExist}
		}
		child := cur.index[elem]
		if child == nil {
			return nil, "", &fs.PathError{Op: op, Path: name, Err: fs.ErrNotExist}
		}
		if child.mode&fs.ModeSymlink != 0 && (len(pending) > 0 || follow) {
			hops++
			if hops > maxLinkHops {
				return nil, "", &fs.PathError{Op: op, Path: name, Err: errors.New("too many levels of symbolic links")}
			}
			target := string(child.data)
			if target == "" || path.IsAbs(target) {
				return nil, "", &fs.PathError{Op: op, Path: name, Err: ErrOutsideRepository}
			}
			pending = append(strings.Split(target, "/"), pending...)
			continue
		}
		resolved = append(resolved, elem)
		stack = append(stack, child)
		cur = child
	}
	if len(resolved) == 0 {
		return m.root, ".", nil
	}
	return cur, strings.Join(resolved, "/"), nil
}

// Open opens name, following symbolic links.
func (m *memFS) Open(name string) (fs.File, error) {
	n, _, err := m.lookup("open", name, true)
	if err != nil {
		return nil, err
	}
	if n.isDir() {
		return &dirFile{info: info{n, path.Base(name)}, entries: n.entries}, nil
	}
	if n.tooLarge > 0 {
		return nil, &fs.PathError{Op: "open", Path: name, Err: loader.ErrTooLarge}
	}
	return &file{info: info{n, path.Base(name)}, r: bytes.NewReader(n.data)}, nil
}

// ReadFile returns the content of name, following symbolic links.
func (m *memFS) ReadFile(name string) ([]byte, error) {
	n, _, err := m.lookup("read", name, true)
	if err != nil {
		return nil, err
	}
	if n.isDir() {
		return nil, &fs.PathError{Op: "read", Path: name, Err: errors.New("is a directory")}
	}
	if n.tooLarge > 0 {
		return nil, &fs.PathError{Op: "read", Path: name, Err: loader.ErrTooLarge}
	}
	return bytes.Clone(n.data), nil
}

// ReadDir lists the directory name, sorted by file name.
func (m *memFS) ReadDir(name string) ([]fs.DirEntry, error) {
	n, _, err := m.lookup("readdir", name, true)
	if err != nil {
		return nil, err
	}
	if !n.isDir() {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: errors.New("not a directory")}
	}
	return dirEntries(n.entries), nil
}

// Stat describes name, following symbolic links.
func (m *memFS) Stat(name string) (fs.FileInfo, error) {
	n, _, err := m.lookup("stat", name, true)
	if err != nil {
		return nil, err
	}
	return info{n, path.Base(name)}, nil
}

// Lstat describes name without following a final symbolic link.
func (m *memFS) Lstat(name string) (fs.FileInfo, error) {
	n, _, err := m.lookup("lstat", name, false)
	if err != nil {
		return nil, err
	}
	return info{n, path.Base(name)}, nil
}

// ReadLink returns the target of the symbolic link name.
func (m *memFS) ReadLink(name string) (string, error) {
	n, _, err := m.lookup("readlink", name, false)
	if err != nil {
		return "", err
	}
	if n.mode&fs.ModeSymlink == 0 {
		return "", &fs.PathError{Op: "readlink", Path: name, Err: fs.ErrInvalid}
	}
	return string(n.data), nil
}

func dirEntries(nodes []*node) []fs.DirEntry {
	out := make([]fs.DirEntry, len(nodes))
	for i, c := range nodes {
		out[i] = fs.FileInfoToDirEntry(info{c, c.name})
	}
	return out
}

// info is the fs.FileInfo of a node.
type info struct {
	n    *node
	name string
}

func (i info) Name() string {
	if i.name == "" || i.name == "/" {
		return "."
	}
	return i.name
}
func (i info) Size() int64 {
	if i.n.isDir() {
		return 0
	}
	if i.n.tooLarge > 0 {
		return i.n.tooLarge
	}
	return int64(len(i.n.data))
}
func (i info) Mode() fs.FileMode  { return i.n.mode }
func (i info) ModTime() time.Time { return time.Time{} }
func (i info) IsDir() bool        { return i.n.isDir() }
func (i info) Sys() any           { return nil }

type file struct {
	info
	r *bytes.Reader
}

func (f *file) Stat() (fs.FileInfo, error) { return f.info, nil }
func (f *file) Read(p []byte) (int, error) { return f.r.Read(p) }
func (f *file) ReadAt(p []byte, off int64) (int, error) {
	return f.r.ReadAt(p, off)
}
func (f *file) Seek(off int64, whence int) (int64, error) { return f.r.Seek(off, whence) }
func (f *file) Close() error                              { return nil }

type dirFile struct {
	info
	entries []*node
	offset  int
}

func (d *dirFile) Stat() (fs.FileInfo, error) { return d.info, nil }
func (d *dirFile) Read([]byte) (int, error) {
	return 0, &fs.PathError{Op: "read", Path: d.name, Err: errors.New("is a directory")}
}
func (d *dirFile) Close() error { return nil }
func (d *dirFile) ReadDir(count int) ([]fs.DirEntry, error) {
	rest := d.entries[d.offset:]
	if count <= 0 {
		d.offset = len(d.entries)
		return dirEntries(rest), nil
	}
	if len(rest) == 0 {
		return nil, io.EOF
	}
	if count > len(rest) {
		count = len(rest)
	}
	d.offset += count
	return dirEntries(rest[:count]), nil
}
