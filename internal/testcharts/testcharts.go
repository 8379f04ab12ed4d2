// Package testcharts gives tests their Helm charts, so that nothing in the
// repository names a path outside it:
//
//   - Upstream: the real upstream charts, a Helm repository folder named by
//     $HUBCTL_CHARTS_DIR (`hubctl charts pull DIR` makes one; CI sets it).
//     Without it a test is skipped, or fails under
//     HUBCTL_REQUIRE_REAL_CLUSTERS=1;
//   - Repo: a Helm repository folder packaged from small charts of our own
//     (a testdata/ directory of chart sources).
package testcharts

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/repo"
)

// Environment variables read here.
const (
	// EnvChartsDir names a Helm repository folder (index.yaml and packaged
	// charts) holding the real upstream charts.
	EnvChartsDir = "HUBCTL_CHARTS_DIR"
	// EnvRequireReal=1 turns the skip of a test that lacks real charts into
	// a failure.
	EnvRequireReal = "HUBCTL_REQUIRE_REAL_CLUSTERS"
)

// Upstream returns the absolute path of the Helm repository folder of real
// upstream charts ($HUBCTL_CHARTS_DIR). When it is unset or holds no
// index.yaml the test is skipped, or fails under
// HUBCTL_REQUIRE_REAL_CLUSTERS=1.
func Upstream(tb testing.TB) string {
	tb.Helper()
	dir, err := upstream()
	if err != nil {
		if os.Getenv(EnvRequireReal) == "1" {
			tb.Fatalf("%v ($%s=1)", err, EnvRequireReal)
		}
		tb.Skip(err.Error())
	}
	return dir
}

func upstream() (string, error) {
	dir := os.Getenv(EnvChartsDir)
	if dir == "" {
		return "", errors.New("real upstream charts: $" + EnvChartsDir + " is not set (a Helm repository folder; make one with `hubctl charts pull DIR`)")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	if _, err := os.Stat(filepath.Join(abs, "index.yaml")); err != nil {
		return "", errors.New("real upstream charts: $" + EnvChartsDir + "=" + dir + " is not a Helm repository folder: " + err.Error())
	}
	return abs, nil
}

// Repo packages every chart source directory under src (each a directory
// holding Chart.yaml) into a new temporary directory, writes its index.yaml
// with relative URLs as `helm repo index` does, and returns that directory.
func Repo(tb testing.TB, src string) string {
	tb.Helper()
	out := tb.TempDir()
	entries, err := os.ReadDir(src)
	if err != nil {
		tb.Fatal(err)
	}
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		ch, err := loader.LoadDir(filepath.Join(src, e.Name()))
		if err != nil {
			tb.Fatalf("chart %s: %v", filepath.Join(src, e.Name()), err)
		}
		if _, err := chartutil.Save(ch, out); err != nil {
			tb.Fatal(err)
		}
	}
	idx, err := repo.IndexDirectory(out, "")
	if err != nil {
		tb.Fatal(err)
	}
	idx.SortEntries()
	if err := idx.WriteFile(filepath.Join(out, "index.yaml"), 0o644); err != nil {
		tb.Fatal(err)
	}
	return out
}
