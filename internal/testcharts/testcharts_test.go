package testcharts

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"helm.sh/helm/v3/pkg/repo"
)

func TestRepo(t *testing.T) {
	src := t.TempDir()
	for _, c := range []struct{ name, version string }{{"a", "1.0.0"}, {"b", "0.2.0"}} {
		d := filepath.Join(src, c.name+"-"+c.version)
		if err := os.MkdirAll(filepath.Join(d, "templates"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(d, "Chart.yaml"), []byte("apiVersion: v2\nname: "+c.name+"\nversion: "+c.version+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	dir := Repo(t, src)
	idx, err := repo.LoadIndexFile(filepath.Join(dir, "index.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for name, version := range map[string]string{"a": "1.0.0", "b": "0.2.0"} {
		cv, err := idx.Get(name, version)
		if err != nil {
			t.Fatalf("%s %s: %v", name, version, err)
		}
		if want := name + "-" + version + ".tgz"; len(cv.URLs) != 1 || cv.URLs[0] != want {
			t.Errorf("%s URLs %v, want the relative [%s]", name, cv.URLs, want)
		}
		if _, err := os.Stat(filepath.Join(dir, cv.URLs[0])); err != nil {
			t.Error(err)
		}
	}
}

func TestUpstream(t *testing.T) {
	t.Setenv(EnvChartsDir, "")
	if _, err := upstream(); err == nil {
		t.Fatal("no error without $HUBCTL_CHARTS_DIR")
	}
	t.Setenv(EnvChartsDir, t.TempDir())
	if _, err := upstream(); err == nil {
		t.Fatal("no error for a folder without index.yaml")
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "index.yaml"), []byte("apiVersion: v1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv(EnvChartsDir, dir)
	if got, err := upstream(); err != nil || got != dir {
		t.Fatalf("upstream() = %q, %v; want %q", got, err, dir)
	}
}

// recorder is a testing.TB that records whether the test was skipped or
// failed instead of stopping it.
type recorder struct {
	testing.TB
	skipped, failed bool
}

func (r *recorder) Helper() {}

// Skip and Fatalf stop the calling goroutine, as testing's do.
func (r *recorder) Skip(...any)           { r.skipped = true; runtime.Goexit() }
func (r *recorder) Fatalf(string, ...any) { r.failed = true; runtime.Goexit() }

// call runs Upstream on r in its own goroutine.
func (r *recorder) call() {
	done := make(chan struct{})
	go func() {
		defer close(done)
		Upstream(r)
	}()
	<-done
}

// Without real charts a test is skipped, and fails instead under
// HUBCTL_REQUIRE_REAL_CLUSTERS=1.
func TestUpstreamSkipOrFail(t *testing.T) {
	t.Setenv(EnvChartsDir, "")
	t.Setenv(EnvRequireReal, "")
	r := &recorder{TB: t}
	r.call()
	if !r.skipped || r.failed {
		t.Errorf("without $%s: skipped %v, failed %v; want a skip", EnvChartsDir, r.skipped, r.failed)
	}
	t.Setenv(EnvRequireReal, "1")
	r = &recorder{TB: t}
	r.call()
	if r.skipped || !r.failed {
		t.Errorf("under $%s=1: skipped %v, failed %v; want a failure", EnvRequireReal, r.skipped, r.failed)
	}
}
