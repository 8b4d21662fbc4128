#!/usr/bin/env python3
"""Runs `dstar bench wire` several times, plain and with --tls, for one or more dstar binaries, alternating them run by
run so that every binary sees the same load, and prints a Markdown table: per binary, d and TLS, the cluster/raw ratio
and the cluster path's throughput (the `grpc_*` fields: the worker's path, the upload channel where the binary has one)
of every run and their medians, judged against issue 11's targets, and the median of the session-stream push
(`stream_*`) where the binary reports it.

Usage: bench/scripts/wire-table.py RUNS [--binary NAME=PATH]... -- <dstar bench wire options, without --json/--tls>
Example: bench/scripts/wire-table.py 3 --binary before=/tmp/before/dstar --binary after=src/Dstar.Cli/bin/Release/net10.0/dstar -- --repeats 10
Without --binary: src/Dstar.Cli/bin/Release/net10.0/dstar (build it with `dotnet build src/Dstar.Cli -c Release`).
"""
import json
import statistics
import subprocess
import sys

# d → (minimum ratio, minimum GB/s without TLS, minimum GB/s with TLS)
TARGETS = {1_000_000: (0.5, 1.0, 0.6), 10_000_000: (0.5, 1.0, 0.6)}


def Fastest(rows) -> str:
    """The best fastest-push ratio of the runs; a dash for a dstar that does not report it."""
    values = [r["fastest_ratio"] for r in rows if "fastest_ratio" in r]
    return f"{max(values):.0%}" if values else "—"


def Stream(rows, key: str, fmt: str) -> str:
    """The median of a session-stream figure over the runs; a dash for a dstar that does not report it."""
    values = [r[key] for r in rows if key in r]
    return format(statistics.median(values), fmt) if values else "—"


def main() -> None:
    runs = int(sys.argv[1])
    rest = sys.argv[2:]
    options = rest[rest.index("--") + 1:] if "--" in rest else []
    mine = rest[:rest.index("--")] if "--" in rest else rest
    binaries = []
    for i, arg in enumerate(mine):
        if arg == "--binary":
            name, path = mine[i + 1].split("=", 1)
            binaries.append((name, path))
    binaries = binaries or [("dstar", "src/Dstar.Cli/bin/Release/net10.0/dstar")]
    results = {}  # (binary, tls) -> list of documents
    for run in range(runs):
        for tls in (False, True):
            for name, path in binaries:
                out = subprocess.run([path, "bench", "wire", *options, *(["--tls"] if tls else []), "--json"],
                                     check=True, capture_output=True, text=True).stdout
                results.setdefault((name, tls), []).append(json.loads(out))
                print(f"run {run + 1}/{runs} {name} {'tls' if tls else 'plain'} done", file=sys.stderr)
    loads = ", ".join(f"{doc['load_average_start']:.1f}" for docs in results.values() for doc in docs if doc.get("load_average_start") is not None)
    print(f"Load average (1 min) at the start of each run: {loads}.\n")
    print("| binary | d | TLS | raw GB/s (median) | cluster GB/s, runs | **cluster GB/s** | cluster / raw, runs | **cluster / raw** | fastest cluster / raw (best) "
          "| stream GB/s (median) | stream / raw (median) | target |")
    print("| --- | ---: | --- | ---: | --- | ---: | --- | ---: | ---: | ---: | ---: | --- |")
    for (name, tls), docs in results.items():
        for index, first in enumerate(docs[0]["runs"]):
            rows = [doc["runs"][index] for doc in docs]
            ratio = statistics.median(r["ratio"] for r in rows)
            gbps = statistics.median(r["grpc_gbps"] for r in rows)
            target = TARGETS.get(first["d"])
            if target is None:
                verdict = ""
            elif tls:
                verdict = f"≥ {target[2]} GB/s: " + ("pass" if gbps >= target[2] else "miss")
            else:
                verdict = f"≥ {target[0]:.0%} and ≥ {target[1]} GB/s: " + ("pass" if ratio >= target[0] and gbps >= target[1] else "miss")
            print(f"| {name} | {first['d']:,} | {'yes' if tls else 'no'} | {statistics.median(r['raw_gbps'] for r in rows):.2f} | "
                  + ", ".join(f"{r['grpc_gbps']:.2f}" for r in rows) + f" | **{gbps:.2f}** | "
                  + ", ".join(f"{r['ratio']:.0%}" for r in rows) + f" | **{ratio:.0%}** | {Fastest(rows)} | "
                  + f"{Stream(rows, 'stream_gbps', '.2f')} | {Stream(rows, 'stream_ratio', '.0%')} | {verdict} |")


if __name__ == "__main__":
    main()
