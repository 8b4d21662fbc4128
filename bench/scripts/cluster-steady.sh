#!/usr/bin/env bash
# One `dstar launch` of cluster-round.yaml (the logreg config cluster-round.py uses: N = 8, k = 6, no delay),
# measured over 4 s once half its rounds are done: wall milliseconds per round and CPU milliseconds per round of the
# server process, of the worker processes and of both (utime + stime from /proc/PID/stat). Used in docs/benchmarks.md
# ("The floor") to compare two builds, or one build with and without an environment setting, in alternating runs.
#
# Usage: bench/scripts/cluster-steady.sh BINARY [ROUNDS] [-- LAUNCH ARGS...]
#   e.g. bench/scripts/cluster-steady.sh src/Dstar.Cli/bin/Release/net10.0/dstar 30000
#        DOTNET_HillClimbing_Disable=1 bench/scripts/cluster-steady.sh "$B" 30000 -- --workers-per-process 8
source "$(dirname "$0")/cluster-launch.sh" "$@"
ticks() {
  local sum=0 p
  for p in "$@"; do
    [ -r "/proc/$p/stat" ] || { echo "the run ended inside the 4 s window; give it more rounds" >&2; exit 1; }
    sum=$((sum + $(awk '{print $14 + $15}' "/proc/$p/stat")))
  done
  echo $sum
}
s1=$(ticks $server) || exit 1; w1=$(ticks $workers) || exit 1; r1=$(done_rounds); t1=$(date +%s.%N)
sleep 4
s2=$(ticks $server) || exit 1; w2=$(ticks $workers) || exit 1; r2=$(done_rounds); t2=$(date +%s.%N)
wait $launch
hz=$(getconf CLK_TCK)
python3 -c "
r = $r2 - $r1
ms = lambda ticks: 1000 * ticks / $hz / r
print(f'{1000 * ($t2 - $t1) / r:.3f} ms/round; CPU ms/round: server {ms($s2 - $s1):.3f}, workers {ms($w2 - $w1):.3f}, '
      f'both {ms($s2 - $s1 + $w2 - $w1):.3f} ({r} rounds)')"
