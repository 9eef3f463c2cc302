"""Draws concbench's charts (PNG) from a results JSON.

    scripts/plot results/<run>/results.json [-o OUTDIR]
    scripts/plot trace.json [python_trace.json] [-o OUTDIR]   # timelines of traced benchmarks

Every chart asks one question in its title and answers it, computed from the data, in the line
under it. Each is drawn only when the results can answer it (otherwise one line says why it was
skipped); a chart whose x axis is a quantity needs 3 or more distinct values of it in some
series, else it draws bars of what was measured, retitled, or nothing:
  notebook.png                  How long does each notebook cell take here, in its own Python
                                and in C++?
  time_vs_tasks_<workload>.png  Which model stays flat as tasks grow?
  speedup_vs_workers_<workload>.png   How much faster do more workers make it?
  chunksize_<workload>.png      Which chunksize is fastest? (bars: does a bigger chunksize pay?)
  overhead_per_task_<workload>.png    What does each model cost per task, above its ideal?
  memory_per_task.png           How much memory does each task held alive take?
  timelines/<cell id>.png       each notebook cell's traced batch, C++ above Python, from the
                                traces beside the results (trace.json, python_trace.json), with
                                timelines/index.md (timeline.py)
A panel has at most 6 series (more become small multiples, one legend per row of panels), the
same model has the same colour in every chart, and failed benchmarks are never drawn (a failure
is not a zero): each chart says how many it left out.
"""
from __future__ import annotations

import argparse
import math
import os
import sys
import textwrap
from dataclasses import dataclass, field

import matplotlib.lines
import matplotlib.patches
import matplotlib.pyplot as plt
from matplotlib.ticker import FuncFormatter, LogLocator, MaxNLocator, NullFormatter

import concbench_results as cr
from chart_style import (IDEAL_LINE, MIN_POINTS, PANEL_W, PYTHON_HATCH, RC, Distinct, Grid,
                         Styler, bar_figure, base_color, caption, has_ideal, ideal_handle,
                         integer_log_ticks, is_python, kib_log_formatter, lay_out,
                         legend_entries, log_axis, save, seconds_formatter, seconds_text,
                         split_series, value_axis)
import stats
import timeline
import trace_read
from notebook_cells import (judge_benches, notebook_rows, serial_model, short_verdict,
                            times)

# What the families outside the binary's table of workloads measure (the table describes the
# workloads every model runs: their titles come from it).
OTHER_WORKLOADS = {
    "counter": "shared counter increments",
    "memory": "tasks held alive at once",
    "dispatch": "empty tasks: the model's own cost per task",
    "startup": "creating and tearing down the pool or loop",
    "roundtrip": "IPC round trips between processes",
    "alloc": "allocating and releasing a list of integers",
}

# A line that stays within this factor of its first point is "flat".
FLAT = 2.0


@dataclass
class Chart:
    """One chart: written to `filename` with its one-line `answer`, or skipped for `reason`.
    `benches` are the run names it draws (report.py finds the notebook's sections in them)."""
    title: str
    filename: str | None = None
    reason: str | None = None
    error: bool = False
    answer: str = ""
    benches: tuple = field(default=())


def workload_title(results: cr.Results, w: str) -> str:
    """'sleep [I/O-bound]: one wait: ...' from the table of workloads, else what is known."""
    table = results.workload_table
    summary = table.summary(w) or OTHER_WORKLOADS.get(w)
    kind = table.kind(w)
    return w + (f" [{kind}]" if kind else "") + (f": {summary}" if summary else "")


def short_workload(results: cr.Results, w: str) -> str:
    """The workload and its kind (or what it measures), for a title: 'sleep (I/O-bound)',
    'memory (tasks held alive at once)'."""
    what = results.workload_table.kind(w) or OTHER_WORKLOADS.get(w)
    return f"{w} ({what})" if what else w


def dropped_note(results: cr.Results, workloads=None) -> str:
    failed = [b for b in results.failed() if workloads is None or b.workload in workloads]
    if not failed:
        return ""
    return f"not drawn: {len(failed)} failed benchmark(s), listed in report.md"


def publish(fig, outdir: str, filename: str, title: str, answer: str, notes=(), legends=(),
            benches=()) -> Chart:
    """The end of every chart: the question as title, the answer under it with the notes that
    are not empty (one line), the legends right of the panels, the PNG written to
    outdir/filename, and the Chart that says so."""
    lay_out(fig, title, answer, " ".join(n for n in notes if n), legends)
    save(fig, os.path.join(outdir, filename))
    return Chart(title, filename, answer=answer,
                 benches=tuple(dict.fromkeys(b.run_name for b in benches)))


def names(items: list[str], most: int = 3) -> str:
    """'a', 'a and b', 'a, b and c', 'a, b, c and 2 more'."""
    if len(items) > most:
        return ", ".join(items[:most]) + f" and {len(items) - most} more"
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def by_rank(models: cr.Models):
    return lambda key: (models.rank(key[0]), key[1:])


# --- lines: small multiples of series against a quantity ---------------------------------------

@dataclass
class Point:
    x: int
    mean: float
    sd: float
    ideal: float | None = None


@dataclass
class Lines:
    """A chart of lines: the figure, its legends, the panels drawn ({(row, col): (facet,
    {series: [Point]})}) and what was left out."""
    fig: object
    legends: list
    panels: dict
    note: str
    benches: list


def series_facets(benches, xkey: str, series_of, facet_of) -> dict:
    """{facet: {series: [benches]}}, the series run at two or more values of xkey."""
    out: dict = {}
    for b in benches:
        out.setdefault(facet_of(b), {}).setdefault(series_of(b), []).append(b)
    return {f: {k: v for k, v in s.items() if len({b.args[xkey] for b in v}) >= 2}
            for f, s in out.items()}


def enough_points(series: dict) -> bool:
    """Whether some series runs through MIN_POINTS distinct x values."""
    return any(len({p.x for p in pts}) >= MIN_POINTS for pts in series.values())


def group_title(group: list, models: cr.Models, groups: list) -> str:
    bases = list(dict.fromkeys(models.base(k[0]) for k in group))
    split = [g for g in groups if models.base(g[0][0]) == bases[0]]
    if len(bases) == 1 and len(split) > 1:
        return f"{bases[0]} ({split.index(group) + 1} of {len(split)})"
    return ", ".join(bases)


def draw_lines(results: cr.Results, facets: dict, values, xkey: str, xlabel: str,
               ylabel: str, yformat, caption_of, log_x: int = 10,
               ideal_meaning: str = "the best this model could do with these arguments",
               decorate=None, label=cr.series_label) -> Lines | None:
    """Small multiples: a column per facet (what a task does), a row per group of at most six
    series (split_series: a base model's series together), a panel where its series run through
    MIN_POINTS x values or more; one legend per row; the y axis shared down a column.
    values(facet, series, benches sorted by x) -> [Point]; caption_of({series: [Point]}) -> the
    panel's answer. None when no panel can be drawn."""
    models = results.models
    data = {}
    for fkey, series in facets.items():
        pts = {s: values(fkey, s, sorted(sb, key=lambda b: b.args[xkey]))
               for s, sb in series.items()}
        pts = {s: p for s, p in pts.items() if p}
        if enough_points(pts):
            data[fkey] = pts
    if not data:
        return None
    columns = sorted(data)
    groups = split_series({s for pts in data.values() for s in pts}, models)
    cells, left_out = {}, 0
    for c, fkey in enumerate(columns):
        for r, g in enumerate(groups):
            series = {s: data[fkey][s] for s in g if s in data[fkey]}
            if series and enough_points(series):
                cells[(r, c)] = (fkey, series)
            elif series:
                left_out += 1
    rows = sorted({r for r, _ in cells})
    cols = sorted({c for _, c in cells})
    cells = {(rows.index(r), cols.index(c)): v for (r, c), v in cells.items()}
    shown_groups = [groups[r] for r in rows]
    grid = Grid(cells.keys(), caption_lines=3)
    style = Styler({s for _, series in cells.values() for s in series}, models)
    for (r, c), (fkey, series) in sorted(cells.items()):
        ax = grid.axes[(r, c)]
        for skey in sorted(series, key=by_rank(models)):
            pts, st = series[skey], style(skey)
            ax.errorbar([p.x for p in pts], [p.mean for p in pts], yerr=[p.sd for p in pts],
                        capsize=2, label=label(skey), linewidth=1.6, markersize=4,
                        **st)
            if all(p.ideal is not None and p.ideal > 0 for p in pts):
                ax.plot([p.x for p in pts], [p.ideal for p in pts], color=st["color"],
                        **IDEAL_LINE)
        log_axis(ax, "x", base=log_x)
        integer_log_ticks(ax, [p.x for pts in series.values() for p in pts])
        ax.set_xlabel(xlabel + " (log scale)")
        title = cr.facet_label(fkey)
        if len(shown_groups) > 1:
            title += (" — " if title else "") + group_title(shown_groups[r], models, groups)
        ax.set_title(title, fontsize=10)
        ax.grid(True, which="major", alpha=0.3)
        if decorate:
            decorate(ax, fkey, series)
        if len(cells) > 1:  # one panel's answer is the chart's, above it
            caption(ax, caption_of(series), grid.caption_width())
    for c in range(len(cols)):
        column = [v for (_, ci), v in cells.items() if ci == c]
        pts = [p for _, series in column for ps in series.values() for p in ps]
        ys = [y for p in pts for y in (p.mean + p.sd, p.mean - p.sd, p.mean, p.ideal)
              if y is not None]
        if min(p.mean for p in pts) > 0:  # an error bar below 0 does not force a linear axis
            ys = [y for y in ys if y > 0]
        for ax in grid.column(c):
            value_axis(ax, "y", ys, yformat, ylabel)
    legends = []
    for r in range(len(rows)):
        axes = grid.row(r)
        handles, labels = legend_entries(axes, models)
        if has_ideal(axes):
            handles.append(ideal_handle(ideal_meaning))
            labels.append(handles[-1].get_label())
        legends.append((axes, handles, [wrap(lab) for lab in labels]))
    note = (f"{left_out} panel(s) whose every line has fewer than {MIN_POINTS} values of "
            f"{xkey} are left out (their numbers are in report.md)." if left_out else "")
    drawn = [b for fkey, series in cells.values() for s in series for b in facets[fkey][s]]
    return Lines(grid.fig, legends, cells, note, drawn)


def wrap(label: str, width: int = 40) -> str:
    """A legend's label on lines of at most `width` characters."""
    return textwrap.fill(label, width)


def point_of(b: cr.Bench, xkey: str, value: cr.Stat | None, ideal: float | None = None):
    return Point(b.args[xkey], value.mean, value.sd, ideal) if value is not None else None


def time_points(xkey: str):
    """values() for wall time per batch, with each point's ideal."""
    def values(_fkey, _skey, sb):
        out = []
        for b in sb:
            ideal = b.counter("ideal_s")
            out.append(point_of(b, xkey, b.time_s(), ideal.mean if ideal else None))
        return [p for p in out if p is not None]
    return values


def busiest(panels: dict):
    """The facet with the most series across its panels (then the last), and its series."""
    by_facet: dict = {}
    for fkey, series in panels.values():
        by_facet.setdefault(fkey, {}).update(series)
    fkey = max(sorted(by_facet), key=lambda f: len(by_facet[f]))
    return fkey, by_facet[fkey]


# --- wall time vs tasks --------------------------------------------------------------------

def climb(pts: list) -> int | None:
    """The first x where a series exceeds FLAT × its time at its first x; None if never."""
    return next((p.x for p in pts if p.mean > FLAT * pts[0].mean), None)


def flat_answer(series: dict, noun: str = "tasks", short: bool = False) -> str:
    """Which series stay within 2× of their first point to their last x, and where the others
    start to climb: 'async stays within 2× of its 1-task time to 1,024 tasks; threads · 64
    workers climbs from 256, sync from 4'."""
    flat = sorted((k for k, p in series.items() if climb(p) is None and len(p) > 1),
                  key=lambda k: -series[k][-1].x)
    rising = sorted((k for k, p in series.items() if climb(p) is not None),
                    key=lambda k: -climb(series[k]))
    parts = []
    if flat:
        reach = series[flat[0]][-1].x
        first = {series[k][0].x for k in flat}
        since = (f"{first.pop():,}-{noun[:-1] if noun.endswith('s') else noun} time"
                 if len(first) == 1 else "first point")
        who = names([cr.series_label(k) for k in flat], 2)
        parts.append(f"flat to {reach:,}: {who}" if short else
                     f"{who} stay{'s' if len(flat) == 1 else ''} within {FLAT:g}× of "
                     f"{'its' if len(flat) == 1 else 'their'} {since} up to {reach:,} {noun}")
    if rising:
        steps = [f"{cr.series_label(k)} from {climb(series[k]):,}" for k in rising]
        if short:
            parts.append("climbs: " + names(steps, 3))
        else:
            steps[0] = steps[0].replace(" from ", " climbs from ", 1) + f" {noun}"
            parts.append(("" if flat else f"none stays within {FLAT:g}× of its first point: ")
                         + names(steps, 3))
    return "; ".join(parts)


def chart_time_vs_tasks(results: cr.Results, outdir: str) -> list[Chart]:
    title = "Which model stays flat as tasks grow?"
    charts = []
    for workload in results.workloads():
        benches = [b for b in results.ok() if b.workload == workload and "tasks" in b.args]
        facets, thinned = task_facets(benches, results.models)
        lines = draw_lines(results, facets, time_points("tasks"), "tasks", "tasks per batch",
                           "wall time per batch", seconds_formatter(),
                           lambda s: flat_answer(s, short=True),
                           ideal_meaning="the best this model could do with these arguments "
                                         "(its waits overlapped as far as its workers allow)")
        if lines is None:
            continue
        fkey, series = busiest(lines.panels)
        answer = (f"{cr.facet_label(fkey)}: " if fkey else "") + flat_answer(series) + "."
        charts.append(publish(
            lines.fig, outdir, f"time_vs_tasks_{workload}.png",
            f"{title} — {short_workload(results, workload)}", answer,
            ["A line that stays flat runs its tasks at once; one that climbs with slope 1 runs "
             "them one after another.", thinned, lines.note,
             dropped_note(results, {workload})], lines.legends, lines.benches))
    return charts or [Chart(title, reason=few_points_reason(results, "task counts"))]


def task_facets(benches, models: cr.Models) -> tuple[dict, str]:
    """{facet: {series: benches}} against tasks, each facet thinned (thin_series), and the
    first note on what was left out."""
    facets = series_facets(benches, "tasks", lambda b: cr.series_of(b, exclude=("tasks",)),
                           lambda b: cr.facet_of(b, exclude=("tasks",)))
    notes = []
    for f, series in facets.items():
        facets[f], note = thin_series(series, models)
        notes.append(note)
    return facets, next((n for n in notes if n), "")


def few_points_reason(results: cr.Results, what: str) -> str:
    """Why a chart of lines was not drawn: in one line, the same for every such chart of a
    notebook run (the report lists them together)."""
    if results.context.get("concbench_suite") == "notebook":
        return "the notebook suite runs each cell at one size; `scripts/sweep` draws the curves"
    return f"no model was run at {MIN_POINTS} or more {what} with the same other arguments"


MAX_SERIES_PER_MODEL = 4


def thin_series(series: dict, models: cr.Models) -> tuple[dict, str]:
    """Keeps at most MAX_SERIES_PER_MODEL lines per model (smallest, largest and evenly spaced
    between, e.g. workers 1, 4, 16, 64 of 1…64) so that a panel stays readable; says what it
    left out."""
    by_model: dict = {}
    for key in sorted(series, key=lambda k: (models.rank(k[0]), k[1:])):
        by_model.setdefault(key[0], []).append(key)
    keep, notes = {}, []
    for model, keys in by_model.items():
        if len(keys) > MAX_SERIES_PER_MODEL:
            n = MAX_SERIES_PER_MODEL
            idx = sorted({round(i * (len(keys) - 1) / (n - 1)) for i in range(n)})
            notes.append(f"{model}: {n} of its {len(keys)} argument sets drawn")
            keys = [keys[i] for i in idx]
        for k in keys:
            keep[k] = series[k]
    note = ("To keep lines apart, " + "; ".join(notes) + " (all are in report.md).") if notes \
        else ""
    return keep, note


# --- speed-up vs workers -------------------------------------------------------------------

def _baseline(results, workload, fkey):
    """The serial run of the same work (the model of the notebook's serial baselines), or None."""
    serial, args = serial_model(results), dict(fkey)
    found = [b for b in results.find(serial, workload, args) if set(b.args) == set(args)] \
        if serial else []
    return found[0] if found else None


def _speedup_facets(benches) -> tuple[dict, str]:
    """{facet: {series: benches}} of the series run at two or more worker counts, one facet per
    kind of task and task count; with more than four, only the task count run with the most
    models (then the largest) per kind of task, where the workers matter most. Also what it
    left out."""
    facets = series_facets(
        benches, "workers", lambda b: cr.series_of(b, exclude=("workers", "tasks")),
        lambda b: cr.facet_of(b, exclude=("workers",)) + (
            (("tasks", b.args["tasks"]),) if "tasks" in b.args else ()))
    facets = {f: s for f, s in facets.items()
              if any(len({b.args["workers"] for b in sb}) >= MIN_POINTS for sb in s.values())}
    if len(facets) <= 4:
        return facets, ""
    keep = {}
    for fkey, fs in facets.items():
        size = tuple(kv for kv in fkey if kv[0] != "tasks")
        rank = (len(fs), dict(fkey).get("tasks", 0))
        if size not in keep or rank > keep[size][0]:
            keep[size] = (rank, fkey)
    dropped = len(facets) - len(keep)
    return ({fk: facets[fk] for _, fk in keep.values()},
            f"Showing, per kind of task, the task count run with the most models; "
            f"{dropped} other panel(s) are in the tables of report.md.")


def speedup_points(results: cr.Results, workload: str):
    """values() for the speed-up over the serial run of the same work (else over the series'
    fewest workers), the error from both relative sds, and the speed-up if both reached their
    ideals."""
    def values(fkey, _skey, sb):
        ref = _baseline(results, workload, fkey) or sb[0]
        rt, ri = ref.time_s(), ref.counter("ideal_s")
        out = []
        for b in sb:
            t, i = b.time_s(), b.counter("ideal_s")
            s = rt.mean / t.mean
            ideal = ri.mean / i.mean if ri and i and i.mean > 0 else None
            out.append(Point(b.args["workers"], s, s * math.hypot(rt.sd / rt.mean,
                                                                   t.sd / t.mean), ideal))
        return out
    return values


def best_speedup(pts: list) -> Point:
    return max(pts, key=lambda p: p.mean)


def speedup_text(key, pts: list) -> str:
    p = best_speedup(pts)
    ideal = f" (ideal {p.ideal:.3g}×)" if p.ideal else ""
    return f"{cr.series_label(key)}: {p.mean:.3g}× at {cr.format_arg('workers', p.x)}{ideal}"


def speedup_answer(series: dict, most: int = 3) -> str:
    keys = sorted(series, key=lambda k: -best_speedup(series[k]).mean)
    return "; ".join(speedup_text(k, series[k]) for k in keys[:most])


def chart_speedup_vs_workers(results: cr.Results, outdir: str) -> list[Chart]:
    title = "How much faster do more workers make it?"
    charts = []
    cores = results.context.get("usable_cores")
    for workload in results.workloads():
        # A speed-up of a batch of tasks: a family without tasks (a pool's start-up) only grows
        # with its workers, and is drawn against them in time_vs_tasks' place, not here.
        facets, reduced = _speedup_facets(
            [b for b in results.ok() if b.workload == workload and "workers" in b.args
             and "tasks" in b.args])
        if not facets:
            continue
        kind = results.workload_table.kind(workload)
        cpu = kind in (cr.CPU_BOUND, cr.MIXED)

        def decorate(ax, fkey, _series, cpu=cpu):
            ax.axhline(1.0, color="#999999", linewidth=0.8)
            if cores and str(cores).isdigit() and cpu:
                ax.axvline(int(cores), color="#999999", linewidth=0.8, linestyle="--",
                           label=f"_{cores} usable cores")
        base = {f: _baseline(results, workload, f) for f in facets}
        over = {b.model_full for b in base.values() if b is not None}
        lines = draw_lines(results, facets, speedup_points(results, workload), "workers",
                           "workers (threads or processes)",
                           f"speed-up over {names(sorted(over))} (×)" if over
                           else "speed-up over the fewest workers (×)",
                           FuncFormatter(lambda v, _p: f"{v:g}"),
                           lambda s: speedup_answer(s, 2), log_x=2,
                           ideal_meaning="the speed-up if both runs reached their ideals",
                           decorate=decorate)
        if lines is None:
            continue
        fkey, series = busiest(lines.panels)
        answer = "".join(f"{label}: " for label in (cr.facet_label(fkey),) if label) + \
            speedup_answer(series) + \
            (f" (over {names(sorted(over))})." if over else " (over the fewest workers).")
        notes = [f"The dashed vertical line: this machine's {cores} usable cores; CPU work "
                 "cannot go faster than that." if cpu and cores else
                 "Waiting tasks can go faster than the cores allow." if kind == cr.IO_BOUND
                 else None, reduced, lines.note,
                 dropped_note(results, {workload})]
        charts.append(publish(lines.fig, outdir, f"speedup_vs_workers_{workload}.png",
                              f"{title} — {short_workload(results, workload)}", answer, notes,
                              lines.legends, lines.benches))
    return charts or [Chart(title, reason=few_points_reason(results, "worker counts"))]


# --- chunksize ----------------------------------------------------------------------------

def chunk_series(b: cr.Bench) -> tuple:
    return cr.series_of(b, exclude=("chunksize",)) + (
        (("payload", b.args["payload"]),) if "payload" in b.args else ())


def chunk_facet(b: cr.Bench) -> tuple:
    return cr.facet_of(b, exclude=("chunksize", "payload"))


def startup_note(results: cr.Results, benches) -> str:
    """What a with_startup model's ideal leaves out: the pool's start-up, measured by the
    model's startup family when the run has it."""
    models = sorted({b.model_full for b in benches if "with_startup" in b.model_full
                     and b.lang is None and b.has_counter("ideal_s")})
    if not models:
        return ""
    parts = []
    for m in models:
        workers = sorted({b.args.get("workers") for b in benches if b.model_full == m} - {None})
        start = results.find(results.models.base(m), "startup",
                             {"workers": workers[0]} if workers else {})
        cost = (f" ({seconds_text(start[0].time_s().mean)} here for "
                f"{cr.format_arg('workers', workers[0])}, {start[0].model_full}/startup)"
                if start and workers else "")
        parts.append(f"{m}'s times include starting its pool{cost}; its ideal does not")
    return "; ".join(parts) + "."


def chart_chunksize(results: cr.Results, outdir: str) -> list[Chart]:
    """Per workload: lines for the series run at MIN_POINTS chunksizes or more
    (chunksize_<workload>.png), bars for those run at two (chunksize_<workload>_pairs.png)."""
    charts = []
    for workload in results.workloads():
        benches = [b for b in results.ok() if b.workload == workload and "chunksize" in b.args]
        facets = series_facets(benches, "chunksize", chunk_series, chunk_facet)
        curves = {f: {k: sb for k, sb in s.items()
                      if len({b.args["chunksize"] for b in sb}) >= MIN_POINTS}
                  for f, s in facets.items()}
        pairs = [b for f, s in facets.items() for k, sb in s.items()
                 if k not in curves[f] for b in sb]
        lines = draw_lines(results, curves, time_points("chunksize"), "chunksize",
                           "chunksize: tasks per message", "wall time per batch",
                           seconds_formatter(), lambda s: chunk_answer(s, 2),
                           ideal_meaning="the best this model could do with these arguments "
                                         "(no cost per message)")
        if lines is not None:
            fkey, series = busiest(lines.panels)
            charts.append(publish(
                lines.fig, outdir, f"chunksize_{workload}.png",
                f"Which chunksize is fastest? — {short_workload(results, workload)}",
                (f"{cr.facet_label(fkey)}, " if fkey else "") + chunk_answer(series, 3) + ".",
                ["Small chunks: many messages, each with a fixed cost; large chunks: few "
                 "messages, but idle workers at the end.", lines.note,
                 startup_note(results, lines.benches), dropped_note(results, {workload})],
                lines.legends, lines.benches))
        if pairs:
            fig, answer, legends = chunk_pairs(results, pairs)
            charts.append(publish(
                fig, outdir, f"chunksize_{workload}_pairs.png",
                f"Does a bigger chunksize pay? — {short_workload(results, workload)}", answer,
                [f"Two chunksizes per run (fewer than {MIN_POINTS}: no curve), so the measured "
                 "times as bars, each panel on its own scale; the label gives IPC messages per "
                 "batch.", startup_note(results, pairs), dropped_note(results, {workload})],
                legends, pairs))
    return charts or [Chart("Which chunksize is fastest?",
                            reason="no model was run at two or more chunksizes with the same "
                                   "other arguments")]


def common_label(keys: list) -> tuple[str, dict]:
    """What series share, and each one's label without it: ('processes · 200 tasks, 2 workers',
    {key: 'payload 1 KiB'}); the model stays in each label when the models differ."""
    shared = set.intersection(*(set(k[1:]) for k in keys)) if keys else set()
    one_model = len({k[0] for k in keys}) == 1
    rest = {k: ", ".join(([] if one_model else [k[0]])
                         + [cr.format_arg(a, v) for a, v in k[1:] if (a, v) not in shared])
            for k in keys}
    common = tuple(kv for kv in keys[0][1:] if kv in shared) if keys else ()
    return (cr.series_label((keys[0][0],) + common) if one_model else
            cr.facet_label(common)), rest


def chunk_answer(series: dict, most: int) -> str:
    """Each series' fastest chunksizes (those within 10 % of the fastest) and how much slower
    its slowest is: 'processes · 200 tasks, 2 workers: payload 0 B: chunksizes 20, 50 and 100
    within 10 % of each other, 1 is 1.29× slower'."""
    keys = list(series)[:most]
    shared, own = common_label(keys)
    parts = []
    for k in keys:
        pts = series[k]
        best = min(pts, key=lambda p: p.mean)
        worst = max(pts, key=lambda p: p.mean)
        near = sorted(p.x for p in pts if p.mean <= 1.1 * best.mean)
        text = (f"chunksizes {names([str(x) for x in near], 4)} within 10 % of each other"
                if len(near) > 1 else f"chunksize {best.x} fastest")
        if worst.x not in near:
            text += f", {worst.x} is {times(worst.mean / best.mean)} slower"
        parts.append((f"{own[k]}: " if own[k] else "") + text)
    more = f" ({len(series) - most} more in the panels)" if len(series) > most else ""
    return (f"{shared}: " if shared else "") + "; ".join(parts) + more


def chunk_pairs(results: cr.Results, benches):
    """A small panel of bars per series run at two chunksizes, each on its own linear scale from
    0, and the answer: each series' larger chunksize against its smaller, judged on their
    repetitions."""
    models = results.models
    groups = list(cr.group(sorted(benches, key=lambda b: (
        models.rank(b.model_full), chunk_facet(b), chunk_series(b), b.args["chunksize"])),
        lambda b: (chunk_facet(b), chunk_series(b))).values())
    cols = 1 if len(groups) <= 3 else 2 if len(groups) <= 6 else 3
    cells = {(i // cols, i % cols): sb for i, sb in enumerate(groups)}
    grid = Grid(cells, w=5.5 if cols == 1 else PANEL_W,
                h=max(1.2, 0.45 * max(len(sb) for sb in groups) + 0.4), caption_lines=1)
    style = Styler([chunk_series(b) for b in benches], models)
    rows = []
    for cell, sb in cells.items():
        ax = grid.axes[cell]
        ys = list(range(len(sb)))[::-1]
        ts = [b.time_s() for b in sb]
        bars = ax.barh(ys, [t.mean for t in ts], xerr=[t.sd for t in ts], capsize=2,
                       height=0.65)
        style.bars(bars, [chunk_series(b) for b in sb])
        hi = 0.0
        for y, b, t in zip(ys, sb, ts):
            msgs, ideal = b.counter("ipc_messages"), b.counter("ideal_s")
            if ideal is not None and ideal.mean > 0:
                ax.plot([ideal.mean] * 2, [y - 0.36, y + 0.36], color="black", linewidth=1.6,
                        label="_ideal")
            end = max(t.mean + t.sd, ideal.mean if ideal else 0)
            hi = max(hi, end)
            ax.annotate(seconds_text(t.mean) + (f" · {msgs.mean:,.0f} msgs" if msgs else ""),
                        (end, y), xytext=(4, 0), textcoords="offset points", va="center",
                        fontsize=8)
            rows.append(Bar("", chunk_series(b), t, "", ideal.mean if ideal else None))
        ax.set_yticks(ys)
        ax.set_yticklabels([f"chunksize {b.args['chunksize']}" for b in sb])
        ax.set_xlim(0, hi * 1.7)
        ax.xaxis.set_major_locator(MaxNLocator(5))
        ax.xaxis.set_major_formatter(seconds_formatter())
        ax.set_xlabel("wall time per batch")
        ax.grid(True, axis="x", alpha=0.3)
        facet = cr.facet_label(chunk_facet(sb[0]))
        ax.set_title(cr.series_label(chunk_series(sb[0])) + (f" — {facet}" if facet else ""),
                     fontsize=9)
        if len(groups) > 1:
            caption(ax, pair_verdict(sb[0], sb[-1], who=False), grid.caption_width())
    if len(groups) <= 3:  # the same verdict for several models once, naming them
        said: dict = {}
        for sb in groups:
            said.setdefault(pair_verdict(sb[0], sb[-1], who=False), []).append(sb[-1].model_full)
        answer = "; ".join(f"{names(list(dict.fromkeys(m)))}: {v}" for v, m in said.items() if v)
    else:
        answer = pairs_summary(groups)
    handles, labels = bar_legend(rows)
    return grid.fig, (answer or "each chunksize's time, as measured") + ".", \
        [(list(grid.axes.values()), handles, labels)]


def pairs_summary(groups: list) -> str:
    """Many pairs in one sentence: 'chunksize 4 against 1 in 8 runs: slower in 2 (up to 1.98×,
    processes · 16 tasks, 8 workers, sleep 10 ms), within 10 % in 6 (each from too few
    repetitions to test)'."""
    faster, slower, same, untested = [], [], [], 0
    for sb in groups:
        small, large = sb[0], sb[-1]
        v = judge_benches(small, large)
        if v is None:
            continue
        r = v.median_a / v.median_b
        untested += v.verdict == "too few repetitions"
        if v.verdict in ("faster", "slower", "too few repetitions") and abs(math.log(r)) > \
                math.log(1.1):
            (faster if r > 1 else slower).append((max(r, 1 / r), large))
        else:
            same.append(large)
    sizes = sorted({(sb[0].args["chunksize"], sb[-1].args["chunksize"]) for sb in groups})
    head = (f"chunksize {sizes[0][1]} against {sizes[0][0]}" if len(sizes) == 1
            else "the larger chunksize against the smaller") + f" in {len(groups)} runs: "
    parts = []
    for word, found in (("faster", faster), ("slower", slower)):
        if found:
            r, b = max(found, key=lambda rb: rb[0])
            facet = cr.facet_label(chunk_facet(b))
            parts.append(f"{word} in {len(found)} (up to {times(r)}, "
                         f"{cr.series_label(chunk_series(b))}{', ' + facet if facet else ''})")
    if same:
        parts.append(f"within 10 % in {len(same)}")
    if untested == len(groups):
        why = " (each from too few repetitions to test)"
    else:
        why = f" ({untested} from too few repetitions to test)" if untested else ""
    return head + ", ".join(parts) + why


def pair_verdict(small: cr.Bench, large: cr.Bench, who: bool = True) -> str:
    """'processes: chunksize 20 1.22× faster than 1 (p = 0.008)', '…: chunksize 20 and 1 the
    same within noise (p = 0.42)', judged on the two benchmarks' repetitions."""
    v = judge_benches(small, large)
    if v is None:
        return ""
    big, little = large.args["chunksize"], small.args["chunksize"]
    model = f"{large.model_full}: " if who else ""
    if v.verdict in ("faster", "slower", "too few repetitions"):
        r = v.median_a / v.median_b
        word = f"{times(r)} faster" if r >= 1 else f"{times(1 / r)} slower"
        why = f"p = {stats.format_p(v.p_value)}" if v.verdict != "too few repetitions" \
            else f"untested: {v.n_a} + {v.n_b} repetitions"
        return f"{model}chunksize {big} {word} than {little} ({why})"
    return f"{model}chunksize {big} and {little}: {short_verdict(v)}"


# --- bars: what was measured, when no line can be drawn -----------------------------------

@dataclass
class Bar:
    label: str
    key: tuple           # the series key: its colour
    value: cr.Stat
    text: str            # written right of the bar
    ideal: float | None = None


def draw_bars(rows: list[Bar], models: cr.Models, xlabel: str, formatter):
    """One horizontal bar per row, top to bottom, in its model's colour (a Python row hatched),
    the value written beside it, its ideal (if any) as a black tick; a log axis when the values
    span more than 100×, else linear from 0 (0 drawn; a value at or below 0 written as such)."""
    fig, ax = bar_figure(len(rows))
    ys = list(range(len(rows)))[::-1]
    means = [r.value.mean for r in rows]
    pos = [m for m in means if m > 0]
    use_log = bool(pos) and max(pos) / min(pos) > 100
    shown = [m if (m > 0 or not use_log) else 0 for m in means]
    errs = [r.value.sd if (r.value.mean > 0 or not use_log) else 0 for r in rows]
    bars = ax.barh(ys, shown, xerr=errs, capsize=2, height=0.7)
    Styler([r.key for r in rows], models).bars(bars, [r.key for r in rows])
    ax.set_yticks(ys)
    ax.set_yticklabels([r.label for r in rows], fontsize=8.5)
    if use_log:
        log_axis(ax, "x")
        ax.set_xlim(min(pos) / 4, max(m + e for m, e in zip(shown, errs)) * 12)
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_xlabel(xlabel + " (log scale)")
    else:
        ax.axvline(0, color="#999999", linewidth=0.8)
        hi = max(max(m + e for m, e in zip(means, errs)), 0)
        lo = min(min(m - e for m, e in zip(means, errs)), 0)
        span = hi - lo or 1e-9
        ax.set_xlim(lo - 0.05 * span, hi + 0.45 * span)
        ax.set_xlabel(xlabel)
    ax.xaxis.set_major_formatter(formatter)
    left = ax.get_xlim()[0]
    for bar, r, e in zip(bars, rows, errs):
        y = bar.get_y() + bar.get_height() / 2
        m = r.value.mean
        if r.ideal is not None and r.ideal > 0:
            ax.plot([r.ideal, r.ideal], [y - 0.38, y + 0.38], color="black", linewidth=1.6,
                    label="_ideal")
        end = max(m + e, r.ideal or 0) if m > 0 or not use_log else left
        ax.annotate(r.text, (end if m > 0 or not use_log else left, y), xytext=(4, 0),
                    annotation_clip=False,
                    textcoords="offset points", va="center", fontsize=8,
                    color="#222222" if m > 0 else "#555555")
    ax.grid(True, axis="x", alpha=0.3)
    return fig, ax


def bar_legend(rows: list[Bar]) -> tuple[list, list]:
    """The bars' legend: the ideal's tick and the Python rows' hatching, where drawn."""
    handles = []
    if any(r.ideal for r in rows):
        handles.append(matplotlib.lines.Line2D(
            [], [], color="black", linewidth=1.6, marker="|", markersize=10, linestyle="None",
            label="black tick: the ideal,\nthe best this model could\ndo with these arguments"))
    if any(is_python(r.key[0]) for r in rows):
        handles.append(matplotlib.patches.Patch(facecolor="#bbbbbb", hatch=PYTHON_HATCH,
                                                edgecolor="white",
                                                label="hatched: the notebook's\nPython, run here"))
    return handles, [h.get_label() for h in handles]


# --- overhead per task ---------------------------------------------------------------------

def _per_task_overhead(b: cr.Bench) -> cr.Stat:
    o, t = b.counter("overhead_s"), b.args["tasks"]
    return cr.Stat(o.mean / t, o.sd / t, o.n)


def overhead_points(_fkey, _skey, sb):
    return [point_of(b, "tasks", _per_task_overhead(b)) for b in sb]


def at_shared_x(series: dict) -> tuple[int | None, dict]:
    """The x that the most series share (then the largest) and each series' point there."""
    xs = [p.x for pts in series.values() for p in pts]
    if not xs:
        return None, {}
    x = max(set(xs), key=lambda v: (xs.count(v), v))
    return x, {k: p for k, pts in series.items() for p in pts if p.x == x}


def cost_answer(at: dict, fmt, unit: str, label=cr.series_label) -> str:
    """'least: async, 2 µs a task; most: processes.per_task, 1.2 ms a task (600×)' of
    {series: value} (a value with a mean); 0 or less reads 'at its ideal'."""
    if not at:
        return ""
    lo = min(at, key=lambda k: at[k].mean)
    hi = max(at, key=lambda k: at[k].mean)
    if lo == hi:
        return f"{label(lo)}: {fmt(at[lo].mean)} {unit}"
    low = f"{fmt(at[lo].mean)} {unit}" if at[lo].mean > 0 else "at its ideal, within noise"
    ratio = f" ({times(at[hi].mean / at[lo].mean)})" if at[lo].mean > 0 else ""
    return (f"least: {label(lo)}, {low}; most: {label(hi)}, {fmt(at[hi].mean)} {unit}{ratio}")


def bench_labels(benches) -> dict:
    """{run name: the model, with its arguments only where another benchmark has the same
    model}: the shortest names that tell a chart's bars apart in a sentence."""
    count = cr.group(benches, lambda b: b.model_full)
    return {b.run_name: b.model_full if len(count[b.model_full]) == 1
            else f"{b.model_full} ({cr.format_args(b.args)})" for b in benches}


def chart_overhead_per_task(results: cr.Results, outdir: str) -> list[Chart]:
    charts = []
    for workload in results.workloads():
        benches = [b for b in results.ok() if b.workload == workload and "tasks" in b.args
                   and b.has_counter("overhead_s")]
        if not benches:
            continue
        facets, thinned = task_facets(benches, results.models)

        def caption_of(series):
            x, at = at_shared_x(series)
            return f"at {cr.format_arg('tasks', x)}: " + cost_answer(at, seconds_text,
                                                                  "a task")
        lines = draw_lines(results, facets, overhead_points, "tasks", "tasks per batch",
                           "overhead per task", seconds_formatter(), caption_of)
        explain = ("Overhead per task = (measured wall time − the model's ideal) / tasks: what "
                   "the model itself costs for each task; 0 or below: at the ideal within noise.")
        if lines is not None:
            fkey, series = busiest(lines.panels)
            charts.append(publish(
                lines.fig, outdir, f"overhead_per_task_{workload}.png",
                f"What does each model cost per task, above its ideal, as tasks grow? — "
                f"{short_workload(results, workload)}",
                (f"{cr.facet_label(fkey)}, " if fkey else "") + caption_of(series) + ".",
                [explain, thinned, lines.note,
                 dropped_note(results, {workload})], lines.legends, lines.benches))
            continue
        rows = []
        for b in sorted(benches, key=lambda b: (results.models.rank(b.model_full),
                                                cr.facet_of(b), tuple(b.args.items()))):
            v = _per_task_overhead(b)
            rows.append(Bar(f"{b.model_full} · {cr.format_args(b.args)}",
                            cr.series_of(b, exclude=("tasks",)), v,
                            seconds_text(v.mean) if v.mean > 0 else
                            f"{seconds_text(v.mean)}: at the ideal, within noise"))
        fig, ax = draw_bars(rows, results.models, "overhead per task", seconds_formatter())
        at = {b.run_name: _per_task_overhead(b) for b in benches}
        charts.append(publish(
            fig, outdir, f"overhead_per_task_{workload}.png",
            f"What does each model cost per task, above its ideal? — "
            f"{short_workload(results, workload)}",
            cost_answer(at, seconds_text, "a task", bench_labels(benches).get) + ".",
            [explain, f"One or two task counts per model, so bars of what was measured "
             f"({MIN_POINTS} or more would draw lines).", dropped_note(results, {workload})],
            [([ax], *bar_legend(rows))], benches))
    return charts or [Chart("What does each model cost per task, above its ideal?",
                            reason="no benchmark with a tasks argument reports overhead_s")]


# --- memory per task -----------------------------------------------------------------------

# Memory counters a family may report per task, in KiB, preferred first: PSS counts
# copy-on-write pages shared between processes fairly; RSS counts them in every process.
MEMORY_COUNTERS = (("pss_kib_per_task", "PSS"), ("rss_kib_per_task", "RSS"))


def memory_value(b: cr.Bench) -> tuple[str, cr.Stat] | None:
    """(which, Stat in KiB) of the preferred memory counter this benchmark reports."""
    for key, which in MEMORY_COUNTERS:
        s = b.counter(key)
        if s is not None:
            return which, s
    return None


def _memory_series(b: cr.Bench) -> tuple:
    """Model and run arguments, with the workload and what each task does when the task is not
    the memory family's own (an event loop's sleeping tasks)."""
    extra = cr.facet_of(b, exclude=("tasks",))
    work = () if b.workload == "memory" and not extra else \
        (("work", cr.facet_label(extra) or b.workload),)
    return cr.series_of(b, exclude=("tasks",)) + work


def memory_label(key: tuple) -> str:
    """series_label, with the work in brackets: 'async [sleep, sleep 100 ms]'."""
    work = dict(key[1:]).get("work")
    plain = tuple(kv for kv in key if not (isinstance(kv, tuple) and kv[0] == "work"))
    return cr.series_label(plain) + (f" [{work}]" if work else "")


def memory_points(_fkey, _skey, sb):
    out = []
    for b in sb:
        v = memory_value(b)
        if v is not None and v[1].mean > 0:
            out.append(point_of(b, "tasks", v[1]))
    return out


def memory_answer(at: dict, models: cr.Models, most: int = 4) -> str:
    """The least memory per task of each base model (C++ and Python apart), least first."""
    best: dict = {}
    for k, p in at.items():
        base = (is_python(k[0]), models.base(k[0]))
        if base not in best or p.mean < at[best[base]].mean:
            best[base] = k
    keys = sorted(best.values(), key=lambda k: at[k].mean)[:most]
    return "; ".join(f"{memory_label(k)}: {kib_text(at[k].mean)}" for k in keys)


def kib_text(v: float, digits: int = 3) -> str:
    if v >= 1024:
        return f"{v / 1024:.{digits}g} MiB"
    if v >= 1:
        return f"{v:,.{digits}g} KiB" if v < 1000 else f"{v:,.0f} KiB"
    return f"{v * 1024:.{digits}g} B"


def chart_memory_per_task(results: cr.Results, outdir: str) -> list[Chart]:
    benches = [b for b in results.ok() if "tasks" in b.args and memory_value(b)]
    if not benches:
        return [Chart("How much memory does each task held alive take?",
                      reason="no benchmark reports memory per task (" + ", ".join(
                          k for k, _ in MEMORY_COUNTERS) + ")")]
    which = sorted({memory_value(b)[0] for b in benches})
    explain = ("Memory the kernel reports for the tasks held alive at once, divided by the "
               "tasks" + ("; PSS (processes) counts pages shared between processes fairly, "
                          "RSS (the others) is resident memory." if "PSS" in which else "."))
    series = {(): {}}
    for b in benches:
        series[()].setdefault(_memory_series(b), []).append(b)
    series[()] = {k: v for k, v in series[()].items() if len({b.args["tasks"] for b in v}) >= 2}

    def caption_of(s):
        x, at = at_shared_x(s)
        return f"at {cr.format_arg('tasks', x)}: " + memory_answer(at, results.models, 3)
    lines = draw_lines(results, series, memory_points, "tasks", "tasks alive at once",
                       "memory per task", kib_log_formatter(), caption_of, label=memory_label)
    if lines is not None:
        _, s = busiest(lines.panels)
        x, at = at_shared_x(s)
        return [publish(lines.fig, outdir, "memory_per_task.png",
                        "How much memory does each task held alive take?",
                        f"At {cr.format_arg('tasks', x)} alive: "
                        + memory_answer(at, results.models) + ".",
                        [explain, lines.note, dropped_note(results)], lines.legends,
                        lines.benches)]
    rows = []
    for b in sorted(benches, key=lambda b: (results.models.rank(b.model_full), b.order)):
        kind, v = memory_value(b)
        rows.append(Bar(f"{b.model_full}/{b.workload} · {cr.format_args(b.args)} ({kind})",
                        _memory_series(b), v, kib_text(v.mean) if v.mean > 0
                        else "0 (nothing measurable)"))
    unit, scale = ("MiB", 1024) if max(r.value.mean for r in rows) >= 2048 else ("KiB", 1)
    for r in rows:
        r.value = cr.Stat(r.value.mean / scale, r.value.sd / scale, r.value.n)
    fig, ax = draw_bars(rows, results.models, f"memory per task ({unit})",
                        Distinct(lambda v, d: f"{v:,.{d}g}"))
    at = {_memory_series(b): Point(b.args["tasks"], memory_value(b)[1].mean, 0)
          for b in benches}
    return [publish(fig, outdir, "memory_per_task.png",
                    "How much memory does each task held alive take?",
                    "Per task: " + memory_answer(at, results.models) + ".",
                    [explain, f"One task count per model, so bars of what was measured "
                     f"({MIN_POINTS} or more would draw lines).", dropped_note(results)],
                    [([ax], *bar_legend(rows))], benches)]


# --- the notebook's cells ------------------------------------------------------------------

PY_HERE_COLOR = "#f2b134"     # the notebook's Python, measured in this run
PY_PRINTED_COLOR = "#f6dca0"  # the time the notebook printed, on another machine


def notebook_answer(results: cr.Results, rows) -> str:
    """'C++ is faster in 9 of 16 cells, up to 84× (§4 threads: ...); the other 7 are the same
    within noise, all of them waiting'."""
    judged = [r for r in rows if r.verdict is not None]
    if not judged:
        n = sum(1 for r in rows if r.cpp)
        return (f"{n} of the {len(rows)} cells measured in C++ here; the notebook's Python was "
                f"not run beside them (scripts/run runs it), so no verdicts")
    faster = [r for r in judged if r.verdict.verdict == "faster"]
    slower = [r for r in judged if r.verdict.verdict == "slower"]
    same = [r for r in judged if r.verdict.verdict == "no significant change"]
    parts = []
    if faster:
        top = max(faster, key=lambda r: r.ratio())
        parts.append(f"C++ is faster in {len(faster)} of {len(judged)} cells, up to "
                     f"{times(top.ratio())} (§{top.cell.section} {top.cell.label})")
    if slower:
        parts.append(f"slower in {len(slower)}")
    if same:
        kinds = {results.workload_table.kind(r.cell.workload) for r in same}
        parts.append(f"{len(same)} take the same time in both" +
                     (" — they wait, and a wait costs the same in any language"
                      if kinds == {cr.IO_BOUND} else ""))
    rest = len(judged) - len(faster) - len(slower) - len(same)
    if rest:
        parts.append(f"{rest} not distinguishable here")
    return "; ".join(parts)


def chart_notebook(results: cr.Results, outdir: str) -> list[Chart]:
    title = "How long does each notebook cell take here, in its own Python and in C++?"
    rows = notebook_rows(results)
    if not rows:
        return [Chart(title, reason="these results carry no table of the notebook's cells "
                      "(concbench_cells: written by an older concbench)")]
    if not any(r.cpp or r.python for r in rows):
        return [Chart(title, reason="none of the notebook's cells has a matching benchmark "
                      "(run the notebook suite: scripts/run)")]
    have_python = any(r.python for r in rows)
    n = len(rows)
    fig, ax = plt.subplots(figsize=(11.5, 0.78 * n + 1.9))
    h = 0.27
    values, missing = [], []
    for i, r in enumerate(rows):
        y = n - 1 - i
        if r.cell.printed_s is not None:
            values.append(r.cell.printed_s)
            ax.barh(y + h, r.cell.printed_s, height=h, color=PY_PRINTED_COLOR, hatch="///",
                    edgecolor="#c9a24a", linewidth=0)
            ax.annotate(cr.format_seconds(r.cell.printed_s), (r.cell.printed_s, y + h),
                        xytext=(4, 0), textcoords="offset points", va="center", fontsize=7,
                        color="#8a6d2b")
        if r.python is not None and r.python.time_s():
            t = r.python.time_s()
            values.append(t.mean)
            ax.barh(y, t.mean, height=h, xerr=t.sd or None, capsize=2, color=PY_HERE_COLOR)
            ax.annotate(cr.format_seconds(t.mean), (t.mean + t.sd, y), xytext=(4, 0),
                        textcoords="offset points", va="center", fontsize=7)
        if r.cpp is None:
            missing.append(y - h)
            continue
        t = r.cpp.time_s()
        values.append(t.mean)
        ax.barh(y - h, t.mean, height=h, xerr=t.sd or None, capsize=2,
                color=base_color(results.models, r.cpp.model_full))
        label = cr.format_seconds(t.mean)
        if r.verdict is not None:
            label += "   " + short_verdict(r.verdict, "C++")
        ax.annotate(label, (t.mean + t.sd, y - h), xytext=(4, 0), textcoords="offset points",
                    va="center", fontsize=8, weight="bold" if r.verdict else "normal")
    ax.set_yticks(range(n))
    ax.set_yticklabels([f"§{r.cell.section}  {r.cell.label}" for r in rows][::-1], fontsize=9)
    log_axis(ax, "x")
    lo, hi = min(values), max(values)
    ax.set_xlim(lo / 3, hi * 60)
    for y in missing:
        ax.annotate("C++: not in these results", (0.0, y), xycoords=("axes fraction", "data"),
                    xytext=(4, 0), textcoords="offset points", va="center", fontsize=8,
                    color="#777777", style="italic")
    ax.xaxis.set_major_locator(LogLocator(base=10))
    ax.xaxis.set_major_formatter(seconds_formatter())
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xlabel("wall time of the cell (log scale; shorter is faster)")
    ax.grid(True, axis="x", alpha=0.3)
    present = list(dict.fromkeys(results.models.base(r.cpp.model_full) for r in rows if r.cpp))
    patches = [matplotlib.patches.Patch(facecolor=PY_PRINTED_COLOR, hatch="///",
                                        edgecolor="#c9a24a",
                                        label="Python as the notebook printed it\n(another "
                                              "machine, another year:\nnot compared)")]
    if have_python:
        patches.append(matplotlib.patches.Patch(color=PY_HERE_COLOR,
                                                label="the notebook's Python,\nrun here "
                                                      "(mean ± sd)"))
    patches += [matplotlib.patches.Patch(color=base_color(results.models, m),
                                         label=f"concbench C++, {m},\nrun here (mean ± sd)")
                for m in present]
    notes = ["Verdicts compare the two measured here (U test over the repetitions)."
             if have_python else
             "The notebook's Python was not run here (no python.json): no verdicts.",
             dropped_note(results)]
    drawn = [b for r in rows for b in (r.cpp, r.python) if b is not None]
    return [publish(fig, outdir, "notebook.png", title, notebook_answer(results, rows) + ".",
                    notes, [([ax], patches, [p.get_label() for p in patches])], drawn)]


def chart_timelines(results: cr.Results, outdir: str) -> list[Chart]:
    """timelines/<cell id>.png: every task of each notebook cell's traced batch (timeline.py)."""
    return [Chart(title, filename, reason) for title, filename, reason
            in timeline.cell_charts(results, outdir)]


CHARTS = (chart_notebook, chart_time_vs_tasks, chart_speedup_vs_workers, chart_chunksize,
          chart_overhead_per_task, chart_memory_per_task, chart_timelines)


def make_charts(results: cr.Results, outdir: str) -> list[Chart]:
    """Draws every chart the results have data for. A chart that fails with an unexpected error
    (a bug) does not stop the others: it comes back with `error` set."""
    out = []
    with plt.rc_context(RC):
        for fn in CHARTS:
            try:
                out.extend(fn(results, outdir))
            except OSError:
                raise
            except Exception as e:  # noqa: BLE001 - reported to the user, never swallowed
                plt.close("all")
                name = fn.__name__.removeprefix("chart_")
                out.append(Chart(name, reason=f"internal error while drawing: "
                                 f"{type(e).__name__}: {e}", error=True))
    return out


def create_parser():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("results", nargs="+",
                   help="a results.json (or a results folder holding one); or trace files "
                        "(concbench --trace, notebook_python.py --trace), whose benchmarks "
                        "are drawn as timelines")
    p.add_argument("-o", "--output", help="folder for the PNGs (default: next to the JSON)")
    return p


def main(argv=None) -> int:
    args = create_parser().parse_args(argv)
    traces = len(args.results) > 1 or trace_read.is_trace(args.results[0])

    def draw():
        if traces:  # timelines of every traced benchmark in the trace files
            outdir = args.output or os.path.dirname(os.path.abspath(args.results[0]))
            with plt.rc_context(RC):
                return outdir, [Chart(*c) for c in timeline.trace_charts(args.results, outdir)]
        results = cr.load_run(args.results[0])
        outdir = args.output or os.path.dirname(os.path.abspath(results.path))
        os.makedirs(outdir, exist_ok=True)
        return outdir, make_charts(results, outdir)
    done, status = cr.fatal_on_user_errors(draw, "charts")
    if status:
        return status
    outdir, charts = done
    for c in charts:
        if c.filename:
            print(os.path.join(outdir, c.filename))
        else:
            print(f"{'error' if c.error else 'skipped'}: {c.title}: {c.reason}", file=sys.stderr)
    return 1 if any(c.error for c in charts) else 0


if __name__ == "__main__":
    sys.exit(main())
