"""How long a sweep has left: the binary's plan, scaled by how what is done compared with it.

The same estimate as the binary's own progress lines (bench/time_left.h), at the granularity a
sweep sees: it runs one family at a time, its benchmarks in order, each with all its
repetitions, and learns that one is done from the binary's output. At time t, with benchmark c
in flight since s:

    done = the planned seconds of the benchmarks done
    pace = s / done                 (the wall time of everything done, against its plan)
    left = pace × (plan − done − plan(c)) + max(0, pace × plan(c) − (t − s))

Nothing is estimated before the first benchmark is done.

    left = TimeLeft({"sync/sleep/...": 2.5, "threads/sleep/...": 0.5})
    left.began("sync/sleep/...", 0.0)
    left.finished("sync/sleep/...", 3.1)
    left.seconds_left(3.1)   # 3.1 / 2.5 × 0.5
"""
from __future__ import annotations


class TimeLeft:
    def __init__(self, planned: dict[str, float]):
        """planned: each benchmark's planned seconds, all repetitions."""
        self.planned = dict(planned)
        self.total = sum(self.planned.values())
        self.done_s = 0.0
        self.done: set[str] = set()
        self.running: str | None = None
        self.since = 0.0

    def began(self, name: str, at: float) -> None:
        """`name` is in flight from `at` (seconds since the start)."""
        self.running, self.since = name, at

    def finished(self, name: str, at: float) -> None:
        """`name` is done at `at`; nothing is in flight until the next began()."""
        if name in self.planned and name not in self.done:
            self.done.add(name)
            self.done_s += self.planned[name]
        if self.running == name:
            self.running, self.since = None, at

    def seconds_left(self, now: float) -> float | None:
        if self.done_s <= 0:
            return None
        in_flight = self.running is not None and self.running not in self.done
        settled = self.since if in_flight else now
        pace = settled / self.done_s
        current = self.planned.get(self.running, 0.0) if in_flight else 0.0
        rest = max(0.0, self.total - self.done_s - current)
        return pace * rest + max(0.0, pace * current - (now - settled))
