#!/usr/bin/env bash
# Measures how far one local hub scales: brings up the local fleet with N hosting clusters
# (each enabling the six addons) from a temporary clone, reports the time until every
# Application is Synced and Healthy and the fleet's RSS, then takes it down.
# Usage: hack/fleet-scale.sh N        (run as root; needs make tools; about 0.5 GiB per cluster)
set -euo pipefail
n=${1:?number of hosting clusters}
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d /tmp/fleet-scale-XXXXXX)
trap 'rm -rf "$work"' EXIT
git clone -q "$root" "$work/repo"
cd "$work/repo"
git checkout -q -B main
template=clusters/local-develop-clientA-services
for i in $(seq 1 "$n"); do
  name=$(printf 'local-develop-scale%02d-services' "$i")
  port=$((16460 + 20 * (i + 1)))
  mkdir -p "clusters/$name"
  cp -r "$template/addons" "clusters/$name/"
  sed -e "s/local-develop-clientA-services/$name/g" -e "s/local-develop-clienta-services/${name,,}/g" \
      -e "s#https://127.0.0.1:16460#https://127.0.0.1:$port#" -e "s/client: clientA/client: scale$i/" \
      "$template/cluster.yaml" > "clusters/$name/cluster.yaml"
done
git add -A && git -c user.name=scale -c user.email=scale@gitops-hub.invalid commit -qm "scale: $n more local clusters"
(cd "$root" && go build -o "$work/hubctl" ./cmd/hubctl)
state="$work/state"
start=$(date +%s)
set +e
unshare -n sh -c "ip link set lo up && HUBCTL_CHARTS_DIR='$root/../shared/charts' '$work/hubctl' up --repo '$work/repo' --state-dir '$state' --timeout 40m" > "$work/up.out" 2> "$work/up.err" &
upid=$!
peak=0
while kill -0 $upid 2>/dev/null; do
  rss=0
  for p in $(pgrep -f "$state|argocd-"); do r=$(awk '/VmRSS/{print $2}' /proc/$p/status 2>/dev/null); rss=$((rss + ${r:-0})); done
  [ $rss -gt $peak ] && peak=$rss
  sleep 5
done
wait $upid; rc=$?
set -e
end=$(date +%s)
apps=$(grep -o '[0-9]*/[0-9]* Applications Synced and Healthy' "$work/up.err" | tail -1)
echo "hosting clusters: $((n + 2)) (the 2 shipped + $n added); up exit $rc; $apps; up to all Synced: $((end - start)) s; peak fleet RSS: $((peak / 1024)) MiB"
[ $rc -eq 0 ] || tail -20 "$work/up.err"
HUBCTL_STATE_DIR="$state" "$work/hubctl" down >/dev/null 2>&1 || true
