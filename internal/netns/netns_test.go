package netns

import (
	"net"
	"strings"
	"testing"
)

func TestIsolatedIfs(t *testing.T) {
	ifs := func(spec ...string) (out []netIf) {
		for _, s := range spec {
			name, up, _ := strings.Cut(s, ":")
			out = append(out, netIf{name, up == "up"})
		}
		return out
	}
	for _, tc := range []struct {
		ifs  []netIf
		want bool
	}{
		{ifs("lo:up"), true},
		{ifs("lo:down"), false},
		{ifs("lo:up", "eth0:up"), false},
		{ifs("lo:up", "eth0:down"), true},
	} {
		if got, why := isolatedIfs(toInterfaces(tc.ifs)); got != tc.want {
			t.Errorf("%v: Isolated = %v (%s), want %v", tc.ifs, got, why, tc.want)
		}
	}
}

type netIf struct {
	name string
	up   bool
}

func toInterfaces(l []netIf) []net.Interface {
	out := make([]net.Interface, len(l))
	for i, n := range l {
		out[i] = net.Interface{Index: i + 1, Name: n.name}
		if n.up {
			out[i].Flags |= net.FlagUp
		}
		if n.name == "lo" {
			out[i].Flags |= net.FlagLoopback
		}
	}
	return out
}
