//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package outdir

import (
	"os"

	"golang.org/x/sys/unix"
)

// lock holds an exclusive flock(2) on the folder dir while hubctl writes
// into it, so that another hubctl does not take it for a leftover. The
// kernel drops the lock when the process dies.
func lock(dir string) (unlock func()) {
	u, ok := flock(dir, unix.LOCK_EX)
	if !ok {
		return func() {}
	}
	return u
}

// tryLock locks dir unless another process holds it.
func tryLock(dir string) (unlock func(), ok bool) {
	return flock(dir, unix.LOCK_EX|unix.LOCK_NB)
}

func flock(dir string, how int) (func(), bool) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, false
	}
	if err := unix.Flock(int(f.Fd()), how); err != nil {
		f.Close()
		return nil, false
	}
	return func() { f.Close() }, true
}
