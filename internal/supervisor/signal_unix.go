//go:build unix

package supervisor

import "syscall"

type sysSignal = syscall.Signal

const (
	sigTERM = syscall.SIGTERM
	sigKILL = syscall.SIGKILL
)

// detachedAttr puts a started process in its own process group, so that a
// terminal's Ctrl-C does not reach it and Stop can sysSignal the whole group.
func detachedAttr(dieWithParent bool) *syscall.SysProcAttr {
	a := &syscall.SysProcAttr{Setpgid: true}
	if dieWithParent {
		setPdeathsig(a)
	}
	return a
}

func signalGroup(pgid int, sig sysSignal) error { return syscall.Kill(-pgid, sig) }

func signalProcess(pid int, sig sysSignal) error { return syscall.Kill(pid, sig) }
