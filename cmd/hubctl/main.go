// Command hubctl runs a fleet of Kubernetes clusters from one Argo CD hub.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/gitops-hub/gitops-hub/pkg/cmd"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cmd.Run(ctx, os.Args[1:], cmd.Streams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr})
	stop()
	os.Exit(code)
}
