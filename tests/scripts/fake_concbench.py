#!/usr/bin/env python3
"""A stand-in for the concbench binary, for testing scripts/sweep without building or waiting.

It speaks the same command line (--help with the grid flags, --suite, --KEY=LIST overrides,
--no_probe, --no_machine_ideal (named in the context's concbench_options; refused, as an older
binary does, when FAKE_CONCBENCH_OLD=1), --inject_slowdown=PCT (cpu workloads' ideal and time
grow by PCT %),
--benchmark_list_tests, --list_planned (FAKE_PLAN_S seconds planned a repetition, default 0.01),
--benchmark_filter, --benchmark_repetitions, --benchmark_out, and --list_models, --list_workloads,
--list_cells from the saved copy of the real binary's tables in fixtures/concbench_tables.json) and
writes Google Benchmark-shaped JSON whose context carries those tables, as the real one does.
Environment knobs for the error paths:
  FAKE_CONCBENCH_TABLES=PATH   the tables' file, when this copy is away from fixtures/
  FAKE_CONCBENCH_DELAY=S       sleep S seconds per benchmark (to interrupt a sweep mid-run)
  FAKE_CONCBENCH_FAIL=FAMILY   that family's first benchmark reports an error; exit 1
  FAKE_CONCBENCH_CRASH=FAMILY  die (exit 134) in that family before writing any JSON
  FAKE_CONCBENCH_HANG=FAMILY   after that family's first benchmark, wait forever on a child
                               (`sleep 1000`); SIGTERM then writes the partial file (the one
                               running cut short, the rest not run) and exits 143, as concbench
                               does. Its pid, which is its process group, goes to
                               FAKE_CONCBENCH_PIDFILE when set.
  FAKE_CONCBENCH_IGNORE_TERM=1 with _HANG: ignore SIGTERM (the child too), so only SIGKILL ends it
  FAKE_CONCBENCH_NOISE=NAME:PCT  that benchmark's times (full name) wander by up to ±PCT %,
                               at random (the same draws for the same --benchmark_out file
                               name, so that a session with ab's --seed is repeatable): the
                               only benchmark scripts/ab finds too noisy
Like concbench, it rewrites the --benchmark_out file whole after every benchmark, marked
"concbench_partial" until the run is complete.
"""
import itertools
import json
import os
import random
import re
import signal
import subprocess
import sys
import time

# FAKE_CONCBENCH_TABLES names the tables for a copy of this file away from fixtures/ (scripts/ab's
# cached builds in test_ab.py).
with open(os.environ.get("FAKE_CONCBENCH_TABLES") or os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "fixtures", "concbench_tables.json")) as _f:
    TABLES = json.load(_f)

CONTEXT = {"date": "2026-11-25T19:00:00+00:00", "host_name": "fake", "hostname": "fake",
           "usable_cores": "2",
           **{f"concbench_{t}": json.dumps({t: rows}) for t, rows in TABLES.items()}}

FLAGS = {"tasks": (1, 1000000, "tasks per batch"),
         "workers": (1, 4096, "worker threads or processes"),
         "sleep_ms": (0, 60000, "simulated I/O per task, milliseconds"),
         "n": (0, 1000000000, "CPU work size (cpu_intensivo's n)")}

SUITES = {
    "sweep": [
        ("sync/sleep", [("tasks", [1, 4, 16]), ("sleep_ms", [1])]),
        ("threads/sleep", [("tasks", [1, 4, 16]), ("workers", [1, 4]), ("sleep_ms", [1])]),
        ("processes/cpu", [("tasks", [4]), ("workers", [1, 2]), ("n", [1000])]),
    ],
    "smoke": [("sync/sleep", [("tasks", [2]), ("sleep_ms", [1])])],
    "notebook": [("sync/sleep", [("tasks", [5]), ("sleep_ms", [500])])],
}


def die(msg, code=2):
    print(f"concbench: {msg}", file=sys.stderr)
    sys.exit(code)


def main(argv):
    suite, overrides, listing, filt, reps, out = "notebook", {}, False, "", 1, None
    slowdown = 0.0
    plan = False
    options = ""
    for a in argv:
        key, _, value = a[2:].partition("=")
        if a == "--help":
            print("concbench flags:\n  --suite=notebook|smoke|sweep   argument grids\n"
                  "  grid overrides:")
            for k, (lo, hi, meaning) in FLAGS.items():
                print(f"  --{k}=LIST".ljust(34) + f"{meaning}, {lo}..{hi}")
            print("\nGoogle Benchmark flags:\nbenchmark [--benchmark_list_tests={true|false}]")
            return 0
        if key in ("list_models", "list_workloads", "list_cells"):
            table = key[len("list_"):]
            print(json.dumps({table: TABLES[table]}, indent=2))
            return 0
        if key == "suite":
            if value not in SUITES:
                die(f"--suite: unknown suite '{value}'")
            suite = value
        elif key in FLAGS:
            vals = []
            for item in value.split(","):
                if not re.fullmatch(r"-?\d+", item):
                    die(f"--{key}: '{item}' is not an integer")
                v = int(item)
                lo, hi, _ = FLAGS[key]
                if not lo <= v <= hi:
                    die(f"--{key}: '{item}' is out of range")
                vals.append(v)
            overrides[key] = vals
        elif key == "benchmark_list_tests":
            listing = value == "true"
        elif a == "--list_planned":
            plan = True
        elif key == "benchmark_filter":
            filt = value
        elif key == "benchmark_repetitions":
            reps = int(value)
        elif key == "benchmark_out":
            out = value
        elif key == "benchmark_out_format" or a == "--no_probe":
            pass
        elif a == "--no_machine_ideal" and os.environ.get("FAKE_CONCBENCH_OLD") != "1":
            options = " no_machine_ideal"
        elif key == "inject_slowdown":
            try:
                slowdown = float(value)
            except ValueError:
                slowdown = -1
            if not 0 <= slowdown <= 1000:
                die(f"--inject_slowdown needs a number of percent from 0 to 1000, got '{value}'")
        else:
            die(f"unrecognized command-line flag: {a}")
    benches = []
    for family, axes in SUITES[suite]:
        names = [k for k, _ in axes]
        values = [overrides.get(k, v) for k, v in axes]
        for combo in itertools.product(*values):
            name = family + "".join(f"/{k}:{v}" for k, v in zip(names, combo)) + "/real_time"
            if re.search(filt, name):
                benches.append((family, dict(zip(names, combo)), name))
    if not benches:
        die(f"no benchmark matched --benchmark_filter='{filt}'", 1)
    if listing:
        for _, _, name in benches:
            print(name)
        return 0
    if plan:
        per = float(os.environ.get("FAKE_PLAN_S", "0.01"))
        print(json.dumps({"repetitions": reps, "benchmarks": [
            {"name": name, "iterations": 1, "planned_s": reps * per, "estimate_s": per}
            for _, _, name in benches]}))
        return 0
    rows, failed = [], False
    delay = float(os.environ.get("FAKE_CONCBENCH_DELAY", "0"))

    def write(**partial):
        if out:
            extra = {"concbench_inject_slowdown_pct": f"{slowdown:g}"} if slowdown else {}
            with open(out + ".tmp", "w") as f:
                json.dump({"context": {**CONTEXT, "concbench_suite": suite,
                                       "concbench_options": f"suite={suite}{options}",
                                       **extra, **partial},
                           "benchmarks": rows}, f, indent=2)
            os.replace(out + ".tmp", out)

    for i, (family, args, name) in enumerate(benches):
        if os.environ.get("FAKE_CONCBENCH_CRASH") == family:
            print("Aborted", file=sys.stderr)
            return 134
        if os.environ.get("FAKE_CONCBENCH_HANG") == family and i > 0:
            hang(name, [n for _, _, n in benches[i + 1:]], rows, reps, write)
        time.sleep(delay)
        tasks = args.get("tasks", 1)
        ideal = tasks * args.get("sleep_ms", 1) / 1e3 / (args.get("workers", 1))
        if family.endswith("/cpu"):  # calibrated with the slowdown, as concbench's ideal is
            ideal *= 1 + slowdown / 100
        if os.environ.get("FAKE_CONCBENCH_FAIL") == family and i == 0:
            failed = True
            rows.append(error_row(name, reps, "checksum mismatch (fake)"))
            print(f"{name}   ERROR OCCURRED: 'checksum mismatch (fake)'", flush=True)
            write(concbench_partial=f"running: {i + 1} of {len(benches)} benchmarks done")
            continue
        for r in range(reps):
            t = ideal * 1.05 + 1e-4
            noisy, _, pct = os.environ.get("FAKE_CONCBENCH_NOISE", "").rpartition(":")
            if noisy == name:  # at random, but the same for the same output file's name
                draw = random.Random(f"{os.path.basename(out or '')}:{name}:{r}")
                t *= draw.uniform(1 - float(pct) / 100, 1 + float(pct) / 100)
            rows.append({"name": name, "run_name": name, "run_type": "iteration",
                         "repetitions": reps, "repetition_index": r, "threads": 1,
                         "iterations": 10, "real_time": t * 1e3, "cpu_time": 0.01,
                         "time_unit": "ms", "ideal_s": ideal, "overhead_s": t - ideal,
                         "efficiency": ideal / t, "checksum": tasks * (tasks + 1) / 2,
                         "cpu_util": 0.01, "ctx_switches": float(tasks)})
            print(f"{name}   {t * 1e3:.2f} ms   0.010 ms   10 checksum={tasks}", flush=True)
        if reps > 1:
            print(f"{name}_mean   {t * 1e3:.2f} ms   0.010 ms   {reps} checksum={tasks}",
                  flush=True)
        if i + 1 < len(benches):
            write(concbench_partial=f"running: {i + 1} of {len(benches)} benchmarks done")
    write()
    if failed:
        print("concbench: 1 benchmark(s) failed", file=sys.stderr)
        return 1
    return 0


def error_row(name, reps, message):
    return {"name": name, "run_name": name, "run_type": "iteration", "repetitions": reps,
            "repetition_index": 0, "threads": 1, "iterations": 0, "real_time": 0.0,
            "cpu_time": 0.0, "time_unit": "ms", "error_occurred": True, "error_message": message}


def hang(name, not_run, rows, reps, write):
    """Waits forever on a child, as a benchmark stuck in its batch would."""
    ignore = os.environ.get("FAKE_CONCBENCH_IGNORE_TERM") == "1"
    if ignore:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    child = subprocess.Popen(["sleep", "1000"])

    def on_term(_sig, _frame):
        # Not child.wait(): the interrupted wait below holds its lock. The group's SIGTERM may
        # have ended the child, and that wait reaped it, before this handler runs.
        try:
            child.kill()
            os.waitpid(child.pid, 0)
        except ChildProcessError:
            pass
        rows.append(error_row(name, reps, "interrupted by SIGTERM"))
        write(concbench_partial="interrupted by SIGTERM", concbench_not_run="; ".join(not_run))
        os._exit(143)
    if not ignore:
        signal.signal(signal.SIGTERM, on_term)
    pidfile = os.environ.get("FAKE_CONCBENCH_PIDFILE")
    if pidfile:
        with open(pidfile, "w") as f:
            f.write(f"{os.getpid()}\n")
    print(f"{name}   (hanging)", flush=True)
    child.wait()
    sys.exit(1)

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
