package testenv

import (
	"net"
	"strings"
	"testing"
)

func TestCheckInterfaces(t *testing.T) {
	lo := net.Interface{Name: "lo", Flags: net.FlagUp | net.FlagLoopback}
	for _, tc := range []struct {
		name string
		ifs  []net.Interface
		want string // "" = isolated
	}{
		{"only lo", []net.Interface{lo}, ""},
		{"lo and a down interface", []net.Interface{lo, {Name: "eth0"}}, ""},
		{"eth0 up", []net.Interface{lo, {Name: "eth0", Flags: net.FlagUp}}, "eth0 is up"},
		{"lo down", []net.Interface{{Name: "lo", Flags: net.FlagLoopback}}, "ip link set lo up"},
	} {
		err := checkInterfaces(tc.ifs)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s: error %v, want it to mention %q", tc.name, err, tc.want)
		}
	}
}

func TestFreePorts(t *testing.T) {
	ports, err := freePorts(5)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[int]bool{}
	for _, p := range ports {
		if p < minPort || p > maxPort || seen[p] {
			t.Errorf("port %d: out of [%d, %d] or repeated", p, minPort, maxPort)
		}
		seen[p] = true
	}
}
