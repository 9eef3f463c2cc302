#!/usr/bin/env python3
"""Writes the trace fixtures of the script tests (tests/scripts/fixtures/traces/): the C++ and the
Python traces of a few notebook cells, cut from the traces of a real run, so that the timeline
charts are tested on what the writers really produce.

    python3 tests/scripts/make_trace_fixtures.py results/<run>/trace.json \
        results/<run>/python_trace.json

Keeps the benchmarks of CELLS (by the fixtures' cell table, fixtures/concbench_tables.json),
drops the per-event "benchmark" argument (the batch keeps it) and renumbers the processes, so the
files stay small. The kept cells cover every kind of lane and mark: threads, the event loop, a
GIL-like lock, worker processes with their start-up, and 200 tasks in chunks of 20.
"""
import argparse
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(HERE)), "scripts"))

import concbench_results as cr  # noqa: E402
import timeline  # noqa: E402
import trace_read as tr  # noqa: E402

OUT = os.path.join(HERE, "fixtures", "traces")
CELLS = ("2", "3", "4.gil", "4.processes", "4.1.chunk20")


def cut(path: str, model_of, out: str) -> None:
    data = tr.load(path)
    cells = [c for c in cr.cells_of(json.load(open(os.path.join(HERE, "fixtures",
                                                                "concbench_tables.json")))["cells"])
             if c.id in CELLS]
    keep = {}
    for p in tr.processes(data):
        for c in cells:
            if timeline._matches(p, model_of(c), c) and p.pid not in keep:
                keep[p.pid] = len(keep) + 1
    events = [e for e in data["traceEvents"] if e.get("pid") == 0]
    for e in data["traceEvents"]:
        if e.get("pid") in keep:
            e = dict(e, pid=keep[e["pid"]])
            if e.get("cat") != "batch" and isinstance(e.get("args"), dict):
                e["args"] = {k: v for k, v in e["args"].items() if k != "benchmark"}
            if e.get("name") == "process_sort_index":
                e["args"] = {"sort_index": e["pid"]}
            events.append(e)
    data["traceEvents"] = events
    with open(out, "w") as f:
        json.dump(data, f, separators=(",", ":"))
        f.write("\n")


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("cpp_trace")
    p.add_argument("python_trace")
    args = p.parse_args()
    os.makedirs(OUT, exist_ok=True)
    cut(args.cpp_trace, lambda c: c.model, os.path.join(OUT, timeline.CPP_TRACE))
    cut(args.python_trace, lambda c: c.python, os.path.join(OUT, timeline.PYTHON_TRACE))


if __name__ == "__main__":
    main()
