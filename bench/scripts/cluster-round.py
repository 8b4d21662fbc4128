#!/usr/bin/env python3
"""Cluster round overhead against the simulator's round (issue 11): the same logreg experiment (N = 8, k = 6, no delay,
no compute time) run by `dstar simulate` and by `dstar launch` (a server process and the 8 workers in worker processes,
`--workers-per-process auto` unless --launch-args says otherwise, on loopback gRPC),
alternating, RUNS times each. Prints each run's steady-state milliseconds per round (rounds R/2 .. R−2 of
metrics.jsonl: after .NET's tiered JIT has recompiled the hot paths of all nine processes, which on 2 cores takes
several thousand rounds, and before the final evaluation), the cluster / simulator ratio of each pair of adjacent
runs and their median (the figure to quote: this VM's speed drifts by a third between minutes, and a pair shares the
drift), the ratio of the medians, and the cluster's median per-round breakdown over the same rounds
(docs/cluster.md, "Per-round time breakdown").

Usage: bench/scripts/cluster-round.py RUNS [--binary NAME=PATH]... [--env NAME:KEY=VALUE]... [--launch-args NAME:ARGS]...
       [--rounds 20000] [--workers 8] [--k 6]
Without --binary: src/Dstar.Cli/bin/Release/net10.0/dstar (build it with `dotnet build src/Dstar.Cli -c Release`).
--env sets an environment variable for the runs of binary NAME (both modes), to compare settings of one build.
--launch-args adds arguments to NAME's `dstar launch` runs, e.g. "packed:--workers-per-process 4" (NAME may be a second name
for the same binary: --binary one=PATH --binary packed=PATH).
"""
import argparse
import atexit
import json
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile

CONFIG = os.path.join(os.path.dirname(os.path.abspath(__file__)), "cluster-round.yaml")

PHASES = ["wait_s", "compute_s", "delay_s", "wire_s", "validation_s", "aggregation_s", "step_s", "evaluation_s"]


def steady_ms(directory: str) -> float:
    walls = [json.loads(line)["wall_time"] for line in open(os.path.join(directory, "metrics.jsonl"))]
    first = len(walls) // 2
    return 1000 * (walls[-2] - walls[first]) / (len(walls) - 2 - first)


def breakdown(directory: str) -> dict:
    rows = [json.loads(line) for line in open(os.path.join(directory, "metrics.jsonl"))]
    rows = rows[len(rows) // 2:-1]
    return {p: statistics.median(r[p] for r in rows) * 1000 for p in PHASES if rows and rows[0].get(p) is not None}


def load() -> str:
    try:
        return open("/proc/loadavg").read().split()[0]
    except OSError:
        return "?"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("runs", type=int)
    parser.add_argument("--binary", action="append", default=[])
    parser.add_argument("--env", action="append", default=[])
    parser.add_argument("--launch-args", action="append", default=[])
    parser.add_argument("--rounds", type=int, default=20000)
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--k", type=int, default=6)
    args = parser.parse_args()
    binaries = [tuple(b.split("=", 1)) for b in args.binary] or [("dstar", "src/Dstar.Cli/bin/Release/net10.0/dstar")]
    environments = {name: dict(os.environ) for name, _ in binaries}
    for setting in args.env:
        name, assignment = setting.split(":", 1)
        key, value = assignment.split("=", 1)
        environments[name][key] = value
    launch_args = {name: [] for name, _ in binaries}
    for setting in args.launch_args:
        name, extra = setting.split(":", 1)
        launch_args[name] += shlex.split(extra)
    # Each run's folder is read and removed at once (a 20,000-round run writes several MB); the folder goes at exit.
    work = tempfile.mkdtemp(prefix="dstar-cluster-round-")
    atexit.register(shutil.rmtree, work, ignore_errors=True)
    settings = [f"rounds={args.rounds}", f"eval_every={args.rounds}", f"workers={args.workers}", f"k={args.k}"]
    results = {}
    loads = []
    for run in range(args.runs):
        for name, path in binaries:
            for mode in ("simulate", "launch"):
                out = os.path.join(work, f"{name}-{mode}-{run}")
                loads.append(load())
                command = [path, mode, "--config", CONFIG, "--out", out] + [a for s in settings for a in ("--set", s)]
                command += ["--quiet"] if mode == "simulate" else ["--delay-scale", "0"] + launch_args[name]
                finished = subprocess.run(command, capture_output=True, text=True, env=environments[name])
                if finished.returncode != 0:
                    sys.exit(f"{' '.join(command)} failed (exit {finished.returncode}):\n{finished.stderr[-2000:]}")
                results.setdefault((name, mode), []).append((steady_ms(out), breakdown(out)))
                shutil.rmtree(out)
                print(f"run {run + 1}/{args.runs} {name} {mode}: {results[(name, mode)][-1][0]:.3f} ms/round", file=sys.stderr)
    print(f"N = {args.workers}, k = {args.k}, {args.rounds} rounds; {'; '.join(args.env + args.launch_args) or 'no --env or --launch-args'}; load average (1 min) before each run: {', '.join(loads)}.\n")
    print("| binary | simulate ms/round, runs | launch ms/round, runs | launch / simulate, each pair | **median of the pairs** | ratio of the medians | cluster breakdown, medians (ms) |")
    print("| --- | --- | --- | --- | ---: | ---: | --- |")
    for name, _ in binaries:
        simulate = [r[0] for r in results[(name, "simulate")]]
        launch = [r[0] for r in results[(name, "launch")]]
        phases = {}
        for _, b in results[(name, "launch")]:
            for p, v in b.items():
                phases.setdefault(p, []).append(v)
        split = ", ".join(f"{p[:-2]} {statistics.median(v):.3f}" for p, v in phases.items()) or "—"
        pairs = [c / s for s, c in zip(simulate, launch)]
        print(f"| {name} | {', '.join(f'{x:.3f}' for x in simulate)} | {', '.join(f'{x:.3f}' for x in launch)} | "
              f"{', '.join(f'{x:.2f}' for x in pairs)} | **{statistics.median(pairs):.2f}×** | "
              f"{statistics.median(launch) / statistics.median(simulate):.2f}× | {split} |")


if __name__ == "__main__":
    main()
