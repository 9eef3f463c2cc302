"""The notebook's cells (seed/000_9eaa4771b740e774.txt), each with the time its Python printed
and the benchmarks that reproduce it: concbench's C++, and the notebook's own Python run live on
the same machine (python.<model> rows, scripts/notebook_python.py). The cells are the binary's
table (`concbench --list_cells`), read from the results' context (`concbench_cells`); results
written without it have no cells. plot.py draws them (notebook.png); report.py and the end of
scripts/run tabulate them.

    for row in notebook_rows(cr.load_run("results/<run>/results.json")):
        print(row.cell.section, row.cpp, row.python, verdict_phrase(row.verdict))

Every claim that one side beats the other comes from the repetitions of both, measured in the
same run (stats.judge: a Mann–Whitney U test and the interval of the change); the printed
Python time was taken on another machine and is shown, never compared.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import concbench_results as cr
import stats

# Cells a paragraph of the report is about, by their id in the binary's table.
GIL_CELL = "4.gil"        # threads under the emulated GIL, against CPython's threads
RACE_CELL = "2.1.race"    # the increments that lose updates without a lock
MEMORY_CELL = "6"         # the list of ints whose resident memory the notebook printed

# §6 measures memory, not time: the notebook printed VmRSS 68712 kB before and 81000 kB after
# building its list of ints.
PRINTED_RSS_GROWTH_KIB = 81000 - 68712


Cell = cr.Cell


def cells(results: cr.Results) -> list[Cell]:
    """Every cell of the binary's table, in the notebook's order."""
    return cr.cells_of(results.table("cells"))


def find_cell(results: cr.Results, cell_id: str) -> Cell | None:
    return next((c for c in cells(results) if c.id == cell_id), None)


def timed_cells(results: cr.Results) -> list[Cell]:
    """The cells whose time the notebook printed: the rows of the notebook table. Baselines are
    measured against, not shown; a cell that printed memory (§6) has its own paragraph."""
    return [c for c in cells(results) if c.role == "cell" and c.printed_s is not None]


def _first_match(results: cr.Results, model: str, workload: str, args: dict) -> cr.Bench | None:
    """The benchmark of that model and workload with the fewest arguments beyond `args`, then
    the first in the results."""
    found = results.find(model, workload, args)
    found.sort(key=lambda b: (len(b.args) - len(args), b.order))
    return found[0] if found else None


def cpp_of(results: cr.Results, cell: Cell | None) -> cr.Bench | None:
    """The C++ benchmark of a cell in these results (its defaults may have other values)."""
    if cell is None:
        return None
    return _first_match(results, cell.model, cell.workload, cell.fixed_args)


def python_twin(results: cr.Results, cell: Cell | None, cpp: cr.Bench | None) -> cr.Bench | None:
    """The live Python row of a cell: its Python twin's model with the C++ row's arguments (its
    exact twin), else with the cell's."""
    if cell is None or cell.python is None:
        return None
    if cpp is not None:
        exact = _first_match(results, cell.python, cell.workload, cpp.args)
        if exact is not None:
            return exact
    return _first_match(results, cell.python, cell.workload, cell.fixed_args)


def serial_model(results: cr.Results) -> str | None:
    """The model the notebook's serial baselines run (the cells of role "baseline"): what a
    speed-up is measured against. None when the results carry no cell table."""
    models = Counter(c.model for c in cells(results) if c.role == "baseline")
    return models.most_common(1)[0][0] if models else None


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
    """[(cell, C++ bench or None)] for every timed cell of the notebook."""
    return [(c, cpp_of(results, c)) for c in timed_cells(results)]


def notebook_rows(results: cr.Results) -> list[CellRow]:
    every = {c.id: c for c in cells(results)}
    rows = []
    for cell, cpp in notebook_matches(results):
        py = python_twin(results, cell, cpp)
        base = cpp_of(results, every.get(cell.baseline)) if cpp is not None else None
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


def _both(results: cr.Results, cell: Cell | None) -> tuple[cr.Bench | None, cr.Bench | None]:
    """(the Python twin, the C++ benchmark) of a cell in these results."""
    cpp = cpp_of(results, cell)
    return python_twin(results, cell, cpp), cpp


def gil_check(results: cr.Results) -> tuple[float, float] | None:
    """§4 under a GIL, on both sides of this run: (Python threads ÷ Python serial, C++
    threads.gil ÷ C++ serial), the GIL cell against its serial baseline. Both near 1 is evidence
    that the emulation is faithful."""
    cell = find_cell(results, GIL_CELL)
    py_t, cc_t = _both(results, cell)
    py_s, cc_s = _both(results, find_cell(results, cell.baseline) if cell and cell.baseline
                       else None)
    if not all((py_t, py_s, cc_t, cc_s)):
        return None
    return (py_t.time_s().mean / py_s.time_s().mean, cc_t.time_s().mean / cc_s.time_s().mean)


def _counter_means(results: cr.Results, cell_id: str, key: str):
    out = []
    for b in _both(results, find_cell(results, cell_id)):
        c = b.counter(key) if b else None
        out.append(c.mean if c else None)
    return out[0], out[1]


def lost_updates(results: cr.Results) -> tuple[float | None, float | None]:
    """§2.1's race: (Python's lost updates, C++'s), means over the repetitions."""
    return _counter_means(results, RACE_CELL, "lost_updates")


def memory_growth(results: cr.Results) -> tuple[float | None, float | None]:
    """§6: (Python's resident growth in KiB, C++'s), this run."""
    return _counter_means(results, MEMORY_CELL, "rss_kib")
