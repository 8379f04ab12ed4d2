#!/usr/bin/env bash
# Build, from pinned Go modules, every binary the local fleet needs, and cache them outside the repo.
#
#   hack/tools/build.sh [tool...]   build all tools (redis etcd kubernetes kwok helm argocd external-secrets) or the named ones
#   hack/tools/build.sh --print-dir        print the directory of symlinks to the pinned binaries
#   hack/tools/build.sh --print-crds-dir   print the directory holding Argo CD's CRDs
#   hack/tools/build.sh --list             print "tool version" for every tool
#
# Each tool is a Go module in hack/tools/<tool>/ (go.mod and go.sum are committed). Binaries go to
#   ${GITOPS_HUB_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/gitops-hub}/bin/<tool>-<version>/<binary>
# and bin/current/<binary> links to them. A binary whose stamp (module version, go version, build
# flags, go.mod/go.sum hash) matches is not rebuilt. See hack/tools/README.md.
set -euo pipefail

TOOLS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CACHE_DIR=${GITOPS_HUB_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/gitops-hub}
BIN_ROOT=$CACHE_DIR/bin
CURRENT_DIR=$BIN_ROOT/current

ALL_TOOLS=(redis etcd kubernetes kwok helm argocd external-secrets) # redis first: seconds, not minutes

# Pinned versions. Each must match the require line in hack/tools/<tool>/go.mod (checked below).
REDIS_VERSION=v2.40.0 # github.com/alicebob/miniredis/v2, served by hack/tools/redis/main.go
ETCD_VERSION=v3.6.5
KUBERNETES_VERSION=v1.35.4
KWOK_VERSION=v0.8.0
HELM_VERSION=v3.22.0
ARGOCD_VERSION=v3.6.1
ARGOCD_GOTOOLCHAIN=go1.27.4 # Argo CD v3.6 needs Go 1.27; the go command fetches this toolchain itself
EXTERNAL_SECRETS_VERSION=v0.16.2 # its chart 0.16.2 is what the local fleet renders (docs/central-config.md)

# Build environment: the same for every tool, and recorded in each stamp.
export CGO_ENABLED=0  # static binaries, as every upstream release build does
export GOFLAGS=-trimpath
export GOWORK=off
unset GOOS GOARCH     # the fleet runs these binaries on this host

log() { printf '%s\n' "$*" >&2; }
die() { log "build.sh: error: $*"; exit 1; }

usage() {
	sed -n '2,12p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
}

# Temporary files to remove if the script stops half way.
CLEANUP=()
cleanup() {
	local f
	for f in "${CLEANUP[@]+"${CLEANUP[@]}"}"; do rm -rf -- "$f"; done
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

sha256() {
	if command -v sha256sum >/dev/null 2>&1; then sha256sum | cut -d' ' -f1; else shasum -a 256 | cut -d' ' -f1; fi
}

# tool_spec TOOL: sets MODULE, VERSION, TOOLCHAIN and BINARIES ("name=package" entries) for TOOL.
tool_spec() {
	TOOLCHAIN=""
	case $1 in
	redis)
		# A Redis-compatible server for Argo CD's cache: miniredis in our own small main package.
		MODULE=github.com/alicebob/miniredis/v2 VERSION=$REDIS_VERSION
		BINARIES=(miniredis=github.com/gitops-hub/gitops-hub/hack/tools/redis) ;;
	etcd)
		MODULE=go.etcd.io/etcd/server/v3 VERSION=$ETCD_VERSION
		BINARIES=(etcd=go.etcd.io/etcd/server/v3 etcdctl=go.etcd.io/etcd/etcdctl/v3) ;;
	kubernetes)
		MODULE=k8s.io/kubernetes VERSION=$KUBERNETES_VERSION
		BINARIES=(kube-apiserver=k8s.io/kubernetes/cmd/kube-apiserver
			kube-controller-manager=k8s.io/kubernetes/cmd/kube-controller-manager
			kube-scheduler=k8s.io/kubernetes/cmd/kube-scheduler
			kubectl=k8s.io/kubernetes/cmd/kubectl) ;;
	kwok)
		MODULE=sigs.k8s.io/kwok VERSION=$KWOK_VERSION
		BINARIES=(kwok=sigs.k8s.io/kwok/cmd/kwok kwokctl=sigs.k8s.io/kwok/cmd/kwokctl) ;;
	helm)
		MODULE=helm.sh/helm/v3 VERSION=$HELM_VERSION
		BINARIES=(helm=helm.sh/helm/v3/cmd/helm) ;;
	argocd)
		MODULE=github.com/argoproj/argo-cd/v3 VERSION=$ARGOCD_VERSION TOOLCHAIN=$ARGOCD_GOTOOLCHAIN
		BINARIES=(argocd=github.com/argoproj/argo-cd/v3/cmd) ;;
	external-secrets)
		# The controller only (the chart's webhook and cert controller stay off). It has no
		# --kubeconfig flag: run it with KUBECONFIG, and --metrics-addr=127.0.0.1:PORT (or 0).
		MODULE=github.com/external-secrets/external-secrets VERSION=$EXTERNAL_SECRETS_VERSION
		BINARIES=(external-secrets=github.com/external-secrets/external-secrets) ;;
	*) return 1 ;;
	esac
}

# gocmd ARGS...: the go command in the tool's module, with the tool's toolchain.
gocmd() {
	if [ -n "$TOOLCHAIN" ]; then
		(cd "$MODDIR" && GOTOOLCHAIN=$TOOLCHAIN go "$@")
	else
		(cd "$MODDIR" && go "$@")
	fi
}

# modinfo MODULE...: "path version time" per module, the version after replace directives.
modinfo() {
	gocmd list -m -f '{{.Path}} {{with .Replace}}{{.Version}}{{else}}{{.Version}}{{end}} {{if .Time}}{{.Time.UTC.Format "2006-01-02T15:04:05Z"}}{{end}}' "$@"
}

# ldflags_for TOOL: the -ldflags of TOOL's binaries (version variables as the upstream Makefiles set them).
ldflags_for() {
	local ld="-s -w" p minor cgv
	case $1 in
	kubernetes)
		# Without these, --version prints v0.0.0-master and kwokctl misreads the version.
		minor=$(echo "$VERSION" | cut -d. -f2)
		for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
			ld+=" -X $p.gitVersion=$VERSION -X $p.gitMajor=1 -X $p.gitMinor=$minor -X $p.gitTreeState=clean -X $p.buildDate=$MODTIME"
		done ;;
	kwok)
		# kwokctl's default Kubernetes version: the one built here.
		ld+=" -X sigs.k8s.io/kwok/pkg/consts.KubeVersion=${KUBERNETES_VERSION#v}" ;;
	helm)
		# As helm's Makefile: without the k8sVersion variables helm's default kube version is v1.20,
		# which charts such as argo-cd, kube-prometheus-stack and ingress-nginx refuse.
		cgv=$(modinfo k8s.io/client-go | cut -d' ' -f2) || return 1 # v0.37.0 -> Kubernetes 1.37
		minor=$(echo "$cgv" | cut -d. -f2)
		ld+=" -X helm.sh/helm/v3/internal/version.version=$VERSION -X helm.sh/helm/v3/internal/version.metadata="
		ld+=" -X helm.sh/helm/v3/internal/version.gitTreeState=clean"
		for p in helm.sh/helm/v3/pkg/lint/rules helm.sh/helm/v3/pkg/chartutil; do
			ld+=" -X $p.k8sVersionMajor=1 -X $p.k8sVersionMinor=$minor"
		done ;;
	argocd)
		cgv=$(modinfo k8s.io/client-go | cut -d' ' -f2) || return 1
		p=github.com/argoproj/argo-cd/v3/common
		ld+=" -X $p.version=${VERSION#v} -X $p.buildDate=$MODTIME -X $p.gitTreeState=clean -X $p.kubectlVersion=$cgv" ;;
	esac
	printf '%s' "$ld"
}

# argocd_extras: the repo-server's PATH helpers next to the binary, and the CRDs.
ARGOCD_WRAPPERS=(git-verify-wrapper.sh gpg-wrapper.sh)
argocd_extras() {
	local outdir=$1 crds=$CACHE_DIR/argocd-$VERSION/crds stampf=$1/.extras.stamp want have=1 f src tmp
	want="module=$MODULE $VERSION"
	for f in "${ARGOCD_WRAPPERS[@]}"; do [ -x "$outdir/$f" ] || have=0; done
	ls "$crds"/*.yaml >/dev/null 2>&1 || have=0
	if [ "$have" = 1 ] && [ "$(cat "$stampf" 2>/dev/null)" = "$want" ]; then return 0; fi
	src=$(gocmd mod download -json "$MODULE@$VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p')
	if [ -z "$src" ] || [ ! -d "$src" ]; then
		log "cannot locate the $MODULE@$VERSION source (go mod download)"
		return 1
	fi
	for f in "${ARGOCD_WRAPPERS[@]}"; do
		tmp=$outdir/.$f.tmp.$$; CLEANUP+=("$tmp")
		cp "$src/hack/$f" "$tmp" && chmod 0755 "$tmp" && mv -f "$tmp" "$outdir/$f" || return 1
	done
	# Only the CRDs: kustomization.yaml is left out so the directory can be applied with kubectl apply -f.
	tmp=$CACHE_DIR/argocd-$VERSION/.crds.tmp.$$; CLEANUP+=("$tmp")
	mkdir -p "$tmp" || return 1
	for f in "$src"/manifests/crds/*.yaml; do
		[ "$(basename "$f")" = kustomization.yaml ] && continue
		cp "$f" "$tmp/" && chmod 0644 "$tmp/$(basename "$f")" || return 1
	done
	ls "$tmp"/*.yaml >/dev/null 2>&1 || { log "no CRDs in $src/manifests/crds"; return 1; }
	rm -rf "$crds" && mv "$tmp" "$crds" || return 1
	printf '%s\n' "$want" >"$stampf"
}

# link_current OUTDIR NAME: point bin/current/NAME at OUTDIR/NAME, replacing the link in one rename.
link_current() {
	local tmp=$CURRENT_DIR/.$2.link.$$
	mkdir -p "$CURRENT_DIR"
	CLEANUP+=("$tmp")
	ln -sf "../$(basename "$1")/$2" "$tmp" && mv -f "$tmp" "$CURRENT_DIR/$2"
}

# build_tool TOOL: build (or find cached) every binary of TOOL. Returns non-zero on failure.
build_tool() {
	local tool=$1 outdir goversion depsum ld entry name pkg stamp stampf tmp start built=0 got modtime_line
	tool_spec "$tool"
	MODDIR=$TOOLS_DIR/$tool
	if [ ! -f "$MODDIR/go.mod" ] || [ ! -f "$MODDIR/go.sum" ]; then
		log "$MODDIR/go.mod or go.sum is missing"
		return 1
	fi
	outdir=$BIN_ROOT/$tool-$VERSION
	mkdir -p "$outdir"

	goversion=$(gocmd env GOVERSION GOOS GOARCH) || { log "the go command failed for $tool"; return 1; }
	goversion=$(printf '%s' "$goversion" | tr '\n' ' ')
	modtime_line=$(modinfo "$MODULE") || { log "go list -m $MODULE failed in $MODDIR"; return 1; }
	got=$(echo "$modtime_line" | cut -d' ' -f2)
	[ "$got" = "$VERSION" ] || { log "$MODDIR/go.mod has $MODULE $got, build.sh pins $VERSION"; return 1; }
	MODTIME=$(echo "$modtime_line" | cut -d' ' -f3)
	[ -n "$MODTIME" ] || MODTIME=1970-01-01T00:00:00Z
	# A tool with its own main package (redis) also hashes it.
	depsum=$(cat "$MODDIR/go.mod" "$MODDIR/go.sum" $([ -f "$MODDIR/main.go" ] && echo "$MODDIR/main.go") | sha256)
	ld=$(ldflags_for "$tool") || { log "cannot compute the ldflags of $tool"; return 1; }

	start=$(date +%s)
	for entry in "${BINARIES[@]}"; do
		name=${entry%%=*} pkg=${entry#*=}
		stamp=$(printf '%s\n' "tool=$tool" "binary=$name" "package=$pkg" "module=$MODULE $VERSION" \
			"go=$goversion" "toolchain=${TOOLCHAIN:-default}" "env=CGO_ENABLED=$CGO_ENABLED GOFLAGS=$GOFLAGS" \
			"ldflags=$ld" "deps=$depsum")
		stampf=$outdir/.$name.stamp
		if [ -x "$outdir/$name" ] && [ "$(cat "$stampf" 2>/dev/null)" = "$stamp" ]; then
			continue
		fi
		log "  $tool $VERSION: building $name ($pkg)"
		tmp=$outdir/.$name.tmp.$$
		CLEANUP+=("$tmp" "$stampf.tmp.$$")
		rm -f "$stampf"
		if ! gocmd_nice build -ldflags "$ld" -o "$tmp" "$pkg"; then
			log "go build of $pkg failed"
			return 1
		fi
		mv -f "$tmp" "$outdir/$name" || return 1
		printf '%s\n' "$stamp" >"$stampf.tmp.$$" && mv -f "$stampf.tmp.$$" "$stampf"
		built=1
	done
	if [ "$tool" = argocd ]; then
		argocd_extras "$outdir" || { log "cannot copy Argo CD's wrappers and CRDs"; return 1; }
	fi

	for entry in "${BINARIES[@]}"; do link_current "$outdir" "${entry%%=*}" || return 1; done
	if [ "$tool" = argocd ]; then
		for name in "${ARGOCD_WRAPPERS[@]}"; do link_current "$outdir" "$name" || return 1; done
	fi
	if [ "$built" = 1 ]; then
		log "$tool $VERSION: built in $(($(date +%s) - start))s"
	else
		log "$tool $VERSION: cached"
	fi
}

gocmd_nice() {
	if [ -n "$TOOLCHAIN" ]; then
		(cd "$MODDIR" && GOTOOLCHAIN=$TOOLCHAIN nice -n 10 go "$@")
	else
		(cd "$MODDIR" && nice -n 10 go "$@")
	fi
}

main() {
	local tools=() t
	while [ $# -gt 0 ]; do
		case $1 in
		--print-dir) printf '%s\n' "$CURRENT_DIR"; return 0 ;;
		--print-crds-dir) printf '%s\n' "$CACHE_DIR/argocd-$ARGOCD_VERSION/crds"; return 0 ;;
		--list) for t in "${ALL_TOOLS[@]}"; do tool_spec "$t"; printf '%s %s\n' "$t" "$VERSION"; done; return 0 ;;
		-h | --help) usage; return 0 ;;
		-*) usage; die "unknown option $1" ;;
		*) tool_spec "$1" || die "unknown tool '$1' (tools: ${ALL_TOOLS[*]})"; tools+=("$1") ;;
		esac
		shift
	done
	[ ${#tools[@]} -gt 0 ] || tools=("${ALL_TOOLS[@]}")
	command -v go >/dev/null 2>&1 || die "the go command is not on PATH"
	mkdir -p "$BIN_ROOT"
	# One build.sh at a time per cache (tests may call it concurrently): the others wait, then find it cached.
	if command -v flock >/dev/null 2>&1; then
		exec 9>"$BIN_ROOT/.build.lock"
		if ! flock -n 9; then
			log "build.sh: waiting for another build.sh run on $BIN_ROOT"
			flock 9
		fi
	fi

	local total_start
	total_start=$(date +%s)
	# Sequential on purpose: on 2 cores parallel go builds only thrash.
	for t in "${tools[@]}"; do
		build_tool "$t" || die "$t failed (see the messages above); cache: $BIN_ROOT"
	done
	log "done in $(($(date +%s) - total_start))s; binaries: $CURRENT_DIR"
}

main "$@"
