#!/usr/bin/env python3
"""busy_core: the CPU families on a machine with one core kept busy, and the two readings of what
the machine delivered (the start-of-run probe's machine_parallel_capacity and each family's own
calibration, machine_capacity) beside each family's machine_efficiency. A tool to rerun by hand,
not a ctest test: its numbers are the machine's.

    tests/busy_core.py [--binary=build/release/concbench] [--runs=5] [--repetitions=3]
                       [--filter='^(threads|processes)/cpu/'] [--cpu=0] [--quiet-machine]

A spinning child pinned to one CPU (`taskset -c 0 sh -c 'while :; do :; done'`, as the issue
"A busy core" did it) runs for the whole time, unless --quiet-machine. Prints one line per family
and run (medians over the repetitions), then how many runs read machine_efficiency ≥ 0.8 and how
many had the probe and the calibration within 20 % of each other. Exit 0, or 2 on bad input.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile


def run_once(binary, filt, reps, out):
    p = subprocess.run([binary, f"--benchmark_filter={filt}", f"--benchmark_repetitions={reps}",
                        "--benchmark_enable_random_interleaving=true", f"--benchmark_out={out}",
                        "--display=table"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                       text=True)
    if p.returncode != 0:
        sys.exit(f"busy_core: {binary} exited {p.returncode}:\n{p.stderr}")
    with open(out) as f:
        data = json.load(f)
    probe = float(data["context"]["machine_parallel_capacity"])
    families = {}
    for b in data["benchmarks"]:
        if b.get("run_type") == "iteration" and "machine_capacity" in b:
            families.setdefault(b["run_name"], []).append(b)
    return probe, families


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--binary", default="build/release/concbench")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--repetitions", type=int, default=3)
    ap.add_argument("--filter", default="^(threads|processes)/cpu/")
    ap.add_argument("--cpu", type=int, default=0)
    ap.add_argument("--quiet-machine", action="store_true", help="no spinning child")
    a = ap.parse_args(argv)
    if a.runs < 1 or a.repetitions < 1:
        ap.error("--runs and --repetitions need at least 1")
    if not os.access(a.binary, os.X_OK):
        ap.error(f"{a.binary} is not an executable (build it: cmake --build --preset release)")
    hog = None if a.quiet_machine else subprocess.Popen(
        ["taskset", "-c", str(a.cpu), "sh", "-c", "while :; do :; done"])
    good, agree, rows = 0, 0, 0
    try:
        with tempfile.TemporaryDirectory() as tmp:
            print(f"{'run':>3}  {'family':<58} {'probe':>5} {'calib':>5} {'m_eff':>5}")
            for r in range(1, a.runs + 1):
                probe, families = run_once(a.binary, a.filter, a.repetitions,
                                           os.path.join(tmp, f"{r}.json"))
                for name, reps in sorted(families.items()):
                    cap = statistics.median(b["machine_capacity"] for b in reps)
                    eff = statistics.median(b["machine_efficiency"] for b in reps)
                    rows += 1
                    good += eff >= 0.8
                    agree += abs(cap / probe - 1) <= 0.2
                    print(f"{r:>3}  {name[:58]:<58} {probe:>5.2f} {cap:>5.2f} {eff:>5.2f}")
    finally:
        if hog:
            hog.kill()
            hog.wait()
    print(f"machine_efficiency ≥ 0.8: {good} of {rows}; probe and calibration within 20 %: "
          f"{agree} of {rows}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
