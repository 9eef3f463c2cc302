"""Writes report.md and the charts (PNG) for one concbench results folder.

    scripts/report results/<run>/results.json [-o report.md]

The report holds, in this order: failed benchmarks (if any, first, never charted as zeros), an
unfinished sweep's missing runs, the notebook's cells next to concbench's C++ times, the cells'
timelines, every other chart with its one-line answer (those that draw the notebook's cells by
section, then the sweeps' and the maps'; one line names those the run could not draw and why),
a table of every benchmark's key numbers, and the run context. A partial results file
(results.partial.json, `concbench_partial` in its context) opens with a banner naming why it
stopped, the benchmarks cut short and those never run; its charts show what finished.
Everything is written atomically: a failure leaves no half-written file. `scripts/run` calls
this after every run that left a results file.
"""
from __future__ import annotations

import argparse
import os
import sys

import concbench_results as cr
import machine
import plot
import stats
import timeline
from notebook_cells import (GIL_CELL, MEMORY_CELL, PRINTED_RSS_GROWTH_KIB, RACE_CELL,
                            find_cell, gil_check, lost_updates, memory_growth, notebook_rows,
                            verdict_phrase)

# Counters shown in their own table columns; any other counter goes to the last column.
COLUMNS = ("ideal_s", "overhead_s", "efficiency", "checksum", "cpu_util", "ctx_switches")
HIDDEN = {"items_per_second", "bytes_per_second"}

CONTEXT_KEYS = ("concbench_suite", "concbench_options", "date", "hostname", "kernel", "num_cpus",
                "usable_cores", "mhz_per_cpu", "cpu_scaling_enabled", "load_avg",
                "concbench_version", "concbench_git_commit", "concbench_build_type",
                "concbench_compiler", "concbench_sanitize", "library_build_type",
                "libuv_version", "uv_threadpool_size", "rlimit_nofile", "rlimit_nproc",
                "executable")

COUNTER_HELP = [
    ("wall time", "wall-clock time of one iteration (one batch of tasks), mean ± sample standard "
     "deviation over the repetitions"),
    ("ideal", "`ideal_s`: the best this model could do for these arguments (e.g. the makespan "
     "of the tasks on the workers)"),
    ("overhead", "`overhead_s`: measured − ideal, per batch"),
    ("efficiency", "`efficiency`: ideal / measured (100 % = the model reached its ideal)"),
    ("checksum", "`checksum`: the sum of the task results, verified on every iteration"),
    ("cpu util", "`cpu_util`: CPU seconds (this process and its children) / wall seconds; "
     "2.0 = two cores busy"),
    ("ctx sw", "`ctx_switches`: voluntary + involuntary context switches per batch"),
]


def md_escape(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def fmt_stat_seconds(s: cr.Stat | None) -> str:
    if s is None:
        return "–"
    if s.n > 1 and s.sd > 0:
        return f"{cr.format_seconds(s.mean)} ± {cr.format_seconds(s.sd)}"
    return cr.format_seconds(s.mean)


def fmt_counter(b: cr.Bench, key: str) -> str:
    s = b.counter(key)
    if s is None:
        return "–"
    v = s.mean
    if key in ("ideal_s", "overhead_s"):
        return cr.format_seconds(v)
    if key == "efficiency":
        return f"{v * 100:.1f} %"
    if key == "checksum":
        return f"{v:,.0f}"
    if key == "cpu_util":
        return f"{v:.2f}" if abs(v) >= 0.01 or v == 0 else f"{v:.1g}"
    return fmt_number(v)


def fmt_number(v: float) -> str:
    if v == int(v) and abs(v) < 1e15:
        return f"{int(v):,}"
    if abs(v) >= 100:
        return f"{v:,.0f}"
    return f"{v:.3g}"


def table(header: list[str], rows: list[list[str]], align: str = "") -> list[str]:
    align = align or "l" + "r" * (len(header) - 1)
    sep = ["---:" if a == "r" else "---" for a in align]
    out = ["| " + " | ".join(header) + " |", "| " + " | ".join(sep) + " |"]
    out += ["| " + " | ".join(md_escape(c) for c in r) + " |" for r in rows]
    return out


def section_failed(results: cr.Results) -> list[str]:
    failed = results.failed()
    if not failed:
        return []
    out = [f"## ⚠ Failed benchmarks ({len(failed)})", "",
           "These benchmarks reported an error and produced no measurement. They are left out "
           "of every chart and table below (a failure is not a zero).", ""]
    out += table(["benchmark", "error"], [[f"`{b.run_name}`", "; ".join(dict.fromkeys(b.errors))]
                                          for b in failed], "ll")
    return out + [""]


def section_sweep(results: cr.Results) -> list[str]:
    ctx = results.context
    status = ctx.get("concbench_sweep_status")
    if not status:
        return []
    out = ["## Sweep status", "", f"**{md_escape(status)}**", ""]
    plan = ctx.get("concbench_sweep_plan")
    if plan:
        out += [f"Plan: `{md_escape(plan)}`", ""]
    unfinished = ctx.get("concbench_sweep_unfinished")
    if unfinished:
        out += ["Runs that did not finish (their benchmarks are not in this folder):", ""]
        out += [f"- `{md_escape(u)}`" for u in unfinished.split(";") if u]
        out.append("")
    timed_out = ctx.get("concbench_sweep_timed_out")
    if timed_out:
        out += ["Runs stopped at their time limit (`--family-timeout`; what they finished is in "
                "this folder, what they were running is listed with the failures):", ""]
        out += [f"- **TIMED OUT** `{md_escape(t)}`" for t in timed_out.split(";") if t]
        out.append("")
    return out


def notebook_table(results: cr.Results) -> tuple[list[str], list[list[str]]]:
    """The notebook table's header and rows: each cell's printed Python time (another machine),
    its Python and C++ measured in this run, and the verdict on the two."""
    header = ["§", "cell", "printed (another machine)", "Python here", "C++ here", "verdict"]
    rows = []
    for r in notebook_rows(results):
        printed = cr.format_seconds(r.cell.printed_s) if r.cell.printed_s is not None else "–"
        py = fmt_stat_seconds(r.python.time_s()) if r.python else "not run"
        cc = fmt_stat_seconds(r.cpp.time_s()) if r.cpp else "not in these results"
        rows.append([r.cell.section, r.cell.label, printed, py, cc, verdict_phrase(r.verdict)])
    return header, rows


def section_notebook(results: cr.Results, charts: dict) -> list[str]:
    out = ["## The notebook, cell by cell", ""]
    chart = charts.get("notebook.png")
    if chart is None:
        out += ["*No cell of the notebook has a matching benchmark in these results.*"
                if results.table("cells") else "*These results carry no table of the notebook's "
                "cells (`concbench_cells`): an older concbench wrote them.*", ""]
        return out
    live = results.python_context is not None
    out += ["Each notebook cell three ways: the time its Python printed (on another machine, in "
            "another year: shown, never compared), the notebook's own code run here, and the same "
            "work in C++ here (mean ± sd over the repetitions). The verdict compares the two "
            "measured here, by a Mann–Whitney U test over their repetitions.", "",
            "![The notebook's cells: Python vs C++](notebook.png)", ""]
    if not live:
        out += ["*The notebook's Python was not run beside this run (no python.json): "
                "`scripts/run` runs it unless given `--no-python`.*", ""]
    header, rows = notebook_table(results)
    out += table(header, rows, "llrrrl") + [""]
    base_rows = []
    for r in notebook_rows(results):
        if r.vs_baseline is not None:
            base_rows.append([r.cell.section, f"`{r.cpp.model_full}` against `{r.baseline.model_full}`",
                              fmt_stat_seconds(r.cpp.time_s()), fmt_stat_seconds(r.baseline.time_s()),
                              verdict_phrase(r.vs_baseline, r.cpp.model_full)])
    if base_rows:
        out += ["The parallel cells against the serial run of the same work, both C++, same run:", ""]
        out += table(["§", "models", "parallel", "serial", "verdict"], base_rows, "llrrl") + [""]
    out += reference_crossovers(results)
    out += notebook_paragraphs(results)
    return out


RESULTS_ROOT = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                            "results")
CROSSOVER_JSON = "crossover.json"


def newest_reference(root: str = RESULTS_ROOT) -> tuple[str, dict] | None:
    """The newest committed crossover folder under root (scripts/map --crossovers, committed as
    the reference results) and its crossover.json; folders not in git do not count. Outside a
    git checkout every folder under root counts."""
    import json
    import subprocess
    try:
        p = subprocess.run(["git", "-C", root, "ls-files", "--", f"*/{CROSSOVER_JSON}"],
                           capture_output=True, text=True, timeout=30)
        listed = p.stdout.split() if p.returncode == 0 else None
    except (OSError, subprocess.SubprocessError):
        listed = None
    if listed is None:
        listed = [os.path.join(d, CROSSOVER_JSON) for d in os.listdir(root)
                  if os.path.isfile(os.path.join(root, d, CROSSOVER_JSON))] \
            if os.path.isdir(root) else []
    for rel in sorted(listed, key=lambda f: os.path.basename(os.path.dirname(f)), reverse=True):
        try:
            with open(os.path.join(root, rel)) as f:
                data = json.load(f)
            if isinstance(data.get("breakevens"), list):
                return os.path.dirname(rel), data
        except (OSError, ValueError, AttributeError):
            continue
    return None


def reference_crossovers(results: cr.Results, root: str = RESULTS_ROOT) -> list[str]:
    """The reference results' break-evens for the workloads of the notebook's cells, labelled as
    the reference's (its date and machine): where the choice of §4 and §4.1 flips."""
    found = newest_reference(root)
    if found is None:
        return []
    folder, data = found
    sections = {c.workload: c.section for c in cr.cells_of(results.table("cells"))
                if c.role == "cell"}
    lines = [f"- §{sections[r['workload']]}, {r.get('lang', '?')}: {r.get('short') or r['summary']}"
             for r in data["breakevens"] if r.get("workload") in sections]
    if not lines:
        return []
    ref = data.get("reference", {})
    return [f"**Where the choice flips — the reference's crossovers, not this run's** "
            f"([results/{folder}](../{folder}/crossover.md), {ref.get('date', '?')}, host "
            f"{ref.get('host', '?')}; `scripts/map --crossovers` measures them here):", ""] + \
        lines + [""]


def notebook_paragraphs(results: cr.Results) -> list[str]:
    """What three cells show beyond their times: the GIL (its cell against its serial baseline,
    in both languages), the race's lost updates, and §6's resident memory."""
    out = []
    gil, cell = gil_check(results), find_cell(results, GIL_CELL)
    if gil is not None:
        base = find_cell(results, cell.baseline)
        out += [f"**The GIL, checked against CPython.** §{cell.section}'s threads take "
                f"{gil[0]:.2f}× the serial time in the notebook's Python here, and {gil[1]:.2f}× "
                f"under concbench's emulated GIL (`{cell.model}` ÷ `{base.model}`): "
                + ("both near 1, as a faithful emulation should be."
                   if max(gil) < 1.3 and min(gil) > 0.7
                   else "they disagree, so the emulation is not reproducing CPython here."), ""]
    (py_lost, cc_lost), cell = lost_updates(results), find_cell(results, RACE_CELL)
    if py_lost is not None or cc_lost is not None:
        fmt = lambda v: "not run" if v is None else f"{v:,.0f}"  # noqa: E731
        runs = " × ".join(f"{cell.args[k]:,}" for k in ("threads", "increments") if k in cell.args)
        out += [f"**§{cell.section}'s race.** Lost updates per run of {runs} increments: Python "
                f"{fmt(py_lost)}, C++ {fmt(cc_lost)}. CPython's GIL switches threads only between "
                f"bytecodes, so `contador += 1` rarely loses an update; C++ threads run at once.",
                ""]
    (py_kib, cc_kib), cell = memory_growth(results), find_cell(results, MEMORY_CELL)
    if py_kib is not None or cc_kib is not None:
        fmt = lambda v: "not run" if v is None else f"{v:,.0f} KiB"  # noqa: E731
        out += [f"**§{cell.section}, a list of {cell.args.get('n', 0):,} ints.** Resident memory "
                f"growth: printed {PRINTED_RSS_GROWTH_KIB:,} KiB (another machine), Python here "
                f"{fmt(py_kib)}, C++ here {fmt(cc_kib)} (8 bytes an int, against a Python int "
                f"object and a pointer).", ""]
    return out


def is_timeline(chart) -> bool:
    return bool(chart.filename) and chart.filename.startswith(timeline.TIMELINE_DIR + "/")


def section_timelines(results: cr.Results, chart_list: list) -> list[str]:
    """Each notebook cell's timeline, by section, with what to look at (timeline.py)."""
    return timeline.report_section(results, {c.filename for c in chart_list if is_timeline(c)})


def section_key(section: str) -> tuple:
    """'4.1' -> (4, 1): the notebook's order."""
    return tuple(int(p) if p.isdigit() else 0 for p in section.split("."))


def chart_sections(results: cr.Results, chart) -> list[str]:
    """The notebook sections whose cells a chart draws (their C++ or Python benchmark), in the
    notebook's order."""
    drawn = set(chart.benches)
    found = {r.cell.section for r in notebook_rows(results)
             if any(b is not None and b.run_name in drawn for b in (r.cpp, r.python))}
    return sorted(found, key=section_key)


def chart_entry(heading: str, title: str, filename: str, answer: str) -> list[str]:
    return [f"#### {heading}", "", f"![{title}]({filename})", "",
            f"**Answer:** {answer}" if answer else "", ""]


def map_charts(folder: str) -> list[tuple[str, str, str]]:
    """The charts scripts/map left in this folder, (title, filename, answer): the decision map
    with map.md's headline, each crossover chart with crossover.json's short answers."""
    import json
    out = []
    if os.path.isfile(os.path.join(folder, "decision_map.png")):
        answer = ""
        try:
            with open(os.path.join(folder, "map.md")) as f:
                answer = next((line.strip("*. \n") for line in f
                               if line.startswith("**") and line.rstrip().endswith(".**")), "")
        except OSError:
            pass
        out.append(("Which model finishes first, for each mix of computing and waiting?",
                    "decision_map.png", answer))
    try:
        with open(os.path.join(folder, CROSSOVER_JSON)) as f:
            records = json.load(f).get("breakevens", [])
    except (OSError, ValueError, AttributeError):
        records = []
    for name in sorted(os.listdir(folder)):
        if name.startswith("crossover_") and name.endswith(".png"):
            workload = name[len("crossover_"):-len(".png")]
            answer = "; ".join(f"{r.get('lang', '?')}: {r.get('short') or r.get('summary')}"
                               for r in records if r.get("workload") == workload)
            out.append((f"Where does the choice flip, growing {workload}?", name, answer))
    return out


def not_drawn_line(chart_list: list) -> list[str]:
    """One line: the charts this run could not draw, grouped by why."""
    by_reason: dict = {}
    for c in chart_list:
        if not c.filename:
            by_reason.setdefault((c.error, c.reason), []).append(c.title)
    if not by_reason:
        return []
    parts = [("**error** " if error else "") + ", ".join(f"*{t}*" for t in titles)
             + f" — {reason}" for (error, reason), titles in by_reason.items()]
    return ["**Not drawn for this run:** " + "; ".join(parts) + ".", ""]


def section_charts(results: cr.Results, chart_list: list, folder: str = "") -> list[str]:
    """Every chart but the notebook's and the timelines (their own sections), each with its
    one-line answer: first those that draw the notebook's cells, by section, then the sweeps'
    and the maps'; then one line for those this run could not draw."""
    out = ["## Charts", "", "Each chart asks one question in its title and answers it in the "
           "line under it, computed from this run.", ""]
    drawn = [c for c in chart_list if c.filename and c.filename != "notebook.png"
             and not is_timeline(c)]
    by_section = [(chart_sections(results, c), c) for c in drawn]
    notebook = sorted(((s, c) for s, c in by_section if s),
                      key=lambda sc: section_key(sc[0][0]))
    if notebook:
        out += ["### By the notebook's sections", ""]
        for sections, c in notebook:
            out += chart_entry(", ".join(f"§{s}" for s in sections) + f" — {c.title}", c.title,
                               c.filename, c.answer)
    others = [c for s, c in by_section if not s]
    if others:
        out += ["### Sweeps and other families", ""]
        for c in others:
            out += chart_entry(c.title, c.title, c.filename, c.answer)
    maps = map_charts(folder) if folder and os.path.isdir(folder) else []
    if maps:
        out += ["### Maps", ""]
        for title, filename, answer in maps:
            out += chart_entry(title, title, filename, answer)
    return out + not_drawn_line(chart_list)


def unstable(b: cr.Bench, machine_cv: float | None) -> str:
    """'⚠ cv 12 %' when the benchmark's own repetitions vary more than the machine's noise
    explains (twice the probe's cv, at least 5 %), else ''."""
    t = b.samples_s()
    cv = stats.cv(t)
    if cv is None:
        return ""
    limit = max(0.05, 2 * machine_cv) if machine_cv is not None else 0.05
    return f"⚠ cv {cv:.0%}" if cv > limit else ""


def section_results(results: cr.Results) -> list[str]:
    out = ["## All results", ""]
    noise = machine.number(results.context, "machine_noise_cv")
    present = sorted({b.model_full for b in results.ok() if b.lang is None},
                     key=results.models.rank)
    meanings = [f"- `{m}`: {results.models.summary(m)}" for m in present
                if results.models.summary(m)]
    if meanings:
        out += ["The models of this run, as the binary describes them:", ""] + meanings + [""]
    for workload in results.workloads():
        benches = [b for b in results.ok() if b.workload == workload]
        if not benches:
            continue
        benches.sort(key=lambda b: (results.models.rank(b.model_full), b.order))
        present = [k for k in COLUMNS if any(b.has_counter(k) for b in benches)]
        rows = []
        for b in benches:
            others = [k for k in b.counter_names() if k not in COLUMNS and k not in HIDDEN]
            extra = ", ".join(f"{k}={fmt_number(b.counter(k).mean)}" for k in others
                              if b.counter(k) is not None)
            flag = unstable(b, noise)
            rows.append([f"`{b.model_full}`", cr.format_args(b.args) or "–", str(b.repetitions()),
                         fmt_stat_seconds(b.time_s()) + (f" {flag}" if flag else "")]
                        + [fmt_counter(b, k) for k in present] + [extra or "–"])
        header = ["model", "arguments", "reps", "wall time"] + [
            {"ideal_s": "ideal", "overhead_s": "overhead", "efficiency": "efficiency",
             "checksum": "checksum", "cpu_util": "cpu util", "ctx_switches": "ctx sw"}[k]
            for k in present] + ["other counters"]
        out += [f"### {plot.workload_title(results, workload)}", ""]
        out += table(header, rows, "llrr" + "r" * len(present) + "l")
        out.append("")
    out += ["Columns: " + "; ".join(f"**{k}** — {v}" for k, v in COUNTER_HELP) + ". A wall time "
            "marked ⚠ varied between repetitions more than this machine's noise explains (its cv "
            "is above twice the probe's, and above 5 %): read it as unstable.", ""]
    if results.ignored_names:
        out += [f"Rows not in concbench's naming scheme, ignored: "
                f"{', '.join('`' + n + '`' for n in results.ignored_names[:10])}"
                + (" …" if len(results.ignored_names) > 10 else ""), ""]
    return out


def section_context(results: cr.Results) -> list[str]:
    ctx = results.context
    keys = [k for k in CONTEXT_KEYS if k in ctx]
    keys += sorted(k for k in ctx if k not in keys and k != "caches"
                   and not k.startswith("concbench_sweep") and k not in cr.TABLE_KEYS.values())
    rows = [[k, ", ".join(map(str, ctx[k])) if isinstance(ctx[k], list) else str(ctx[k])]
            for k in keys]
    return ["## Run context", ""] + table(["key", "value"], rows, "ll") + [""]


def section_machine(results: cr.Results) -> list[str]:
    """The probe's card and its warnings, first in the report: what the numbers are read against."""
    ctx = results.context
    out = ["## Machine", ""]
    if not machine.has_probe(ctx):
        return out + ["*This run has no machine probe (run without `--no_probe` to get one): "
                      "its numbers cannot be read against what the machine could deliver.*", ""]
    out += ["What this machine could deliver during the run, measured by concbench's probe at its "
            "start and end (nothing was tuned):", ""]
    out += table(["", "measured"], [[k, v] for k, v in machine.machine_card(ctx)], "ll") + [""]
    warnings = machine.machine_warnings(ctx)
    out += [f"- **{w}**" for w in warnings] + ([""] if warnings else [])
    return out


# A partial run's not-run names beyond this many are counted, not listed.
NOT_RUN_SHOWN = 20


def section_partial(results: cr.Results) -> list[str]:
    """The banner of a run that did not finish: why, what was cut short, what never ran."""
    reason = results.partial
    if not reason:
        return []
    out = [f"**⚠ PARTIAL RESULTS: {md_escape(reason)}.** The run did not finish: the charts and "
           f"tables below hold only the benchmarks that finished.", ""]
    cut = results.cut_short()
    if cut:
        out.append(f"- Cut short ({len(cut)}; errors with the failures below): "
                   + ", ".join(f"`{md_escape(b.run_name)}`" for b in cut))
    not_run = results.not_run()
    if not_run:
        shown = ", ".join(f"`{md_escape(n)}`" for n in not_run[:NOT_RUN_SHOWN])
        more = len(not_run) - NOT_RUN_SHOWN
        out.append(f"- Not run ({len(not_run)}): {shown}"
                   + (f" … and {more} more" if more > 0 else ""))
    return out + ([""] if cut or not_run else [])


def build_report(results: cr.Results, chart_list: list, json_name: str,
                 folder: str = "") -> str:
    """report.md's text; `folder` is where it and the charts are (the maps are looked for
    there)."""
    ctx = results.context
    suite = ctx.get("concbench_suite", "?")
    models = sorted({results.models.base(b.model_full) for b in results.benches},
                    key=results.models.rank)
    reps = sorted({b.repetitions() for b in results.ok()})
    charts = {c.filename: c for c in chart_list if c.filename}
    head = [f"# concbench results — {suite} suite, {ctx.get('date', '?')}, "
            f"host {ctx.get('hostname', ctx.get('host_name', '?'))}", "",
            f"Written by `scripts/report` from [`{json_name}`]({json_name}): "
            f"{len(results.benches)} benchmarks of models {', '.join(models)}; "
            f"{'/'.join(map(str, reps)) or '0'} repetition(s) each; "
            f"options `{ctx.get('concbench_options', '?')}`; build "
            f"{ctx.get('concbench_build_type', '?')} at commit "
            f"`{ctx.get('concbench_git_commit', '?')}`.", ""]
    head += section_partial(results)
    slowdown = cr.injected_slowdown(ctx)
    if slowdown:
        head += [f"**⚠ INJECTED SLOWDOWN: {md_escape(cr.slowdown_note(slowdown))}.** These are "
                 "not the code's own times.", ""]
    failed = results.failed()
    if failed:
        head += [f"**⚠ {len(failed)} benchmark(s) failed — see below.**", ""]
    body = (section_machine(results) + section_failed(results) + section_sweep(results)
            + section_notebook(results, charts)
            + section_timelines(results, chart_list)
            + section_charts(results, chart_list, folder)
            + section_results(results) + section_context(results))
    return "\n".join(head + body).rstrip() + "\n"


def create_parser():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("results", help="a results.json (or a results folder holding one)")
    p.add_argument("-o", "--output", help="report file (default: report.md next to the JSON; "
                   "the charts go beside it)")
    return p


def main(argv=None) -> int:
    args = create_parser().parse_args(argv)

    def write():
        results = cr.load_run(args.results)
        out = args.output or os.path.join(os.path.dirname(os.path.abspath(results.path)),
                                          "report.md")
        outdir = os.path.dirname(os.path.abspath(out))
        os.makedirs(outdir, exist_ok=True)
        charts = plot.make_charts(results, outdir)
        json_name = os.path.relpath(os.path.abspath(results.path), outdir)
        cr.write_atomic(out, build_report(results, charts, json_name, outdir))
        return out, charts
    done, status = cr.fatal_on_user_errors(write, "the report")
    if status:
        return status
    out, charts = done
    errors = [c for c in charts if c.error]
    for c in errors:
        print(f"report: chart {c.title} not drawn: {c.reason}", file=sys.stderr)
    print(out)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
