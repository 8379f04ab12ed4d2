//go:build tools

// Package tools pins the commands that build.sh builds, so that go mod tidy keeps their dependencies.
package tools

import (
	_ "github.com/external-secrets/external-secrets"
)
