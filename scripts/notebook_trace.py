"""Traces the notebook's own Python the way `concbench --trace` traces the C++: every task on its
lane, in the Chrome Trace Event Format that Perfetto UI and chrome://tracing open.

    trace = TraceFile("python_trace.json")        # scripts/notebook_python.py --trace=PATH
    trace.add("python.threads/sleep/...", run_the_cell_once, ideal_s=0.5)

TraceFile.add runs a cell once more, untimed, after its timed repetitions, with the notebook's
module (notebook_code) patched and restores it afterwards; the notebook's code itself is never
changed. While it runs:
- each task function (TASK_FUNCTIONS) records its start and end (time.monotonic_ns: the
  CLOCK_MONOTONIC the C++ trace uses), the kernel thread id (threading.get_native_id: the C++
  lanes' tids), the process id, its input (its first integer argument) and, for a plain function,
  the CPU time its thread got meanwhile (time.thread_time_ns: under the GIL, a small share);
- the module's `time` and `asyncio` are proxies whose sleep() records a wait step inside the
  task that called it ("sleep 500 ms"); a wait no task function wraps is a task of its own (§0's
  pause, §3.1's sleeps awaited one after another);
- time_block records the cell's timed region: the trace's "batch" spans it, so a process pool's
  start-up shows as the gap before the first task;
- ProcessPoolExecutor is a subclass that records the pool's start-up (the first submit, which
  forks every worker under the fork start method) and its shut-down.

Worker processes (fork on Linux) inherit the patched module; their events go, one JSON line each,
to a file named after their pid in a temporary folder, which the parent merges when the cell is
done, so a task shows on the lane of the worker that ran it. Under spawn or forkserver an
initializer patches each worker the same way.

The file has one process per benchmark (pid 1, 2, ... in run order, named after it) with the lanes
the C++ trace has: "the batch" (tid 0, one "batch" event whose args hold the benchmark, tasks,
ideal_s and measured_s), "main thread (tid N)", "thread (tid N)", "worker process (pid N)" (tid =
the pid) and, since asyncio's tasks interleave on one thread, "task i on the loop (tid N)" (tid =
1e9 + i). Task i is the i-th task to start. Times are microseconds from the file's first traced
batch. The file is rewritten whole, atomically, after every benchmark. Standard library only.
"""
from __future__ import annotations

import asyncio
import contextlib
import contextvars
import functools
import inspect
import itertools
import json
import multiprocessing
import os
import shutil
import tempfile
import threading
import time
from concurrent.futures import ProcessPoolExecutor

import concbench_results as cr  # write_atomic (standard library only)
import notebook_code as nb

# The notebook's functions that are one task each (§1's tarea_bloqueante, ..., §5.3's tarea_normal).
TASK_FUNCTIONS = ("tarea_bloqueante", "tarea_io", "inc_sin_lock", "inc_con_lock",
                  "tarea_io_async", "cpu_intensivo", "trabajo", "espera", "tarea_normal")
LOOP_TID_BASE = 1_000_000_000  # a loop task's lane: 1e9 + its index, as the C++ trace does
MAX_EVENTS_PER_BENCHMARK = 100_000  # the C++ trace's cap: past it, the first tasks are kept
CLOCK = ("CLOCK_MONOTONIC (Python's time.monotonic_ns), microseconds from the first traced batch")

# The task the running code is inside (its key), per thread and per asyncio task.
_current: contextvars.ContextVar = contextvars.ContextVar("concbench_task", default=None)
_recorder: "Recorder | None" = None


class Recorder:
    """The raw events of one traced run. In the process that made it they are kept in memory; a
    forked worker (another pid) appends them to spool/<pid>.jsonl instead."""

    def __init__(self, spool: str):
        self.spool = spool
        self.pid = os.getpid()
        self.main_tid = threading.main_thread().native_id
        self.events: list[dict] = []
        self.regions: list[tuple[int, int]] = []
        # No lock: a worker forked while another thread held it would wait forever. next() on a
        # count and list.append are atomic under the GIL.
        self._keys = itertools.count()

    def key(self) -> str:
        return f"{os.getpid()}.{next(self._keys)}"

    def emit(self, ev: dict) -> None:
        ev.setdefault("pid", os.getpid())
        ev.setdefault("tid", threading.get_native_id())
        if ev["pid"] == self.pid:
            self.events.append(ev)
            return
        fd = os.open(os.path.join(self.spool, f"{ev['pid']}.jsonl"),
                     os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        try:
            os.write(fd, (json.dumps(ev) + "\n").encode())
        finally:
            os.close(fd)

    def merged(self) -> list[dict]:
        """This process's events and every worker's, read back from the spool."""
        events = list(self.events)
        for name in sorted(os.listdir(self.spool)):
            with open(os.path.join(self.spool, name)) as f:
                events += [json.loads(line) for line in f if line.strip()]
        return events


def _first_int(args) -> int | None:
    return next((a for a in args if type(a) is int), None)


def _running_loop() -> bool:
    return asyncio._get_running_loop() is not None


def _wrap_task(fn):
    """fn, recording each call as a task (or as a step when called inside another task)."""
    name = fn.__name__

    def record(key, parent, t0, t1, args, loop, cpu_ns=None):
        ev = {"kind": "step" if parent else "task", "key": key, "parent": parent,
              "name": f"{name}(input)" if parent else name, "b": t0, "e": t1,
              "input": _first_int(args), "loop": loop}
        if cpu_ns is not None:
            ev["cpu_ns"] = cpu_ns
        _recorder.emit(ev)

    if inspect.iscoroutinefunction(fn):
        @functools.wraps(fn)
        async def task(*args, **kwargs):
            if _recorder is None:
                return await fn(*args, **kwargs)
            key, parent = _recorder.key(), _current.get()
            token = _current.set(key)
            t0 = time.monotonic_ns()
            try:
                return await fn(*args, **kwargs)
            finally:
                t1 = time.monotonic_ns()
                _current.reset(token)
                record(key, parent, t0, t1, args, True)
        return task

    @functools.wraps(fn)
    def task(*args, **kwargs):
        if _recorder is None:
            return fn(*args, **kwargs)
        key, parent = _recorder.key(), _current.get()
        token = _current.set(key)
        t0, c0 = time.monotonic_ns(), time.thread_time_ns()
        try:
            return fn(*args, **kwargs)
        finally:
            t1, c1 = time.monotonic_ns(), time.thread_time_ns()
            _current.reset(token)
            record(key, parent, t0, t1, args, _running_loop(), c1 - c0)
    return task


def _wait_name(seconds) -> str:
    """'sleep 500 ms', as the C++ trace names a wait step."""
    return f"sleep {round(float(seconds) * 1000, 3):g} ms"


def _record_wait(name: str, t0: int, t1: int, loop: bool) -> None:
    """A wait step inside the current task; outside any, a task of its own holding the step."""
    if _recorder is None:
        return
    parent = _current.get()
    if parent is None:
        parent = _recorder.key()
        _recorder.emit({"kind": "task", "key": parent, "parent": None, "name": "wait",
                        "b": t0, "e": t1, "input": None, "loop": loop})
    _recorder.emit({"kind": "step", "key": _recorder.key(), "parent": parent, "name": name,
                    "b": t0, "e": t1, "loop": loop})


class _Proxy:
    """A module seen through the notebook's globals, with some attributes replaced."""

    def __init__(self, module, **replaced):
        self._module = module
        self.__dict__.update(replaced)

    def __getattr__(self, name):
        return getattr(self._module, name)


def _traced_time(real):
    def sleep(seconds):
        t0 = time.monotonic_ns()
        try:
            return real.sleep(seconds)
        finally:
            _record_wait(_wait_name(seconds), t0, time.monotonic_ns(), False)
    return _Proxy(real, sleep=sleep)


def _traced_asyncio(real):
    async def sleep(delay, result=None):
        t0 = time.monotonic_ns()
        try:
            return await real.sleep(delay, result)
        finally:
            _record_wait(_wait_name(delay), t0, time.monotonic_ns(), True)
    return _Proxy(real, sleep=sleep)


def _traced_time_block(real):
    @contextlib.contextmanager
    def time_block(label="tarea"):
        with real(label):
            t0 = time.monotonic_ns()
            try:
                yield
            finally:
                if _recorder is not None:
                    _recorder.regions.append((t0, time.monotonic_ns()))
    return time_block


def _model(name: str, t0: int, t1: int) -> None:
    if _recorder is not None:
        _recorder.emit({"kind": "model", "name": name, "b": t0, "e": t1})


class TracedProcessPool(ProcessPoolExecutor):
    """ProcessPoolExecutor recording its start-up (the first submit, which under the fork start
    method forks every worker) and its shut-down; under spawn or forkserver it patches each
    worker (an initializer) so that the tasks it runs are recorded too."""

    def __init__(self, max_workers=None, mp_context=None, initializer=None, initargs=(),
                 **kwargs):
        method = (mp_context or multiprocessing).get_start_method()
        if initializer is None and method != "fork" and _recorder is not None:
            initializer, initargs = _worker_init, (_recorder.spool,)
        super().__init__(max_workers, mp_context, initializer, initargs, **kwargs)
        self._concbench_method = method
        self._concbench_started = False

    def submit(self, fn, /, *args, **kwargs):
        if self._concbench_started:
            return super().submit(fn, *args, **kwargs)
        self._concbench_started = True
        t0 = time.monotonic_ns()
        try:
            return super().submit(fn, *args, **kwargs)
        finally:
            how = "fork" if self._concbench_method == "fork" else self._concbench_method
            _model(f"start the pool: {how} {self._max_workers} workers"
                   if how == "fork" else f"start the pool ({how}): first submit",
                   t0, time.monotonic_ns())

    def shutdown(self, *args, **kwargs):
        t0 = time.monotonic_ns()
        try:
            return super().shutdown(*args, **kwargs)
        finally:
            _model("shut the pool down", t0, time.monotonic_ns())


def _worker_init(spool: str) -> None:
    """A spawned worker's initializer: its notebook module patched, its events to the spool."""
    global _recorder
    _recorder = Recorder(spool)
    _recorder.pid = -1  # never the parent: every event goes to the spool
    _patch()


def _patch() -> dict:
    """Patches the notebook's module; returns what to put back."""
    saved = {name: getattr(nb, name) for name in
             (*TASK_FUNCTIONS, "time", "asyncio", "time_block", "ProcessPoolExecutor")}
    for name in TASK_FUNCTIONS:
        setattr(nb, name, _wrap_task(saved[name]))
    nb.time = _traced_time(saved["time"])
    nb.asyncio = _traced_asyncio(saved["asyncio"])
    nb.time_block = _traced_time_block(saved["time_block"])
    nb.ProcessPoolExecutor = TracedProcessPool
    return saved


@contextlib.contextmanager
def tracing():
    """Records what the notebook's code does inside the block; yields the Recorder."""
    global _recorder
    spool = tempfile.mkdtemp(prefix="concbench_trace.")
    saved = _patch()
    _recorder = Recorder(spool)
    try:
        yield _recorder
    finally:
        rec, _recorder = _recorder, None
        for name, value in saved.items():
            setattr(nb, name, value)
        rec.events = rec.merged()
        shutil.rmtree(spool, ignore_errors=True)


# --- the Chrome Trace Event Format ---------------------------------------------------------------

def _meta(pid: int, name: str, args: dict, tid: int | None = None) -> dict:
    ev = {"ph": "M", "pid": pid, "name": name, "args": args}
    if tid is not None:
        ev["tid"] = tid
    return ev


def process_events(pid: int, benchmark: str, rec: Recorder, t0_ns: int, ideal_s: float | None,
                   measured_s: float | None, error: str | None,
                   max_events: int = MAX_EVENTS_PER_BENCHMARK) -> tuple[list[dict], int]:
    """One benchmark's events in the trace's format (times in µs from t0_ns), and how many
    tasks were left out to keep it under max_events."""
    raw = rec.events
    tasks = sorted((e for e in raw if e["kind"] == "task"), key=lambda e: (e["b"], e["key"]))
    index = {e["key"]: i for i, e in enumerate(tasks)}
    steps = [e for e in raw if e["kind"] == "step" and e["parent"] in index]
    per_task = 2 + (len(steps) // len(tasks) if tasks else 0)
    kept = min(len(tasks), max(1, (max_events - 64) // per_task))
    left_out = len(tasks) - kept

    def us(ns: int) -> float:
        return round((ns - t0_ns) / 1000, 3)

    def dur(ev: dict) -> float:
        return round(max(0, ev["e"] - ev["b"]) / 1000, 3)

    lanes: dict[int, tuple[tuple, str]] = {}  # tid -> (sort key, name)

    def lane(ev: dict, task: int | None = None) -> int:
        if ev["pid"] != rec.pid:
            tid = ev["pid"]
            lanes.setdefault(tid, ((2, ev["b"]), f"worker process (pid {tid})"))
        elif task is not None and tasks[task]["loop"]:
            tid = LOOP_TID_BASE + task
            lanes.setdefault(tid, ((3, task), f"task {task} on the loop (tid {ev['tid']})"))
        else:
            tid = ev["tid"]
            main = tid == rec.main_tid
            lanes.setdefault(tid, ((0 if main else 1, ev["b"]),
                                   f"{'main thread' if main else 'thread'} (tid {tid})"))
        return tid

    body = []
    for i, t in enumerate(tasks[:kept]):
        args = {"benchmark": benchmark, "task": i}
        if t["input"] is not None:
            args["input"] = t["input"]
        if t["name"] != "wait":
            args["function"] = t["name"]
        if t.get("cpu_ns") is not None:
            args["thread_cpu_us"] = round(t["cpu_ns"] / 1000, 3)
        body.append({"name": f"task {i}", "cat": "task", "ph": "X", "pid": pid,
                     "tid": lane(t, i), "ts": us(t["b"]), "dur": dur(t),
                     "args": args})
    steps_of: dict[int, int] = {}
    for s in sorted(steps, key=lambda e: e["b"]):
        i = index[s["parent"]]
        if i >= kept:
            continue
        n = steps_of[i] = steps_of.get(i, -1) + 1
        body.append({"name": s["name"], "cat": "step", "ph": "X", "pid": pid,
                     "tid": lane(tasks[i], i), "ts": us(s["b"]), "dur": dur(s),
                     "args": {"benchmark": benchmark, "task": i, "step": n}})
    for m in (e for e in raw if e["kind"] == "model"):
        body.append({"name": m["name"], "cat": "model", "ph": "X", "pid": pid, "tid": lane(m),
                     "ts": us(m["b"]), "dur": dur(m),
                     "args": {"benchmark": benchmark}})
    begin = min((b for b, _ in rec.regions), default=min((e["b"] for e in raw), default=t0_ns))
    end = max((e for _, e in rec.regions), default=max((e["e"] for e in raw), default=begin))
    batch = {"benchmark": benchmark, "tasks": len(tasks), "tasks_left_out": left_out,
             "events_left_out": 0}
    if ideal_s is not None:
        batch["ideal_s"] = ideal_s
    if measured_s is not None:
        batch["measured_s"] = round(measured_s, 9)
    if error:
        batch["error"] = error
        body.append({"name": f"error: {error}", "cat": "model", "ph": "i", "s": "t", "pid": pid,
                     "tid": 0, "ts": us(end), "args": {"benchmark": benchmark}})
    if left_out:
        body.append({"name": f"{left_out} tasks left out", "cat": "model", "ph": "i", "s": "t",
                     "pid": pid, "tid": 0, "ts": us(end), "args": {"benchmark": benchmark}})
    head = [_meta(pid, "process_name", {"name": benchmark}),
            _meta(pid, "process_sort_index", {"sort_index": pid}),
            _meta(pid, "thread_name", {"name": "the batch"}, 0),
            _meta(pid, "thread_sort_index", {"sort_index": 0}, 0)]
    for n, (tid, (_, name)) in enumerate(sorted(lanes.items(), key=lambda kv: kv[1][0]), 1):
        head += [_meta(pid, "thread_name", {"name": name}, tid),
                 _meta(pid, "thread_sort_index", {"sort_index": n}, tid)]
    head.append({"name": "batch", "cat": "batch", "ph": "X", "pid": pid, "tid": 0,
                 "ts": us(begin), "dur": round(max(0, end - begin) / 1000, 3), "args": batch})
    return head + body, left_out


class TraceFile:
    """The trace of one run of the notebook's Python: TraceFile(path).add(...) per benchmark."""

    def __init__(self, path: str):
        self.path = path
        self.events: list[dict] = [_meta(0, "process_name", {"name": "notebook_python"})]
        self.left_out: list[str] = []
        self.not_traced: list[str] = []
        self.t0_ns: int | None = None
        self.pids = 0
        self.failed: str | None = None  # why the file could not be written (the caller's to set)

    def add(self, benchmark: str, run, ideal_s: float | None = None) -> None:
        """Runs `run` (one untimed run of the cell; returns what run_cell returns, with wall_s)
        under tracing and rewrites the file with its events (OSError if it cannot)."""
        error, measured = None, None
        with tracing() as rec:
            try:
                measured = getattr(run(), "wall_s", None)
            except Exception as e:  # noqa: BLE001 - the trace says what failed, like the C++ one
                error = str(e).strip() or type(e).__name__
        if not any(e["kind"] == "task" for e in rec.events) and error is None:
            self.not_traced.append(f"{benchmark}: none of the notebook's task functions ran")
            self.write()
            return
        if self.t0_ns is None:
            self.t0_ns = min([b for b, _ in rec.regions] + [e["b"] for e in rec.events])
        self.pids += 1
        events, left_out = process_events(self.pids, benchmark, rec, self.t0_ns, ideal_s,
                                          measured, error)
        self.events += events
        if left_out:
            self.left_out.append(f"{benchmark}: {left_out} tasks left out")
        self.write()

    def write(self) -> None:
        cr.write_atomic(self.path, json.dumps(
            {"displayTimeUnit": "ms", "traceEvents": self.events,
             "otherData": {"clock": CLOCK, "left_out": self.left_out,
                           "not_traced": self.not_traced}}) + "\n")

