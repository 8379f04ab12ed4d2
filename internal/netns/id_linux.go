package netns

import "os"

// ID is this process's network namespace ("net:[4026531840]").
func ID() (string, error) { return os.Readlink("/proc/self/ns/net") }

// UserNSDiffers reports whether this process runs in another user namespace
// than PID 1; false when that cannot be read.
func UserNSDiffers() bool {
	self, err1 := os.Readlink("/proc/self/ns/user")
	init, err2 := os.Readlink("/proc/1/ns/user")
	return err1 == nil && err2 == nil && self != init
}
