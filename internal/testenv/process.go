package testenv

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/gitops-hub/gitops-hub/internal/supervisor"
)

// process is one server this package started, run by internal/supervisor
// (the local fleet's supervisor): in its own process group, killed by the
// kernel should the test binary die without running its cleanups
// (DieWithParent), stopped by its record only.
type process struct {
	name    string // "etcd", "kube-apiserver hub", ...
	procs   supervisor.Processes
	id      string // its supervisor name
	rec     supervisor.Record
	logPath string
	logFrom int64         // size of the log before this run: what this run wrote follows
	done    chan struct{} // closed once the process is seen gone
}

// startProcess starts bin with args as a process of procs; stdout and
// stderr are appended to its log there (procs.LogPath).
func startProcess(procs supervisor.Processes, name, bin string, args []string) (*process, error) {
	id := strings.ReplaceAll(name, " ", ".")
	p := &process{name: name, procs: procs, id: id, logPath: procs.LogPath(id), done: make(chan struct{})}
	if fi, err := os.Stat(p.logPath); err == nil {
		p.logFrom = fi.Size()
	}
	rec, err := procs.Start(id, supervisor.Command{Path: bin, Args: args, Env: os.Environ(), DieWithParent: true})
	if err != nil {
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	p.rec = rec
	go func() {
		for rec.Alive() {
			time.Sleep(50 * time.Millisecond)
		}
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
	procs := p.procs
	procs.StopTimeout = grace
	_ = procs.Stop(context.Background(), p.id)
	<-p.done
}

// tail returns the last n lines of the process log.
func (p *process) tail(n int) string {
	if t := supervisor.Tail(p.logPath, n); t != "" {
		return t
	}
	return fmt.Sprintf(" (nothing read from %s)", p.logPath)
}

// bindRace reports whether the process died because a port was taken
// between picking it and binding it.
func (p *process) bindRace() bool {
	f, err := os.Open(p.logPath)
	if err != nil {
		return false
	}
	defer f.Close()
	if _, err := f.Seek(p.logFrom, io.SeekStart); err != nil {
		return false
	}
	data, err := io.ReadAll(io.LimitReader(f, 16<<20))
	return err == nil && bytes.Contains(data, []byte("address already in use"))
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
