#!/usr/bin/env python3
"""Times one simulation at simulation.parallel = 1 and at P, alternating, and prints the median wall-time ratio.

Usage: bench/scripts/parallel-simulation.py PAIRS [P] -- <dstar simulate options, without --out>
Example (the small-cnn demo-size run of docs/benchmarks.md):
  bench/scripts/parallel-simulation.py 3 2 -- --config experiments/demo.yaml --set model=small-cnn --set checkpoint_every=0

Each pair runs P = 1 and P (which goes first alternates from pair to pair, so that a change in the machine's load
does not favour one side), each in a fresh process, and records the process's wall time, the round loop's breakdown
(the "wall time in rounds" line of dstar simulate) and the 1-minute load average before the run. Every pair's two
metrics.csv files must be identical but for the wall_time column (the script stops otherwise). The dstar binary is
src/Dstar.Cli/bin/Release/net10.0/dstar (build it with `dotnet build src/Dstar.Cli -c Release`).
"""
import csv
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

DSTAR = "src/Dstar.Cli/bin/Release/net10.0/dstar"


def run(options: list[str], threads: int, directory: str) -> dict:
    load = os.getloadavg()[0]
    start = time.monotonic()
    out = subprocess.run([DSTAR, "simulate", *options, "--set", f"simulation.parallel={threads}", "--out", directory],
                         check=True, capture_output=True, text=True).stdout
    wall = time.monotonic() - start
    breakdown = re.search(r"wall time in rounds ([\d.]+) s: worker gradients ([\d.]+) s, .*evaluation ([\d.]+) s", out)
    threads_line = re.search(r"gradients on (\d+) thread", out)
    return {
        "threads": int(threads_line.group(1)) if threads_line else None,
        "wall": wall,
        "rounds": float(breakdown.group(1)) if breakdown else float("nan"),
        "gradients": float(breakdown.group(2)) if breakdown else float("nan"),
        "evaluation": float(breakdown.group(3)) if breakdown else float("nan"),
        "load": load,
    }


def metrics(directory: str) -> list[list[str]]:
    with open(os.path.join(directory, "metrics.csv"), newline="") as f:
        rows = list(csv.reader(f))
    column = rows[0].index("wall_time")
    return [row[:column] + row[column + 1:] for row in rows]


def main() -> None:
    pairs = int(sys.argv[1])
    rest = sys.argv[2:]
    parallel = 2
    if rest and rest[0] != "--":
        parallel = int(rest[0])
        rest = rest[1:]
    options = rest[1:] if rest and rest[0] == "--" else rest
    ratios = []
    print(f"| pair | P | process wall (s) | round loop (s) | worker gradients (s) | evaluation (s) | load average before |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: |")
    with tempfile.TemporaryDirectory(prefix="dstar-parallel-") as root:
        for pair in range(pairs):
            order = [1, parallel] if pair % 2 == 0 else [parallel, 1]
            results = {}
            for threads in order:
                directory = os.path.join(root, f"{pair}-{threads}")
                results[threads] = run(options, threads, directory)
                r = results[threads]
                print(f"| {pair + 1} | {r['threads']} | {r['wall']:.1f} | {r['rounds']:.1f} | {r['gradients']:.1f} | {r['evaluation']:.1f} | {r['load']:.1f} |",
                      flush=True)
            if metrics(os.path.join(root, f"{pair}-1")) != metrics(os.path.join(root, f"{pair}-{parallel}")):
                sys.exit(f"pair {pair + 1}: metrics.csv differs between P = 1 and P = {parallel}")
            ratios.append(results[parallel]["wall"] / results[1]["wall"])
    print()
    print(f"wall-time ratio P = {parallel} / P = 1 per pair: {', '.join(f'{r:.3f}' for r in ratios)}; "
          f"median {statistics.median(ratios):.3f}; metrics.csv identical in every pair")


if __name__ == "__main__":
    main()
