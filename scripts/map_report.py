"""The text scripts/map writes: map.md and the terminal's table for a decision map, the ranked
answer for one point ("your own task"), and crossover.md with the break-evens in plain words.

Formatting only: the cells, rankings and break-evens come from decide.py.
"""
from __future__ import annotations

import concbench_results as cr
import decide
import stats

WIDTH = 100


def group_title(lang: str, fixed: tuple) -> str:
    workload, *kv = fixed
    return f"{lang}: {workload}, {cr.format_args(dict(kv))}"


def cell_md(c: decide.Cell | None) -> str:
    if c is None:
        return "–"
    if c.winner is None:
        return "no result" + (f" ({len(c.failed)} failed)" if c.failed else "")
    if c.tie:
        names = " = ".join(f"`{decide.short_model(m)}`" for m in c.tied_models())
        return f"tie: {names}<br>{c.verdict_text()}"
    extra = f"<br>{len(c.failed)} failed" if c.failed else ""
    return f"**`{decide.short_model(c.winner.model)}`**<br>{c.verdict_text()}{extra}"


def table_md(by_cell: dict) -> list[str]:
    ios = sorted({k[0] for k in by_cell})
    cpus = sorted({k[1] for k in by_cell})
    out = ["| wait ↓ · CPU → | " + " | ".join(f"{c:,} µs" for c in cpus) + " |",
           "| --- |" + " --- |" * len(cpus)]
    for io in ios:
        out.append(f"| **{io:,} ms** | " + " | ".join(cell_md(by_cell.get((io, c))) for c in cpus)
                   + " |")
    return out


def cell_text(c: decide.Cell | None) -> tuple[str, str]:
    """Two short lines for the terminal: the winner (or tie) and its margin."""
    if c is None:
        return "–", ""
    if c.winner is None:
        return "no result", f"{len(c.failed)} failed" if c.failed else ""
    if c.tie:
        return "tie: " + decide.short_model(c.winner.model), \
            "= " + decide.short_model(c.runner_up.model)
    m = c.margin()
    return decide.short_model(c.winner.model), \
        (f"×{m:.2f} p={stats.format_p(c.p_value())}" if m else "only one ran")


def table_text(by_cell: dict) -> list[str]:
    ios = sorted({k[0] for k in by_cell})
    cpus = sorted({k[1] for k in by_cell})
    texts = {k: cell_text(c) for k, c in by_cell.items()}
    width = max([len(t) for pair in texts.values() for t in pair] +
                [len(f"{c:,} µs") for c in cpus]) + 2
    out = [f"{'wait↓ CPU→':<11}" + "".join(f"{c:,} µs".ljust(width) for c in cpus)]
    for io in ios:
        first = f"{io:,} ms".ljust(11) + "".join(texts.get((io, c), ("–", ""))[0].ljust(width)
                                                  for c in cpus)
        second = " " * 11 + "".join(texts.get((io, c), ("–", ""))[1].ljust(width) for c in cpus)
        out += [first.rstrip(), second.rstrip()]
    return out


def details_md(cells: list[decide.Cell]) -> list[str]:
    """Every cell's models, fastest first, with their medians, repetitions and fate."""
    out = []
    for c in cells:
        head = f"- **{c.lang}, {c.describe()}**"
        parts = []
        for e in c.finalists:
            parts.append(f"`{decide.short_model(e.model)}` {cr.format_seconds(e.median)}")
        line = head + " (" + f"{len(c.winner.samples) if c.winner else 0} repetitions): " + \
            ", ".join(parts)
        if c.raced_out:
            line += "; " + ", ".join(f"`{decide.short_model(e.model)}` "
                                     f"{decide.raced_out_text([c], e)}" for e in c.raced_out)
        if c.failed:
            line += "; failed: " + ", ".join(f"`{decide.short_model(e.model)}` ({e.error()})"
                                             for e in c.failed)
        out.append(line)
    return out


def family_count(cells: list[decide.Cell], lang: str, models: cr.Models) -> list[tuple[str, int]]:
    """How many of a language's cells each family (base model) wins by median, most first."""
    counts: dict = {}
    for c in cells:
        if c.lang == lang and c.winner is not None:
            f = models.base(c.winner.model)
            counts[f] = counts.get(f, 0) + 1
    return sorted(counts.items(), key=lambda kv: (-kv[1], models.rank(kv[0])))


def headline(cells: list[decide.Cell], models: cr.Models) -> str:
    """The map's one-line answer: per language, how many cells each family is fastest in (by
    median) and how many of them are ties; and the rule's score."""
    parts = []
    for lang in (decide.CPP, decide.PYTHON):
        mine = [c for c in cells if c.lang == lang]
        if not mine:
            continue
        ties = sum(1 for c in mine if c.tie)
        parts.append(f"{lang}: "
                     + ", ".join(f"{f} {n}" for f, n in family_count(cells, lang, models))
                     + f" of {len(mine)}"
                     + (f" ({ties} tie{'s' if ties != 1 else ''})" if ties else ""))
    checks = [decide.check_rule(models, c) for c in cells]
    judged = [k for k in checks if k.holds is not None]
    if judged:
        parts.append(f"the notebook's rule holds in {sum(k.holds for k in judged)} of "
                     f"{len(judged)} cells with work")
    return "Fastest by median — " + "; ".join(parts)


def map_md(results: cr.Results, cells: list[decide.Cell], racing: list[str],
           chart: str | None) -> str:
    ctx = results.context
    host = ctx.get("hostname") or ctx.get("host_name", "?")
    cores = ctx.get("machine_usable_cores") or ctx.get("usable_cores", "?")
    out = [f"# Which model for this work? — decision map, {ctx.get('date', '?')}, host {host} "
           f"({cores} usable cores)", "",
           "Each cell is one kind of task: it computes `cpu_us` of the notebook's cpu_intensivo, "
           "then waits `io_ms`. The cell names the model that finished the batch first (lowest "
           "median), its margin over the runner-up (the fastest model of another family: its median ÷ the winner's) and the "
           "Mann–Whitney U test's p over their repetitions; **tie** when the test cannot "
           "separate the two (p ≥ 0.05, or less than 1 % apart).", "",
           f"**{headline(cells, results.models)}.**", ""]
    if chart:
        out += [f"![decision map]({chart})", ""]
    for lang in (decide.CPP, decide.PYTHON):
        for fixed, by_cell in decide.grid_groups(cells, lang).items():
            out += [f"## {group_title(lang, fixed)}", ""] + table_md(by_cell) + [""]
    rule = decide.rule_summary(results.models, cells)
    if rule:
        out += [f"## The notebook's rule of thumb here ({decide.RULE})", "",
                "A task is CPU-bound when its compute is longer than its wait, I/O-bound when the "
                "wait is longer. The rule holds in a cell when its winner (or one of a tie) is "
                "the model the rule names: compute in processes (`processes`, "
                "`async.processes`) for CPU-bound tasks, a thread pool or an event loop for "
                "I/O-bound ones.", ""]
        out += [f"- {line.strip()}" for line in rule] + [""]
    out += ["## How it was measured", ""] + [f"- {r}" for r in racing] + [""]
    out += ["## Every cell", ""] + details_md(cells) + [""]
    return "\n".join(out)


def terminal_map(results: cr.Results, cells: list[decide.Cell], folder: str) -> list[str]:
    out = []
    for lang in (decide.CPP, decide.PYTHON):
        for fixed, by_cell in decide.grid_groups(cells, lang).items():
            out += ["", group_title(lang, fixed) + " — winner, margin over the runner-up, p"]
            out += table_text(by_cell)
    out += [""] + [line for line in decide.rule_summary(results.models, cells)]
    out += ["", f"{headline(cells, results.models)}.", f"Map, details and chart: {folder}/map.md"]
    return out


# --- your own task -------------------------------------------------------------------------

def own_task_lines(cells: list[decide.Cell], cores: int) -> list[str]:
    ranked, why = decide.rank_point(cells, cores)
    args = cells[0].args
    T, S = args.get("tasks", 1), args.get("steps", 1)
    head = (f"Your task: {T:,} tasks × {S} step{'s' if S != 1 else ''} of "
            f"{cr.format_seconds(args.get('cpu_us', 0) * 1e-6)} CPU + "
            f"{cr.format_seconds(args.get('io_ms', 0) * 1e-3)} wait, on {cores} cores: "
            f"every model, fastest first")
    name_w = max([len(r.entry.model) for r in ranked] + [5]) + 2
    out = [head, f"{'#':>3}  {'model':<{name_w}}{'median':>10}{'× fastest':>11}  verdict"]
    for i, r in enumerate(ranked, 1):
        t = cr.format_seconds(r.entry.median) if r.ratio is not None else "–"
        ratio = f"{r.ratio:.2f}" if r.ratio is not None else "–"
        out.append(f"{i:>3}  {r.entry.model:<{name_w}}{t:>10}{ratio:>11}  {r.verdict}")
    bounds = [(r.entry.model, r.bound) for r in ranked if r.bound]
    if bounds:
        out += ["", "What bounds each model (its ideal):"]
        out += [f"  {m:<{name_w}}{b}" for m, b in bounds]
    out += ["", f"Why: {why}"]
    return out


def own_task_md(results: cr.Results, cells: list[decide.Cell], cores: int,
                racing: list[str]) -> str:
    ctx = results.context
    lines = own_task_lines(cells, cores)
    return "\n".join([f"# Your own task — {ctx.get('date', '?')}, host "
                      f"{ctx.get('hostname') or ctx.get('host_name', '?')}", "", "```"]
                     + lines + ["```", "", "## How it was measured", ""]
                     + [f"- {r}" for r in racing] + [""])


# --- crossovers ----------------------------------------------------------------------------

def crossover_md(title_ctx: dict, sections: list[tuple[str, list[str]]], charts: list[str],
                 timing: str, notes: list[str]) -> str:
    host = title_ctx.get("hostname") or title_ctx.get("host_name", "?")
    out = [f"# Where the choice flips — crossovers, {title_ctx.get('date', '?')}, host {host}",
           "",
           "§4's cell (4 tasks of cpu_intensivo(n)) and §4.1's (trabajo on a growing number of "
           "tasks, chunksize 1 and 20) grown until the winner changes, in C++ and in the "
           "notebook's Python. A break-even is read between two measured points on either side "
           "of it, each separated by a Mann–Whitney U test over 5 repetitions, and interpolated "
           "on log scales; it is never extrapolated.", ""]
    for c in charts:
        out += [f"![{c}]({c})", ""]
    for title, lines in sections:
        out += [f"## {title}", ""] + [f"- {x}" for x in lines] + [""]
    if notes:
        out += ["## Notes", ""] + [f"- {n}" for n in notes] + [""]
    out += [timing, ""]
    return "\n".join(out)
