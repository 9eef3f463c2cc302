"""Draws concbench's charts (PNG) from a results JSON.

    scripts/plot results/<run>/results.json [-o OUTDIR]
    scripts/plot trace.json [python_trace.json] [-o OUTDIR]   # timelines of traced benchmarks

Charts, each drawn only when the results hold its data (otherwise one line says why it was
skipped):
  notebook.png                  each notebook cell's printed Python time next to concbench's C++
  time_vs_tasks_<workload>.png  wall time vs number of tasks per model, the ideal beside it
  speedup_vs_workers_<workload>.png   speed-up vs workers (threads vs processes)
  chunksize_<model>_<workload>.png    time and IPC messages vs chunksize, per payload
  overhead_per_task_<workload>.png    measured − ideal, per task, per model
  memory_per_task.png           memory per concurrent task vs tasks, per model
  timelines/<cell id>.png       each notebook cell's traced batch, C++ above Python, from the
                                traces beside the results (trace.json, python_trace.json), with
                                timelines/index.md (timeline.py)
Failed benchmarks are never drawn (a failure is not a zero); each chart says how many it left out.
"""
from __future__ import annotations

import argparse
import math
import os
import sys
from dataclasses import dataclass

import matplotlib.patches
import matplotlib.pyplot as plt
from matplotlib.ticker import FuncFormatter, LogLocator

import concbench_results as cr
import machine
from chart_style import (IDEAL_LINE, RC, Styler, auto_y, bar_figure, base_color, caption,
                         figure, finish, format_kib, format_log_axis, grid_for, hide_unused,
                         ideal_handle, integer_formatter, integer_log_ticks, legend_right,
                         log_axis, save, seconds_formatter)
import stats
import timeline
import trace_read
from notebook_cells import judge_benches, notebook_rows, serial_model, short_verdict

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


@dataclass
class Chart:
    """One chart: written to `filename`, or skipped for `reason`."""
    title: str
    filename: str | None = None
    reason: str | None = None
    error: bool = False


def workload_title(results: cr.Results, w: str) -> str:
    """'sleep [I/O-bound]: one wait: ...' from the table of workloads, else what is known."""
    table = results.workload_table
    summary = table.summary(w) or OTHER_WORKLOADS.get(w)
    kind = table.kind(w)
    return w + (f" [{kind}]" if kind else "") + (f": {summary}" if summary else "")


def dropped_note(results: cr.Results, workloads=None) -> str:
    failed = [b for b in results.failed() if workloads is None or b.workload in workloads]
    if not failed:
        return ""
    return f"not drawn: {len(failed)} failed benchmark(s), listed in report.md"


def publish(fig, outdir: str, filename: str, title: str, subtitle: str, *notes: str) -> Chart:
    """The end of every chart: the title block with the notes that are not empty (one line),
    the PNG written to outdir/filename, and the Chart that says so."""
    finish(fig, title, subtitle, " ".join(n for n in notes if n))
    save(fig, os.path.join(outdir, filename))
    return Chart(title, filename)


def label_panel(ax, xlabel: str, ylabel: str, title: str, **grid) -> None:
    """One facet's axis labels, its title and its grid."""
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=10)
    ax.grid(True, alpha=0.3, **grid)


def close_panels(fig, axes, used: int, models: cr.Models, extra_handles=()) -> None:
    """A grid of facets done: the unused panels hidden, one legend on the right."""
    hide_unused(axes, used)
    legend_right(fig, axes, models, extra_handles)


# --- charts ----------------------------------------------------------------------------------

def chart_time_vs_tasks(results: cr.Results, outdir: str) -> list[Chart]:
    charts = []
    for workload in results.workloads():
        benches = [b for b in results.ok() if b.workload == workload and "tasks" in b.args]
        series = cr.group(benches, lambda b: cr.series_of(b, exclude=("tasks",)))
        series = {k: v for k, v in series.items() if len({b.args["tasks"] for b in v}) >= 2}
        if not series:
            continue
        series, thinned = thin_series(series, results.models)
        benches = [b for v in series.values() for b in v]
        facets = cr.group(benches, lambda b: cr.facet_of(b, exclude=("tasks",)))
        style = Styler(series.keys(), results.models)
        rows, cols = grid_for(len(facets))
        fig, axes = figure(rows, cols)
        for ax, (fkey, fbenches) in zip(axes.ravel(), sorted(facets.items())):
            for skey, sb in sorted(cr.group(fbenches, lambda b: cr.series_of(
                    b, exclude=("tasks",))).items(), key=lambda kv: (results.models.rank(
                        kv[0][0]), kv[0][1:])):
                sb = sorted(sb, key=lambda b: b.args["tasks"])
                x = [b.args["tasks"] for b in sb]
                t = [b.time_s() for b in sb]
                st = style(skey)
                ax.errorbar(x, [s.mean for s in t], yerr=[s.sd for s in t], capsize=2,
                            label=cr.series_label(skey), linewidth=1.6, markersize=4, **st)
                ideal = [b.counter("ideal_s") for b in sb]
                if all(i is not None and i.mean > 0 for i in ideal):
                    ax.plot(x, [i.mean for i in ideal], color=st["color"], **IDEAL_LINE)
            log_axis(ax, "x")
            log_axis(ax, "y")
            integer_log_ticks(ax, [b.args["tasks"] for b in fbenches])
            format_log_axis(ax, "y", seconds_formatter())
            verdict = _verdict(fbenches, "tasks", lambda b: cr.series_of(b, exclude=("tasks",)))
            caption(ax, verdict)
            label_panel(ax, "tasks per batch (log scale)", "wall time per batch (log scale)",
                        cr.facet_label(fkey), which="major")
        close_panels(fig, axes, len(facets), results.models, [ideal_handle()])
        charts.append(publish(
            fig, outdir, f"time_vs_tasks_{workload}.png",
            f"Wall time vs number of tasks — {workload_title(results, workload)}",
            "Lower is better. A line that stays flat as tasks grow runs them concurrently; one "
            "that climbs with slope 1 runs them one after another.",
            thinned, dropped_note(results, {workload})))
    return charts or [Chart("Wall time vs number of tasks", reason="no model was run at two or "
                            "more task counts with the same other arguments")]


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


def _verdict(benches, xkey, skey_of, value=None, fmt=cr.format_seconds,
             words=("fastest", "slowest")) -> str:
    """'at 256 tasks: fastest async 1.2 ms; slowest sync 260 ms (220× the fastest, p = 0.008)'
    at the x that the most series share (the largest such x). For times the claim rests on the
    two series' repetitions (stats.judge); when they do not tell the two apart, it says so."""
    timed = value is None
    value = value or (lambda b: b.time_s().mean)
    by_x = cr.group(benches, lambda b: b.args[xkey])
    for x in sorted(by_x, key=lambda x: (len({skey_of(b) for b in by_x[x]}), x), reverse=True):
        pts, of = {}, {}
        for b in by_x[x]:
            v = value(b)
            if v is not None and v > 0:
                pts[skey_of(b)] = v
                of[skey_of(b)] = b
        if len(pts) < 2:
            continue
        low = min(pts, key=pts.get)
        high = max(pts, key=pts.get)
        ratio = pts[high] / pts[low]
        why = ""
        if timed:
            v = judge_benches(of[high], of[low])
            if v is not None and v.verdict not in ("faster", "slower"):
                why = f"; {v.text()}"
            elif v is not None:
                why = f", p = {stats.format_p(v.p_value)}"
        return (f"at {cr.format_arg(xkey, x)}:\n{words[0]} {cr.series_label(low)}: "
                f"{fmt(pts[low])}\n{words[1]} {cr.series_label(high)}: "
                f"{fmt(pts[high])} ({ratio:,.1f}× the {words[0]}{why})")
    return ""


def _baseline(results, workload, fkey):
    """The serial run of the same work (the model of the notebook's serial baselines), or None."""
    serial, args = serial_model(results), dict(fkey)
    found = [b for b in results.find(serial, workload, args) if set(b.args) == set(args)] \
        if serial else []
    return found[0] if found else None


def _speedup_facets(benches) -> tuple[dict, str]:
    """{facet: {series: benches}} of the series run at two or more worker counts, one panel per
    kind of task and task count; with more than four panels, only the task count run with the
    most models (then the largest) per kind of task, where the workers matter most. Also what it
    left out."""
    fkey_of = lambda b: cr.facet_of(b, exclude=("workers",)) + (  # noqa: E731
        (("tasks", b.args["tasks"]),) if "tasks" in b.args else ())
    skey_of = lambda b: cr.series_of(b, exclude=("workers", "tasks"))  # noqa: E731
    series = cr.group(benches, lambda b: (fkey_of(b), skey_of(b)))
    series = {k: v for k, v in series.items() if len({b.args["workers"] for b in v}) >= 2}
    facets: dict = {}
    for (fkey, skey), sb in series.items():
        facets.setdefault(fkey, {})[skey] = sb
    if len(facets) <= 4:
        return facets, ""
    keep = {}
    for fkey, fs in facets.items():
        size = tuple(kv for kv in fkey if kv[0] != "tasks")
        tasks = dict(fkey).get("tasks", 0)
        rank = (len(fs), tasks)
        if size not in keep or rank > keep[size][0]:
            keep[size] = (rank, fkey)
    dropped = len(facets) - len(keep)
    return ({fk: facets[fk] for _, fk in keep.values()},
            f"Showing, per kind of task, the task count run with the most models; "
            f"{dropped} other panel(s) are in the tables of report.md.")


def _speedups(sb, ref):
    """For benches sb (by workers) against the reference ref: the speed-ups, their error (the
    two relative sds combined), and the speed-ups if both reached their ideals (None when an
    ideal is missing)."""
    rt = ref.time_s()
    y, err = [], []
    for b in sb:
        t = b.time_s()
        s = rt.mean / t.mean
        y.append(s)
        err.append(s * math.hypot(rt.sd / rt.mean, t.sd / t.mean))
    ref_ideal = ref.counter("ideal_s")
    ideals = [b.counter("ideal_s") for b in sb]
    if ref_ideal and all(i is not None and i.mean > 0 for i in ideals):
        return y, err, [ref_ideal.mean / i.mean for i in ideals]
    return y, err, None


def chart_speedup_vs_workers(results: cr.Results, outdir: str) -> list[Chart]:
    charts = []
    cores = results.context.get("usable_cores")
    for workload in results.workloads():
        facets, reduced = _speedup_facets(
            [b for b in results.ok() if b.workload == workload and "workers" in b.args])
        if not facets:
            continue
        style = Styler({s for f in facets.values() for s in f}, results.models)
        rows, cols = grid_for(len(facets))
        fig, axes = figure(rows, cols)
        for ax, (fkey, fseries) in zip(axes.ravel(), sorted(facets.items())):
            base = _baseline(results, workload, fkey)
            ymax = 1.0
            for skey, sb in sorted(fseries.items(), key=lambda kv: (results.models.rank(
                    kv[0][0]), kv[0][1:])):
                sb = sorted(sb, key=lambda b: b.args["workers"])
                y, err, iy = _speedups(sb, base if base is not None else sb[0])
                x = [b.args["workers"] for b in sb]
                st = style(skey)
                ax.errorbar(x, y, yerr=err, capsize=2, label=cr.series_label(skey),
                            linewidth=1.6, markersize=4, **st)
                ymax = max(ymax, max(y))
                if iy is not None:
                    ax.plot(x, iy, color=st["color"], **IDEAL_LINE)
                    ymax = max(ymax, max(iy))
            ax.axhline(1.0, color="#999999", linewidth=0.8)
            if cores and str(cores).isdigit() and results.workload_table.kind(workload) \
                    in (cr.CPU_BOUND, cr.MIXED):
                ax.axvline(int(cores), color="#999999", linewidth=0.8, linestyle="--")
                ax.text(int(cores), ymax * 1.05, f" {machine.usable_cores(results.context)}", fontsize=8,
                        color="#555555", va="top")
            log_axis(ax, "x", base=2)
            integer_log_ticks(ax, [b.args["workers"] for f in fseries.values() for b in f])
            ax.set_ylim(0, ymax * 1.12)
            label_panel(ax, "workers (threads or processes, log scale)",
                        f"speed-up over {base.model_full} (×)" if base is not None
                        else "speed-up over fewest workers (×)", cr.facet_label(fkey))
        close_panels(fig, axes, len(facets), results.models, [ideal_handle()])
        charts.append(publish(
            fig, outdir, f"speedup_vs_workers_{workload}.png",
            f"Speed-up vs workers — {workload_title(results, workload)}",
            "Higher is better. Speed-up = the baseline's wall time / this run's; dotted: the "
            "speed-up if both reached their ideals. CPU work cannot go faster than the number "
            "of cores; sleeping tasks can.",
            reduced, dropped_note(results, {workload})))
    return charts or [Chart("Speed-up vs workers", reason="no model was run at two or more "
                            "worker counts with the same other arguments")]


def chart_chunksize(results: cr.Results, outdir: str) -> list[Chart]:
    charts = []
    benches = [b for b in results.ok() if "chunksize" in b.args]
    for (model, workload), mb in sorted(cr.group(benches, lambda b: (b.model_full, b.workload))
                                        .items()):
        # One panel column per combination of the other arguments; one line per payload.
        fkey_of = lambda b: tuple((k, v) for k, v in b.args.items()  # noqa: E731
                                  if k not in ("chunksize", "payload"))
        facets = cr.group(mb, fkey_of)
        facets = {k: v for k, v in facets.items() if len({b.args["chunksize"] for b in v}) >= 2}
        if not facets:
            continue
        has_ipc = any(b.has_counter("ipc_messages") for v in facets.values() for b in v)
        nrows = 2 if has_ipc else 1
        cols = len(facets)
        fig, axes = figure(nrows, cols, h=3.4)
        payloads = sorted({b.args.get("payload", -1) for v in facets.values() for b in v})
        cmap = plt.get_cmap("viridis")
        colors = {p: cmap(0.85 * i / max(1, len(payloads) - 1)) for i, p in enumerate(payloads)}
        for ci, (fkey, fb) in enumerate(sorted(facets.items())):
            ax_t = axes[0][ci]
            times = []
            for p, pb in sorted(cr.group(fb, lambda b: b.args.get("payload", -1)).items()):
                pb = sorted(pb, key=lambda b: b.args["chunksize"])
                x = [b.args["chunksize"] for b in pb]
                t = [b.time_s() for b in pb]
                lab = "payload " + cr.format_bytes(p) + " per task" if p >= 0 else model
                ax_t.errorbar(x, [s.mean for s in t], yerr=[s.sd for s in t], capsize=2,
                              marker="o", markersize=4, color=colors[p], label=lab)
                times += [s.mean for s in t]
                ideal = [b.counter("ideal_s") for b in pb]
                if all(i is not None for i in ideal):
                    ax_t.plot(x, [i.mean for i in ideal], color=colors[p], **IDEAL_LINE)
                    times += [i.mean for i in ideal]
                if has_ipc:
                    m = [b.counter("ipc_messages") for b in pb]
                    pts = [(xi, mi.mean) for xi, mi in zip(x, m) if mi is not None]
                    if pts:
                        axes[1][ci].plot(*zip(*pts), marker="o", markersize=4, color=colors[p],
                                         label=lab)
            log_axis(ax_t, "x")
            integer_log_ticks(ax_t, [b.args["chunksize"] for b in fb])
            scale = auto_y(ax_t, times)
            if scale:
                format_log_axis(ax_t, "y", seconds_formatter())
            else:
                ax_t.yaxis.set_major_formatter(seconds_formatter())
            ax_t.set_ylabel("wall time per batch" + (f" ({scale})" if scale else ""))
            ax_t.set_xlabel("chunksize: tasks per message (log scale)")
            ax_t.set_title(cr.facet_label(fkey), fontsize=10)
            ax_t.grid(True, alpha=0.3)
            if has_ipc:
                ax_m = axes[1][ci]
                log_axis(ax_m, "x")
                log_axis(ax_m, "y")
                integer_log_ticks(ax_m, [b.args["chunksize"] for b in fb])
                msgs = [b.counter("ipc_messages").mean for b in fb if b.has_counter("ipc_messages")]
                integer_log_ticks(ax_m, msgs, axis="y")
                ax_m.yaxis.set_major_formatter(integer_formatter())
                ax_m.set_ylabel("IPC messages per batch (log scale)")
                ax_m.set_xlabel("chunksize: tasks per message (log scale)")
                ax_m.grid(True, alpha=0.3)
        legend_right(fig, axes, results.models, [ideal_handle()])
        charts.append(publish(
            fig, outdir, f"chunksize_{model}_{workload}.png",
            f"Chunksize trade-off — {model}/{workload}",
            "Small chunks: many messages (queue hand-offs for threads), each with a fixed cost. "
            "Large chunks: few messages, but workers left idle at the end (load imbalance). The "
            "best time sits between; the dotted ideal shows the imbalance alone.",
            dropped_note(results, {workload})))
    return charts or [Chart("Chunksize trade-off", reason="no model was run at two or more "
                            "chunksizes with the same other arguments")]


def _per_task_overhead(b: cr.Bench) -> cr.Stat:
    o, t = b.counter("overhead_s"), b.args["tasks"]
    return cr.Stat(o.mean / t, o.sd / t, o.n)


def chart_overhead_per_task(results: cr.Results, outdir: str) -> list[Chart]:
    charts = []
    for workload in results.workloads():
        benches = [b for b in results.ok() if b.workload == workload and "tasks" in b.args
                   and b.has_counter("overhead_s")]
        if not benches:
            continue
        series = cr.group(benches, lambda b: cr.series_of(b, exclude=("tasks",)))
        multi = {k: v for k, v in series.items() if len({b.args["tasks"] for b in v}) >= 2}
        thinned = ""
        if multi:
            multi, thinned = thin_series(multi, results.models)
            fig, note = _overhead_lines(multi, results.models)
        else:
            fig, note = _overhead_bars(benches, results.models)
        charts.append(publish(
            fig, outdir, f"overhead_per_task_{workload}.png",
            f"Overhead above the ideal, per task — {workload_title(results, workload)}",
            "Lower is better. Overhead per task = (measured wall time − the model's ideal) / "
            "tasks: what the model itself costs for each task.",
            thinned, note, dropped_note(results, {workload})))
    return charts or [Chart("Overhead above the ideal, per task",
                            reason="no benchmark with a tasks argument reports overhead_s")]


def _overhead_lines(series: dict, models: cr.Models):
    benches = [b for v in series.values() for b in v]
    facets = cr.group(benches, lambda b: cr.facet_of(b, exclude=("tasks",)))
    style = Styler(series.keys(), models)
    rows, cols = grid_for(len(facets))
    fig, axes = figure(rows, cols)
    hidden = 0
    for ax, (fkey, fb) in zip(axes.ravel(), sorted(facets.items())):
        vals = [_per_task_overhead(b).mean for b in fb]
        pos = [v for v in vals if v > 0]
        use_log = bool(pos) and max(pos) / min(pos) > 30
        for skey, sb in sorted(cr.group(fb, lambda b: cr.series_of(b, exclude=("tasks",)))
                               .items(), key=lambda kv: (models.rank(kv[0][0]), kv[0][1:])):
            sb = sorted(sb, key=lambda b: b.args["tasks"])
            pts = [(b.args["tasks"], _per_task_overhead(b)) for b in sb]
            if use_log:
                hidden += sum(1 for _, y in pts if y.mean <= 0)
                pts = [(x, y) for x, y in pts if y.mean > 0]
            if not pts:
                continue
            ax.errorbar([p[0] for p in pts], [p[1].mean for p in pts],
                        yerr=[p[1].sd for p in pts], capsize=2, label=cr.series_label(skey),
                        linewidth=1.6, markersize=4, **style(skey))
        log_axis(ax, "x")
        integer_log_ticks(ax, [b.args["tasks"] for b in fb])
        if use_log:
            log_axis(ax, "y")
            ax.set_ylabel("overhead per task (log scale)")
        else:
            ax.set_ylim(min(0.0, min(vals) * 1.1), max(max(vals) * 1.12, 1e-9))
            ax.axhline(0, color="#999999", linewidth=0.8)
            ax.set_ylabel("overhead per task")
        if use_log:
            format_log_axis(ax, "y", seconds_formatter())
        else:
            ax.yaxis.set_major_formatter(seconds_formatter(signed=True))
        ax.set_xlabel("tasks per batch (log scale)")
        ax.set_title(cr.facet_label(fkey), fontsize=10)
        ax.grid(True, alpha=0.3)
    close_panels(fig, axes, len(facets), models)
    note = f"{hidden} point(s) at or below the ideal (measurement noise) are not on the log " \
           "axis." if hidden else ""
    return fig, note


def _overhead_bars(benches, models: cr.Models):
    order = sorted(benches, key=lambda b: (models.rank(b.model_full), cr.facet_of(b),
                                           tuple(b.args.items())))
    vals = [_per_task_overhead(b) for b in order]
    fig, ax = bar_figure(len(order))
    keys = [cr.series_of(b, exclude=("tasks",)) for b in order]
    style = Styler(keys, models)
    ys = list(range(len(order)))[::-1]
    means = [v.mean for v in vals]
    pos = [m for m in means if m > 0]
    use_log = bool(pos) and max(pos) / min(pos) > 100
    shown = [m if (m > 0 or not use_log) else 0 for m in means]
    errs = [v.sd if (v.mean > 0 or not use_log) else 0 for v in vals]
    bars = ax.barh(ys, shown, xerr=errs, capsize=2)
    style.bars(bars, keys)
    ax.set_yticks(ys)
    ax.set_yticklabels([f"{b.model_full} · {cr.format_args(b.args)}" for b in order], fontsize=9)
    if use_log:
        log_axis(ax, "x")
        ax.set_xlim(min(pos) / 4, max(pos) * 8)
        ax.set_xlabel("overhead per task (log scale)")
    else:
        ax.axvline(0, color="#999999", linewidth=0.8)
        ax.set_xlabel("overhead per task")
        span = max(max(means), 0) - min(min(means), 0) or 1e-9
        ax.set_xlim(min(0, min(means)) - 0.1 * span, max(0, max(means)) + 0.35 * span)
    ax.xaxis.set_major_formatter(seconds_formatter(signed=True))
    left = ax.get_xlim()[0]
    for bar, m, e in zip(bars, means, errs):
        y = bar.get_y() + bar.get_height() / 2
        if m > 0 or not use_log:
            ax.annotate(cr.format_seconds(m), (max(m, 0) + e, y), xytext=(4, 0),
                        textcoords="offset points", va="center", fontsize=8)
        else:
            ax.annotate(f"{cr.format_seconds(m)}: at the ideal, within noise", (left, y),
                        xytext=(4, 0), textcoords="offset points", va="center", fontsize=8,
                        color="#555555", style="italic")
    ax.grid(True, axis="x", alpha=0.3)
    note = ("A value at or below zero means the model reached its ideal within the "
            "measurement's noise." if min(means) <= 0 else "")
    return fig, note


# Memory counters a family may report per task, converted to KiB: (counter, factor, suffix).
# Preferred first: PSS counts copy-on-write pages shared between processes fairly.
MEMORY_COUNTERS = (
    ("pss_kib_per_task", 1.0, "PSS"),
    ("rss_kib_per_task", 1.0, "RSS"),
)
MEMORY_STYLES = {"PSS": "--", "RSS": "-"}


def memory_values(b: cr.Bench):
    """[(suffix, Stat in KiB)] for the memory counters this benchmark reports."""
    out = []
    for key, factor, suffix in MEMORY_COUNTERS:
        s = b.counter(key)
        if s is not None:
            out.append((suffix, cr.Stat(s.mean * factor, s.sd * factor, s.n)))
    return out


def _memory_series(b: cr.Bench) -> tuple:
    return cr.series_of(b, exclude=("tasks",)) + ((("workload", b.workload),)
                                                   + cr.facet_of(b, exclude=("tasks",)),)


def _memory_label(key: tuple) -> str:
    *series, extra = key
    workload = dict(extra)["workload"]
    rest = cr.facet_label(tuple(kv for kv in extra if kv[0] != "workload"))
    return f"{cr.series_label(tuple(series))} [{workload}{', ' + rest if rest else ''}]"


def chart_memory_per_task(results: cr.Results, outdir: str) -> list[Chart]:
    title = "Memory per concurrent task vs tasks"
    benches = [b for b in results.ok() if "tasks" in b.args and memory_values(b)]
    if not benches:
        return [Chart(title, reason="no benchmark reports memory per task (" + ", ".join(
            k for k, _, _ in MEMORY_COUNTERS) + ")")]
    subtitle = ("Lower is better. Memory the kernel reports for the tasks held alive at once, "
                "divided by the tasks. RSS: resident memory; PSS (dashed or hatched): "
                "copy-on-write pages shared between processes counted fairly; [workload] is what "
                "each task does.")
    series = cr.group(benches, _memory_series)
    if any(len({b.args["tasks"] for b in v}) >= 2 for v in series.values()):
        fig, note = _memory_lines(series, benches, results.models)
    else:
        fig, note = _memory_bars(benches, results.models), ""
    return [publish(fig, outdir, "memory_per_task.png", title, subtitle, note,
                    dropped_note(results))]


def _memory_lines(series: dict, benches, models: cr.Models):
    style = Styler(series.keys(), models)
    fig, axes = figure(1, 1, w=7.5, h=4.6)
    ax = axes[0][0]
    hidden = 0
    for skey, sb in sorted(series.items(), key=lambda kv: (models.rank(kv[0][0]), kv[0][1:])):
        sb = sorted(sb, key=lambda b: b.args["tasks"])
        st = style(skey)
        for suffix in MEMORY_STYLES:
            pts = [(b.args["tasks"], v) for b in sb for sfx, v in memory_values(b) if sfx == suffix]
            hidden += sum(1 for _, v in pts if v.mean <= 0)
            pts = [(x, v) for x, v in pts if v.mean > 0]
            if not pts:
                continue
            ax.errorbar([p[0] for p in pts], [p[1].mean for p in pts],
                        yerr=[p[1].sd for p in pts], capsize=2, color=st["color"],
                        marker=st["marker"], markerfacecolor=st.get("markerfacecolor"),
                        linestyle=MEMORY_STYLES[suffix], markersize=4,
                        label=f"{_memory_label(skey)} ({suffix})")
    log_axis(ax, "x")
    log_axis(ax, "y")
    integer_log_ticks(ax, [b.args["tasks"] for b in benches])
    format_log_axis(ax, "y", FuncFormatter(lambda v, _p: f"{v:g} KiB" if v < 1
                                           else format_kib(v)))

    def best(b):
        vals = memory_values(b)
        return vals[0][1].mean if vals else None
    verdict = _verdict(benches, "tasks", lambda b: _memory_series(b)[:-1], value=best,
                       fmt=format_kib, words=("least", "most"))
    caption(ax, verdict + "\n(PSS where the family reports it, else RSS)"
            if verdict else "")
    ax.set_xlabel("tasks alive at once (log scale)")
    ax.set_ylabel("memory per task (log scale)")
    ax.grid(True, which="major", alpha=0.3)
    legend_right(fig, axes, models)
    note = f"{hidden} value(s) of 0 or less are not on the log axis." if hidden else ""
    return fig, note


def _memory_bars(benches, models: cr.Models):
    rows = []
    for b in sorted(benches, key=lambda b: (models.rank(b.model_full), b.order)):
        for suffix, s in memory_values(b):
            rows.append((b, suffix, s))
    fig, ax = bar_figure(len(rows))
    keys = [cr.series_of(b, exclude=("tasks",)) for b, _, _ in rows]
    ys = list(range(len(rows)))[::-1]
    bars = ax.barh(ys, [s.mean for _, _, s in rows], xerr=[s.sd for _, _, s in rows], capsize=2)
    Styler(keys, models).bars(bars, keys)
    for bar, (_, suffix, _) in zip(bars, rows):
        if suffix != "RSS":
            bar.set_hatch("//")
            bar.set_alpha(0.75)
    ax.set_yticks(ys)
    ax.set_yticklabels([f"{b.model_full}/{b.workload} · {cr.format_args(b.args)} ({suffix})"
                        for b, suffix, _ in rows], fontsize=9)
    vals = [s.mean for _, _, s in rows]
    pos = [v for v in vals if v > 0] or [1.0]
    if max(pos) / min(pos) > 100:
        log_axis(ax, "x")
        ax.set_xlim(min(pos) / 3, max(pos) * 8)
        ax.set_xlabel("memory per task (log scale)")
    else:
        ax.set_xlim(0, max(pos) * 1.3)
        ax.set_xlabel("memory per task")
    ax.xaxis.set_major_formatter(FuncFormatter(format_kib))
    left = ax.get_xlim()[0]
    for bar, (_, _, s) in zip(bars, rows):
        x = s.mean + s.sd if s.mean > 0 else left
        ax.annotate(format_kib(s.mean) if s.mean > 0 else "0 (nothing measurable)",
                    (x, bar.get_y() + bar.get_height() / 2), xytext=(4, 0),
                    textcoords="offset points", va="center", fontsize=8)
    ax.grid(True, axis="x", alpha=0.3)
    return fig


PY_HERE_COLOR = "#f2b134"     # the notebook's Python, measured in this run
PY_PRINTED_COLOR = "#f6dca0"  # the time the notebook printed, on another machine


def chart_notebook(results: cr.Results, outdir: str) -> list[Chart]:
    title = "The notebook's cells: its own Python and concbench's C++, on this machine"
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
        ax.annotate("C++: not in these results", (lo / 3, y), xytext=(4, 0),
                    textcoords="offset points", va="center", fontsize=8, color="#777777",
                    style="italic")
    ax.xaxis.set_major_locator(LogLocator(base=10))
    ax.xaxis.set_major_formatter(seconds_formatter())
    ax.set_xlabel("wall time of the cell (log scale; shorter is faster)")
    ax.grid(True, axis="x", alpha=0.3)
    present = list(dict.fromkeys(results.models.base(r.cpp.model_full) for r in rows if r.cpp))
    patches = [matplotlib.patches.Patch(facecolor=PY_PRINTED_COLOR, hatch="///", edgecolor="#c9a24a",
                                        label="Python as the notebook printed it (another machine, "
                                              "another year: not compared)")]
    if have_python:
        patches.append(matplotlib.patches.Patch(color=PY_HERE_COLOR,
                                                label="the notebook's Python, run here (mean ± sd)"))
    patches += [matplotlib.patches.Patch(color=base_color(results.models, m),
                                         label=f"concbench C++, {m}, run here (mean ± sd)")
                for m in present]
    ax.legend(handles=patches, loc="upper center", bbox_to_anchor=(0.5, -0.045), ncol=2,
              fontsize=8, frameon=False)
    subtitle = ("Each cell: the time the notebook printed, its code run here, and the same work in "
                "C++ here. Verdicts compare the two measured here (U test over the repetitions).")
    if not have_python:
        subtitle += " The notebook's Python was not run here (no python.json): no verdicts."
    return [publish(fig, outdir, "notebook.png", title, subtitle, dropped_note(results))]


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
