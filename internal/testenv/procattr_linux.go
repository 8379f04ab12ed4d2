//go:build linux

package testenv

import "syscall"

// sysProcAttr kills a server when the test binary dies without running its
// cleanups (a panic, `go test -timeout`, SIGKILL), so no apiserver or etcd
// outlives its test.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
