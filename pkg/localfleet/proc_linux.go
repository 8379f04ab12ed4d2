package localfleet

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// procStat is what this package reads from /proc/<pid>/stat.
type procStat struct {
	pid       int
	state     byte
	pgrp      int
	startTime uint64
}

func (s procStat) zombie() bool { return s.state == 'Z' || s.state == 'X' || s.state == 'x' }

// readStat parses /proc/<pid>/stat. The command name (field 2) may hold
// spaces and parentheses, so fields are counted after its last ')'.
func readStat(pid int) (procStat, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return procStat{}, err
	}
	return parseStat(pid, b)
}

func parseStat(pid int, b []byte) (procStat, error) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return procStat{}, fmt.Errorf("/proc/%d/stat: no command name", pid)
	}
	// Fields from 3 (state) on: state ppid pgrp session tty tpgid flags
	// minflt cminflt majflt cmajflt utime stime cutime cstime priority nice
	// num_threads itrealvalue starttime(22) ...
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 20 || len(f[0]) != 1 {
		return procStat{}, fmt.Errorf("/proc/%d/stat: %d fields after the command name", pid, len(f))
	}
	pgrp, err := strconv.Atoi(f[2])
	if err != nil {
		return procStat{}, fmt.Errorf("/proc/%d/stat: pgrp %q", pid, f[2])
	}
	start, err := strconv.ParseUint(f[19], 10, 64)
	if err != nil {
		return procStat{}, fmt.Errorf("/proc/%d/stat: starttime %q", pid, f[19])
	}
	return procStat{pid: pid, state: f[0][0], pgrp: pgrp, startTime: start}, nil
}

// bootID identifies this boot (start times restart at 0 on each boot); ""
// when unreadable.
func bootID() string {
	b, err := os.ReadFile("/proc/sys/kernel/random/boot_id")
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

// processGroup returns the processes whose process group is pgid.
func processGroup(pgid int) []procStat {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var out []procStat
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		st, err := readStat(pid)
		if err == nil && st.pgrp == pgid {
			out = append(out, st)
		}
	}
	return out
}

// cmdline returns /proc/<pid>/cmdline as one string, arguments separated by spaces.
func cmdline(pid int) (string, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(bytes.ReplaceAll(b, []byte{0}, []byte{' '}))), nil
}

// netnsID is this process's network namespace ("net:[4026531840]").
func netnsID() (string, error) { return os.Readlink("/proc/self/ns/net") }

// userNSDiffers reports whether this process runs in another user namespace
// than PID 1; false when that cannot be read.
func userNSDiffers() bool {
	self, err1 := os.Readlink("/proc/self/ns/user")
	init, err2 := os.Readlink("/proc/1/ns/user")
	return err1 == nil && err2 == nil && self != init
}
