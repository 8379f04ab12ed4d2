package supervisor

import "syscall"

// setPdeathsig has the kernel SIGKILL the process when its parent dies.
func setPdeathsig(a *syscall.SysProcAttr) { a.Pdeathsig = syscall.SIGKILL }
