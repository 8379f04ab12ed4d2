// Package benchexec holds what the benchmark commands under hack/ share:
// timing a process with its peak memory, and the chart repositories of the
// shipped ApplicationSets.
package benchexec

import (
	"bytes"
	"fmt"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// Upstream are the chart repositories of the shipped ApplicationSets,
// mirrored to a local chart folder for every side of a comparison.
var Upstream = []string{
	"https://argoproj.github.io/argo-helm",
	"https://charts.crossplane.io/stable",
	"https://prometheus-community.github.io/helm-charts",
	"https://backstage.github.io/charts",
	"https://kubernetes.github.io/ingress-nginx",
	"https://aws.github.io/eks-charts",
	"https://charts.external-secrets.io",
}

// MirrorFlags are the --chart-mirror flags pointing every upstream
// repository at the folder of packaged charts.
func MirrorFlags(charts string) []string {
	var args []string
	for _, u := range Upstream {
		args = append(args, "--chart-mirror", u+"="+charts)
	}
	return args
}

// Measure is the wall time, CPU time (user + system, the process and its
// children) and peak RSS (KiB, from the kernel) of a process. On a busy
// machine CPU time varies less than wall time.
type Measure struct {
	Wall time.Duration
	CPU  time.Duration
	RSS  int64
}

// Timed runs cmd and measures it; the error carries its standard error.
func Timed(cmd *exec.Cmd) (Measure, error) {
	var stderr bytes.Buffer
	if cmd.Stderr == nil {
		cmd.Stderr = &stderr
	}
	start := time.Now()
	err := cmd.Run()
	m := Measure{Wall: time.Since(start)}
	if cmd.ProcessState != nil {
		if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
			m.RSS = ru.Maxrss
		}
		// wait4's usage includes the descendants the process waited for.
		m.CPU = cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	}
	if err != nil {
		return m, fmt.Errorf("%s: %w\n%s", strings.Join(cmd.Args, " "), err, stderr.String())
	}
	return m, nil
}
