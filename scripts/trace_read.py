"""Reading concbench's traces: `concbench --trace=PATH` (the C++) and `notebook_python.py
--trace=PATH` (the notebook's Python) write the same Chrome Trace Event Format.

    data = load("results/<run>/trace.json")
    problems = validate(data)          # [] when it follows the format's rules
    for p in processes(data):          # one per traced benchmark
        s = summarize(p)
        print(p.name, s.max_overlap, s.lanes, s.first_gap_s)

The format, as both writers use it: {"traceEvents": [...], "displayTimeUnit": "ms", "otherData":
{...}}; each traced benchmark is one process (named after the benchmark) whose tid 0, "the
batch", holds one complete event "batch" (args: benchmark, tasks, ideal_s, measured_s, error);
its other lanes are threads ("main thread (tid N)", "thread (tid N)"), worker processes ("worker
process (pid N)", tid = the pid) and event-loop tasks ("task i on the loop (tid N)"). Events of
category "task" and "step" are complete events ("ph": "X", ts and dur in microseconds);
category "model" holds the model's own events (pool start-up, chunks, GIL waits), complete or
instant ("ph": "i"). Standard library only; nothing here prints or draws.
"""
from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field

import concbench_results as cr

METADATA_NAMES = {"process_name", "thread_name", "process_sort_index", "thread_sort_index"}
INSTANT_SCOPES = {"g", "p", "t"}
TID_RANGE = (-2 ** 31, 2 ** 31)  # a tid must fit in a signed 32-bit integer
_SLEEP_STEP = re.compile(r"^sleep (\d+(?:\.\d+)?) ms$")
# A wait step of N ms lasts at least N ms (sleeps never end early; allow the clocks' rounding)
# and, even on a loaded machine, far less than 1000 × N ms: a trace in ns or ms fails one bound.
SLEEP_MIN_FRACTION = 0.9
SLEEP_MAX_FACTOR, SLEEP_MAX_SLACK_US = 100, 1_000_000


class TraceError(cr.ResultsError):
    """A trace that cannot be read: the message is one line, ready to print."""


def load(path: str) -> dict:
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except OSError as e:
        raise TraceError(f"{path}: cannot read: {e.strerror or e}") from None
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise TraceError(f"{path}: not JSON: {e}") from None
    if not isinstance(data, dict) or not isinstance(data.get("traceEvents"), list):
        raise TraceError(f"{path}: not a trace (expected an object with a \"traceEvents\" list)")
    return data


def is_trace(path: str) -> bool:
    """Whether the file is a trace (rather than a results JSON), read cheaply from its start."""
    try:
        with open(path, "rb") as f:
            head = f.read(4096)
    except OSError:
        return False
    return b'"traceEvents"' in head


def _number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def validate(data) -> list[str]:
    """The format's rules a trace breaks, one line each ([] when it keeps them all): a
    `traceEvents` list; every event with name, ph and pid; complete events ("X") with numeric
    ts ≥ 0 and dur ≥ 0; instants with ts and a scope s; metadata ("M") without ts, named
    process_name, thread_name, process_sort_index or thread_sort_index, with args; every tid an
    integer within 32 bits; times in microseconds (a "sleep N ms" step lasts about N × 1000);
    every process and lane that has events (but a global instant) named."""
    if not isinstance(data, dict) or not isinstance(data.get("traceEvents"), list):
        return ["not an object with a \"traceEvents\" list"]
    problems: list[str] = []
    named_pids, named_lanes, used = set(), set(), {}

    def bad(i, ev, why):
        problems.append(f"event {i} ({json.dumps(ev)[:120]}): {why}")

    for i, ev in enumerate(data["traceEvents"]):
        if not isinstance(ev, dict):
            bad(i, ev, "not an object")
            continue
        missing = [k for k in ("name", "ph", "pid") if k not in ev]
        if missing:
            bad(i, ev, f"has no {', '.join(missing)}")
            continue
        if not isinstance(ev["pid"], int) or isinstance(ev["pid"], bool):
            bad(i, ev, "pid is not an integer")
        if "tid" in ev and not (isinstance(ev["tid"], int) and not isinstance(ev["tid"], bool)
                                and TID_RANGE[0] <= ev["tid"] < TID_RANGE[1]):
            bad(i, ev, f"tid {ev['tid']!r} is not an integer within 32 bits")
        ph = ev["ph"]
        if ph == "M":
            if "ts" in ev:
                bad(i, ev, "metadata with a ts")
            if ev["name"] not in METADATA_NAMES:
                bad(i, ev, f"metadata named {ev['name']!r}; expected one of "
                    + ", ".join(sorted(METADATA_NAMES)))
            if not isinstance(ev.get("args"), dict) or not ev["args"]:
                bad(i, ev, "metadata without args")
            elif ev["name"] == "process_name":
                named_pids.add(ev["pid"])
            elif ev["name"] == "thread_name":
                named_lanes.add((ev["pid"], ev.get("tid")))
            continue
        if ph == "X":
            if not _number(ev.get("ts")) or ev["ts"] < 0:
                bad(i, ev, "complete event without a numeric ts ≥ 0")
            if not _number(ev.get("dur")) or ev["dur"] < 0:
                bad(i, ev, "complete event without a numeric dur ≥ 0 (a negative duration?)")
            elif ev.get("cat") == "step":
                m = _SLEEP_STEP.match(str(ev["name"]))
                if m:
                    want = float(m.group(1)) * 1000
                    if not (SLEEP_MIN_FRACTION * want <= ev["dur"]
                            <= SLEEP_MAX_FACTOR * want + SLEEP_MAX_SLACK_US):
                        bad(i, ev, f"a {m.group(1)} ms sleep lasts {ev['dur']} µs: times are "
                            "not in microseconds")
        elif ph in ("i", "I"):
            if not _number(ev.get("ts")) or ev["ts"] < 0:
                bad(i, ev, "instant without a numeric ts ≥ 0")
            if ev.get("s") not in INSTANT_SCOPES:
                bad(i, ev, "instant without a scope s (g, p or t)")
        else:
            bad(i, ev, f"phase {ph!r}: these traces use only X, i and M")
        if ev.get("s") != "g":  # a global instant belongs to no lane
            used.setdefault(ev["pid"], set()).add(ev.get("tid"))
    for pid, tids in sorted(used.items(), key=lambda kv: str(kv[0])):
        if pid not in named_pids:
            problems.append(f"process {pid} has events but no process_name")
        for tid in sorted(tids, key=str):
            if (pid, tid) not in named_lanes:
                problems.append(f"lane {tid} of process {pid} has events but no thread_name")
    unit = data.get("displayTimeUnit")
    if unit is not None and unit not in ("ms", "ns"):
        problems.append(f"displayTimeUnit {unit!r}: expected \"ms\" or \"ns\"")
    return problems


# --- the traced benchmarks -----------------------------------------------------------------------

@dataclass
class Event:
    """One event of a benchmark, in seconds from its batch's start (dur 0 for an instant)."""
    name: str
    cat: str
    tid: int
    t: float
    dur: float
    args: dict
    instant: bool = False

    @property
    def end(self) -> float:
        return self.t + self.dur


@dataclass
class Lane:
    """A row of the timeline: kind is "main" or "thread" (a thread of the process), "worker" (a
    worker process) or "loop" (one task on an event loop); `unit` the thread or process id the
    lane runs on (a loop's lanes share their thread's)."""
    tid: int
    name: str
    sort: int
    kind: str
    unit: int


@dataclass
class Process:
    """One traced benchmark."""
    pid: int
    name: str
    batch: Event | None
    lanes: list[Lane] = field(default_factory=list)
    tasks: list[Event] = field(default_factory=list)
    steps: list[Event] = field(default_factory=list)
    model: list[Event] = field(default_factory=list)

    @property
    def parsed(self) -> cr.ParsedName | None:
        return cr.parse_name(self.name)

    @property
    def lang(self) -> str:
        p = self.parsed
        return "Python" if p is not None and p.lang == "python" else "C++"

    def batch_arg(self, key: str):
        return self.batch.args.get(key) if self.batch is not None else None


_UNIT = re.compile(r"\((?:tid|pid) (\d+)\)")


def lane_kind(name: str) -> str:
    if name.startswith("main thread"):
        return "main"
    if name.startswith("worker process"):
        return "worker"
    if " on the loop" in name:
        return "loop"
    return "thread"


def processes(data: dict) -> list[Process]:
    """The traced benchmarks of a trace, in its order, each event relative to its batch."""
    names, lane_names, sorts = {}, {}, {}
    events: dict[int, list[dict]] = {}
    for ev in data.get("traceEvents", []):
        if not isinstance(ev, dict):
            continue
        pid = ev.get("pid")
        if ev.get("ph") == "M":
            args = ev.get("args") or {}
            if ev.get("name") == "process_name":
                names[pid] = str(args.get("name", pid))
            elif ev.get("name") == "thread_name":
                lane_names[(pid, ev.get("tid"))] = str(args.get("name", ev.get("tid")))
            elif ev.get("name") == "thread_sort_index":
                sorts[(pid, ev.get("tid"))] = args.get("sort_index", 0)
        elif ev.get("ph") in ("X", "i", "I") and _number(ev.get("ts")):
            events.setdefault(pid, []).append(ev)
    out = []
    for pid, evs in events.items():
        batch = next((e for e in evs if e.get("cat") == "batch" and e.get("ph") == "X"), None)
        t0 = batch["ts"] if batch else min(e["ts"] for e in evs)

        def conv(e):
            return Event(str(e.get("name")), str(e.get("cat", "")), e.get("tid", 0),
                         (e["ts"] - t0) / 1e6, (e.get("dur") or 0) / 1e6, e.get("args") or {},
                         e.get("ph") != "X")
        p = Process(pid, names.get(pid, str(pid)), conv(batch) if batch else None)
        for e in evs:
            if e is batch:
                continue
            ev = conv(e)
            {"task": p.tasks, "step": p.steps}.get(ev.cat, p.model).append(ev)
        tids = {e.tid for e in p.tasks + p.steps + p.model if e.tid != 0}
        for tid in sorted(tids, key=lambda t: (sorts.get((pid, t), 1 << 40), t)):
            name = lane_names.get((pid, tid), f"tid {tid}")
            m = _UNIT.search(name)
            p.lanes.append(Lane(tid, name, sorts.get((pid, tid), 0), lane_kind(name),
                                int(m.group(1)) if m else tid))
        p.tasks.sort(key=lambda e: e.t)
        out.append(p)
    return out


def key_of(name: str) -> str | None:
    """The benchmark's name without Google Benchmark's parts (iterations:N, real_time)."""
    p = cr.parse_name(name)
    if p is None:
        return None
    return "/".join([p.model_full, p.workload] + [f"{k}:{v}" for k, v in p.args.items()])


# --- what a timeline shows -----------------------------------------------------------------------

GIL_WAITS = ("waiting for the GIL", "GIL handed over, waiting for it back")
STARTUP = "start the pool"


@dataclass
class Summary:
    """What one traced batch shows: how many tasks ran at most at once and on which lanes, the
    time before the first task, the GIL, the workers' idle ends, against the ideal."""
    tasks: int
    max_overlap: int
    max_computing: int | None  # the most compute steps at one moment (None: no compute steps)
    lanes: int            # threads or worker processes that ran tasks (a loop is one thread)
    lane_kind: str        # "thread", "worker", "loop" or "mixed"
    span_s: float         # the batch
    measured_s: float | None
    ideal_s: float | None
    first_gap_s: float    # from the batch's start to the first task's
    startup_s: float      # the pool's start-up events
    gil_wait_s: float
    wait_s: float         # in wait steps (sleep, echo)
    cpu_share: float | None   # CPU time the tasks' threads got / the tasks' spans (Python)
    idle_tail_s: float    # the longest a lane that ran tasks sat idle before the last task ended
    tasks_left_out: int
    error: str | None


def is_wait(step_name: str) -> bool:
    """A wait step rather than a compute step: a compute step is named as the call it makes,
    `cpu_intensivo(input)`, `trabajo(20000)`; a wait by what it waits for, `sleep 10 ms`,
    `echo 64 B, 500 ms delay` (DescribeStep, src/workload/task_spec.h)."""
    return not step_name.endswith(")")


def max_overlap(tasks: list[Event]) -> int:
    """The most tasks running at one moment (a task ending as another starts is not overlap)."""
    edges = sorted([(t.t, 1) for t in tasks] + [(t.end, -1) for t in tasks],
                   key=lambda e: (e[0], e[1]))
    most = now = 0
    for _, d in edges:
        now += d
        most = max(most, now)
    return most


def summarize(p: Process) -> Summary:
    units: dict[int, str] = {}
    lane_of = {lane.tid: lane for lane in p.lanes}
    last_end: dict[int, float] = {}
    for t in p.tasks:
        lane = lane_of.get(t.tid)
        unit = lane.unit if lane else t.tid
        units[unit] = "loop" if lane and lane.kind == "loop" else (
            "worker" if lane and lane.kind == "worker" else "thread")
        last_end[unit] = max(last_end.get(unit, 0.0), t.end)
    kinds = set(units.values())
    end = max(last_end.values(), default=0.0)
    # Compute steps where they run: a worker's or a thread's, not the loop's view of a step it
    # handed to a worker (async.processes records both), unless the loop computes itself.
    compute = [s for s in p.steps if not is_wait(s.name)]
    off_loop = [s for s in compute if lane_of.get(s.tid) is None or lane_of[s.tid].kind != "loop"]
    cpu = [(t.args["thread_cpu_us"] / 1e6, t.dur) for t in p.tasks
           if isinstance(t.args.get("thread_cpu_us"), (int, float)) and t.dur > 0]
    return Summary(
        tasks=len(p.tasks), max_overlap=max_overlap(p.tasks),
        max_computing=max_overlap(off_loop or compute) if compute else None, lanes=len(units),
        lane_kind=kinds.pop() if len(kinds) == 1 else ("mixed" if kinds else "thread"),
        span_s=p.batch.dur if p.batch else end,
        measured_s=p.batch_arg("measured_s"), ideal_s=p.batch_arg("ideal_s"),
        first_gap_s=p.tasks[0].t if p.tasks else 0.0,
        startup_s=sum(e.dur for e in p.model if e.name.startswith(STARTUP)),
        gil_wait_s=sum(e.dur for e in p.model if e.name in GIL_WAITS),
        wait_s=sum(e.dur for e in p.steps if is_wait(e.name)),
        cpu_share=sum(c for c, _ in cpu) / sum(d for _, d in cpu) if cpu else None,
        idle_tail_s=max((end - e for e in last_end.values()), default=0.0) if len(units) > 1
        else 0.0,
        tasks_left_out=int(p.batch_arg("tasks_left_out") or 0),
        error=p.batch_arg("error"))
