// Package supervisor starts processes detached, records them by PID, start
// time and boot in PID files, tells whether they still run, and stops them
// (their process group: SIGTERM, a grace, SIGKILL) by that record only, so a
// reused PID is never signalled. Each process logs to a file of its own.
// The local fleet (pkg/localfleet) and the tests' control planes
// (internal/testenv) both run their servers through it.
package supervisor

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/gitops-hub/gitops-hub/pkg/fsutil"
)

// DefaultStopTimeout is how long Stop waits after SIGTERM before SIGKILL.
const DefaultStopTimeout = 10 * time.Second

// killWait is how long Stop waits for the processes to vanish after SIGKILL.
const killWait = 5 * time.Second

// Processes starts detached processes and stops them by recorded PID only.
// Process <name> has its PID file at Dir/pids/<name>.pid and its log (stdout
// and stderr, appended) at Dir/logs/<name>.log.
type Processes struct {
	// Dir holds pids/ and logs/.
	Dir string
	// StopTimeout is how long Stop waits after SIGTERM before SIGKILL; 0
	// means DefaultStopTimeout.
	StopTimeout time.Duration
}

// Command is what Processes.Start runs.
type Command struct {
	// Path is the executable: a path, or a name looked up on PATH.
	Path string
	// Argv0 is the program name the process sees (and ps shows); "" means
	// the base name of Path.
	Argv0 string
	// Args are the arguments after the program name.
	Args []string
	// Env is the whole environment; nil means this process's.
	Env []string
	// Dir is the working directory; "" means Processes.Dir.
	Dir string
	// DieWithParent has the kernel SIGKILL the process when the process
	// that started it dies (Linux; tests use it so that no server outlives
	// a test binary that dies without running its cleanups).
	DieWithParent bool
}

// Record identifies a started process. The PID file holds
// "PID STARTTIME BOOTID"; Log and Command are filled by Start.
type Record struct {
	Name string `json:"name"`
	PID  int    `json:"pid"`
	// StartTime is field 22 of /proc/<pid>/stat: clock ticks after boot.
	// With BootID it tells the recorded process from a later one that got
	// the same PID.
	StartTime uint64   `json:"startTime"`
	BootID    string   `json:"bootID,omitempty"`
	Log       string   `json:"log,omitempty"`
	Command   []string `json:"command,omitempty"`
}

var processNameRE = regexp.MustCompile(`^[A-Za-z0-9][-A-Za-z0-9_.]*$`)

// PIDPath is the PID file of process name.
func (p Processes) PIDPath(name string) string { return filepath.Join(p.Dir, "pids", name+".pid") }

// LogPath is the log file of process name.
func (p Processes) LogPath(name string) string { return filepath.Join(p.Dir, "logs", name+".log") }

func (p Processes) stopTimeout() time.Duration {
	if p.StopTimeout > 0 {
		return p.StopTimeout
	}
	return DefaultStopTimeout
}

// Start starts c as process name, detached: in its own process group, stdin
// /dev/null, stdout and stderr appended to its log. It does not wait for
// anything: use Alive, or a readiness check. The process outlives the
// caller; while the caller runs, it is reaped when it exits. Starting a name
// whose process is alive is an error.
func (p Processes) Start(name string, c Command) (Record, error) {
	if !processNameRE.MatchString(name) {
		return Record{}, fmt.Errorf("process name %q: want letters, digits, '-', '_' and '.'", name)
	}
	if rec, err := p.Record(name); err == nil && rec.Alive() {
		return Record{}, fmt.Errorf("start %s: already running (pid %d, pid file %s)", name, rec.PID, p.PIDPath(name))
	}
	for _, d := range []string{filepath.Dir(p.PIDPath(name)), filepath.Dir(p.LogPath(name))} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return Record{}, fmt.Errorf("start %s: %w", name, err)
		}
	}
	path := c.Path
	if !strings.Contains(path, string(filepath.Separator)) {
		lp, err := exec.LookPath(path)
		if err != nil {
			return Record{}, fmt.Errorf("start %s: %w", name, err)
		}
		path = lp
	}
	argv0 := c.Argv0
	if argv0 == "" {
		argv0 = filepath.Base(path)
	}
	logPath := p.LogPath(name)
	logFile, err := os.OpenFile(logPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return Record{}, fmt.Errorf("start %s: %w", name, err)
	}
	defer logFile.Close()
	command := append([]string{path}, c.Args...)
	fmt.Fprintf(logFile, "--- %s hubctl: starting %s\n", time.Now().UTC().Format(time.RFC3339), ShellJoin(command))
	dir := c.Dir
	if dir == "" {
		dir = p.Dir
	}
	cmd := &exec.Cmd{
		Path:        path,
		Args:        append([]string{argv0}, c.Args...),
		Env:         c.Env,
		Dir:         dir,
		Stdout:      logFile, // an *os.File: the child writes to it directly, no copying goroutine
		Stderr:      logFile,
		SysProcAttr: detachedAttr(c.DieWithParent),
	}
	if err := cmd.Start(); err != nil {
		return Record{}, fmt.Errorf("start %s (%s): %w (log %s)", name, path, err, logPath)
	}
	// Read the start time before anything can reap the child: even if it
	// exited already, its zombie still has /proc/<pid>/stat.
	rec := Record{Name: name, PID: cmd.Process.Pid, BootID: BootID(), Log: logPath, Command: command}
	st, statErr := ReadStat(rec.PID)
	rec.StartTime = st.StartTime
	go cmd.Wait() //nolint:errcheck // reap it should it exit while this process runs
	if statErr != nil {
		_ = signalProcess(rec.PID, sigKILL)
		return Record{}, fmt.Errorf("start %s (pid %d): reading its start time: %w (log %s)", name, rec.PID, statErr, logPath)
	}
	if err := fsutil.WriteFileAtomic(p.PIDPath(name), []byte(rec.pidLine()), 0o644); err != nil {
		_ = signalGroup(rec.PID, sigKILL)
		return Record{}, fmt.Errorf("start %s (pid %d): writing %s: %w", name, rec.PID, p.PIDPath(name), err)
	}
	return rec, nil
}

func (r Record) pidLine() string {
	boot := r.BootID
	if boot == "" {
		boot = "-"
	}
	return fmt.Sprintf("%d %d %s\n", r.PID, r.StartTime, boot)
}

// Record reads the PID file of process name (fs.ErrNotExist when there is none).
func (p Processes) Record(name string) (Record, error) {
	path := p.PIDPath(name)
	b, err := os.ReadFile(path)
	if err != nil {
		return Record{}, err
	}
	rec, err := parsePIDLine(string(b))
	if err != nil {
		return Record{}, fmt.Errorf("pid file %s: %w", path, err)
	}
	rec.Name = name
	rec.Log = p.LogPath(name)
	return rec, nil
}

func parsePIDLine(s string) (Record, error) {
	fields := strings.Fields(s)
	if len(fields) < 2 {
		return Record{}, fmt.Errorf("want \"PID STARTTIME [BOOTID]\", found %q", strings.TrimSpace(s))
	}
	pid, err := strconv.Atoi(fields[0])
	if err != nil || pid <= 1 {
		return Record{}, fmt.Errorf("bad PID %q", fields[0])
	}
	start, err := strconv.ParseUint(fields[1], 10, 64)
	if err != nil || start == 0 {
		return Record{}, fmt.Errorf("bad start time %q", fields[1])
	}
	rec := Record{PID: pid, StartTime: start}
	if len(fields) > 2 && fields[2] != "-" {
		rec.BootID = fields[2]
	}
	return rec, nil
}

// List returns the records of every PID file, sorted by name.
func (p Processes) List() ([]Record, error) {
	entries, err := os.ReadDir(filepath.Join(p.Dir, "pids"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []Record
	var errs []error
	for _, e := range entries {
		name, ok := strings.CutSuffix(e.Name(), ".pid")
		if !ok || e.IsDir() {
			continue
		}
		rec, err := p.Record(name)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, rec)
	}
	return out, errors.Join(errs...)
}

// Alive reports whether the process recorded for name runs: same PID, same
// start time, same boot, not a zombie.
func (p Processes) Alive(name string) bool {
	rec, err := p.Record(name)
	return err == nil && rec.Alive()
}

// Alive reports whether r's process still runs (not a zombie).
func (r Record) Alive() bool {
	if r.PID <= 1 || r.StartTime == 0 {
		return false
	}
	if r.BootID != "" {
		if b := BootID(); b != "" && b != r.BootID {
			return false
		}
	}
	st, err := ReadStat(r.PID)
	return err == nil && st.StartTime == r.StartTime && !st.Zombie()
}

// Stop stops process name by its recorded PID: SIGTERM to its process group,
// up to StopTimeout (or until ctx ends) for the group to exit, then SIGKILL.
// A process that is not the recorded one (the PID was reused: other start
// time or boot) is never signalled. No PID file, or a process already gone,
// is not an error; the PID file is removed in every case but an error.
func (p Processes) Stop(ctx context.Context, name string) error {
	rec, err := p.Record(name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		// Unreadable: nothing identifies a process, so nothing is signalled.
		os.Remove(p.PIDPath(name))
		return fmt.Errorf("stop %s: %w (removed; no process signalled)", name, err)
	}
	if err := Terminate(ctx, rec, p.stopTimeout()); err != nil {
		return fmt.Errorf("stop %s (pid %d, log %s): %w", name, rec.PID, p.LogPath(name), err)
	}
	if err := os.Remove(p.PIDPath(name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("stop %s: %w", name, err)
	}
	return nil
}

// Terminate stops rec's process group: SIGTERM, grace, SIGKILL. Members are
// the recorded leader if it is still the same process, and processes in its
// process group (only looked for when the leader is gone without its PID
// being reused: a PID is not reused while its process group has members).
func Terminate(ctx context.Context, rec Record, grace time.Duration) error {
	if len(groupMembers(rec)) == 0 {
		return nil
	}
	signalMembers(rec, sigTERM)
	if waitGone(ctx, rec, grace) {
		return nil
	}
	signalMembers(rec, sigKILL)
	if waitGone(context.WithoutCancel(ctx), rec, killWait) {
		return nil
	}
	return fmt.Errorf("still running after SIGKILL: pids %v", groupMembers(rec))
}

func signalMembers(rec Record, sig sysSignal) {
	if rec.Alive() {
		if st, err := ReadStat(rec.PID); err == nil && st.Pgrp == rec.PID {
			_ = signalGroup(rec.PID, sig)
			return
		}
		_ = signalProcess(rec.PID, sig)
	}
	for _, pid := range groupMembers(rec) {
		_ = signalProcess(pid, sig)
	}
}

// waitGone polls until rec's group is empty; false when timeout or ctx ends first.
func waitGone(ctx context.Context, rec Record, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for {
		if len(groupMembers(rec)) == 0 {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		select {
		case <-ctx.Done():
			return false
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// groupMembers returns the PIDs of rec's process and of the live members of
// its process group.
func groupMembers(rec Record) []int {
	if rec.PID <= 1 || rec.StartTime == 0 {
		return nil
	}
	if rec.BootID != "" {
		if b := BootID(); b != "" && b != rec.BootID {
			return nil // another boot: nothing recorded can still run
		}
	}
	var out []int
	st, err := ReadStat(rec.PID)
	switch {
	case err == nil && st.StartTime == rec.StartTime:
		if !st.Zombie() {
			out = append(out, rec.PID)
		}
	case err == nil:
		// The PID belongs to another process now, so the recorded process
		// group is empty (its ID could not be reused otherwise).
		return nil
	}
	for _, m := range processGroup(rec.PID) {
		if m.PID != rec.PID && m.StartTime >= rec.StartTime && !m.Zombie() {
			out = append(out, m.PID)
		}
	}
	return out
}

// Tail returns the last n lines of a file (each cut at 300 bytes), indented,
// for error messages; "" when the file cannot be read.
func Tail(path string, n int) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	// Read at most the last 64 KiB.
	if fi, err := f.Stat(); err == nil && fi.Size() > 64<<10 {
		_, _ = f.Seek(fi.Size()-64<<10, 0)
	}
	var lines []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.TrimSpace(line) == "" {
			continue
		}
		if len(line) > 300 {
			line = line[:300] + "..."
		}
		lines = append(lines, line)
		if len(lines) > n {
			lines = lines[1:]
		}
	}
	if len(lines) == 0 {
		return ""
	}
	return "\n    " + strings.Join(lines, "\n    ")
}

// ShellJoin quotes argv for a log line.
func ShellJoin(argv []string) string {
	q := make([]string, len(argv))
	for i, a := range argv {
		if a != "" && !strings.ContainsAny(a, " \t\n'\"\\$`*?[]{}()<>|&;#~!") {
			q[i] = a
			continue
		}
		q[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
	}
	return strings.Join(q, " ")
}

// WaitRunning runs wait, a readiness check that returns nil once process
// name is ready (or an error, or when its ctx ends), and cancels it as soon
// as the process is no longer alive. Its errors name the process, its PID and
// its log, with the log's last lines: "<name> (pid N) exited before <what>"
// or "<name> (pid N) not <what>: <wait's error>".
func (p Processes) WaitRunning(ctx context.Context, name, what string, wait func(ctx context.Context) error) error {
	rec, _ := p.Record(name) // no record: never alive, so "exited"
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		for rec.Alive() {
			select {
			case <-wctx.Done():
				return
			case <-time.After(100 * time.Millisecond):
			}
		}
		cancel()
	}()
	err := wait(wctx)
	cancel()
	<-watched
	if err == nil {
		return nil
	}
	log := p.LogPath(name)
	if !rec.Alive() {
		return fmt.Errorf("%s (pid %d) exited before %s; log %s:%s", name, rec.PID, what, log, Tail(log, 10))
	}
	return fmt.Errorf("%s (pid %d) not %s: %w; log %s:%s", name, rec.PID, what, err, log, Tail(log, 10))
}
