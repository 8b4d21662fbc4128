# Sourced by cluster-steady.sh and cluster-syscalls.sh: parses "BINARY [ROUNDS] [-- LAUNCH ARGS...]", starts one
# `dstar launch` of cluster-round.yaml with those rounds (no delay), and returns once half its rounds are done, with
# $launch (its pid), $work (its scratch folder, removed on exit), $server and $workers (the pids of `dstar serve` and of
# the `dstar work` processes, the latter space-separated) and done_rounds (rounds recorded so far) set.
# Usage inside a script: source "$(dirname "$0")/cluster-launch.sh" "$@"
set -euo pipefail
script=$(basename "$0")
binary=${1:?usage: $script BINARY [ROUNDS] [-- LAUNCH ARGS...]}
shift
rounds=${default_rounds:-30000}
if [ $# -gt 0 ] && [ "$1" != "--" ]; then rounds=$1; shift; fi
[ $# -gt 0 ] && [ "$1" = "--" ] && shift
[[ "$rounds" =~ ^[0-9]+$ ]] && [ "$rounds" -ge 1000 ] || { echo "ROUNDS must be an integer of at least 1000" >&2; exit 2; }
[ -x "$binary" ] || { echo "$binary is not an executable (build it: dotnet build src/Dstar.Cli -c Release)" >&2; exit 2; }

work=$(mktemp -d "${TMPDIR:-/tmp}/dstar-${script%.sh}-XXXXXX")
trap 'kill $launch 2>/dev/null || true; rm -rf "$work"' EXIT

"$binary" launch --config "$(dirname "${BASH_SOURCE[0]}")/cluster-round.yaml" --set rounds="$rounds" --set eval_every="$rounds" \
  --out "$work/run" --delay-scale 0 "$@" > "$work/launch.log" 2>&1 &
launch=$!
done_rounds() { { wc -l < "$work/run/metrics.jsonl"; } 2>/dev/null || echo 0; }
while [ "$(done_rounds)" -lt $((rounds / 2)) ]; do
  kill -0 $launch 2>/dev/null || { echo "launch ended early:" >&2; tail -5 "$work/launch.log" >&2; exit 1; }
  sleep 0.2
done

server=$(pgrep -f "dstar serve .*$work" | head -1)
workers=$(pgrep -f "dstar work .*$work" | tr '\n' ' ')
