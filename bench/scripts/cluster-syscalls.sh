#!/usr/bin/env bash
# System calls and context switches per gradient sent, in one `dstar launch` of cluster-round.yaml (the logreg config
# of cluster-round.py: N = 8, k = 6, no delay), counted over 3 s once half its rounds are done with perf stat's
# tracepoints on the server process and on the worker processes. Counts, unlike times, do not swing with this VM's
# load, so they show a change in the round's work that the wall time cannot (docs/benchmarks.md, "Syscalls per
# gradient"). Normalised by the gradients the workers sent (their sendto calls, one per gradient over TCP).
#
# Usage: bench/scripts/cluster-syscalls.sh BINARY [ROUNDS] [-- LAUNCH ARGS...]
# Needs perf (Debian: linux-perf) and permission to trace (root, or kernel.perf_event_paranoid ≤ 1).
command -v perf > /dev/null || { echo "perf is not installed (Debian: apt-get install linux-perf)" >&2; exit 2; }
default_rounds=20000
source "$(dirname "$0")/cluster-launch.sh" "$@"
events=$(printf 'syscalls:sys_enter_%s,' sendto recvfrom recvmsg ioctl epoll_wait futex sched_yield)raw_syscalls:sys_enter,context-switches
perf stat -x, -e "$events" -p "$server" -o "$work/server.csv" -- sleep 3 &
server_perf=$!
perf stat -x, -e "$events" -p "$(echo $workers | tr " " ,)" -o "$work/workers.csv" -- sleep 3
wait $server_perf
kill -0 $launch 2>/dev/null || { echo "the run ended inside the 3 s window; give it more rounds" >&2; exit 1; }
wait $launch
python3 - "$work/server.csv" "$work/workers.csv" <<'EOF'
import sys
def counts(path):
    rows = [line.split(",") for line in open(path) if line[:1].isdigit()]
    return {row[2].replace("syscalls:sys_enter_", "").replace("raw_syscalls:sys_enter", "all syscalls"): int(row[0]) for row in rows}
server, workers = counts(sys.argv[1]), counts(sys.argv[2])
sent = workers["sendto"]
if sent == 0:
    sys.exit("the workers sent nothing in the window")
print(f"{sent} gradients sent in 3 s; per gradient sent:")
print(f"{'':16}{'server':>9}{'workers':>9}")
for name in server:
    print(f"{name:16}{server[name] / sent:9.2f}{workers[name] / sent:9.2f}")
EOF
