"""Runs the notebook's own Python cells on this machine and writes Google Benchmark JSON.

    python3 scripts/notebook_python.py -o python.json        # every timed cell, 3 repetitions
    python3 scripts/notebook_python.py --quick --repetitions=2 -o q.json   # tiny, for tests
    python3 scripts/notebook_python.py --filter='^python\\.threads' --list
    python3 scripts/notebook_python.py --memory-tasks=1000,10000,100000,1000000 -o mem.json
    python3 scripts/notebook_python.py --trace=python_trace.json -o python.json  # + timelines

Cells mode (the default) runs the Python twin of every cell of the binary's table of the
notebook's cells (`concbench --list_cells`: §0, 1, 2, 2.1, 3, 3.1 = 5.1, 4, 4.1, 5.2, 5.3, 6) with
the notebook's own code (scripts/notebook_code.py, mapped to the cells by id in CELL_CODE) and
the cell's arguments, in this interpreter, one cell after another as the notebook runs them.
Cells that share a twin (the same Python benchmark and arguments) run once. Each repetition is a
fresh run of the cell, timed over exactly the notebook's `with time_block(...)` region with
time.perf_counter. Every result is checked: a wrong checksum, an exception, or a cell the
notebook's code cannot run as the table says makes that benchmark an error row
(error_occurred, error_message), the other cells still run, and the exit status is 1.

Names are the cell's Python twin (python.<model>/<workload>) with the cell's arguments in its
order (e.g. python.threads/sleep/tasks:5/workers:5/sleep_ms:500/real_time), so the project's
scripts read the output like any concbench run; an argument the notebook left to the executor's
default (ProcessPoolExecutor()'s workers) carries this Python's default. --quick shrinks each
argument by a rule of its name (QUICK_RULES), and the names carry them. The output's context
holds copies of the binary's tables (concbench_models, concbench_workloads, concbench_cells).

Memory mode (--memory-tasks) runs §3's tasks (tarea_io_async) T at a time, each T in a fresh
interpreter, and reports the resident memory (VmRSS) grown while all T are pending on
asyncio.sleep: §3's Python twin (python.async/sleep/tasks:T/sleep_ms:S) with rss_kib and
rss_kib_per_task.

The table is read from --concbench=PATH (default build/release/concbench) or from a saved copy,
--cells=FILE; without either, one `fatal:` line and exit status 2.

Exit status: 0 when everything ran and verified, 1 when a benchmark failed or the filter matched
nothing, 2 for a mistake on the command line (one `fatal:` line on stderr). Only the standard
library is used, so any Python 3.8+ runs it.

For tests only: CONCBENCH_NOTEBOOK_FAULT=raise:REGEX makes every benchmark whose name matches
REGEX raise inside its timed block; checksum:REGEX adds 1 to its checksum before it is verified.
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime
import io
import json
import math
import multiprocessing
import os
import platform
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Callable

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:  # also under `python -I`, which leaves the script's folder out
    sys.path.insert(0, HERE)

import concbench_results as cr  # noqa: E402  (write_atomic; standard library only)
import notebook_code as nb  # noqa: E402
import notebook_trace  # noqa: E402  (--trace; standard library only)

REPO = os.path.dirname(HERE)
DEFAULT_BINARY = os.path.join(REPO, "build", "release", "concbench")
FAULT_ENV = "CONCBENCH_NOTEBOOK_FAULT"
MAX_REPETITIONS = 1000
MAX_MEMORY_TASKS = 10_000_000
MAX_SLEEP_MS = 60_000
DEFAULT_MEMORY_SLEEP_MS = 100
# From this many tasks on, one 4 KiB page is at most 4 bytes per task: rss_kib_per_task is
# reported (as concbench's async/sleep does).
MIN_TASKS_FOR_PER_TASK_MEMORY = 1000
# A memory-mode interpreter that runs longer than this is killed and reported (1,000,000 tasks
# take a few seconds on a 2-vCPU VM).
MEMORY_CHILD_TIMEOUT_S = 900

# The notebook's own checksums (README, "Workloads": the values it printed or their sums), so a
# full run is checked against constants rather than against itself.
CPU_INTENSIVO_200000 = 9_600_239
TRABAJO_SUM_0_199 = 479_993_655
TAREA_NORMAL_SUM_0_3 = 59_995_920  # 14998935 + 14998965 + 14998995 + 14999025


class UsageError(Exception):
    """A mistake on the command line: one line, printed after `fatal: `."""


class CheckFailed(Exception):
    """A cell ran but its results are wrong: the message goes into the error row."""


# --- checks: a cell's raw value -> (checksum, counters) ------------------------------------------

def sleep_checksum(results, fmt: str, tasks: int) -> int:
    """Σ (i+1) over the results, each checked to be the notebook's `fmt.format(i)` for a distinct
    task index i < tasks; T(T+1)/2 exactly when every task's result came back."""
    pattern = re.compile("^" + re.escape(fmt).replace(re.escape("{}"), r"(\d+)") + "$")
    seen = set()
    for r in results:
        m = pattern.match(r) if isinstance(r, str) else None
        if not m or int(m.group(1)) >= tasks or int(m.group(1)) in seen:
            raise CheckFailed(f"result {r!r} is not {fmt.format('<i>')!r} for a new task index "
                              f"i < {tasks}")
        seen.add(int(m.group(1)))
    return sum(i + 1 for i in seen)


def index_checksum(results, tasks: int) -> int:
    """§3.1's results are the indices themselves: Σ (i+1), each a distinct int < tasks."""
    if not all(type(r) is int and 0 <= r < tasks for r in results) \
            or len(set(results)) != len(results):
        raise CheckFailed(f"results {results!r} are not distinct task indices < {tasks}")
    return sum(r + 1 for r in results)


def sum_checksum(results) -> int:
    if not all(type(r) is int for r in results):
        raise CheckFailed(f"results {results!r} are not all integers")
    return sum(results)


def vmrss_kib(info: str) -> int:
    """VmRSS in KiB from get_memory_info()'s text ("... | VmRSS:\t   68328 kB | ...")."""
    m = re.search(r"VmRSS:\s+(\d+)\s+kB", info)
    if not m:
        raise CheckFailed(f"no VmRSS in get_memory_info(): {info!r} (needs /proc/self/status)")
    return int(m.group(1))


def check_workers(ex, name_workers: int, what: str) -> None:
    used = ex._max_workers
    if used != name_workers:
        raise CheckFailed(f"{what} had {used} workers, the benchmark name says {name_workers}")


# --- benchmarks -----------------------------------------------------------------------------------

@dataclass
class Rep:
    """One repetition that ran: wall and CPU seconds of its timed region, and what it returned."""
    wall_s: float
    cpu_s: float
    cpu_all_s: float
    raw: Any


@dataclass
class Bench:
    name: str
    sections: str                      # "notebook_cells": "3.1, 5.1"
    run: Callable[[], Rep]             # one fresh run
    measure: Callable[[Any], tuple]    # raw -> (checksum or None, {counter: value})
    expected: Callable[[], int] | None = None  # the checksum it must have
    ideal_s: float | None = None
    cells: tuple = ()                  # the ids of the cells it is the Python twin of
    problems: list = field(default_factory=list)  # why it cannot be their twin (it then fails)


def bench_name(model: str, workload: str, *args: tuple[str, int]) -> str:
    """'python.threads', 'cpu', ('tasks', 4) -> 'python.threads/cpu/tasks:4/real_time'."""
    return "/".join([model, workload, *(f"{k}:{v}" for k, v in args), "real_time"])


def run_cell(cell: Callable[[], Any]) -> Rep:
    """Runs a notebook cell once: its prints are captured (they are inside some timed regions,
    as in the notebook, and must not reach stdout), its time_blocks are summed."""
    nb.tiempos.clear()
    with contextlib.redirect_stdout(io.StringIO()):
        raw = cell()
    if not nb.tiempos:
        raise CheckFailed("the cell timed nothing (no time_block ran)")
    return Rep(sum(t.wall_s for t in nb.tiempos), sum(t.cpu_s for t in nb.tiempos),
               sum(t.cpu_all_s for t in nb.tiempos), raw)


def cached(fn: Callable[[], int]) -> Callable[[], int]:
    box: list[int] = []

    def get() -> int:
        if not box:
            box.append(fn())
        return box[0]
    return get


# --- the cells: the binary's table, and the notebook's code that runs each -----------------------

class TableError(Exception):
    """The cell table could not be read (no binary, a file that is not one): one `fatal:` line."""


TABLES = ("models", "workloads", "cells")


def read_tables(binary: str, cells_file: str | None) -> dict[str, list]:
    """The binary's tables, {"models": [...], "workloads": [...], "cells": [...]}: printed by
    `binary --list_<table>`, or read from `cells_file` (a saved `--list_cells`, or one object
    holding all three), which then may lack the models and workloads."""
    if cells_file is not None:
        try:
            with open(cells_file, "rb") as f:
                data = json.loads(f.read().decode("utf-8"))
        except OSError as e:
            raise TableError(f"--cells={cells_file}: cannot read: {e.strerror or e}") from None
        except ValueError as e:
            raise TableError(f"--cells={cells_file}: not JSON: {e}") from None
        tables = {t: data[t] for t in TABLES if isinstance(data, dict)
                  and isinstance(data.get(t), list)}
        if "cells" not in tables:
            raise TableError(f"--cells={cells_file}: no \"cells\" list in it (expected the output "
                             "of concbench --list_cells)")
        return tables
    tables = {}
    for t in TABLES:
        try:
            p = subprocess.run([binary, f"--list_{t}"], capture_output=True, text=True, timeout=60)
        except (OSError, subprocess.SubprocessError) as e:
            raise TableError(f"--concbench={binary}: cannot run it: "
                             f"{getattr(e, 'strerror', None) or e} (build it with scripts/run, "
                             "or give --cells=FILE)") from None
        err = [x for x in p.stderr.splitlines() if x.strip()]
        try:
            rows = json.loads(p.stdout).get(t) if p.returncode == 0 else None
        except (ValueError, AttributeError):
            rows = None
        if not isinstance(rows, list):
            raise TableError(f"--concbench={binary} --list_{t}: "
                             + (f"exit status {p.returncode}" + (f": {err[0]}" if err else "")
                                if p.returncode else "printed no table (is it concbench?)"))
        tables[t] = rows
    return tables


MS = 1e-3  # a *_ms argument, in the seconds the notebook's literals are written in
# The notebook's literals (notebook_code.PARAMETROS) as it wrote them, before any cell set them.
NOTEBOOK_LITERALS = {name: getattr(nb, name) for name in nb.PARAMETROS}


@dataclass(frozen=True)
class Literal:
    """The argument is one of the notebook's literals (notebook_code.PARAMETROS), times scale."""
    name: str
    scale: float = 1

    def notebook_value(self) -> int:
        return round(NOTEBOOK_LITERALS[self.name] / self.scale)


@dataclass(frozen=True)
class Fixed:
    """The notebook's code hard-wires this value (two threads; map()'s chunksize of 1)."""
    value: int

    def notebook_value(self) -> int:
        return self.value


@dataclass(frozen=True)
class Executor:
    """The notebook leaves this to its executor (`ProcessPoolExecutor()`): the cell's check
    verifies the count the executor had. `default` is the executor's own count, which the name
    carries where the cell table leaves the argument to the default."""
    default: Callable[[], int] | None = None

    def notebook_value(self) -> int | None:
        return self.default() if self.default else None


@dataclass(frozen=True)
class Code:
    """The notebook's code for one cell: the function that runs it once, what each of the cell's
    arguments is to it, the check of its result ((raw, args) -> (checksum or None, counters)),
    the checksum it must have and its ideal time (functions of the arguments)."""
    run: Callable[[], Any]
    params: dict
    check: Callable[[Any, dict], tuple]
    expected: Callable[[dict], int] | None = None
    ideal_s: Callable[[dict], float] | None = None


def tri(t: int) -> int:
    return t * (t + 1) // 2


def tri_tasks(a: dict) -> int:
    return tri(a["tasks"])


def one_sleep(a: dict) -> float:
    return a["sleep_ms"] * MS


def serial_sleep(a: dict) -> float:
    return a["tasks"] * a["sleep_ms"] * MS


def pooled_sleep(a: dict) -> float:
    return math.ceil(a["tasks"] / a["workers"]) * a["sleep_ms"] * MS


def expected_cpu(a: dict) -> int:
    per = CPU_INTENSIVO_200000 if a["n"] == 200_000 else nb.cpu_intensivo(a["n"])
    return a["tasks"] * per


def expected_trabajo(a: dict) -> int:
    if a["tasks"] == 200:
        return TRABAJO_SUM_0_199
    return sum(nb.trabajo(x) for x in range(a["tasks"]))


def expected_tarea_normal(a: dict) -> int:
    if a["tasks"] == 4:
        return TAREA_NORMAL_SUM_0_3
    return sum(nb.tarea_normal(x) for x in range(a["tasks"]))


def strings(fmt: str):
    """Each task returned the notebook's fmt.format(i)."""
    return lambda raw, a: (sleep_checksum(raw, fmt, a["tasks"]), {})


def indices(raw, a):
    return index_checksum(raw, a["tasks"]), {}


def sums(raw, _a):
    return sum_checksum(raw), {}


def process_pool(raw, a):
    results, ex = raw
    check_workers(ex, a["workers"], "ProcessPoolExecutor()")
    return sum_checksum(results), {}


def thread_pool(raw, a):
    results, ex = raw
    # ThreadPoolExecutor() defaults to min(32, cpus + 4) workers but starts a thread only when no
    # idle one can take the next task, so 4 tasks run on at most 4 threads: the C++ twin's
    # workers:4.
    if len(ex._threads) > a["workers"]:
        raise CheckFailed(f"the pool started {len(ex._threads)} threads, the benchmark name "
                          f"says {a['workers']} workers")
    return sum_checksum(results), {}


def counter(must_not_lose: bool):
    def check(raw, _a):
        expected, obtained = raw
        lost = expected - obtained
        if must_not_lose and lost != 0:
            raise CheckFailed(f"the lock lost {lost} of {expected} updates")
        return None, {"lost_updates": lost}
    return check


def alloc(raw, a):
    suma, before, after = raw
    b, c = vmrss_kib(before), vmrss_kib(after)
    return suma, {"rss_before_kib": b, "rss_after_kib": c, "rss_kib": c - b,
                  "bytes_per_item": (c - b) * 1024 / a["n"]}


def default_process_workers() -> int:
    """How many workers ProcessPoolExecutor() takes here (os.cpu_count(), or
    os.process_cpu_count() from 3.13): asked of an executor that never starts a process."""
    ex = ProcessPoolExecutor()
    try:
        return ex._max_workers
    finally:
        ex.shutdown()


POOL = Executor(default_process_workers)

# Each cell of the binary's table that has a Python twin, by id, to the notebook's code that
# runs it. Every parameter comes from the cell's arguments; a cell that shares its twin with one
# here (same Python benchmark, same arguments: §3's coroutine row, §4's GIL row, §5.1 = §3.1)
# is run by that one.
CELL_CODE = {
    "0": Code(nb.cell_0, {"tasks": Fixed(1), "sleep_ms": Literal("PAUSA_S", MS)},
              lambda raw, a: (1, {}), expected=lambda a: 1, ideal_s=one_sleep),
    "1": Code(nb.cell_1, {"tasks": Literal("SINCRONO_TAREAS"),
                          "sleep_ms": Literal("SINCRONO_SLEEP_S", MS)},
              strings("ok {}"), tri_tasks, serial_sleep),
    "2": Code(nb.cell_2, {"tasks": Literal("HILOS_TAREAS"), "workers": Literal("HILOS_WORKERS"),
                          "sleep_ms": Literal("HILOS_SLEEP_S", MS)},
              strings("ok {}"), tri_tasks, pooled_sleep),
    "2.1.race": Code(nb.cell_2_1_sin_lock, {"threads": Fixed(2), "increments": Literal("N")},
                     counter(False)),
    "2.1.mutex": Code(nb.cell_2_1_con_lock, {"threads": Fixed(2), "increments": Literal("N")},
                      counter(True)),
    "3": Code(nb.cell_3, {"tasks": Literal("ASYNC_TAREAS"),
                          "sleep_ms": Literal("ASYNC_SLEEP_S", MS)},
              strings("ok {}"), tri_tasks, one_sleep),
    "3.1": Code(nb.cell_3_1, {"tasks": Literal("SECUENCIAL_TAREAS"),
                              "sleep_ms": Literal("SECUENCIAL_SLEEP_S", MS)},
                indices, tri_tasks, serial_sleep),
    "4.serial": Code(nb.cell_4_serial, {"tasks": Literal("CPU_TAREAS"), "n": Literal("CPU_N")},
                     sums, expected_cpu),
    "4.threads": Code(nb.cell_4_threads, {"tasks": Literal("CPU_TAREAS"), "workers": Executor(),
                                          "n": Literal("CPU_N")}, thread_pool, expected_cpu),
    "4.processes": Code(nb.cell_4_processes, {"tasks": Literal("CPU_TAREAS"), "workers": POOL,
                                              "n": Literal("CPU_N"), "chunksize": Fixed(1)},
                        process_pool, expected_cpu),
    "4.1.chunk1": Code(nb.cell_4_1_sin_chunksize, {"tasks": Literal("TRABAJO_TAREAS"),
                                                   "workers": POOL, "chunksize": Fixed(1),
                                                   "payload": Fixed(0)},
                       process_pool, expected_trabajo),
    "4.1.chunk20": Code(nb.cell_4_1_con_chunksize, {"tasks": Literal("TRABAJO_TAREAS"),
                                                    "workers": POOL,
                                                    "chunksize": Literal("CHUNKSIZE"),
                                                    "payload": Fixed(0)},
                        process_pool, expected_trabajo),
    "5.2": Code(nb.cell_5_2, {"tasks": Literal("EDGE_TAREAS"), "workers": Literal("EDGE_WORKERS"),
                              "sleep_ms": Literal("EDGE_SLEEP_S", MS), "chunksize": Fixed(1)},
                strings("fin {}"), tri_tasks, pooled_sleep),
    "5.3": Code(nb.cell_5_3, {"tasks": Literal("NORMAL_TAREAS"), "workers": POOL,
                              "chunksize": Fixed(1)}, process_pool, expected_tarea_normal),
    "6": Code(nb.cell_6, {"n": Literal("LISTA_N")}, alloc,
              expected=lambda a: a["n"] * (a["n"] - 1) // 2),
}

# The cell whose tasks memory mode holds pending: §3's tarea_io_async, gathered.
MEMORY_CELL = "3"

# --quick shrinks each argument by its name's rule, in whichever cell it is.
QUICK_RULES = {
    "tasks": lambda v: min(v, 2),
    "workers": lambda v: min(v, 2),
    "sleep_ms": lambda v: max(1, v // 100),
    "n": lambda v: min(v, 1000),
    "increments": lambda v: min(v, 1000),
    "chunksize": lambda v: min(v, 2),
}


def resolve(code: Code, cell: cr.Cell, wanted: dict) -> tuple[dict, list[str]]:
    """The arguments the notebook's code runs the cell with (the cell's, in its order, then any
    the code takes that the cell lacks, at the notebook's value), and what keeps it from being
    the cell's twin."""
    used, problems = {}, []
    for k, v in wanted.items():
        p = code.params.get(k)
        if p is None:
            problems.append(f"the notebook's code for cell {cell.id} has no argument '{k}'")
        elif isinstance(p, Fixed):
            used[k] = p.value
            if p.value != v:
                problems.append(f"cell {cell.id} has {k}:{v}; the notebook's code fixes "
                                f"{k}:{p.value}")
        elif isinstance(p, Executor) and k in cell.defaults:
            used[k] = p.notebook_value()
            if used[k] is None:
                problems.append(f"cell {cell.id} leaves '{k}' to a default the notebook's code "
                                "cannot report")
        else:
            used[k] = v
    for k, p in code.params.items():
        if k not in wanted:
            used[k] = p.notebook_value()
            problems.append(f"cell {cell.id} has no argument '{k}', which the notebook's code "
                            "takes")
    return used, problems


def configure(code: Code, used: dict) -> None:
    """Sets the notebook's literals to the arguments, before each run (cells share literals)."""
    nb.configure(**{p.name: used[k] * p.scale for k, p in code.params.items()
                    if isinstance(p, Literal) and used.get(k) is not None})


def section_of(cell: cr.Cell) -> str:
    return cell.section + (" (serial baseline)" if cell.role == "baseline" else "")


def plan(cells: list[cr.Cell], quick: bool) -> list[Bench]:
    """One benchmark per Python twin of the table's cells, in the notebook's order: the cells
    that share a twin (its model, workload and arguments, the defaults aside) run once."""
    groups: dict[tuple, list[cr.Cell]] = {}
    for c in cells:
        if c.python is not None:
            groups.setdefault((c.python, c.workload, tuple(c.fixed_args.items())), []).append(c)
    return [bench_for(group, quick) for group in groups.values()]


def bench_for(group: list[cr.Cell], quick: bool) -> Bench:
    """The benchmark of cells sharing a Python twin, run by the first one's notebook code; a
    benchmark that fails with the reason when no code is mapped or its arguments disagree."""
    ids = tuple(c.id for c in group)
    sections = ", ".join(dict.fromkeys(section_of(c) for c in group))
    cell = next((c for c in group if c.id in CELL_CODE), group[0])
    wanted = {k: QUICK_RULES[k](v) if quick and k in QUICK_RULES else v
              for k, v in cell.args.items()}
    code = CELL_CODE.get(cell.id)
    if code is None:
        used, problems = wanted, [f"no notebook code runs cell(s) {', '.join(ids)} "
                                  "(notebook_python.py's CELL_CODE)"]
    else:
        used, problems = resolve(code, cell, wanted)
    name = bench_name(cell.python, cell.workload, *used.items())
    if problems:
        def fail() -> Rep:
            raise CheckFailed("; ".join(problems))
        return Bench(name, sections, fail, lambda raw: (None, {}), cells=ids, problems=problems)

    def run() -> Rep:
        configure(code, used)
        return run_cell(code.run)
    return Bench(name, sections, run, lambda raw: code.check(raw, used),
                 expected=cached(lambda: code.expected(used)) if code.expected else None,
                 ideal_s=code.ideal_s(used) if code.ideal_s else None, cells=ids)


# --- memory mode: T pending asyncio tasks, one fresh interpreter per T ---------------------------

def memory_bench_name(cell: cr.Cell, tasks: int, sleep_ms: int) -> str:
    """The Python twin of the cell whose tasks are held (MEMORY_CELL), with T and S."""
    return bench_name(cell.python, cell.workload, ("tasks", tasks), ("sleep_ms", sleep_ms))


def memory_child(tasks: int, sleep_ms: int, fault: str | None) -> dict:
    """In the child interpreter: §3's run_async for `tasks` tasks, VmRSS read before and once
    every task waits in asyncio.sleep. Returns what the parent needs (results are checked here,
    so a million strings do not cross the pipe)."""
    nb.configure(ASYNC_SLEEP_S=sleep_ms / 1000)
    nb.falla_de_prueba = fault
    seen: dict = {}

    def al_pendiente():
        t0 = time.perf_counter()
        seen["pending_kib"] = vmrss_kib(nb.get_memory_info()[1])
        scheduled = getattr(asyncio.get_running_loop(), "_scheduled", None)
        seen["timers"] = len(scheduled) if scheduled is not None else None
        seen["read_s"] = time.perf_counter() - t0

    async def medir():
        seen["before_kib"] = vmrss_kib(nb.get_memory_info()[1])
        with nb.time_block("asyncio: tareas pendientes"):
            return await nb.run_async_memoria(tasks, al_pendiente)

    nb.tiempos.clear()
    with contextlib.redirect_stdout(io.StringIO()):
        resultados = asyncio.run(medir())
    if seen.get("timers") is not None and seen["timers"] < tasks:
        raise CheckFailed(f"only {seen['timers']} of {tasks} tasks were waiting when memory "
                          "was read")
    t = nb.tiempos[-1]
    return {"wall_s": t.wall_s - seen["read_s"], "cpu_s": t.cpu_s, "cpu_all_s": t.cpu_all_s,
            "checksum": sleep_checksum(resultados, "ok {}", tasks),
            "before_kib": seen["before_kib"], "pending_kib": seen["pending_kib"]}


def describe_exit(code: int) -> str:
    if code < 0:
        try:
            sig = signal.Signals(-code).name
        except ValueError:
            sig = f"signal {-code}"
        return f"killed by signal {-code} ({sig})" + (" (out of memory?)" if -code == 9 else "")
    return f"exited with status {code}"


def run_memory_child(tasks: int, sleep_ms: int, name: str) -> Rep:
    cmd = [sys.executable, os.path.abspath(__file__), f"--memory-child={tasks}",
           f"--sleep-ms={sleep_ms}", f"--memory-name={name}"]
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=MEMORY_CHILD_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        raise CheckFailed(f"the interpreter for {tasks} tasks did not finish within "
                          f"{MEMORY_CHILD_TIMEOUT_S} s and was killed") from None
    lines = p.stdout.strip().splitlines()
    try:
        out = json.loads(lines[-1]) if lines else None
    except json.JSONDecodeError:
        out = None
    if not isinstance(out, dict):
        err = [x for x in p.stderr.splitlines() if x.strip()]
        raise CheckFailed(f"the interpreter for {tasks} tasks {describe_exit(p.returncode)}"
                          + (f": {err[-1].strip()}" if err else ""))
    if "error" in out:
        raise CheckFailed(str(out["error"]))
    return Rep(out["wall_s"], out["cpu_s"], out["cpu_all_s"], out)


def memory_benches(task_counts: list[int], sleep_ms: int, cell: cr.Cell) -> list[Bench]:
    def measure_for(tasks):
        def measure(raw):
            kib = max(0, raw["pending_kib"] - raw["before_kib"])
            counters = {"rss_kib": kib}
            if tasks >= MIN_TASKS_FOR_PER_TASK_MEMORY:
                counters["rss_kib_per_task"] = kib / tasks
            return raw["checksum"], counters
        return measure

    names = {t: memory_bench_name(cell, t, sleep_ms) for t in task_counts}
    return [Bench(names[t], cell.section, (lambda t=t: run_memory_child(t, sleep_ms, names[t])),
                  measure_for(t), expected=(lambda t=t: tri(t)), ideal_s=sleep_ms * MS,
                  cells=(cell.id,))
            for t in task_counts]


# --- running, and Google Benchmark's rows ---------------------------------------------------------

def fault_for(name: str) -> tuple[str, str] | None:
    """The test hook: ('raise' | 'checksum', message) when CONCBENCH_NOTEBOOK_FAULT names this
    benchmark."""
    spec = os.environ.get(FAULT_ENV)
    if not spec:
        return None
    kind, _, pattern = spec.partition(":")
    if kind not in ("raise", "checksum") or not re.search(pattern, name):
        return None
    return kind, f"test fault ({FAULT_ENV}={spec})"


@dataclass
class Outcome:
    """One repetition: counters and times, or an error message."""
    wall_s: float = 0.0
    cpu_s: float = 0.0
    counters: dict = field(default_factory=dict)
    error: str | None = None
    iterations: int = 1  # batches timed in the repetition (wall_s and cpu_s are per batch)


def run_once(b: Bench) -> Outcome:
    fault = fault_for(b.name)
    nb.falla_de_prueba = fault[1] if fault and fault[0] == "raise" else None
    try:
        rep = b.run()
        checksum, counters = b.measure(rep.raw)
    except Exception as e:  # a failing cell is an error row, whatever it raised
        msg = str(e) if isinstance(e, CheckFailed) else f"{type(e).__name__}: {e}"
        return Outcome(error=msg.strip() or type(e).__name__)
    finally:
        nb.falla_de_prueba = None
    counters = dict(counters)
    if b.expected is not None:
        if fault and fault[0] == "checksum":
            checksum += 1
        want = b.expected()
        if checksum != want:
            return Outcome(error=f"checksum mismatch: got {checksum}, expected {want}")
        counters["checksum"] = checksum
    if b.ideal_s is not None:
        counters["ideal_s"] = b.ideal_s
        counters["efficiency"] = b.ideal_s / rep.wall_s if rep.wall_s > 0 else math.inf
        counters["overhead_s"] = rep.wall_s - b.ideal_s
    counters["cpu_util"] = rep.cpu_all_s / rep.wall_s if rep.wall_s > 0 else 0.0
    return Outcome(rep.wall_s, rep.cpu_s, counters)


# Google Benchmark 1.7.1's statistics (src/statistics.cc), computed the same way.
def gb_mean(v):
    return sum(v) * (1.0 / len(v)) if v else 0.0


def gb_median(v):
    if len(v) < 3:
        return gb_mean(v)
    c = sorted(v)
    mid = len(c) // 2
    return c[mid] if len(c) % 2 == 1 else (c[mid] + c[mid - 1]) / 2.0


def gb_stddev(v):
    if len(v) < 2:
        return 0.0 if v else gb_mean(v)
    mean = gb_mean(v)
    var = len(v) / (len(v) - 1.0) * (sum(x * x for x in v) * (1.0 / len(v)) - mean * mean)
    return math.sqrt(var) if var > 0 else 0.0


def gb_cv(v):
    if len(v) < 2:
        return 0.0
    sd, mean = gb_stddev(v), gb_mean(v)
    if mean == 0:  # C++'s double division: 0/0 is NaN (written NaN, as Google Benchmark does)
        return math.nan if sd == 0 else math.copysign(math.inf, sd)
    return sd / mean


STATISTICS = (("mean", gb_mean, "time"), ("median", gb_median, "time"),
              ("stddev", gb_stddev, "time"), ("cv", gb_cv, "percentage"))


def rows_for(b: Bench, family_index: int, outcomes: list[Outcome]) -> list[dict]:
    """Google Benchmark's rows for one benchmark: one per repetition, then the aggregates
    (when at least two repetitions succeeded, as 1.7.1 does). `b` needs a name and the
    sections it stands for (none: no notebook_cells field)."""
    reps = len(outcomes)
    head = {"name": b.name, "family_index": family_index, "per_family_instance_index": 0,
            "run_name": b.name}
    rows = []
    for i, o in enumerate(outcomes):
        row = dict(head, run_type="iteration", repetitions=reps, repetition_index=i, threads=1)
        if o.error is not None:
            row.update(error_occurred=True, error_message=o.error, iterations=0,
                       real_time=0.0, cpu_time=0.0, time_unit="ms")
        else:
            row.update(iterations=o.iterations, real_time=o.wall_s * 1e3,
                       cpu_time=o.cpu_s * 1e3, time_unit="ms")
            row.update((k, float(v)) for k, v in sorted(o.counters.items()))
        if b.sections:
            row["notebook_cells"] = b.sections
        rows.append(row)
    ok = [o for o in outcomes if o.error is None]
    if reps < 2 or len(ok) < 2:
        return rows
    keys = sorted({k for o in ok for k in o.counters})
    for agg, fn, unit in STATISTICS:
        row = dict(head, name=f"{b.name}_{agg}", run_type="aggregate", repetitions=reps,
                   threads=1, aggregate_name=agg, aggregate_unit=unit, iterations=reps,
                   real_time=fn([o.wall_s * 1e3 for o in ok]),
                   cpu_time=fn([o.cpu_s * 1e3 for o in ok]), time_unit="ms")
        row.update((k, float(fn([float(o.counters[k]) for o in ok if k in o.counters])))
                   for k in keys)
        if b.sections:
            row["notebook_cells"] = b.sections
        rows.append(row)
    return rows


def summary_line(b: Bench, outcomes: list[Outcome]) -> str:
    ok = [o for o in outcomes if o.error is None]
    errors = [o.error for o in outcomes if o.error is not None]
    parts = [b.name]
    if ok:
        parts.append(f"median {cr.format_seconds(gb_median([o.wall_s for o in ok]))}")
        c = ok[0].counters
        if "checksum" in c:
            parts.append(f"checksum {c['checksum']} ok")
        if "lost_updates" in c:
            parts.append("lost updates " + ", ".join(str(o.counters["lost_updates"]) for o in ok))
        if "rss_kib_per_task" in c:
            parts.append(f"{gb_median([o.counters['rss_kib_per_task'] for o in ok]):.3f} "
                         "KiB/task")
        elif "rss_kib" in c:
            parts.append(f"rss +{gb_median([o.counters['rss_kib'] for o in ok]):.0f} KiB")
    if errors:
        parts.append(f"ERROR in {len(errors)} of {len(outcomes)} repetition(s): {errors[0]}")
    return "  ".join(parts)


def run_benches(benches: list[Bench], repetitions: int,
                progress: Callable[[str, bool], None], trace=None) -> tuple[list[dict], int]:
    """Runs each benchmark's repetitions back to back; returns the rows and how many failed.
    progress(line, failed) hears of each benchmark as it finishes. With a trace
    (notebook_trace.TraceFile), one untimed run more of each benchmark is traced after them."""
    rows, failed = [], 0
    for fi, b in enumerate(benches):
        outcomes = [run_once(b) for _ in range(repetitions)]
        trace_once(trace, b, outcomes)
        failed += any(o.error is not None for o in outcomes)
        rows += rows_for(b, fi, outcomes)
        progress(f"[{fi + 1}/{len(benches)}] {summary_line(b, outcomes)}",
                 any(o.error is not None for o in outcomes))
    return rows, failed


def trace_once(trace, b: Bench, outcomes: list[Outcome]) -> None:
    """The traced run (--trace) of a benchmark that ran at least once; a trace that cannot be
    written is reported once and not written again (main's exit status says so)."""
    if trace is None or trace.failed or all(o.error is not None for o in outcomes):
        return
    try:
        trace.add(b.name, b.run, b.ideal_s)
    except OSError as e:
        trace.failed = f"--trace={trace.path}: cannot write: {e.strerror or e}"
        print(f"fatal: {trace.failed}", file=sys.stderr, flush=True)


def gil_enabled():
    fn = getattr(sys, "_is_gil_enabled", None)
    if fn is not None:
        return bool(fn())
    return True if platform.python_implementation() == "CPython" else None


def git_commit() -> str | None:
    try:
        p = subprocess.run(["git", "-C", REPO, "rev-parse", "--short=12", "HEAD"],
                           capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return p.stdout.strip() if p.returncode == 0 and p.stdout.strip() else None


def context(argv: list[str], suite: str, mode: str, process_workers: int | None,
            tables: dict[str, list]) -> dict:
    """The run's context, with copies of the binary's tables (as the binary writes them), so
    that this file read alone still has its models' names and colours."""
    ctx = {
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "host_name": socket.gethostname(),
        "executable": sys.argv[0] or __file__,
        "num_cpus": os.cpu_count(),
    }
    if hasattr(os, "getloadavg"):
        ctx["load_avg"] = list(os.getloadavg())
    ctx.update({
        "concbench_suite": suite,
        "concbench_python_mode": mode,
        "concbench_options": " ".join(argv),
        "python_version": platform.python_version(),
        "python_implementation": platform.python_implementation(),
        "python_executable": sys.executable,
        "python_build": " ".join(platform.python_build()),
        "gil_enabled": gil_enabled(),
        "os_cpu_count": os.cpu_count(),
        "multiprocessing_start_method": multiprocessing.get_start_method(),
        "kernel": " ".join(platform.uname()[i] for i in (0, 2, 4)),
    })
    if hasattr(os, "sched_getaffinity"):
        ctx["usable_cores"] = str(len(os.sched_getaffinity(0)))
    if process_workers is not None:
        ctx["process_pool_workers"] = process_workers
    commit = git_commit()
    if commit:
        ctx["concbench_git_commit"] = commit
    ctx.update((cr.TABLE_KEYS[t], json.dumps({t: rows})) for t, rows in tables.items())
    return ctx


# --- command line ---------------------------------------------------------------------------------

class Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, not argparse's usage + message
        raise UsageError(message)


def positive_int(flag: str, lo: int, hi: int):
    def parse(text: str) -> int:
        if not re.fullmatch(r"-?\d+", text.strip()):
            raise UsageError(f"{flag}={text!r}: expected an integer in [{lo}, {hi}]")
        v = int(text)
        if not lo <= v <= hi:
            raise UsageError(f"{flag}={v}: out of range; expected an integer in [{lo}, {hi}]")
        return v
    return parse


def task_list(text: str) -> list[int]:
    one = positive_int("--memory-tasks", 1, MAX_MEMORY_TASKS)
    values = []
    for item in text.split(","):
        try:
            v = one(item)
        except UsageError:
            raise UsageError(f"--memory-tasks={text!r}: {item.strip()!r} is not an integer in "
                             f"[1, {MAX_MEMORY_TASKS}]; expected a comma-separated list "
                             "such as 1000,10000") from None
        if v in values:
            raise UsageError(f"--memory-tasks={text!r}: {v} is repeated")
        values.append(v)
    return values


def create_parser() -> argparse.ArgumentParser:
    p = Parser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
               prog="scripts/notebook_python.py")
    p.add_argument("-o", "--output", metavar="PATH",
                   help="write the JSON here (atomically); default: standard output")
    p.add_argument("--repetitions", metavar="N", default=3,
                   type=positive_int("--repetitions", 1, MAX_REPETITIONS),
                   help="fresh runs of each cell (default 3; aggregates need 2 or more)")
    p.add_argument("--filter", metavar="REGEX",
                   help="run only the benchmarks whose name matches (like --benchmark_filter)")
    p.add_argument("--quick", action="store_true",
                   help="tiny parameters (sleeps of a few ms, 2 tasks, small n), for tests; "
                        "the names carry them")
    p.add_argument("--list", action="store_true", help="print the benchmark names and exit")
    p.add_argument("--concbench", metavar="PATH", default=DEFAULT_BINARY,
                   help="the concbench binary whose table of cells (--list_cells) says what to "
                        "run (default: build/release/concbench of this repository)")
    p.add_argument("--cells", metavar="FILE",
                   help="read the cells from FILE, a saved `concbench --list_cells` (or one "
                        "object with \"models\", \"workloads\" and \"cells\"), instead of "
                        "asking the binary")
    p.add_argument("--quiet", action="store_true",
                   help="one line at the end (and one per failed benchmark) instead of one per "
                        "benchmark")
    p.add_argument("--trace", metavar="PATH",
                   help="after each cell's repetitions, run it once more, untimed, and write "
                        "every task's start and end on its lane (thread, worker process, loop) "
                        "to PATH in the Chrome Trace Event Format, as concbench --trace does "
                        "(scripts/notebook_trace.py)")
    p.add_argument("--memory-tasks", metavar="T,...", type=task_list,
                   help="memory mode: for each T, T asyncio tasks pending at once in a fresh "
                        "interpreter (e.g. 1000,10000,100000,1000000)")
    p.add_argument("--sleep-ms", metavar="S", type=positive_int("--sleep-ms", 0, MAX_SLEEP_MS),
                   help=f"memory mode: each task's asyncio.sleep (default "
                        f"{DEFAULT_MEMORY_SLEEP_MS})")
    p.add_argument("--memory-child", type=positive_int("--memory-child", 1, MAX_MEMORY_TASKS),
                   help=argparse.SUPPRESS)  # internal: the interpreter of one memory-mode T
    p.add_argument("--memory-name", default="", help=argparse.SUPPRESS)  # internal: its name
    return p


def check_writable(path: str, flag: str = "--output") -> None:
    """Fails now, before anything runs, if the output (or the trace) cannot be written."""
    if os.path.isdir(path):
        raise UsageError(f"{flag}={path}: is a folder; expected a file path")
    directory = os.path.dirname(os.path.abspath(path))
    try:
        fd, tmp = tempfile.mkstemp(prefix=".notebook_python.", dir=directory)
    except OSError as e:
        raise UsageError(f"{flag}={path}: cannot write in {directory}: "
                         f"{e.strerror or e}") from None
    os.close(fd)
    os.unlink(tmp)


def child_main(args) -> int:
    sleep_ms = DEFAULT_MEMORY_SLEEP_MS if args.sleep_ms is None else args.sleep_ms
    fault = fault_for(args.memory_name)
    try:
        out = memory_child(args.memory_child, sleep_ms,
                           fault[1] if fault and fault[0] == "raise" else None)
        if fault and fault[0] == "checksum":
            out["checksum"] += 1
    except Exception as e:
        out = {"error": str(e) if isinstance(e, CheckFailed) else f"{type(e).__name__}: {e}"}
    print(json.dumps(out), flush=True)
    return 0


def write_output(path: str | None, data: dict, indent: int = 2) -> int:
    """The JSON to `path` (atomically) or to standard output; 2 after one `fatal:` line when it
    cannot be written, else 0."""
    text = json.dumps(data, indent=indent) + "\n"
    if not path:
        sys.stdout.write(text)
        return 0
    try:
        cr.write_atomic(path, text)
    except OSError as e:
        print(f"fatal: --output={path}: cannot write: {e.strerror or e}", file=sys.stderr)
        return 2
    return 0


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        args = create_parser().parse_args(argv)
        if args.memory_child is not None:
            return child_main(args)
        if args.quick and args.memory_tasks:
            raise UsageError("--quick shrinks the notebook's cells; memory mode "
                             "(--memory-tasks) takes its sizes from --memory-tasks")
        if args.sleep_ms is not None and not args.memory_tasks:
            raise UsageError("--sleep-ms applies to memory mode only (give --memory-tasks)")
        try:
            pattern = re.compile(args.filter) if args.filter is not None else None
        except re.error as e:
            raise UsageError(f"--filter={args.filter!r}: not a regular expression: {e}") from None
        if args.output and not args.list:
            check_writable(args.output)
        if args.trace and args.memory_tasks:
            raise UsageError("--trace traces the notebook's cells; memory mode (--memory-tasks) "
                             "has no cells to trace")
        if args.trace and not args.list:
            check_writable(args.trace, "--trace")
        tables = read_tables(args.concbench, args.cells)
        cells = cr.cells_of(tables["cells"])
        if args.memory_tasks:
            held = next((c for c in cells if c.id == MEMORY_CELL and c.python), None)
            if held is None:
                raise TableError(f"the table of cells has no cell {MEMORY_CELL} with a Python "
                                 "twin, whose tasks memory mode holds")
    except (UsageError, TableError) as e:
        print(f"fatal: {e}", file=sys.stderr)
        return 2

    if args.memory_tasks:
        sleep_ms = DEFAULT_MEMORY_SLEEP_MS if args.sleep_ms is None else args.sleep_ms
        benches, suite, mode, workers = (memory_benches(args.memory_tasks, sleep_ms, held),
                                         "sweep", "memory", None)
    else:
        workers = default_process_workers()
        benches = plan(cells, args.quick)
        suite, mode = ("smoke" if args.quick else "notebook"), "cells"
    if pattern is not None:
        benches = [b for b in benches if pattern.search(b.name)]
    if not benches:
        print(f"no benchmark matched {args.filter!r}", file=sys.stderr)
        return 1
    if args.list:
        try:
            print("\n".join(b.name for b in benches), flush=True)
        except BrokenPipeError:  # `--list | head`: the reader has what it wanted
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0

    ctx = context(argv, suite, mode, workers, tables)
    start = time.perf_counter()

    def progress(line: str, bad: bool) -> None:
        if bad or not args.quiet:
            print(line, file=sys.stderr, flush=True)
    try:
        trace = notebook_trace.TraceFile(args.trace) if args.trace else None
        rows, failed = run_benches(benches, args.repetitions, progress, trace)
    except KeyboardInterrupt:
        print("interrupted; nothing written", file=sys.stderr)
        return 130
    if write_output(args.output, {"context": ctx, "benchmarks": rows}):
        return 2
    if args.quiet:
        print(f"notebook_python: {len(benches)} benchmarks × {args.repetitions} repetitions in "
              f"{time.perf_counter() - start:.0f} s, {failed} failed", file=sys.stderr)
    if failed:
        print(f"{failed} of {len(benches)} benchmark(s) failed", file=sys.stderr)
        return 1
    return 2 if trace is not None and trace.failed else 0


if __name__ == "__main__":
    sys.exit(main())
