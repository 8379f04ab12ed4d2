// Package netns runs this program in a loopback-only network namespace:
// it tells whether the process is isolated (only lo up), re-executes it in a
// new namespace (unshare -n, or unshare -rn with a user namespace), or in
// the namespace of a running process (nsenter), and brings lo up inside.
// The local fleet (pkg/localfleet, hubctl up) and the tests' control planes
// (internal/testenv) share it.
package netns

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// EnvNetns is set by ReexecIsolated in the process it re-executes: "root"
// (made with unshare -n) or "user" (unshare -rn: a user namespace too).
const EnvNetns = "HUBCTL_NETNS"

// IsolationHelp says why the fleet needs a loopback-only network namespace
// and how to get one by hand.
const IsolationHelp = "kube-apiservers call webhooks at Service IPs (10.x) that must never leave the machine, " +
	"so the local fleet runs in a network namespace with nothing but loopback: " +
	"run it as root or with unprivileged user namespaces enabled, " +
	"or inside one made by hand: unshare -n sh -c 'ip link set lo up && <command>' (build and download everything first)"

// Isolated reports whether this process runs in a network namespace whose
// only interface up is lo (and lo is up), with the reason.
func Isolated() (bool, string) {
	ifs, err := net.Interfaces()
	if err != nil {
		return false, "cannot list the network interfaces: " + err.Error()
	}
	return isolatedIfs(ifs)
}

func isolatedIfs(ifs []net.Interface) (bool, string) {
	loUp := false
	var up []string
	for _, i := range ifs {
		if i.Flags&net.FlagUp == 0 {
			continue
		}
		if i.Name == "lo" {
			loUp = true
			continue
		}
		up = append(up, i.Name)
	}
	switch {
	case len(up) > 0:
		return false, "network interfaces other than lo are up: " + strings.Join(up, ", ")
	case !loUp:
		return false, "the loopback interface lo is down (ip link set lo up)"
	default:
		return true, "only the loopback interface lo is up"
	}
}

// ReexecIsolated makes this program run in a new loopback-only network
// namespace. args are the program's arguments (os.Args[1:]).
//
// In a process that ReexecIsolated did not start, it finds a way to make a
// network namespace: unshare -n (root), else unshare -rn (a user namespace,
// which unprivileged users may make where the kernel allows it), tried with
// `unshare ... true` first; then it replaces this process with
// `unshare <flags> -- <this executable> <args>` and does not return. When
// neither works it returns an error saying why and what to do.
//
// In the re-executed process (EnvNetns is set) it brings lo up, checks
// Isolated, and returns nil: the caller continues, now isolated. So `hubctl
// up` calls it when Isolated() is false, and carries on when it returns nil.
func ReexecIsolated(args []string) error {
	if mode := os.Getenv(EnvNetns); mode != "" {
		if err := LoopbackUp(); err != nil {
			return fmt.Errorf("in the new network namespace (%s=%s): bringing lo up: %w", EnvNetns, mode, err)
		}
		if ok, why := Isolated(); !ok {
			return fmt.Errorf("re-executed in a new network namespace (%s=%s), but it is not isolated: %s", EnvNetns, mode, why)
		}
		return nil
	}
	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("network namespace: cannot find this executable: %w", err)
	}
	unshare, err := exec.LookPath("unshare")
	if err != nil {
		return fmt.Errorf("network namespace: unshare (util-linux) not found on PATH; %s", IsolationHelp)
	}
	mode, flags, err := probeUnshare(unshare)
	if err != nil {
		return err
	}
	argv := append(append(append([]string{"unshare"}, flags...), "--", self), args...)
	env := append(os.Environ(), EnvNetns+"="+mode)
	err = syscall.Exec(unshare, argv, env)
	return fmt.Errorf("network namespace: exec %s: %w", unshare, err)
}

// Enter re-executes this program, with args (os.Args[1:]), inside the
// network namespace of process pid (and its user namespace too when userNS:
// a namespace made with unshare -rn), with nsenter, and does not return.
// The re-executed process has EnvNetns set.
func Enter(pid int, userNS bool, args []string) error {
	nsenter, err := exec.LookPath("nsenter")
	if err != nil {
		return errors.New("nsenter (util-linux) is not on PATH")
	}
	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("network namespace: cannot find this executable: %w", err)
	}
	p := strconv.Itoa(pid)
	argv, mode := []string{"nsenter", "--net=/proc/" + p + "/ns/net"}, "root"
	if userNS {
		argv, mode = []string{"nsenter", "--preserve-credentials", "--user=/proc/" + p + "/ns/user", "--net=/proc/" + p + "/ns/net"}, "user"
	}
	argv = append(append(argv, "--", self), args...)
	err = syscall.Exec(nsenter, argv, append(os.Environ(), EnvNetns+"="+mode))
	return fmt.Errorf("exec %s: %w", nsenter, err)
}

// probeUnshare finds the unshare flags that work here: -n as root, else -rn.
func probeUnshare(unshare string) (mode string, flags []string, err error) {
	type try struct {
		mode  string
		flags []string
	}
	tries := []try{{"user", []string{"-r", "-n"}}}
	if os.Geteuid() == 0 {
		tries = append([]try{{"root", []string{"-n"}}}, tries...)
	}
	var errs []string
	for _, t := range tries {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		cmd := exec.CommandContext(ctx, unshare, append(t.flags, "--", "true")...)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		err := cmd.Run()
		cancel()
		if err == nil {
			return t.mode, t.flags, nil
		}
		errs = append(errs, fmt.Sprintf("unshare %s: %v: %s", strings.Join(t.flags, " "), err, strings.TrimSpace(out.String())))
	}
	hint := "as root: a container needs CAP_SYS_ADMIN (--privileged); unprivileged: user namespaces must be enabled " +
		"(sysctl user.max_user_namespaces > 0; Debian before 11: kernel.unprivileged_userns_clone=1; " +
		"Ubuntu 24.04 and later: kernel.apparmor_restrict_unprivileged_userns=0)"
	return "", nil, errors.New("cannot make a network namespace (" + strings.Join(errs, "; ") + "); " + hint + ". " + IsolationHelp)
}
