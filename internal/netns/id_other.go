//go:build !linux

package netns

import "errors"

// ID is this process's network namespace; Linux only.
func ID() (string, error) { return "", errors.New("network namespaces need Linux (/proc)") }

// UserNSDiffers reports whether this process runs in another user namespace than PID 1.
func UserNSDiffers() bool { return false }
