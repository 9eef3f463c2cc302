"""Compares two concbench runs with Google Benchmark's own compare.py.

    scripts/compare results/<run A> results/<run B> [compare.py options, e.g. -a --no-color]

A and B are results folders (or results.json files); A is the baseline. Both are checked first
(a malformed or foreign file gets one line and exit 2). Benchmarks that failed in either run are
left out of the comparison — compare.py would show a failure as a time of 0 — and so are those
present in only one run; both kinds are listed before the table. The table is compare.py's:
for each benchmark, the relative change of wall time and CPU time from A to B (−0.25 = 25 %
faster), the old and new times in the benchmark's unit, and with 2+ repetitions a Mann-Whitney
U test (`_pvalue` rows). `-a` shows only the aggregates (mean, median, stddev, cv).

compare.py comes from Debian's libbenchmark-tools (/usr/share/benchmark/compare.py) and needs
python3-scipy; set CONCBENCH_COMPARE_PY to use another copy.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile

import concbench_results as cr

COMPARE_CANDIDATES = ("/usr/share/benchmark/compare.py",)


def find_compare_py() -> str:
    env = os.environ.get("CONCBENCH_COMPARE_PY")
    if env:
        if not os.path.isfile(env):
            raise cr.ResultsError(f"CONCBENCH_COMPARE_PY={env}: no such file")
        return env
    for c in COMPARE_CANDIDATES:
        if os.path.isfile(c):
            return c
    raise cr.ResultsError("Google Benchmark's compare.py is not installed; install it with: "
                          "apt-get install libbenchmark-tools python3-scipy (or scripts/setup "
                          "as root)")


def read_json(path: str):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def comparable(a: cr.Results, b: cr.Results):
    """run_names measured in both runs; and the notes on what is left out."""
    ok_a = {x.run_name for x in a.ok()}
    ok_b = {x.run_name for x in b.ok()}
    notes = []
    for label, res in (("A", a), ("B", b)):
        for x in res.failed():
            notes.append(f"failed in {label}, not compared: {x.run_name}: {x.errors[0]}")
    all_a = {x.run_name for x in a.benches}
    all_b = {x.run_name for x in b.benches}
    only_a = sorted(all_a - all_b)
    only_b = sorted(all_b - all_a)
    for label, names in (("A", only_a), ("B", only_b)):
        if names:
            shown = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3
                                             else "")
            notes.append(f"only in {label}, not compared: {shown}")
    return ok_a & ok_b, notes


def filtered(data: dict, keep: set) -> dict:
    rows = [r for r in data["benchmarks"] if (r.get("run_name") or r.get("name")) in keep
            and not r.get("error_occurred")]
    return {"context": data["context"], "benchmarks": rows}


def create_parser():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("baseline", help="run A: a results folder or results.json")
    p.add_argument("contender", help="run B: a results folder or results.json")
    p.add_argument("options", nargs=argparse.REMAINDER,
                   help="passed to compare.py before its 'benchmarks' mode (e.g. -a, "
                   "--no-color, --no-utest)")
    return p


def main(argv=None) -> int:
    args = create_parser().parse_args(argv)
    try:
        a = cr.load(args.baseline)
        b = cr.load(args.contender)
        compare_py = find_compare_py()
        keep, notes = comparable(a, b)
        if not keep:
            raise cr.ResultsError(f"{a.path} and {b.path} have no successful benchmark in "
                                  "common: nothing to compare")
        data_a, data_b = read_json(a.path), read_json(b.path)
    except cr.ResultsError as e:
        print(f"fatal: {e}", file=sys.stderr)
        return 2
    for n in notes:
        print(f"note: {n}", file=sys.stderr)
    options = list(args.options)
    if options and options[0] == "--":
        options = options[1:]
    if "--no-color" not in options and not sys.stdout.isatty():
        options.append("--no-color")
    with tempfile.TemporaryDirectory(prefix="concbench-compare-") as tmp:
        pa, pb = os.path.join(tmp, "A.json"), os.path.join(tmp, "B.json")
        for path, data in ((pa, data_a), (pb, data_b)):
            with open(path, "w", encoding="utf-8") as f:
                json.dump(filtered(data, keep), f)
        print(f"A = {a.path}\nB = {b.path}", flush=True)
        try:
            p = subprocess.run([sys.executable, compare_py, *options, "benchmarks", pa, pb],
                               capture_output=True, text=True, timeout=600)
        except OSError as e:
            print(f"fatal: cannot run {compare_py}: {e.strerror or e}", file=sys.stderr)
            return 2
    out = p.stdout.replace(pa, "A").replace(pb, "B")
    sys.stdout.write(out)
    if p.returncode != 0:
        err = [ln for ln in p.stderr.splitlines() if ln.strip()]
        why = err[-1] if err else f"exit {p.returncode}"
        if "scipy" in p.stderr:
            why = "compare.py needs scipy: apt-get install python3-scipy"
        print(f"fatal: compare.py failed: {why}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
