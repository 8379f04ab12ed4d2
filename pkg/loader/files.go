package loader

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// File is a file to read: a path inside an fs.FS and the name used in
// messages.
type File struct {
	FS   fs.FS
	Path string
	Name string
}

// ReadFile reads f, at most MaxFileSize bytes.
func (f File) ReadFile() ([]byte, error) { return ReadFileLimit(f.FS, f.Path) }

// RepoFiles names files inside the repository file system.
func RepoFiles(fsys fs.FS, paths ...string) []File {
	out := make([]File, len(paths))
	for i, p := range paths {
		out[i] = File{FS: fsys, Path: p, Name: p}
	}
	return out
}

// LocalFile names a file given on the command line: relative paths are
// read from the working directory, absolute ones from the root.
func LocalFile(p string) File {
	clean := filepath.ToSlash(filepath.Clean(p))
	if !filepath.IsAbs(p) && !strings.HasPrefix(clean, "../") && clean != ".." {
		return File{FS: os.DirFS("."), Path: clean, Name: p}
	}
	abs, err := filepath.Abs(p)
	if err != nil {
		abs = p
	}
	return File{FS: os.DirFS("/"), Path: strings.TrimPrefix(filepath.ToSlash(abs), "/"), Name: p}
}
