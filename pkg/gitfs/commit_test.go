package gitfs

import (
	"context"
	"strings"
	"testing"
)

func TestResolveCommit(t *testing.T) {
	r := newRepo(t)
	r.write("a.txt", "one\n")
	first := r.commit("first")
	r.write("a.txt", "two\n")
	second := r.commit("second")
	ctx := context.Background()
	for rev, want := range map[string]string{"HEAD": second, "HEAD~1": first, "main": second, first[:10]: first} {
		got, err := ResolveCommit(ctx, r.dir, rev)
		if err != nil || got != want {
			t.Errorf("ResolveCommit(%q) = %q, %v; want %q", rev, got, err, want)
		}
	}
	_, err := ResolveCommit(ctx, r.dir, "no-such-branch")
	if err == nil || !strings.Contains(err.Error(), `"no-such-branch"`) {
		t.Errorf("unknown revision: error %v does not name it", err)
	}
}
