package testenv

import (
	"testing"
)

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
