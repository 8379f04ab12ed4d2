package localfleet

import (
	"fmt"
	"os"

	"github.com/gitops-hub/gitops-hub/internal/netns"
	"github.com/gitops-hub/gitops-hub/internal/supervisor"
)

// ReexecIsolatedFor is netns.ReexecIsolated for a command about the fleet in
// stateDir: when that fleet runs in a network namespace of its own (its
// holder process alive), the program is re-executed inside that namespace
// (EnterNetns) instead of a new, empty one. `hubctl up` on a running fleet
// and `hubctl status` need this: the fleet's ports exist only there.
func ReexecIsolatedFor(stateDir string, args []string) error {
	if err := EnterNetns(stateDir, args); err != nil {
		return err
	}
	return netns.ReexecIsolated(args)
}

// EnterNetns re-executes this program inside the network namespace of the
// fleet in stateDir, with nsenter (and its user namespace when it was made
// with unshare -rn), and does not return. It returns nil, doing nothing,
// when there is no such fleet, the fleet is not isolated, its holder is
// gone, or this process runs in that namespace already (or was re-executed
// once: netns.EnvNetns is set). args are the program's arguments (os.Args[1:]).
func EnterNetns(stateDir string, args []string) error {
	if os.Getenv(netns.EnvNetns) != "" || stateDir == "" {
		return nil
	}
	s, err := LoadState(stateDir)
	if err != nil || s.Netns == nil {
		return nil
	}
	if id, err := netns.ID(); err == nil && id == s.Netns.ID {
		return nil
	}
	holder, err := (supervisor.Processes{Dir: stateDir}).Record(ProcNetnsHolder)
	if err != nil || !holder.Alive() {
		return nil
	}
	if err := netns.Enter(holder.PID, s.Netns.UserNS, args); err != nil {
		return fmt.Errorf("the fleet in %s runs in network namespace %s: %w", stateDir, s.Netns.ID, err)
	}
	return nil
}

// checkNetwork refuses to start anything outside the fleet's network
// namespace, or outside an isolated one unless AllowHostNetwork.
func (f *Fleet) checkNetwork() error {
	if s, err := LoadState(f.StateDir); err == nil {
		want, enter := s.NetnsID, "nsenter"
		if s.Netns != nil {
			want, enter = s.Netns.ID, s.Netns.Enter+" <command>"
		}
		if id, err := netns.ID(); err == nil && want != "" && id != want {
			return fmt.Errorf("the fleet in %s runs in network namespace %s and this process in %s: run inside the fleet's (%s)", f.StateDir, want, id, enter)
		}
	}
	if f.AllowHostNetwork {
		return nil
	}
	if ok, why := netns.Isolated(); !ok {
		return fmt.Errorf("not in an isolated network namespace (%s); %s", why, netns.IsolationHelp)
	}
	return nil
}
