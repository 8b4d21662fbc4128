#!/usr/bin/env bash
# End-to-end test of the image and the Kubernetes manifests on this machine, with podman (no Kubernetes needed):
#   1. builds the image if it is missing (deploy/image/build.sh; --build to rebuild it);
#   2. makes keys, TLS certificates and Secrets for 3 workers (deploy/kubernetes/make-secrets.sh);
#   3. turns deploy/kubernetes/*.yaml into Pods podman 4.3 runs (deploy/kube-play.py) and plays them on a podman network;
#   4. mid-run, kills worker pod 2 (SIGKILL) and later starts it again, as the Job controller would recreate it;
#   5. stops the server pod (SIGTERM: it checkpoints) and starts it again: it must resume from the checkpoint on its
#      volume (--auto-resume), and the workers must rejoin;
#   6. passes when summary.json on the server's volume says all rounds ran, with the final accuracy above 0.5.
# Prints each step's time and the final accuracy. Leaves nothing behind (pods, volume, network) unless --keep.
#
# Usage: deploy/test-kube.sh [--build] [--keep]          (root; podman, runc, iptables, openssl, python3-yaml)
set -euo pipefail
cd "$(dirname "$0")/.."

image=localhost/dstar:latest
network=dstar-kube-test
build=0
keep=0
for arg in "$@"; do
  case "$arg" in
    --build) build=1 ;;
    --keep) keep=1 ;;
    *) echo "test-kube.sh: unknown argument '$arg' (expected --build, --keep)" >&2; exit 2 ;;
  esac
done

started=$(date +%s)
step() { echo "== [$(( $(date +%s) - started )) s] $*"; }
fail() { echo "test-kube.sh: FAILED: $*" >&2; podman logs --tail 30 dstar-ps-server >&2 2>/dev/null || true; exit 1; }

work=$(mktemp -d /tmp/dstar-kube-test.XXXXXX)
# podman keeps a named volume per ConfigMap and claim after `kube down`: remove them before (a claim from an earlier
# run would be resumed) and after.
volumes() {
  python3 -c 'import sys, yaml; print(" ".join(d["metadata"]["name"] for d in yaml.safe_load_all(open(sys.argv[1]))
    if d["kind"] in ("ConfigMap", "PersistentVolumeClaim")))' "$work/play.yaml"
}
cleanup() {
  if [ "$keep" = 0 ]; then
    podman kube down "$work/play.yaml" >/dev/null 2>&1 || true
    # shellcheck disable=SC2046
    [ ! -f "$work/play.yaml" ] || podman volume rm -f $(volumes) >/dev/null 2>&1 || true
    podman network rm -f "$network" >/dev/null 2>&1 || true
    rm -rf "$work"
  else
    echo "kept: $work/play.yaml (podman kube down $work/play.yaml), volumes $(volumes), network $network"
  fi
}
trap cleanup EXIT

if [ "$build" = 1 ] || ! podman image exists "$image"; then
  step "building $image"
  deploy/image/build.sh --tag "$image"
fi

step "keys, certificates and Secrets for 3 workers"
deploy/kubernetes/make-secrets.sh --workers 3 "$work/secrets" >/dev/null
deploy/kube-play.py deploy/kubernetes/experiment.yaml deploy/kubernetes/server.yaml deploy/kubernetes/workers.yaml \
  "$work/secrets/secrets.yaml" >"$work/play.yaml"

podman kube down "$work/play.yaml" >/dev/null 2>&1 || true
# shellcheck disable=SC2046
podman volume rm -f $(volumes) >/dev/null 2>&1 || true
podman network exists "$network" || podman network create "$network" >/dev/null

step "podman kube play: server and 3 workers"
podman kube play --network "$network" "$work/play.yaml" >/dev/null
volume=$(podman volume inspect runs-dstar-ps-0 --format '{{.Mountpoint}}')
rounds=$(python3 -c 'import sys, yaml; d = yaml.safe_load(open(sys.argv[1])); print(yaml.safe_load(d["data"]["experiment.yaml"])["rounds"])' \
  deploy/kubernetes/experiment.yaml)

# The last "round N/R" progress line the server printed since its start number $1 (0: its first start).
round_now() {
  podman logs dstar-ps-server 2>/dev/null | awk -v skip="$1" 'NR > skip' | grep -oE 'round [0-9]+/' | tail -n1 | grep -oE '[0-9]+' || echo 0
}
wait_for_round() { # $1: round, $2: log lines to skip, $3: seconds
  local deadline=$(( $(date +%s) + $3 ))
  while [ "$(round_now "$2")" -lt "$1" ]; do
    [ "$(date +%s)" -lt "$deadline" ] || fail "the server did not reach round $1 in $3 s"
    podman pod exists dstar-ps || fail "the server pod is gone"
    sleep 2
  done
}

wait_for_round 50 0 600
step "round $(round_now 0): killing worker pod 2 (SIGKILL)"
podman pod kill --signal KILL dstar-workers-2 >/dev/null
wait_for_round 100 0 600
step "round $(round_now 0) without worker 2: starting its pod again (the Job would recreate it)"
podman pod start dstar-workers-2 >/dev/null

wait_for_round 150 0 600
step "round $(round_now 0): stopping the server pod (SIGTERM)"
podman pod stop --time 60 dstar-ps >/dev/null
# The logs are read whole before grep: with pipefail, grep -q quitting at its first match would SIGPIPE podman logs
# and fail the pipeline whenever the logs outgrow the pipe's buffer.
server_logs=$(podman logs dstar-ps-server 2>&1)
grep -q "stopped at round" <<<"$server_logs" || fail "the server did not checkpoint on SIGTERM"
[ -f "$volume/run/checkpoint.bin" ] || fail "no checkpoint on the volume"
[ ! -f "$volume/run/summary.json" ] || fail "summary.json exists before the run ended"
lines=$(podman logs dstar-ps-server 2>/dev/null | wc -l)
step "server stopped; starting it again on the same volume"
podman pod start dstar-ps >/dev/null

deadline=$(( $(date +%s) + 900 ))
until [ -f "$volume/run/summary.json" ]; do
  [ "$(date +%s)" -lt "$deadline" ] || fail "no summary.json 900 s after the server restart"
  sleep 3
done
server_logs=$(podman logs dstar-ps-server 2>/dev/null | awk -v skip="$lines" 'NR > skip')
grep -q "resumed from" <<<"$server_logs" || fail "the restarted server did not resume from its checkpoint"
step "run finished; summary on the volume"

python3 - "$volume/run/summary.json" "$rounds" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
rounds = int(sys.argv[2])
print(f"summary: rounds {s['rounds']}, final accuracy {s['final_accuracy']:.3f}, wall {s['wall_seconds']:.1f} s, stopped {s['stopped_at_round']}")
assert s["rounds"] == rounds, f"expected {rounds} rounds, summary says {s['rounds']}"
assert s["stopped_at_round"] is None, f"the run stopped early: {s['stop_reason']}"
assert s["final_accuracy"] > 0.5, f"final accuracy {s['final_accuracy']} is not above 0.5"
PY
rows=$(wc -l <"$volume/run/metrics.jsonl")
[ "$rows" = "$rounds" ] || fail "metrics.jsonl holds $rows rows, expected $rounds"

# Workers exit 0 once told the run is over; a finished server waits instead of training again.
sleep 5
for i in 0 1 2; do
  state=$(podman inspect "dstar-workers-$i-worker" --format '{{.State.Status}} {{.State.ExitCode}}')
  echo "worker $i: $state"
done
podman logs dstar-ps-server 2>&1 | tail -n 3
echo "run directory on the volume: $(du -sh "$volume/run" | cut -f1)"
step "PASSED"
