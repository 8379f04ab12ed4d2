// Package cmd is hubctl's command line: thin cobra commands that parse
// flags into an options struct and call run(ctx, opts), which drives
// pkg/action and writes with pkg/output.
package cmd

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"
)

// Exit codes: 0 ok, 1 findings or a diff, 2 error.
const (
	ExitOK       = 0
	ExitFindings = 1
	ExitError    = 2
)

// Streams are the command's standard streams: data to Out, progress and
// errors to ErrOut.
type Streams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer
}

// findingsError reports findings that were already printed: exit 1.
type findingsError struct{ n int }

func (e *findingsError) Error() string { return fmt.Sprintf("%d finding(s)", e.n) }

// NewRootCommand builds the hubctl command tree. args are the command line
// it will run (without the program name): up and status --local re-execute
// hubctl with them inside the local fleet's network namespace. hubctl reads
// os.Args only in main.
func NewRootCommand(streams Streams, args []string) *cobra.Command {
	root := &cobra.Command{
		Use:   "hubctl",
		Short: "Run a fleet of Kubernetes clusters from one Argo CD hub",
		Long: `hubctl bootstraps an Argo CD hub, onboards clusters and shows, offline and exactly
as Argo CD would, what every ApplicationSet of the GitOps tree deploys where.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(streams.Out)
	root.SetErr(streams.ErrOut)
	root.SetIn(streams.In)
	root.AddCommand(newGenerateCommand(streams))
	root.AddCommand(newRenderCommand(streams))
	root.AddCommand(newValuesCommand(streams))
	root.AddCommand(newValidateCommand(streams))
	root.AddCommand(newBootstrapCommand(streams))
	root.AddCommand(newClusterCommand(streams))
	root.AddCommand(newDiffCommand(streams))
	root.AddCommand(newChartsCommand(streams))
	root.AddCommand(newUpCommand(streams, args))
	root.AddCommand(newDownCommand(streams))
	root.AddCommand(newStatusCommand(streams, args))
	root.AddCommand(newConfigCommand(streams))
	root.AddCommand(newInternalCommand())
	root.AddCommand(newVersionCommand(streams))
	return root
}

// Run executes hubctl with args and returns the process exit code.
func Run(ctx context.Context, args []string, streams Streams) int {
	root := NewRootCommand(streams, args)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return ExitOK
	}
	var f *findingsError
	if errors.As(err, &f) {
		return ExitFindings
	}
	fmt.Fprintf(streams.ErrOut, "Error: %v\n", err)
	return ExitError
}

// Version is set at build time with -ldflags "-X .../pkg/cmd.Version=...".
var Version = "dev"

func newVersionCommand(streams Streams) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the hubctl version",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			_, err := fmt.Fprintln(streams.Out, Version)
			return err
		},
	}
}
