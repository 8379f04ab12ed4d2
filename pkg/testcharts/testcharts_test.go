package testcharts

import (
	"os"
	"path/filepath"
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
