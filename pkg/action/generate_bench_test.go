package action

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/gitops-hub/gitops-hub/internal/fleetgen"
	"github.com/gitops-hub/gitops-hub/pkg/generate"
	"github.com/gitops-hub/gitops-hub/pkg/loader"
	"github.com/gitops-hub/gitops-hub/pkg/output"
	"github.com/gitops-hub/gitops-hub/pkg/registry"
)

// repoRoot is the repository holding the shipped tree.
const repoRoot = "../.."

func writeFleet(b *testing.B, n int) string {
	b.Helper()
	var buf bytes.Buffer
	if err := fleetgen.Write(&buf, n, 1); err != nil {
		b.Fatal(err)
	}
	p := filepath.Join(b.TempDir(), fmt.Sprintf("fleet-%d.yaml", n))
	if err := os.WriteFile(p, buf.Bytes(), 0o600); err != nil {
		b.Fatal(err)
	}
	return p
}

// BenchmarkGenerate measures the shipped ApplicationSets over synthetic
// fleets: "pipeline" is parse + generate + validate, "yaml" adds writing the
// YAML stream. Reported: generated Applications per second.
func BenchmarkGenerate(b *testing.B) {
	for _, n := range []int{100, 1000, 10000} {
		fleet := writeFleet(b, n)
		g := &Generate{Repo: repoRoot, ClusterFiles: []string{fleet}}
		for _, withYAML := range []bool{false, true} {
			name := fmt.Sprintf("clusters=%d/pipeline", n)
			if withYAML {
				name = fmt.Sprintf("clusters=%d/yaml", n)
			}
			b.Run(name, func(b *testing.B) {
				apps := 0
				for b.Loop() {
					res, err := g.Run(context.Background())
					if err != nil {
						b.Fatal(err)
					}
					apps = len(res.Apps)
					if withYAML {
						objs := make([]map[string]any, len(res.Apps))
						for i, a := range res.Apps {
							objs[i] = a.Object
						}
						if err := output.WriteYAML(io.Discard, objs); err != nil {
							b.Fatal(err)
						}
					}
				}
				b.ReportMetric(float64(apps)*float64(b.N)/b.Elapsed().Seconds(), "apps/s")
				b.ReportMetric(float64(apps), "apps")
			})
		}
	}
}

// BenchmarkGenerateOnly measures generation and rendering alone: the
// registry and the ApplicationSets are parsed once, outside the loop.
func BenchmarkGenerateOnly(b *testing.B) {
	for _, n := range []int{100, 1000, 10000} {
		fleet := writeFleet(b, n)
		reg, err := registry.Load([]loader.File{loader.LocalFile(fleet)})
		if err != nil {
			b.Fatal(err)
		}
		repo := os.DirFS(repoRoot)
		paths, err := loader.WalkYAML(repo, BootstrapDir)
		if err != nil {
			b.Fatal(err)
		}
		objs, err := loader.LoadObjects(loader.RepoFiles(repo, paths...), false)
		if err != nil {
			b.Fatal(err)
		}
		eng := &generate.Engine{Clusters: reg, Repo: repo, APIServerChecks: true}
		b.Run(fmt.Sprintf("clusters=%d", n), func(b *testing.B) {
			apps := 0
			for b.Loop() {
				apps = 0
				for _, as := range objs.AppSets {
					res, err := eng.Generate(context.Background(), as.ApplicationSet, generate.Source{File: as.Doc.File})
					if err != nil {
						b.Fatal(err)
					}
					apps += len(res.Apps)
				}
			}
			b.ReportMetric(float64(apps)*float64(b.N)/b.Elapsed().Seconds(), "apps/s")
		})
	}
}
