//go:build !linux

package localfleet

import "errors"

type procStat struct {
	pid       int
	state     byte
	pgrp      int
	startTime uint64
}

func (s procStat) zombie() bool { return false }

var errNoProc = errors.New("the local fleet needs Linux (/proc)")

func readStat(int) (procStat, error) { return procStat{}, errNoProc }

func bootID() string { return "" }

func processGroup(int) []procStat { return nil }

func cmdline(int) (string, error) { return "", errNoProc }

func netnsID() (string, error) { return "", errNoProc }

func userNSDiffers() bool { return false }
