"""How concbench's charts look: colours, line styles and markers per model, small multiples and
the title block, legends and captions, axis scales and tick labels, and writing a PNG.

What is drawn, and from which benchmarks, is plot.py's business; this module knows nothing of
the charts themselves. Importing it selects matplotlib's Agg backend (PNG files, no display).

The rules every chart keeps (issue 25, held by tests/scripts/chart_checks.py): at most
MAX_SERIES series a panel (more become small multiples: split_series, Grid), a line only where
some series has MIN_POINTS distinct x values, tick labels that differ (Distinct), and every text
inside the figure and apart from the others, the legends right of the panels (lay_out).
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
from matplotlib.ticker import (Formatter, FuncFormatter, LogLocator,  # noqa: E402
                               NullFormatter)

import concbench_results as cr  # noqa: E402

# One hue per base model, handed out in the table of models' order (the binary's, or the order
# the models first appear): the palette names no model.
PALETTE = ("#4d4d4d", "#1f77b4", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
           "#17becf", "#bcbd22", "#ff7f0e")
# Variants of one base model: darker and lighter tones of its hue, each with its own line style
# and marker, by the variant's place in the table of models (so a variant looks the same in
# every chart of a run). No dotted style: dotted is the ideal's.
VARIANT_TONES = [0.0, -0.45, 0.45, -0.7, 0.6, -0.25, 0.25, -0.58, 0.55, -0.12, 0.12]
LINESTYLES = ["-", "--", "-.", (0, (5, 1, 1, 1, 1, 1))]
MARKERS = ["o", "s", "^", "D", "v", "P", "X", "*"]
# The notebook's Python (python.<model>) in its C++ twin's colour and marker, hollow, on a long
# dash, so that it is never taken for the C++.
PYTHON_STYLE = dict(linestyle=(0, (8, 2.5)), markerfacecolor="white")
PYTHON_HATCH = "...."

DPI = 100
# matplotlib settings every chart is drawn under.
RC = {"font.size": 9, "axes.titlesize": 10, "figure.dpi": DPI}

# A panel has at most this many series; more become small multiples.
MAX_SERIES = 6
# A line needs this many distinct x values in some series to show how a quantity grows; with
# fewer, a chart draws bars of what was measured (or nothing).
MIN_POINTS = 3

# A model's ideal, drawn dotted in the model's colour beside its measured line. The label keeps
# it out of the legend; ideal_handle() is its one entry there, with what the ideal means.
IDEAL_LINE = dict(linestyle=(0, (1, 1.5)), linewidth=1.4, label="_ideal")


def base_color(models: cr.Models, model_full: str) -> str:
    """The hue of a model's base model (C++ or Python)."""
    base = models.base(model_full)
    i = models.bases.index(base) if base in models.bases else len(models.bases)
    return PALETTE[i % len(PALETTE)]


def is_python(model_full: str) -> bool:
    return cr.split_lang(model_full)[0] is not None


def variant_index(models: cr.Models, model_full: str) -> int:
    """The place of a model among its base model's variants in the table of models (or in the
    order the models first appeared): 0 for the base model itself."""
    model = cr.split_lang(model_full)[1]
    own = models.known(model) or model
    base = models.base(model)
    same = [m for m in models.names if models.base(m) == base]
    return same.index(own) if own in same else len(same)


class Styler:
    """Stable colours and line styles for series keys (model_full, *arguments): one hue per base
    model, a tone, line style and marker per variant (from the table of models, the same in
    every chart), lighter shades for the same model run with other arguments (e.g. more
    workers); a Python row as its C++ twin, hollow on a long dash."""

    def __init__(self, series_keys, models: cr.Models):
        self.style = {}
        keys = sorted(set(series_keys), key=lambda k: (models.rank(k[0]), k[1:]))
        shades: dict[str, list] = {}
        for k in keys:
            shades.setdefault(k[0], []).append(k)
        for k in keys:
            vi = variant_index(models, k[0])
            same = shades[k[0]]
            si = same.index(k)
            tone = VARIANT_TONES[vi % len(VARIANT_TONES)]
            rgb = mcolors.to_rgb(base_color(models, k[0]))
            rgb = tuple(c * (1 + tone) if tone < 0 else c + (1 - c) * tone for c in rgb)
            mix = 0.0 if len(same) == 1 else 0.5 * si / (len(same) - 1)
            # Other arguments lighter, or darker for a variant already light (never white).
            color = tuple(c * (1 - 0.6 * mix) if tone > 0.3 else c + (1 - c) * mix
                          for c in rgb)
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


def split_series(keys, models: cr.Models, limit: int = MAX_SERIES) -> list[list]:
    """Series keys (model_full, *arguments) in groups of at most `limit`, one panel's worth each,
    in the models' order: a base model's series (C++ and the notebook's Python) stay together and
    share a group with the base models before them while they fit; a base model with more than
    `limit` is cut into near-equal groups of its own."""
    by_base: dict[str, list] = {}
    for k in sorted(set(keys), key=lambda k: (models.rank(k[0]), k[1:])):
        by_base.setdefault(models.base(k[0]), []).append(k)
    groups: list[list] = []
    shared = False  # whether the last group may take more base models
    for ks in by_base.values():
        if len(ks) <= limit:
            if shared and len(groups[-1]) + len(ks) <= limit:
                groups[-1] += ks
            else:
                groups.append(list(ks))
                shared = True
            continue
        parts = math.ceil(len(ks) / limit)
        size = math.ceil(len(ks) / parts)
        groups += [ks[i:i + size] for i in range(0, len(ks), size)]
        shared = False
    return groups


# --- figures ---------------------------------------------------------------------------------

PANEL_W, PANEL_H = 4.3, 3.1  # inches of one panel's plotting area


class Grid:
    """Small multiples: panels at (row, col) cells of a grid, each about PANEL_W × PANEL_H
    inches; a cell without a panel stays blank (no empty axes). lay_out() then fits them, their
    captions and one legend per row (or one for all) into the figure."""

    def __init__(self, cells, w: float = PANEL_W, h: float = PANEL_H, caption_lines: int = 0):
        cells = sorted(set(cells))
        self.rows = max(r for r, _ in cells) + 1
        self.cols = max(c for _, c in cells) + 1
        self.w = w
        self.fig = plt.figure(figsize=(self.cols * (w + 1.35) + 0.3,
                                       self.rows * (h + 1.15 + 0.17 * caption_lines) + 0.2))
        gs = self.fig.add_gridspec(self.rows, self.cols)
        self.axes = {cell: self.fig.add_subplot(gs[cell]) for cell in cells}

    def row(self, r: int) -> list:
        return [ax for (ri, _), ax in sorted(self.axes.items()) if ri == r]

    def column(self, c: int) -> list:
        return [ax for (_, ci), ax in sorted(self.axes.items()) if ci == c]

    def caption_width(self) -> int:
        """Characters of an 8-point caption that fit under one panel."""
        return int(self.w * 16)


def bar_figure(bars: int, w: float = 9.5):
    """One panel of `bars` labelled horizontal bars."""
    return plt.subplots(figsize=(w, 0.36 * bars + 2.2))


def finish(fig, title: str, subtitle: str, note: str = "") -> float:
    """Title and a one- or two-line explanation above the panels, in fixed inches so that they
    never overlap the panels whatever the figure's height; returns the inches they take."""
    return title_block(fig, title, subtitle, note)[0]


def title_block(fig, title: str, subtitle: str, note: str = ""):
    """finish()'s work: (the inches the block takes, the title's Text)."""
    w, h = fig.get_size_inches()
    width = max(60, int(w * 15))
    # The title is 13 pt bold: about 8.5 characters an inch (a long title on a narrow figure ran
    # past its edge when wrapped as 9 pt text scaled by 9/13).
    title = textwrap.fill(title, max(40, int(w * 8.5)))
    top = 0.45 + 0.24 * title.count("\n")  # where the subtitle starts, inches from the top
    subtitle = "\n".join(textwrap.fill(p, width) for p in subtitle.split("\n"))
    note = "\n".join(textwrap.fill(p, width) for p in note.split("\n")) if note else ""
    lines = subtitle.count("\n") + 1 + (1 + note.count("\n") if note else 0)
    head = top + 0.18 * lines + 0.35
    fig.subplots_adjust(top=1 - head / h)
    sup = fig.suptitle(title, fontsize=13, fontweight="bold", x=0.02, y=1 - 0.12 / h,
                       ha="left", va="top")
    fig.text(0.02, 1 - top / h, subtitle, ha="left", va="top", fontsize=9, color="#333333")
    if note:
        fig.text(0.02, 1 - (top + 0.18 * (subtitle.count("\n") + 1)) / h, note, ha="left",
                 va="top", fontsize=9, color="#a00000" if "failed" in note else "#6b4e00")
    return head, sup


def lay_out(fig, title: str, subtitle: str, note: str = "", legends=()) -> None:
    """The end of a chart's drawing: the title block (finish), the panels fitted below it
    (tight_layout), and each legend right of the panels, beside the panels it is for.
    `legends`: [(axes, handles, labels)]; the figure widens by the widest legend, so that
    nothing leaves it."""
    renderer = fig.canvas.get_renderer()
    made, widest = [], 0.0
    for axes, handles, labels in legends:
        if handles:
            leg = fig.legend(handles, labels, loc="center left", frameon=False, fontsize=8.5,
                             handlelength=3.2)
            widest = max(widest, leg.get_window_extent(renderer).width / fig.dpi)
            made.append((axes, leg))
    w, h = fig.get_size_inches()
    panels_w = w
    if made:
        w = panels_w + widest + 0.3
        fig.set_size_inches(w, h)
    head, sup = title_block(fig, title, subtitle, note)
    sup.set_in_layout(False)  # the rect already leaves the title block out
    fig.tight_layout(rect=(0, 0, panels_w / w, 1 - head / h), h_pad=2.0, w_pad=1.5)
    sup.set_in_layout(True)   # and savefig's tight box keeps it
    for axes, leg in made:
        boxes = [ax.get_position() for ax in axes]
        y = (min(b.y0 for b in boxes) + max(b.y1 for b in boxes)) / 2
        leg.set_bbox_to_anchor((panels_w / w + 0.1 / w, y), transform=fig.transFigure)


def save(fig, path: str) -> None:
    """Writes the figure as a PNG, atomically, and closes it."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, bbox_inches="tight")
    plt.close(fig)
    cr.write_atomic(path, buf.getvalue())


# --- legend and captions ---------------------------------------------------------------------

def legend_entries(axes, models: cr.Models) -> tuple[list, list]:
    """Every labelled line of these panels once, in the models' order."""
    handles, labels = [], []
    for ax in axes:
        for hd, lab in zip(*ax.get_legend_handles_labels()):
            if lab not in labels and not lab.startswith("_"):
                handles.append(hd)
                labels.append(lab)
    order = sorted(range(len(labels)), key=lambda i: (models.rank(labels[i].split(" ")[0]), i))
    return [handles[i] for i in order], [labels[i] for i in order]


def has_ideal(axes) -> bool:
    return any(line.get_label() == "_ideal" for ax in axes for line in ax.get_lines())


def ideal_handle(meaning: str = "the best this model could do with these arguments"):
    """The legend's entry for the dotted ideals, saying what they are."""
    return matplotlib.lines.Line2D([], [], color="#777777", linestyle=IDEAL_LINE["linestyle"],
                                   linewidth=IDEAL_LINE["linewidth"],
                                   label="dotted: ideal, " + meaning)


def caption(ax, text: str, width: int) -> None:
    """A panel's answer under its x label (inside the panel it would hide the lines), wrapped
    to `width` characters."""
    if text:
        text = "\n".join(textwrap.fill(p, width) for p in text.split("\n"))
        ax.annotate(text, xy=(0, 0), xycoords=("axes fraction", ax.xaxis.label),
                    xytext=(0, -6), textcoords="offset points", va="top", ha="left",
                    fontsize=8, color="#222222",
                    bbox=dict(facecolor="#f4f4f4", edgecolor="#dddddd"))


# --- axes and tick labels --------------------------------------------------------------------

_SECONDS = ((1.0, "s"), (1e-3, "ms"), (1e-6, "µs"), (1e-9, "ns"))


def seconds_text(v: float, digits: int = 3) -> str:
    """A time with `digits` significant digits in the unit a person reads easily: 2.51 s,
    503 ms, 12.3 µs; 0 as '0'."""
    if v == 0:
        return "0"
    for scale, unit in _SECONDS:
        if abs(v) >= scale * (1 - 0.5 * 10 ** -digits) or unit == "ns":
            x = v / scale
            s = f"{x:.{digits}g}"
            return f"{x:.0f} {unit}" if "e" in s else f"{s} {unit}"
    return "0"


class Distinct(Formatter):
    """Tick labels from text(value, digits) with the fewest significant digits, 3 to 6, that
    tell every tick apart: never "100 ms" on every tick of a narrow range."""

    def __init__(self, text):
        self.text = text
        self.digits = 3

    def __call__(self, x, pos=None):
        return self.text(x, self.digits)

    def format_ticks(self, values):
        for d in range(3, 7):
            labels = [self.text(v, d) for v in values]
            if len(set(labels)) == len(labels):
                break
        self.digits = d
        return labels


def seconds_formatter():
    """Times as tick labels: 500 ms, 1.5 s, -20 µs, each tick told apart (Distinct)."""
    return Distinct(seconds_text)


def integer_formatter():
    """1,000 rather than 1000 or 10³."""
    return FuncFormatter(lambda v, _p: f"{v:,.0f}")


def kib_log_formatter():
    """Decades of KiB as they are: 0.1 KiB, 1 KiB, 1,000 KiB (never 9.77 MiB on a tick)."""
    return FuncFormatter(lambda v, _p: (f"{v:,.0f} KiB" if v >= 1 else f"{v:g} KiB"))


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


def wide_range(values, factor: float = 20.0) -> bool:
    """Whether positive values span more than `factor`: a log axis then, else a linear one."""
    pos = [v for v in values if v > 0]
    return bool(pos) and min(values) > 0 and max(pos) / min(pos) > factor


def value_axis(ax, axis: str, values, formatter, label: str) -> None:
    """A measured quantity's axis: log when the values span more than 20× (decades labelled by
    `formatter`), else linear from 0 (or from the lowest negative value), its ticks told apart
    by `formatter`; `label` gains the scale."""
    if wide_range(values):
        pos = [v for v in values if v > 0]
        lo, hi = min(pos) / 1.4, max(pos) * 1.4
        log_axis(ax, axis)
        getattr(ax, f"set_{axis}lim")(lo, hi)
        a = getattr(ax, f"{axis}axis")
        a.set_major_formatter(formatter)
        if hi / lo < 300:  # two decade ticks or fewer: 2× and 5× labelled too
            a.set_minor_locator(LogLocator(subs=(2, 5)))
            a.set_minor_formatter(formatter)
        else:
            a.set_minor_formatter(NullFormatter())
        label += " (log scale)"
    else:
        lo = min(0.0, min(values) * 1.1)
        hi = max(values) * 1.12 if max(values) > 0 else 1.0
        getattr(ax, f"set_{axis}lim")(lo, hi)
        getattr(ax, f"{axis}axis").set_major_formatter(formatter)
    getattr(ax, f"set_{axis}label")(label)
