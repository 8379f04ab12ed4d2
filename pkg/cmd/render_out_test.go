package cmd

import (
	"bytes"
	"context"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
)

// The tests of `hubctl render --out` (issue 7, "never destroy what hubctl
// did not create") use testdata/outtree: two clusters, plain-directory
// sources, no chart, no network.

const outTreeURL = "https://git.example.test/tiny.git"

// outRepo copies testdata/outtree into a temp folder that looks like a Git
// repository (a .git folder), and returns its absolute path.
func outRepo(t *testing.T) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "repo")
	copyDir(t, "testdata/outtree", dst)
	os.MkdirAll(filepath.Join(dst, ".git", "objects"), 0o755)
	os.WriteFile(filepath.Join(dst, ".git", "HEAD"), []byte("ref: refs/heads/main\n"), 0o644)
	return dst
}

// outArgs renders repo; appsets are relative to repo.
func outArgs(repo string, appsets []string, extra ...string) []string {
	args := []string{"render", "--repo", repo, "--repo-url", outTreeURL}
	for _, a := range appsets {
		args = append(args, "--appset", filepath.Join(repo, a))
	}
	return append(args, extra...)
}

// copyDir copies the files and folders under src to dst.
func copyDir(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// snapshot is every file and folder under root with its content.
func snapshot(t *testing.T, root string) map[string]string {
	t.Helper()
	m := map[string]string{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		if d.IsDir() {
			m[rel+"/"] = ""
			return nil
		}
		if d.Type()&fs.ModeSymlink != 0 {
			target, _ := os.Readlink(p)
			m[rel] = "-> " + target
			return nil
		}
		data, err := os.ReadFile(p)
		m[rel] = string(data)
		return err
	})
	if err != nil {
		t.Fatalf("snapshot of %s: %v", root, err)
	}
	return m
}

func sameTree(t *testing.T, what string, before, after map[string]string) {
	t.Helper()
	for k, v := range before {
		if w, ok := after[k]; !ok {
			t.Errorf("%s: %s was removed", what, k)
		} else if w != v {
			t.Errorf("%s: %s was changed", what, k)
		}
	}
	for k := range after {
		if _, ok := before[k]; !ok {
			t.Errorf("%s: %s was added", what, k)
		}
	}
}

func names(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range es {
		out = append(out, e.Name())
	}
	sort.Strings(out)
	return out
}

func wantRefused(t *testing.T, code int, errOut string, words ...string) {
	t.Helper()
	if code != ExitError {
		t.Errorf("exit %d, want 2; stderr:\n%s", code, errOut)
	}
	for _, w := range append([]string{"nothing was changed"}, words...) {
		if !strings.Contains(errOut, w) {
			t.Errorf("stderr does not say %q:\n%s", w, errOut)
		}
	}
}

// TestRenderOutRefusesProtectedFolders: `--out "$PWD"` in the repository
// deleted the whole repository, .git included, and exited 0. A folder that
// is or contains the repository, the working directory, $HOME or / is
// refused, with --force too, after resolving links and "..".
func TestRenderOutRefusesProtectedFolders(t *testing.T) {
	repo := outRepo(t)
	home := filepath.Join(t.TempDir(), "home", "me")
	os.MkdirAll(filepath.Join(home, "work"), 0o755)
	os.WriteFile(filepath.Join(home, "work", "notes.txt"), []byte("mine"), 0o644)
	t.Setenv("HOME", home)
	links := t.TempDir()
	if err := os.Symlink(filepath.Dir(repo), filepath.Join(links, "to-parent")); err != nil {
		t.Fatal(err)
	}
	wd := filepath.Join(t.TempDir(), "wd")
	os.MkdirAll(filepath.Join(wd, "sub"), 0o755)
	os.WriteFile(filepath.Join(wd, "keep.txt"), []byte("mine"), 0o644)
	t.Chdir(wd)

	before := snapshot(t, repo)
	beforeHome := snapshot(t, home)
	beforeWD := snapshot(t, wd)
	for _, tc := range []struct {
		name, out string
		force     bool
	}{
		{"the repository", repo, false},
		{"the repository, forced", repo, true},
		{"the repository as repo/manifests/..", filepath.Join(repo, "manifests") + "/..", true},
		{"the repository through a link to its parent", filepath.Join(links, "to-parent", "repo"), true},
		{"the parent of the repository", filepath.Dir(repo), true},
		{"the working directory", ".", true},
		{"the working directory as sub/..", "sub/..", true},
		{"the parent of the working directory", "..", true},
		{"$HOME", home, true},
		{"the parent of $HOME", filepath.Dir(home), true},
		{"/", "/", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := outArgs(repo, []string{"bootstrap/tiny.yaml"}, "--out", tc.out)
			if tc.force {
				args = append(args, "--force")
			}
			_, errOut, code := run(t, args...)
			wantRefused(t, code, errOut, "--force does not override this")
			if _, err := os.Stat(filepath.Join(repo, ".git", "HEAD")); err != nil {
				t.Fatalf("the repository's .git is gone: %v", err)
			}
			sameTree(t, "repository", before, snapshot(t, repo))
			sameTree(t, "$HOME", beforeHome, snapshot(t, home))
			sameTree(t, "working directory", beforeWD, snapshot(t, wd))
		})
	}
	// A folder inside a protected one is fine.
	_, errOut, code := run(t, outArgs(repo, []string{"bootstrap/tiny.yaml"}, "--out", filepath.Join(repo, "rendered"))...)
	if code != ExitOK {
		t.Fatalf("--out repo/rendered: exit %d: %s", code, errOut)
	}
	if _, err := os.Stat(filepath.Join(repo, "rendered", "alpha", "tiny-alpha.yaml")); err != nil {
		t.Error(err)
	}
}

// TestRenderOutRefusesFiles: `--out notes.txt` replaced the file with a
// folder. A file, or a link, is refused, with --force too.
func TestRenderOutRefusesFiles(t *testing.T) {
	repo := outRepo(t)
	dir := t.TempDir()
	notes := filepath.Join(dir, "notes.txt")
	os.WriteFile(notes, []byte("my notes"), 0o644)
	target := filepath.Join(dir, "target")
	os.MkdirAll(target, 0o755)
	link := filepath.Join(dir, "link")
	os.Symlink(target, link)
	before := snapshot(t, dir)
	for _, force := range []bool{false, true} {
		args := outArgs(repo, []string{"bootstrap/tiny.yaml"}, "--out", notes)
		if force {
			args = append(args, "--force")
		}
		_, errOut, code := run(t, args...)
		wantRefused(t, code, errOut, "regular file")
		_, errOut, code = run(t, outArgs(repo, []string{"bootstrap/tiny.yaml"}, "--out", link)...)
		wantRefused(t, code, errOut, "symbolic link")
		sameTree(t, "folder of --out", before, snapshot(t, dir))
	}
}

// TestRenderOutRefusesUnrelatedFolders: a non-empty folder without hubctl's
// marker is refused with nothing touched; --force replaces it.
func TestRenderOutRefusesUnrelatedFolders(t *testing.T) {
	repo := outRepo(t)
	parent := t.TempDir()
	work := filepath.Join(parent, "work")
	os.MkdirAll(filepath.Join(work, "drafts"), 0o755)
	os.WriteFile(filepath.Join(work, "drafts", "plan.md"), []byte("my plan"), 0o644)
	before := snapshot(t, parent)
	_, errOut, code := run(t, outArgs(repo, []string{"bootstrap/tiny.yaml"}, "--out", work)...)
	wantRefused(t, code, errOut, "not a previous 'hubctl render --out'", "--force")
	sameTree(t, "unrelated folder", before, snapshot(t, parent))

	_, errOut, code = run(t, outArgs(repo, []string{"bootstrap/tiny.yaml"}, "--out", work, "--force")...)
	if code != ExitOK {
		t.Fatalf("--force: exit %d: %s", code, errOut)
	}
	if got, want := names(t, work), []string{".hubctl-render", "alpha", "beta"}; strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("--force: %s holds %v, want %v", work, got, want)
	}
	if got := names(t, parent); len(got) != 1 {
		t.Errorf("temporary folders left beside --out: %v", got)
	}

	// Another Git repository is never replaced, --force or not.
	other := filepath.Join(t.TempDir(), "other")
	os.MkdirAll(filepath.Join(other, ".git"), 0o755)
	os.WriteFile(filepath.Join(other, ".git", "HEAD"), []byte("ref: refs/heads/main\n"), 0o644)
	before = snapshot(t, other)
	_, errOut, code = run(t, outArgs(repo, []string{"bootstrap/tiny.yaml"}, "--out", other, "--force")...)
	wantRefused(t, code, errOut, "Git repository", "--force does not override this")
	sameTree(t, "another repository", before, snapshot(t, other))
}

// TestRenderOutReplacesPreviousOutput: an absent folder (with missing
// parents), an empty one and a previous output are written; a previous
// output is replaced as a whole, files added to it included, and nothing is
// left beside it.
func TestRenderOutReplacesPreviousOutput(t *testing.T) {
	repo := outRepo(t)
	parent := t.TempDir()
	out := filepath.Join(parent, "a", "b", "rendered")
	_, errOut, code := run(t, outArgs(repo, []string{"bootstrap/tiny.yaml"}, "--out", out)...)
	if code != ExitOK {
		t.Fatalf("absent folder: exit %d: %s", code, errOut)
	}
	marker, err := os.ReadFile(filepath.Join(out, ".hubctl-render"))
	if err != nil || !strings.Contains(string(marker), "hubctl render --out") {
		t.Fatalf("no marker explaining the folder: %q, %v", marker, err)
	}
	first := snapshot(t, out)
	os.MkdirAll(filepath.Join(out, "gone-cluster"), 0o755)
	os.WriteFile(filepath.Join(out, "gone-cluster", "stale.yaml"), []byte("stale"), 0o644)
	os.WriteFile(filepath.Join(out, "alpha", "tiny-alpha.yaml"), []byte("edited"), 0o644)
	_, errOut, code = run(t, outArgs(repo, []string{"bootstrap/tiny.yaml"}, "--out", out)...)
	if code != ExitOK {
		t.Fatalf("previous output: exit %d: %s", code, errOut)
	}
	sameTree(t, "second render", first, snapshot(t, out))
	if got := names(t, filepath.Dir(out)); len(got) != 1 {
		t.Errorf("temporary folders left beside --out: %v", got)
	}
	if !strings.Contains(first["alpha/tiny-alpha.yaml"], "hello: world") {
		t.Errorf("alpha/tiny-alpha.yaml: %q", first["alpha/tiny-alpha.yaml"])
	}

	emptyDir := filepath.Join(parent, "empty")
	os.Mkdir(emptyDir, 0o755)
	_, errOut, code = run(t, outArgs(repo, []string{"bootstrap/tiny.yaml"}, "--out", emptyDir)...)
	if code != ExitOK {
		t.Fatalf("empty folder: exit %d: %s", code, errOut)
	}
	sameTree(t, "render into an empty folder", first, snapshot(t, emptyDir))
}

// TestRenderOutFailedRenderKeepsOldContent: a render where one Application
// fails exits 2 and leaves the previous output as it was (it replaced it
// with a partial tree).
func TestRenderOutFailedRenderKeepsOldContent(t *testing.T) {
	repo := outRepo(t)
	out := filepath.Join(t.TempDir(), "rendered")
	if _, errOut, code := run(t, outArgs(repo, []string{"bootstrap/tiny.yaml"}, "--out", out)...); code != ExitOK {
		t.Fatalf("first render: exit %d: %s", code, errOut)
	}
	before := snapshot(t, filepath.Dir(out))
	_, errOut, code := run(t, outArgs(repo, []string{"bootstrap/tiny.yaml", "extra/broken.yaml"}, "--out", out)...)
	if code != ExitError {
		t.Fatalf("exit %d, want 2: %s", code, errOut)
	}
	for _, w := range []string{"broken-alpha", "broken/bad.yaml", "left unchanged"} {
		if !strings.Contains(errOut, w) {
			t.Errorf("stderr does not say %q:\n%s", w, errOut)
		}
	}
	sameTree(t, "--out after a failed render", before, snapshot(t, filepath.Dir(out)))

	// An absent folder stays absent.
	absent := filepath.Join(t.TempDir(), "absent")
	if _, _, code := run(t, outArgs(repo, []string{"bootstrap/tiny.yaml", "extra/broken.yaml"}, "--out", absent)...); code != ExitError {
		t.Fatalf("exit %d, want 2", code)
	}
	if got := names(t, filepath.Dir(absent)); len(got) != 0 {
		t.Errorf("a failed render left %v", got)
	}
}

// TestRenderOutWrittenDespiteFindings: an Application that generation
// rejects (Argo CD does not create it either) is a finding, exit 1; --out is
// still written with the others.
func TestRenderOutWrittenDespiteFindings(t *testing.T) {
	repo := outRepo(t)
	out := filepath.Join(t.TempDir(), "rendered")
	_, errOut, code := run(t, outArgs(repo, []string{"bootstrap/tiny.yaml", "extra/invalid-name.yaml"}, "--out", out)...)
	if code != ExitFindings || !strings.Contains(errOut, "Nope_alpha") {
		t.Fatalf("exit %d, want 1 naming Nope_alpha: %s", code, errOut)
	}
	if got := strings.Join(names(t, filepath.Join(out, "alpha")), " "); got != "tiny-alpha.yaml" {
		t.Errorf("alpha holds %s, want tiny-alpha.yaml", got)
	}
}

// TestRenderOutCancelledKeepsOldContent: a render interrupted by SIGINT or
// SIGTERM (cmd/hubctl then cancels the context) does not replace --out: the
// context is cancelled here while a chart is being fetched (a partial tree
// replaced --out).
func TestRenderOutCancelledKeepsOldContent(t *testing.T) {
	repo := outRepo(t)
	out := filepath.Join(t.TempDir(), "rendered")
	if _, errOut, code := run(t, outArgs(repo, []string{"bootstrap/tiny.yaml"}, "--out", out)...); code != ExitOK {
		t.Fatalf("first render: exit %d: %s", code, errOut)
	}
	os.WriteFile(filepath.Join(out, "alpha", "tiny-alpha.yaml"), []byte("old content"), 0o644)
	before := snapshot(t, filepath.Dir(out))

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	charts := http.FileServer(http.Dir(filepath.Join(repo, "chartrepo")))
	var fetched atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, ".tgz") {
			fetched.Store(true)
			cancel() // Ctrl-C while the chart downloads
		}
		charts.ServeHTTP(w, r)
	}))
	defer srv.Close()

	args := outArgs(repo, []string{"bootstrap/tiny.yaml", "extra/chart.yaml"}, "--out", out,
		"--chart-mirror", "https://charts.example.test="+srv.URL, "--cache-dir", t.TempDir())
	var stdout, stderr bytes.Buffer
	code := Run(ctx, args, Streams{In: strings.NewReader(""), Out: &stdout, ErrOut: &stderr})
	if !fetched.Load() {
		t.Fatalf("the chart was not fetched; stderr:\n%s", stderr.String())
	}
	if code != ExitError {
		t.Errorf("exit %d, want 2: %s", code, stderr.String())
	}
	if !strings.Contains(stderr.String(), "left unchanged") {
		t.Errorf("stderr does not say --out was left unchanged:\n%s", stderr.String())
	}
	sameTree(t, "--out after an interrupted render", before, snapshot(t, filepath.Dir(out)))
}

// TestRenderOutCleansLeftovers: a hubctl killed mid-way leaves its hidden
// sibling folder (.<name>.hubctl-<random>); the next render removes those
// that are empty or hold hubctl's marker, and no other.
func TestRenderOutCleansLeftovers(t *testing.T) {
	repo := outRepo(t)
	parent := t.TempDir()
	out := filepath.Join(parent, "rendered")
	if _, errOut, code := run(t, outArgs(repo, []string{"bootstrap/tiny.yaml"}, "--out", out)...); code != ExitOK {
		t.Fatalf("first render: exit %d: %s", code, errOut)
	}
	marker, _ := os.ReadFile(filepath.Join(out, ".hubctl-render"))
	killed := filepath.Join(parent, ".rendered.hubctl-1234")
	os.MkdirAll(filepath.Join(killed, "alpha"), 0o755)
	os.WriteFile(filepath.Join(killed, ".hubctl-render"), marker, 0o644)
	os.WriteFile(filepath.Join(killed, "alpha", "half.yaml"), []byte("kind: Con"), 0o644)
	os.Mkdir(filepath.Join(parent, ".rendered.hubctl-5678"), 0o755)
	notOurs := filepath.Join(parent, ".rendered.hubctl-mine")
	os.Mkdir(notOurs, 0o755)
	os.WriteFile(filepath.Join(notOurs, "keep.txt"), []byte("mine"), 0o644)
	os.WriteFile(filepath.Join(parent, ".rendered.hubctl-file"), []byte("mine"), 0o644)
	other := filepath.Join(parent, ".other.hubctl-1")
	os.Mkdir(other, 0o755)
	os.WriteFile(filepath.Join(other, ".hubctl-render"), marker, 0o644)

	if _, errOut, code := run(t, outArgs(repo, []string{"bootstrap/tiny.yaml"}, "--out", out)...); code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	got := strings.Join(names(t, parent), " ")
	if want := ".other.hubctl-1 .rendered.hubctl-file .rendered.hubctl-mine rendered"; got != want {
		t.Errorf("beside --out: %s, want %s", got, want)
	}
}

// TestRenderOutSameNameInTwoNamespaces: two Applications of one cluster
// with the same name in different namespaces were written to one file, one
// silently lost. Each now has <cluster>/<namespace>/<name>.yaml; names that
// are unique in their cluster keep <cluster>/<name>.yaml.
func TestRenderOutSameNameInTwoNamespaces(t *testing.T) {
	repo := outRepo(t)
	out := filepath.Join(t.TempDir(), "rendered")
	_, errOut, code := run(t, outArgs(repo, []string{"bootstrap/tiny.yaml", "extra/team.yaml", "extra/broken.yaml"})...)
	if code != ExitError || !strings.Contains(errOut, "rendered 4 Application(s)") {
		t.Fatalf("stdout render: exit %d: %s", code, errOut)
	}
	_, errOut, code = run(t, outArgs(repo, []string{"bootstrap/tiny.yaml", "extra/team.yaml"}, "--out", out)...)
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	got := snapshot(t, out)
	var files []string
	for k := range got {
		if strings.HasSuffix(k, ".yaml") {
			files = append(files, k)
		}
	}
	sort.Strings(files)
	want := "alpha/argocd/tiny-alpha.yaml alpha/team/tiny-alpha.yaml beta/argocd/tiny-beta.yaml beta/team/tiny-beta.yaml"
	if strings.Join(files, " ") != want {
		t.Fatalf("files %v, want %s", files, want)
	}
	if !strings.Contains(got["alpha/argocd/tiny-alpha.yaml"], "namespace: tiny") || !strings.Contains(got["alpha/team/tiny-alpha.yaml"], "namespace: team") {
		t.Errorf("the two Applications' renders are not in their own files:\n%s\n%s", got["alpha/argocd/tiny-alpha.yaml"], got["alpha/team/tiny-alpha.yaml"])
	}
}

// TestRenderOutBadClusterNames: cluster names that cannot be folder names
// (".", "..", a "/", a NUL byte, over 255 bytes) fail for their Application
// only, with a message naming the Application and the cluster; the exit
// status is 2 and --out is not replaced. Without --out they render.
func TestRenderOutBadClusterNames(t *testing.T) {
	repo := outRepo(t)
	clusters := filepath.Join(t.TempDir(), "clusters.yaml")
	data, _ := os.ReadFile(filepath.Join(repo, "extra/odd-clusters.yaml"))
	long := strings.Repeat("l", 300)
	data = append(data, []byte(`---
apiVersion: v1
kind: Secret
metadata:
  name: cluster-nul
  namespace: argocd
  labels: {argocd.argoproj.io/secret-type: cluster, tiny: "true", idx: "5"}
stringData: {name: "nul\0byte", server: "https://nul.example.test"}
---
apiVersion: v1
kind: Secret
metadata:
  name: cluster-long
  namespace: argocd
  labels: {argocd.argoproj.io/secret-type: cluster, tiny: "true", idx: "6"}
stringData: {name: "`+long+`", server: "https://long.example.test"}
`)...)
	os.WriteFile(clusters, data, 0o644)

	stdout, errOut, code := run(t, outArgs(repo, []string{"extra/by-index.yaml"}, "--clusters", clusters)...)
	if code != ExitOK || !strings.Contains(errOut, "rendered 6 Application(s)") {
		t.Fatalf("without --out: exit %d: %s", code, errOut)
	}
	if !strings.Contains(stdout, "# Application tiny-4 -> cluster gamma") {
		t.Error("without --out, gamma's Application is not printed")
	}

	out := filepath.Join(t.TempDir(), "rendered")
	if _, errOut, code := run(t, outArgs(repo, []string{"bootstrap/tiny.yaml"}, "--out", out)...); code != ExitOK {
		t.Fatalf("first render: exit %d: %s", code, errOut)
	}
	before := snapshot(t, filepath.Dir(out))
	_, errOut, code = run(t, outArgs(repo, []string{"extra/by-index.yaml"}, "--clusters", clusters, "--out", out)...)
	if code != ExitError {
		t.Fatalf("exit %d, want 2: %s", code, errOut)
	}
	for _, w := range []string{
		`Application tiny-1 (namespace argocd) -> cluster "."`,
		`Application tiny-2 (namespace argocd) -> cluster ".."`,
		`Application tiny-3 (namespace argocd) -> cluster "team/a"`,
		`Application tiny-5 (namespace argocd) -> cluster "nul\x00byte"`,
		`Application tiny-6 (namespace argocd) -> cluster "` + long + `"`,
		"300 bytes",
		"rendered 1 Application(s) for 1 cluster(s); 5 failed",
		"left unchanged",
	} {
		if !strings.Contains(errOut, w) {
			t.Errorf("stderr does not say %q:\n%s", w, errOut)
		}
	}
	if strings.Contains(errOut, "tiny-4") {
		t.Errorf("gamma's Application failed too:\n%s", errOut)
	}
	sameTree(t, "--out after failures", before, snapshot(t, filepath.Dir(out)))
}
