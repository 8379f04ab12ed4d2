//go:build !linux

package supervisor

import "errors"

// Stat is what this package reads from /proc/<pid>/stat.
type Stat struct {
	PID       int
	State     byte
	Pgrp      int
	StartTime uint64
}

func (s Stat) Zombie() bool { return false }

var errNoProc = errors.New("the local fleet needs Linux (/proc)")

func ReadStat(int) (Stat, error) { return Stat{}, errNoProc }

func BootID() string { return "" }

func processGroup(int) []Stat { return nil }

func Cmdline(int) (string, error) { return "", errNoProc }
