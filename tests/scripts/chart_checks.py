"""What every chart must keep (issue 25), read from matplotlib's own layout of a figure:

- no two pieces of text intersect;
- no piece of text leaves the figure;
- the tick labels of every axis are distinct;
- no panel has more than MAX_SERIES series (labelled artists: lanes of a timeline are rows).

    problems = chart_problems(fig)   # [] when the figure keeps them all
"""
import itertools

import matplotlib.text

MAX_SERIES = 6
SLACK_PX = 1.0  # text boxes that merely touch are not overlapping


def _texts(fig):
    """Every visible, non-empty text with its box in pixels; a tick's label only when its tick
    is in view (matplotlib keeps labels for ticks it does not draw)."""
    renderer = fig.canvas.get_renderer()
    ticks, drawn = set(), set()
    for ax in fig.axes:
        for axis in "xy":
            for tick in (getattr(ax, f"{axis}axis").get_major_ticks()
                         + getattr(ax, f"{axis}axis").get_minor_ticks()):
                ticks.update((id(tick.label1), id(tick.label2)))
                if _in_view(ax, axis, tick.get_loc()):
                    drawn.update((id(tick.label1), id(tick.label2)))
    return [(t, t.get_window_extent(renderer)) for t in fig.findobj(matplotlib.text.Text)
            if t.get_visible() and t.get_text().strip() and (id(t) not in ticks or id(t) in drawn)]


def _in_view(ax, axis, loc) -> bool:
    lo, hi = sorted(getattr(ax, f"get_{axis}lim")())
    return lo - 1e-12 * abs(hi - lo) <= loc <= hi + 1e-12 * abs(hi - lo)


def _tick_labels(ax, axis):
    ticks = getattr(ax, f"{axis}axis").get_major_ticks()
    return [t.label1 for t in ticks if t.label1.get_visible() and t.label1.get_text()
            and _in_view(ax, axis, t.get_loc())]


def chart_problems(fig) -> list:
    """The rules `fig` breaks, one line each."""
    fig.canvas.draw()
    problems = []
    texts = _texts(fig)
    W, H = fig.bbox.width, fig.bbox.height
    for t, box in texts:
        if box.x0 < -SLACK_PX or box.y0 < -SLACK_PX or box.x1 > W + SLACK_PX \
                or box.y1 > H + SLACK_PX:
            problems.append(f"text {t.get_text()!r} leaves the figure ({box.x0:.0f}, "
                            f"{box.y0:.0f}, {box.x1:.0f}, {box.y1:.0f} in {W:.0f} × {H:.0f})")
    for (a, ba), (b, bb) in itertools.combinations(texts, 2):
        if min(ba.x1, bb.x1) - max(ba.x0, bb.x0) > SLACK_PX \
                and min(ba.y1, bb.y1) - max(ba.y0, bb.y0) > SLACK_PX:
            problems.append(f"texts {a.get_text()!r} and {b.get_text()!r} overlap")
    for i, ax in enumerate(fig.axes):
        if not ax.get_visible():
            continue
        for axis in "xy":
            labels = [t.get_text() for t in _tick_labels(ax, axis)]
            repeated = sorted({x for x in labels if labels.count(x) > 1})
            if repeated:
                problems.append(f"panel {i}: {axis} tick labels repeat: {repeated}")
        series = {lab for lab in ax.get_legend_handles_labels()[1] if not lab.startswith("_")}
        if len(series) > MAX_SERIES:
            problems.append(f"panel {i}: {len(series)} series (at most {MAX_SERIES}): "
                            f"{sorted(series)}")
    return problems

