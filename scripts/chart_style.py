"""How concbench's charts look: colours, line styles and markers per model, figure and panel
layout, the title block, the legend, axis scales and tick labels, and writing a PNG.

What is drawn, and from which benchmarks, is plot.py's business; this module knows nothing of
the charts themselves. Importing it selects matplotlib's Agg backend (PNG files, no display).
"""
from __future__ import annotations

import io
import math
import textwrap

import matplotlib

matplotlib.use("Agg")
import matplotlib.colors as mcolors  # noqa: E402
import matplotlib.lines  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import FuncFormatter, NullFormatter  # noqa: E402

import concbench_results as cr  # noqa: E402

# One hue per base model, handed out in the table of models' order (the binary's, or the order
# the models first appear): the palette names no model.
PALETTE = ("#4d4d4d", "#1f77b4", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
           "#17becf", "#bcbd22", "#ff7f0e")
# Variants of one base model: darker and lighter tones of its hue, each with its own line style
# and marker. No dotted style: dotted is the ideal's.
VARIANT_TONES = [0.0, -0.45, 0.45, -0.7, 0.65, -0.25, 0.25]
LINESTYLES = ["-", "--", "-.", (0, (5, 1, 1, 1, 1, 1))]
MARKERS = ["o", "s", "^", "D", "v", "P", "X", "*"]
# The notebook's Python (python.<model>) in its C++ twin's colour and marker, hollow, on a long
# dash, so that it is never taken for the C++.
PYTHON_STYLE = dict(linestyle=(0, (8, 2.5)), markerfacecolor="white")
PYTHON_HATCH = "...."

DPI = 100
# matplotlib settings every chart is drawn under.
RC = {"font.size": 9, "axes.titlesize": 10, "figure.dpi": DPI}

# A model's ideal, drawn dotted in the model's colour beside its measured line. The label keeps
# it out of the legend; legend_right adds one entry for all of them (ideal_handle).
IDEAL_LINE = dict(linestyle=(0, (1, 1.5)), linewidth=1.4, label="_ideal")


def base_color(models: cr.Models, model_full: str) -> str:
    """The hue of a model's base model (C++ or Python)."""
    base = models.base(model_full)
    i = models.bases.index(base) if base in models.bases else len(models.bases)
    return PALETTE[i % len(PALETTE)]


def is_python(model_full: str) -> bool:
    return cr.split_lang(model_full)[0] is not None


class Styler:
    """Stable colours and line styles for series keys (model_full, *arguments): one hue per base
    model, a tone, line style and marker per variant, lighter shades for the same model run with
    other arguments (e.g. more workers); a Python row as its C++ twin, hollow on a long dash."""

    def __init__(self, series_keys, models: cr.Models):
        self.style = {}
        keys = sorted(set(series_keys), key=lambda k: (models.rank(k[0]), k[1:]))
        variants: dict[str, list] = {}
        shades: dict[str, list] = {}
        for k in keys:
            vs = variants.setdefault(models.base(k[0]), [])
            twin = cr.split_lang(k[0])[1]
            if twin not in vs:
                vs.append(twin)
            shades.setdefault(k[0], []).append(k)
        for k in keys:
            vi = variants[models.base(k[0])].index(cr.split_lang(k[0])[1])
            same = shades[k[0]]
            si = same.index(k)
            tone = VARIANT_TONES[vi % len(VARIANT_TONES)]
            rgb = mcolors.to_rgb(base_color(models, k[0]))
            rgb = tuple(c * (1 + tone) if tone < 0 else c + (1 - c) * tone for c in rgb)
            mix = 0.0 if len(same) == 1 else 0.5 * si / (len(same) - 1)
            color = tuple(c + (1 - c) * mix for c in rgb)
            self.style[k] = dict(color=color, linestyle=LINESTYLES[vi % len(LINESTYLES)],
                                 marker=MARKERS[(vi + si) % len(MARKERS)])
            if is_python(k[0]):
                self.style[k].update(PYTHON_STYLE)

    def __call__(self, key):
        return self.style[key]

    def bars(self, bars, keys) -> None:
        """Colours horizontal or vertical bars, one per key; a Python row's bar is hatched."""
        for bar, key in zip(bars, keys):
            bar.set_color(self.style[key]["color"])
            if is_python(key[0]):
                bar.set_hatch(PYTHON_HATCH)
                bar.set_edgecolor("white")


# --- figures ---------------------------------------------------------------------------------

def figure(rows, cols, w=5.2, h=3.9):
    """A grid of panels, each w × h inches plus room for its labels and caption."""
    fig, axes = plt.subplots(rows, cols, figsize=(w * cols, (h + 0.7) * rows + 1.2),
                             squeeze=False)
    fig.subplots_adjust(left=0.08, right=0.97, hspace=0.75, wspace=0.3)
    return fig, axes


def bar_figure(bars: int):
    """One panel of `bars` labelled horizontal bars."""
    return plt.subplots(figsize=(9.5, 0.42 * bars + 2.0))


def grid_for(n: int, max_cols: int = 3):
    cols = 2 if n == 4 else min(n, max_cols)
    rows = math.ceil(n / cols)
    return rows, cols


def hide_unused(axes, used: int):
    flat = axes.ravel()
    for ax in flat[used:]:
        ax.set_visible(False)


def finish(fig, title: str, subtitle: str, note: str = ""):
    """Title and a one- or two-line explanation above the panels, in fixed inches so that they
    never overlap the panels whatever the figure's height."""
    w, h = fig.get_size_inches()
    width = max(60, int(w * 15))
    title = textwrap.fill(title, int(width * 9 / 13))  # the title's font is 13 pt, the text's 9
    top = 0.45 + 0.24 * title.count("\n")  # where the subtitle starts, inches from the top
    subtitle = "\n".join(textwrap.fill(p, width) for p in subtitle.split("\n"))
    note = "\n".join(textwrap.fill(p, width) for p in note.split("\n")) if note else ""
    lines = subtitle.count("\n") + 1 + (1 + note.count("\n") if note else 0)
    head = top + 0.18 * lines + 0.35
    fig.subplots_adjust(top=1 - head / h)
    fig.suptitle(title, fontsize=13, fontweight="bold", x=0.02, y=1 - 0.12 / h, ha="left",
                 va="top")
    fig.text(0.02, 1 - top / h, subtitle, ha="left", va="top", fontsize=9, color="#333333")
    if note:
        fig.text(0.02, 1 - (top + 0.18 * (subtitle.count("\n") + 1)) / h, note, ha="left",
                 va="top", fontsize=9, color="#a00000" if "failed" in note else "#6b4e00")


def save(fig, path: str) -> None:
    """Writes the figure as a PNG, atomically, and closes it."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, bbox_inches="tight")
    plt.close(fig)
    cr.write_atomic(path, buf.getvalue())


# --- legend and captions ---------------------------------------------------------------------

def legend_right(fig, axes, models: cr.Models, extra_handles=()):
    """One legend right of the panels: every labelled line once, in the models' order."""
    handles, labels = [], []
    has_ideal = any(line.get_label() == "_ideal" for ax in axes.ravel() for line in ax.get_lines())
    extra_handles = [h for h in extra_handles if has_ideal or "ideal" not in h.get_label()]
    for ax in axes.ravel():
        for h, lab in zip(*ax.get_legend_handles_labels()):
            if lab not in labels and not lab.startswith("_"):
                handles.append(h)
                labels.append(lab)
    order = sorted(range(len(labels)), key=lambda i: (models.rank(labels[i].split(" ")[0]), i))
    handles = [handles[i] for i in order]
    labels = [labels[i] for i in order]
    for h in extra_handles:
        handles.append(h)
        labels.append(h.get_label())
    if handles:
        fig.legend(handles, labels, loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize=9,
                   frameon=False)


def ideal_handle():
    return matplotlib.lines.Line2D([], [], color="#777777", linestyle=IDEAL_LINE["linestyle"],
                                   linewidth=IDEAL_LINE["linewidth"],
                                   label="ideal of that model (dotted)")


def caption(ax, text: str):
    """A short verdict under a panel's x label (inside the panel it would hide the lines)."""
    if text:
        ax.text(0.0, -0.2, text, transform=ax.transAxes, va="top", ha="left", fontsize=8,
                color="#222222", bbox=dict(facecolor="#f4f4f4", edgecolor="#dddddd"))


# --- axes and tick labels --------------------------------------------------------------------

def seconds_formatter(signed=False):
    return FuncFormatter(lambda v, _pos: cr.format_seconds(v) if v > 0 or (signed and v < 0)
                         else "0")


def integer_formatter():
    """1,000 rather than 1000 or 10³."""
    return FuncFormatter(lambda v, _p: f"{v:,.0f}")


def format_kib(v, _pos=None):
    """A size given in KiB, as B, KiB or MiB; usable as a FuncFormatter."""
    if v >= 1024:
        return f"{v / 1024:.3g} MiB"
    if v >= 10:
        return f"{v:,.0f} KiB"
    if v >= 1:
        return f"{v:.3g} KiB"
    return f"{v * 1024:.3g} B"


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
        getattr(ax, f"{axis}axis").set_major_formatter(integer_formatter())
        getattr(ax, f"{axis}axis").set_minor_formatter(NullFormatter())


def auto_y(ax, values):
    """A log y axis when the positive values span more than 20×, else a linear one from 0 (or
    from the lowest negative value); returns "log scale" or None."""
    pos = [v for v in values if v > 0]
    if pos and min(values) > 0 and max(pos) / min(pos) > 20:
        log_axis(ax, "y")
        return "log scale"
    ax.set_ylim(min(0, min(values) * 1.1), max(values) * 1.12 if max(values) > 0 else 1)
    return None
