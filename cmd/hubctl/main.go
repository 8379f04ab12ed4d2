// Command hubctl runs a fleet of Kubernetes clusters from one Argo CD hub.
package main

import (
	"context"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"github.com/gitops-hub/gitops-hub/pkg/cmd"
)

func main() {
	// hubctl is a short-lived batch process whose heap is mostly live until
	// it writes its output: collect less often, but stay under a soft
	// memory limit. GOGC and GOMEMLIMIT still override both.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(300)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(768 << 20)
	}
	// The CLI's one signal handler: SIGINT and SIGTERM cancel ctx, and every
	// command stops on it (render --out then leaves DIR as it was).
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cmd.Run(ctx, os.Args[1:], cmd.Streams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr})
	stop()
	os.Exit(code)
}
