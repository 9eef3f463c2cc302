"""What every chart must keep (issue 25), read from matplotlib's own layout of a figure:

- no two pieces of text intersect;
- no piece of text leaves the figure or is cut off (an annotation whose point lies outside its
  panel is not drawn at all);
- the tick labels of every axis are distinct (major and minor ticks together);
- no panel has more than MAX_SERIES series (labelled artists: lanes of a timeline are rows);
- no panel is empty (a visible panel draws something);
- no legend covers a panel (a legend sits outside the plots);
- a panel of lines has one through at least MIN_POINTS distinct x values (two points cannot
  show how a quantity grows).

    problems = chart_problems(fig)   # [] when the figure keeps them all
"""
import itertools

import matplotlib.legend
import matplotlib.text

MAX_SERIES = 6
MIN_POINTS = 3
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
    a = getattr(ax, f"{axis}axis")
    return [t.label1 for t in a.get_major_ticks() + a.get_minor_ticks()
            if t.label1.get_visible() and t.label1.get_text() and _in_view(ax, axis, t.get_loc())]


def _cut(t, box, renderer) -> str:
    """Why a text that looks visible is not drawn whole: an annotation whose point lies outside
    its panel is not drawn at all, a clipped text loses what leaves its clip box."""
    if isinstance(t, matplotlib.text.Annotation) and t.axes is not None \
            and t.get_annotation_clip() is not False and t.xycoords == "data":
        x, y = t.axes.transData.transform(t.xy)
        if not t.axes.bbox.contains(x, y):
            return "is not drawn: its point lies outside its panel"
    clip = t.get_clip_box() if t.get_clip_on() else None
    if clip is not None and (box.x0 < clip.x0 - SLACK_PX or box.x1 > clip.x1 + SLACK_PX
                             or box.y0 < clip.y0 - SLACK_PX or box.y1 > clip.y1 + SLACK_PX):
        return "is cut off by its panel"
    return ""


def _overlap(a, b) -> bool:
    return min(a.x1, b.x1) - max(a.x0, b.x0) > SLACK_PX \
        and min(a.y1, b.y1) - max(a.y0, b.y0) > SLACK_PX


def _draws_something(ax) -> bool:
    return any(a.get_visible() for a in ax.lines + ax.collections + ax.patches + ax.images)


def _data_lines(ax):
    """The lines of measured points: a marker on a visible line through two points or more
    (not a reference line, not a row of marks)."""
    out = []
    for line in ax.get_lines():
        x = line.get_xdata()
        if line.get_visible() and line.get_marker() not in (None, "", " ", "None") \
                and line.get_linestyle() not in ("None", "", " ") and len(x) >= 2:
            out.append(line)
    return out


def chart_problems(fig) -> list:
    """The rules `fig` breaks, one line each."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    problems = []
    texts = _texts(fig)
    W, H = fig.bbox.width, fig.bbox.height
    for t, box in texts:
        if box.x0 < -SLACK_PX or box.y0 < -SLACK_PX or box.x1 > W + SLACK_PX \
                or box.y1 > H + SLACK_PX:
            problems.append(f"text {t.get_text()!r} leaves the figure ({box.x0:.0f}, "
                            f"{box.y0:.0f}, {box.x1:.0f}, {box.y1:.0f} in {W:.0f} × {H:.0f})")
    for t, box in texts:
        why = _cut(t, box, renderer)
        if why:
            problems.append(f"text {t.get_text()!r} {why}")
    for (a, ba), (b, bb) in itertools.combinations(texts, 2):
        if _overlap(ba, bb):
            problems.append(f"texts {a.get_text()!r} and {b.get_text()!r} overlap")
    panels = [(i, ax) for i, ax in enumerate(fig.axes) if ax.get_visible() and ax.axison]
    legends = [leg for leg in fig.findobj(matplotlib.legend.Legend) if leg.get_visible()]
    for i, ax in panels:
        for axis in "xy":
            labels = [t.get_text() for t in _tick_labels(ax, axis)]
            repeated = sorted({x for x in labels if labels.count(x) > 1})
            if repeated:
                problems.append(f"panel {i}: {axis} tick labels repeat: {repeated}")
        series = {lab for lab in ax.get_legend_handles_labels()[1] if not lab.startswith("_")}
        if len(series) > MAX_SERIES:
            problems.append(f"panel {i}: {len(series)} series (at most {MAX_SERIES}): "
                            f"{sorted(series)}")
        if not _draws_something(ax):
            problems.append(f"panel {i} ({ax.get_title() or 'untitled'}) is empty")
        lines = _data_lines(ax)
        if lines and max(len(set(line.get_xdata())) for line in lines) < MIN_POINTS:
            problems.append(f"panel {i} ({ax.get_title() or 'untitled'}): its lines run "
                            f"through fewer than {MIN_POINTS} x values")
        for leg in legends:
            if _overlap(leg.get_window_extent(renderer), ax.bbox):
                problems.append(f"a legend ({', '.join(t.get_text() for t in leg.get_texts()[:2])}"
                                f", …) covers panel {i}")
    return problems
