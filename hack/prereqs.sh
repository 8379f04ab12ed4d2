#!/usr/bin/env bash
# Checks, before any long step (make tools takes 15-30 minutes the first time), that this machine
# has what the local fleet and the cluster tests need, and says how to install what is missing.
#
#   hack/prereqs.sh           the commands make up / make test / make e2e need
#   hack/prereqs.sh --charts  and the Helm repository folder of $HUBCTL_CHARTS_DIR they read
#
# Go, make and git come first; unshare and ip (util-linux, iproute2) make the loopback-only
# network namespace. Redis is not needed: make tools builds a Redis-compatible server (miniredis).
set -uo pipefail

missing=()
hints=()
need() { # need COMMAND DEBIAN-PACKAGE
	command -v "$1" >/dev/null 2>&1 && return 0
	missing+=("$1")
	hints+=("$2")
}
need go golang      # Go 1.26 or newer: https://go.dev/doc/install (Debian's package may be older)
need make make
need git git
need unshare util-linux
need ip iproute2
need nsenter util-linux

if [ ${#missing[@]} -gt 0 ]; then
	echo "missing: ${missing[*]}" >&2
	echo "install them first, e.g. on Debian/Ubuntu: apt-get install -y $(printf '%s\n' "${hints[@]}" | sort -u | tr '\n' ' ')" >&2
	echo "(Go: 1.26 or newer, see go.mod; Debian's golang package may be older)" >&2
	exit 1
fi

if [ "${1:-}" = --charts ]; then
	if [ -z "${HUBCTL_CHARTS_DIR:-}" ]; then
		echo "HUBCTL_CHARTS_DIR is not set: the local fleet and the chart tests need the upstream charts as a Helm" >&2
		echo "repository folder. Make one where the chart repositories are reachable, then export it:" >&2
		echo "  go run ./cmd/hubctl charts pull ~/gitops-hub-charts && export HUBCTL_CHARTS_DIR=~/gitops-hub-charts" >&2
		exit 1
	fi
	if [ ! -f "$HUBCTL_CHARTS_DIR/index.yaml" ]; then
		echo "HUBCTL_CHARTS_DIR=$HUBCTL_CHARTS_DIR has no index.yaml: not a Helm repository folder (hubctl charts pull DIR makes one)" >&2
		exit 1
	fi
fi

# The network namespace: as root unshare -n, otherwise unprivileged user namespaces.
if [ "$(id -u)" != 0 ] && ! unshare -rn true 2>/dev/null; then
	echo "cannot create a network namespace: run as root, or enable unprivileged user namespaces" >&2
	echo "(e.g. sysctl -w kernel.unprivileged_userns_clone=1, or kernel.apparmor_restrict_unprivileged_userns=0)" >&2
	exit 1
fi
exit 0
