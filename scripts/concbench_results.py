"""Reading concbench's results: Google Benchmark 1.7.1 JSON in, benchmarks grouped by their names.

A concbench benchmark name is  [python.]<model>[.<variant>]/<workload>/<key>:<value>/.../real_time
(possibly with Google Benchmark's own `iterations:N/` or `repeats:N/` parts). Names are parsed by
their key:value parts, never by position. One `Bench` gathers every row of one benchmark: its
per-repetition rows, its aggregate rows (_mean, _median, _stddev, _cv) and its errors.

    results = load("results/2026-11-25T181500Z_vm_notebook/results.json")
    for b in results.ok():
        print(b.label(), b.time_s().mean, b.counter("efficiency"))

Everything here computes; nothing prints or draws. A file that is not concbench's JSON raises
ResultsError with a one-line message meant for the user.
"""
from __future__ import annotations

import functools
import json
import math
import os
import re
import tempfile
from dataclasses import dataclass, field
from typing import NamedTuple

UNIT_SECONDS = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}

# Name parts that are Google Benchmark's, not the benchmark's arguments.
GB_NAME_KEYS = {"iterations", "repeats", "min_time", "min_warmup_time"}
GB_NAME_WORDS = {"real_time", "process_time", "manual_time"}

# Arguments that say what one task does (a chart facets on them: different work is never
# overplotted), and arguments that say how the tasks are run (they tell series apart).
SIZE_KEYS = ("sleep_ms", "sleep_us", "n", "delay_ms", "payload", "increments", "cpu_us",
             "io_ms", "steps")
RUN_KEYS = ("tasks", "workers", "chunksize", "threads", "stack_kib")

# The model counters every row of these workloads carries (DESIGN.md).
MODEL_COUNTERS = ("ideal_s", "overhead_s", "efficiency", "checksum", "cpu_util", "ctx_switches")

# A language prefix marks rows measured outside concbench's C++: `python.` for the notebook's own
# cells run live (scripts/notebook_python.py), with the C++ twin's model after it.
LANGUAGES = ("python",)
_MODEL_RE = re.compile(r"^(?:(python)\.)?([a-z][a-z0-9_]*)(?:\.([a-z][a-z0-9_]*(?:\.[a-z][a-z0-9_]*)*))?$")
_WORKLOAD_RE = re.compile(r"^[a-z][a-z0-9_]*$")
_KV_RE = re.compile(r"^([a-z_][a-z0-9_]*):(-?\d+)$")


class ResultsError(Exception):
    """A user-facing problem with a results file: the message is one line, ready to print."""


@dataclass
class Stat:
    """Mean and sample standard deviation over repetitions (sd is 0 with one repetition)."""
    mean: float
    sd: float
    n: int

    @staticmethod
    def of(values: list[float]) -> "Stat":
        n = len(values)
        mean = sum(values) / n
        sd = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1)) if n > 1 else 0.0
        return Stat(mean, sd, n)


@dataclass
class ParsedName:
    model: str
    variant: str | None
    workload: str
    args: dict[str, int]
    lang: str | None = None  # "python" for the notebook's Python; None for concbench's C++

    @property
    def cpp_model(self) -> str:
        """The model and variant without the language prefix: the C++ twin's."""
        return f"{self.model}.{self.variant}" if self.variant else self.model

    @property
    def model_full(self) -> str:
        return f"{self.lang}.{self.cpp_model}" if self.lang else self.cpp_model


def parse_name(run_name: str) -> ParsedName | None:
    """Parses '<model>[.<variant>]/<workload>/<key>:<value>/...'; None if it is not one."""
    parts = run_name.split("/")
    if len(parts) < 2:
        return None
    m = _MODEL_RE.match(parts[0])
    if not m or not _WORKLOAD_RE.match(parts[1]):
        return None
    args: dict[str, int] = {}
    for p in parts[2:]:
        if p in GB_NAME_WORDS:
            continue
        kv = _KV_RE.match(p)
        if not kv:
            return None
        key, value = kv.group(1), int(kv.group(2))
        if key in GB_NAME_KEYS:
            continue
        args[key] = value
    return ParsedName(m.group(2), m.group(3), parts[1], args, m.group(1))


def format_arg(key: str, value: int) -> str:
    """'sleep_ms', 500 -> 'sleep 500 ms': arguments as a reader would say them."""
    if key == "payload":
        return f"payload {format_bytes(value)}"
    fmt = {
        "tasks": "{:,} tasks", "workers": "{:,} workers", "sleep_ms": "sleep {} ms",
        "sleep_us": "sleep {} µs", "chunksize": "chunksize {}", "n": "n={:,}",
        "threads": "{} threads", "increments": "{:,} increments", "delay_ms": "delay {} ms",
        "stack_kib": "stack {} KiB", "cpu_us": "CPU {:,} µs", "io_ms": "wait {} ms",
        "steps": "{} steps",
    }.get(key)
    if fmt is None:
        return f"{key}={value}"
    if key == "tasks" and value == 1:
        return "1 task"
    if key == "workers" and value == 1:
        return "1 worker"
    if key == "steps" and value == 1:
        return "1 step"
    return fmt.format(value)


def format_bytes(n: float) -> str:
    for unit, size in (("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= size and n % size == 0:
            return f"{int(n // size)} {unit}"
    return f"{int(n)} B"


def format_args(args: dict[str, int], keys=None) -> str:
    keys = list(args) if keys is None else [k for k in keys if k in args]
    return ", ".join(format_arg(k, args[k]) for k in keys)


def format_seconds(s: float) -> str:
    """A time with a unit a person reads easily: 2.51 s, 503 ms, 12.3 µs."""
    a = abs(s)
    if a >= 1:
        return f"{s:.3g} s" if a < 100 else f"{s:.0f} s"
    if a >= 1e-3:
        return f"{s * 1e3:.3g} ms"
    if a >= 1e-6:
        return f"{s * 1e6:.3g} µs"
    if a == 0:
        return "0 s"
    return f"{s * 1e9:.3g} ns"


def _row_seconds(row: dict) -> float | None:
    t = row.get("real_time")
    unit = UNIT_SECONDS.get(row.get("time_unit", "ns"))
    if not isinstance(t, (int, float)) or unit is None:
        return None
    return float(t) * unit


@dataclass
class Bench:
    """Every row of one benchmark (one run_name)."""
    run_name: str
    parsed: ParsedName
    order: int
    reps: list[dict] = field(default_factory=list)
    aggregates: dict[str, dict] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    # model, variant, model_full, lang, workload and args are the parsed name's.
    _FROM_NAME = frozenset(("model", "variant", "model_full", "lang", "workload", "args"))

    def __getattr__(self, name):
        if name in Bench._FROM_NAME:
            return getattr(self.parsed, name)
        raise AttributeError(f"Bench has no attribute {name!r}")

    @property
    def failed(self) -> bool:
        return bool(self.errors)

    def label(self) -> str:
        a = format_args(self.args)
        return f"{self.model_full}/{self.workload}" + (f" ({a})" if a else "")

    def _values(self, getter) -> Stat | None:
        vals = [v for v in (getter(r) for r in self.reps) if v is not None]
        if vals:
            return Stat.of(vals)
        mean = self.aggregates.get("mean")
        if mean is not None:
            m = getter(mean)
            if m is None:
                return None
            sd_row = self.aggregates.get("stddev")
            sd = getter(sd_row) if sd_row is not None else None
            return Stat(m, sd or 0.0, int(mean.get("repetitions", 1) or 1))
        return None

    def time_s(self) -> Stat | None:
        """Wall time of one iteration, in seconds, over the repetitions."""
        return self._values(_row_seconds)

    def samples_s(self) -> list[float]:
        """Wall time of one iteration in each repetition, seconds: what a significance test
        compares (aggregate rows are not samples)."""
        return [t for t in (_row_seconds(r) for r in self.reps) if t is not None and t > 0]

    def counter(self, key: str) -> Stat | None:
        def get(row):
            v = row.get(key)
            return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else None
        return self._values(get)

    def has_counter(self, key: str) -> bool:
        rows = self.reps or list(self.aggregates.values())
        return any(isinstance(r.get(key), (int, float)) for r in rows)

    def counter_names(self) -> list[str]:
        """User counters present in this benchmark's rows (not Google Benchmark's own fields)."""
        own = {"family_index", "per_family_instance_index", "repetitions", "repetition_index",
               "threads", "iterations", "real_time", "cpu_time"}
        names: list[str] = []
        for r in self.reps or list(self.aggregates.values()):
            for k, v in r.items():
                if k not in own and isinstance(v, (int, float)) and not isinstance(v, bool) \
                        and k not in names:
                    names.append(k)
        return names

    def repetitions(self) -> int:
        t = self.time_s()
        return t.n if t else 0


# --- the binary's tables ------------------------------------------------------------------
# The binary owns the tables of models, workloads and notebook cells (bench/models.h,
# workloads.h, cells.h): `concbench --list_models` (_workloads, _cells) prints each, and every
# results file carries the same JSON text in its context. The scripts take names, order,
# colours, Python twins, workload kinds and cells from there, never from a list of their own.
# A file written before the tables existed has none: its models then come in the order they
# first appear, and its workloads are of unknown kind.

TABLE_KEYS = {"models": "concbench_models", "workloads": "concbench_workloads",
              "cells": "concbench_cells"}

# What a workload is bound by, from the kinds of step its tasks take (the table's `steps`):
# compute steps only, waits only (a sleep, an echo), or both.
CPU_BOUND, IO_BOUND, MIXED = "CPU-bound", "I/O-bound", "mixed"
COMPUTE_STEP = "compute"


def parse_table(value, table: str) -> list[dict] | None:
    """One table's rows from what the binary wrote, `{"<table>": [...]}` as JSON text (or
    already parsed); None when it is absent or unreadable."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            return None
    if isinstance(value, dict):
        value = value.get(table)
    if not isinstance(value, list):
        return None
    return [r for r in value if isinstance(r, dict)]


def table_from(contexts, table: str) -> list[dict]:
    """The rows of `table` ("models", "workloads" or "cells") from the first context that
    holds it; [] when none does."""
    for ctx in contexts:
        rows = parse_table((ctx or {}).get(TABLE_KEYS[table]), table)
        if rows is not None:
            return rows
    return []


def split_lang(model_full: str) -> tuple[str | None, str]:
    """'python.async.sequential' -> ('python', 'async.sequential'); 'threads' -> (None,
    'threads')."""
    lang, dot, rest = model_full.partition(".")
    return (lang, rest) if dot and lang in LANGUAGES else (None, model_full)


def _by_name(rows: list[dict]) -> dict[str, dict]:
    return {r["name"]: r for r in rows if isinstance(r.get("name"), str)}


class Models:
    """The table of models in the notebook's order (its rows: name, base, variant, summary,
    python, steps), extended by any model of the results it lacks, in the order they first
    appear; with no table, only the latter. A Python row (`python.<model>`) belongs to its C++
    twin's base model: `python.async.uvloop` to `async`."""

    def __init__(self, rows: list[dict], seen=()):
        self.rows = _by_name(rows)
        self.names = list(self.rows)
        for m in seen:
            m = split_lang(m)[1]
            if self.known(m) is None and m not in self.names:
                self.names.append(m)
        self.bases = list(dict.fromkeys(self.base(m) for m in self.names))

    def known(self, model: str) -> str | None:
        """The longest dotted prefix of a C++ model that the table has ('async.uvloop' ->
        'async'), or None."""
        parts = model.split(".")
        for i in range(len(parts), 0, -1):
            if ".".join(parts[:i]) in self.rows:
                return ".".join(parts[:i])
        return None

    def base(self, model_full: str) -> str:
        """The base model, C++ or Python: 'python.async.sequential' -> 'async'."""
        model = split_lang(model_full)[1]
        row = self.rows.get(self.known(model) or "", {})
        base = row.get("base")
        return base if isinstance(base, str) and base else model.split(".")[0]

    def summary(self, model_full: str) -> str | None:
        s = self.rows.get(split_lang(model_full)[1], {}).get("summary")
        return s if isinstance(s, str) and s else None

    def rank(self, model_full: str) -> tuple:
        """A sort key: C++ before the notebook's Python, then base models and their variants in
        the table's order (or first appearance)."""
        lang, model = split_lang(model_full)
        base = self.base(model)
        own = self.known(model) or model
        return (lang is not None,
                self.bases.index(base) if base in self.bases else len(self.bases),
                self.names.index(own) if own in self.names else len(self.names), model_full)


class Workloads:
    """The table of workloads (name, summary, args, steps, models); empty for results written
    without it, whose workloads are then of unknown kind."""

    def __init__(self, rows: list[dict]):
        self.rows = _by_name(rows)

    def summary(self, workload: str) -> str | None:
        s = self.rows.get(workload, {}).get("summary")
        return s if isinstance(s, str) and s else None

    def kind(self, workload: str) -> str | None:
        """CPU_BOUND, IO_BOUND or MIXED; None for a workload the table does not describe."""
        steps = self.rows.get(workload, {}).get("steps")
        if not isinstance(steps, list) or not steps:
            return None
        if COMPUTE_STEP not in steps:
            return IO_BOUND
        return CPU_BOUND if set(steps) == {COMPUTE_STEP} else MIXED


class Cell(NamedTuple):
    """One row of the binary's cell table: the cell's id, section and label; its role ("cell",
    or "baseline": the serial run a parallel cell is measured against, id in `baseline`); the C++
    benchmark that reproduces it (model, workload, args); the args the notebook left to the
    executor's default, whose values are the machine's (`defaults`); the live Python twin's
    model (None when it has none); and the seconds the notebook printed (None if none)."""
    id: str
    section: str
    label: str
    role: str
    model: str
    workload: str
    args: dict
    defaults: tuple
    python: str | None
    printed_s: float | None
    baseline: str | None

    @property
    def fixed_args(self) -> dict:
        """The arguments every run of the cell has, whatever the machine: the defaults left out."""
        return {k: v for k, v in self.args.items() if k not in self.defaults}


def _model_of(family) -> tuple[str, str] | None:
    """'threads.gil/cpu' -> ('threads.gil', 'cpu')."""
    model, slash, workload = family.partition("/") if isinstance(family, str) else ("", "", "")
    return (model, workload) if slash and model and workload else None


def parse_cell(row: dict) -> Cell | None:
    """A Cell from a row of the table; None for a row that lacks what a cell needs."""
    family, python = _model_of(row.get("family")), _model_of(row.get("python"))
    args = row.get("args")
    if family is None or not isinstance(row.get("id"), str) or not isinstance(args, dict) \
            or not all(isinstance(v, int) for v in args.values()):
        return None
    printed = row.get("printed_s")
    return Cell(row["id"], str(row.get("section", row["id"])), str(row.get("label", row["id"])),
                str(row.get("role", "cell")), family[0], family[1], dict(args),
                tuple(row.get("defaults") or ()), python[0] if python else None,
                float(printed) if isinstance(printed, (int, float)) else None,
                row.get("baseline") if isinstance(row.get("baseline"), str) else None)


def cells_of(rows: list[dict]) -> list[Cell]:
    """The cells of the table's rows, in its order (the notebook's)."""
    return [c for c in map(parse_cell, rows) if c is not None]


@dataclass
class Results:
    path: str
    context: dict
    benches: list[Bench]
    ignored_names: list[str]
    # The context of the notebook's Python run merged in (python.json beside results.json).
    python_context: dict | None = None
    # Where the binary's tables are read, first that has one wins; None: this file's context.
    table_contexts: list | None = None

    def table(self, name: str) -> list[dict]:
        """The rows of the binary's table `name` ("models", "workloads" or "cells")."""
        return table_from(self.table_contexts or [self.context], name)

    @functools.cached_property
    def models(self) -> Models:
        return Models(self.table("models"), [b.model_full for b in self.benches])

    @functools.cached_property
    def workload_table(self) -> Workloads:
        return Workloads(self.table("workloads"))

    def ok(self) -> list[Bench]:
        """Benchmarks that ran without error and have a time: the only ones ever charted."""
        return [b for b in self.benches if not b.failed and b.time_s() is not None]

    def failed(self) -> list[Bench]:
        return [b for b in self.benches if b.failed]

    @property
    def partial(self) -> str | None:
        """Why the run did not finish (the binary's `concbench_partial`), or None when complete."""
        return self.context.get("concbench_partial") or None

    def cut_short(self) -> list[Bench]:
        """A partial run's benchmarks that were stopped: the failed ones whose error is the
        partial reason, or every failed one when none says it."""
        if not self.partial:
            return []
        failed = self.failed()
        return [b for b in failed if self.partial in b.errors] or failed

    def not_run(self) -> list[str]:
        """The planned benchmarks that never ran (`concbench_not_run`, joined by "; ")."""
        return [n.strip() for n in str(self.context.get("concbench_not_run") or "").split(";")
                if n.strip()]

    def workloads(self) -> list[str]:
        seen: list[str] = []
        for b in self.benches:
            if b.workload not in seen:
                seen.append(b.workload)
        return seen

    def find(self, model_full: str, workload: str, args: dict[str, int]) -> list[Bench]:
        """Benchmarks of that model and workload whose arguments include `args`."""
        return [b for b in self.ok()
                if b.model_full == model_full and b.workload == workload
                and all(b.args.get(k) == v for k, v in args.items())]


def resolve_path(path: str) -> str:
    """A results folder stands for the results.json (or results.partial.json) inside it."""
    if os.path.isdir(path):
        for name in ("results.json", "results.partial.json"):
            p = os.path.join(path, name)
            if os.path.isfile(p):
                return p
        raise ResultsError(f"{path}: folder has no results.json (nor results.partial.json)")
    return path


PYTHON_JSON = "python.json"


def load_run(path: str) -> Results:
    """A results file with, when its folder holds one, the notebook's Python run (python.json,
    written by scripts/notebook_python.py in the same run) merged in after the C++ rows. The
    binary's tables come from the C++ results, else from python.json's copies; a python.json
    read alone takes them from the C++ results of its folder, else from its own."""
    results = load(path)
    folder = os.path.dirname(os.path.abspath(results.path))
    py = os.path.join(folder, PYTHON_JSON)
    if os.path.abspath(results.path) == os.path.abspath(py):
        results.table_contexts = [_context_of(folder), results.context]
        return results
    if not os.path.isfile(py):
        return results
    python = load(py)
    for b in python.benches:
        b.order += len(results.benches)
    results.benches.extend(python.benches)
    results.python_context = python.context
    results.table_contexts = [results.context, python.context]
    return results


def _context_of(folder: str) -> dict | None:
    """The context of the C++ results in a run folder, or None when there is none to read."""
    try:
        with open(resolve_path(folder), "rb") as f:
            ctx = json.loads(f.read().decode("utf-8")).get("context")
    except (ResultsError, OSError, ValueError, AttributeError):
        return None
    return ctx if isinstance(ctx, dict) else None


def load(path: str) -> Results:
    """Reads and groups a results file; raises ResultsError with a one-line reason."""
    path = resolve_path(path)
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except OSError as e:
        raise ResultsError(f"{path}: cannot read: {e.strerror or e}") from None
    if not raw.strip():
        raise ResultsError(f"{path}: file is empty (did the benchmark run finish?)")
    try:
        data = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ResultsError(f"{path}: not a text file (expected Google Benchmark JSON)") from None
    except json.JSONDecodeError as e:
        raise ResultsError(f"{path}: malformed JSON at line {e.lineno}, column {e.colno}: "
                           f"{e.msg} (truncated or interrupted run?)") from None
    return from_json(data, path)


def from_json(data, path: str = "<json>") -> Results:
    if not isinstance(data, dict) or not isinstance(data.get("benchmarks"), list) \
            or not isinstance(data.get("context"), dict):
        raise ResultsError(f"{path}: not Google Benchmark JSON (expected an object with "
                           f"'context' and 'benchmarks')")
    benches: dict[str, Bench] = {}
    ignored: list[str] = []
    for row in data["benchmarks"]:
        if not isinstance(row, dict) or not isinstance(row.get("name"), str):
            raise ResultsError(f"{path}: a benchmark row has no name; not Google Benchmark JSON")
        run_name = row.get("run_name") if isinstance(row.get("run_name"), str) else row["name"]
        parsed = parse_name(run_name)
        if parsed is None:
            if run_name not in ignored:
                ignored.append(run_name)
            continue
        b = benches.get(run_name)
        if b is None:
            b = benches[run_name] = Bench(run_name, parsed, len(benches))
        if row.get("error_occurred"):
            b.errors.append(str(row.get("error_message") or "error (no message)"))
        elif row.get("run_type") == "aggregate":
            b.aggregates[str(row.get("aggregate_name", "?"))] = row
        else:
            b.reps.append(row)
    if not benches:
        if ignored:
            raise ResultsError(f"{path}: no concbench benchmarks in it (names like "
                               f"'{ignored[0]}' are not <model>/<workload>/<key>:<value>/...)")
        partial = data["context"].get("concbench_partial")
        raise ResultsError(f"{path}: no benchmarks in it"
                           + (f" (partial: {partial})" if partial else ""))
    return Results(path, data["context"], list(benches.values()), ignored)


# --- grouping ------------------------------------------------------------------------------

def facet_of(b: Bench, exclude=()) -> tuple:
    """The arguments that say what one task does (plus any unknown ones): one facet each."""
    return tuple((k, v) for k, v in b.args.items() if k not in RUN_KEYS and k not in exclude)


def series_of(b: Bench, exclude=()) -> tuple:
    """Model and the arguments that say how the tasks are run: one line each."""
    return (b.model_full,) + tuple((k, b.args[k]) for k in RUN_KEYS
                                   if k in b.args and k not in exclude)


def series_label(key: tuple) -> str:
    model, *rest = key
    return model + (" · " + ", ".join(format_arg(k, v) for k, v in rest) if rest else "")


def facet_label(key: tuple) -> str:
    return ", ".join(format_arg(k, v) for k, v in key)


def group(benches, key_fn) -> dict:
    out: dict = {}
    for b in benches:
        out.setdefault(key_fn(b), []).append(b)
    return out


# --- writing ---------------------------------------------------------------------------------

def write_atomic(path: str, data: bytes | str) -> None:
    """Writes a file whole or not at all: a temporary file in the same folder, then rename."""
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".tmp",
                               dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data.encode("utf-8") if isinstance(data, str) else data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


# --- the positive control --------------------------------------------------------------------

# concbench --inject_slowdown=PCT records PCT here: every compute step did PCT % more work.
SLOWDOWN_KEY = "concbench_inject_slowdown_pct"


def injected_slowdown(context: dict) -> float:
    """The slowdown a run injected (--inject_slowdown), in percent; 0 when none."""
    try:
        pct = float(context.get(SLOWDOWN_KEY) or 0)
    except (TypeError, ValueError):
        return 0.0
    return pct if pct > 0 and math.isfinite(pct) else 0.0


def slowdown_note(pct: float) -> str:
    """What an injected slowdown means, for every output that shows a run's numbers."""
    return (f"every compute step did {pct:g} % more work (--inject_slowdown={pct:g}, a positive "
            "control): a benchmark is slower by that times its share of compute")


# --- matching runs ---------------------------------------------------------------------------

def key_name(b: Bench) -> str:
    """The name without Google Benchmark's own parts: 'threads/cpu/tasks:4/workers:2/n:200000'.
    The same benchmark keeps it from run to run even when its planned iterations:N change."""
    return "/".join([b.model_full, b.workload] + [f"{k}:{v}" for k, v in b.args.items()])


def fatal_on_user_errors(action, writing: str):
    """Runs action() and returns (its value, 0), or (None, 2) after one `fatal:` line on stderr
    for a user's mistake: a results file that cannot be read, or an output that cannot be
    written (`writing` says which)."""
    import sys
    try:
        return action(), 0
    except ResultsError as e:
        print(f"fatal: {e}", file=sys.stderr)
    except OSError as e:
        print(f"fatal: cannot write {writing}: {e}", file=sys.stderr)
    return None, 2
