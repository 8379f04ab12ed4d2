//go:build !unix

package supervisor

import (
	"errors"
	"syscall"
)

type sysSignal = syscall.Signal

const (
	sigTERM = syscall.SIGTERM
	sigKILL = syscall.SIGKILL
)

var errUnsupported = errors.New("the local fleet needs Linux")

func detachedAttr(bool) *syscall.SysProcAttr { return nil }

func signalGroup(int, sysSignal) error { return errUnsupported }

func signalProcess(int, sysSignal) error { return errUnsupported }
