"""The answer at the end of scripts/run, on the terminal: the notebook table (each cell's Python
and C++ measured here, and the verdict), one line per failed benchmark, the machine's warnings,
and where the results are. Short enough to read at a glance: about 40 lines of at most 100
columns for a notebook run.

    scripts/python scripts/answer.py results/<run>
"""
from __future__ import annotations

import argparse
import os
import sys
import textwrap

import concbench_results as cr
import machine
from notebook_cells import notebook_rows, short_verdict

WIDTH = 100
SECTION = 4  # the notebook section column, "5.1 "
MIN_LABEL = 24  # the cell labels' column is never narrower, however long a verdict


def fit(text: str, width: int) -> str:
    return text if len(text) <= width else text[:width - 1] + "…"


def notebook_lines(results: cr.Results) -> list[str]:
    """The notebook table: every cell's label whole, wrapped under itself when it does not fit
    beside the numbers and the verdict."""
    rows = [r for r in notebook_rows(results) if r.cpp or r.python]
    if not rows:
        return []
    reps = sorted({b.repetitions() for b in results.ok()}) or [0]
    cells = []
    for r in rows:
        py = cr.format_seconds(r.verdict.median_a if r.verdict else r.python.time_s().mean) \
            if r.python else "not run"
        cc = cr.format_seconds(r.verdict.median_b if r.verdict else r.cpp.time_s().mean) \
            if r.cpp else "–"
        cells.append((r.cell.section, r.cell.label, py, cc, short_verdict(r.verdict) or "–"))
    num = max(len("Python"), *(max(len(c[2]), len(c[3])) for c in cells))
    room = WIDTH - (SECTION + 1 + num + 2 + num + 2) - max(len(c[4]) for c in cells)
    label = max(MIN_LABEL, min(room, max(len(c[1]) for c in cells)))
    out = [f"The notebook, cell by cell, measured here (medians; verdicts from "
           f"{'/'.join(map(str, reps))} repetitions by U test):",
           f"{'§':<{SECTION}}{'cell':<{label}} {'Python':>{num}}  {'C++':>{num}}  verdict"]
    for section, what, py, cc, verdict in cells:
        first, *rest = textwrap.wrap(what, label)
        out.append(fit(f"{section:<{SECTION}}{first:<{label}} {py:>{num}}  {cc:>{num}}  {verdict}", WIDTH))
        out += [" " * SECTION + more for more in rest]
    return out


def failed_lines(results: cr.Results) -> list[str]:
    failed = results.failed()
    if not failed:
        return []
    out = [f"{len(failed)} benchmark(s) failed:"]
    out += [fit(f"  {b.run_name}: {b.errors[0]}", WIDTH) for b in failed]
    return out


def machine_lines(results: cr.Results) -> list[str]:
    ctx = results.context
    if not machine.has_probe(ctx):
        return ["Machine: not probed (--no_probe)."]
    cap = machine.number(ctx, "machine_parallel_capacity")
    end = machine.number(ctx, "machine_parallel_capacity_end")
    noise = machine.number(ctx, "machine_noise_cv")
    head = f"Machine: {machine.usable_cores(ctx)} delivering {cap:.2f}"
    if end is not None:
        head += f" at the start and {end:.2f} at the end"
    if noise is not None:
        head += f"; one core's noise {noise:.1%}"
    out = [head + "."]
    for w in machine.machine_warnings(ctx):
        out += textwrap.wrap(w, WIDTH, initial_indent="  ! ", subsequent_indent="    ")
    return out


def answer(results: cr.Results, folder: str) -> list[str]:
    out = []
    if results.partial:
        out.append(fit(f"PARTIAL RESULTS: {results.partial}", WIDTH))
    not_run = results.not_run()
    if not_run:
        out.append(f"{len(not_run)} planned benchmark(s) not run (listed in report.md)")
    for part in (notebook_lines(results), failed_lines(results), machine_lines(results)):
        if part:
            out += part + [""]
    out.append(f"Results, charts and report: {folder}/ (report.md)")
    return out


def create_parser():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("results", help="a results folder (or its results.json)")
    return p


def main(argv=None) -> int:
    args = create_parser().parse_args(argv)
    try:
        results = cr.load_run(args.results)
    except cr.ResultsError as e:
        print(f"fatal: {e}", file=sys.stderr)
        return 2
    folder = os.path.dirname(os.path.abspath(results.path))
    shown = os.path.relpath(folder) if not os.path.relpath(folder).startswith("..") else folder
    print("\n".join(answer(results, shown)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
