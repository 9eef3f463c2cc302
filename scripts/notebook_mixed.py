"""The notebook's Python on tasks that compute and then wait (workload `mixed`), and on §4's and
§4.1's cells grown (the crossovers), run on this interpreter into Google Benchmark JSON: the
Python half of scripts/map.

    python3 scripts/notebook_mixed.py --suite=map -o python.json          # the decision map
    python3 scripts/notebook_mixed.py --suite=map --cpu_us=2000 --io_ms=20 --tasks=100 --list
    python3 scripts/notebook_mixed.py --suite=crossover --list_planned
    python3 scripts/notebook_mixed.py --names=- --repetitions=4 --interleave -o race.json < names

What runs is a list of benchmark names, each the Python twin of one of concbench's C++
benchmarks: `python.<C++ model>/<workload>/<the C++ arguments, in their order>/real_time`. With
--suite (and the binary's grid flags), the C++ names come from the binary (`concbench
--suite=S ... --list_planned`) and each one whose model has a runner here gets its twins; with
--names the Python names are given (one a line; `-` reads them from standard input). So a twin
has the C++ row's arguments by construction, and a C++ argument a runner does not know fails the
plan with one `fatal:` line.

The runners are the notebook's code as it would be written for such tasks (`tarea_mixta`:
cpu_intensivo, then time.sleep or `await asyncio.sleep`), on every model the notebook shows:
  python.sync                      a plain loop
  python.threads                   ThreadPoolExecutor(workers).map
  python.processes                 ProcessPoolExecutor(workers).map(chunksize), pool warm
  python.processes.with_startup    `with ProcessPoolExecutor(workers) as ex:` inside the timing
  python.async                     asyncio.gather, compute inline on the loop
  python.async.offload             compute through run_in_executor(ThreadPoolExecutor())
  python.async.processes           compute through run_in_executor(ProcessPoolExecutor(workers))
and the three asyncio rows again on uvloop (`python.async.uvloop`, ...), when it is installed.
Pools and loops are built, and their threads or processes started, before the timed batches
(except with_startup, whose pool is the point). Each repetition times `iterations` batches, as
many as make about --target_s seconds (at least one). Every batch's results are checked against
checksums computed in closed form (cpu_intensivo and trabajo are sums of residues mod 97):
a mixed task i gives steps × (cpu_intensivo(n) + i + 1), with n calibrated once per run to
cpu_us on this interpreter (the context's cpu_intensivo_ns_per_step and python_mixed_n).
Counters: checksum, ideal_s (the same formula as the C++ ideal, measure/ideal.h, with this
model's shape: the GIL gives threads one CPU slot), efficiency, overhead_s.

Exit status: 0 when everything ran and verified, 1 when a benchmark failed, 2 for a mistake on
the command line (one `fatal:` line). Only the standard library (and uvloop, if present).
"""
from __future__ import annotations

import argparse
import asyncio
import functools
import heapq
import json
import math
import os
import random
import subprocess
import sys
import threading
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

import concbench_results as cr  # noqa: E402  (standard library only)
import notebook_python as npy  # noqa: E402  (its JSON rows, context and table reading)
from notebook_code import cpu_intensivo, trabajo  # noqa: E402  (the notebook's own functions)

try:
    import uvloop
except ImportError:  # the uvloop rows are then left out, and the plan says so
    uvloop = None

DEFAULT_BINARY = npy.DEFAULT_BINARY
SUITES = ("map", "crossover")
MS = 1e-3


# =================================================================================================
# The notebook's code, for a task that computes and then waits. The notebook's tasks either
# compute (cpu_intensivo, §4) or wait (time.sleep, asyncio.sleep, §1-§3); a real task does both.

# harness: a blocking wait of 0 is no wait (`if espera_s:`), as concbench's BlockingSleep skips
# it; on the loop a wait of 0 still yields (asyncio.sleep(0)), as the C++ loop arms a 0 ms timer.

def tarea_mixta(i: int, n: int, espera_s: float, pasos: int) -> int:
    # Una tarea real: calcula y luego espera (E/S), `pasos` veces
    total = 0
    for _ in range(pasos):
        total += cpu_intensivo(n)
        if espera_s:
            time.sleep(espera_s)
        total += i + 1
    return total


async def tarea_mixta_async(i: int, n: int, espera_s: float, pasos: int) -> int:
    # El cálculo corre en el propio bucle: mientras calcula, ninguna otra tarea avanza
    total = 0
    for _ in range(pasos):
        total += cpu_intensivo(n)
        await asyncio.sleep(espera_s)
        total += i + 1
    return total


async def tarea_mixta_executor(i: int, n: int, espera_s: float, pasos: int, ex) -> int:
    # El cálculo va a un executor (hilos o procesos); el bucle solo espera
    loop = asyncio.get_running_loop()
    total = 0
    for _ in range(pasos):
        total += await loop.run_in_executor(ex, cpu_intensivo, n)
        await asyncio.sleep(espera_s)
        total += i + 1
    return total


# =================================================================================================
# harness: what each workload's tasks are, their checksums in closed form, their CPU cost

# cpu_intensivo(n) = Σ i² mod 97 and trabajo(x) = Σ (x + i) mod 97 repeat every 97 steps.
_SQUARES_97 = [j * j % 97 for j in range(97)]
TRABAJO_STEPS = 50_000  # trabajo's loop, as the notebook wrote it


def cpu_intensivo_sum(n: int) -> int:
    """cpu_intensivo(n) without running it."""
    q, r = divmod(n, 97)
    return q * sum(_SQUARES_97) + sum(_SQUARES_97[:r])


def trabajo_sum(x: int) -> int:
    """trabajo(x) without running it."""
    q, r = divmod(TRABAJO_STEPS, 97)
    return q * (96 * 97 // 2) + sum((x + j) % 97 for j in range(r))


@dataclass(frozen=True)
class Spec:
    """One benchmark: a Python model (its runner's key and loop), a workload and the arguments
    its name carries."""
    name: str
    model: str       # the C++ twin's model: "async.offload"
    loop: str        # "asyncio" or "uvloop" (asyncio models only); "" otherwise
    workload: str
    args: dict

    def arg(self, key: str, default=None):
        return self.args.get(key, default)


class PlanError(Exception):
    """A name this module cannot run as its C++ twin: one `fatal:` line."""


@dataclass
class Speed:
    """This interpreter's seconds per loop step of the notebook's CPU functions."""
    cpu_intensivo_s: float
    trabajo_s: float

    def n_for(self, cpu_us: int) -> int:
        """The n for which cpu_intensivo(n) takes about cpu_us here (0 for 0)."""
        return round(cpu_us * 1e-6 / self.cpu_intensivo_s) if cpu_us > 0 else 0


def _median_time(fn, arg, runs: int = 7) -> float:
    fn(arg)  # warm-up
    ts = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn(arg)
        ts.append(time.perf_counter() - t0)
    return sorted(ts)[len(ts) // 2]


def measure_speed() -> Speed:
    """The median of 7 runs of about 2 ms of each function, after a warm-up (as the binary's
    CpuIntensivoNsPerStep measures the C++ loop)."""
    n = 20_000
    per = _median_time(cpu_intensivo, n) / n
    n = max(1000, round(2e-3 / per))
    return Speed(_median_time(cpu_intensivo, n) / n,
                 _median_time(trabajo, 0, 5) / TRABAJO_STEPS)


@dataclass
class Work:
    """What a batch does, resolved for this interpreter: the task function's arguments per
    task, the expected checksum, and each task's CPU seconds and waits (for the ideal)."""
    tasks: int
    call: tuple                 # (function, fixed keyword arguments) each task runs on its index
    inputs: list
    expected: int
    cpu_s: list                 # per task
    wait_s: float               # per task, in total
    last_wait_s: float          # the last step's wait (0 when a task ends computing)
    n: int | None = None        # the cpu_intensivo n of a step


def work_of(spec: Spec, speed: Speed) -> Work:
    a, T = spec.args, spec.args["tasks"]
    if spec.workload == "mixed":
        steps, wait = a["steps"], a["io_ms"] * MS
        n = speed.n_for(a["cpu_us"])
        step_cpu = n * speed.cpu_intensivo_s
        return Work(T, (tarea_mixta, dict(n=n, espera_s=wait, pasos=steps)), list(range(T)),
                    T * steps * cpu_intensivo_sum(n) + steps * T * (T + 1) // 2,
                    [steps * step_cpu] * T, steps * wait, wait, n)
    if spec.workload == "cpu":
        n = a["n"]
        return Work(T, (cpu_intensivo, {}), [n] * T, T * cpu_intensivo_sum(n),
                    [n * speed.cpu_intensivo_s] * T, 0.0, 0.0, n)
    if spec.workload == "trabajo":
        return Work(T, (trabajo, {}), list(range(T)), sum(trabajo_sum(x) for x in range(T)),
                    [TRABAJO_STEPS * speed.trabajo_s] * T, 0.0, 0.0)
    raise PlanError(f"{spec.name}: no Python twin runs workload '{spec.workload}'")


# --- the ideal: measure/ideal.h's BatchIdealSeconds, for the Python models' shapes -----------------

def makespan(task_s: list, workers: int, chunksize: int) -> float:
    """Best completion time of the tasks on `workers` workers, each taking `chunksize`
    consecutive tasks at a time from the front of the queue (measure/ideal.h's Makespan)."""
    chunks = [sum(task_s[i:i + chunksize]) for i in range(0, len(task_s), chunksize)]
    free = [0.0] * min(workers, max(1, len(chunks)))
    for c in chunks:
        heapq.heapreplace(free, free[0] + c)
    return max(free) if chunks else 0.0


def batch_ideal_s(cpu_s: list, wait_s: float, last_wait_s: float, lanes: int, cpu_slots: int,
                  chunksize: int = 1) -> float:
    """The best time of a batch on a model of this shape (lanes 0: every task at once), on
    perfect cores: no waits: max(Makespan(cpu, k, chunk), Σcpu ÷ k); waits: max(Makespan(cpu_i
    + wait, L, chunk), Σcpu ÷ k + last wait)."""
    lanes = lanes or len(cpu_s)
    if wait_s <= 0:
        return max(makespan(cpu_s, cpu_slots, chunksize), sum(cpu_s) / cpu_slots)
    return max(makespan([c + wait_s for c in cpu_s], lanes, chunksize),
               sum(cpu_s) / cpu_slots + last_wait_s)


def cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()


# =================================================================================================
# harness: the runners. setup() builds the pool or loop (and starts its workers) outside the
# timing; batch() runs the batch once and returns the task results; close() tears down.

def calentar_hilos(ex: ThreadPoolExecutor, k: int) -> None:
    """Makes a thread pool start k threads: k tasks that wait for each other (a thread is only
    reused when one is idle)."""
    barrera = threading.Barrier(k)
    for f in [ex.submit(barrera.wait, 10) for _ in range(k)]:
        f.result()


def calentar_procesos(ex: ProcessPoolExecutor, k: int) -> None:
    list(ex.map(cpu_intensivo, [0] * (2 * k)))


class Runner:
    """How one Python model runs a batch. `shape` is (lanes, cpu slots) for the ideal."""
    needs = ()

    def __init__(self, spec: Spec, work: Work):
        self.spec, self.work = spec, work
        fn, kw = work.call
        self.task = functools.partial(fn, **kw) if kw else fn

    def shape(self) -> tuple[int, int]:
        raise NotImplementedError

    def setup(self) -> None:
        pass

    def batch(self) -> list:
        raise NotImplementedError

    def close(self) -> None:
        pass


class Sync(Runner):
    def shape(self):
        return 1, 1

    def batch(self):
        return [self.task(x) for x in self.work.inputs]


class Threads(Runner):
    needs = ("workers",)

    def shape(self):
        return self.spec.args["workers"], 1  # the GIL: one thread computes at a time

    def setup(self):
        self.ex = ThreadPoolExecutor(max_workers=self.spec.args["workers"])
        calentar_hilos(self.ex, min(self.spec.args["workers"], self.work.tasks))

    def batch(self):
        return list(self.ex.map(self.task, self.work.inputs))

    def close(self):
        self.ex.shutdown()


class Processes(Runner):
    needs = ("workers", "chunksize")

    def shape(self):
        w = self.spec.args["workers"]
        return w, min(w, cores())

    def setup(self):
        self.ex = ProcessPoolExecutor(max_workers=self.spec.args["workers"])
        calentar_procesos(self.ex, self.spec.args["workers"])

    def batch(self):
        return list(self.ex.map(self.task, self.work.inputs,
                                chunksize=self.spec.args["chunksize"]))

    def close(self):
        self.ex.shutdown()


class ProcessesWithStartup(Processes):
    """The notebook's §4 and §4.1: the pool is built and shut down inside the timed block."""

    def setup(self):
        pass

    def batch(self):
        with ProcessPoolExecutor(max_workers=self.spec.args["workers"]) as ex:
            return list(ex.map(self.task, self.work.inputs,
                               chunksize=self.spec.args["chunksize"]))

    def close(self):
        pass


class Async(Runner):
    """asyncio.gather of the tasks on one loop (asyncio's or uvloop's), built once."""

    def shape(self):
        return 0, 1

    def new_loop(self):
        return uvloop.new_event_loop() if self.spec.loop == "uvloop" else \
            asyncio.new_event_loop()

    def setup(self):
        self.loop = self.new_loop()

    def coros(self):
        _, kw = self.work.call
        return [tarea_mixta_async(i, **kw) for i in self.work.inputs]

    def batch(self):
        async def lote():
            return await asyncio.gather(*self.coros())
        return self.loop.run_until_complete(lote())

    def close(self):
        self.loop.close()


class AsyncOffload(Async):
    """Compute through run_in_executor on a ThreadPoolExecutor() of the default size."""

    def shape(self):
        return 0, 1  # the GIL again

    def setup(self):
        super().setup()
        self.ex = ThreadPoolExecutor()
        calentar_hilos(self.ex, self.ex._max_workers)

    def coros(self):
        _, kw = self.work.call
        return [tarea_mixta_executor(i, ex=self.ex, **kw) for i in self.work.inputs]

    def close(self):
        self.ex.shutdown()
        super().close()


class AsyncProcesses(AsyncOffload):
    needs = ("workers",)

    def shape(self):
        return 0, min(self.spec.args["workers"], cores())

    def setup(self):
        self.loop = self.new_loop()
        self.ex = ProcessPoolExecutor(max_workers=self.spec.args["workers"])
        calentar_procesos(self.ex, self.spec.args["workers"])


# The runners, by the C++ model each one is the twin of. The asyncio ones run on uvloop too.
RUNNERS = {"sync": Sync, "threads": Threads, "processes": Processes,
           "processes.with_startup": ProcessesWithStartup, "async": Async,
           "async.offload": AsyncOffload, "async.processes": AsyncProcesses}
ASYNC_RUNNERS = {m for m, r in RUNNERS.items() if issubclass(r, Async)}
# What each workload's tasks can run on: the asyncio runners need a task that waits.
BLOCKING_RUNNERS = set(RUNNERS) - ASYNC_RUNNERS
WORKLOADS = {"mixed": set(RUNNERS) - {"processes.with_startup"},
             "cpu": BLOCKING_RUNNERS, "trabajo": BLOCKING_RUNNERS}
# Arguments a twin may carry that change nothing in Python (no extra bytes travel: payload 0).
INERT = {"payload": 0}


def twins_of(cpp_names, with_uvloop: bool = True) -> list[str]:
    """The Python twins of C++ benchmark names (Google Benchmark's iterations:N dropped, the
    arguments kept in their order), in the C++ order, each once: python.<model>, and
    python.<model>.uvloop for the asyncio ones. Names without a runner give none."""
    out = []  # (the model's rank, name): a uvloop row right after its asyncio model's rows
    ranks: dict = {}
    for name in cpp_names:
        p = cr.parse_name(name)
        if p is None or p.lang or p.cpp_model not in WORKLOADS.get(p.workload, ()):
            continue
        rest = "/".join([p.workload] + [f"{k}:{v}" for k, v in p.args.items()] + ["real_time"])
        rank = ranks.setdefault(p.cpp_model, len(ranks))
        out.append((rank, f"python.{p.cpp_model}/{rest}"))
        if with_uvloop and p.cpp_model in ASYNC_RUNNERS:
            out.append((rank + 0.5, f"python.{p.cpp_model}.uvloop/{rest}"))
    return list(dict.fromkeys(n for _, n in sorted(out, key=lambda x: x[0])))


def parse_spec(name: str) -> Spec:
    p = cr.parse_name(name)
    if p is None or p.lang != "python":
        raise PlanError(f"'{name}' is not a Python benchmark name (python.<model>/<workload>/"
                        "<key>:<value>/.../real_time)")
    model, loop = p.cpp_model, ""
    if model.endswith(".uvloop"):
        model, loop = model[:-len(".uvloop")], "uvloop"
        if model not in ASYNC_RUNNERS:
            raise PlanError(f"{name}: only the asyncio models run on uvloop")
    elif model in ASYNC_RUNNERS:
        loop = "asyncio"
    if model not in RUNNERS:
        raise PlanError(f"{name}: no Python runner for model '{model}'; there are: "
                        f"{', '.join('python.' + m for m in RUNNERS)}")
    if model not in WORKLOADS.get(p.workload, ()):
        raise PlanError(f"{name}: python.{model} does not run workload '{p.workload}'")
    need = {"mixed": ("tasks", "cpu_us", "io_ms", "steps")}.get(p.workload, ("tasks",)) \
        + (("n",) if p.workload == "cpu" else ()) + RUNNERS[model].needs
    missing = [k for k in need if k not in p.args]
    extra = [k for k in p.args if k not in need and INERT.get(k) != p.args[k]]
    if missing or extra:
        raise PlanError(f"{name}: python.{model}/{p.workload} takes "
                        f"{', '.join(need)}" + (f"; missing {', '.join(missing)}" if missing else "")
                        + (f"; cannot run {', '.join(f'{k}:{p.args[k]}' for k in extra)}"
                           if extra else ""))
    if loop == "uvloop" and uvloop is None:
        raise PlanError(f"{name}: uvloop is not installed in {sys.executable}")
    return Spec(name, model, loop, p.workload, dict(p.args))


# =================================================================================================
# harness: planning, timing, checking

# A batch estimated below this is timed once untimed first, and the repetition sized from it.
PILOT_BELOW = 0.5


@dataclass
class Bench:
    spec: Spec
    work: Work
    runner: type
    ideal_s: float
    estimate_s: float
    sections: str = ""
    iterations: int | None = None  # fixed by the first repetition

    @property
    def name(self) -> str:
        return self.spec.name

    def serial_s(self) -> float:
        return sum(self.work.cpu_s) + self.work.tasks * self.work.wait_s


# What a batch costs beyond its ideal, per task, for the plan (measured on a 2-vCPU VM): the
# pools' hand-offs, and a process pool's start-up per worker when it is timed.
OVERHEAD_PER_TASK_S = {"sync": 1e-6, "threads": 60e-6, "processes": 150e-6,
                       "processes.with_startup": 150e-6, "async": 15e-6,
                       "async.offload": 80e-6, "async.processes": 200e-6}
STARTUP_PER_WORKER_S = 8e-3


def plan_bench(spec: Spec, speed: Speed) -> Bench:
    work = work_of(spec, speed)
    runner = RUNNERS[spec.model]
    lanes, slots = runner(spec, work).shape()
    ideal = batch_ideal_s(work.cpu_s, work.wait_s, work.last_wait_s, lanes, slots,
                          spec.arg("chunksize", 1))
    est = ideal + work.tasks * OVERHEAD_PER_TASK_S[spec.model]
    if spec.model == "processes.with_startup":
        est += STARTUP_PER_WORKER_S * spec.args["workers"]
    return Bench(spec, work, runner, ideal, est)


def planned_iterations(b: Bench, target_s: float) -> int:
    return max(1, math.ceil(target_s / b.estimate_s)) if b.estimate_s > 0 else 100


def planned_s(b: Bench, target_s: float) -> float:
    """One repetition's planned seconds: its batches, plus a pilot batch when it is cheap."""
    it = planned_iterations(b, target_s)
    pilot = b.estimate_s if b.estimate_s < PILOT_BELOW * target_s else 0.0
    return it * b.estimate_s + pilot


def run_repetition(b: Bench, target_s: float) -> npy.Outcome:
    """Builds the runner, sizes the repetition (once per benchmark), times its batches and
    checks every batch's checksum after the timing."""
    runner = b.runner(b.spec, b.work)
    try:
        runner.setup()
        try:
            if b.iterations is None:
                per = b.estimate_s
                if per < PILOT_BELOW * target_s:
                    t0 = time.perf_counter()
                    runner.batch()
                    per = max(per, time.perf_counter() - t0)
                b.iterations = max(1, math.ceil(target_s / per)) if per > 0 else 100
            outs = []
            c0 = time.process_time()
            t0 = time.perf_counter()
            for _ in range(b.iterations):
                outs.append(runner.batch())
            wall = (time.perf_counter() - t0) / b.iterations
            cpu = (time.process_time() - c0) / b.iterations
        finally:
            runner.close()
    except Exception as e:  # a failing batch is an error row, whatever it raised
        return npy.Outcome(error=f"{type(e).__name__}: {e}".strip())
    for out in outs:
        if len(out) != b.work.tasks or not all(type(r) is int for r in out):
            return npy.Outcome(error=f"a batch returned {len(out)} results, not {b.work.tasks} "
                               "integers")
        if sum(out) != b.work.expected:
            return npy.Outcome(error=f"checksum mismatch: got {sum(out)}, expected "
                               f"{b.work.expected}")
    counters = {"checksum": b.work.expected, "ideal_s": b.ideal_s,
                "efficiency": b.ideal_s / wall if wall > 0 else math.inf,
                "overhead_s": wall - b.ideal_s}
    return npy.Outcome(wall, cpu, counters, iterations=b.iterations)


def run_all(benches: list[Bench], repetitions: int, interleave: bool, target_s: float,
            progress) -> tuple[list[dict], int]:
    """Every benchmark's repetitions, back to back or interleaved at random (each round runs
    every benchmark once, in a new order); returns Google Benchmark's rows and the failures."""
    order = []
    if interleave:
        rng = random.Random()
        for _ in range(repetitions):
            rnd = list(range(len(benches)))
            rng.shuffle(rnd)
            order += rnd
    else:
        order = [i for i in range(len(benches)) for _ in range(repetitions)]
    outcomes: dict[int, list] = {i: [] for i in range(len(benches))}
    total_s = sum(planned_s(b, target_s) for b in benches) * repetitions
    start, done_s = time.perf_counter(), 0.0
    for k, i in enumerate(order):
        b = benches[i]
        o = run_repetition(b, target_s)
        outcomes[i].append(o)
        done_s += planned_s(b, target_s)
        elapsed = time.perf_counter() - start
        left = (total_s - done_s) * (elapsed / done_s if done_s > 0 else 1.0)
        what = (f"{cr.format_seconds(o.wall_s)}" + (f" × {o.iterations}" if o.iterations > 1
                                                     else "")) if o.error is None \
            else f"ERROR: {o.error}"
        progress(f"[{k + 1}/{len(order)}] {b.name}  {what}  {fmt_clock(elapsed)} "
                 f"(~{fmt_clock(left)} left)", o.error is not None)
    rows, failed = [], 0
    for i, b in enumerate(benches):
        failed += any(o.error is not None for o in outcomes[i])
        rows += npy.rows_for(b, i, outcomes[i])
    return rows, failed


def fmt_clock(s: float) -> str:
    s = int(round(s))
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60}:{s % 60:02d}"


# =================================================================================================
# command line

def cpp_names(binary: str, suite: str, grid: list[str], bench_filter: str | None) -> list[str]:
    """The C++ benchmarks of the suite, as the binary plans them (--list_planned)."""
    cmd = [binary, f"--suite={suite}", *grid, "--list_planned"] + \
        ([f"--benchmark_filter={bench_filter}"] if bench_filter else [])
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    except (OSError, subprocess.SubprocessError) as e:
        raise npy.UsageError(f"--concbench={binary}: cannot run it: "
                             f"{getattr(e, 'strerror', None) or e}") from None
    if p.returncode != 0:
        err = [x for x in p.stderr.splitlines() if x.strip()]
        msg = err[0] if err else f"exit status {p.returncode}"
        raise npy.UsageError(msg[len("concbench: "):] if msg.startswith("concbench: ") else msg)
    try:
        return [b["name"] for b in json.loads(p.stdout)["benchmarks"]]
    except (ValueError, KeyError, TypeError):
        raise npy.UsageError(f"--concbench={binary} --list_planned printed no plan") from None


GRID_KEYS = ("tasks", "workers", "chunksize", "n", "cpu_us", "io_ms", "steps")


def create_parser() -> argparse.ArgumentParser:
    p = npy.Parser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
                   prog="scripts/notebook_mixed.py")
    p.add_argument("--suite", choices=SUITES, help="the twins of this suite of the binary")
    for k in GRID_KEYS:
        p.add_argument(f"--{k}", metavar="LIST", help=argparse.SUPPRESS)
    p.add_argument("--benchmark_filter", metavar="REGEX",
                   help="with --suite: the binary's filter of its C++ benchmarks (default "
                        "/mixed/ for the map)")
    p.add_argument("--names", metavar="FILE", help="run these Python names (one a line; - for "
                   "standard input) instead of a suite's twins")
    p.add_argument("--concbench", metavar="PATH", default=DEFAULT_BINARY,
                   help="the binary whose plan and tables are read (default: "
                        "build/release/concbench of this repository)")
    p.add_argument("--no-uvloop", action="store_true", help="leave the uvloop rows out")
    p.add_argument("--max_batch_s", type=float, metavar="S", default=0,
                   help="leave out the points whose serial batch is estimated above S seconds "
                        "here (0: keep every point)")
    p.add_argument("--speed", metavar="NS,NS",
                   help="this interpreter's nanoseconds per step of cpu_intensivo and of "
                        "trabajo, as --list_planned printed them (default: measured now): "
                        "runs given the same speed give cpu_us the same n")
    p.add_argument("--repetitions", metavar="N", default=1,
                   type=npy.positive_int("--repetitions", 1, npy.MAX_REPETITIONS))
    p.add_argument("--interleave", action="store_true",
                   help="run the repetitions in rounds, each in a new random order")
    p.add_argument("--target_s", type=float, default=0.05, metavar="S",
                   help="seconds of batches a repetition times, at least one batch "
                        "(default 0.05, as the binary's map suite)")
    p.add_argument("--list", action="store_true", help="print the names and exit")
    p.add_argument("--list_planned", action="store_true",
                   help="print the plan (JSON: names, iterations, planned seconds) and exit")
    p.add_argument("-o", "--output", metavar="PATH", help="write the JSON here (atomically)")
    p.add_argument("--quiet", action="store_true", help="only failures and one closing line")
    return p


def read_names(path: str) -> list[str]:
    try:
        text = sys.stdin.read() if path == "-" else open(path, encoding="utf-8").read()
    except OSError as e:
        raise npy.UsageError(f"--names={path}: cannot read: {e.strerror or e}") from None
    return [x.strip() for x in text.splitlines() if x.strip()]


def parse_speed(text: str) -> Speed:
    try:
        cpu, trab = (float(x) for x in text.split(","))
        if not (0 < cpu < 1e6 and 0 < trab < 1e6):
            raise ValueError
    except ValueError:
        raise npy.UsageError(f"--speed={text!r}: expected two positive numbers of nanoseconds "
                             "per step, e.g. 61.5,52.3") from None
    return Speed(cpu * 1e-9, trab * 1e-9)


def format_speed(speed: Speed) -> str:
    return f"{speed.cpu_intensivo_s * 1e9:.6g},{speed.trabajo_s * 1e9:.6g}"


def plan(args) -> tuple[list[Bench], list[str], Speed]:
    """The benchmarks to run, the names left out (and why), and this interpreter's speed."""
    grid = [f"--{k}={getattr(args, k)}" for k in GRID_KEYS if getattr(args, k) is not None]
    if args.names is not None:
        if args.suite or grid:
            raise npy.UsageError("--names runs the names given: no --suite or grid flags")
        names = read_names(args.names)
    elif args.suite:
        flt = args.benchmark_filter or ("/mixed/" if args.suite == "map" else None)
        names = twins_of(cpp_names(args.concbench, args.suite, grid, flt),
                         with_uvloop=not args.no_uvloop and uvloop is not None)
    else:
        raise npy.UsageError("give --suite=map|crossover (the binary's twins) or --names=FILE")
    if args.no_uvloop:
        names = [n for n in names if ".uvloop/" not in n]
    try:
        specs = [parse_spec(n) for n in names]
    except PlanError as e:
        raise npy.UsageError(str(e)) from None
    if not specs:
        raise npy.UsageError("no Python twin to run (the C++ benchmarks selected have none)")
    speed = parse_speed(args.speed) if args.speed else measure_speed()
    benches = [plan_bench(s, speed) for s in specs]
    left_out = []
    if args.max_batch_s > 0:
        keep = [b for b in benches if b.serial_s() <= args.max_batch_s]
        left_out = [f"{b.name} (a serial batch ≈ {cr.format_seconds(b.serial_s())} here)"
                    for b in benches if b not in keep]
        benches = keep
    return benches, left_out, speed


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        args = create_parser().parse_args(argv)
        if not 0 < args.target_s <= 60:
            raise npy.UsageError(f"--target_s={args.target_s:g}: expected seconds in (0, 60]")
        if args.output and not (args.list or args.list_planned):
            npy.check_writable(args.output)
        benches, left_out, speed = plan(args)
        # The binary's tables go into the context; names given without a binary run without.
        tables = {} if args.list or args.list_planned or (
            args.names is not None and not os.path.exists(args.concbench)) else \
            npy.read_tables(args.concbench, None)
    except (npy.UsageError, npy.TableError) as e:
        print(f"fatal: {e}", file=sys.stderr)
        return 2
    for x in left_out:
        print(f"notebook_mixed: left out {x}", file=sys.stderr)
    if args.list:
        print("\n".join(b.name for b in benches))
        return 0
    if args.list_planned:
        rows = [{"name": b.name, "iterations": planned_iterations(b, args.target_s),
                 "planned_s": planned_s(b, args.target_s), "estimate_s": b.estimate_s,
                 "ideal_s": b.ideal_s} for b in benches]
        print(json.dumps({"repetitions": args.repetitions, "benchmarks": rows,
                          "left_out": left_out, "speed": format_speed(speed)}, indent=1))
        return 0

    ctx = npy.context(argv, args.suite or "map", "mixed", None, tables)
    ctx["cpu_intensivo_ns_per_step"] = f"{speed.cpu_intensivo_s * 1e9:.6g}"
    ctx["trabajo_ns_per_step"] = f"{speed.trabajo_s * 1e9:.6g}"
    ctx["python_speed_source"] = "given (--speed)" if args.speed else "measured at the start"
    ns = sorted({(b.spec.args["cpu_us"], b.work.n) for b in benches if b.spec.workload == "mixed"})
    if ns:
        ctx["python_mixed_n"] = ", ".join(f"cpu_us {c} → n {n}" for c, n in ns)
    ctx["uvloop_version"] = getattr(uvloop, "__version__", None) if uvloop else "not installed"
    ctx["asyncio_offload_workers"] = ThreadPoolExecutor()._max_workers
    ctx["python_repetition_target_s"] = args.target_s
    if left_out:
        ctx["python_left_out"] = "; ".join(left_out)
    start = time.perf_counter()

    def progress(line: str, bad: bool) -> None:
        if bad or not args.quiet:
            print(line, file=sys.stderr, flush=True)
    try:
        rows, failed = run_all(benches, args.repetitions, args.interleave, args.target_s,
                               progress)
    except KeyboardInterrupt:
        print("interrupted; nothing written", file=sys.stderr)
        return 130
    if npy.write_output(args.output, {"context": ctx, "benchmarks": rows}, indent=1):
        return 2
    if args.quiet:
        print(f"notebook_mixed: {len(benches)} benchmarks × {args.repetitions} repetition(s) in "
              f"{time.perf_counter() - start:.0f} s, {failed} failed", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    # The task functions must pickle under the module's own name (a process pool's workers
    # import it), not as __main__'s.
    import notebook_mixed
    sys.exit(notebook_mixed.main())
