#!/usr/bin/env bash
# Measures how far one local hub scales: brings up the local fleet with N more hosting
# clusters (each enabling the six addons) from a temporary clone, reports the time until
# every Application is Synced (and Healthy, on kwok clusters) and the fleet's peak RSS,
# then takes it down.
# Usage: hack/fleet-scale.sh N [kwok|apiserver]     (run as root; needs make tools and
#        HUBCTL_CHARTS_DIR, a Helm repository folder of the tree's charts: hubctl charts pull DIR)
#   kwok       full kwok clusters (default): about 1.3-1.5 GiB each while their addons sync
#   apiserver  apiserver-only clusters on one shared etcd (annotation local_runtime: apiserver):
#              nothing runs their Pods, so their Applications are waited for Synced only, and
#              the argo-cd chart's redis-secret-init hook Job (which would never finish) is off
# Environment: ADDONS, when set, lists the addons the added clusters enable (their enable_<addon>
# label names without the prefix, e.g. "crossplane backstage"); default all six.
# GOMEMLIMIT, when set, is passed to hubctl up and so to every process of the
# fleet (the apiserver-only clusters keep their own lower limit): with 30 clusters it keeps the
# application-controller's garbage within bounds. The run is stopped (and reported) when the
# machine's available memory falls below 1 GiB.
set -euo pipefail
n=${1:?number of hosting clusters}
runtime=${2:-kwok}
case $runtime in kwok|apiserver) ;; *) echo "runtime $runtime: want kwok or apiserver" >&2; exit 2;; esac
root=$(cd "$(dirname "$0")/.." && pwd)
charts=${HUBCTL_CHARTS_DIR:?set HUBCTL_CHARTS_DIR to a Helm repository folder (hubctl charts pull DIR)}
charts=$(cd "$charts" && pwd)
work=$(mktemp -d /tmp/fleet-scale-XXXXXX)
trap 'rm -rf "$work"' EXIT
git clone -q "$root" "$work/repo"
cd "$work/repo"
git checkout -q -B main
overlay=hack/local-fleet/overlay/clusters   # the local fleet's clusters (docs/local-fleet.md)
template=$overlay/local-develop-clientA-services
for i in $(seq 1 "$n"); do
  name=$(printf 'local-develop-scale%02d-services' "$i")
  port=$((16460 + 20 * (i + 1)))
  mkdir -p "$overlay/$name"
  cp -r "$template/addons" "$overlay/$name/"
  sed -e "s/local-develop-clientA-services/$name/g" -e "s/local-develop-clienta-services/${name,,}/g" \
      -e "s#https://127.0.0.1:16460#https://127.0.0.1:$port#" -e "s/client: clientA/client: scale$i/" \
      "$template/cluster.yaml" > "$overlay/$name/cluster.yaml"
  if [ -n "${ADDONS:-}" ]; then
    for label in $(grep -o 'enable_[a-z_]*' "$overlay/$name/cluster.yaml"); do
      case " $ADDONS " in *" ${label#enable_} "*) ;; *) sed -i "/    $label: /d" "$overlay/$name/cluster.yaml";; esac
    done
  fi
  if [ "$runtime" = apiserver ]; then
    sed -i "s#^  annotations:#  annotations:\n    local_runtime: apiserver#" "$overlay/$name/cluster.yaml"
    printf 'redisSecretInit:\n  enabled: false\n' >> "$overlay/$name/addons/argo-cd/values.yaml"
  fi
done
git add -A && git -c user.name=scale -c user.email=scale@gitops-hub.invalid commit -qm "scale: $n more local $runtime clusters"
(cd "$root" && go build -o "$work/hubctl" ./cmd/hubctl)
state="$work/state"
start=$(date +%s)
set +e
unshare -n sh -c "ip link set lo up && ${GOMEMLIMIT:+GOMEMLIMIT=$GOMEMLIMIT} HUBCTL_CHARTS_DIR='$charts' '$work/hubctl' up --repo '$work/repo' --state-dir '$state' --timeout 60m" > "$work/up.out" 2> "$work/up.err" &
upid=$!
peak=0
# sample: the RSS (KiB) of every fleet process, one "KiB kind" line each
sample() {
  for p in $(pgrep -f "$state|argocd-"); do
    r=$(awk '/VmRSS/{print $2}' /proc/$p/status 2>/dev/null) || continue
    c=$(tr '\0' ' ' 2>/dev/null < /proc/$p/cmdline) || continue
    case $c in
      argocd-*) k=${c%% *};;
      *kube-apiserver*--etcd-prefix=/registry*) k="kube-apiserver (kwok clusters)";;
      *kube-apiserver*) k="kube-apiserver (apiserver-only clusters)";;
      *) k=$(basename "${c%% *}");;
    esac
    echo "${r:-0} $k"
  done
}
while kill -0 $upid 2>/dev/null; do
  sample > "$work/sample"
  rss=$(awk '{s+=$1} END {print s+0}' "$work/sample")
  [ "$rss" -gt $peak ] && peak=$rss && cp "$work/sample" "$work/peak"
  avail=$(awk '/MemAvailable/{print $2}' /proc/meminfo)
  if [ "$avail" -lt 1048576 ]; then
    echo "stopping: only $((avail / 1024)) MiB of memory left" >&2
    pkill -f "$work/hubctl up" || true
    break
  fi
  sleep 5
done
wait $upid; rc=$?
set -e
end=$(date +%s)
apps=$(grep -o '[0-9]*/[0-9]* Applications Synced and Healthy' "$work/up.err" | tail -1)
echo "hosting clusters: $((n + 2)) (the 2 shipped + $n $runtime${ADDONS:+, addons: $ADDONS}${GOMEMLIMIT:+, GOMEMLIMIT=$GOMEMLIMIT}); up exit $rc; $apps; up to all Synced: $((end - start)) s; peak fleet RSS: $((peak / 1024)) MiB"
echo "at the peak, by kind (MiB, processes):"
awk '{k=$2; for (i=3;i<=NF;i++) k=k" "$i; m[k]+=$1; n[k]++} END {for (k in m) printf "  %6d  %3d  %s\n", m[k]/1024, n[k], k}' "$work/peak" | sort -rn
[ $rc -eq 0 ] || tail -20 "$work/up.err"
HUBCTL_STATE_DIR="$state" "$work/hubctl" down >/dev/null 2>&1 || true
