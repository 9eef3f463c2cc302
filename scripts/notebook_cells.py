"""The notebook's cells (seed/000_9eaa4771b740e774.txt), each with the time its Python printed
and the benchmarks that reproduce it: concbench's C++, and the notebook's own Python run live on
the same machine (python.<model> rows, scripts/notebook_python.py). plot.py draws them
(notebook.png); report.py and the end of scripts/run tabulate them.

    for row in notebook_rows(cr.load_run("results/<run>/results.json")):
        print(row.cell.section, row.cpp, row.python, verdict_phrase(row.verdict))

Every claim that one side beats the other comes from the repetitions of both, measured in the
same run (stats.judge: a Mann–Whitney U test and the interval of the change); the printed
Python time was taken on another machine and is shown, never compared.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import concbench_results as cr
import stats


class Cell(NamedTuple):
    """One notebook cell: its section, what it does, the seconds its Python printed (None when it
    printed no time), and the benchmark that does the same work: model, workload and the
    arguments the benchmark must have (it may have more, e.g. workers where the notebook used
    the default). A tuple of models is an order of preference. `python_model` is the live
    Python row's model when it is not "python." + the C++ model; `baseline` the serial model of
    the same work, which a parallel cell is measured against (same language, same run)."""
    section: str
    what: str
    python_s: float | None
    models: str | tuple[str, ...]
    workload: str
    args: dict
    python_model: str | None = None
    baseline: str | None = None


# The notebook's process cells time `with ProcessPoolExecutor()`, pool start-up included, which
# is what processes.with_startup measures.
PROCESSES_CELL = ("processes.with_startup", "processes")
NOTEBOOK_CELLS = [
    Cell("0", "pause: time.sleep(0.1)", 0.101, "sync", "sleep", {"tasks": 1, "sleep_ms": 100}),
    Cell("1", "sync: 5 tasks × sleep 0.5 s", 2.510, "sync", "sleep",
         {"tasks": 5, "sleep_ms": 500}),
    Cell("2", "threads: 5 tasks × sleep 0.5 s, 5 workers", 0.506, "threads", "sleep",
         {"tasks": 5, "workers": 5, "sleep_ms": 500}),
    Cell("2.1", "threads, no lock (race): 2 × 100,000 increments", 0.046, "threads.race",
         "counter", {"threads": 2, "increments": 100000}),
    Cell("2.1", "threads with lock: 2 × 100,000 increments", 0.072, "threads.mutex", "counter",
         {"threads": 2, "increments": 100000}),
    Cell("3", "asyncio gather: 5 tasks × sleep 0.5 s", 0.503, "async", "sleep",
         {"tasks": 5, "sleep_ms": 500}),
    Cell("3", "same cell, C++ coroutines (co_await, Gather)", 0.503, "async.coro", "sleep",
         {"tasks": 5, "sleep_ms": 500}, python_model="python.async"),
    Cell("3.1", "asyncio sequential: 5 × sleep 0.3 s", 1.506, "async.sequential", "sleep",
         {"tasks": 5, "sleep_ms": 300}),
    Cell("3.1", "same cell, C++ coroutines awaited in turn", 1.506, "async.coro.sequential",
         "sleep", {"tasks": 5, "sleep_ms": 300}, python_model="python.async.sequential"),
    Cell("4", "threads: 4 × cpu_intensivo(200000)", 0.129, "threads", "cpu",
         {"tasks": 4, "n": 200000}, baseline="sync"),
    Cell("4", "same cell, C++ threads with a GIL-like lock", 0.129, "threads.gil", "cpu",
         {"tasks": 4, "n": 200000}, python_model="python.threads", baseline="sync"),
    Cell("4", "processes: 4 × cpu_intensivo(200000)", 0.116, PROCESSES_CELL, "cpu",
         {"tasks": 4, "n": 200000}, baseline="sync"),
    Cell("4.1", "processes map: 200 × trabajo, chunksize 1", 0.611, PROCESSES_CELL, "trabajo",
         {"tasks": 200, "chunksize": 1}, baseline="sync"),
    Cell("4.1", "processes map: 200 × trabajo, chunksize 20", 0.702, PROCESSES_CELL, "trabajo",
         {"tasks": 200, "chunksize": 20}, baseline="sync"),
    Cell("5.1", "asyncio sequential: 5 × sleep 0.3 s (labelled 0.2 s)", 1.505,
         "async.sequential", "sleep", {"tasks": 5, "sleep_ms": 300}),
    Cell("5.2", "threads: 5 tasks × sleep 0.2 s, 5 workers", 0.203, "threads", "sleep",
         {"tasks": 5, "workers": 5, "sleep_ms": 200}),
    Cell("5.3", "processes: tarea_normal(0..3)", 0.131, PROCESSES_CELL, "tarea_normal",
         {"tasks": 4}, baseline="sync"),
]

# §6 measures memory, not time: the notebook printed VmRSS 68712 kB before and 81000 kB after
# building the list of 300,000 ints.
MEMORY_CELL = Cell("6", "a list of 300,000 ints: resident memory growth", None, "sync", "alloc",
                   {"n": 300000})
PRINTED_RSS_GROWTH_KIB = 81000 - 68712


def _first_match(results: cr.Results, models, workload: str, args: dict) -> cr.Bench | None:
    """Of the first model in preference order that has one, the benchmark with the fewest
    arguments beyond `args`, then the first in the results."""
    for model in (models,) if isinstance(models, str) else models:
        found = results.find(model, workload, args)
        if found:
            found.sort(key=lambda b: (len(b.args) - len(args), b.order))
            return found[0]
    return None


def python_twin(results: cr.Results, cell: Cell, cpp: cr.Bench | None) -> cr.Bench | None:
    """The live Python row of a cell: python.<the C++ row's model> with the C++ row's arguments
    (its exact twin), else with the cell's."""
    if cell.python_model:
        models = (cell.python_model,)
    elif cpp is not None:
        models = ("python." + cpp.model_full,)
    else:
        models = tuple("python." + m for m in ((cell.models,) if isinstance(cell.models, str)
                                                 else cell.models))
    if cpp is not None:
        exact = _first_match(results, models, cell.workload, cpp.args)
        if exact is not None:
            return exact
    return _first_match(results, models, cell.workload, cell.args)


def judge_benches(a: cr.Bench | None, b: cr.Bench | None) -> stats.Verdict | None:
    """b against a, from their repetitions; None when either is missing or has no time."""
    if a is None or b is None:
        return None
    sa, sb = a.samples_s(), b.samples_s()
    if not sa or not sb:
        return None
    return stats.judge(sa, sb)


@dataclass
class CellRow:
    cell: Cell
    cpp: cr.Bench | None          # concbench's C++, this run
    python: cr.Bench | None       # the notebook's Python, this run (python.json)
    verdict: stats.Verdict | None  # C++ (B) against Python (A)
    baseline: cr.Bench | None     # the serial C++ run of the same work, when the cell has one
    vs_baseline: stats.Verdict | None  # C++ (B) against its serial baseline (A)

    def ratio(self) -> float | None:
        """Python ÷ C++, medians of this run: how many times faster the C++ is."""
        if self.verdict is None:
            return None
        return self.verdict.median_a / self.verdict.median_b


def notebook_matches(results: cr.Results) -> list[tuple[Cell, cr.Bench | None]]:
    """[(cell, C++ bench or None)] for every notebook cell."""
    return [(c, _first_match(results, c.models, c.workload, c.args)) for c in NOTEBOOK_CELLS]


def notebook_rows(results: cr.Results) -> list[CellRow]:
    rows = []
    for cell, cpp in notebook_matches(results):
        py = python_twin(results, cell, cpp)
        base = None
        if cell.baseline and cpp is not None:
            keep = {k: v for k, v in cell.args.items() if k in ("tasks", "n")}
            base = _first_match(results, cell.baseline, cell.workload, keep)
        rows.append(CellRow(cell, cpp, py, judge_benches(py, cpp), base, judge_benches(base, cpp)))
    return rows


def times(r: float) -> str:
    """1.0004 -> '1.00×', 89.3 -> '89×', 0.8 -> '0.80×'."""
    return f"{r:.0f}×" if r >= 10 else f"{r:.2f}×"


def verdict_phrase(v: stats.Verdict | None, who: str = "C++") -> str:
    """`who` (B) against A in a few words: 'C++ 89× faster (p = 0.008)', 'C++ 1.3× slower
    (p = 0.01)', 'not distinguishable on this machine (...)', 'too few repetitions (...)'."""
    if v is None:
        return "–"
    if v.verdict in ("faster", "slower"):
        r = v.median_a / v.median_b if v.verdict == "faster" else v.median_b / v.median_a
        return f"{who} {times(r)} {v.text()}"
    return v.text()


def short_verdict(v: stats.Verdict | None, who: str = "C++") -> str:
    """The verdict in a chart label's few words: 'C++ 89× faster (p = 0.008)', 'same within
    noise (p = 0.42)', 'equal within ±1 % (p = 0.008)' (a real but tiny difference), 'not
    distinguishable here', 'C++ 190× faster, untested (3 + 3 repetitions)'."""
    if v is None:
        return ""
    if v.verdict in ("faster", "slower"):
        return verdict_phrase(v, who)
    if v.verdict == "no significant change":
        if v.p_value is not None and v.p_value < stats.ALPHA:
            return f"equal within {stats.NOISE_BAND} (p = {stats.format_p(v.p_value)})"
        return f"same within noise (p = {stats.format_p(v.p_value)})" if v.p_value is not None \
            else "same within noise"
    if v.verdict == "too noisy":
        return "not distinguishable here"
    r = v.median_a / v.median_b
    word = f"{times(r)} faster" if r >= 1 else f"{times(1 / r)} slower"
    return f"{who} {word}, untested ({v.n_a} + {v.n_b} repetitions)"


def gil_check(results: cr.Results) -> tuple[float, float] | None:
    """§4 under a GIL, on both sides of this run: (Python threads ÷ Python serial, C++
    threads.gil ÷ C++ serial). Both near 1 is evidence that the emulation is faithful."""
    args = {"tasks": 4, "n": 200000}
    py_t = _first_match(results, "python.threads", "cpu", args)
    py_s = _first_match(results, "python.sync", "cpu", args)
    cc_t = _first_match(results, "threads.gil", "cpu", args)
    cc_s = _first_match(results, "sync", "cpu", args)
    if not all((py_t, py_s, cc_t, cc_s)):
        return None
    return (py_t.time_s().mean / py_s.time_s().mean, cc_t.time_s().mean / cc_s.time_s().mean)


def lost_updates(results: cr.Results) -> tuple[float | None, float | None]:
    """§2.1's race: (Python's lost updates, C++'s), means over the repetitions."""
    args = {"threads": 2, "increments": 100000}
    out = []
    for model in ("python.threads.race", "threads.race"):
        b = _first_match(results, model, "counter", args)
        c = b.counter("lost_updates") if b else None
        out.append(c.mean if c else None)
    return out[0], out[1]


def memory_growth(results: cr.Results) -> tuple[float | None, float | None]:
    """§6: (Python's resident growth in KiB, C++'s), this run."""
    out = []
    for model in ("python.sync", "sync"):
        b = _first_match(results, model, MEMORY_CELL.workload, MEMORY_CELL.args)
        c = b.counter("rss_kib") if b else None
        out.append(c.mean if c else None)
    return out[0], out[1]
