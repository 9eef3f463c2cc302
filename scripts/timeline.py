"""Timeline charts from traces: every task of a benchmark's traced batch as a bar on the lane that
ran it (a thread, a worker process, one task on an event loop), C++ above the notebook's Python.

    scripts/plot results/<run>/results.json      # + timelines/<cell id>.png for every notebook
                                                 #   cell, when trace.json / python_trace.json
                                                 #   lie beside it (scripts/run writes them)
    scripts/plot trace.json [python_trace.json] -o DIR   # one chart per traced benchmark

A chart per notebook cell (the cell table says which C++ benchmark and which Python twin it has;
traces are matched by name without Google Benchmark's iterations:N and real_time): its title
asks the cell's question, the line under it answers from the traces (how many tasks ran at
once, on what, after how long a start-up, done when, against the ideal). Both panels share one
time scale from their batch's start; when one side is over ten times shorter, it is drawn again
on its own scale below. Tasks are bars (two tones, so adjacent ones stay apart), steps inner
bars (compute solid, waits hatched), the model's own events marks (the pool's start-up and
shut-down, chunks sent and results in, GIL waits), the timed batch a grey bar on top and the
ideal a dashed line. At most MAX_LANES lanes a panel; the rest are counted on the last row.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass

import matplotlib.colors as mcolors
import matplotlib.lines
import matplotlib.patches
import matplotlib.pyplot as plt
from matplotlib.legend_handler import HandlerTuple
from matplotlib.ticker import MaxNLocator

import concbench_results as cr
import trace_read as tr
from chart_style import base_color, finish, save, seconds_formatter

# In a results folder: the C++ trace (concbench --trace) and the Python one (notebook_python.py).
CPP_TRACE, PYTHON_TRACE = "trace.json", "python_trace.json"
TIMELINE_DIR = "timelines"
INDEX = "index.md"
MAX_LANES = 8          # lanes drawn a panel; past it, the last row counts the others
ZOOM_BELOW = 0.1       # a side shorter than this share of the other is drawn again on its own
GAP_SHARE = 0.1        # a gap before the first task worth naming: this share of the batch
TAIL_SHARE = 0.15      # a worker idle at the end worth naming
GIL_SHARE = 0.6        # Python threads on the CPU less than this share of their span: the GIL
CPU_TEXT_PX = 70       # a task bar this wide (pixels) says the share of its span on the CPU
IDEAL_STYLE = dict(color="#222222", linestyle=(0, (4, 2)), linewidth=1.3)
POOL_COLOR, GIL_COLOR, EVENT_COLOR, BATCH_COLOR = "#9a9a9a", "#d62728", "#333333", "#d9d9d9"
# Instants drawn as marks: (name prefix, marker, legend label); the first two share an entry.
MARKS = (("chunk sent", ">", "chunk sent ▷ / results in ◁"),
         ("step sent", ">", "chunk sent ▷ / results in ◁"),
         ("results in", "<", "chunk sent ▷ / results in ◁"),
         ("result in", "<", "chunk sent ▷ / results in ◁"),
         ("forked", "v", "worker forked ▽"),
         ("error", "X", "error ✕"),
         ("run stopped", "X", "error ✕"))


@dataclass
class Side:
    """One language's traced batch of a cell."""
    lang: str                 # "C++" or "Python"
    process: tr.Process
    summary: tr.Summary


@dataclass
class CellTimeline:
    """A cell's timeline (or, for a bare trace, one benchmark's): id for the file name, the
    title's subject, the question, and its sides, C++ first."""
    id: str
    subject: str
    question: str
    sides: list
    section: str | None = None
    missing: str | None = None   # why a cell has one side only

    @property
    def filename(self) -> str:
        return f"{TIMELINE_DIR}/{re.sub(r'[^A-Za-z0-9._-]+', '_', self.id)}.png"


# --- matching traces to cells --------------------------------------------------------------------

def load_folder(folder: str) -> tuple[list, list]:
    """The traced benchmarks of a results folder: (C++, Python), [] for a trace that is absent.
    A trace that cannot be read raises tr.TraceError."""
    out = []
    for name in (CPP_TRACE, PYTHON_TRACE):
        path = os.path.join(folder, name)
        out.append(tr.processes(tr.load(path)) if os.path.isfile(path) else [])
    return out[0], out[1]


def _matches(p: tr.Process, model: str | None, cell: cr.Cell) -> bool:
    parsed = p.parsed
    return (model is not None and parsed is not None and parsed.model_full == model
            and parsed.workload == cell.workload and set(parsed.args) == set(cell.args)
            and all(parsed.args[k] == v for k, v in cell.fixed_args.items()))


def side_of(p: tr.Process | None) -> Side | None:
    return Side(p.lang, p, tr.summarize(p)) if p is not None and p.tasks else None


def question(kind: str | None, tasks: int | None) -> str:
    """The question a timeline answers, by the kind of work (the table of workloads')."""
    n = f"{tasks:,} " if tasks else ""
    if tasks == 1:
        return "Where does its time go?"
    if kind == cr.IO_BOUND:
        return f"Do its {n}waits overlap, and on what?"
    if kind == cr.CPU_BOUND:
        return f"Do its {n}computations run side by side, and on what?"
    return f"Do its {n}tasks run at the same time, and on what?"


def cell_timelines(results: cr.Results, cpp: list, python: list) -> list[CellTimeline]:
    """One timeline per cell of the results' table that has a traced C++ or Python batch."""
    out = []
    for cell in cr.cells_of(results.table("cells")):
        sides = [side_of(next((p for p in procs if _matches(p, model, cell)), None))
                 for procs, model in ((cpp, cell.model), (python, cell.python))]
        missing = None
        if sides[0] is None:
            runs = results.models.rows.get(cell.model, {}).get("steps")
            missing = (f"C++'s {cell.model}/{cell.workload} runs no tasks to trace" if runs == []
                       else "no C++ trace of it")
        elif sides[1] is None:
            missing = "no Python twin" if cell.python is None else "no Python trace of it"
        sides = [s for s in sides if s is not None]
        if sides:
            tasks = cell.args.get("tasks", cell.args.get("threads"))
            out.append(CellTimeline(cell.id, f"§{cell.section} {cell.label}",
                                    question(results.workload_table.kind(cell.workload), tasks),
                                    sides, cell.section, missing))
    return out


def trace_timelines(procs: list) -> list[CellTimeline]:
    """One timeline per traced benchmark of bare traces; a Python benchmark goes under the C++
    one of the same name (its model without `python.`, the same arguments)."""
    keyed = {}
    for p in procs:
        parsed = p.parsed
        key = (cr.split_lang(parsed.model_full)[1], parsed.workload,
               tuple(parsed.args.items())) if parsed else ("?", p.name, ())
        keyed.setdefault(key, []).append(p)
    out = []
    for (model, workload, args), group in keyed.items():
        group.sort(key=lambda p: p.lang != "C++")
        sides = [s for s in map(side_of, group) if s is not None]
        if sides:
            subject = f"{model}/{workload}" + (f" ({cr.format_args(dict(args))})" if args else "")
            key = "/".join([model, workload] + [f"{k}:{v}" for k, v in args])
            out.append(CellTimeline(key, subject, question(None, dict(args).get("tasks")), sides))
    return out


# --- what a timeline says ------------------------------------------------------------------------

fmt = cr.format_seconds


def _plural(n: int, word: str, many: str | None = None) -> str:
    return f"{n:,} {word if n == 1 else (many or word + 's')}"


def where(s: tr.Summary) -> str:
    if s.lane_kind == "loop":
        return "on one thread (the event loop)"
    if s.lane_kind == "worker":
        return "on " + ("one worker process" if s.lanes == 1
                        else _plural(s.lanes, "worker process", "worker processes"))
    if s.lane_kind == "thread":
        return "on one thread" if s.lanes == 1 else f"on {s.lanes:,} threads"
    return f"on {s.lanes:,} threads and processes"


def at_once(s: tr.Summary) -> str:
    if s.tasks == 1:
        return "1 task"
    if s.max_overlap <= 1:
        return f"{s.tasks:,} tasks one at a time"
    if s.max_overlap == s.tasks:
        return "both tasks at once" if s.tasks == 2 else f"all {s.tasks:,} tasks at once"
    return f"{s.tasks:,} tasks, {s.max_overlap:,} at once"


def gil_share(s: tr.Summary) -> float | None:
    """The CPU share of Python threads computing side by side when it is low (the GIL)."""
    if s.cpu_share is not None and s.wait_s == 0 and s.lane_kind == "thread" \
            and s.max_overlap > 1 and s.cpu_share < GIL_SHARE:
        return s.cpu_share
    return None


def extras(s: tr.Summary) -> list[str]:
    """What else the batch shows: a start-up before the first task, GIL waits, an idle end."""
    out = []
    span = s.span_s or 1e-12
    if s.first_gap_s > GAP_SHARE * span:
        out.append(f"the first starting after {gap_text(s)}")
    if s.gil_wait_s > 0.05 * span:
        out.append(f"{fmt(s.gil_wait_s)} of GIL waits across its threads")
    share = gil_share(s)
    if share is not None:
        out.append(f"each on the CPU {share:.0%} of its span (the GIL)")
    if s.lanes > 1 and s.idle_tail_s > TAIL_SHARE * span and s.lane_kind == "worker":
        out.append(f"one worker idle for the last {fmt(s.idle_tail_s)}")
    return out


def gap_text(s: tr.Summary) -> str:
    """'9.25 ms (2.04 ms of it starting the pool)', '7.05 ms of pool start-up': the time
    before the first task."""
    if s.startup_s <= 0:
        return fmt(s.first_gap_s)
    if s.startup_s >= 0.8 * s.first_gap_s:
        return f"{fmt(s.first_gap_s)} of pool start-up"
    return f"{fmt(s.first_gap_s)} ({fmt(s.startup_s)} of it starting the pool)"


def done(s: tr.Summary) -> str:
    t = s.measured_s if s.measured_s is not None else s.span_s
    return f"done in {fmt(t)}" + (f" (ideal {fmt(s.ideal_s)})" if s.ideal_s else "")


def running(s: tr.Summary) -> str:
    """'all 4 tasks at once on 4 threads, but computing one at a time'."""
    out = f"{at_once(s)} {where(s)}"
    if s.max_computing is not None and 1 < s.max_overlap and s.max_computing < s.max_overlap:
        out += f", but computing {'one' if s.max_computing == 1 else s.max_computing} at a time"
    return out


def phrase(s: tr.Summary) -> str:
    return ", ".join([running(s)] + extras(s))


def answer(ct: CellTimeline) -> str:
    """One line: each side's tasks at once, lanes, start-up, GIL and end, against the ideal."""
    parts = []
    for i, side in enumerate(ct.sides):
        s = side.summary
        if i and phrase(s) == phrase(ct.sides[0].summary):
            parts.append(f"{side.lang}: the same, {done(s).removeprefix('done in ')}")
        else:
            parts.append(f"{side.lang}: {phrase(s)}, {done(s)}")
    if ct.missing:
        parts.append(ct.missing)
    return "; ".join(parts) + "."


def times(by: dict) -> str:
    """'501 ms in C++ and 503 ms in Python (ideal 500 ms)': one ideal shared by both sides
    goes at the end, else each side's beside it."""
    ideals = [s.ideal_s for s in by.values()]
    shared = ideals[0] if len(set(ideals)) == 1 and ideals[0] else None
    text = " and ".join(
        fmt(s.measured_s if s.measured_s is not None else s.span_s)
        + (f" in {lang}" if len(by) > 1 else "")
        + (f" (ideal {fmt(s.ideal_s)})" if s.ideal_s and not shared else "")
        for lang, s in by.items())
    return text + (f" (ideal {fmt(shared)})" if shared else "")


def look(ct: CellTimeline) -> str:
    """The sentence that says what to look at in the chart, from the traces."""
    by = {s.lang: s.summary for s in ct.sides}
    out = []
    py = by.get("Python")
    if py is not None and gil_share(py) is not None:
        out.append(f"Look at Python's {py.lanes} threads: they overlap, yet each is on the CPU "
                   f"only {gil_share(py):.0%} of its span, since the GIL runs one at a time"
                   + (f"; C++{' (its emulated GIL)' if by['C++'].gil_wait_s > 0 else ''} runs "
                      f"{running(by['C++'])}" if "C++" in by else "") + ".")
    gaps = [(lang, s) for lang, s in by.items()
            if s.startup_s > 0 and s.first_gap_s > GAP_SHARE * (s.span_s or 1e-12)]
    if gaps:
        out.append("Look at the gap before the first task, where the pool starts: " + "; ".join(
            f"{gap_text(s).replace(' of pool start-up', '')} in {lang}, "
            f"{s.first_gap_s / s.span_s:.0%} of its batch" for lang, s in gaps) + ".")
    tails = [(lang, s) for lang, s in by.items()
             if s.lanes > 1 and s.idle_tail_s > TAIL_SHARE * (s.span_s or 1e-12)
             and s.lane_kind == "worker"]
    if tails:
        out.append("Look at the end: " + " and ".join(
            f"in {lang} a worker sits idle for the last {fmt(s.idle_tail_s)}"
            for lang, s in tails) + " while the other finishes its tasks.")
    if not out:
        first = next(iter(by.values()))
        if first.tasks <= 1:
            out.append(f"One task: the batch is that task, {times(by)}.")
        elif all(s.max_overlap <= 1 for s in by.values()):
            out.append(f"Look at the bars following one another: one task at a time, so the "
                       f"batch takes the sum of its tasks, {times(by)}.")
        else:
            out.append(f"Look at the bars lying side by side: {running(first)}, "
                       f"so the batch takes about one task's time, {times(by)}.")
    return " ".join(out[:2])


# --- drawing -------------------------------------------------------------------------------------

def lane_label(lane: tr.Lane, n: int) -> str:
    """'thread 2 (tid 14710)', 'worker 1 (pid 15113)', 'loop: task 3', 'main thread'."""
    if lane.kind == "main":
        return "main thread"
    if lane.kind == "loop":
        m = re.match(r"task (\d+)", lane.name)
        return f"loop: task {m.group(1)}" if m else lane.name
    if lane.kind == "worker":
        return f"worker {n} (pid {lane.unit})"
    return f"thread {n} (tid {lane.unit})"


def shown_lanes(p: tr.Process) -> tuple[list, str | None]:
    """The lanes drawn (lanes with tasks first kept in their order, at most MAX_LANES) and the
    label of the row that counts the others, or None."""
    lanes = p.lanes
    if len(lanes) <= MAX_LANES:
        return lanes, None
    keep = lanes[:MAX_LANES - 1]
    rest = {lane.tid for lane in lanes[MAX_LANES - 1:]}
    hidden = sum(1 for t in p.tasks if t.tid in rest)
    return keep, f"+{len(rest):,} more lanes ({_plural(hidden, 'task')})"


def tones(color) -> tuple:
    """The model's colour (steps), and two lighter tones for tasks side by side."""
    rgb = mcolors.to_rgb(color)
    return rgb, tuple(c + (1 - c) * 0.45 for c in rgb), tuple(c + (1 - c) * 0.7 for c in rgb)


TASK_LABEL, TASKS_LABEL = "task", "task (neighbours in two tones)"
WAIT_LABEL, COMPUTE_LABEL = "wait step (sleep, echo)", "compute step"
POOL_LABEL, GIL_LABEL = "pool start-up / shut-down", "waiting for the GIL"
IDEAL_LABEL = "ideal: the work alone on ideal cores (no start-up, no overhead)"


def proxies(color) -> dict:
    """The legend's entry for each label an artist of a panel can have."""
    dark, light, lighter = tones(color)
    patch = matplotlib.patches.Patch
    out = {TASK_LABEL: patch(facecolor=light),
           TASKS_LABEL: (patch(facecolor=light, edgecolor="white"),
                         patch(facecolor=lighter, edgecolor="white")),
           COMPUTE_LABEL: patch(facecolor=dark),
           WAIT_LABEL: patch(facecolor="white", edgecolor=dark, hatch="////"),
           POOL_LABEL: patch(facecolor="none", edgecolor=POOL_COLOR, hatch="xx"),
           GIL_LABEL: patch(facecolor=GIL_COLOR),
           IDEAL_LABEL: matplotlib.lines.Line2D([], [], **IDEAL_STYLE)}
    marks: dict[str, list] = {}
    for _, marker, label in MARKS:
        if marker not in marks.setdefault(label, []):
            marks[label].append(marker)
    for label, markers in marks.items():
        lines = tuple(matplotlib.lines.Line2D([], [], linestyle="none", marker=m, markersize=5,
                                              color=GIL_COLOR if m == "X" else EVENT_COLOR)
                      for m in markers)
        out[label] = lines if len(lines) > 1 else lines[0]
    out["other model event"] = matplotlib.lines.Line2D([], [], linestyle="none", marker=".",
                                                       color=EVENT_COLOR)
    return out


def draw_side(ax, side: Side, color, xmax: float, zoomed: bool = False) -> None:
    p = side.process
    lanes, more = shown_lanes(p)
    rows = {lane.tid: i + 1 for i, lane in enumerate(lanes)}
    counters: dict[str, int] = {}
    labels = ["timed batch"]
    for lane in lanes:
        counters[lane.kind] = counters.get(lane.kind, 0) + 1
        labels.append(lane_label(lane, counters[lane.kind]))
    if more:
        labels.append(more)
    n = len(labels)
    y = {tid: n - 1 - r for tid, r in rows.items()}   # the batch on top
    px = xmax / max(1.0, ax.get_window_extent().width)  # seconds a pixel
    batch_end = p.batch.dur if p.batch else side.summary.span_s
    ax.broken_barh([(0, batch_end)], (n - 1 - 0.18, 0.36), facecolors=BATCH_COLOR,
                   edgecolor="none", label="_batch")
    dark, light, lighter = tones(color)
    for tid, row in y.items():
        tasks = [t for t in p.tasks if t.tid == tid]
        if tasks:
            spans = [(t.t, max(t.dur, px)) for t in tasks]
            wide = sorted(t.dur for t in tasks)[len(tasks) // 2] > 4 * px
            ax.broken_barh(spans, (row - 0.36, 0.72),
                           facecolors=[light if i % 2 == 0 else lighter
                                       for i in range(len(spans))] if len(spans) > 1 else light,
                           edgecolor="white" if wide else "none", linewidth=0.6,
                           label=TASKS_LABEL if len(spans) > 1 else TASK_LABEL)
            for t in tasks:  # the CPU its thread got (Python records it), where it fits
                cpu = t.args.get("thread_cpu_us")
                if isinstance(cpu, (int, float)) and t.dur > CPU_TEXT_PX * px \
                        and not any(tr.is_wait(s.name) for s in p.steps if s.tid == tid):
                    ax.text(t.t + t.dur / 2, row, f"on CPU {min(1.0, cpu / 1e6 / t.dur):.0%}",
                            ha="center", va="center", fontsize=7, color="#222222")
        steps = [s for s in p.steps if s.tid == tid]
        for wait in (False, True):
            chosen = [(s.t, max(s.dur, px)) for s in steps if tr.is_wait(s.name) == wait]
            if chosen:
                ax.broken_barh(chosen, (row - 0.17, 0.34),
                               facecolors="white" if wait else dark, edgecolor=dark,
                               linewidth=0.5, hatch="////" if wait else None,
                               label=WAIT_LABEL if wait else COMPUTE_LABEL)
    for ev in p.model:
        row = y.get(ev.tid)
        if row is None:
            continue
        if not ev.instant:
            gil = ev.name in tr.GIL_WAITS
            ax.broken_barh([(ev.t, max(ev.dur, px))], (row - 0.45, 0.9),
                           facecolors=GIL_COLOR if gil else "none",
                           edgecolor=GIL_COLOR if gil else POOL_COLOR, linewidth=0.8,
                           hatch=None if gil else "xx",
                           label=GIL_LABEL if gil else POOL_LABEL)
            continue
        mark = next((m for m in MARKS if ev.name.startswith(m[0])), None)
        marker, label = (mark[1], mark[2]) if mark else (".", "other model event")
        ax.plot([ev.t], [row], linestyle="none", marker=marker, markersize=5,
                markeredgecolor="white", markeredgewidth=0.4,
                color=GIL_COLOR if marker == "X" else EVENT_COLOR, label=label)
    ideal = side.summary.ideal_s
    if ideal and ideal <= xmax:
        ax.axvline(ideal, label=IDEAL_LABEL, **IDEAL_STYLE)
    ax.set_ylim(-0.6, n - 0.4)
    ax.set_yticks(range(n))
    ax.set_yticklabels(labels[::-1], fontsize=8)
    ax.set_xlim(0, xmax)
    ax.xaxis.set_major_locator(MaxNLocator(nbins=8, min_n_ticks=3))
    ax.xaxis.set_major_formatter(seconds_formatter())
    ax.tick_params(axis="x", labelsize=8)
    ax.grid(True, axis="x", alpha=0.3)
    ax.set_axisbelow(True)
    for spine in ("top", "right"):
        ax.spines[spine].set_visible(False)
    parsed = p.parsed
    what = f"{parsed.model_full}/{parsed.workload}" if parsed else p.name
    ax.set_title(f"{side.lang}: {what}" + (" — on its own time scale" if zoomed else ""),
                 loc="left", fontsize=10, fontweight="bold")
    ax.set_title(done(side.summary) + (f", error: {side.summary.error}"
                                       if side.summary.error else ""), loc="right", fontsize=9)
    ax.set_xlabel("time from the start of the timed batch", fontsize=8)


def _rows(side: Side) -> int:
    lanes, more = shown_lanes(side.process)
    return len(lanes) + 1 + (1 if more else 0)


def draw(ct: CellTimeline, models: cr.Models, note: str = ""):
    """The cell's figure: one panel per side on one time scale, and a side ten times shorter
    than the other again on its own; the title block and one legend under the panels."""
    span = max(max(s.summary.span_s, max((t.end for t in s.process.tasks), default=0))
               for s in ct.sides) or 1e-6
    panels = [(s, span * 1.02, False) for s in ct.sides]
    panels += [(s, max(s.summary.span_s, max(t.end for t in s.process.tasks)) * 1.02, True)
               for s in ct.sides if len(ct.sides) > 1 and s.summary.span_s < ZOOM_BELOW * span]
    heights = [0.27 * _rows(s) + 0.3 for s, _, _ in panels]
    gap, legend_h = 0.85, 0.75   # inches: between panels (axis label, next title); the legend
    total = sum(heights) + gap * (len(panels) - 1) + legend_h + 0.55 + 1.25  # + title block
    fig, axes = plt.subplots(len(panels), 1, squeeze=False, figsize=(11, total),
                             gridspec_kw=dict(height_ratios=heights))
    fig.subplots_adjust(left=0.17, right=0.97, bottom=(legend_h + 0.55) / total,
                        hspace=gap / (sum(heights) / len(panels)))
    for ax, (side, xmax, zoomed) in zip(axes[:, 0], panels):
        draw_side(ax, side, base_color(models, side.process.parsed.model_full
                                       if side.process.parsed else side.process.name),
                  xmax, zoomed)
    legend(fig, axes[:, 0], proxies(base_color(models, ct.sides[0].process.parsed.model_full
                                               if ct.sides[0].process.parsed else "")))
    # A number and its unit stay on one line when the answer wraps.
    finish(fig, f"{ct.subject}: {ct.question}",
           re.sub(r"(\d) (s|ms|µs|ns)\b", "\\1\u00a0\\2", answer(ct)), note)
    return fig


def legend(fig, axes, entries: dict) -> None:
    """One legend under the panels: each label the panels' artists have, once, in the order of
    `entries` (label -> the legend's handle)."""
    used = {label for ax in axes for label in ax.get_legend_handles_labels()[1]}
    if TASKS_LABEL in used:  # one entry for tasks, the two-tone one when some lane needs it
        used.discard(TASK_LABEL)
    labels = [label for label in entries if label in used]
    if labels:
        fig.legend([entries[label] for label in labels], labels, loc="lower left",
                   bbox_to_anchor=(0.01, 0.0), ncol=3, fontsize=8, frameon=False,
                   handler_map={tuple: HandlerTuple(ndivide=None)})


# --- writing -------------------------------------------------------------------------------------

def write(cts: list, outdir: str, models: cr.Models, intro: str) -> list[tuple]:
    """Writes each timeline (outdir/timelines/<id>.png) and timelines/index.md; returns
    (title, filename, answer, look) per chart."""
    os.makedirs(os.path.join(outdir, TIMELINE_DIR), exist_ok=True)
    out = []
    for ct in cts:
        fig = draw(ct, models)
        save(fig, os.path.join(outdir, ct.filename))
        out.append((f"{ct.subject}: {ct.question}", ct.filename, answer(ct), look(ct)))
    lines = ["# Timelines", "", intro, ""]
    for title, filename, ans, what in out:
        name = os.path.basename(filename)
        lines += [f"## {title}", "", f"![{title}]({name})", "", ans, "", what, ""]
    cr.write_atomic(os.path.join(outdir, TIMELINE_DIR, INDEX), "\n".join(lines))
    return out


INTRO = ("Every task of one traced batch on the lane that ran it: a thread, a worker process, or "
         "one task on an event loop (tasks there interleave on one thread). The traced batch is "
         "one untimed run after the timed repetitions. Open the traces themselves in Perfetto UI "
         "(ui.perfetto.dev, Open trace file) or chrome://tracing.")


CELLS_TITLE = "Timelines of the notebook's cells"


def cell_charts(results: cr.Results, outdir: str) -> list[tuple]:
    """The notebook cells' timelines from the traces beside the results, written under outdir:
    (title, filename, None) per chart, or one (title, None, why not)."""
    try:
        cpp, python = load_folder(os.path.dirname(os.path.abspath(results.path)))
    except tr.TraceError as e:
        return [(CELLS_TITLE, None, str(e))]
    if not cpp and not python:
        return [(CELLS_TITLE, None, f"no {CPP_TRACE} or {PYTHON_TRACE} beside the results "
                 "(scripts/run traces the notebook suite; concbench --trace=PATH and "
                 "notebook_python.py --trace=PATH write them)")]
    cts = cell_timelines(results, cpp, python)
    if not cts:
        return [(CELLS_TITLE, None, "no traced benchmark is a notebook cell's (trace the "
                 "notebook suite: scripts/run)")]
    return [(title, filename, None) for title, filename, _, _ in
            write(cts, outdir, results.models, INTRO)]


def trace_charts(paths: list, outdir: str) -> list[tuple]:
    """One timeline per traced benchmark of the trace files (a Python one under its C++ twin),
    written under outdir: (title, filename, None) per chart, or one (title, None, why not)."""
    procs = [p for path in paths for p in tr.processes(tr.load(path))]
    cts = trace_timelines(procs)
    if not cts:
        return [("Timelines", None, "no traced benchmark with tasks in " + ", ".join(paths))]
    models = cr.Models([], [p.parsed.model_full for p in procs if p.parsed])
    return [(title, filename, None) for title, filename, _, _ in
            write(cts, outdir, models, INTRO)]


def report_section(results: cr.Results, drawn: set) -> list[str]:
    """report.md's timelines, by notebook section: each drawn chart (its filename in `drawn`)
    with the sentence that says what to look at."""
    try:
        cts = [ct for ct in cell_timelines(results, *load_folder(
            os.path.dirname(os.path.abspath(results.path)))) if ct.filename in drawn]
    except tr.TraceError:
        return []
    if not cts:
        return []
    out = ["## Timelines: every task of each cell, C++ above Python", "", INTRO + " Each chart "
           "has one time scale for both languages; a side ten times shorter than the other is "
           f"drawn again on its own scale below. All of them: [{TIMELINE_DIR}/{INDEX}]"
           f"({TIMELINE_DIR}/{INDEX}).", ""]
    section = None
    for ct in cts:
        if ct.section != section:
            section = ct.section
            out += [f"### §{section}", ""]
        out += [f"![{ct.subject}]({ct.filename})", "", f"**{ct.subject}.** {look(ct)}", ""]
    return out
