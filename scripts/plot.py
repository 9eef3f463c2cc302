"""Draws concbench's charts (PNG) from a results JSON.

    scripts/plot results/<run>/results.json [-o OUTDIR]

Charts, each drawn only when the results hold its data (otherwise one line says why it was
skipped):
  notebook.png                  each notebook cell's printed Python time next to concbench's C++
  time_vs_tasks_<workload>.png  wall time vs number of tasks per model, the ideal beside it
  speedup_vs_workers_<workload>.png   speed-up vs workers (threads vs processes)
  chunksize_<model>_<workload>.png    time and IPC messages vs chunksize, per payload
  overhead_per_task_<workload>.png    measured − ideal, per task, per model
  memory_per_task.png           memory per concurrent task vs tasks, per model
Failed benchmarks are never drawn (a failure is not a zero); each chart says how many it left out.
"""
from __future__ import annotations

import argparse
import io
import math
import os
import sys
import textwrap
from dataclasses import dataclass

import matplotlib

matplotlib.use("Agg")
import matplotlib.colors as mcolors  # noqa: E402
import matplotlib.lines  # noqa: E402
import matplotlib.patches  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter  # noqa: E402

import concbench_results as cr  # noqa: E402
from notebook_cells import notebook_matches  # noqa: E402

WORKLOAD_TITLES = {
    "sleep": "simulated I/O (each task sleeps)",
    "cpu": "CPU work: cpu_intensivo(n) per task",
    "trabajo": "CPU work: trabajo(x) per task (50,000 steps)",
    "tarea_normal": "CPU work: tarea_normal(x) per task (300,000 steps)",
    "echo": "real I/O: one loopback TCP echo per task",
    "counter": "shared counter increments",
    "memory": "tasks held alive at once",
    "dispatch": "empty tasks: the model's own cost per task",
    "startup": "creating and tearing down the pool or loop",
    "roundtrip": "IPC round trips between processes",
    "alloc": "allocating and releasing a list of integers",
}

BASE_COLORS = {"sync": "#4d4d4d", "threads": "#1f77b4", "async": "#2ca02c",
               "processes": "#d62728"}
EXTRA_COLORS = ["#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#ff7f0e"]
LINESTYLES = ["-", "--", "-.", ":"]
VARIANT_TONES = [0.0, -0.45, 0.45, -0.7, 0.65, -0.25, 0.25]
MARKERS = ["o", "s", "^", "D", "v", "P", "X", "*"]

DPI = 100


@dataclass
class Chart:
    """One chart: written to `filename`, or skipped for `reason`."""
    title: str
    filename: str | None = None
    reason: str | None = None
    error: bool = False


def workload_title(w: str) -> str:
    return WORKLOAD_TITLES.get(w, f"workload '{w}'")


# --- style -----------------------------------------------------------------------------------

class Styler:
    """Stable colours and line styles: one hue per model, one line style per variant, lighter
    shades for the same model run with other arguments (e.g. more workers)."""

    def __init__(self, series_keys):
        self.style = {}
        keys = sorted(set(series_keys), key=lambda k: (cr.model_rank(k[0]), k[1:]))
        extra = iter(EXTRA_COLORS * 4)
        base_color: dict[str, str] = {}
        variants: dict[str, list] = {}
        shades: dict[str, list] = {}
        for k in keys:
            model, _, variant = k[0].partition(".")
            if model not in base_color:
                base_color[model] = BASE_COLORS.get(model) or next(extra)
            vs = variants.setdefault(model, [])
            if variant not in vs:
                vs.append(variant)
            shades.setdefault(k[0], []).append(k)
        for k in keys:
            model, _, variant = k[0].partition(".")
            vi = variants[model].index(variant)
            same = shades[k[0]]
            si = same.index(k)
            # Variants of one model: darker and lighter tones of its hue; argument sets of one
            # variant (e.g. more workers): lighter still.
            tone = VARIANT_TONES[vi % len(VARIANT_TONES)]
            rgb = mcolors.to_rgb(base_color[model])
            rgb = tuple(c * (1 + tone) if tone < 0 else c + (1 - c) * tone for c in rgb)
            mix = 0.0 if len(same) == 1 else 0.5 * si / (len(same) - 1)
            color = tuple(c + (1 - c) * mix for c in rgb)
            self.style[k] = dict(color=color, linestyle=LINESTYLES[vi % len(LINESTYLES)],
                                 marker=MARKERS[(vi + si) % len(MARKERS)])

    def __call__(self, key):
        return self.style[key]


def save(fig, path: str) -> None:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, bbox_inches="tight")
    plt.close(fig)
    cr.write_atomic(path, buf.getvalue())


def grid_for(n: int, max_cols: int = 3):
    cols = 2 if n == 4 else min(n, max_cols)
    rows = math.ceil(n / cols)
    return rows, cols


def seconds_formatter(signed=False):
    return FuncFormatter(lambda v, _pos: cr.format_seconds(v) if v > 0 or (signed and v < 0)
                         else "0")


def log_axis(ax, axis="x", base=10):
    getattr(ax, f"set_{axis}scale")("log", base=base)
    if base == 2:
        getattr(ax, f"{axis}axis").set_major_formatter(FuncFormatter(lambda v, _p: f"{v:g}"))
        getattr(ax, f"{axis}axis").set_minor_formatter(NullFormatter())


def format_log_axis(ax, axis, formatter):
    """Labels a log axis with `formatter`. Over less than about a decade matplotlib labels the
    minor ticks too (in 2.5×10⁻¹ notation): give them the same readable labels then."""
    a = getattr(ax, f"{axis}axis")
    a.set_major_formatter(formatter)
    lo, hi = getattr(ax, f"get_{axis}lim")()
    a.set_minor_formatter(formatter if lo > 0 and hi / lo < 20 else NullFormatter())


def integer_log_ticks(ax, values, axis="x"):
    """Ticks exactly at the values that were run (1, 4, 16, ...), when there are few of them."""
    vals = sorted(set(values))
    if len(vals) <= 12:
        getattr(ax, f"set_{axis}ticks")(vals)
        getattr(ax, f"{axis}axis").set_major_formatter(FuncFormatter(lambda v, _p: f"{v:,.0f}"))
        getattr(ax, f"{axis}axis").set_minor_formatter(NullFormatter())


def dropped_note(results: cr.Results, workloads=None) -> str:
    failed = [b for b in results.failed() if workloads is None or b.workload in workloads]
    if not failed:
        return ""
    return f"not drawn: {len(failed)} failed benchmark(s), listed in report.md"


def finish(fig, title: str, subtitle: str, note: str = ""):
    """Title and a one- or two-line explanation above the panels, in fixed inches so that they
    never overlap the panels whatever the figure's height."""
    w, h = fig.get_size_inches()
    width = max(60, int(w * 15))
    subtitle = "\n".join(textwrap.fill(p, width) for p in subtitle.split("\n"))
    note = "\n".join(textwrap.fill(p, width) for p in note.split("\n")) if note else ""
    lines = subtitle.count("\n") + 1 + (1 + note.count("\n") if note else 0)
    head = 0.45 + 0.18 * lines + 0.35
    fig.subplots_adjust(top=1 - head / h)
    fig.suptitle(title, fontsize=13, fontweight="bold", x=0.02, y=1 - 0.12 / h, ha="left",
                 va="top")
    fig.text(0.02, 1 - 0.45 / h, subtitle, ha="left", va="top", fontsize=9, color="#333333")
    if note:
        fig.text(0.02, 1 - (0.45 + 0.18 * (subtitle.count("\n") + 1)) / h, note, ha="left",
                 va="top", fontsize=9, color="#a00000" if "failed" in note else "#6b4e00")


def figure(rows, cols, w=5.2, h=3.9):
    fig, axes = plt.subplots(rows, cols, figsize=(w * cols, (h + 0.7) * rows + 1.2),
                             squeeze=False)
    fig.subplots_adjust(left=0.08, right=0.97, hspace=0.75, wspace=0.3)
    return fig, axes


def hide_unused(axes, used: int):
    flat = axes.ravel()
    for ax in flat[used:]:
        ax.set_visible(False)


def legend_right(fig, axes, extra_handles=()):
    handles, labels = [], []
    has_ideal = any(line.get_label() == "_ideal" for ax in axes.ravel() for line in ax.get_lines())
    extra_handles = [h for h in extra_handles if has_ideal or "ideal" not in h.get_label()]
    for ax in axes.ravel():
        for h, lab in zip(*ax.get_legend_handles_labels()):
            if lab not in labels and not lab.startswith("_"):
                handles.append(h)
                labels.append(lab)
    order = sorted(range(len(labels)), key=lambda i: (cr.model_rank(labels[i].split(" ")[0]),
                                                       i))
    handles = [handles[i] for i in order]
    labels = [labels[i] for i in order]
    for h in extra_handles:
        handles.append(h)
        labels.append(h.get_label())
    if handles:
        fig.legend(handles, labels, loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize=9,
                   frameon=False)


def ideal_handle():
    return matplotlib.lines.Line2D([], [], color="#777777", linestyle=(0, (1, 1.5)), linewidth=1.4,
                                   label="ideal of that model (dotted)")


# --- charts ----------------------------------------------------------------------------------

def chart_time_vs_tasks(results: cr.Results, outdir: str) -> list[Chart]:
    charts = []
    for workload in results.workloads():
        benches = [b for b in results.ok() if b.workload == workload and "tasks" in b.args]
        series = cr.group(benches, lambda b: cr.series_of(b, exclude=("tasks",)))
        series = {k: v for k, v in series.items() if len({b.args["tasks"] for b in v}) >= 2}
        if not series:
            continue
        series, thinned = thin_series(series)
        benches = [b for v in series.values() for b in v]
        facets = cr.group(benches, lambda b: cr.facet_of(b, exclude=("tasks",)))
        style = Styler(series.keys())
        rows, cols = grid_for(len(facets))
        fig, axes = figure(rows, cols)
        for ax, (fkey, fbenches) in zip(axes.ravel(), sorted(facets.items())):
            for skey, sb in sorted(cr.group(fbenches, lambda b: cr.series_of(
                    b, exclude=("tasks",))).items(), key=lambda kv: (cr.model_rank(kv[0][0]),
                                                                     kv[0][1:])):
                sb = sorted(sb, key=lambda b: b.args["tasks"])
                x = [b.args["tasks"] for b in sb]
                t = [b.time_s() for b in sb]
                st = style(skey)
                ax.errorbar(x, [s.mean for s in t], yerr=[s.sd for s in t], capsize=2,
                            label=cr.series_label(skey), linewidth=1.6, markersize=4, **st)
                ideal = [b.counter("ideal_s") for b in sb]
                if all(i is not None and i.mean > 0 for i in ideal):
                    ax.plot(x, [i.mean for i in ideal], color=st["color"], linestyle=(0, (1, 1.5)),
                            linewidth=1.4, label="_ideal")
            log_axis(ax, "x")
            log_axis(ax, "y")
            integer_log_ticks(ax, [b.args["tasks"] for b in fbenches])
            format_log_axis(ax, "y", seconds_formatter())
            verdict = _verdict(fbenches, "tasks", lambda b: cr.series_of(b, exclude=("tasks",)))
            caption(ax, verdict)
            ax.set_xlabel("tasks per batch (log scale)")
            ax.set_ylabel("wall time per batch (log scale)")
            ax.set_title(cr.facet_label(fkey), fontsize=10)
            ax.grid(True, which="major", alpha=0.3)
        hide_unused(axes, len(facets))
        legend_right(fig, axes, [ideal_handle()])
        title = f"Wall time vs number of tasks — {workload_title(workload)}"
        finish(fig, title, "Lower is better. A line that stays flat as tasks grow runs them "
               "concurrently; one that climbs with slope 1 runs them one after another.",
               " ".join(x for x in (thinned, dropped_note(results, {workload})) if x))
        fn = f"time_vs_tasks_{workload}.png"
        save(fig, os.path.join(outdir, fn))
        charts.append(Chart(title, fn))
    if not charts:
        charts.append(Chart("Wall time vs number of tasks", reason="no model was run at two or "
                            "more task counts with the same other arguments"))
    return charts


MAX_SERIES_PER_MODEL = 4


def thin_series(series: dict) -> tuple[dict, str]:
    """Keeps at most MAX_SERIES_PER_MODEL lines per model (smallest, largest and evenly spaced
    between, e.g. workers 1, 4, 16, 64 of 1…64) so that a panel stays readable; says what it
    left out."""
    by_model: dict = {}
    for key in sorted(series, key=lambda k: (cr.model_rank(k[0]), k[1:])):
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


def caption(ax, text: str):
    """A short verdict under a panel's x label (inside the panel it would hide the lines)."""
    if text:
        ax.text(0.0, -0.2, text, transform=ax.transAxes, va="top", ha="left", fontsize=8,
                color="#222222", bbox=dict(facecolor="#f4f4f4", edgecolor="#dddddd"))


def _verdict(benches, xkey, skey_of, value=None, fmt=cr.format_seconds,
             words=("fastest", "slowest")) -> str:
    """'at 256 tasks: fastest async 1.2 ms; slowest sync 260 ms (220× the fastest)' at the x
    that the most series share (the largest such x)."""
    value = value or (lambda b: b.time_s().mean)
    by_x = cr.group(benches, lambda b: b.args[xkey])
    for x in sorted(by_x, key=lambda x: (len({skey_of(b) for b in by_x[x]}), x), reverse=True):
        pts = {}
        for b in by_x[x]:
            v = value(b)
            if v is not None and v > 0:
                pts[skey_of(b)] = v
        if len(pts) < 2:
            continue
        low = min(pts, key=pts.get)
        high = max(pts, key=pts.get)
        ratio = pts[high] / pts[low]
        return (f"at {cr.format_arg(xkey, x)}:\n{words[0]} {cr.series_label(low)}: "
                f"{fmt(pts[low])}\n{words[1]} {cr.series_label(high)}: "
                f"{fmt(pts[high])} ({ratio:,.1f}× the {words[0]})")
    return ""


def _baseline(results, workload, fkey):
    args = dict(fkey)
    found = [b for b in results.find("sync", workload, args) if set(b.args) == set(args)]
    return found[0] if found else None


def chart_speedup_vs_workers(results: cr.Results, outdir: str) -> list[Chart]:
    charts = []
    cores = results.context.get("usable_cores")
    for workload in results.workloads():
        benches = [b for b in results.ok() if b.workload == workload and "workers" in b.args]
        fkey_of = lambda b: cr.facet_of(b, exclude=("workers",)) + (  # noqa: E731
            (("tasks", b.args["tasks"]),) if "tasks" in b.args else ())
        skey_of = lambda b: cr.series_of(b, exclude=("workers", "tasks"))  # noqa: E731
        series = cr.group(benches, lambda b: (fkey_of(b), skey_of(b)))
        series = {k: v for k, v in series.items() if len({b.args["workers"] for b in v}) >= 2}
        if not series:
            continue
        facets: dict = {}
        for (fkey, skey), sb in series.items():
            facets.setdefault(fkey, {})[skey] = sb
        reduced = ""
        if len(facets) > 4:
            # Too many panels to read: per kind of task, keep the task count run with the most
            # models (then the largest), where the workers matter most.
            keep = {}
            for fkey, fs in facets.items():
                size = tuple(kv for kv in fkey if kv[0] != "tasks")
                tasks = dict(fkey).get("tasks", 0)
                rank = (len(fs), tasks)
                if size not in keep or rank > keep[size][0]:
                    keep[size] = (rank, fkey)
            dropped = len(facets) - len(keep)
            facets = {fk: facets[fk] for _, fk in keep.values()}
            reduced = (f"Showing, per kind of task, the task count run with the most models; "
                       f"{dropped} other panel(s) are in the tables of report.md.")
        style = Styler({s for f in facets.values() for s in f})
        rows, cols = grid_for(len(facets))
        fig, axes = figure(rows, cols)
        for ax, (fkey, fseries) in zip(axes.ravel(), sorted(facets.items())):
            base = _baseline(results, workload, fkey)
            ymax = 1.0
            for skey, sb in sorted(fseries.items(), key=lambda kv: (cr.model_rank(kv[0][0]),
                                                                     kv[0][1:])):
                sb = sorted(sb, key=lambda b: b.args["workers"])
                ref = base if base is not None else sb[0]
                rt = ref.time_s()
                x = [b.args["workers"] for b in sb]
                y, err = [], []
                for b in sb:
                    t = b.time_s()
                    s = rt.mean / t.mean
                    y.append(s)
                    err.append(s * math.hypot(rt.sd / rt.mean, t.sd / t.mean))
                st = style(skey)
                ax.errorbar(x, y, yerr=err, capsize=2, label=cr.series_label(skey),
                            linewidth=1.6, markersize=4, **st)
                ymax = max(ymax, max(y))
                # The speed-up if the baseline and this model both reached their ideals.
                ref_ideal = ref.counter("ideal_s")
                ideals = [b.counter("ideal_s") for b in sb]
                if ref_ideal and all(i is not None and i.mean > 0 for i in ideals):
                    iy = [ref_ideal.mean / i.mean for i in ideals]
                    ax.plot(x, iy, color=st["color"], linestyle=(0, (1, 1.5)), linewidth=1.4,
                            label="_ideal")
                    ymax = max(ymax, max(iy))
            ax.axhline(1.0, color="#999999", linewidth=0.8)
            if cores and str(cores).isdigit() and workload not in ("sleep", "echo"):
                ax.axvline(int(cores), color="#999999", linewidth=0.8, linestyle="--")
                ax.text(int(cores), ymax * 1.05, f" {cores} usable cores", fontsize=8,
                        color="#555555", va="top")
            log_axis(ax, "x", base=2)
            integer_log_ticks(ax, [b.args["workers"] for f in fseries.values() for b in f])
            ax.set_ylim(0, ymax * 1.12)
            ax.set_xlabel("workers (threads or processes, log scale)")
            ax.set_ylabel("speed-up over sync (×)" if base is not None
                          else "speed-up over fewest workers (×)")
            ax.set_title(cr.facet_label(fkey), fontsize=10)
            ax.grid(True, alpha=0.3)
        hide_unused(axes, len(facets))
        legend_right(fig, axes, [ideal_handle()])
        title = f"Speed-up vs workers — {workload_title(workload)}"
        finish(fig, title, "Higher is better. Speed-up = the baseline's wall time / this run's; "
               "dotted: the speed-up if both reached their ideals. CPU work cannot go faster "
               "than the number of cores; sleeping tasks can.",
               " ".join(x for x in (reduced, dropped_note(results, {workload})) if x))
        fn = f"speedup_vs_workers_{workload}.png"
        save(fig, os.path.join(outdir, fn))
        charts.append(Chart(title, fn))
    if not charts:
        charts.append(Chart("Speed-up vs workers", reason="no model was run at two or more "
                            "worker counts with the same other arguments"))
    return charts


def _auto_y(ax, values):
    pos = [v for v in values if v > 0]
    if pos and min(values) > 0 and max(pos) / min(pos) > 20:
        log_axis(ax, "y")
        return "log scale"
    ax.set_ylim(min(0, min(values) * 1.1), max(values) * 1.12 if max(values) > 0 else 1)
    return None


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
                    ax_t.plot(x, [i.mean for i in ideal], color=colors[p],
                              linestyle=(0, (1, 1.5)), linewidth=1.4, label="_ideal")
                    times += [i.mean for i in ideal]
                if has_ipc:
                    m = [b.counter("ipc_messages") for b in pb]
                    pts = [(xi, mi.mean) for xi, mi in zip(x, m) if mi is not None]
                    if pts:
                        axes[1][ci].plot(*zip(*pts), marker="o", markersize=4, color=colors[p],
                                         label=lab)
            log_axis(ax_t, "x")
            integer_log_ticks(ax_t, [b.args["chunksize"] for b in fb])
            scale = _auto_y(ax_t, times)
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
                ax_m.yaxis.set_major_formatter(FuncFormatter(lambda v, _p: f"{v:,.0f}"))
                ax_m.set_ylabel("IPC messages per batch (log scale)")
                ax_m.set_xlabel("chunksize: tasks per message (log scale)")
                ax_m.grid(True, alpha=0.3)
        legend_right(fig, axes, [ideal_handle()])
        title = f"Chunksize trade-off — {model}/{workload}"
        finish(fig, title, "Small chunks: many messages (queue hand-offs for threads), each with a "
               "fixed cost. Large chunks: few messages, but workers left idle at the end (load "
               "imbalance). The best time sits between; the dotted ideal shows the imbalance "
               "alone.", dropped_note(results, {workload}))
        fn = f"chunksize_{model}_{workload}.png"
        save(fig, os.path.join(outdir, fn))
        charts.append(Chart(title, fn))
    if not charts:
        charts.append(Chart("Chunksize trade-off", reason="no model was run at two or more "
                            "chunksizes with the same other arguments"))
    return charts


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
        title = f"Overhead above the ideal, per task — {workload_title(workload)}"
        subtitle = ("Lower is better. Overhead per task = (measured wall time − the model's "
                    "ideal) / tasks: what the model itself costs for each task.")
        series = cr.group(benches, lambda b: cr.series_of(b, exclude=("tasks",)))
        multi = {k: v for k, v in series.items() if len({b.args["tasks"] for b in v}) >= 2}
        if multi:
            multi, thinned = thin_series(multi)
            fig, note = _overhead_lines(multi, workload)
            note = " ".join(x for x in (thinned, note) if x)
        else:
            fig, note = _overhead_bars(benches)
        finish(fig, title, subtitle, " ".join(x for x in (note, dropped_note(
            results, {workload})) if x))
        fn = f"overhead_per_task_{workload}.png"
        save(fig, os.path.join(outdir, fn))
        charts.append(Chart(title, fn))
    if not charts:
        charts.append(Chart("Overhead above the ideal, per task",
                            reason="no benchmark with a tasks argument reports overhead_s"))
    return charts


def _overhead_lines(series: dict, workload: str):
    benches = [b for v in series.values() for b in v]
    facets = cr.group(benches, lambda b: cr.facet_of(b, exclude=("tasks",)))
    style = Styler(series.keys())
    rows, cols = grid_for(len(facets))
    fig, axes = figure(rows, cols)
    hidden = 0
    for ax, (fkey, fb) in zip(axes.ravel(), sorted(facets.items())):
        vals = [_per_task_overhead(b).mean for b in fb]
        pos = [v for v in vals if v > 0]
        use_log = bool(pos) and max(pos) / min(pos) > 30
        for skey, sb in sorted(cr.group(fb, lambda b: cr.series_of(b, exclude=("tasks",)))
                               .items(), key=lambda kv: (cr.model_rank(kv[0][0]), kv[0][1:])):
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
    hide_unused(axes, len(facets))
    legend_right(fig, axes)
    note = f"{hidden} point(s) at or below the ideal (measurement noise) are not on the log " \
           "axis." if hidden else ""
    return fig, note


def _overhead_bars(benches):
    order = sorted(benches, key=lambda b: (cr.model_rank(b.model_full), cr.facet_of(b),
                                           tuple(b.args.items())))
    vals = [_per_task_overhead(b) for b in order]
    fig, ax = plt.subplots(figsize=(9.5, 0.42 * len(order) + 2.0))
    style = Styler({cr.series_of(b, exclude=("tasks",)) for b in order})
    ys = list(range(len(order)))[::-1]
    means = [v.mean for v in vals]
    pos = [m for m in means if m > 0]
    use_log = bool(pos) and max(pos) / min(pos) > 100
    shown = [m if (m > 0 or not use_log) else 0 for m in means]
    errs = [v.sd if (v.mean > 0 or not use_log) else 0 for v in vals]
    bars = ax.barh(ys, shown, xerr=errs, capsize=2, color=[
        style(cr.series_of(b, exclude=("tasks",)))["color"] for b in order])
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
    if not any(len({b.args["tasks"] for b in v}) >= 2 for v in series.values()):
        fig = _memory_bars(benches)
        finish(fig, title, subtitle, dropped_note(results))
        fn = "memory_per_task.png"
        save(fig, os.path.join(outdir, fn))
        return [Chart(title, fn)]
    style = Styler(series.keys())
    fig, axes = figure(1, 1, w=7.5, h=4.6)
    ax = axes[0][0]
    hidden = 0
    for skey, sb in sorted(series.items(), key=lambda kv: (cr.model_rank(kv[0][0]), kv[0][1:])):
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
                        marker=st["marker"], linestyle=MEMORY_STYLES[suffix], markersize=4,
                        label=f"{_memory_label(skey)} ({suffix})")
    log_axis(ax, "x")
    log_axis(ax, "y")
    integer_log_ticks(ax, [b.args["tasks"] for b in benches])
    format_log_axis(ax, "y", FuncFormatter(lambda v, _p: f"{v:g} KiB" if v < 1 else _kib(v)))

    def best(b):
        vals = memory_values(b)
        return vals[0][1].mean if vals else None
    verdict = _verdict(benches, "tasks", lambda b: _memory_series(b)[:-1], value=best,
                       fmt=_kib, words=("least", "most"))
    caption(ax, verdict + "\n(PSS where the family reports it, else RSS)"
            if verdict else "")
    ax.set_xlabel("tasks alive at once (log scale)")
    ax.set_ylabel("memory per task (log scale)")
    ax.grid(True, which="major", alpha=0.3)
    legend_right(fig, axes)
    note = f"{hidden} value(s) of 0 or less are not on the log axis." if hidden else ""
    finish(fig, title, subtitle, " ".join(x for x in (note, dropped_note(results)) if x))
    fn = "memory_per_task.png"
    save(fig, os.path.join(outdir, fn))
    return [Chart(title, fn)]


def _memory_bars(benches):
    rows = []
    for b in sorted(benches, key=lambda b: (cr.model_rank(b.model_full), b.order)):
        for suffix, s in memory_values(b):
            rows.append((b, suffix, s))
    fig, ax = plt.subplots(figsize=(9.5, 0.42 * len(rows) + 2.0))
    style = Styler({cr.series_of(b, exclude=("tasks",)) for b, _, _ in rows})
    ys = list(range(len(rows)))[::-1]
    bars = ax.barh(ys, [s.mean for _, _, s in rows], xerr=[s.sd for _, _, s in rows], capsize=2,
                   color=[style(cr.series_of(b, exclude=("tasks",)))["color"] for b, _, _ in rows])
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
    ax.xaxis.set_major_formatter(FuncFormatter(_kib))
    left = ax.get_xlim()[0]
    for bar, (_, _, s) in zip(bars, rows):
        x = s.mean + s.sd if s.mean > 0 else left
        ax.annotate(_kib(s.mean) if s.mean > 0 else "0 (nothing measurable)",
                    (x, bar.get_y() + bar.get_height() / 2), xytext=(4, 0),
                    textcoords="offset points", va="center", fontsize=8)
    ax.grid(True, axis="x", alpha=0.3)
    return fig


def _kib(v, _pos=None):
    if v >= 1024:
        return f"{v / 1024:.3g} MiB"
    if v >= 10:
        return f"{v:,.0f} KiB"
    if v >= 1:
        return f"{v:.3g} KiB"
    return f"{v * 1024:.3g} B"


def chart_notebook(results: cr.Results, outdir: str) -> list[Chart]:
    title = "The notebook's cells: Python (as printed) vs concbench's C++"
    matches = notebook_matches(results)
    if not any(b for _, b in matches):
        return [Chart(title, reason="none of the notebook's cells has a matching benchmark "
                      "(run the notebook suite: scripts/run)")]
    n = len(matches)
    fig, ax = plt.subplots(figsize=(11, 0.62 * n + 1.8))
    h = 0.38
    py_vals, cc_vals, missing = [], [], []
    for i, (cell, b) in enumerate(matches):
        y = n - 1 - i
        py = cell[2]
        py_vals.append(py)
        ax.barh(y + h / 2, py, height=h, color="#f2b134")
        ax.annotate(cr.format_seconds(py), (py, y + h / 2), xytext=(4, 0),
                    textcoords="offset points", va="center", fontsize=8)
        if b is None:
            missing.append(y)
            continue
        t = b.time_s()
        cc_vals.append(t.mean)
        ax.barh(y - h / 2, t.mean, height=h, xerr=t.sd if t.sd else None, capsize=2,
                color=BASE_COLORS.get(b.model, "#1f77b4"))
        ratio = py / t.mean if t.mean > 0 else float("inf")
        txt = cr.format_seconds(t.mean)
        if ratio >= 1.5:
            txt += f"   ({ratio:,.0f}× faster)" if ratio >= 10 else f"   ({ratio:.1f}× faster)"
        elif ratio < 0.67:
            txt += f"   ({1 / ratio:.1f}× slower)"
        ax.annotate(txt, (t.mean + t.sd, y - h / 2), xytext=(4, 0), textcoords="offset points",
                    va="center", fontsize=8)
    ax.set_yticks(range(n))
    ax.set_yticklabels([f"§{c[0]}  {c[1]}" for c, _ in matches][::-1], fontsize=9)
    log_axis(ax, "x")
    lo = min(py_vals + cc_vals)
    hi = max(py_vals + cc_vals)
    ax.set_xlim(lo / 3, hi * 12)
    for y in missing:
        ax.annotate("C++: not in these results", (lo / 3, y - h / 2), xytext=(4, 0),
                    textcoords="offset points", va="center", fontsize=8, color="#777777",
                    style="italic")
    ax.xaxis.set_major_locator(LogLocator(base=10))
    ax.xaxis.set_major_formatter(seconds_formatter())
    ax.set_xlabel("wall time of the cell (log scale; shorter is faster)")
    ax.grid(True, axis="x", alpha=0.3)
    present = []
    for _, b in matches:
        if b is not None and b.model not in present:
            present.append(b.model)
    patches = [matplotlib.patches.Patch(color="#f2b134",
                                        label="Python: the notebook's printed time")]
    patches += [matplotlib.patches.Patch(color=BASE_COLORS.get(m, "#1f77b4"),
                                         label=f"concbench C++, {m} (mean ± sd)") for m in present]
    ax.legend(handles=patches, loc="lower right", fontsize=8)
    finish(fig, title, "Each row is one notebook cell, with the same work in C++. Sleep-bound "
           "cells take as long in both (the sleeps dominate); CPU-bound cells show the "
           "interpreter's cost.", dropped_note(results))
    fn = "notebook.png"
    save(fig, os.path.join(outdir, fn))
    return [Chart(title, fn)]


CHARTS = (chart_notebook, chart_time_vs_tasks, chart_speedup_vs_workers, chart_chunksize,
          chart_overhead_per_task, chart_memory_per_task)


def make_charts(results: cr.Results, outdir: str) -> list[Chart]:
    """Draws every chart the results have data for. A chart that fails with an unexpected error
    (a bug) does not stop the others: it comes back with `error` set."""
    out = []
    with plt.rc_context({"font.size": 9, "axes.titlesize": 10, "figure.dpi": DPI}):
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
    p.add_argument("results", help="a results.json (or a results folder holding one)")
    p.add_argument("-o", "--output", help="folder for the PNGs (default: next to the JSON)")
    return p


def main(argv=None) -> int:
    args = create_parser().parse_args(argv)
    try:
        results = cr.load(args.results)
        outdir = args.output or os.path.dirname(os.path.abspath(results.path))
        os.makedirs(outdir, exist_ok=True)
        charts = make_charts(results, outdir)
    except cr.ResultsError as e:
        print(f"fatal: {e}", file=sys.stderr)
        return 2
    except OSError as e:
        print(f"fatal: cannot write charts: {e}", file=sys.stderr)
        return 2
    for c in charts:
        if c.filename:
            print(os.path.join(outdir, c.filename))
        else:
            print(f"{'error' if c.error else 'skipped'}: {c.title}: {c.reason}", file=sys.stderr)
    return 1 if any(c.error for c in charts) else 0


if __name__ == "__main__":
    sys.exit(main())
