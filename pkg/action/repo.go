package action

import (
	"os"
	"path/filepath"
)

// RepoRoot is the repository a verb works on: repo when given (--repo),
// else the root of the Git working tree that contains the working
// directory, found as git finds it (the nearest directory, walking up, that
// holds .git, a directory or a gitfile), else "." (and the errors that
// follow name the absolute path that was tried).
func RepoRoot(repo string) string {
	if repo != "" {
		return repo
	}
	wd, err := os.Getwd()
	if err != nil {
		return "."
	}
	if root, ok := FindGitRoot(wd); ok {
		return root
	}
	return "."
}

// FindGitRoot walks up from dir to the nearest directory holding .git.
func FindGitRoot(dir string) (string, bool) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", false
	}
	for {
		if _, err := os.Lstat(filepath.Join(dir, ".git")); err == nil {
			return dir, true
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", false
		}
		dir = parent
	}
}

// absPath is p made absolute for messages (p itself when that fails).
func absPath(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}
