package action

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/gitops-hub/gitops-hub/pkg/fleetgen"
	"github.com/gitops-hub/gitops-hub/pkg/output"
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
