"""The notebook's cells (seed/000_9eaa4771b740e774.txt), each with the time its Python printed
and the concbench benchmark that reproduces it. plot.py draws them (notebook.png); report.py
tabulates them.
"""
from __future__ import annotations

from typing import NamedTuple

import concbench_results as cr


class Cell(NamedTuple):
    """One notebook cell: its section, what it does, the seconds its Python printed, and the
    benchmark that does the same work: model, workload and the arguments the benchmark must
    have (it may have more, e.g. workers where the notebook used the default). A tuple of
    models is an order of preference."""
    section: str
    what: str
    python_s: float
    models: str | tuple[str, ...]
    workload: str
    args: dict


# The notebook's process cells time `with ProcessPoolExecutor()`, pool start-up included, which
# is what processes.with_startup measures.
PROCESSES_CELL = ("processes.with_startup", "processes")
NOTEBOOK_CELLS = [
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
    Cell("3.1", "asyncio sequential: 5 × sleep 0.3 s", 1.506, "async.sequential", "sleep",
         {"tasks": 5, "sleep_ms": 300}),
    Cell("4", "threads: 4 × cpu_intensivo(200000)", 0.129, "threads", "cpu",
         {"tasks": 4, "n": 200000}),
    Cell("4", "same cell, C++ threads with a GIL-like lock", 0.129, "threads.gil", "cpu",
         {"tasks": 4, "n": 200000}),
    Cell("4", "processes: 4 × cpu_intensivo(200000)", 0.116, PROCESSES_CELL, "cpu",
         {"tasks": 4, "n": 200000}),
    Cell("4.1", "processes map: 200 × trabajo, chunksize 1", 0.611, PROCESSES_CELL, "trabajo",
         {"tasks": 200, "chunksize": 1}),
    Cell("4.1", "processes map: 200 × trabajo, chunksize 20", 0.702, PROCESSES_CELL, "trabajo",
         {"tasks": 200, "chunksize": 20}),
    Cell("5.1", "asyncio sequential: 5 × sleep 0.3 s (labelled 0.2 s)", 1.505,
         "async.sequential", "sleep", {"tasks": 5, "sleep_ms": 300}),
    Cell("5.2", "threads: 5 tasks × sleep 0.2 s, 5 workers", 0.203, "threads", "sleep",
         {"tasks": 5, "workers": 5, "sleep_ms": 200}),
    Cell("5.3", "processes: tarea_normal(0..3)", 0.131, PROCESSES_CELL, "tarea_normal",
         {"tasks": 4}),
]


def notebook_matches(results: cr.Results) -> list[tuple[Cell, cr.Bench | None]]:
    """[(cell, bench or None)] for every notebook cell, the closest benchmark in the results:
    of the first model in the cell's preference order that has one, the benchmark with the
    fewest arguments beyond the cell's, then the first in the results."""
    out = []
    for cell in NOTEBOOK_CELLS:
        found = []
        models = (cell.models,) if isinstance(cell.models, str) else cell.models
        for model in models:
            found = results.find(model, cell.workload, cell.args)
            if found:
                break
        found.sort(key=lambda b: (len(b.args) - len(cell.args), b.order))
        out.append((cell, found[0] if found else None))
    return out
