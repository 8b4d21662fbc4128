#!/usr/bin/env python3
"""Runs `dstar bench aggregators` several times and prints a Markdown table of the ratios (median over runs).

Usage: bench/scripts/aggregators-table.py RUNS -- <dstar bench aggregators options, without --json>
Example: bench/scripts/aggregators-table.py 3 -- --n 16 --repeats 21
The dstar binary is src/Dstar.Cli/bin/Release/net10.0/dstar (build it with `dotnet build src/Dstar.Cli -c Release`).
"""
import json
import statistics
import subprocess
import sys

TARGETS = {16: {"mean": 1.2, "median": 1.5, "trimmed-mean": 1.5, "meamed": 1.5, "dstar": 2.5, "krum": 3, "multi-krum": 3,
                "centered-clipping iterations=1": 2.5, "bulyan": 5, "nnm": 6, "geometric-median": 12},
           64: {"median": 3, "trimmed-mean": 3, "meamed": 3}}


def main() -> None:
    runs = int(sys.argv[1])
    options = sys.argv[3:] if len(sys.argv) > 2 and sys.argv[2] == "--" else sys.argv[2:]
    results = []
    for i in range(runs):
        out = subprocess.run(["src/Dstar.Cli/bin/Release/net10.0/dstar", "bench", "aggregators", *options, "--json"],
                             check=True, capture_output=True, text=True).stdout
        results.append(json.loads(out))
        print(f"run {i + 1}/{runs} done", file=sys.stderr)
    first = results[0]
    targets = TARGETS.get(first["n"], {}) if first["threads"] == 1 else {}
    reads = ", ".join(f"{r['stream_read_ms']:.2f}" for r in results)
    loads = ", ".join(f"{r['load_average_start']:.1f}" for r in results)
    print(f"Streaming read of {first['n']} × {first['d']:,} float32, per run: {reads} ms; "
          f"load average (1 min) at the start of each run: {loads}.\n")
    print("| component | kind | ms (median of runs) | " + " | ".join(f"ratio, run {i + 1}" for i in range(runs))
          + " | **median ratio** | best fastest-call ratio | target | |")
    print("| --- | --- | ---: | " + " | ".join("---:" for _ in range(runs)) + " | ---: | ---: | ---: | --- |")
    for index, rule in enumerate(first["rules"]):
        rows = [r["rules"][index] for r in results]
        if "ratio" not in rows[0]:
            print(f"| {rule['name']} | {rule['kind']} | skipped: {rule.get('skipped', '')} |")
            continue
        ratios = [r["ratio"] for r in rows]
        median = statistics.median(ratios)
        fastest = min(r["fastest_ratio"] for r in rows)
        target = targets.get(rule["name"])
        verdict = "" if target is None else ("pass" if median <= target else ("miss (fastest calls pass)" if fastest <= target else "**miss**"))
        print(f"| {rule['name']} | {rule['kind']} | {statistics.median(r['ms'] for r in rows):.2f} | "
              + " | ".join(f"{x:.2f}×" for x in ratios)
              + f" | **{median:.2f}×** | {fastest:.2f}× | {'' if target is None else f'≤ {target}×'} | {verdict} |")


if __name__ == "__main__":
    main()
