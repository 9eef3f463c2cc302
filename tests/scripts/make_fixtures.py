#!/usr/bin/env python3
"""Writes the JSON fixtures of the script tests (tests/scripts/fixtures/).

The fixtures are Google Benchmark 1.7.1 JSON as concbench writes it, built by hand for every
model (sync, threads, async, processes and their variants) with realistic values taken from this
machine's sync runs and from the model issues' expectations, so the charts can be tested before
every model has landed. Deterministic: run it again and the files are identical.

Their contexts carry the binary's tables of models, workloads and cells as the binary writes
them (concbench_models, concbench_workloads, concbench_cells), from a saved copy of its
--list_models, --list_workloads and --list_cells: fixtures/concbench_tables.json. --binary=PATH
first saves that copy again from the binary (the test scripts_cell_table says when it is stale).

    python3 tests/scripts/make_fixtures.py   # rewrites tests/scripts/fixtures/*.json
    python3 tests/scripts/make_fixtures.py --binary=build/release/concbench
"""
import argparse
import json
import math
import os
import random
import subprocess

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "fixtures")
TABLES = os.path.join(OUT, "concbench_tables.json")
TABLE_NAMES = ("models", "workloads", "cells")


def save_tables(binary):
    """fixtures/concbench_tables.json from the binary: {"models": [...], "workloads": [...],
    "cells": [...]}, the rows as --list_<table> prints them."""
    tables = {}
    for t in TABLE_NAMES:
        out = subprocess.run([binary, f"--list_{t}"], capture_output=True, text=True, check=True,
                             timeout=60).stdout
        tables[t] = json.loads(out)[t]
    with open(TABLES, "w") as f:
        json.dump(tables, f, indent=2, ensure_ascii=False)
        f.write("\n")


def table_context():
    """The context keys the binary writes its tables into, from the saved copy."""
    with open(TABLES) as f:
        tables = json.load(f)
    return {f"concbench_{t}": json.dumps({t: tables[t]}, ensure_ascii=False)
            for t in TABLE_NAMES}

CONTEXT = {
    "date": "2026-11-25T18:40:00+00:00", "host_name": "vm", "executable": "build/release/concbench",
    "num_cpus": 2, "mhz_per_cpu": 2445, "cpu_scaling_enabled": False, "caches": [],
    "load_avg": [0.5, 0.4, 0.3], "library_build_type": "debug",
    "concbench_build_type": "Release", "concbench_compiler": "GNU 12.2.0",
    "concbench_git_commit": "2660751a545b", "concbench_options": "suite=notebook",
    "concbench_sanitize": "none", "concbench_suite": "notebook", "concbench_version": "0.1.0",
    "hostname": "vm", "kernel": "Linux 6.18.44 x86_64", "libuv_version": "1.44.2",
    "rlimit_nofile": "20000/20000", "rlimit_nproc": "96365/96365", "usable_cores": "2",
    "uv_threadpool_size": "default (4)",
}

CPU_S = {"cpu": 0.33e-3, "trabajo": 0.083e-3, "tarea_normal": 0.58e-3}  # one task, this machine
CORES = 2


_ONE = {}


def _one(workload, x, n):
    """The notebook's functions, to give the fixtures their true checksums."""
    key = (workload, x, n)
    if key not in _ONE:
        if workload == "cpu":
            _ONE[key] = sum((i * i) % 97 for i in range(n))
        elif workload == "trabajo":
            _ONE[key] = sum((x + i) % 97 for i in range(50_000))
        else:
            _ONE[key] = sum((x + i) % 101 for i in range(300_000))
    return _ONE[key]


def cpu_checksum(workload, args):
    t = args["tasks"]
    if workload == "cpu":
        return t * _one("cpu", 0, args.get("n", 200_000))
    return sum(_one(workload, x, 0) for x in range(t))


def name(model, workload, args, iterations=None):
    parts = [model, workload] + [f"{k}:{v}" for k, v in args.items()]
    if iterations:
        parts.append(f"iterations:{iterations}")
    return "/".join(parts) + "/real_time"


class Writer:
    def __init__(self, reps, seed):
        self.rows = []
        self.family = {}
        self.reps = reps
        self.rng = random.Random(seed)

    def add(self, model, workload, args, measured_s, counters, iterations=None, noise=0.02,
            error=None):
        run_name = name(model, workload, args, iterations)
        fam = f"{model}/{workload}"
        fi = self.family.setdefault(fam, len(self.family))
        common = {"family_index": fi, "per_family_instance_index": 0, "run_name": run_name,
                  "repetitions": self.reps, "threads": 1}
        if error:
            self.rows.append({"name": run_name, **common, "run_type": "iteration",
                              "repetition_index": 0, "error_occurred": True,
                              "error_message": error, "iterations": 0, "real_time": 0.0,
                              "cpu_time": 0.0, "time_unit": "ms"})
            return
        reps = []
        for i in range(self.reps):
            t = measured_s * (1 + noise * self.rng.uniform(-1, 1))
            c = {}
            for k, v in counters.items():
                c[k] = v(t) if callable(v) else v
            row = {"name": run_name, **common, "run_type": "iteration", "repetition_index": i,
                   "iterations": iterations or max(1, int(0.5 / max(measured_s, 1e-6))),
                   "real_time": t * 1e3, "cpu_time": t * 1e3 * c.get("cpu_util", 1.0),
                   "time_unit": "ms", **dict(sorted(c.items()))}
            reps.append(row)
            self.rows.append(row)
        if self.reps > 1:
            for agg in ("mean", "median", "stddev", "cv"):
                row = {"name": f"{run_name}_{agg}", **common, "run_type": "aggregate",
                       "aggregate_name": agg,
                       "aggregate_unit": "percentage" if agg == "cv" else "time",
                       "iterations": self.reps, "time_unit": "ms"}
                for key in ["real_time", "cpu_time"] + sorted(counters):
                    vals = [r[key] for r in reps]
                    m = sum(vals) / len(vals)
                    sd = math.sqrt(sum((v - m) ** 2 for v in vals) / (len(vals) - 1))
                    row[key] = {"mean": m, "median": sorted(vals)[len(vals) // 2], "stddev": sd,
                                "cv": sd / m if m else 0}[agg]
                self.rows.append(row)

    def model_row(self, model, workload, args, ideal_s, measured_s, checksum, cpu_util,
                  ctx, extra=None, iterations=None, noise=0.02):
        counters = {
            "ideal_s": ideal_s,
            "overhead_s": lambda t: t - ideal_s,
            "efficiency": lambda t: ideal_s / t,
            "checksum": float(checksum),
            "cpu_util": cpu_util,
            "ctx_switches": ctx,
            "items_per_second": lambda t: args.get("tasks", 1) / t,
        }
        counters.update(extra or {})
        self.add(model, workload, args, measured_s, counters, iterations, noise)

    def write(self, filename, suite, compact=False, **context):
        ctx = dict(CONTEXT, concbench_suite=suite, concbench_options=f"suite={suite}",
                   **table_context(), **context)
        data = {"context": ctx, "benchmarks": self.rows}
        os.makedirs(os.path.dirname(os.path.join(OUT, filename)), exist_ok=True)
        with open(os.path.join(OUT, filename), "w") as f:
            json.dump(data, f, indent=None if compact else 2)
            f.write("\n")


def iters(expected_s, budget=0.5):
    return int(min(max(math.ceil(budget / expected_s), 1), 1e6)) if expected_s > 0 else 1000000


def makespan(tasks, s, workers, chunksize=1):
    chunks = math.ceil(tasks / chunksize)
    return math.ceil(chunks / workers) * chunksize * s


def sleep_rows(w, model, tasks, sleep_ms, workers=None, chunksize=None):
    s = sleep_ms / 1e3
    args = {"tasks": tasks}
    if workers is not None:
        args["workers"] = workers
    args["sleep_ms"] = sleep_ms
    if chunksize is not None:
        args["chunksize"] = chunksize
    if model == "sync":
        ideal, over = tasks * s, 60e-6 * tasks
    elif model == "threads":
        ideal, over = makespan(tasks, s, workers), 8e-6 * tasks + 20e-6
    elif model == "threads.per_task":
        ideal, over = s, 35e-6 * tasks
    elif model == "async":
        ideal, over = s, 0.6e-6 * tasks + 40e-6
    elif model == "async.sequential":
        ideal, over = tasks * s, 55e-6 * tasks
    elif model == "async.blocking":
        ideal, over = s, (tasks - 1) * s + 60e-6 * tasks
    elif model == "processes":
        ideal, over = makespan(tasks, s, workers, chunksize or 1), 45e-6 * tasks + 80e-6
    elif model == "processes.per_task":
        ideal, over = s, 900e-6 * tasks
    else:
        raise ValueError(model)
    w.model_row(model, "sleep", args, ideal, ideal + over, tasks * (tasks + 1) // 2, 0.002,
                tasks * 1.0, iterations=iters(ideal + over),
                noise=min(0.02, 20e-6 / (ideal + over) + 1e-4))


def cpu_rows(w, model, workload, tasks, workers=None, n=None, chunksize=None, payload=None,
             extra_ipc=False):
    one = CPU_S[workload] * (n / 200_000 if n else 1)
    args = {"tasks": tasks}
    if workers is not None:
        args["workers"] = workers
    if n is not None:
        args["n"] = n
    if chunksize is not None:
        args["chunksize"] = chunksize
    if payload is not None:
        args["payload"] = payload
    extra = {}
    if model == "sync":
        ideal, over, util = tasks * one, 0.06 * tasks * one, 0.99
    elif model == "threads":
        ideal = makespan(tasks, one, min(workers, CORES))
        over, util = 10e-6 * tasks + 30e-6, min(workers, CORES) * 0.97
    elif model == "threads.gil":
        ideal, over, util = tasks * one, 0.08 * tasks * one + 5e-6 * tasks, 1.0
    elif model.startswith("processes"):
        c = chunksize or 1
        ideal = makespan(tasks, one, min(workers, CORES), c)
        msgs = 2 * math.ceil(tasks / c)
        per_msg = 12e-6 + (payload or 0) * 2 * c / 1.5e9
        over = msgs * per_msg / min(workers, CORES) + 60e-6
        util = min(workers, CORES) * 0.9
        if model == "processes.with_startup":
            over += 1.1e-3  # forking and reaping the pool
        extra = {"ipc_messages": float(msgs), "ipc_bytes": float(msgs * (16 + (payload or 0) * c))}
    else:
        raise ValueError(model)
    w.model_row(model, workload, args, ideal, ideal + over, cpu_checksum(workload, args), util,
                0.02 * tasks, extra)


def notebook_rows(w):
    """Rows of the notebook suite, named as the binary names them (the cells' benchmarks in
    --list_cells); the process cells' with_startup trabajo and tarea_normal rows are left to
    notebook_run, so notebook_all_models stands for an older run without them."""
    sleep_rows(w, "sync", 5, 500)                              # 1
    cpu_rows(w, "sync", "cpu", 4, n=200000)
    cpu_rows(w, "sync", "trabajo", 200)
    cpu_rows(w, "sync", "tarea_normal", 4)
    sleep_rows(w, "threads", 5, 500, workers=5)                # 2
    sleep_rows(w, "threads", 5, 200, workers=5, chunksize=1)   # 5.2
    for variant, t, lost in (("race", 0.16e-3, 61234.0), ("mutex", 4.1e-3, 0.0),
                             ("atomic", 1.9e-3, 0.0), ("local", 0.05e-3, 0.0)):   # 2.1
        w.add(f"threads.{variant}", "counter", {"threads": 2, "increments": 100000}, t,
              {"lost_updates": lost, "cpu_util": 1.8, "ctx_switches": 2.0})
    cpu_rows(w, "threads", "cpu", 4, workers=4, n=200000)      # 4
    cpu_rows(w, "threads.gil", "cpu", 4, workers=4, n=200000)
    sleep_rows(w, "async", 5, 500)                             # 3
    sleep_rows(w, "async.sequential", 5, 300)                  # 3.1 and 5.1
    sleep_rows(w, "async.blocking", 5, 100)
    cpu_rows(w, "processes", "cpu", 4, workers=2, n=200000, chunksize=1)    # 4
    cpu_rows(w, "processes.with_startup", "cpu", 4, workers=2, n=200000, chunksize=1)
    cpu_rows(w, "processes", "trabajo", 200, workers=2, chunksize=1)   # 4.1
    cpu_rows(w, "processes", "trabajo", 200, workers=2, chunksize=20)
    cpu_rows(w, "processes", "tarea_normal", 4, workers=2, chunksize=1)     # 5.3
    w.add("processes", "startup", {"workers": 2}, 0.9e-3, {"cpu_util": 0.8, "ctx_switches": 6.0})
    w.add("sync", "memory", {"n": 300000}, 2.1e-3,
          {"rss_kib_before": 3400.0, "rss_kib_after": 4580.0, "rss_kib_released": 3410.0})


def notebook():
    w = Writer(reps=3, seed=1)
    notebook_rows(w)
    w.write("notebook_all_models.json", "notebook")


def notebook_run():
    """A notebook run's folder as scripts/run writes it, with 5 repetitions (enough for a
    verdict): the C++ suite's cells in results.json and the notebook's own Python, run beside
    it, in python.json (python.<model> names with the C++ twin's arguments)."""
    w = Writer(reps=5, seed=7)
    notebook_rows(w)
    sleep_rows(w, "sync", 1, 100)                              # 0
    w.model_row("async.coro", "sleep", {"tasks": 5, "sleep_ms": 500}, 0.5, 0.50055, 15, 0.002, 5.0,
                iterations=1, noise=1e-4)
    w.model_row("async.coro.sequential", "sleep", {"tasks": 5, "sleep_ms": 300}, 1.5, 1.5022, 15,
                0.002, 5.0, iterations=1, noise=1e-4)
    cpu_rows(w, "processes.with_startup", "trabajo", 200, workers=2, chunksize=1, payload=0)
    cpu_rows(w, "processes.with_startup", "trabajo", 200, workers=2, chunksize=20, payload=0)
    cpu_rows(w, "processes.with_startup", "tarea_normal", 4, workers=2, chunksize=1)
    w.add("sync", "alloc", {"n": 300000}, 0.7e-3,
          {"checksum": 44999850000.0, "rss_kib": 2344.0, "bytes_per_item": 8.0})
    w.write(os.path.join("notebook_run", "results.json"), "notebook")

    py = Writer(reps=5, seed=8)
    def sleep(model, args, measured, ideal):
        t = args["tasks"]
        py.add("python." + model, "sleep", args, measured,
               {"checksum": float(t * (t + 1) // 2), "ideal_s": ideal,
                "efficiency": lambda x: ideal / x, "overhead_s": lambda x: x - ideal}, noise=0.002)
    sleep("sync", {"tasks": 1, "sleep_ms": 100}, 0.1002, 0.1)                          # 0
    sleep("sync", {"tasks": 5, "sleep_ms": 500}, 2.5052, 2.5)                          # 1
    sleep("threads", {"tasks": 5, "workers": 5, "sleep_ms": 500}, 0.5061, 0.5)         # 2
    for variant, t in (("race", 0.0365), ("mutex", 0.324)):                            # 2.1
        py.add(f"python.threads.{variant}", "counter", {"threads": 2, "increments": 100000}, t,
               {"lost_updates": 0.0})
    sleep("async", {"tasks": 5, "sleep_ms": 500}, 0.5021, 0.5)                         # 3
    sleep("async.sequential", {"tasks": 5, "sleep_ms": 300}, 1.5081, 1.5)              # 3.1, 5.1
    cpu = float(4 * 9600239)
    py.add("python.sync", "cpu", {"tasks": 4, "n": 200000}, 0.190, {"checksum": cpu})  # 4
    py.add("python.threads", "cpu", {"tasks": 4, "workers": 4, "n": 200000}, 0.193, {"checksum": cpu})
    py.add("python.processes.with_startup", "cpu",
           {"tasks": 4, "workers": 2, "n": 200000, "chunksize": 1}, 0.236, {"checksum": cpu})
    for c, t in ((1, 2.16), (20, 2.09)):                                               # 4.1
        py.add("python.processes.with_startup", "trabajo",
               {"tasks": 200, "workers": 2, "chunksize": c, "payload": 0}, t,
               {"checksum": 479993655.0})
    sleep("threads", {"tasks": 5, "workers": 5, "sleep_ms": 200, "chunksize": 1}, 0.2041, 0.2)  # 5.2
    py.add("python.processes.with_startup", "tarea_normal",                            # 5.3
           {"tasks": 4, "workers": 2, "chunksize": 1}, 0.322, {"checksum": 59995920.0})
    py.add("python.sync", "alloc", {"n": 300000}, 0.0446,                              # 6
           {"checksum": 44999850000.0, "rss_kib": 9316.0})
    py.write(os.path.join("notebook_run", "python.json"), "notebook",
             python_version="3.11.7", python_implementation="CPython", gil_enabled=True)


class ChangedWriter(Writer):
    """A Writer that changes some benchmarks on their way in, by their names without
    iterations:N: factor (times the time), noise, reps, iterations, error, or drop."""

    def __init__(self, reps, seed, changes):
        super().__init__(reps, seed)
        self.changes = changes

    def add(self, model, workload, args, measured_s, counters, iterations=None, noise=0.02,
            error=None):
        key = "/".join([model, workload] + [f"{k}:{v}" for k, v in args.items()])
        change = self.changes.get(key, {})
        if change.get("drop"):
            return
        reps, self.reps = self.reps, change.get("reps", self.reps)
        try:
            super().add(model, workload, args, measured_s * change.get("factor", 1.0), counters,
                        change.get("iterations", iterations), change.get("noise", noise),
                        change.get("error", error))
        finally:
            self.reps = reps


# What run B of the compare fixtures changes against run A, and the verdict each should get.
COMPARE_CHANGES = {
    "threads/cpu/tasks:4/workers:4/n:200000": {"factor": 0.8},                  # faster
    "processes/cpu/tasks:4/workers:2/n:200000/chunksize:1": {"factor": 1.15},   # slower
    "async/sleep/tasks:5/sleep_ms:500": {"factor": 1.004},    # significant, but under 1 %
    "threads.race/counter/threads:2/increments:100000": {"noise": 0.3},         # too noisy
    "sync/memory/n:300000": {"reps": 3},                                        # too few
    "threads/sleep/tasks:5/workers:5/sleep_ms:200/chunksize:1": {"iterations": 4},  # matched
    "processes/startup/workers:2": {"drop": True},                              # only in A
    "processes/tarea_normal/tasks:4/workers:2/chunksize:1": {
        "error": "worker 2 (pid 5150) exited with status 1 during task 3"},      # failed in B
}


def compare_runs():
    """Two notebook runs of 5 repetitions for scripts/compare: A as is, B with COMPARE_CHANGES
    and one benchmark A does not have."""
    a = ChangedWriter(reps=5, seed=11, changes={})
    notebook_rows(a)
    a.write("compare_A.json", "notebook", compact=True, load_avg=[0.31, 0.42, 0.5])
    b = ChangedWriter(reps=5, seed=12, changes=COMPARE_CHANGES)
    notebook_rows(b)
    b.add("async", "startup", {}, 0.05e-3, {"cpu_util": 0.9, "ctx_switches": 1.0})  # only in B
    b.write("compare_B.json", "notebook", compact=True, load_avg=[1.2, 0.9, 0.7],
            concbench_git_commit="7870429c0ffe", date="2026-11-26T09:12:00+00:00")


# scripts/ab's paired session: (benchmark, what B does to each pair's ratio B/A). Every A time
# drifts up by half over the session (a machine slowing down), which the pairs cancel.
AB_PAIRS = 12
AB_BENCHMARKS = {
    "sync/sleep/tasks:2/sleep_ms:1": ("identical", 2.2e-3),            # no change, ratio 1
    "sync/cpu/tasks:2/n:1000": ("shift 10", 2.8e-6),                   # slower, +10 %
    "threads/cpu/tasks:2/workers:2/n:1000": ("shift 10, one wild", 24e-6),  # slower despite it
    "threads/startup/workers:2": ("noisy", 135e-6),                    # too noisy
    "sync/trabajo/tasks:3": ("shift 1", 165e-6),                       # no change (under 2 %)
    "processes/cpu/tasks:2/workers:2/n:1000/chunksize:1": ("fails in B", 1.2e-3),
}


def ab_runs():
    """A.json and B.json of a scripts/ab session of AB_PAIRS pairs: one row per pair and
    benchmark, repetition_index = the pair."""
    rng = random.Random(23)
    rows = {"A": [], "B": []}
    for fi, (bench, (what, base)) in enumerate(AB_BENCHMARKS.items()):
        run_name = bench + "/iterations:10/real_time"
        for i in range(AB_PAIRS):
            a = base * (1 + 0.5 * i / (AB_PAIRS - 1)) * (1 + 0.01 * rng.uniform(-1, 1))
            jitter = 1 + 0.005 * rng.uniform(-1, 1)
            ratio = {"identical": 1.0, "shift 10": 1.10 * jitter, "shift 1": 1.01 * jitter,
                     "noisy": math.exp(rng.gauss(0, 0.3)), "fails in B": jitter,
                     "shift 10, one wild": 3.0 if i == 5 else 1.10 * jitter}[what]
            for side, t in (("A", a), ("B", a * ratio)):
                row = {"name": run_name, "family_index": fi, "per_family_instance_index": 0,
                       "run_name": run_name, "run_type": "iteration", "repetitions": AB_PAIRS,
                       "repetition_index": i, "threads": 1, "iterations": 10,
                       "real_time": t * 1e3, "cpu_time": t * 1e3, "time_unit": "ms"}
                if side == "B" and what == "fails in B" and i == 3:
                    row.update(error_occurred=True, error_message="worker 1 (pid 4242) killed "
                               "by signal 9 (SIGKILL) during task 2", real_time=0.0)
                rows[side].append(row)
    for side in ("A", "B"):
        ctx = dict(CONTEXT, concbench_suite="smoke", concbench_options="suite=smoke",
                   ab_side=side, ab_pairs=AB_PAIRS, ab_seed=23)
        if side == "B":
            ctx.update(concbench_inject_slowdown_pct="10",
                       concbench_options="suite=smoke inject_slowdown=10")
        with open(os.path.join(OUT, f"ab_{side}.json"), "w") as f:
            json.dump({"context": ctx, "benchmarks": rows[side]}, f)
            f.write("\n")


def sweep():
    w = Writer(reps=1, seed=2)  # a sweep runs one repetition by default
    for sleep_ms in (1, 10):
        for tasks in (1, 4, 16, 64, 256):
            sleep_rows(w, "sync", tasks, sleep_ms)
            for workers in (1, 4, 16):
                sleep_rows(w, "threads", tasks, sleep_ms, workers=workers)
            sleep_rows(w, "threads.per_task", tasks, sleep_ms)
            sleep_rows(w, "async", tasks, sleep_ms)
            sleep_rows(w, "async.sequential", tasks, sleep_ms)
            sleep_rows(w, "processes", tasks, sleep_ms, workers=4, chunksize=1)
    for tasks in (8,):
        cpu_rows(w, "sync", "cpu", tasks, n=200000)
        for workers in (1, 2, 4, 8):
            cpu_rows(w, "threads", "cpu", tasks, workers=workers, n=200000)
            cpu_rows(w, "threads.gil", "cpu", tasks, workers=workers, n=200000)
            cpu_rows(w, "processes", "cpu", tasks, workers=workers, n=200000)
        for workers in (1, 2, 4, 8):
            sleep_rows(w, "threads", 64, 10, workers=workers)
            sleep_rows(w, "processes", 64, 10, workers=workers, chunksize=1)
    cpu_rows(w, "sync", "trabajo", 200)
    for payload in (0, 1024, 65536):
        for c in (1, 2, 5, 10, 20, 50, 100, 200):
            cpu_rows(w, "processes", "trabajo", 200, workers=2, chunksize=c, payload=payload)
    for model, per_task_kib, top in (("threads.per_task", 72.0, 10000), ("async", 0.31, 100000),
                                     ("processes.per_task", 180.0, 1000)):
        for tasks in (10, 100, 1000, 10000, 100000):
            if tasks > top:
                continue
            extra = {"rss_kib": 3500 + per_task_kib * tasks,
                     "rss_kib_per_task": per_task_kib * (1 + 30 / tasks)}
            if model.startswith("processes"):
                extra["pss_kib_per_task"] = per_task_kib * 0.6
            per_task_s = 2e-6 * (50 if "per_task" in model else 1)
            w.add(model, "memory", {"tasks": tasks}, per_task_s * tasks,
                  {**extra, "cpu_util": 1.0, "ctx_switches": float(tasks)})
    w.write("sweep_all_models.json", "sweep", compact=True)


def errors():
    w = Writer(reps=1, seed=3)
    sleep_rows(w, "sync", 2, 1)
    sleep_rows(w, "threads", 2, 1, workers=2)
    w.add("processes", "cpu", {"tasks": 4, "workers": 2, "n": 1000}, 0, {},
          error="worker 1 (pid 4242) killed by signal 9 (SIGKILL) during task 2")
    w.write("with_errors.json", "smoke")


def partial():
    """A run stopped by the binary's watchdog: what finished, the benchmark it cut short (its
    error is the partial reason) and 23 planned benchmarks that never ran."""
    w = Writer(reps=3, seed=5)
    for tasks in (2, 8):
        sleep_rows(w, "sync", tasks, 1)
        sleep_rows(w, "threads", tasks, 1, workers=2)
    reason = ("timed out: async/sleep/tasks:8/sleep_ms:1/real_time ran 12.0 s past its deadline "
              "of 60 s")
    w.add("async", "sleep", {"tasks": 8, "sleep_ms": 1}, 0, {}, error=reason)
    not_run = [name(m, "sleep", {"tasks": t, **({"workers": 2} if m == "processes" else {}),
                                 "sleep_ms": 1})
               for m in ("async", "processes") for t in (16, 32, 64, 128, 256, 512)]
    not_run += [name("processes", "cpu", {"tasks": t, "workers": 2, "n": 1000})
                for t in range(1, 12)]
    w.write("partial.json", "smoke", concbench_partial=reason,
            concbench_not_run="; ".join(not_run))


def bad_inputs():
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, "empty.json"), "w"):
        pass
    with open(os.path.join(OUT, "notebook_all_models.json")) as f:
        text = f.read()
    with open(os.path.join(OUT, "truncated.json"), "w") as f:
        f.write(text[:1500])
    with open(os.path.join(OUT, "foreign.json"), "w") as f:
        json.dump({"context": {"date": "2026-01-01", "num_cpus": 8},
                   "benchmarks": [{"name": "BM_memcpy/8", "run_name": "BM_memcpy/8",
                                   "run_type": "iteration", "real_time": 3.2,
                                   "cpu_time": 3.2, "time_unit": "ns", "iterations": 1000}]},
                  f, indent=2)
        f.write("\n")
    with open(os.path.join(OUT, "not_benchmark.json"), "w") as f:
        json.dump({"name": "package.json", "version": "1.0.0"}, f)
        f.write("\n")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--binary", help="save the tables from this concbench binary first")
    if parser.parse_args().binary:
        save_tables(parser.parse_args().binary)
    notebook()
    notebook_run()
    compare_runs()
    ab_runs()
    sweep()
    errors()
    partial()
    bad_inputs()
