package action

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"helm.sh/helm/v3/pkg/chartutil"

	"github.com/gitops-hub/gitops-hub/pkg/gitfs"
	"github.com/gitops-hub/gitops-hub/pkg/render"
	"github.com/gitops-hub/gitops-hub/pkg/source"
)

// TestProvenanceMergeEqualsHelm: for every shipped Application, the values
// `hubctl values` annotates (source.Merge's provenance walk) are exactly
// Helm's own: chartutil.CoalesceValues of the whole chart with the user
// values Helm's MergeValues computes (source.HelmInputs.UserValues), the
// subcharts' sections and globals aside, which Merge does not cover.
func TestProvenanceMergeEqualsHelm(t *testing.T) {
	// A folder of the real upstream charts (a Helm repository folder), as
	// .ci/run exports it.
	charts := os.Getenv("HUBCTL_CHARTS_DIR")
	if charts == "" {
		t.Skip("HUBCTL_CHARTS_DIR is not set")
	}
	charts, err := filepath.Abs(charts)
	if err == nil {
		_, err = os.Stat(filepath.Join(charts, "index.yaml"))
	}
	if err != nil {
		t.Skipf("HUBCTL_CHARTS_DIR: %v", err)
	}
	ctx := context.Background()
	const repo = "../.."
	gen, err := (&Generate{Repo: repo}).Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	mirrors := map[string]bool{}
	for _, a := range gen.Apps {
		for _, s := range a.Sources() {
			if c, _ := s["chart"].(string); c != "" {
				mirrors[s["repoURL"].(string)+"="+charts] = true
			}
		}
	}
	r := Render{Generate: Generate{Repo: repo}, CacheDir: t.TempDir()}
	for m := range mirrors {
		r.ChartMirrors = append(r.ChartMirrors, m)
	}
	revFS, err := gitfs.Open(ctx, repo, "")
	if err != nil {
		t.Fatal(err)
	}
	opts, err := r.options(ctx, repo, revFS)
	if err != nil {
		t.Fatal(err)
	}
	rr := render.New(opts)
	checked := 0
	for _, a := range gen.Apps {
		in, ch, err := rr.HelmValues(ctx, a)
		if err != nil {
			t.Errorf("%s: %v", a.Name, err)
			continue
		}
		layers, err := in.Layers()
		if err != nil {
			t.Fatal(err)
		}
		walk, origin, err := source.MergeChecked(append([]source.Layer{{Name: "chart", Values: ch.Values}}, layers...))
		if err != nil {
			t.Errorf("%s: %v", a.Name, err)
			continue
		}
		user, err := in.UserValues()
		if err != nil {
			t.Errorf("%s: %v", a.Name, err)
			continue
		}
		helmVals, err := chartutil.CoalesceValues(ch, user)
		if err != nil {
			t.Fatal(err)
		}
		walkAll, _, _ := source.MergeChecked(append([]source.Layer{{Name: "chart", Values: ch.Values}}, layers...))
		want := map[string]any(helmVals)
		got := walk
		for _, d := range ch.Metadata.Dependencies {
			name := d.Name
			if d.Alias != "" {
				name = d.Alias
			}
			delete(want, name)
			delete(got, name)
		}
		delete(want, "global")
		delete(got, "global")
		if !reflect.DeepEqual(got, want) {
			for k := range want {
				if !reflect.DeepEqual(got[k], want[k]) {
					t.Errorf("%s: key %s: provenance walk %v, Helm %v", a.Name, k, got[k], want[k])
				}
			}
			for k := range got {
				if _, ok := want[k]; !ok {
					t.Errorf("%s: key %s only in the provenance walk", a.Name, k)
				}
			}
		}
		// hubctl values prints Helm's values, annotated from the walk.
		merged, _, err := in.Coalesce("chart", ch.Values)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(merged, walkAll) {
			t.Errorf("%s: Coalesce's values differ from the provenance walk", a.Name)
		}
		if len(origin) == 0 || len(merged) == 0 {
			t.Errorf("%s: no values or no provenance", a.Name)
		}
		checked++
	}
	if checked < len(gen.Apps) || checked == 0 {
		t.Errorf("checked %d of %d Applications", checked, len(gen.Apps))
	}
}
