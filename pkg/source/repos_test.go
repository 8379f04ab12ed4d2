package source

import (
	"io/fs"
	"testing"
	"testing/fstest"
)

// Cases of argoproj/argo-cd util/git/git_test.go (TestNormalizeUrl,
// TestSameURL) and the rules of util/git/git.go NormalizeGitURL, plus the
// trailing slash removed here.
func TestNormalizeRepoURL_ArgoNormalizeGitURL(t *testing.T) {
	for in, want := range map[string]string{
		"git@GITHUB.com:argoproj/test":                "git@github.com/argoproj/test",
		"git@github.com:argoproj/test.git":            "git@github.com/argoproj/test",
		"ssh://git@github.com/argoproj/test":          "git@github.com/argoproj/test",
		"ssh://git@github.com/argoproj/test.git":      "git@github.com/argoproj/test",
		"https://github.com/argoproj/test.git":        "https://github.com/argoproj/test",
		"https://GitHub.com/ArgoProj/Test":            "https://github.com/argoproj/test",
		"  https://github.com/argoproj/test  ":        "https://github.com/argoproj/test",
		"https://github.com/argoproj/test/":           "https://github.com/argoproj/test",
		"https://github.com/argoproj/test.git/":       "https://github.com/argoproj/test",
		"ssh://git@github.com:22/argoproj/test.git":   "git@github.com:22/argoproj/test",
		"https://user@git.example.com:8443/org/r.git": "https://user@git.example.com:8443/org/r",
	} {
		if got := NormalizeRepoURL(in); got != want {
			t.Errorf("NormalizeRepoURL(%q) = %q, want %q", in, got, want)
		}
	}
	// scp-style and ssh:// forms of one repository are the same; HTTPS and
	// SSH are not (different repositories, different credentials, in Argo CD).
	if NormalizeRepoURL("git@github.com:org/repo.git") != NormalizeRepoURL("ssh://git@github.com/org/repo") {
		t.Error("scp-style and ssh:// differ")
	}
	if NormalizeRepoURL("git@github.com:org/repo.git") == NormalizeRepoURL("https://github.com/org/repo") {
		t.Error("ssh and https normalize alike, unlike Argo CD")
	}
}

func TestReposLookup(t *testing.T) {
	a := fstest.MapFS{"a": {Data: []byte("a")}}
	b := fstest.MapFS{"b": {Data: []byte("b")}}
	var r Repos // the zero value is ready to use
	if _, ok := r.Lookup("https://github.com/org/a"); ok {
		t.Fatal("empty Repos found something")
	}
	r.Add("https://github.com/Org/A.git", a)
	r.Add("git@github.com:org/b.git", b)
	has := func(url string, want fs.FS) {
		t.Helper()
		got, ok := r.Lookup(url)
		if want == nil {
			if ok {
				t.Errorf("Lookup(%s) found a repository", url)
			}
			return
		}
		if !ok || !sameFS(got, want) {
			t.Errorf("Lookup(%s) = %v, %v", url, got, ok)
		}
	}
	has("https://github.com/org/a", a)
	has("https://github.com/org/a/", a)
	has("HTTPS://GITHUB.COM/ORG/A.GIT", a)
	has("ssh://git@github.com/org/b", b)
	has("git@github.com:org/b", b)
	// Fallback: the same host and path under another scheme (a clone's SSH
	// remote against an Application's HTTPS repoURL).
	has("git@github.com:org/a.git", a)
	has("https://github.com/org/b.git", b)
	has("https://gitlab.com/org/a", nil)
	has("https://github.com/org/c", nil)

	// Two URLs of one location with one content: still found.
	r.Add("https://github.com/org/b", b)
	has("ssh://git@github.com:22/org/b", b)
	// With different contents the fallback is ambiguous.
	r.Add("https://github.com/org/b", a)
	has("ssh://git@github.com:2222/org/b", nil)
	// A URL added again is replaced.
	has("https://github.com/org/b", a)

	var nilRepos *Repos
	if _, ok := nilRepos.Lookup("x"); ok {
		t.Error("nil Repos found something")
	}
}
