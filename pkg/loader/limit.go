package loader

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
)

// MaxFileSize caps every file hubctl reads from the repository or the command line (YAML
// manifests, values files, Git generator files, hubctl.yaml): a committed symlink to
// /dev/zero or a multi-GiB file fails with a clear error instead of exhausting memory.
// Real files of this kind are a few KiB to a few MiB (README "Limits").
const MaxFileSize = 16 << 20

// ErrTooLarge is the error of a file over MaxFileSize.
var ErrTooLarge = fmt.Errorf("file is larger than %d MiB, hubctl's limit for a file it reads", MaxFileSize>>20)

// ReadFileLimit is fs.ReadFile reading at most MaxFileSize bytes; a larger file (or an endless
// one such as a device) fails with a *fs.PathError wrapping ErrTooLarge.
func ReadFileLimit(fsys fs.FS, name string) ([]byte, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.Mode().IsRegular() && st.Size() > MaxFileSize {
		return nil, &fs.PathError{Op: "read", Path: name, Err: ErrTooLarge}
	}
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, &fs.PathError{Op: "read", Path: name, Err: errors.Unwrap(err)}
	}
	if len(data) > MaxFileSize {
		return nil, &fs.PathError{Op: "read", Path: name, Err: ErrTooLarge}
	}
	return data, nil
}
