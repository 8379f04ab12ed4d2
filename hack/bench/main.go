// Command bench measures the whole `hubctl generate -o yaml` command (parse,
// generate, write YAML) over synthetic fleets of the shipped ApplicationSets:
// wall time (median of -runs), Applications per second and peak RSS.
//
//	go run ./hack/bench -hubctl bin/hubctl -sizes 100,1000,10000
package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/gitops-hub/gitops-hub/internal/fleetgen"
)

func main() {
	hubctl := flag.String("hubctl", "bin/hubctl", "hubctl binary")
	repo := flag.String("repo", ".", "repository with the shipped ApplicationSets")
	sizes := flag.String("sizes", "100,1000,10000", "fleet sizes")
	runs := flag.Int("runs", 5, "runs per size (median reported)")
	flag.Parse()
	if err := run(*hubctl, *repo, *sizes, *runs); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(2)
	}
}

func run(hubctl, repo, sizes string, runs int) error {
	dir, err := os.MkdirTemp("", "hubctl-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	fmt.Printf("%-9s %-8s %-10s %-12s %-10s %s\n", "clusters", "apps", "wall(s)", "apps/s", "rss(MiB)", "cost per cluster(µs)")
	for _, s := range strings.Split(sizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil {
			return fmt.Errorf("size %q: %w", s, err)
		}
		fleet := filepath.Join(dir, fmt.Sprintf("fleet-%d.yaml", n))
		f, err := os.Create(fleet)
		if err != nil {
			return err
		}
		w := bufio.NewWriter(f)
		if err := fleetgen.Write(w, n, 1); err != nil {
			return err
		}
		if err := w.Flush(); err != nil {
			return err
		}
		f.Close()
		var walls []time.Duration
		var rss int64
		apps := 0
		for i := 0; i < runs; i++ {
			out, err := os.Create(filepath.Join(dir, "out.yaml"))
			if err != nil {
				return err
			}
			cmd := exec.Command(hubctl, "generate", "--repo", repo, "--clusters", fleet, "-o", "yaml")
			cmd.Stdout = out
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			start := time.Now()
			err = cmd.Run()
			walls = append(walls, time.Since(start))
			out.Close()
			if err != nil {
				return fmt.Errorf("%s: %w\n%s", strings.Join(cmd.Args, " "), err, stderr.String())
			}
			if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok && ru.Maxrss > rss {
				rss = ru.Maxrss
			}
			data, err := os.ReadFile(filepath.Join(dir, "out.yaml"))
			if err != nil {
				return err
			}
			apps = bytes.Count(data, []byte("\nkind: Application\n"))
			if bytes.HasPrefix(data, []byte("apiVersion")) && apps == 0 {
				apps = 1
			}
		}
		sort.Slice(walls, func(i, j int) bool { return walls[i] < walls[j] })
		med := walls[len(walls)/2]
		fmt.Printf("%-9d %-8d %-10.3f %-12.0f %-10.0f %.1f\n", n, apps, med.Seconds(), float64(apps)/med.Seconds(), float64(rss)/1024, float64(med.Microseconds())/float64(n))
	}
	return nil
}
