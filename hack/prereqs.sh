#!/usr/bin/env bash
# Checks, before any long step (make tools takes 15-30 minutes the first time), that this machine
# has what the local fleet and the cluster tests need, and says how to install what is missing.
#
#   hack/prereqs.sh         the commands make up / make test / make e2e need
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

# The network namespace: as root unshare -n, otherwise unprivileged user namespaces.
if [ "$(id -u)" != 0 ] && ! unshare -rn true 2>/dev/null; then
	echo "cannot create a network namespace: run as root, or enable unprivileged user namespaces" >&2
	echo "(e.g. sysctl -w kernel.unprivileged_userns_clone=1, or kernel.apparmor_restrict_unprivileged_userns=0)" >&2
	exit 1
fi
exit 0
