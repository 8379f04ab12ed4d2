// Command benchrender compares, in one run, `hubctl render` over a synthetic
// fleet with what a user would do without it: one `helm template` per
// Application, with the same chart and the same values layers.
//
//	go run ./hack/benchrender -hubctl bin/hubctl -helm $(hack/tools/build.sh --print-dir)/helm -charts "$HUBCTL_CHARTS_DIR" -clusters 100
//
// -charts (default $HUBCTL_CHARTS_DIR) is a Helm repository folder of the
// tree's charts, as `hubctl charts pull DIR` makes.
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/gitops-hub/gitops-hub/hack/internal/benchexec"
	"github.com/gitops-hub/gitops-hub/internal/fleetgen"
)

func main() {
	hubctl := flag.String("hubctl", "bin/hubctl", "hubctl binary")
	helmBin := flag.String("helm", "helm", "helm binary")
	charts := flag.String("charts", os.Getenv("HUBCTL_CHARTS_DIR"), "Helm repository folder of the tree's charts (default $HUBCTL_CHARTS_DIR; hubctl charts pull DIR)")
	repo := flag.String("repo", ".", "repository")
	n := flag.Int("clusters", 100, "fleet size")
	flag.Parse()
	if *charts == "" {
		fmt.Fprintln(os.Stderr, "benchrender: -charts or $HUBCTL_CHARTS_DIR: a Helm repository folder of the tree's charts (hubctl charts pull DIR)")
		os.Exit(2)
	}
	if err := run(*hubctl, *helmBin, *charts, *repo, *n); err != nil {
		fmt.Fprintln(os.Stderr, "benchrender:", err)
		os.Exit(2)
	}
}

func run(hubctl, helmBin, charts, repo string, n int) error {
	charts, err := filepath.Abs(charts)
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "benchrender-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	fleet := filepath.Join(dir, "fleet.yaml")
	var buf bytes.Buffer
	if err := fleetgen.Write(&buf, n, 1); err != nil {
		return err
	}
	if err := os.WriteFile(fleet, buf.Bytes(), 0o644); err != nil {
		return err
	}
	// The Applications, as hubctl generate sees them.
	out, err := exec.Command(hubctl, "generate", "--repo", repo, "--clusters", fleet, "-o", "json").Output()
	if err != nil {
		return fmt.Errorf("hubctl generate: %w", err)
	}
	var list struct {
		Items []struct {
			Metadata struct{ Name string }
			Spec     struct {
				Destination struct{ Namespace string }
				Sources     []struct {
					Chart, TargetRevision string
					Helm                  *struct {
						ReleaseName string
						ValueFiles  []string
					}
				}
			}
		}
	}
	if err := json.Unmarshal(out, &list); err != nil {
		return err
	}

	// Side 1: hubctl render, cold cache (charts copied from the local folder).
	args := []string{"render", "--repo", repo, "--clusters", fleet, "--out", filepath.Join(dir, "rendered"), "--cache-dir", filepath.Join(dir, "cache")}
	args = append(args, benchexec.MirrorFlags(charts)...)
	hub, err := benchexec.Timed(exec.Command(hubctl, args...))
	if err != nil {
		return err
	}

	// Side 2: one helm template per Application, as a script loop would.
	script := filepath.Join(dir, "loop.sh")
	var sb strings.Builder
	sb.WriteString("set -e\n")
	for _, it := range list.Items {
		for _, s := range it.Spec.Sources {
			if s.Chart == "" || s.Helm == nil {
				continue
			}
			fmt.Fprintf(&sb, "%s template %s %s --namespace %s --kube-version 1.35.0 --include-crds", helmBin, s.Helm.ReleaseName, filepath.Join(charts, s.Chart+"-"+s.TargetRevision+".tgz"), it.Spec.Destination.Namespace)
			for _, vf := range s.Helm.ValueFiles {
				p := filepath.Join(repo, strings.TrimPrefix(vf, "$values/"))
				if _, err := os.Stat(p); err == nil {
					fmt.Fprintf(&sb, " -f %s", p)
				}
			}
			sb.WriteString(" > /dev/null\n")
		}
	}
	if err := os.WriteFile(script, []byte(sb.String()), 0o755); err != nil {
		return err
	}
	loop, err := benchexec.Timed(exec.Command("bash", script))
	if err != nil {
		return err
	}
	w := bufio.NewWriter(os.Stdout)
	fmt.Fprintf(w, "clusters=%d applications=%d\n", n, len(list.Items))
	fmt.Fprintf(w, "%-34s %8.2f s  peak RSS %5.0f MiB\n", "hubctl render (cold chart cache)", hub.Wall.Seconds(), float64(hub.RSS)/1024)
	fmt.Fprintf(w, "%-34s %8.2f s  peak RSS %5.0f MiB (largest helm process)\n", "helm template loop", loop.Wall.Seconds(), float64(loop.RSS)/1024)
	fmt.Fprintf(w, "speed-up: %.1fx\n", loop.Wall.Seconds()/hub.Wall.Seconds())
	return w.Flush()
}
