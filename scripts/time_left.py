"""How long a sweep has left, from the binary's plan and the benchmarks measured so far.

The binary's own estimate (bench/time_left.h) at the granularity a sweep sees: it runs one
family at a time, its benchmarks in order, each with all its repetitions, and learns that one is
done from the binary's output. Every benchmark not done yet counts at its planned seconds plus
the mean excess (measured - planned) of the benchmarks done: the plan's error is mostly a cost it
leaves out (the binary's start and probe, a pool's start, Google Benchmark's sizing rounds),
about the same for a short benchmark as for a long one. The one in flight is credited with the
time it has run, up to its estimate, and the sum is scaled by (wall time so far) / (time inside
benchmarks), for what happens between them. Nothing is estimated before a benchmark is done.

    left = TimeLeft({"sync/sleep/...": 2.5, "threads/sleep/...": 0.5})
    left.began("sync/sleep/...", 0.0)
    left.finished("sync/sleep/...", 3.1)
    left.seconds_left(3.1)   # 0.5 + (3.1 - 2.5)
"""
from __future__ import annotations


class TimeLeft:
    def __init__(self, planned: dict[str, float]):
        """planned: each benchmark's planned seconds, all repetitions."""
        self.planned = dict(planned)
        self.total = sum(self.planned.values())
        self.done: dict[str, float] = {}  # benchmark -> measured seconds
        self.running: str | None = None
        self.since = 0.0

    def began(self, name: str, at: float) -> None:
        """`name` is in flight from `at` (seconds since the start)."""
        self.running, self.since = name, at

    def finished(self, name: str, at: float) -> None:
        """`name` is done at `at`; nothing is in flight until the next began()."""
        if name in self.planned and name not in self.done:
            self.done[name] = at - self.since if self.running == name else self.planned[name]
        if self.running == name:
            self.running, self.since = None, at

    def seconds_left(self, now: float, between: bool = True) -> float | None:
        """The estimate at `now`; without `between`, the time between benchmarks is left out (for
        a caller that estimates it on its own)."""
        inside = sum(self.done.values())
        if not self.done or inside <= 0:
            return None
        excess = sum(self.done[n] - self.planned[n] for n in self.done) / len(self.done)
        estimate = {n: max(0.0, p + excess) for n, p in self.planned.items() if n not in self.done}
        left = sum(estimate.values())
        in_flight = self.running in estimate
        if in_flight:
            left -= min(now - self.since, estimate[self.running])
        settled = self.since if in_flight else now
        return max(0.0, left) * (max(1.0, settled / inside) if between else 1.0)
