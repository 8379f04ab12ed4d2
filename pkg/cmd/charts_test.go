package cmd

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"helm.sh/helm/v3/pkg/repo"

	"github.com/gitops-hub/gitops-hub/internal/testcharts"
)

const pullRepo = "testdata/charts-pull/repo"

// pullServer serves our own small charts (testdata/charts-pull/charts) as a
// Helm repository on 127.0.0.1 and counts the package downloads.
type pullServer struct {
	*httptest.Server
	mu   sync.Mutex
	tgzs []string
}

func newPullServer(t *testing.T) *pullServer {
	t.Helper()
	dir := testcharts.Repo(t, "testdata/charts-pull/charts")
	s := &pullServer{}
	files := http.FileServer(http.Dir(dir))
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, ".tgz") {
			s.mu.Lock()
			s.tgzs = append(s.tgzs, r.URL.Path)
			s.mu.Unlock()
		}
		files.ServeHTTP(w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *pullServer) downloads() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := append([]string(nil), s.tgzs...)
	s.tgzs = nil
	sort.Strings(out)
	return out
}

func pullArgs(t *testing.T, srv *pullServer, dir string) []string {
	return pullArgsCache(srv, dir, t.TempDir())
}

func pullArgsCache(srv *pullServer, dir, cache string) []string {
	return []string{"charts", "pull", dir, "--repo", pullRepo, "--cache-dir", cache,
		"--chart-mirror", "https://charts.example.invalid/stable=" + srv.URL}
}

// TestChartsPull: every chart the Applications use, once (a constraint
// resolved to its version), lands in DIR with an index.yaml of relative
// URLs; a second run downloads nothing and says so; the folder then serves
// as a mirror for render.
func TestChartsPull(t *testing.T) {
	srv := newPullServer(t)
	dir := filepath.Join(t.TempDir(), "charts")
	cache := t.TempDir()
	out, errOut, code := run(t, pullArgsCache(srv, dir, cache)...)
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	want := []string{"alpha-1.0.0.tgz", "alpha-1.1.0.tgz", "beta-0.3.0.tgz"}
	if got := strings.Fields(out); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("stdout %q, want %v", out, want)
	}
	if got := srv.downloads(); strings.Join(got, " ") != "/alpha-1.0.0.tgz /alpha-1.1.0.tgz /beta-0.3.0.tgz" {
		t.Errorf("downloads %v: want each package once", got)
	}
	idx, err := repo.LoadIndexFile(filepath.Join(dir, "index.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range want {
		name, version, _ := strings.Cut(strings.TrimSuffix(f, ".tgz"), "-")
		cv, err := idx.Get(name, version)
		if err != nil {
			t.Fatalf("index.yaml: %v", err)
		}
		if len(cv.URLs) != 1 || cv.URLs[0] != f {
			t.Errorf("%s: URLs %v, want the relative %s", f, cv.URLs, f)
		}
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Error(err)
		}
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 4 {
		t.Errorf("%d files in DIR (temporary files left?): %v", len(entries), entries)
	}
	indexBefore, _ := os.ReadFile(filepath.Join(dir, "index.yaml"))

	// Idempotent: nothing downloaded, nothing rewritten, and it says so.
	// (Exact versions are found in DIR; the constraint is resolved against
	// index.yaml and its package found in the chart cache.)
	_, errOut, code = run(t, pullArgsCache(srv, dir, cache)...)
	if code != ExitOK {
		t.Fatalf("second run: exit %d: %s", code, errOut)
	}
	if got := srv.downloads(); len(got) > 0 {
		t.Errorf("second run downloaded %v", got)
	}
	if !strings.Contains(errOut, "nothing downloaded") {
		t.Errorf("second run does not say nothing was downloaded:\n%s", errOut)
	}
	if indexAfter, _ := os.ReadFile(filepath.Join(dir, "index.yaml")); string(indexAfter) != string(indexBefore) {
		t.Error("second run rewrote index.yaml")
	}

	// The folder is a mirror: render works without the server.
	srv.Close()
	rendered, errOut, code := run(t, "render", "--repo", pullRepo, "--cache-dir", t.TempDir(),
		"--chart-mirror", "https://charts.example.invalid/stable="+dir, "--app", "pull")
	if code != ExitOK {
		t.Fatalf("render from the pulled folder: exit %d: %s", code, errOut)
	}
	if !strings.Contains(rendered, "version: 1.1.0") || !strings.Contains(rendered, "name: pull-d-beta") {
		t.Errorf("render from the pulled folder:\n%s", rendered)
	}
}

// Files already in DIR are never removed or replaced: a foreign file stays,
// an existing index's entries stay, and a file under a package's name that
// is not that package stops the pull with nothing replaced.
func TestChartsPullKeepsForeignFiles(t *testing.T) {
	srv := newPullServer(t)
	dir := t.TempDir()
	notes := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(notes, []byte("mine\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	foreignIndex := "apiVersion: v1\nentries:\n  other:\n  - name: other\n    version: 9.9.9\n    urls: [https://elsewhere.example.invalid/other-9.9.9.tgz]\n"
	if err := os.WriteFile(filepath.Join(dir, "index.yaml"), []byte(foreignIndex), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, errOut, code := run(t, pullArgs(t, srv, dir)...); code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if b, _ := os.ReadFile(notes); string(b) != "mine\n" {
		t.Errorf("notes.txt changed: %q", b)
	}
	idx, err := repo.LoadIndexFile(filepath.Join(dir, "index.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := idx.Get("other", "9.9.9"); err != nil {
		t.Errorf("the existing index's entry was dropped: %v", err)
	}
	if _, err := idx.Get("beta", "0.3.0"); err != nil {
		t.Errorf("beta not indexed: %v", err)
	}

	bad := t.TempDir()
	if err := os.WriteFile(filepath.Join(bad, "beta-0.3.0.tgz"), []byte("not a chart"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, errOut, code := run(t, pullArgs(t, srv, bad)...)
	if code != ExitError || !strings.Contains(errOut, "beta-0.3.0.tgz") || !strings.Contains(errOut, "refusing") {
		t.Fatalf("a foreign file under a package name: exit %d: %s", code, errOut)
	}
	if b, _ := os.ReadFile(filepath.Join(bad, "beta-0.3.0.tgz")); string(b) != "not a chart" {
		t.Error("the foreign file was replaced")
	}

	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, errOut, code := run(t, pullArgs(t, srv, file)...); code != ExitError || !strings.Contains(errOut, "not a folder") {
		t.Errorf("DIR a regular file: exit %d: %s", code, errOut)
	}
}

// An unreachable chart fails with the chart named, exit 2.
func TestChartsPullMissingChart(t *testing.T) {
	srv := newPullServer(t)
	empty := httptest.NewServer(http.NotFoundHandler())
	defer empty.Close()
	args := pullArgs(t, srv, t.TempDir())
	args[len(args)-1] = "https://charts.example.invalid/stable=" + empty.URL
	_, errOut, code := run(t, args...)
	if code != ExitError || !strings.Contains(errOut, "alpha") {
		t.Errorf("exit %d: %s", code, errOut)
	}
}

// TestChartsPullShippedTree: `charts pull` of the shipped tree (upstream
// repositories mirrored to the real charts of $HUBCTL_CHARTS_DIR) gives a
// folder from which every shipped Application renders.
func TestChartsPullShippedTree(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "charts")
	out, errOut, code := run(t, append([]string{"charts", "pull", dir, "--repo", repoRoot}, chartServer(t)...)...)
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if n := len(strings.Fields(out)); n != 8 {
		t.Errorf("%d charts pulled, want the 8 chart versions the tree uses:\n%s", n, out)
	}
	args := []string{"render", "--repo", repoRoot, "--cache-dir", t.TempDir()}
	for _, u := range upstreamRepos {
		args = append(args, "--chart-mirror", u+"="+dir)
	}
	if _, errOut, code := run(t, args...); code != ExitOK {
		t.Fatalf("render from the pulled folder: exit %d: %s", code, errOut)
	}
}
