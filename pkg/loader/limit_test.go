package loader

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Issue 7: a committed symlink to /dev/zero, or a huge file, made `generate` run out of
// memory. Reads stop at MaxFileSize with an error naming the file.
func TestReadFileLimit(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "bootstrap"), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat("/dev/zero"); err == nil {
		if err := os.Symlink("/dev/zero", filepath.Join(dir, "bootstrap", "zero.yaml")); err != nil {
			t.Fatal(err)
		}
	}
	big := filepath.Join(dir, "bootstrap", "big.yaml")
	if err := os.WriteFile(big, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(big, MaxFileSize+1); err != nil { // sparse: no disk, no time
		t.Fatal(err)
	}
	exact := filepath.Join(dir, "bootstrap", "exact.yaml")
	os.WriteFile(exact, nil, 0o644)
	if err := os.Truncate(exact, MaxFileSize); err != nil {
		t.Fatal(err)
	}
	fsys := os.DirFS(dir)
	for _, name := range []string{"bootstrap/zero.yaml", "bootstrap/big.yaml"} {
		if name == "bootstrap/zero.yaml" {
			if _, err := os.Lstat(filepath.Join(dir, name)); err != nil {
				continue
			}
		}
		_, err := RepoFiles(fsys, name)[0].ReadFile()
		if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), name) || !strings.Contains(err.Error(), "16 MiB") {
			t.Errorf("%s: err = %v, want ErrTooLarge naming the file", name, err)
		}
	}
	if data, err := ReadFileLimit(fsys, "bootstrap/exact.yaml"); err != nil || len(data) != MaxFileSize {
		t.Errorf("a file of exactly MaxFileSize: %d bytes, %v", len(data), err)
	}
	// LoadObjects reports it like any other bad file.
	_, err := LoadObjects(RepoFiles(fsys, "bootstrap/big.yaml"), false)
	if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "bootstrap/big.yaml") {
		t.Errorf("LoadObjects: %v", err)
	}
}
