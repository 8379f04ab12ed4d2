package main

import (
	"bytes"
	"errors"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestMain runs hubctl's main when the test binary is started as hubctl by
// the tests below, so that they send real signals to a real process.
func TestMain(m *testing.M) {
	if os.Getenv("HUBCTL_TEST_RUN_MAIN") == "1" {
		os.Args = append([]string{"hubctl"}, os.Args[1:]...)
		main()
		return
	}
	os.Exit(m.Run())
}

// tiny is the small tree of the render --out tests.
const tiny = "../../pkg/cmd/testdata/outtree"

func files(t *testing.T, root string) map[string]string {
	t.Helper()
	m := map[string]string{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		rel, _ := filepath.Rel(root, p)
		m[rel] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestSignalLeavesOutUnchanged: Ctrl-C (SIGINT) or SIGTERM while
// `hubctl render --out DIR` fetches a chart makes it exit 2, promptly and
// cleanly: DIR keeps its previous content and nothing is left beside it.
// (It replaced DIR with a partial tree.)
func TestSignalLeavesOutUnchanged(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			parent := t.TempDir()
			out := filepath.Join(parent, "rendered")
			hubctl := func(args ...string) *exec.Cmd {
				c := exec.Command(os.Args[0], append([]string{"render", "--repo", tiny, "--repo-url", "https://git.example.test/tiny.git", "--out", out}, args...)...)
				c.Env = append(os.Environ(), "HUBCTL_TEST_RUN_MAIN=1")
				return c
			}
			if b, err := hubctl("--appset", "bootstrap/tiny.yaml").CombinedOutput(); err != nil {
				t.Fatalf("first render: %v\n%s", err, b)
			}
			// Old content that a new render would change.
			if err := os.WriteFile(filepath.Join(out, "alpha", "tiny-alpha.yaml"), []byte("old content"), 0o644); err != nil {
				t.Fatal(err)
			}
			before := files(t, out)

			cmd := hubctl("--appset", "bootstrap/tiny.yaml", "--appset", "extra/chart.yaml", // files of --repo
				"--chart-mirror", "https://charts.example.test=URL", "--cache-dir", t.TempDir())
			signalled := make(chan struct{})
			charts := http.FileServer(http.Dir(filepath.Join(tiny, "chartrepo")))
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if !strings.HasSuffix(r.URL.Path, ".tgz") {
					charts.ServeHTTP(w, r)
					return
				}
				// The chart download hangs until hubctl gives up on it.
				select {
				case <-signalled:
				default:
					close(signalled)
					cmd.Process.Signal(sig)
				}
				<-r.Context().Done()
			}))
			defer srv.Close()
			for i, a := range cmd.Args {
				cmd.Args[i] = strings.Replace(a, "=URL", "="+srv.URL, 1)
			}
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			err := cmd.Run()
			var exit *exec.ExitError
			if !errors.As(err, &exit) || exit.ExitCode() != 2 {
				t.Fatalf("hubctl: %v, want exit status 2 (killed by the signal: not handled); stderr:\n%s", err, stderr.String())
			}
			select {
			case <-signalled:
			default:
				t.Fatalf("the chart was not fetched; stderr:\n%s", stderr.String())
			}
			if !strings.Contains(stderr.String(), "left unchanged") {
				t.Errorf("stderr does not say --out was left unchanged:\n%s", stderr.String())
			}
			after := files(t, out)
			if len(after) != len(before) {
				t.Errorf("--out holds %d files, had %d", len(after), len(before))
			}
			for k, v := range before {
				if after[k] != v {
					t.Errorf("--out: %s changed", k)
				}
			}
			if es, _ := os.ReadDir(parent); len(es) != 1 {
				t.Errorf("left beside --out: %v", es)
			}
		})
	}
}
