package gitfs

import (
	"context"
	"fmt"
	"strings"
)

// ResolveCommit returns the commit SHA that revision names in the
// repository at repoDir (`git rev-parse --verify REV^{commit}`). The error
// names the repository and the revision.
func ResolveCommit(ctx context.Context, repoDir, revision string) (string, error) {
	out, err := gitOutput(ctx, repoDir, nil, "rev-parse", "--verify", "--end-of-options", revision+"^{commit}")
	if err != nil {
		return "", fmt.Errorf("repository %s: unknown revision %q: %w", repoDir, revision, err)
	}
	sha := strings.TrimSpace(string(out))
	if sha == "" {
		return "", fmt.Errorf("repository %s: unknown revision %q", repoDir, revision)
	}
	return sha, nil
}
