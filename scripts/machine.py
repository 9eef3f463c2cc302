"""What the machine could deliver during a run, from the machine_* keys of its JSON context
(the probe concbench runs before and after the benchmarks, src/measure/probe.h), as a card and
warnings in plain words. Modelled on pyperf's `system show`: it reports, it never tunes.

    card, warnings = machine_summary(results.context)

Pure computing: nothing here prints.
"""
from __future__ import annotations

import math

# Start and end of a run differ by more than this: the machine changed under the run.
DRIFT = 0.20
# Capacity below this fraction of the usable cores: parallel models cannot reach their ideal.
LOW_CAPACITY = 0.80
# One core's noise above this: small differences are not meaningful.
HIGH_NOISE = 0.05


def number(ctx: dict, key: str) -> float | None:
    """The context value `key` as a number; None when absent, unknown or not a number."""
    v = ctx.get(key)
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(f) else f


def usable_cores(ctx: dict) -> str:
    """'1 usable core', '2 usable cores' ('? usable cores' when the context does not say)."""
    cores = str(ctx.get("machine_usable_cores") or ctx.get("usable_cores") or "?")
    return f"{cores} usable core" + ("" if cores == "1" else "s")


def has_probe(ctx: dict) -> bool:
    return number(ctx, "machine_parallel_capacity") is not None


def machine_card(ctx: dict) -> list[tuple[str, str]]:
    """(what, value) rows of the probe's findings, start and end of the run."""
    def f(key, fmt, unit=""):
        v = number(ctx, key)
        return "unknown" if v is None else fmt.format(v) + unit
    rows = [
        ("parallel capacity (CPU work)",
         f"{f('machine_parallel_capacity', '{:.2f}')} of {usable_cores(ctx)} at the start, "
         f"{f('machine_parallel_capacity_end', '{:.2f}')} at the end"),
        ("noise of one core (cv)", f"{f('machine_noise_cv', '{:.1%}')} at the start, "
                                   f"{f('machine_noise_cv_end', '{:.1%}')} at the end"),
        ("cross-thread wake-up", f("machine_wakeup_us", "{:.1f}", " µs round trip")),
        ("overshoot of a 1 ms sleep", f("machine_sleep_overshoot_us", "{:.0f}", " µs")),
        ("fork + exit + wait", f("machine_fork_us", "{:.0f}", " µs")),
        ("load average (1 min)", f("machine_load", "{:.2f}")),
        ("SMT siblings", str(ctx.get("machine_smt", "unknown"))),
        ("governor, turbo", f"{ctx.get('machine_governor', 'unknown')}, {ctx.get('machine_turbo', 'unknown')}"),
        ("virtualised", str(ctx.get("machine_virtualized", "unknown"))),
    ]
    return rows


def machine_warnings(ctx: dict) -> list[str]:
    """Plain-words warnings about what the machine did to this run's numbers."""
    out = []
    try:
        cores = int(ctx.get("machine_usable_cores") or ctx.get("usable_cores") or 0)
    except ValueError:
        cores = 0
    caps = [c for c in (number(ctx, "machine_parallel_capacity"), number(ctx, "machine_parallel_capacity_end"))
            if c is not None]
    if cores > 1 and caps and min(caps) < LOW_CAPACITY * cores:
        lo = min(caps)
        out.append(f"The {cores} usable cores delivered {lo:.1f}× on CPU work during this run: no "
                   f"parallel model could beat sync by more than that here; machine_efficiency "
                   f"reads each model against what the machine gave at that moment.")
    start, end = number(ctx, "machine_parallel_capacity"), number(ctx, "machine_parallel_capacity_end")
    if start and end and abs(end - start) / start > DRIFT:
        out.append(f"The parallel capacity changed from {start:.2f} to {end:.2f} cores between the "
                   f"start and the end of the run: the machine's load changed under it.")
    noises = [n for n in (number(ctx, "machine_noise_cv"), number(ctx, "machine_noise_cv_end")) if n is not None]
    if noises and max(noises) > HIGH_NOISE:
        n = max(noises)
        out.append(f"CPU timings vary by {n:.0%} from round to round: differences below about "
                   f"{2 * n:.0%} are not meaningful unless the repetitions' U test says so.")
    s0, s1 = number(ctx, "machine_noise_cv"), number(ctx, "machine_noise_cv_end")
    if s0 and s1 and abs(s1 - s0) / s0 > DRIFT and max(s0, s1) > HIGH_NOISE / 2:
        out.append(f"The noise changed from {s0:.1%} to {s1:.1%} between the start and the end.")
    load = number(ctx, "machine_load")
    try:
        online = int(ctx.get("num_cpus") or 0)
    except ValueError:
        online = 0
    if load is not None and online and load > online:
        out.append(f"The load average was {load:.1f} on {online} CPUs when the run started: other "
                   f"work was running here.")
    if ctx.get("machine_smt") == "yes":
        out.append("Some usable CPUs are SMT siblings of one core: two threads on them do not "
                   "get two cores' worth of CPU.")
    gov = ctx.get("machine_governor", "unknown")
    if gov not in ("unknown", "performance", ""):
        out.append(f"The CPU frequency governor is '{gov}': a core's speed may change with the load.")
    if ctx.get("machine_turbo") == "on":
        out.append("Turbo boost is on: a short burst may run faster than a sustained loop.")
    if ctx.get("machine_virtualized") == "yes":
        out.append("This is a virtual machine: its host may lend these CPUs to others at any "
                   "moment, and waking an idle vCPU is slow.")
    return out
