#!/usr/bin/env python3
"""The cost of `--view`: the same `dstar simulate` run (same config, same seed) without the view, with it, and with it
plus a client reading its event stream (what an open browser does), repeated in alternating order.

Each repetition runs every mode once, in an order that rotates from one repetition to the next, so that a machine
getting busier or quieter during the measurement does not favour one mode. The ratio of a mode is taken within each
repetition (mode / none) and summarised by its median and its range over the repetitions; the headline is the
median. Three times per run: `wall_seconds` of summary.json (the run's own rounds, what the goal is about), the
whole process's wall time (start-up, the view's server, the plots), and the process's CPU time (user + system, all
its threads: what the view's server and serialisation cost, and far less sensitive than wall time to other load on
a shared machine; the event-stream client runs in this script, so its CPU is not counted).

Usage:   bench/scripts/view-overhead.py [--repeats N] [--dstar PATH] [--json] -- <dstar simulate options>
Example: bench/scripts/view-overhead.py --repeats 7 -- --config experiments/demo.yaml --set rounds=80
The dstar binary defaults to src/Dstar.Cli/bin/Release/net10.0/dstar (dotnet build src/Dstar.Cli -c Release).
"""
import argparse
import json
import os
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

MODES = ["none", "view", "view+client"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def read_events(url: str, stop: threading.Event, counts: dict) -> None:
    """Reads the view's event stream until the process ends, as a browser tab would (retrying until it is up)."""
    while not stop.is_set():
        try:
            with urllib.request.urlopen(url + "api/events", timeout=5) as stream:
                for line in stream:
                    if line.startswith(b"event: "):
                        counts["events"] = counts.get("events", 0) + 1
                    if stop.is_set():
                        return
        except OSError:
            time.sleep(0.05)


def run_once(dstar: str, options: list, mode: str) -> dict:
    out = tempfile.mkdtemp(prefix="dstar-view-overhead-")
    try:
        command = [dstar, "simulate", *options, "--quiet", "--out", os.path.join(out, "run")]
        counts = {}
        stop = threading.Event()
        reader = None
        if mode != "none":
            port = free_port()
            command += ["--view", f"http://127.0.0.1:{port}"]
            if mode == "view+client":
                reader = threading.Thread(target=read_events, args=(f"http://127.0.0.1:{port}/", stop, counts), daemon=True)
                reader.start()
        start = time.monotonic()
        cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
        done = subprocess.run(command, capture_output=True, text=True)
        cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN)
        process_seconds = time.monotonic() - start
        cpu_seconds = (cpu_after.ru_utime - cpu_before.ru_utime) + (cpu_after.ru_stime - cpu_before.ru_stime)
        stop.set()
        if done.returncode != 0:
            raise SystemExit(f"{' '.join(command)} exited with {done.returncode}:\n{done.stdout}\n{done.stderr}")
        with open(os.path.join(out, "run", "summary.json")) as f:
            summary = json.load(f)
        return {"mode": mode, "run_seconds": summary["wall_seconds"], "process_seconds": process_seconds, "cpu_seconds": cpu_seconds,
                "final_accuracy": summary["final_accuracy"], "events_read": counts.get("events", 0)}
    finally:
        shutil.rmtree(out, ignore_errors=True)


def summarise(runs: list, key: str) -> dict:
    by_rep = {}
    for r in runs:
        by_rep.setdefault(r["repeat"], {})[r["mode"]] = r[key]
    result = {}
    for mode in MODES[1:]:
        ratios = [rep[mode] / rep["none"] for rep in by_rep.values()]
        result[mode] = {"median": statistics.median(ratios), "min": min(ratios), "max": max(ratios), "ratios": ratios}
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--dstar", default="src/Dstar.Cli/bin/Release/net10.0/dstar")
    parser.add_argument("--json", action="store_true", help="print every run and the summary as JSON")
    parser.add_argument("options", nargs=argparse.REMAINDER, help="-- then the dstar simulate options")
    args = parser.parse_args()
    options = args.options[1:] if args.options[:1] == ["--"] else args.options
    load_start = os.getloadavg()
    runs = []
    for repeat in range(args.repeats):
        order = MODES[repeat % len(MODES):] + MODES[:repeat % len(MODES)]
        for mode in order:
            r = run_once(args.dstar, options, mode)
            r["repeat"] = repeat
            runs.append(r)
            print(f"repeat {repeat + 1}/{args.repeats} {mode:12} run {r['run_seconds']:7.2f} s, process {r['process_seconds']:7.2f} s, CPU {r['cpu_seconds']:7.2f} s"
                  f"{', ' + str(r['events_read']) + ' events read' if mode == 'view+client' else ''}", file=sys.stderr, flush=True)
    load_end = os.getloadavg()
    accuracies = {r["final_accuracy"] for r in runs}
    report = {"options": options, "repeats": args.repeats, "load_average_start": load_start, "load_average_end": load_end,
              "same_final_accuracy": len(accuracies) == 1, "runs": runs,
              "run_seconds": summarise(runs, "run_seconds"), "process_seconds": summarise(runs, "process_seconds"),
              "cpu_seconds": summarise(runs, "cpu_seconds")}
    if args.json:
        print(json.dumps(report, indent=2))
        return
    print(f"\nload average (1, 5, 15 min): {load_start} at the start, {load_end} at the end; "
          f"final accuracy identical in every run: {report['same_final_accuracy']}")
    print("\n| mode | time | median ratio to none | range over repeats |\n| --- | --- | ---: | ---: |")
    for key in ["run_seconds", "process_seconds", "cpu_seconds"]:
        for mode, s in report[key].items():
            print(f"| {mode} | {key.replace('_', ' ')} | {s['median']:.3f} | {s['min']:.3f} – {s['max']:.3f} |")
    print("\n| repeat | " + " | ".join(f"{m} run s" for m in MODES) + " |\n| ---: | " + " | ".join("---:" for _ in MODES) + " |")
    for repeat in range(args.repeats):
        row = {r["mode"]: r["run_seconds"] for r in runs if r["repeat"] == repeat}
        print(f"| {repeat + 1} | " + " | ".join(f"{row[m]:.2f}" for m in MODES) + " |")


if __name__ == "__main__":
    main()
