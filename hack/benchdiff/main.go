// Command benchdiff measures, in one run, `hubctl diff` on a synthetic fleet
// against one `hubctl render` of the same fleet and against what users
// script without hubctl: a `helm template` loop on both revisions, then
// `diff -r`.
//
// It builds a temporary Git repository with the shipped ApplicationSets and
// values layers and a registry of N synthetic clusters (internal/fleetgen),
// commits it, then makes one values change in the working tree (by default
// in environments/default, which reaches every cluster of an addon).
//
//	go run ./hack/benchdiff -hubctl bin/hubctl -helm $(hack/tools/build.sh --print-dir)/helm -charts "$HUBCTL_CHARTS_DIR" -clusters 100
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"

	"sigs.k8s.io/yaml"

	"github.com/gitops-hub/gitops-hub/hack/internal/benchexec"
	"github.com/gitops-hub/gitops-hub/internal/fleetgen"
)

type config struct {
	hubctl, helm, charts, repo string
	clusters, runs             int
	file, old, new             string
	skipLoop                   bool
}

func main() {
	var c config
	flag.StringVar(&c.hubctl, "hubctl", "bin/hubctl", "hubctl binary")
	flag.StringVar(&c.helm, "helm", "helm", "helm binary")
	flag.StringVar(&c.charts, "charts", os.Getenv("HUBCTL_CHARTS_DIR"), "folder of packaged charts (default $HUBCTL_CHARTS_DIR)")
	flag.StringVar(&c.repo, "repo", ".", "repository whose bootstrap/ and environments/ are used")
	flag.IntVar(&c.clusters, "clusters", 100, "fleet size")
	flag.IntVar(&c.runs, "runs", 3, "runs of each hubctl command (the median is reported)")
	flag.StringVar(&c.file, "file", "environments/default/addons/argo-cd/values.yaml", "values file to change")
	flag.StringVar(&c.old, "old", "exec.enabled: false", "text to replace in -file")
	flag.StringVar(&c.new, "new", "exec.enabled: true", "replacement")
	flag.BoolVar(&c.skipLoop, "skip-loop", false, "measure only hubctl (no helm binary)")
	flag.Parse()
	if err := run(c); err != nil {
		fmt.Fprintln(os.Stderr, "benchdiff:", err)
		os.Exit(2)
	}
}

func run(c config) error {
	if c.charts == "" {
		return fmt.Errorf("-charts (or HUBCTL_CHARTS_DIR) is required")
	}
	charts, err := filepath.Abs(c.charts)
	if err != nil {
		return err
	}
	hubctl, err := filepath.Abs(c.hubctl)
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "benchdiff-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	repo := filepath.Join(tmp, "repo")
	if err := buildRepo(c, repo); err != nil {
		return err
	}
	apps, err := applications(hubctl, repo)
	if err != nil {
		return err
	}
	mirrors := benchexec.MirrorFlags(charts)

	// hubctl render of the head (the working tree), cold chart cache.
	renderT, err := median(c.runs, func(i int) *exec.Cmd {
		args := append([]string{"render", "--repo", repo, "--out", filepath.Join(tmp, "rendered"), "--cache-dir", filepath.Join(tmp, fmt.Sprintf("cache-render-%d", i))}, mirrors...)
		return exec.Command(hubctl, args...)
	})
	if err != nil {
		return err
	}
	// hubctl diff HEAD..worktree, cold chart cache.
	var diffOut bytes.Buffer
	diffT, err := median(c.runs, func(i int) *exec.Cmd {
		args := append([]string{"diff", "--repo", repo, "--cache-dir", filepath.Join(tmp, fmt.Sprintf("cache-diff-%d", i))}, mirrors...)
		cmd := exec.Command(hubctl, args...)
		diffOut.Reset()
		cmd.Stdout = &diffOut
		return cmd
	})
	if err != nil {
		return err
	}
	headline, _, _ := strings.Cut(diffOut.String(), "\n")

	// What users script: check out the base, one helm template per
	// Application and revision, then diff -r.
	var loopT benchexec.Measure
	if !c.skipLoop {
		script := loopScript(c.helm, charts, repo, tmp, apps)
		scriptPath := filepath.Join(tmp, "loop.sh")
		if err := os.WriteFile(scriptPath, []byte(script), 0o755); err != nil {
			return err
		}
		if loopT, err = benchexec.Timed(exec.Command("bash", scriptPath)); err != nil {
			return err
		}
	}
	changedFiles, _ := os.ReadFile(filepath.Join(tmp, "diff-r.txt"))

	fmt.Printf("clusters=%d applications=%d change: %s: %q -> %q\n", c.clusters, len(apps), c.file, c.old, c.new)
	fmt.Printf("hubctl diff says: %s\n", strings.TrimPrefix(headline, "hubctl diff "))
	if !c.skipLoop {
		fmt.Printf("diff -r: %d line(s) of differences\n", bytes.Count(changedFiles, []byte("\n")))
	}
	fmt.Printf("%-52s %8.2f s  CPU %7.2f s  peak RSS %5.0f MiB\n", "hubctl render --out DIR (head, cold chart cache)", renderT.Wall.Seconds(), renderT.CPU.Seconds(), float64(renderT.RSS)/1024)
	fmt.Printf("%-52s %8.2f s  CPU %7.2f s  peak RSS %5.0f MiB\n", "hubctl diff (HEAD..worktree, cold chart cache)", diffT.Wall.Seconds(), diffT.CPU.Seconds(), float64(diffT.RSS)/1024)
	fmt.Printf("diff / render: %.2fx wall, %.2fx CPU (goal <= 1.5x)\n", diffT.Wall.Seconds()/renderT.Wall.Seconds(), diffT.CPU.Seconds()/renderT.CPU.Seconds())
	if !c.skipLoop {
		fmt.Printf("%-52s %8.2f s  CPU %7.2f s  peak RSS %5.0f MiB (largest process)\n", "helm template loop on both revisions + diff -r", loopT.Wall.Seconds(), loopT.CPU.Seconds(), float64(loopT.RSS)/1024)
		fmt.Printf("helm loop / diff: %.1fx wall, %.1fx CPU (goal >= 30x)\n", loopT.Wall.Seconds()/diffT.Wall.Seconds(), loopT.CPU.Seconds()/diffT.CPU.Seconds())
	}
	return nil
}

// median runs the command n times and returns the run of median wall time.
func median(n int, mk func(i int) *exec.Cmd) (benchexec.Measure, error) {
	var ms []benchexec.Measure
	for i := range max(1, n) {
		m, err := benchexec.Timed(mk(i))
		if err != nil {
			return m, err
		}
		ms = append(ms, m)
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].Wall < ms[j].Wall })
	return ms[len(ms)/2], nil
}

// buildRepo writes the repository: bootstrap/ and environments/ of c.repo,
// the synthetic registry, one commit, then the values change uncommitted.
func buildRepo(c config, repo string) error {
	for _, top := range []string{"bootstrap", "environments"} {
		src := filepath.Join(c.repo, top)
		err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			rel, _ := filepath.Rel(c.repo, p)
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			return writeFile(filepath.Join(repo, rel), data)
		})
		if err != nil {
			return err
		}
	}
	var fleet bytes.Buffer
	if err := fleetgen.Write(&fleet, c.clusters, 1); err != nil {
		return err
	}
	for _, doc := range strings.Split(fleet.String(), "---\n") {
		if strings.TrimSpace(doc) == "" {
			continue
		}
		var s struct {
			StringData struct{ Name string } `json:"stringData"`
		}
		if err := yaml.Unmarshal([]byte(doc), &s); err != nil {
			return err
		}
		if err := writeFile(filepath.Join(repo, "clusters", s.StringData.Name, "cluster.yaml"), []byte(doc)); err != nil {
			return err
		}
	}
	for _, args := range [][]string{{"init", "-q", "-b", "main"}, {"add", "-A"}, {"commit", "-q", "-m", "base"}} {
		cmd := exec.Command("git", append([]string{"-C", repo, "-c", "user.name=bench", "-c", "user.email=bench@example.com", "-c", "commit.gpgsign=false"}, args...)...)
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("git %s: %w\n%s", args[0], err, out)
		}
	}
	p := filepath.Join(repo, filepath.FromSlash(c.file))
	data, err := os.ReadFile(p)
	if err != nil {
		return err
	}
	if !bytes.Contains(data, []byte(c.old)) {
		return fmt.Errorf("%s does not contain %q", c.file, c.old)
	}
	return os.WriteFile(p, bytes.Replace(data, []byte(c.old), []byte(c.new), 1), 0o644)
}

func writeFile(p string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	return os.WriteFile(p, data, 0o644)
}

type app struct {
	Metadata struct{ Name string }
	Spec     struct {
		Destination struct{ Name, Namespace string }
		Sources     []struct {
			Chart, TargetRevision string
			Helm                  *struct {
				ReleaseName string
				ValueFiles  []string
			}
		}
	}
}

// applications are the Applications of the working tree, as hubctl
// generate sees them (the same on both sides: only values change).
func applications(hubctl, repo string) ([]app, error) {
	out, err := exec.Command(hubctl, "generate", "--repo", repo, "-o", "json").Output()
	if err != nil {
		return nil, fmt.Errorf("hubctl generate: %w", err)
	}
	var list struct{ Items []app }
	if err := json.Unmarshal(out, &list); err != nil {
		return nil, err
	}
	return list.Items, nil
}

// loopScript checks the base out with git archive, renders every
// Application of both revisions with one helm template each (values files
// that exist in that revision, in order), then compares with diff -r.
func loopScript(helm, charts, repo, tmp string, apps []app) string {
	var sb strings.Builder
	base := filepath.Join(tmp, "base")
	fmt.Fprintf(&sb, "set -e\nmkdir -p %s\ngit -C %s archive HEAD | tar -x -C %s\n", base, repo, base)
	for _, side := range []struct{ name, dir string }{{"base", base}, {"head", repo}} {
		out := filepath.Join(tmp, "loop-"+side.name)
		for _, it := range apps {
			for _, s := range it.Spec.Sources {
				if s.Chart == "" || s.Helm == nil {
					continue
				}
				dir := filepath.Join(out, it.Spec.Destination.Name)
				fmt.Fprintf(&sb, "mkdir -p %s\n%s template %s %s --namespace %s --kube-version 1.35.0 --include-crds", dir, helm, s.Helm.ReleaseName,
					filepath.Join(charts, s.Chart+"-"+s.TargetRevision+".tgz"), it.Spec.Destination.Namespace)
				for _, vf := range s.Helm.ValueFiles {
					p := filepath.Join(side.dir, strings.TrimPrefix(vf, "$values/"))
					fmt.Fprintf(&sb, " $(test -f %s && echo -f %s)", p, p)
				}
				fmt.Fprintf(&sb, " > %s\n", filepath.Join(dir, it.Metadata.Name+".yaml"))
			}
		}
	}
	fmt.Fprintf(&sb, "diff -r %s %s > %s || test $? -eq 1\n", filepath.Join(tmp, "loop-base"), filepath.Join(tmp, "loop-head"), filepath.Join(tmp, "diff-r.txt"))
	return sb.String()
}
