//go:build tools

// Package tools pins the commands that build.sh builds, so that go mod tidy keeps their dependencies.
package tools

import (
	_ "sigs.k8s.io/kwok/cmd/kwok"
	_ "sigs.k8s.io/kwok/cmd/kwokctl"
)
