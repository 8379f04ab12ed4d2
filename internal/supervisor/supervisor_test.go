package supervisor

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestProcessesStartStop(t *testing.T) {
	ctx := context.Background()
	p := Processes{Dir: t.TempDir()}
	rec, err := p.Start("sleeper", Command{Path: "sleep", Args: []string{"300"}})
	if err != nil {
		t.Fatal(err)
	}
	// The PID file holds PID, start time and boot id, and they are the process's.
	b, err := os.ReadFile(p.PIDPath("sleeper"))
	if err != nil {
		t.Fatal(err)
	}
	fields := strings.Fields(string(b))
	st, err := ReadStat(rec.PID)
	if err != nil {
		t.Fatal(err)
	}
	if len(fields) != 3 || fields[0] != strconv.Itoa(rec.PID) || fields[1] != strconv.FormatUint(st.StartTime, 10) || fields[2] != BootID() {
		t.Fatalf("pid file %q, want %d %d %s", b, rec.PID, st.StartTime, BootID())
	}
	if st.Pgrp != rec.PID {
		t.Errorf("process group %d, want its own (%d)", st.Pgrp, rec.PID)
	}
	if !p.Alive("sleeper") {
		t.Fatal("Alive = false for a running process")
	}
	if got, err := p.Record("sleeper"); err != nil || got.PID != rec.PID || got.StartTime != rec.StartTime {
		t.Fatalf("Record = %+v, %v; want %+v", got, err, rec)
	}
	if _, err := p.Start("sleeper", Command{Path: "sleep", Args: []string{"300"}}); err == nil || !strings.Contains(err.Error(), "already running") {
		t.Fatalf("second Start: %v, want already running", err)
	}
	if lf, _ := os.ReadFile(p.LogPath("sleeper")); !strings.Contains(string(lf), "hubctl: starting") {
		t.Errorf("log %q lacks the start line", lf)
	}

	if err := p.Stop(ctx, "sleeper"); err != nil {
		t.Fatal(err)
	}
	if p.Alive("sleeper") || !processGone(rec.PID, rec.StartTime) {
		t.Fatal("process still alive after Stop")
	}
	if _, err := os.Stat(p.PIDPath("sleeper")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("pid file left: %v", err)
	}
	if err := p.Stop(ctx, "sleeper"); err != nil {
		t.Fatalf("second Stop: %v", err)
	}
	if err := p.Stop(ctx, "never-started"); err != nil {
		t.Fatalf("Stop of an unknown name: %v", err)
	}
}

func TestProcessesStopGroupAndKill(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	p := Processes{Dir: dir, StopTimeout: time.Second}

	// A shell and its child in the process group: SIGTERM reaches both.
	childFile := filepath.Join(dir, "child.PID")
	rec, err := p.Start("group", Command{Path: "sh", Args: []string{"-c", "sleep 301 & echo $! > " + childFile + "; wait"}})
	if err != nil {
		t.Fatal(err)
	}
	child := waitChild(t, childFile)
	start := time.Now()
	if err := p.Stop(ctx, "group"); err != nil {
		t.Fatal(err)
	}
	if !processGone(rec.PID, rec.StartTime) || !processGone(child.PID, child.StartTime) {
		t.Fatal("group member still running after Stop")
	}
	if d := time.Since(start); d > 900*time.Millisecond {
		t.Errorf("SIGTERM stop took %s, want well under the 1s grace", d)
	}

	// TERM ignored (and inherited by the child): SIGKILL after the grace.
	childFile = filepath.Join(dir, "child2.pid")
	rec, err = p.Start("stubborn", Command{Path: "sh", Args: []string{"-c", "trap '' TERM; sleep 302 & echo $! > " + childFile + "; wait; wait"}})
	if err != nil {
		t.Fatal(err)
	}
	child = waitChild(t, childFile)
	start = time.Now()
	if err := p.Stop(ctx, "stubborn"); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < time.Second {
		t.Errorf("stop of a TERM-ignoring group took %s, want the 1s grace before SIGKILL", d)
	}
	if !processGone(rec.PID, rec.StartTime) || !processGone(child.PID, child.StartTime) {
		t.Fatal("TERM-ignoring group still running after Stop")
	}

	// A process that exits at once is not alive, and stopping it is fine.
	if _, err := p.Start("quick", Command{Path: "true"}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for p.Alive("quick") && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if p.Alive("quick") {
		t.Fatal("exited process reported alive")
	}
	if err := p.Stop(ctx, "quick"); err != nil {
		t.Fatal(err)
	}
}

func waitChild(t *testing.T, file string) Stat {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if b, err := os.ReadFile(file); err == nil && strings.HasSuffix(string(b), "\n") {
			pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
			if err != nil {
				t.Fatal(err)
			}
			st, err := ReadStat(pid)
			if err != nil {
				t.Fatal(err)
			}
			return st
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%s not written", file)
	return Stat{}
}

// A PID file whose PID now belongs to another process (other start time, or
// another boot) must never lead to a signal.
func TestProcessesStaleRecordNotKilled(t *testing.T) {
	ctx := context.Background()
	// An unrelated process, leader of its own group like ours would be.
	other := exec.Command("sleep", "303")
	other.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := other.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = other.Process.Kill(); _ = other.Wait() })
	pid := other.Process.Pid
	st, err := ReadStat(pid)
	if err != nil {
		t.Fatal(err)
	}
	p := Processes{Dir: t.TempDir(), StopTimeout: 500 * time.Millisecond}
	if err := os.MkdirAll(filepath.Join(p.Dir, "pids"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, line string }{
		{"older-start", fmt.Sprintf("%d %d %s\n", pid, st.StartTime-1, BootID())},
		{"newer-start", fmt.Sprintf("%d %d %s\n", pid, st.StartTime+1, BootID())},
		{"other-boot", fmt.Sprintf("%d %d 00000000-0000-0000-0000-000000000000\n", pid, st.StartTime)},
		{"pid-only", fmt.Sprintf("%d\n", pid)},
	} {
		if err := os.WriteFile(p.PIDPath(tc.name), []byte(tc.line), 0o644); err != nil {
			t.Fatal(err)
		}
		if p.Alive(tc.name) {
			t.Errorf("%s: Alive = true for a reused PID", tc.name)
		}
		err := p.Stop(ctx, tc.name)
		if tc.name == "pid-only" {
			if err == nil {
				t.Errorf("%s: Stop of an unreadable pid file: no error", tc.name)
			}
		} else if err != nil {
			t.Errorf("%s: Stop: %v", tc.name, err)
		}
		if processGone(pid, st.StartTime) {
			t.Fatalf("%s: Stop killed an unrelated process", tc.name)
		}
		if _, err := os.Stat(p.PIDPath(tc.name)); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s: stale pid file kept", tc.name)
		}
	}
	// The right record does stop it.
	if err := os.WriteFile(p.PIDPath("right"), []byte(fmt.Sprintf("%d %d %s\n", pid, st.StartTime, BootID())), 0o644); err != nil {
		t.Fatal(err)
	}
	if !p.Alive("right") {
		t.Fatal("Alive = false for the right record")
	}
	if err := p.Stop(ctx, "right"); err != nil {
		t.Fatal(err)
	}
	_ = other.Wait()
	if !processGone(pid, st.StartTime) {
		t.Fatal("not stopped by the right record")
	}
}

func TestParseStat(t *testing.T) {
	// A command name with spaces and parentheses.
	line := "4242 (my (odd) name) S 1 4242 4242 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 987654 1000 10 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0"
	st, err := parseStat(4242, []byte(line))
	if err != nil {
		t.Fatal(err)
	}
	if st.State != 'S' || st.Pgrp != 4242 || st.StartTime != 987654 {
		t.Fatalf("parseStat = %+v", st)
	}
}

// processGone reports whether pid no longer runs as the process started at start.
func processGone(pid int, start uint64) bool {
	st, err := ReadStat(pid)
	return err != nil || st.StartTime != start || st.Zombie()
}

// TestMain lets the test binary stand in for a program that starts a
// process and exits: `<test binary> start-child DIR DIEWITHPARENT`.
func TestMain(m *testing.M) {
	if len(os.Args) == 4 && os.Args[1] == "start-child" {
		rec, err := (Processes{Dir: os.Args[2]}).Start("child", Command{Path: "sleep", Args: []string{"300"}, DieWithParent: os.Args[3] == "1"})
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		fmt.Println(rec.PID)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// A detached process outlives the program that started it, unless
// DieWithParent (what internal/testenv uses, so that no server outlives a
// test binary that dies).
func TestDieWithParent(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	for _, die := range []bool{false, true} {
		dir := t.TempDir()
		flag := "0"
		if die {
			flag = "1"
		}
		out, err := exec.Command(exe, "start-child", dir, flag).Output()
		if err != nil {
			t.Fatalf("DieWithParent=%v: %v", die, err)
		}
		p := Processes{Dir: dir, StopTimeout: time.Second}
		t.Cleanup(func() { _ = p.Stop(context.Background(), "child") })
		rec, err := p.Record("child")
		if err != nil || strconv.Itoa(rec.PID) != strings.TrimSpace(string(out)) {
			t.Fatalf("DieWithParent=%v: record %+v, %v; the program said %q", die, rec, err, out)
		}
		deadline := time.Now().Add(5 * time.Second)
		for rec.Alive() && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		if rec.Alive() == die {
			t.Errorf("DieWithParent=%v: child alive=%v after its parent exited", die, rec.Alive())
		}
	}
}

func TestWaitRunning(t *testing.T) {
	ctx := context.Background()
	p := Processes{Dir: t.TempDir(), StopTimeout: time.Second}
	// A process that dies: the wait (which would block until its ctx ends)
	// is cancelled and the error names the process and its log's last lines.
	if _, err := p.Start("dies", Command{Path: "sh", Args: []string{"-c", "echo boom-line; sleep 0.3; exit 3"}}); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	err := p.WaitRunning(ctx, "dies", "ready", func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() })
	if err == nil || !strings.Contains(err.Error(), "dies (pid ") || !strings.Contains(err.Error(), "exited before ready") || !strings.Contains(err.Error(), "boom-line") {
		t.Fatalf("WaitRunning on a dying process: %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %s to notice the exit", d)
	}
	// A running process: ready, or not ready with the check's error.
	if _, err := p.Start("runs", Command{Path: "sleep", Args: []string{"300"}}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Stop(ctx, "runs") })
	if err := p.WaitRunning(ctx, "runs", "ready", func(context.Context) error { return nil }); err != nil {
		t.Fatalf("ready: %v", err)
	}
	errCheck := errors.New("check says no")
	if err := p.WaitRunning(ctx, "runs", "ready", func(context.Context) error { return errCheck }); !errors.Is(err, errCheck) || !strings.Contains(err.Error(), "runs (pid ") || !strings.Contains(err.Error(), "not ready") {
		t.Fatalf("not ready: %v", err)
	}
}
