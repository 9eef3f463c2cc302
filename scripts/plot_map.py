"""The charts of scripts/map: the decision map (decision_map.png) and the crossovers
(crossover_<workload>.png), one function each, returning plot.Chart like plot.py's charts.

Each chart asks one question in its title and answers it, computed, in its subtitle; colours
come from the table of models (chart_style.Styler), the same model the same colour in every
panel; a panel has at most 6 series; every text stays inside the figure and apart from the
others (the map's cell labels shrink to fit their cell).
"""
from __future__ import annotations

import os
import textwrap

import matplotlib.colors as mcolors
import matplotlib.patches
import matplotlib.pyplot as plt
from matplotlib.ticker import FuncFormatter, NullFormatter

import concbench_results as cr
import decide
import stats
from chart_style import (RC, Styler, base_color, finish, format_log_axis, log_axis, save,
                         seconds_formatter)
from plot import Chart

MAX_SERIES = 6
CELL_W, CELL_H = 1.75, 0.82  # inches per map cell
LEGEND_W = 2.6               # inches right of the panels for the legend


def _text_color(rgb) -> str:
    r, g, b = mcolors.to_rgb(rgb)
    return "white" if 0.299 * r + 0.587 * g + 0.114 * b < 0.5 else "black"


def _fit(ax, text, width_px: float, fig) -> None:
    """Shrinks a cell's text until it fits `width_px` (and never below 6 pt)."""
    renderer = fig.canvas.get_renderer()
    while text.get_fontsize() > 6 and text.get_window_extent(renderer).width > width_px:
        text.set_fontsize(text.get_fontsize() - 0.5)


def _panel_title(lang: str, fixed: tuple) -> str:
    workload, *kv = fixed
    who = "concbench's C++" if lang == decide.CPP else "the notebook's Python"
    return f"{who} — {workload}, {cr.format_args(dict(kv))}"


def chart_decision_map(results: cr.Results, cells: list[decide.Cell], outdir: str,
                       headline: str) -> Chart:
    title = "Which model finishes first, for each mix of computing and waiting?"
    groups = []
    for lang in (decide.CPP, decide.PYTHON):
        groups += [(lang, fixed, by) for fixed, by in
                   decide.grid_groups(cells, lang).items()]
    if not groups or all(len(by) < 2 for _, _, by in groups):
        return Chart(title, reason="one point only: the ranked answer is in map.md")
    # A cell's colour is its fastest model's family (the table's hue of its base model: sync,
    # threads, processes, async), a tie's too, lighter and hatched; the cell names the model.
    # Seven shades of one hue could not be told apart; four hues can.
    winners = sorted({decide.short_model(c.winner.model) for c in cells if c.winner},
                     key=results.models.rank)
    color = {m: base_color(results.models, m) for m in winners}
    families = list(dict.fromkeys(results.models.base(m) for m in winners))
    ncols = max(len({k[1] for k in by}) for _, _, by in groups)
    nrows = [len({k[0] for k in by}) for _, _, by in groups]
    panel_w = CELL_W * ncols
    heights = [CELL_H * r for r in nrows]
    gap, top, bottom = 1.25, 1.3, 0.75
    fig_w = 1.3 + panel_w + LEGEND_W
    fig_h = top + sum(heights) + gap * (len(groups) - 1) + bottom
    with plt.rc_context(RC):
        fig = plt.figure(figsize=(fig_w, fig_h))
        y = fig_h - top
        legend_axes = []
        for (lang, fixed, by), h in zip(groups, heights):
            y -= h
            ax = fig.add_axes([1.15 / fig_w, y / fig_h, panel_w / fig_w, h / fig_h])
            y -= gap
            _draw_map_panel(fig, ax, lang, fixed, by, color)
            legend_axes.append(ax)
        handles = [matplotlib.patches.Patch(facecolor=base_color(results.models, f),
                                            edgecolor="white", label=f"{f} (any variant)")
                   for f in families]
        handles.append(matplotlib.patches.Patch(facecolor="#dddddd", hatch="///",
                                                edgecolor="#888888",
                                                label="tie: the U test cannot\nseparate the "
                                                      "best two,\nor they are < 1 % apart"))
        fig.legend(handles=handles, loc="upper left", fontsize=8, frameon=False,
                   bbox_to_anchor=((1.3 + panel_w) / fig_w, 1 - top / fig_h),
                   title="fastest model's family\n(the cell names the model;\nPython as its C++ twin)",
                   title_fontsize=8)
        fig.text(0.01, 0.1 / fig_h, textwrap.fill(
            "In each cell: the fastest model (lowest median over its repetitions), ×margin = "
            "runner-up's median ÷ the winner's, and the U test's p. Details, raced-out and "
            "failed models: map.md.", int(fig_w * 15)), fontsize=7.5, color="#444444",
            ha="left", va="bottom")
        _finish_fixed(fig, title, headline)
        save(fig, os.path.join(outdir, "decision_map.png"))
    return Chart(title, "decision_map.png")


def _finish_fixed(fig, title: str, subtitle: str) -> None:
    """finish() without moving the panels (their positions are in inches here)."""
    w, h = fig.get_size_inches()
    keep = [ax.get_position() for ax in fig.axes]
    finish(fig, title, subtitle)
    for ax, pos in zip(fig.axes, keep):
        ax.set_position(pos)


def _draw_map_panel(fig, ax, lang, fixed, by_cell, color) -> None:
    ios = sorted({k[0] for k in by_cell})
    cpus = sorted({k[1] for k in by_cell})
    ax.set_xlim(0, len(cpus))
    ax.set_ylim(0, len(ios))
    cell_px = CELL_W * fig.dpi * 0.94
    for (io, cpu), c in by_cell.items():
        x, y = cpus.index(cpu), ios.index(io)
        if c.winner is None:
            face, label, hatch = "#ffffff", "no result" + (f"\n{len(c.failed)} failed"
                                                            if c.failed else ""), None
        elif c.tie:
            m = decide.short_model(c.winner.model)
            face = tuple(v + (1 - v) * 0.55 for v in mcolors.to_rgb(color[m]))
            label = f"tie: {m}\n= {decide.short_model(c.runner_up.model)}\n" \
                    f"{_p_text(c)}"
            hatch = "///"
        else:
            m = decide.short_model(c.winner.model)
            face, hatch = color[m], None
            margin = c.margin()
            label = m + ("\n" + f"×{margin:.2f}  {_p_text(c)}" if margin else "\nonly one ran")
            if c.failed:
                label += f"\n{len(c.failed)} failed"
        ax.add_patch(matplotlib.patches.Rectangle((x, y), 1, 1, facecolor=face,
                                                  edgecolor="white", linewidth=2, hatch=hatch))
        t = ax.text(x + 0.5, y + 0.5, label, ha="center", va="center", fontsize=8.5,
                    color=_text_color(face), linespacing=1.15,
                    bbox=dict(facecolor=face, edgecolor="none", pad=1.0) if hatch else None)
        _fit(ax, t, cell_px, fig)
    ax.set_xticks([i + 0.5 for i in range(len(cpus))])
    ax.set_xticklabels([cr.format_seconds(c * 1e-6) for c in cpus])
    ax.set_yticks([i + 0.5 for i in range(len(ios))])
    ax.set_yticklabels([cr.format_seconds(i * 1e-3) for i in ios])
    ax.tick_params(length=0)
    for s in ax.spines.values():
        s.set_visible(False)
    ax.set_xlabel("CPU per step of a task (cpu_intensivo, calibrated)")
    ax.set_ylabel("wait per step (sleep)")
    ax.set_title(_panel_title(lang, fixed), fontsize=10, loc="left")


def _p_text(c: decide.Cell) -> str:
    p = c.p_value()
    return f"p = {stats.format_p(p)}" if p is not None else "no test"


# --- crossovers ------------------------------------------------------------------------------

def chart_crossover(results: cr.Results, workload: str, outdir: str, title: str,
                    per_task: bool, breakevens: dict, subtitle: str) -> Chart:
    """One panel per language: wall time (or time per task) against the workload's growing
    argument, log-log, one line per series, the break-evens as dashed verticals in the
    challenger's colour, listed under the panel."""
    axis, series = decide.crossover_series(results, workload)
    if axis is None:
        return Chart(title, reason=f"no {workload} run at 3 or more sizes")
    langs = [lang for lang in (decide.CPP, decide.PYTHON) if any(s.lang == lang for s in series)]
    keys = [(s.model,) + s.fixed for s in series]
    style = Styler(keys, results.models)
    with plt.rc_context(RC):
        fig, axes = plt.subplots(1, len(langs), figsize=(6.2 * len(langs) + 2.6, 6.6),
                                 squeeze=False)
        fig.subplots_adjust(left=0.07, right=1 - 2.6 / (6.2 * len(langs) + 2.6), wspace=0.28,
                            bottom=0.36)
        handles = {}
        for ax, lang in zip(axes[0], langs):
            mine = [s for s in series if s.lang == lang]
            if len(mine) > MAX_SERIES:
                mine = mine[:MAX_SERIES]
            xs_all = set()
            for s in mine:
                xs = sorted(s.points)
                xs_all.update(xs)
                ts = [s.points[x].time_s() for x in xs]
                div = [x if per_task else 1 for x in xs]
                st = style((s.model,) + s.fixed)
                line = ax.errorbar(xs, [t.mean / d for t, d in zip(ts, div)],
                                   yerr=[t.sd / d for t, d in zip(ts, div)], capsize=2,
                                   linewidth=1.6, markersize=4, label=s.label, **st)
                handles.setdefault(decide.short_model(s.label), line)
            log_axis(ax, "x")
            log_axis(ax, "y")
            ax.xaxis.set_major_formatter(FuncFormatter(_x_label))
            ax.xaxis.set_minor_formatter(NullFormatter())
            format_log_axis(ax, "y", seconds_formatter())
            ax.grid(True, which="major", alpha=0.3)
            ax.set_xlabel(f"{axis} (log scale)")
            ax.set_ylabel(("time per task" if per_task else "wall time of the batch")
                          + " (log scale; lower is faster)")
            who = "concbench's C++" if lang == decide.CPP else "the notebook's Python"
            ax.set_title(who, fontsize=10, loc="left")
            notes = []
            for be in breakevens.get(lang, []):
                if not be.crossings:
                    continue
                c = be.crossings[-1]
                s = next(s for s in mine if s.label == be.a)
                ax.axvline(c.x, color=style((s.model,) + s.fixed)["color"], linestyle="--",
                           linewidth=1.1, alpha=0.9)
                notes.append(f"{decide.short_model(be.a)} = {decide.short_model(be.b)} "
                             f"at {axis} ≈ {decide.format_x(c.x)}")
            notes = notes or ["no break-even in this range"]
            ax.text(0.0, -0.2, "break-evens (dashed):\n" + "\n".join(notes[:6]),
                    transform=ax.transAxes, va="top", ha="left", fontsize=8,
                    bbox=dict(facecolor="#f4f4f4", edgecolor="#dddddd"))
        labels = list(handles)
        fig.legend([handles[k] for k in labels], labels, loc="center left",
                   bbox_to_anchor=(1 - 2.5 / (6.2 * len(langs) + 2.6), 0.6), fontsize=8,
                   frameon=False)
        finish(fig, title, subtitle)
        name = f"crossover_{workload}.png"
        save(fig, os.path.join(outdir, name))
    return Chart(title, name)


def _x_label(v, _pos=None) -> str:
    if v >= 1e6:
        return f"{v / 1e6:g}M"
    if v >= 1e3:
        return f"{v / 1e3:g}k"
    return f"{v:g}"
