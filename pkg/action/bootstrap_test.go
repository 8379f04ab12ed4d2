package action

import (
	"context"
	"os"
	"strings"
	"testing"

	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chartutil"

	"github.com/gitops-hub/gitops-hub/pkg/render/helm"
)

func TestLoadHubInputsOfTheTree(t *testing.T) {
	in, err := LoadHubInputs(os.DirFS("../.."))
	if err != nil {
		t.Fatal(err)
	}
	if in.Spec.Chart != "argo-cd" || in.Spec.Version == "" {
		t.Errorf("spec %+v", in.Spec)
	}
	var names []string
	for _, p := range in.Projects {
		names = append(names, p.GetName())
	}
	if got := strings.Join(names, ","); got != "argocd,networking,observability,platform,security" {
		t.Errorf("AppProjects %s", got)
	}
	if !strings.Contains(string(in.RootApp), "name: hub-root") {
		t.Error("root Application not read")
	}
}

// packChart writes a minimal chart package name-version.tgz into dir.
func packChart(t *testing.T, dir, name, version string) {
	t.Helper()
	c := &chart.Chart{Metadata: &chart.Metadata{APIVersion: chart.APIVersionV2, Name: name, Version: version}}
	if _, err := chartutil.Save(c, dir); err != nil {
		t.Fatal(err)
	}
}

func TestChartSourceChartsDirAndMirrors(t *testing.T) {
	t.Setenv("HUBCTL_CACHE_DIR", t.TempDir())
	dir, mirror := t.TempDir(), t.TempDir()
	packChart(t, dir, "argo-cd", "1.0.0")
	packChart(t, mirror, "argo-cd", "2.0.0")
	ctx := context.Background()
	// HUBCTL_CHARTS_DIR serves every repository: no network is asked (the host does not exist).
	src, err := NewChartSource(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	c, err := src.Load(ctx, helm.ChartRef{RepoURL: "https://charts.invalid/argo", Chart: "argo-cd", Version: "1.0.0"})
	if err != nil || c.Metadata.Version != "1.0.0" {
		t.Fatalf("charts dir: %v", err)
	}
	// --chart-mirror wins over it for the repositories it names.
	src, err = NewChartSource(dir, []string{"https://charts.invalid/argo=" + mirror})
	if err != nil {
		t.Fatal(err)
	}
	c, err = src.Load(ctx, helm.ChartRef{RepoURL: "https://charts.invalid/argo", Chart: "argo-cd", Version: "2.0.0"})
	if err != nil || c.Metadata.Version != "2.0.0" {
		t.Fatalf("mirror: %v", err)
	}
	if _, err := NewChartSource("", []string{"no-equals"}); err == nil {
		t.Error("a bad --chart-mirror was accepted")
	}
}
