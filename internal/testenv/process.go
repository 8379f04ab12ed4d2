package testenv

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// process is one server this package started. Only processes started here
// are ever signalled, through their *os.Process.
type process struct {
	name    string // "etcd", "kube-apiserver hub", ...
	cmd     *exec.Cmd
	logPath string
	logFile *os.File
	done    chan struct{} // closed once the process has exited and been reaped
	waitErr error         // valid after done
}

// startProcess starts bin with args, stdout and stderr going to logPath.
func startProcess(name, bin string, args []string, logPath string) (*process, error) {
	lf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout = lf
	cmd.Stderr = lf
	cmd.Env = os.Environ()
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		lf.Close()
		return nil, fmt.Errorf("starting %s (%s): %w", name, bin, err)
	}
	p := &process{name: name, cmd: cmd, logPath: logPath, logFile: lf, done: make(chan struct{})}
	go func() {
		p.waitErr = cmd.Wait()
		lf.Close()
		close(p.done)
	}()
	return p, nil
}

func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop sends SIGTERM, waits up to grace, then SIGKILL, and waits for the exit.
func (p *process) stop(grace time.Duration) {
	if p.exited() {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
		return
	case <-time.After(grace):
	}
	_ = p.cmd.Process.Kill()
	<-p.done
}

// tail returns the last n lines of the process log.
func (p *process) tail(n int) string {
	data, err := os.ReadFile(p.logPath)
	if err != nil {
		return fmt.Sprintf("(cannot read %s: %v)", p.logPath, err)
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// bindRace reports whether the process died because a port was taken
// between picking it and binding it.
func (p *process) bindRace() bool {
	data, err := os.ReadFile(p.logPath)
	return err == nil && bytes.Contains(data, []byte("address already in use"))
}

// exitError describes an early exit with the end of the log.
func (p *process) exitError() error {
	return fmt.Errorf("%s exited early (%v); log %s ends with:\n%s", p.name, p.waitErr, p.logPath, p.tail(25))
}

// Ports are picked below the ephemeral range (32768-60999 on Linux), where
// the kernel never hands out outgoing or `:0` ports, so a port cannot be
// taken between picking and binding by an unrelated connection.
const (
	minPort = 10000
	maxPort = 32767
)

// freePorts picks n distinct free loopback ports below the ephemeral range,
// checking each by listening on 127.0.0.1:port (all are held until every
// one is picked, then released). Another process may still bind one before
// our server does: callers retry on "address already in use".
func freePorts(n int) ([]int, error) {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	var ports []int
	for tries := 0; len(ports) < n; tries++ {
		if tries > 1000 {
			return nil, errors.New("no free loopback port below 32768")
		}
		port := minPort + rand.IntN(maxPort-minPort+1)
		l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		if err != nil {
			continue
		}
		ls = append(ls, l)
		ports = append(ports, port)
	}
	return ports, nil
}
