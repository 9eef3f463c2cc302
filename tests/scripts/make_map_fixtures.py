#!/usr/bin/env python3
"""Writes the fixtures of scripts/map's tests: a small decision map run (map_run/results.json and
python.json) and a crossover run (crossover_run/results.json and python.json), Google Benchmark
JSON as scripts/map merges it, with the binary's tables (fixtures/concbench_tables.json) in the
context. Every time is a literal, so the tests can state their verdicts exactly.

    python3 tests/scripts/make_map_fixtures.py   # rewrites the two folders

The map: 8 tasks of 1 step, cpu_us ∈ {0, 1000} × io_ms ∈ {0, 10}.
  C++, CPU 0 / wait 0:       sync 1 µs, async 4 µs (5 repetitions each, apart: a clear winner,
                             ×4, p = 0.008); threads raced out after 1 repetition (100 µs)
  C++, CPU 1,000 / wait 0:   processes and async.processes interleaved around 4 ms: a tie;
                             threads failed
  C++, CPU 0 / wait 10:      async 10.2 ms, threads 11 ms: a clear winner
  C++, CPU 1,000 / wait 10:  async.offload 12 ms, threads 14 ms; processes failed
  Python, CPU 0 / wait 0:    python.sync 3 µs, python.async 40 µs
  Python, CPU 1,000 / wait 0: python.processes 6 ms, python.threads 9 ms (the GIL)
The crossover: §4's cpu at n ∈ {1e4, 1e5, 1e6, 1e7} for sync and processes.with_startup, C++
(the pool 10× slower at 1e4, 2× faster from 1e6) and Python (the pool never faster).
"""
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "fixtures")

with open(os.path.join(FIXTURES, "concbench_tables.json")) as f:
    TABLES = json.load(f)

CONTEXT = {"date": "2026-12-06T10:00:00+00:00", "host_name": "fixture", "hostname": "fixture",
           "num_cpus": 2, "usable_cores": "2", "concbench_suite": "map",
           **{f"concbench_{t}": json.dumps({t: rows}) for t, rows in TABLES.items()}}

# Five spreads around a median, the same for every benchmark: no ties between two benchmarks
# whose medians differ by more than 3 %.
SPREAD = (0.98, 0.99, 1.00, 1.01, 1.02)
# Two interleaved samples with nearly the same median: the U test cannot separate them.
TIE_A = (3.90, 3.98, 4.00, 4.06, 4.10)
TIE_B = (3.94, 3.96, 4.02, 4.04, 4.12)


def rows(name, times_s, ideal_s=None, checksum=36):
    out = []
    for i, t in enumerate(times_s):
        r = {"name": name, "run_name": name, "run_type": "iteration", "repetitions": len(times_s),
             "repetition_index": i, "threads": 1, "iterations": 1, "real_time": t * 1e3,
             "cpu_time": t * 1e3, "time_unit": "ms", "checksum": float(checksum)}
        if ideal_s is not None:
            r["ideal_s"] = ideal_s
        out.append(r)
    return out


def error(name, message):
    return [{"name": name, "run_name": name, "run_type": "iteration", "repetitions": 1,
             "repetition_index": 0, "threads": 1, "error_occurred": True,
             "error_message": message, "iterations": 0, "real_time": 0.0, "cpu_time": 0.0,
             "time_unit": "ms"}]


def five(median_s):
    return [median_s * s for s in SPREAD]


def mixed(model, cpu, io, workers=None, chunksize=None, lang=""):
    args = [("tasks", 8)] + ([("workers", workers)] if workers else []) + \
        [("cpu_us", cpu), ("io_ms", io), ("steps", 1)] + \
        ([("chunksize", chunksize)] if chunksize else [])
    return "/".join([f"{lang}{model}", "mixed"] + [f"{k}:{v}" for k, v in args] + ["real_time"])


def map_run():
    b = []
    b += rows(mixed("sync", 0, 0), five(1e-6), ideal_s=0)
    b += rows(mixed("async", 0, 0), five(4e-6), ideal_s=0)
    b += rows(mixed("threads", 0, 0, workers=64), [100e-6], ideal_s=0)
    b += rows(mixed("processes", 1000, 0, workers=2, chunksize=1), [t * 1e-3 for t in TIE_A],
              ideal_s=4e-3)
    b += rows(mixed("async.processes", 1000, 0, workers=2), [t * 1e-3 for t in TIE_B],
              ideal_s=4e-3)
    b += error(mixed("threads", 1000, 0, workers=64), "checksum mismatch: got 35, expected 36")
    b += rows(mixed("async", 0, 10), five(10.2e-3), ideal_s=10e-3)
    b += rows(mixed("threads", 0, 10, workers=64), five(11e-3), ideal_s=10e-3)
    b += rows(mixed("async.offload", 1000, 10), five(12e-3), ideal_s=11e-3)
    b += rows(mixed("threads", 1000, 10, workers=64), five(14e-3), ideal_s=11e-3)
    b += error(mixed("processes", 1000, 10, workers=2, chunksize=1),
               "worker 4242 exited with status 3")
    screening = {"threads/mixed/tasks:8/workers:64/cpu_us:0/io_ms:0/steps:1": 100e-6,
                 "sync/mixed/tasks:8/cpu_us:0/io_ms:0/steps:1": 1e-6,
                 "async/mixed/tasks:8/cpu_us:0/io_ms:0/steps:1": 4.1e-6}
    cpp = {"context": dict(CONTEXT, concbench_map_screening=json.dumps(screening)),
           "benchmarks": b}
    p = []
    p += rows(mixed("sync", 0, 0, lang="python."), five(3e-6), ideal_s=0)
    p += rows(mixed("async", 0, 0, lang="python."), five(40e-6), ideal_s=0)
    p += rows(mixed("processes", 1000, 0, workers=2, chunksize=1, lang="python."), five(6e-3),
              ideal_s=4e-3)
    p += rows(mixed("threads", 1000, 0, workers=64, lang="python."), five(9e-3), ideal_s=8e-3)
    py = {"context": dict(CONTEXT, python_version="3.11.2"), "benchmarks": p}
    return cpp, py


def cpu(model, n, lang="", workers=None):
    args = [("tasks", 4)] + ([("workers", workers)] if workers else []) + [("n", n)] + \
        ([("chunksize", 1)] if workers else [])
    return "/".join([f"{lang}{model}", "cpu"] + [f"{k}:{v}" for k, v in args] + ["real_time"])


def crossover_run():
    ns = (10_000, 100_000, 1_000_000, 10_000_000)
    b, p = [], []
    for n in ns:
        serial = 4 * n * 1.3e-9
        b += rows(cpu("sync", n), five(serial))
        # the pool's start-up, 1 ms, then half the serial time
        b += rows(cpu("processes.with_startup", n, workers=2), five(1e-3 + serial / 2))
        py_serial = 4 * n * 60e-9
        p += rows(cpu("sync", n, "python."), five(py_serial))
        p += rows(cpu("processes.with_startup", n, "python.", workers=2),
                  five(py_serial * 1.5 + 50e-3))
    ctx = dict(CONTEXT, concbench_suite="crossover")
    return {"context": ctx, "benchmarks": b}, {"context": ctx, "benchmarks": p}


def write(folder, cpp, py):
    os.makedirs(os.path.join(FIXTURES, folder), exist_ok=True)
    for name, data in (("results.json", cpp), ("python.json", py)):
        with open(os.path.join(FIXTURES, folder, name), "w") as f:
            json.dump(data, f, indent=1)
            f.write("\n")


if __name__ == "__main__":
    write("map_run", *map_run())
    write("crossover_run", *crossover_run())
