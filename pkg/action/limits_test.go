package action

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gitops-hub/gitops-hub/pkg/render/helm"
)

// Fetch limits come from hubctl.yaml's limits: block, flags override them, and the rest keep
// helm.DefaultLimits.
func TestFetchLimitsFromConfigAndFlags(t *testing.T) {
	dir := t.TempDir()
	cfg := "limits:\n  connectTimeout: 2s\n  httpTimeout: 1m\n  maxIndexSize: 1Mi\n"
	if err := os.WriteFile(filepath.Join(dir, "hubctl.yaml"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	r := &Render{CacheDir: t.TempDir(), Limits: FetchLimits{HTTPTimeout: "10s", MaxChartSize: "2Mi"}}
	opts, err := r.options(context.Background(), dir, os.DirFS(dir))
	if err != nil {
		t.Fatal(err)
	}
	want := helm.Limits{ConnectTimeout: 2 * time.Second, Timeout: 10 * time.Second, MaxIndexSize: 1 << 20, MaxChartSize: 2 << 20}
	if got := opts.Charts.Limits; got != want {
		t.Errorf("limits = %+v, want %+v", got, want)
	}
	r.Limits = FetchLimits{MaxIndexSize: "lots"}
	if _, err := r.options(context.Background(), dir, os.DirFS(dir)); err == nil || !strings.Contains(err.Error(), `maxIndexSize: "lots" is not a positive size`) {
		t.Errorf("bad flag: %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "hubctl.yaml"), []byte("limits:\n  httpTimeout: -1s\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r.Limits = FetchLimits{}
	if _, err := r.options(context.Background(), dir, os.DirFS(dir)); err == nil || !strings.Contains(err.Error(), "httpTimeout") {
		t.Errorf("bad config: %v", err)
	}
}

// Issue 7: a huge file under bootstrap/ or clusters/ made generate run out of memory; it is
// now an error naming the file (a sparse file: the test costs no disk and no time).
func TestGenerateHugeFiles(t *testing.T) {
	for _, name := range []string{"bootstrap/appset.yaml", "clusters/c1/cluster.yaml"} {
		dir := t.TempDir()
		if err := os.MkdirAll(filepath.Join(dir, "bootstrap"), 0o755); err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Truncate(p, 3<<30); err != nil {
			t.Fatal(err)
		}
		_, err := (&Generate{Repo: dir}).Run(context.Background())
		if err == nil || !strings.Contains(err.Error(), name) || !strings.Contains(err.Error(), "larger than 16 MiB") {
			t.Errorf("%s: err = %v", name, err)
		}
	}
}
