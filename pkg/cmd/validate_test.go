package cmd

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestValidateShippedTree: the shipped tree validates with no error.
func TestValidateShippedTree(t *testing.T) {
	out, stderr, code := run(t, "validate", "--repo", repoRoot, "-o", "json")
	if code != ExitOK {
		t.Fatalf("exit %d, want 0\n%s%s", code, out, stderr)
	}
	noErrorFindings(t, out)
}

func TestValidateExitCodes(t *testing.T) {
	tree := "../validate/testdata/tree"
	copyTree := func(t *testing.T) string {
		dst := t.TempDir()
		if err := os.CopyFS(dst, os.DirFS(tree)); err != nil {
			t.Fatal(err)
		}
		return dst
	}
	edit := func(t *testing.T, dir, file, old, new string) {
		p := filepath.Join(dir, file)
		b, err := os.ReadFile(p)
		if err != nil || !strings.Contains(string(b), old) {
			t.Fatalf("%s: %v (or no %q)", file, err, old)
		}
		if err := os.WriteFile(p, []byte(strings.Replace(string(b), old, new, 1)), 0o644); err != nil {
			t.Fatal(err)
		}
	}

	t.Run("clean tree", func(t *testing.T) {
		out, _, code := run(t, "validate", "--repo", copyTree(t))
		if code != ExitOK || out != "0 error(s), 0 warning(s)\n" {
			t.Fatalf("exit %d, output %q", code, out)
		}
	})
	t.Run("warnings only", func(t *testing.T) {
		dir := copyTree(t)
		edit(t, dir, "bootstrap/addons/appset-podinfo.yaml", "prune: false", "prune: true")
		out, _, code := run(t, "validate", "--repo", dir)
		if code != ExitOK || !strings.Contains(out, "[auto-prune]") {
			t.Fatalf("exit %d, want 0 with a warning; output:\n%s", code, out)
		}
	})
	t.Run("an error", func(t *testing.T) {
		dir := copyTree(t)
		edit(t, dir, "clusters/prod-b/cluster.yaml", "enable_nginx", "enable_ngnix")
		out, _, code := run(t, "validate", "--repo", dir, "-o", "sarif")
		if code != ExitFindings {
			t.Fatalf("exit %d, want 1; output:\n%s", code, out)
		}
		var log struct {
			Version string
			Runs    []struct {
				Results []struct {
					RuleID    string
					Level     string
					Locations []struct {
						PhysicalLocation struct {
							ArtifactLocation struct{ URI string }
							Region           struct{ StartLine int }
						}
					}
				}
			}
		}
		if err := json.Unmarshal([]byte(out), &log); err != nil || log.Version != "2.1.0" || len(log.Runs) != 1 || len(log.Runs[0].Results) != 1 {
			t.Fatalf("SARIF: %v\n%s", err, out)
		}
		r := log.Runs[0].Results[0]
		if r.RuleID != "unused-enable-label" || r.Level != "error" || r.Locations[0].PhysicalLocation.ArtifactLocation.URI != "clusters/prod-b/cluster.yaml" || r.Locations[0].PhysicalLocation.Region.StartLine != 10 {
			t.Errorf("SARIF result: %+v", r)
		}
	})
	t.Run("cannot run", func(t *testing.T) {
		dir := copyTree(t)
		edit(t, dir, "bootstrap/addons/appset-nginx.yaml", "  generators:", "  generatorz:")
		out, stderr, code := run(t, "validate", "--repo", dir)
		if code != ExitError || out != "" || !strings.Contains(stderr, "bootstrap/addons/appset-nginx.yaml") {
			t.Fatalf("exit %d, want 2 with the file named; stdout %q stderr %q", code, out, stderr)
		}
	})
	t.Run("bad output format", func(t *testing.T) {
		_, _, code := run(t, "validate", "--repo", copyTree(t), "-o", "xml")
		if code != ExitError {
			t.Fatalf("exit %d, want 2", code)
		}
	})
}

// TestValidateRenderShippedTree: the shipped tree's rendered manifests pass
// the manifest rules (schemas, CRDs, API lifecycle) for Kubernetes 1.35.
func TestValidateRenderShippedTree(t *testing.T) {
	args := append([]string{"validate", "--repo", repoRoot, "--render", "-o", "json"}, chartServer(t)...)
	out, stderr, code := run(t, args...)
	if code != ExitOK {
		t.Fatalf("exit %d, want 0\n%s%s", code, out, stderr)
	}
	noErrorFindings(t, out)
}

// noErrorFindings fails on every error finding of a JSON report.
func noErrorFindings(t *testing.T, out string) {
	t.Helper()
	var rep struct {
		Findings []struct{ Rule, Severity, File, Message string }
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, out)
	}
	for _, f := range rep.Findings {
		if f.Severity == "error" {
			t.Errorf("%s: %s: %s", f.File, f.Rule, f.Message)
		}
	}
}
