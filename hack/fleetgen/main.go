// Command fleetgen writes N synthetic Argo CD cluster Secrets to stdout:
//
//	go run ./hack/fleetgen -n 10000 > /tmp/fleet-10000.yaml
package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"

	"github.com/gitops-hub/gitops-hub/internal/fleetgen"
)

func main() {
	n := flag.Int("n", 100, "number of clusters")
	seed := flag.Uint64("seed", 1, "random seed")
	flag.Parse()
	w := bufio.NewWriter(os.Stdout)
	if err := fleetgen.Write(w, *n, *seed); err == nil {
		err = w.Flush()
	} else {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
}
