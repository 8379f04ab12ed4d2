//go:build !linux

package netns

import "errors"

// LoopbackUp brings lo up in this process's network namespace; Linux only.
func LoopbackUp() error { return errors.New("network namespaces need Linux") }
