"""Which model wins where: the decision map's cells and their winners, the racing that decides
which models earn more repetitions, the notebook's rule of thumb checked cell by cell, "your own
task" ranked with a reason from the ideals, and the crossovers' break-evens.

Computing only: nothing here runs, prints or draws (scripts/map.py does; plot_map.py draws).

    cells = map_cells(cr.load_run("results/<run>_map/results.json"))
    for c in cells:
        print(c.lang, c.args, c.winner.model if c.winner else None, c.verdict_text())

A cell is one language (C++ or the notebook's Python) at one point of the work: a workload and
the arguments that say what a task does and how many there are (tasks, cpu_us, io_ms, steps);
the models are compared inside it. Its winner is the model with the lowest median among those
that ran every repetition; its runner-up is the fastest of another family (sync, threads, async,
processes: a choice between async and its coroutine variant is not the choice the map is for),
and the U test (stats.judge) against it says whether the win is real, or a tie. A model that failed is left out and named; a model raced out (it ran fewer
repetitions, being far behind in the screening) is reported with its ratio to the fastest.
"""
from __future__ import annotations

import json
import math
import statistics
from dataclasses import dataclass, field

import concbench_results as cr
import stats

# Arguments that say how a model runs the tasks, not what the tasks are: a cell's models may
# differ in them.
MODEL_KEYS = ("workers", "chunksize")
# Racing: after one screening repetition, the two fastest of a cell and every model within this
# factor of the fastest get the remaining repetitions.
RACE_WITHIN = 1.5
RACE_KEEP = 2
CPP = "C++"
PYTHON = "Python"


def lang_of(b: cr.Bench) -> str:
    return PYTHON if b.lang == "python" else CPP


def family(model_full: str) -> str:
    """A model's family, C++ or Python: 'python.async.processes.uvloop' -> 'async'."""
    return cr.split_lang(model_full)[1].split(".")[0]


def short_model(model_full: str) -> str:
    """The model without the language prefix (a panel already says which language)."""
    return cr.split_lang(model_full)[1]


def cell_key(b: cr.Bench) -> tuple:
    return (lang_of(b), b.workload) + tuple((k, v) for k, v in b.args.items()
                                             if k not in MODEL_KEYS)


@dataclass
class Entry:
    """One model at one cell: its repetition times, and its screening time when it raced."""
    bench: cr.Bench
    samples: list = field(default_factory=list)
    screen_s: float | None = None

    @property
    def screening_s(self) -> float | None:
        """Its time in the screening (a racing run's first phase), else its first repetition."""
        return self.screen_s if self.screen_s is not None else \
            (self.samples[0] if self.samples else None)

    @property
    def model(self) -> str:
        return self.bench.model_full

    @property
    def failed(self) -> bool:
        return self.bench.failed or not self.samples

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    def error(self) -> str:
        return "; ".join(dict.fromkeys(self.bench.errors)) or "no time recorded"


@dataclass
class Cell:
    lang: str
    workload: str
    args: dict
    entries: list
    finalists: list = field(default_factory=list)   # ran every repetition, fastest first
    raced_out: list = field(default_factory=list)   # fewer repetitions, fastest first
    failed: list = field(default_factory=list)
    verdict: stats.Verdict | None = None            # runner-up (B) against the winner (A)

    @property
    def winner(self) -> Entry | None:
        return self.finalists[0] if self.finalists else None

    @property
    def runner_up(self) -> Entry | None:
        """The fastest finalist of another family than the winner's (the second finalist when
        only one family ran)."""
        if len(self.finalists) < 2:
            return None
        own = family(self.winner.model)
        return next((e for e in self.finalists[1:] if family(e.model) != own), self.finalists[1])

    @property
    def fastest_s(self) -> float | None:
        return self.winner.median if self.winner else None

    def screening_best_s(self) -> float | None:
        """The fastest first repetition (the screening's) of the models that ran: what a model
        raced out was compared with, in the same phase of the run."""
        firsts = [e.screening_s for e in self.entries if not e.failed]
        return min(firsts) if firsts else None

    @property
    def separated(self) -> bool:
        """The winner beats the runner-up by the U test (a real difference of at least 1 %)."""
        return self.verdict is not None and self.verdict.verdict == "slower"

    @property
    def tie(self) -> bool:
        return self.runner_up is not None and not self.separated

    def margin(self) -> float | None:
        """Runner-up's median ÷ winner's."""
        if self.winner is None or self.runner_up is None:
            return None
        return self.runner_up.median / self.winner.median

    def p_value(self) -> float | None:
        return self.verdict.p_value if self.verdict else None

    def verdict_text(self) -> str:
        """'×1.42, p = 0.008', 'tie (p = 0.31)', 'tie (4 + 1 repetitions: no test)', 'only model',
        'no result'."""
        if self.winner is None:
            return "no result"
        if self.runner_up is None:
            return "only model that ran"
        p = self.p_value()
        if self.separated:
            return f"×{self.margin():.2f}, p = {stats.format_p(p)}"
        if self.verdict is not None and self.verdict.verdict == "too few repetitions":
            return (f"tie: too few repetitions ({self.verdict.n_a} + {self.verdict.n_b}"
                    + (f", p = {stats.format_p(p)}" if p is not None else "") + ")")
        return f"tie (p = {stats.format_p(p)})" if p is not None else "tie"

    def tied_models(self) -> list[str]:
        return [self.winner.model, self.runner_up.model] if self.tie else \
            [self.winner.model] if self.winner else []

    def describe(self) -> str:
        """'CPU 1,000 µs, wait 10 ms' (the arguments that vary on a map)."""
        return describe_work(self.args)


def describe_work(args: dict) -> str:
    parts = []
    if "cpu_us" in args:
        parts.append(f"CPU {args['cpu_us']:,} µs")
    if "io_ms" in args:
        parts.append(f"wait {args['io_ms']:,} ms")
    return ", ".join(parts) or cr.format_args(args)


def cells_of(benches) -> list[Cell]:
    """The benchmarks grouped into cells, each judged."""
    groups: dict = {}
    for b in benches:
        groups.setdefault(cell_key(b), []).append(b)
    out = []
    for key, members in groups.items():
        lang, workload, *kv = key
        out.append(judge_cell(Cell(lang, workload, dict(kv),
                                   [Entry(b, b.samples_s()) for b in members])))
    return out


def judge_cell(cell: Cell) -> Cell:
    ok = [e for e in cell.entries if not e.failed]
    cell.failed = [e for e in cell.entries if e.failed]
    full = max((len(e.samples) for e in ok), default=0)
    by_median = sorted(ok, key=lambda e: e.median)
    cell.finalists = [e for e in by_median if len(e.samples) == full]
    cell.raced_out = [e for e in by_median if len(e.samples) < full]
    if len(cell.finalists) >= 2:
        cell.verdict = stats.judge(cell.winner.samples, cell.runner_up.samples)
    return cell


def map_cells(results: cr.Results, workload: str | None = None) -> list[Cell]:
    """The cells of a map run (every workload with a cpu_us argument, or the one named),
    ordered by language, then io_ms, then cpu_us."""
    benches = [b for b in results.benches if "cpu_us" in b.args
               and (workload is None or b.workload == workload)]
    cells = cells_of(benches)
    screening = screening_times(results)
    for c in cells:
        for e in c.entries:
            e.screen_s = screening.get(cr.key_name(e.bench))
    cells.sort(key=lambda c: (c.lang != CPP, c.workload, tuple(sorted(c.args.items()))))
    return cells


def grid_groups(cells: list[Cell], lang: str) -> dict:
    """A language's cells grouped by what stays fixed on a map (workload, tasks, steps...):
    one table each, keyed by that, with its cells by (io_ms, cpu_us)."""
    out: dict = {}
    for c in cells:
        if c.lang != lang:
            continue
        fixed = (c.workload,) + tuple((k, v) for k, v in c.args.items()
                                      if k not in ("cpu_us", "io_ms"))
        out.setdefault(fixed, {})[(c.args.get("io_ms", 0), c.args.get("cpu_us", 0))] = c
    return out


# The context key where scripts/map keeps a racing run's screening times.
SCREENING_KEY = "concbench_map_screening"


def screening_times(results: cr.Results) -> dict:
    """{benchmark key: seconds per batch in the screening}, C++ and Python; {} for a run that
    did not race."""
    out = {}
    for ctx in (results.context, results.python_context or {}):
        try:
            out.update(json.loads(ctx.get(SCREENING_KEY) or "{}"))
        except (ValueError, TypeError):
            pass
    return out


# --- racing ----------------------------------------------------------------------------------

def race_candidates(cells: list[Cell], within: float = RACE_WITHIN,
                    keep: int = RACE_KEEP) -> list[cr.Bench]:
    """After the screening: in each cell, the `keep` fastest models, the fastest of a family
    other than the fastest's (the runner-up a win is tested against), and every one within
    `within` × the fastest; these get the remaining repetitions."""
    out = []
    for c in cells:
        ok = sorted((e for e in c.entries if not e.failed), key=lambda e: e.median)
        if not ok:
            continue
        best = ok[0].median
        other = next((e for e in ok if family(e.model) != family(ok[0].model)), None)
        out += [e.bench for i, e in enumerate(ok)
                if i < keep or e is other or e.median <= within * best]
    return out


def raced_out_ratio(cells, e: Entry) -> float:
    """A raced-out model's first repetition ÷ the fastest first repetition of its cell(s): the
    screening's comparison, made in one phase of the run (the machine may change between
    phases)."""
    return e.screening_s / min(c.screening_best_s() for c in cells)


def raced_out_text(cells, e: Entry) -> str:
    n = len(e.samples)
    return (f"raced out after {n} repetition{'s' if n != 1 else ''}, "
            f"{raced_out_ratio(cells, e):.1f}× the fastest in the screening")


# --- the notebook's rule of thumb --------------------------------------------------------------

RULE = "CPU → processes, I/O → threads or asyncio"
CPU_BOUND, IO_BOUND, BALANCED, NO_WORK = "CPU-bound", "I/O-bound", "balanced", "no work"


def task_kind(args: dict) -> str:
    """What one task mostly does: CPU-bound when its compute (cpu_us) exceeds its wait (io_ms),
    I/O-bound when the wait does, balanced when they are equal; no work when both are 0."""
    cpu, io = args.get("cpu_us", 0) * 1e-6, args.get("io_ms", 0) * 1e-3
    if cpu == 0 and io == 0:
        return NO_WORK
    if math.isclose(cpu, io):
        return BALANCED
    return CPU_BOUND if cpu > io else IO_BOUND


def computes_in_processes(model_full: str) -> bool:
    return "processes" in short_model(model_full).split(".")


def rule_pick(models: cr.Models, model_full: str) -> str | None:
    """Which half of the rule a model is: "processes" (its compute runs in processes),
    "threads or asyncio" (a thread pool or an event loop), or None (sync)."""
    if computes_in_processes(model_full):
        return "processes"
    if models.base(model_full) in ("threads", "async"):
        return "threads or asyncio"
    return None


@dataclass
class RuleCheck:
    cell: Cell
    kind: str
    holds: bool | None  # None: the rule says nothing (no work)

    def text(self) -> str:
        c = self.cell
        win = " = ".join(short_model(m) for m in c.tied_models()) or "nothing"
        return f"{c.describe()} ({self.kind}): {win} {'tie' if c.tie else 'wins'}"


def check_rule(models: cr.Models, cell: Cell) -> RuleCheck:
    kind = task_kind(cell.args)
    if kind == NO_WORK or cell.winner is None:
        return RuleCheck(cell, kind, None)
    picks = {rule_pick(models, m) for m in cell.tied_models()}
    want = {CPU_BOUND: {"processes"}, IO_BOUND: {"threads or asyncio"},
            BALANCED: {"processes", "threads or asyncio"}}[kind]
    return RuleCheck(cell, kind, bool(picks & want))


def rule_summary(models: cr.Models, cells: list[Cell]) -> list[str]:
    """A few sentences: where the rule holds on this machine and where it does not, per
    language."""
    out = []
    for lang in (CPP, PYTHON):
        checks = [check_rule(models, c) for c in cells if c.lang == lang]
        judged = [k for k in checks if k.holds is not None]
        if not judged:
            continue
        held = [k for k in judged if k.holds]
        failed = [k for k in judged if not k.holds]
        line = (f"{lang}: the rule holds in {len(held)} of {len(judged)} cells with work")
        by_kind = {}
        for k in judged:
            by_kind.setdefault(k.kind, []).append(k)
        parts = [f"{sum(k.holds for k in ks)} of {len(ks)} {kind}" for kind, ks in
                 sorted(by_kind.items())]
        out.append(line + f" ({', '.join(parts)}).")
        if failed:
            out.append("  It fails at: " + "; ".join(k.text() for k in failed) + ".")
    return out


# --- your own task -----------------------------------------------------------------------------

@dataclass
class Ranked:
    entry: Entry
    lang: str
    ratio: float | None          # median ÷ the fastest's
    verdict: str                 # against the fastest
    bound: str                   # what limits this model, from its ideal


def rank_point(cells: list[Cell], cores: int) -> tuple[list[Ranked], str]:
    """Every model of one point (its C++ and Python cells), fastest first (raced-out and failed
    ones last), each with its ratio to the fastest, the U test's verdict against it and what
    bounds it; and the one-line reason from the ideals."""
    finalists = [(e, c) for c in cells for e in c.finalists]
    finalists.sort(key=lambda ec: ec[0].median)
    if not finalists:
        return [], "no model ran"
    best, _ = finalists[0]
    args = cells[0].args
    out = []
    for e, c in finalists:
        verdict = "fastest" if e is best else against_fastest(best, e)
        out.append(Ranked(e, c.lang, e.median / best.median, verdict, bound_of(e, args, cores)))
    rest = sorted(((e, c) for c in cells for e in c.raced_out), key=lambda ec: ec[0].median)
    out += [Ranked(e, c.lang, raced_out_ratio(cells, e), raced_out_text(cells, e),
                   bound_of(e, args, cores)) for e, c in rest]
    out += [Ranked(e, c.lang, None, f"failed: {e.error()}", "") for c in cells for e in c.failed]
    return out, reason(args, cores)


def against_fastest(best: Entry, e: Entry) -> str:
    """A model's verdict against the fastest: 'slower (p = 0.008)', 'same as the fastest within
    noise (p = 0.31)', 'too few repetitions (...)'."""
    v = stats.judge(best.samples, e.samples)
    if v.verdict in ("slower", "too few repetitions"):
        return v.text()
    p = f" (p = {stats.format_p(v.p_value)})" if v.p_value is not None else ""
    return f"not distinguishable from the fastest{p}"


def _work(args: dict):
    """(tasks, steps, compute per step, wait per step) in seconds."""
    return (args.get("tasks", 1), args.get("steps", 1), args.get("cpu_us", 0) * 1e-6,
            args.get("io_ms", 0) * 1e-3)


def bounds(args: dict, cores: int, workers: int | None = None) -> dict[str, float]:
    """The ideals a model of each shape would have for this work (measure/ideal.h's formula,
    with the compute asked for): what a model's ideal_s is compared with to say what bounds
    it."""
    T, S, c, w = _work(args)
    out = {"one after another": T * S * (c + w)}
    if c > 0:
        out["one thread computes"] = T * S * c + w
        if cores > 1:
            out[f"CPU on {cores} cores"] = T * S * c / cores + w
    if workers and workers < T:
        out[f"{workers} workers"] = math.ceil(T / workers) * S * (c + w)
    if w > 0:
        out["every wait overlaps"] = S * (c + w)
    return out


def bound_of(e: Entry, args: dict, cores: int) -> str:
    """What bounds a model here, read from its ideal_s: the bound of `bounds` nearest to it
    (within 25 %: the run's calibrated compute may differ from cpu_us), with its formula and
    the ideal itself."""
    ideal = e.bench.counter("ideal_s")
    if ideal is None or ideal.mean <= 0:
        return ""
    T, S, c, w = _work(args)
    found = bounds(args, cores, e.bench.args.get("workers"))
    name, value = min(found.items(), key=lambda kv: abs(math.log(max(kv[1], 1e-12) / ideal.mean)))
    if abs(math.log(max(value, 1e-12) / ideal.mean)) > math.log(1.25):
        return f"ideal {cr.format_seconds(ideal.mean)}"
    fs = cr.format_seconds
    total_cpu = T * S * c
    text = {
        "one after another": f"one task at a time: {T} × {S} × ({fs(c)} + {fs(w)})",
        "one thread computes": f"one thread computes: {fs(total_cpu)} in series",
        f"CPU on {cores} cores": f"CPU-bound: {fs(total_cpu)} of compute on {cores} cores",
        "every wait overlaps": f"waits overlap: one task's {S} × ({fs(c)} + {fs(w)})",
    }.get(name)
    if text is None:  # the workers bound
        W = e.bench.args.get("workers")
        text = (f"{W} workers, blocked while they wait: {math.ceil(T / W)} rounds of "
                f"{S} × ({fs(c)} + {fs(w)})")
    return f"{text} ≈ {fs(value)} (ideal {fs(ideal.mean)})"


def reason(args: dict, cores: int) -> str:
    """The one-line answer to "why", from the ideal's two bounds: the best any model can do is
    max(one task's own steps, Σ compute ÷ cores + the last wait). CPU-bound when the compute
    spread over the cores outlasts a task's own waiting, I/O-bound otherwise; then what the
    models that compute on one thread, and sync, need."""
    T, S, c, w = _work(args)
    fs = cr.format_seconds
    total_cpu = T * S * c
    spread = total_cpu / cores
    best = max(S * (c + w), spread + w)
    serial = T * S * (c + w)
    one_thread = total_cpu + w
    if total_cpu == 0 and w == 0:
        return "no work: every model measures only its own cost per task."
    if spread > S * w:
        head = (f"CPU-bound on {cores} cores: {fs(total_cpu)} of compute take at least "
                f"{fs(spread)}" + (f" (+ {fs(w)}, the last wait)" if w > 0 else ""))
    else:
        head = (f"I/O-bound: each task waits {S} × {fs(w)} = {fs(S * w)}; with every wait "
                f"overlapped the best is {fs(best)}, and the compute ({fs(total_cpu)} ÷ "
                f"{cores} cores = {fs(spread)}) fits beside it")
    tail = []
    if c > 0 and one_thread > 1.2 * best:
        tail.append(f"a loop or a GIL that computes on one thread serialises {fs(total_cpu)}")
    if serial > 1.2 * best and T > 1:
        tail.append(f"sync needs {fs(serial)}")
    return head + ("; " + "; ".join(tail) if tail else "") + "."


# --- crossovers: where the choice flips ------------------------------------------------------

@dataclass
class Point:
    """Two series measured at one x: A (the challenger) against B (the baseline)."""
    x: int
    a: list
    b: list
    verdict: stats.Verdict | None = None

    def judge(self) -> "Point":
        self.verdict = stats.judge(self.b, self.a)  # A (as "B" of judge) against B
        return self

    @property
    def ratio(self) -> float:
        """A's median ÷ B's: below 1, A is faster."""
        return statistics.median(self.a) / statistics.median(self.b)

    @property
    def sign(self) -> int:
        """+1: A faster (significant), -1: B faster (significant), 0: not separated."""
        v = self.verdict.verdict if self.verdict else None
        return 1 if v == "faster" else -1 if v == "slower" else 0


@dataclass
class Crossing:
    low: Point        # the last significant point before the change
    high: Point       # the first significant point after it
    between: list     # the measured points in between, not separated
    x: float          # the interpolated break-even (log-log)
    a_wins_after: bool


@dataclass
class BreakEven:
    """A against B along x: the crossings found in the range, or what holds in all of it."""
    a: str
    b: str
    key: str
    points: list
    crossings: list

    def summary(self, label=str) -> str:
        """'A beats B from n ≈ 2,100,000', 'B beats A over the whole range (...)', ...; model
        labels through `label`."""
        a, b = label(self.a), label(self.b)
        if self.crossings:
            c = self.crossings[-1]
            who, other = (a, b) if c.a_wins_after else (b, a)
            return f"{who} beats {other} from {self.key} ≈ {format_x(c.x)}"
        signs = {p.sign for p in self.points}
        rng = f"{self.key} {format_x(self.points[0].x)} to {format_x(self.points[-1].x)}"
        if signs == {1}:
            return f"{a} beats {b} over the whole range ({rng})"
        if signs == {-1}:
            return f"{b} beats {a} over the whole range ({rng})"
        sig = [p for p in self.points if p.sign != 0]
        if not sig:
            return f"{a} and {b} are not distinguishable anywhere in the range ({rng})"
        who, other = (a, b) if sig[0].sign > 0 else (b, a)
        return (f"{who} beats {other} wherever the test separates them, and {other} never "
                f"significantly beats {who} ({rng}): no break-even in this range")


def format_x(x: float) -> str:
    """2,100,000 for a break-even of about 2.1 million: 2 significant digits, grouped."""
    if x <= 0:
        return "0"
    digits = max(0, int(math.floor(math.log10(x))) - 1)
    return f"{round(x, -digits):,.0f}"


def break_even(a: str, b: str, key: str, points: list[Point]) -> BreakEven:
    """Where A and B trade places along x, from measured points only: between the last point
    where one is significantly faster and the first where the other is, interpolated on log x
    where log(median A ÷ median B) crosses 0. Points in between that the test cannot separate
    are kept in the crossing. A change seen on one side only is no break-even (never
    extrapolated)."""
    pts = sorted((p.judge() for p in points), key=lambda p: p.x)
    sig = [i for i, p in enumerate(pts) if p.sign != 0]
    crossings = []
    for i, j in zip(sig, sig[1:]):
        if pts[i].sign == pts[j].sign:
            continue
        x = interpolate([pts[k] for k in range(i, j + 1)])
        crossings.append(Crossing(pts[i], pts[j], pts[i + 1:j], x, pts[j].sign > 0))
    return BreakEven(a, b, key, pts, crossings)


def interpolate(pts: list[Point]) -> float:
    """x where log(ratio) crosses 0, linear in log x, on the first segment of `pts` whose ends
    lie on either side (the ends of pts always do: they are significant on opposite sides)."""
    for p, q in zip(pts, pts[1:]):
        lp, lq = math.log(p.ratio), math.log(q.ratio)
        if lp == 0:
            return float(p.x)
        if (lp < 0) != (lq < 0) or lq == 0:
            f = lp / (lp - lq)
            return math.exp(math.log(p.x) + f * (math.log(q.x) - math.log(p.x)))
    # The medians do not cross although the tests do: take the geometric middle of the ends.
    return math.sqrt(pts[0].x * pts[-1].x)


def crossing_sentence(be: BreakEven, notebook_x: int | None = None, label=str) -> str:
    """The break-even in plain words, with the measured points on each side and their tests,
    and where the notebook's own value lies."""
    if not be.crossings:
        return be.summary(label) + "."
    c = be.crossings[-1]
    who, other = (be.a, be.b) if c.a_wins_after else (be.b, be.a)
    def side(p: Point) -> str:
        return (f"at {be.key} = {format_x(p.x)} it takes {p.ratio:.2f}× the time, "
                f"p = {stats.format_p(p.verdict.p_value)}")
    text = (f"{label(who)} beats {label(other)} from {be.key} ≈ {format_x(c.x)}: "
            f"{label(be.a)} against {label(be.b)}, {side(c.low)}; {side(c.high)}")
    if c.between:
        text += "; not separated at " + ", ".join(format_x(p.x) for p in c.between)
    if len(be.crossings) > 1:
        text += (f"; it changed {len(be.crossings)} times in the range, first at "
                 f"{be.key} ≈ {format_x(be.crossings[0].x)}")
    if notebook_x is not None:
        where = "below" if notebook_x < c.x else "above"
        text += f"; the notebook's {format_x(notebook_x)} is {where} that"
    return text + "."


# --- the crossover runs: series, pairs, the notebook's own value -------------------------------

@dataclass
class Series:
    """One model with fixed run arguments along the axis: {x: its benchmark}."""
    lang: str
    model: str
    fixed: tuple          # ((key, value), ...) besides the axis: workers, chunksize...
    label: str
    points: dict

    def samples(self, x) -> list:
        return self.points[x].samples_s() if x in self.points else []


def crossover_axis(benches) -> str | None:
    """The argument that grows along the crossover: the one with the most distinct values
    (at least 3)."""
    counts: dict = {}
    for b in benches:
        for k, v in b.args.items():
            counts.setdefault(k, set()).add(v)
    best = max(counts.items(), key=lambda kv: len(kv[1]), default=(None, ()))
    return best[0] if len(best[1]) >= 3 else None


def crossover_series(results: cr.Results, workload: str) -> tuple[str | None, list[Series]]:
    """The axis and the series of one workload's crossover, in the table's model order. A
    series label names its chunksize when the workload runs more than one."""
    benches = [b for b in results.ok() if b.workload == workload]
    axis = crossover_axis(benches)
    if axis is None:
        return None, []
    chunks = {b.args.get("chunksize") for b in benches} - {None}
    groups: dict = {}
    for b in benches:
        fixed = tuple((k, v) for k, v in b.args.items() if k != axis and k != "payload")
        groups.setdefault((b.model_full, fixed), {})[b.args[axis]] = b
    out = []
    for (model, fixed), pts in sorted(groups.items(), key=lambda kv: (
            results.models.rank(kv[0][0]), kv[0][1])):
        f = dict(fixed)
        label = model + (f" · chunksize {f['chunksize']}" if len(chunks) > 1 and "chunksize" in f
                         else "")
        out.append(Series(lang_of(next(iter(pts.values()))), model, fixed, label, pts))
    return axis, out


def crossover_pairs(series: list[Series], baseline: str | None) -> list[tuple[Series, Series]]:
    """(challenger, reference) pairs of one language: every series against the baseline model's
    (the notebook's serial run), and a larger chunksize against a smaller one of the same
    model."""
    out = []
    base = [s for s in series if short_model(s.model) == baseline]
    for s in series:
        if base and s not in base:
            out.append((s, base[0]))
    for s in series:
        for r in series:
            fs, fr = dict(s.fixed), dict(r.fixed)
            if s.model == r.model and fs.get("chunksize", 0) > fr.get("chunksize", 0) and \
                    {k: v for k, v in fs.items() if k != "chunksize"} == \
                    {k: v for k, v in fr.items() if k != "chunksize"}:
                out.append((s, r))
    return out


def series_break_even(a: Series, b: Series, axis: str) -> BreakEven:
    xs = sorted(set(a.points) & set(b.points))
    pts = [Point(x, a.samples(x), b.samples(x)) for x in xs
           if len(a.samples(x)) and len(b.samples(x))]
    return break_even(a.label, b.label, axis, pts)
