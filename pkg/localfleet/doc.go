// Package localfleet runs a local fleet on one machine: a hub and hosting
// clusters with real kube-apiservers, and next to the hub the services its
// Argo CD needs, all as local processes on fixed loopback ports:
//
//   - clusters: kwokctl's binary runtime (etcd, kube-apiserver,
//     kube-controller-manager, kube-scheduler and kwok's simulated nodes), one
//     kwokctl cluster per name, with fixed ports (Ports);
//   - redis (Debian's redis-server), a git daemon serving a bare mirror of this
//     repository (Publish), a static Helm chart server (ServeCharts, run as
//     `hubctl internal serve-charts`);
//   - the Argo CD controllers (repo-server, application-controller,
//     applicationset-controller; argocd-server optionally), one multi-call
//     binary whose role ARGOCD_BINARY_NAME picks.
//
// A create is an ordered list of Actions (Fleet.UpActions, or the pieces:
// Fleet.Prepare, Fleet.ClusterActions, Fleet.ServiceActions,
// Fleet.ArgoCDAction), run by Fleet.Run, which prints one progress line per
// action to Fleet.Out. On a running fleet the same actions converge: what
// runs is only waited for, what is stopped or missing is started. Down
// undoes everything, idempotently.
//
// # State
//
// Everything lives under Fleet.StateDir (default DefaultStateDir()):
//
//	<state>/.gitops-hub-fleet          marker: Down removes only a directory holding it
//	<state>/fleet.json                 what was started and on which ports (State)
//	<state>/<cluster>/kubeconfig       admin kubeconfig of every cluster, hub included (certificates embedded)
//	<state>/<cluster>/kwokctl.yaml     the kwokctl configuration the cluster was created with
//	<state>/logs/<process>.log         stdout and stderr of each process started here
//	<state>/logs/kwokctl-<cluster>.log what kwokctl printed for that cluster
//	<state>/pids/<process>.pid         "PID STARTTIME BOOTID" of each process started here
//	<state>/kwok/                      KWOK_WORKDIR: kwokctl's clusters, their own pids/ and logs/
//	<state>/git/gitops-hub.git         the bare repository the git daemon serves
//	<state>/redis/, <state>/argocd/    working directories
//
// The processes are run by internal/supervisor (shared with the tests'
// internal/testenv); they are stopped by recorded PID only, never by name: a PID file holds
// the PID, the process's start time (/proc/<pid>/stat field 22) and the boot
// id, so a PID recycled by an unrelated process is never signalled. kwokctl
// manages the cluster components itself (kwokctl stop/start/delete cluster);
// before each kwokctl call the PID files in KWOK_WORKDIR/clusters/<name>/pids
// whose process is not that cluster's component (a recycled PID, e.g. after a
// reboot) are removed, because kwokctl would SIGKILL whatever runs under them.
//
// kwokctl is always given --kubeconfig <state>/<cluster>/kubeconfig: its
// default is to edit ~/.kube/config. KWOK_* variables of the caller's
// environment are not passed to kwokctl (they override its configuration).
//
// # Network isolation
//
// A kube-apiserver calls admission webhooks and aggregated APIs at Service
// IPs (10.x): under kwok nothing answers there, and on an ordinary host that
// traffic would leave the machine. So everything that starts clusters or
// services refuses to run unless the process is in a network namespace whose
// only interface up is lo (netns.Isolated, internal/netns, shared with
// internal/testenv), unless Fleet.AllowHostNetwork is set. `hubctl up` gets
// there with netns.ReexecIsolated (unshare -n as root, else unshare -rn).
//
// Processes in a network namespace are reachable only from inside it: after
// `hubctl up` returns, the fleet keeps running in that namespace, kept alive
// by a holder process (process "netns", recorded in fleet.json as
// State.Netns). Enter it with State.Netns.Enter, e.g.
//
//	nsenter --net=/proc/<holder pid>/ns/net -- kubectl --kubeconfig <state>/hub/kubeconfig get nodes
//
// (with a user namespace, unshare -rn: nsenter --preserve-credentials
// --user=/proc/<pid>/ns/user --net=/proc/<pid>/ns/net -- ...). A command
// about a running fleet (up again, status) re-executes itself there with
// EnterNetns, or ReexecIsolatedFor (enter the fleet's namespace if there is
// one, else make a new one). Down works from outside the namespace: it only
// signals recorded PIDs and runs kwokctl delete, which needs no network.
// StartCluster and the other starters refuse to run outside the namespace
// the fleet was made in (State.NetnsID).
package localfleet
