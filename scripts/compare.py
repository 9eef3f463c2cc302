"""Compares two concbench runs: did B get faster or slower than A, and is the change real?

    scripts/compare results/<run A> results/<run B> [-o compare.png] [--fail-on-regression=PCT]
    scripts/compare results/<run A> results/<run B> --raw [compare.py options, e.g. -a]

A and B are results folders (or results.json files); A is the baseline. The output is:

  - a header: the two files, their suite, commit, repetitions and load, and what differs between
    their contexts (commit, machine, build, options, ...): runs are compared whatever differs;
  - one row per benchmark measured in both runs (matched by name without Google Benchmark's
    iterations:N, which a changed budget may change): the medians of A's and B's repetitions,
    the change of the median (B/A − 1), the two-sided Mann–Whitney U p-value, and a verdict:
    faster, slower, no significant change, too noisy or too few repetitions (scripts/stats.py
    says when each applies: p < 0.05, 5+ repetitions a side, a change of 1 % at least; too
    noisy when the interval of the change reaches beyond ±10 %);
  - the geometric mean of B/A per model, and the benchmarks found in one run only or failed;
  - compare.png (next to B's results.json unless -o says where): every benchmark's change with
    its interval, coloured by verdict.

--fail-on-regression=PCT exits 1 when a benchmark's verdict is "slower" by more than PCT
percent (otherwise 0), for scripts and CI. Bad input (a missing, malformed or foreign file, two
runs with nothing in common, a bad flag) gets one `fatal:` line and exit 2.

--raw prints Google Benchmark's own compare.py table instead (every repetition and aggregate,
times in the benchmark's unit), from Debian's libbenchmark-tools (/usr/share/benchmark/
compare.py, needs python3-scipy; CONCBENCH_COMPARE_PY names another copy). Options after --raw
go to it. It matches benchmarks by their full names.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field

import concbench_results as cr
import stats

COMPARE_CANDIDATES = ("/usr/share/benchmark/compare.py",)

WIDTH = 100  # the summary table's target width, in columns

# Context keys that differ from run to run by nature; the load average is shown on A's and B's
# own lines instead.
CONTEXT_SKIPPED = ("date", "load_avg")
MAX_CONTEXT_LINES = 6

VERDICT_COLORS = {"faster": "#2ca02c", "slower": "#d62728", "no significant change": "#7f7f7f",
                  "too noisy": "#ff7f0e", "too few repetitions": "#9467bd",
                  "within drift": "#bcbd22", "machines differ": "#8c564b"}


class UsageError(Exception):
    """A bad flag: one line, printed as fatal: and exit 2."""


# --- the machines' drift between the runs ----------------------------------------------------

# What each run recorded about its machine at its start and end (src/measure/probe.h), as
# (what, context key, how a value reads). A run records one core's speed, the parallel capacity
# and the noise of one core; a run of an older binary may record cpu_intensivo_ns_per_step (its
# speed, measured once at the start) instead of the first.
SPEED_KEYS = ("machine_core_ns_per_step", "machine_core_ns_per_step_end")
OLD_SPEED_KEYS = ("cpu_intensivo_ns_per_step",)
CAPACITY_KEYS = ("machine_parallel_capacity", "machine_parallel_capacity_end")
NOISE_KEYS = ("machine_noise_cv", "machine_noise_cv_end")


@dataclass
class Drift:
    """How far apart the two runs' machines were, as far as their records show: `bound` is the
    largest of (1) the spread of one core's speed over the runs' starts and ends (max / min − 1),
    (2) the same for the parallel capacity, (3) the largest noise of one core (cv) either run
    saw. `why` says which, in plain words. bound is None when the runs recorded nothing to
    compare (both need the same records)."""
    bound: float | None
    why: str


def _records(ca: dict, cb: dict, keys) -> tuple[list[float], list[float]]:
    from machine import number
    va = [x for x in (number(ca, k) for k in keys) if x is not None and x > 0]
    vb = [x for x in (number(cb, k) for k in keys) if x is not None and x > 0]
    return va, vb


def machine_drift(ca: dict, cb: dict) -> Drift:
    found = []
    spreads = ((SPEED_KEYS, "the two runs' single-core speed", "ns a step of cpu_intensivo"),
               (OLD_SPEED_KEYS, "the two runs' single-core speed", "ns a step of cpu_intensivo"),
               (CAPACITY_KEYS, "the two runs' parallel capacity", "cores"))
    for keys, what, unit in spreads:
        va, vb = _records(ca, cb, keys)
        if va and vb and not (keys is OLD_SPEED_KEYS and found):  # the old key: a fallback
            v = va + vb
            found.append((max(v) / min(v) - 1, f"{what} differs by up to {{pct}} "
                                               f"({min(v):.2f} to {max(v):.2f} {unit})"))
    va, vb = _records(ca, cb, NOISE_KEYS)
    if va and vb:
        found.append((max(va + vb), "one core's speed varied by up to {pct} from one 5 ms round "
                                    "to the next (noise cv) during the runs"))
    if not found:
        return Drift(None, "the runs did not both record their machine (a run with --no_probe, "
                           "or an older binary): the drift between them is unknown and not "
                           "accounted for")
    bound, why = max(found)
    return Drift(bound, why.format(pct=f"{bound * 100:.0f} %"))


# --- computing -------------------------------------------------------------------------------

@dataclass
class Row:
    """One benchmark measured in both runs."""
    key: str
    a: cr.Bench
    b: cr.Bench
    verdict: stats.Verdict


@dataclass
class Comparison:
    a: cr.Results
    b: cr.Results
    rows: list[Row]
    drift: Drift = field(default_factory=lambda: Drift(None, ""))
    detect: float = stats.MAX_UNSEEN_CHANGE  # the change asked to detect, as a fraction
    only_a: list[str] = field(default_factory=list)
    only_b: list[str] = field(default_factory=list)
    failed: list[tuple[str, str, str]] = field(default_factory=list)  # (run, name, why)
    context_diffs: list[tuple[str, str, str]] = field(default_factory=list)

    def geomeans(self) -> list[tuple[str, float, int]]:
        """(model, geometric mean of B/A, benchmarks) per model, then ("all", ..., ...)."""
        ratios: dict[str, list[float]] = {}
        for r in self.rows:
            ratios.setdefault(r.a.model_full, []).append(r.verdict.median_b / r.verdict.median_a)
        out = [(m, stats.geometric_mean(v), len(v))
               for m, v in sorted(ratios.items(), key=lambda kv: self.a.models.rank(kv[0]))]
        everything = [x for v in ratios.values() for x in v]
        return out + [("all", stats.geometric_mean(everything), len(everything))]

    @property
    def undecided(self) -> bool:
        """The machines differ by more than the change asked to detect: no verdict at all."""
        return self.drift.bound is not None and self.drift.bound > self.detect

    def repetitions(self, side: str) -> str:
        """'5 repetitions' or '3–5 repetitions' over the compared benchmarks of run A or B."""
        ns = sorted({r.verdict.n_a if side == "A" else r.verdict.n_b for r in self.rows})
        span = str(ns[0]) if len(ns) == 1 else f"{ns[0]}–{ns[-1]}"
        return f"{span} repetition" + ("" if ns == [1] else "s")


def keyed(results: cr.Results) -> dict[str, cr.Bench]:
    """Benchmarks by key_name (by run_name if two share a key_name)."""
    out: dict[str, cr.Bench] = {}
    for b in results.benches:
        k = cr.key_name(b)
        out[b.run_name if k in out else k] = b
    return out


def times_of(b: cr.Bench) -> list[float]:
    """The repetition times; a run written with aggregates only gives its mean as one value."""
    t = b.samples_s()
    if not t and b.time_s() is not None:
        t = [b.time_s().mean]
    return t


def _is_number(v) -> bool:
    try:
        float(v)
    except (TypeError, ValueError):
        return False
    return True


def context_differences(ca: dict, cb: dict) -> list[tuple[str, str, str]]:
    def show(v):
        if v is None:
            return "(none)"
        s = v if isinstance(v, str) else json.dumps(v, separators=(",", ":"))
        return s if len(s) <= 40 else s[:39] + "…"
    keys = list(ca) + [k for k in cb if k not in ca]
    # What the machine measured differs from run to run by nature; the drift line sums it up.
    skipped = set(CONTEXT_SKIPPED) | {k for k in keys if k in OLD_SPEED_KEYS or (
        k.startswith("machine_") and _is_number(ca.get(k)) and _is_number(cb.get(k)))}
    if "hostname" in ca and "hostname" in cb:
        skipped.add("host_name")  # Google Benchmark's copy of concbench's hostname
    return [(k, show(ca.get(k)), show(cb.get(k))) for k in keys
            if k not in skipped and ca.get(k) != cb.get(k)]


def build(a: cr.Results, b: cr.Results, detect: float = stats.MAX_UNSEEN_CHANGE) -> Comparison:
    """Matches and judges the benchmarks of A and B, against the drift their machines recorded
    (stats.beyond_drift) when both recorded it; `detect` is the change asked to detect, as a
    fraction. ResultsError when there is nothing to compare."""
    ka, kb = keyed(a), keyed(b)
    drift = machine_drift(a.context, b.context)
    c = Comparison(a, b, [], drift, detect, only_a=[k for k in ka if k not in kb],
                   only_b=[k for k in kb if k not in ka],
                   context_diffs=context_differences(a.context, b.context))
    for k in (k for k in ka if k in kb):
        ba, bb = ka[k], kb[k]
        why = [(side, x.errors[0]) for side, x in (("A", ba), ("B", bb)) if x.failed]
        ta, tb = times_of(ba), times_of(bb)
        if not why:
            why = [(side, "no time above 0") for side, t in (("A", ta), ("B", tb))
                   if not t or min(t) <= 0]
        if why:
            c.failed.extend((side, k, msg) for side, msg in why)
            continue
        v = stats.judge(ta, tb)
        if drift.bound is not None:
            v = stats.beyond_drift(v, drift.bound, detect)
        c.rows.append(Row(k, ba, bb, v))
    if not c.rows:
        if c.failed:
            raise cr.ResultsError(f"{a.path} and {b.path} have no successful benchmark in "
                                  "common: nothing to compare")
        raise cr.ResultsError(
            f"{a.path} and {b.path} have no benchmark in common: nothing to compare (A has "
            f"{len(ka)} benchmarks, e.g. {next(iter(ka))}; B has {len(kb)}, e.g. "
            f"{next(iter(kb))})")
    return c


# --- the summary -----------------------------------------------------------------------------

def format_change(c: float) -> str:
    """+0.4 %, -20.0 %, +250 %, and 0.0 % rather than -0.0 %."""
    if round(c * 100, 1) == 0:
        return "0.0 %"
    return f"{c * 100:+.1f} %" if abs(c) < 1 else f"{c * 100:+.0f} %"


def under_threshold(v: stats.Verdict) -> bool:
    """Significant, but too small a change to be called one."""
    return v.verdict == "no significant change" and v.p_value is not None and \
        v.p_value < stats.ALPHA


def verdict_cell(v: stats.Verdict) -> str:
    if under_threshold(v):
        return v.verdict + "*"
    if v.verdict == "too noisy":
        return f"too noisy ({v.ci[0] * 100:+.0f} to {v.ci[1] * 100:+.0f} %)"
    if v.verdict == "within drift":
        return f"within drift (p = {stats.format_p(v.p_value)})"
    return v.verdict


def _render(head: str, args: dict[str, int], dropped: set) -> str:
    """head/k:v/... with the dropped arguments shown as one '…' per run."""
    out = [head]
    for k, v in args.items():
        if k not in dropped:
            out.append(f"{k}:{v}")
        elif out[-1] != "…":
            out.append("…")
    return "/".join(out)


def abbreviate(rows: list[Row], width: int) -> list[str]:
    """Names that fit in `width` columns where they can, always telling the rows apart. The
    benchmarks of one model and workload lose the same arguments, from the left, keeping the
    tail ('threads/cpu/…/n:200000'): first those they all have alike (which tell nothing
    apart), then others, but only if every name in the table stays unique. Names that cannot
    be shortened safely keep what tells them apart, even beyond `width`."""
    family: dict[tuple, list[Row]] = {}
    for r in rows:
        family.setdefault((r.a.model_full, r.a.workload), []).append(r)
    safe: dict[str, str] = {}
    short: dict[str, str] = {}
    for (model, workload), members in family.items():
        def fits(names):
            return max(len(n) for n in names.values()) <= width

        def without(dropped):
            return {r.key: _render(f"{model}/{workload}", r.a.args, dropped) for r in members}
        names = {r.key: r.key for r in members}
        keys = list(dict.fromkeys(k for r in members for k in r.a.args))
        alike = [k for k in keys if len({r.a.args.get(k) for r in members}) == 1]
        dropped: set = set()

        def shed(candidates, names):
            """Drops candidates, from the left, until the names fit."""
            for k in candidates:
                if fits(names):
                    break
                dropped.add(k)
                names = without(dropped)
            return names
        if any(cr.key_name(r.a) != r.key for r in members):  # keyed by run_name: left whole
            alike = keys = []
        names = shed(alike, names)
        safe.update(names)
        short.update(shed([k for k in keys if k not in alike], names))
    if len(set(short.values())) == len(short):
        return [short[r.key] for r in rows]
    return [safe[r.key] for r in rows]


def describe(c: Comparison, side: str) -> str:
    """'A = path  (notebook suite, commit 2660751a545b, 5 repetitions, load 0.31)', with
    'inject_slowdown=10' after the commit when the run injected one."""
    res = c.a if side == "A" else c.b
    ctx = res.context
    pct = cr.injected_slowdown(ctx)
    bits = [f"{ctx['concbench_suite']} suite" if ctx.get("concbench_suite") else None,
            f"commit {ctx['concbench_git_commit']}" if ctx.get("concbench_git_commit") else None,
            f"inject_slowdown={pct:g}" if pct else None, c.repetitions(side)]
    load = ctx.get("load_avg")
    if isinstance(load, list) and load and isinstance(load[0], (int, float)):
        bits.append(f"load {load[0]:.2f}")
    return f"{side} = {res.path}  ({', '.join(b for b in bits if b)})"


def drift_lines(c: Comparison) -> list[str]:
    d = c.drift
    if d.bound is None:
        return [f"drift: {d.why}"]
    if c.undecided:
        return [f"no verdicts: {d.why}: a change smaller than that cannot be told from the "
                f"machine; use scripts/ab"]
    return [f"drift: {d.why}: a change is called only beyond ±{d.bound * 100:.0f} %"]


def header_lines(c: Comparison) -> list[str]:
    lines = [describe(c, "A"), describe(c, "B")]
    lines += [f"{side}: {cr.slowdown_note(pct)}" for side, pct in
              (("A", cr.injected_slowdown(c.a.context)), ("B", cr.injected_slowdown(c.b.context)))
              if pct]
    if not c.context_diffs:
        lines.append("same context: suite, commit, machine, build and options")
    else:
        shown = [f"{k} {va} → {vb}" for k, va, vb in c.context_diffs[:MAX_CONTEXT_LINES]]
        lines += [f"differs: {shown[0]}"] + [f"         {d}" for d in shown[1:]]
        rest = c.context_diffs[MAX_CONTEXT_LINES:]
        if rest:
            lines.append(f"         and {', '.join(k for k, _, _ in rest)}")
    return lines + drift_lines(c)


def table_lines(c: Comparison, width: int = WIDTH) -> list[str]:
    cells = [(cr.format_seconds(r.verdict.median_a), cr.format_seconds(r.verdict.median_b),
              format_change(r.verdict.change),
              stats.format_p(r.verdict.p_value) if r.verdict.p_value is not None else "-",
              verdict_cell(r.verdict)) for r in c.rows]
    titles = ("median A", "median B", "change", "p", "verdict")
    widths = [max(len(t), *(len(x[i]) for x in cells)) for i, t in enumerate(titles)]
    names = abbreviate(c.rows, max(len("benchmark"), width - sum(widths) - 2 * len(widths)))
    name_width = max(len("benchmark"), *(len(n) for n in names))

    def line(name, cols):
        right = "  ".join(x.rjust(w) for x, w in zip(cols[:4], widths))
        return f"{name.ljust(name_width)}  {right}  {cols[4]}".rstrip()
    return [line("benchmark", titles)] + [line(n, x) for n, x in zip(names, cells)]


def benchmarks(n: int) -> str:
    return f"{n} benchmark" + ("" if n == 1 else "s")


def tally_line(c: Comparison) -> str:
    counts = [(v, sum(r.verdict.verdict == v for r in c.rows)) for v in stats.VERDICTS]
    return ", ".join(f"{k} {v}" for v, k in counts if k) + f" ({benchmarks(len(c.rows))})"


def footer_lines(c: Comparison) -> list[str]:
    lines = []
    if any(under_threshold(r.verdict) for r in c.rows):
        lines.append(f"* p < {stats.ALPHA}, but under {stats.NOISE_BAND}: two runs differ that "
                     "much with no change at all")
    few = sum(r.verdict.verdict == "too few repetitions" for r in c.rows)
    if few:
        lines += [f"note: {benchmarks(few)} had fewer than "
                  f"{stats.MIN_REPETITIONS} repetitions in A or B, too few for a verdict (with 3 "
                  "and 3",
                  "      no p-value can fall below 0.1); run both with "
                  "--benchmark_repetitions=9 for verdicts"]
    lines += ["", "geometric mean of B/A per model:"]
    gm = c.geomeans()
    w = max(len(m) for m, _, _ in gm)
    for m, g, n in gm:
        lines.append(f"  {m.ljust(w)}  ×{g:.3f}  {format_change(g - 1).rjust(8)}  "
                     f"({benchmarks(n)})")
    for label, names, res in (("only in A", c.only_a, c.a), ("only in B", c.only_b, c.b)):
        if names:
            lines += ["", f"{label}, not compared ({len(names)}):"] + one_sided(names, res)
    if c.failed:
        lines += ["", f"failed, not compared ({len(c.failed)}):"]
        lines += [f"  {k} (in {side}): {why}" for side, k, why in c.failed]
    return lines


MAX_LISTED = 10


def one_sided(names: list[str], res: cr.Results) -> list[str]:
    """Up to MAX_LISTED names one a line; more are counted by model and workload."""
    if len(names) <= MAX_LISTED:
        return [f"  {n}" for n in names]
    keyed_res = keyed(res)
    families: dict[str, int] = {}
    for n in names:
        f = f"{keyed_res[n].model_full}/{keyed_res[n].workload}"
        families[f] = families.get(f, 0) + 1
    lines = [" "]
    for f, k in families.items():
        item = f" {f} ×{k},"
        if len(lines[-1]) + len(item) > WIDTH:
            lines.append(" ")
        lines[-1] += item
    lines[-1] = lines[-1].rstrip(",")
    return lines


def summary_lines(c: Comparison) -> list[str]:
    return header_lines(c) + [""] + table_lines(c) + ["", tally_line(c)] + footer_lines(c)


# --- the chart -------------------------------------------------------------------------------

PCT_TICKS = (-90, -75, -50, -30, -20, -10, -5, -2, -1, 1, 2, 5, 10, 20, 30, 50, 100, 200, 400,
             900)


def ratio_ticks(lo: float, hi: float) -> list[float]:
    """Ratios B/A for the ticks of a log axis from lo to hi: 1 (no change) and round
    percentages, at least 1/12 of the axis apart."""
    gap = math.log(hi / lo) / 12
    ticks = [1.0]
    for pct in sorted(PCT_TICKS, key=abs):
        x = 1 + pct / 100
        if lo <= x <= hi and all(abs(math.log(x / t)) >= gap for t in ticks):
            ticks.append(x)
    return sorted(ticks)


@dataclass
class Point:
    """One row of a chart of changes: the ratio B/A, its interval, the verdict that colours it
    and the text written right of the axes."""
    label: str
    ratio: float
    lo: float
    hi: float
    verdict: str
    text: str


def draw_changes(points: list[Point], path: str, *, colors: dict[str, str], hollow: str,
                 band: float, xlabel: str, title: str, subtitle: str) -> None:
    """One row per point, top to bottom: its ratio on a log scale labelled in %, with its
    interval, coloured by verdict (the verdict `hollow` drawn as an open circle), the legend in
    the order of `colors`, a grey band of ±band around no change. compare.png and ab.png."""
    import matplotlib.lines
    from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator

    import chart_style as cs

    n = len(points)
    with cs.plt.rc_context(cs.RC):
        fig, ax = cs.bar_figure(n)
        ys = list(range(n))[::-1]
        for y, p in zip(ys, points):
            ax.errorbar([p.ratio], [y], xerr=[[p.ratio - p.lo], [p.hi - p.ratio]], fmt="o", ms=6,
                        color=colors[p.verdict], capsize=3, lw=1.4,
                        mfc="white" if p.verdict == hollow else colors[p.verdict])
            ax.annotate(p.text, (1.0, y), xycoords=("axes fraction", "data"), xytext=(6, 0),
                        textcoords="offset points", va="center", fontsize=8,
                        color=colors[p.verdict])
        cs.log_axis(ax, "x")
        lo = min(min(p.lo, p.ratio) for p in points)
        hi = max(max(p.hi, p.ratio) for p in points)
        pad = max(hi / lo, 1.05) ** 0.08
        ax.set_xlim(min(lo, 1 / 1.02) / pad, max(hi, 1.02) * pad)
        ax.axvspan(1 - band, 1 + band, color="#dddddd", zorder=0)
        ax.axvline(1.0, color="#444444", lw=0.8, zorder=1)
        ax.xaxis.set_major_locator(FixedLocator(ratio_ticks(*ax.get_xlim())))
        ax.xaxis.set_minor_locator(NullLocator())
        ax.xaxis.set_major_formatter(FuncFormatter(
            lambda x, _p: "0" if abs(x - 1) < 1e-9 else f"{(x - 1) * 100:+.0f} %"))
        ax.set_yticks(ys)
        ax.set_yticklabels([p.label for p in points], fontsize=8.5)
        ax.set_ylim(-0.7, n - 0.3)
        ax.set_xlabel(xlabel)
        ax.grid(True, axis="x", alpha=0.3)
        present = [v for v in colors if any(p.verdict == v for p in points)]
        handles = [matplotlib.lines.Line2D([], [], color=colors[v], marker="o", lw=1.4,
                                           mfc="white" if v == hollow else colors[v], label=v)
                   for v in present]
        ax.legend(handles=handles, loc="lower center", bbox_to_anchor=(0.5, 1.0),
                  ncol=len(handles), frameon=False, fontsize=8.5)
        cs.finish(fig, title, subtitle)
        cs.save(fig, path)


def draw(c: Comparison, path: str) -> None:
    """compare.png: one row per benchmark, its change (log scale of B/A, labelled in %) with its
    interval, coloured by verdict."""
    points = []
    for r, label in zip(c.rows, abbreviate(c.rows, 60)):
        v = r.verdict
        ratio = 1 + v.change
        lo, hi = (1 + v.ci[0], 1 + v.ci[1]) if v.ci else (ratio, ratio)
        points.append(Point(label, ratio, lo, hi, v.verdict,
                            f"{format_change(v.change)}  {v.text()}"))
    level = min((r.verdict.ci_level for r in c.rows if r.verdict.ci_level), default=None)
    bars = (f"bars: interval of the change at {level * 100:.0f} % confidence or more "
            "(Hodges–Lehmann, from every pair of A and B repetitions); " if level else "")
    draw_changes(
        points, path, colors=VERDICT_COLORS, hollow="too few repetitions",
        band=stats.NOISE_THRESHOLD,
        xlabel="change of the median wall time, B against A (log scale; left = B faster)",
        title="B against A: change of each benchmark's median time",
        subtitle=f"{describe(c, 'A')}\n{describe(c, 'B')}\n{bars}grey band: "
                 f"{stats.NOISE_BAND}, never called a change; verdicts from a Mann–Whitney U "
                 f"test (p < {stats.ALPHA}, {stats.MIN_REPETITIONS}+ repetitions a side)")


# --- compare.py's own table (--raw) -----------------------------------------------------------

def find_compare_py() -> str:
    env = os.environ.get("CONCBENCH_COMPARE_PY")
    if env:
        if not os.path.isfile(env):
            raise cr.ResultsError(f"CONCBENCH_COMPARE_PY={env}: no such file")
        return env
    for c in COMPARE_CANDIDATES:
        if os.path.isfile(c):
            return c
    raise cr.ResultsError("Google Benchmark's compare.py is not installed; install it with: "
                          "apt-get install libbenchmark-tools python3-scipy (or scripts/setup "
                          "as root)")


def read_json(path: str):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def comparable(a: cr.Results, b: cr.Results):
    """run_names measured in both runs; and the notes on what is left out."""
    ok_a = {x.run_name for x in a.ok()}
    ok_b = {x.run_name for x in b.ok()}
    notes = []
    for label, res in (("A", a), ("B", b)):
        for x in res.failed():
            notes.append(f"failed in {label}, not compared: {x.run_name}: {x.errors[0]}")
    all_a = {x.run_name for x in a.benches}
    all_b = {x.run_name for x in b.benches}
    only_a = sorted(all_a - all_b)
    only_b = sorted(all_b - all_a)
    for label, names in (("A", only_a), ("B", only_b)):
        if names:
            shown = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3
                                             else "")
            notes.append(f"only in {label}, not compared: {shown}")
    return ok_a & ok_b, notes


def filtered(data: dict, keep: set) -> dict:
    rows = [r for r in data["benchmarks"] if (r.get("run_name") or r.get("name")) in keep
            and not r.get("error_occurred")]
    return {"context": data["context"], "benchmarks": rows}


def run_raw(a: cr.Results, b: cr.Results, options: list[str]) -> int:
    """compare.py's table on the benchmarks both runs measured under the same full name."""
    try:
        compare_py = find_compare_py()
        keep, notes = comparable(a, b)
        if not keep:
            raise cr.ResultsError(f"{a.path} and {b.path} have no successful benchmark in "
                                  "common: nothing to compare")
        data_a, data_b = read_json(a.path), read_json(b.path)
    except cr.ResultsError as e:
        print(f"fatal: {e}", file=sys.stderr)
        return 2
    for n in notes:
        print(f"note: {n}", file=sys.stderr)
    if "--no-color" not in options and not sys.stdout.isatty():
        options = options + ["--no-color"]
    with tempfile.TemporaryDirectory(prefix="concbench-compare-") as tmp:
        pa, pb = os.path.join(tmp, "A.json"), os.path.join(tmp, "B.json")
        for path, data in ((pa, data_a), (pb, data_b)):
            with open(path, "w", encoding="utf-8") as f:
                json.dump(filtered(data, keep), f)
        print(f"A = {a.path}\nB = {b.path}", flush=True)
        try:
            p = subprocess.run([sys.executable, compare_py, *options, "benchmarks", pa, pb],
                               capture_output=True, text=True, timeout=600)
        except OSError as e:
            print(f"fatal: cannot run {compare_py}: {e.strerror or e}", file=sys.stderr)
            return 2
    out = p.stdout.replace(pa, "A").replace(pb, "B")
    sys.stdout.write(out)
    if p.returncode != 0:
        err = [ln for ln in p.stderr.splitlines() if ln.strip()]
        why = err[-1] if err else f"exit {p.returncode}"
        if "scipy" in p.stderr:
            why = "compare.py needs scipy: apt-get install python3-scipy"
        print(f"fatal: compare.py failed: {why}", file=sys.stderr)
        return 2
    return 0


# --- command line ----------------------------------------------------------------------------

class Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, not argparse's usage + message
        raise UsageError(message)


def percent(text: str) -> float:
    try:
        v = float(text.rstrip("%"))
    except ValueError:
        v = -1.0
    if not 0 <= v < 1e6:
        raise argparse.ArgumentTypeError(f"expected a percentage of 0 or more (e.g. 5), not "
                                         f"{text!r}")
    return v


def create_parser():
    p = Parser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
               allow_abbrev=False)
    p.add_argument("baseline", help="run A: a results folder or results.json")
    p.add_argument("contender", help="run B: a results folder or results.json")
    p.add_argument("-o", "--output", metavar="PATH",
                   help="where compare.png goes (default: next to B's results.json)")
    p.add_argument("--no-chart", action="store_true", help="do not write compare.png")
    p.add_argument("--fail-on-regression", metavar="PCT", type=percent,
                   help="exit 1 when a benchmark is 'slower' by more than PCT percent")
    p.add_argument("--raw", action="store_true",
                   help="print compare.py's own table instead; the options that follow go to "
                   "compare.py (e.g. -a, --no-utest)")
    return p


def parse_known(parser: argparse.ArgumentParser, argv) -> tuple[argparse.Namespace, list[str]]:
    """The parser's flags, and the rest: the arguments it does not know, then everything after
    `--`, for the program underneath (compare.py, concbench)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    rest = []
    if "--" in argv:
        i = argv.index("--")
        argv, rest = argv[:i], argv[i + 1:]
    args, unknown = parser.parse_known_args(argv)
    return args, unknown + rest


def parse_args(argv):
    """Our flags; with --raw, everything unknown (and everything after --) is compare.py's."""
    args, options = parse_known(create_parser(), argv)
    args.options = options
    if args.options and not args.raw:
        raise UsageError(f"unrecognized argument {args.options[0]} (compare.py's options go "
                         "after --raw)")
    return args


def chart_path(args, b: cr.Results) -> str:
    path = args.output or os.path.join(os.path.dirname(os.path.abspath(b.path)), "compare.png")
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder) or not os.access(folder, os.W_OK):
        raise cr.ResultsError(f"{path}: cannot write the chart there (folder missing or not "
                              "writable); use -o PATH or --no-chart")
    return path


def say(text: str) -> None:
    """Prints to stdout; a reader that went away (`| head`) does not stop the chart or change
    the exit status."""
    try:
        print(text, flush=True)
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def regressions(rows, pct: float) -> list:
    """The rows (compare's or ab's) whose verdict is "slower" by more than pct percent."""
    return [r for r in rows if r.verdict.verdict == "slower" and r.verdict.change * 100 > pct]


def gate(rows, pct: float) -> int:
    """--fail-on-regression=pct: a `regression:` line on stderr for each regression, and the
    exit status, 1 when there is one."""
    worse = regressions(rows, pct)
    for r in worse:
        print(f"regression: {r.key}: {format_change(r.verdict.change)}, {r.verdict.text()}, "
              f"beyond --fail-on-regression={pct:g}", file=sys.stderr)
    return 1 if worse else 0


def main(argv=None) -> int:
    try:
        args = parse_args(argv)
        a = cr.load(args.baseline)
        b = cr.load(args.contender)
        c = build(a, b, stats.MAX_UNSEEN_CHANGE if args.fail_on_regression is None
                  else args.fail_on_regression / 100)
        png = None if args.raw or args.no_chart else chart_path(args, b)
    except (cr.ResultsError, UsageError) as e:
        print(f"fatal: {e}", file=sys.stderr)
        return 2
    if args.raw:
        code = run_raw(a, b, args.options)
        if code:
            return code
    else:
        say("\n".join(summary_lines(c)))
        if png:
            try:
                draw(c, png)
            except OSError as e:
                print(f"fatal: {png}: cannot write: {e.strerror or e}", file=sys.stderr)
                return 2
            say(f"\nchart: {png}")
    if args.fail_on_regression is not None:
        if c.undecided:
            print(f"inconclusive: {c.drift.why}, more than --fail-on-regression="
                  f"{args.fail_on_regression:g}: these runs cannot tell; use scripts/ab",
                  file=sys.stderr)
            return 3
        return gate(c.rows, args.fail_on_regression)
    return 0


if __name__ == "__main__":
    sys.exit(main())
