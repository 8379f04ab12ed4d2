// Command miniredis serves a Redis-compatible in-memory store (github.com/alicebob/miniredis)
// on one TCP address, for the local fleet's Argo CD cache: GET/SET with expiry, DEL, PUBLISH and
// SUBSCRIBE, HELLO, PING. No persistence. Keys expire on the wall clock (ClockTTL). It stops on
// SIGINT or SIGTERM.
//
//	miniredis -addr 127.0.0.1:16379
package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/alicebob/miniredis/v2"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:6379", "address to listen on (host:port)")
	flag.Parse()
	if flag.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "miniredis: unexpected arguments %q\n", flag.Args())
		os.Exit(2)
	}
	m := miniredis.NewMiniRedis()
	m.ClockTTL(true)
	if err := m.StartAddr(*addr); err != nil {
		fmt.Fprintf(os.Stderr, "miniredis: listen on %s: %v\n", *addr, err)
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, "miniredis: serving on %s\n", m.Addr())
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	s := <-sig
	fmt.Fprintf(os.Stderr, "miniredis: %s, stopping\n", s)
	m.Close()
}
