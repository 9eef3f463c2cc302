"""Which model for my work? Runs every model, in C++ and in the notebook's Python, on tasks that
compute and then wait, and says which finishes first where; or where the notebook's CPU cells
change winner as they grow.

    scripts/map                                          # the decision map (about 6 minutes)
    scripts/map --cpu_us=0,1000 --io_ms=0,10 --tasks=8   # a smaller map
    scripts/map --cpu_us=2000 --io_ms=20 --tasks=100 --steps=3    # your own task: one point
    scripts/map --crossovers                             # §4 and §4.1 grown: the break-evens
    scripts/map --dry-run                                # the plan and its time, nothing run

The map (the binary's `map` suite, workload `mixed`): cpu_us ∈ {0, 10, 100, 1000, 10000} ×
io_ms ∈ {0, 1, 10, 100}, 64 tasks of 1 step; thread pools get 64 workers (for waiting), process
pools the usable cores (for computing). --cpu_us, --io_ms, --tasks, --steps and --workers
replace an axis (comma-separated values). Every C++ model of the suite runs, and every Python
twin scripts/notebook_python.py's sibling notebook_mixed.py has (sync, ThreadPoolExecutor,
ProcessPoolExecutor, asyncio inline, asyncio with run_in_executor on threads and on processes,
the asyncio rows also on uvloop). --echo maps the echo flavour (C++ only: each wait is a request
the loopback server holds io_ms).

Racing keeps the map within minutes: one screening repetition of every model at every cell,
then --repetitions − 1 more, interleaved at random, only for the two fastest of each cell, the
fastest of another family than the fastest's, and every model within --race-within × the
fastest. A cell's winner is the lowest median among those; the U test against the runner-up (the
fastest of another family) gives its p, or "tie". A model left behind is reported
as raced out with its ratio to the fastest.

It writes results/<UTC date>_<host>_map/ (or _crossover/): results.json (C++), python.json
(Python), map.log (what the runs printed), and map.md with decision_map.png, or for one point
the ranked answer, or crossover.md with crossover_cpu.png and crossover_trabajo.png and
crossover.json (the break-evens, which scripts/report quotes from the newest committed one).

Bad input (a value out of the binary's range, steps 0, a plan over an hour without --yes) gets
one `fatal:` line and exit status 2, and nothing is written.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time

import concbench_results as cr
import decide
import map_report
import sweep
from notebook_cells import serial_model

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
DEFAULT_BINARY = os.path.join(REPO, "build", "release", "concbench")
MIXED_RUNNER = os.path.join(HERE, "notebook_mixed.py")

REPETITIONS = 5          # the fewest from which the U test can separate two models (stats.py)
REFUSE_ABOVE_S = 3600    # a plan longer than this needs --yes
MAP_TARGET_S = 0.05      # seconds a repetition times: the binary's map suite sizes its own so
CROSSOVER_TARGET_S = 0.1  # and its crossover suite so
PYTHON_MAX_BATCH_S = 6.0  # the Python crossover stops where a serial batch passes this
# What a run costs beyond its planned repetitions (measured on a 2-vCPU VM): the binary's start,
# the machine probe at its start and end, each benchmark's calibration; the interpreter's start
# and its calibration, each Python benchmark's pool or loop.
CPP_RUN_S, CPP_PROBE_S, CPP_PER_BENCH_S = 0.3, 3.5, 0.02
PY_RUN_S, PY_PER_BENCH_S = 1.0, 0.03
GRID_KEYS = ("cpu_us", "io_ms", "tasks", "steps", "workers")
# The binary's and notebook_mixed.py's own time left, "(~1:23 left)" on a benchmark's line and
# "~1:23 left" on a status line: replaced by the whole run's.
_LEFT_RE = re.compile(r"\(?~\d+(?::\d\d)+ left\)?")


class UsageError(Exception):
    """A mistake on the command line or a plan refused: one line after `fatal: `."""


class Parser(argparse.ArgumentParser):
    def error(self, message):
        raise UsageError(message)


def create_parser() -> argparse.ArgumentParser:
    p = Parser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
               prog="scripts/map")
    for k in GRID_KEYS:
        p.add_argument(f"--{k}", metavar="LIST", help=f"replace the grid's {k} values")
    p.add_argument("--crossovers", action="store_true",
                   help="run the crossover suite (§4 and §4.1 grown) instead of the map")
    p.add_argument("--echo", action="store_true",
                   help="the echo flavour (mixed_echo: C++ only, no Python twin)")
    p.add_argument("--no-python", action="store_true", help="C++ only")
    p.add_argument("--repetitions", type=int, default=REPETITIONS, metavar="N",
                   help=f"repetitions of each finalist (default {REPETITIONS}; the U test needs "
                        "5 a side)")
    p.add_argument("--race-within", type=float, default=decide.RACE_WITHIN, metavar="X",
                   help="after the screening, models within X × a cell's fastest race on "
                        f"(default {decide.RACE_WITHIN}); 0 races every model")
    p.add_argument("--yes", action="store_true",
                   help=f"run a plan longer than {REFUSE_ABOVE_S // 60} minutes")
    p.add_argument("--dry-run", action="store_true", help="print the plan and its time, run "
                   "nothing")
    p.add_argument("--binary", help="the concbench binary (default: build and use "
                   "build/release/concbench)")
    p.add_argument("--python", help="the Python interpreter of the Python rows (default: the "
                   "python3 on PATH if it has uvloop, else /usr/bin/python3 if that has it, "
                   "else the python3 on PATH without the uvloop rows)")
    p.add_argument("--out-root", default=os.path.join(REPO, "results"),
                   help="where the new results folder goes (default: results/)")
    p.add_argument("--redraw", metavar="FOLDER",
                   help="write a map or crossover folder's charts and .md again from its "
                        "results (nothing runs)")
    return p


def redraw(folder: str) -> int:
    """A results folder's map.md and decision_map.png (or crossover files) written again from
    its results.json and python.json."""
    results = cr.load_run(folder)
    ctx = results.context
    try:
        racing = json.loads(ctx.get("concbench_map_racing") or "[]")
    except ValueError:  # an older run's: one line
        racing = [ctx["concbench_map_racing"]]
    racing = racing if isinstance(racing, list) and racing else ["(not recorded)"]
    out = os.path.dirname(os.path.abspath(results.path))
    if ctx.get("concbench_suite") == "crossover":
        lines = write_crossovers(results, out, racing[-1])
    else:
        cells = decide.map_cells(results)
        lines = write_map(len({(c.workload, tuple(c.args.items())) for c in cells}) == 1,
                          results, out, racing, out)
    print("\n".join(lines))
    return 0


# --- the plan --------------------------------------------------------------------------------

def find_python(asked: str | None) -> tuple[str | None, bool]:
    """(interpreter, has uvloop) for the Python rows."""
    def check(py, code):
        return py and os.path.exists(py) and subprocess.run(
            [py, "-c", code], capture_output=True).returncode == 0
    if asked:
        if not check(asked, "import sys; sys.exit(sys.version_info < (3, 8))"):
            raise UsageError(f"--python={asked}: not a Python 3.8 or later interpreter")
        return asked, check(asked, "import uvloop")
    on_path = shutil.which("python3")
    for py in (on_path, "/usr/bin/python3"):
        if check(py, "import uvloop"):
            return py, True
    if check(on_path, "import sys; sys.exit(sys.version_info < (3, 8))"):
        return on_path, False
    return None, False


def binary_plan(binary: str, suite: str, grid: list[str], flt: str | None) -> list[dict]:
    """The binary's --list_planned: [{name, iterations, planned_s}]; its own one-line error
    for a bad value."""
    cmd = [binary, f"--suite={suite}", *grid, "--list_planned"] + \
        ([f"--benchmark_filter={flt}"] if flt else [])
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    except OSError as e:
        raise UsageError(f"cannot run {binary}: {e.strerror or e}") from None
    if p.returncode != 0:
        err = [x for x in p.stderr.splitlines() if x.strip()]
        msg = err[0] if err else f"{binary} exited {p.returncode}"
        raise UsageError(msg[len("concbench: "):] if msg.startswith("concbench: ") else msg)
    try:
        rows = json.loads(p.stdout)["benchmarks"]
    except (ValueError, KeyError, TypeError):
        raise UsageError(f"{binary} --list_planned printed no plan (is it concbench?)") from None
    if not rows:
        raise UsageError("the grid selects no benchmark")
    return rows


def python_plan(py: str, binary: str, names: list[str], target_s: float,
                max_batch_s: float) -> tuple[list[dict], list[str], str]:
    """The Python twins' plan, the names left out, and the interpreter's speed as measured for
    the plan (every later run is given it: the same n for cpu_us in all of them)."""
    cmd = [py, MIXED_RUNNER, "--names=-", f"--concbench={binary}", f"--target_s={target_s}",
           f"--max_batch_s={max_batch_s}", "--list_planned"]
    p = subprocess.run(cmd, input="\n".join(names), capture_output=True, text=True, timeout=300)
    if p.returncode != 0:
        err = [x for x in p.stderr.splitlines() if x.strip()]
        raise UsageError((err[-1] if err else f"notebook_mixed.py exited {p.returncode}")
                         .replace("fatal: ", "", 1))
    data = json.loads(p.stdout)
    return data["benchmarks"], data.get("left_out", []), data["speed"]


def key_of(name: str) -> str:
    p = cr.parse_name(name)
    return "/".join([p.model_full, p.workload] + [f"{k}:{v}" for k, v in p.args.items()])


# What the binary does besides the planned repetitions, which --list_planned leaves out
# (bench/batch_family.cc): each run calibrates a cell's compute once per spec and GIL flag
# (Calibrate: at least 3 serial rounds and 0.2 s). A repetition's own set-up (a pool's warm-up
# batch, the capacity behind machine_ideal_s) is in the plan's planned_s.
CALIBRATION_ROUNDS, CALIBRATION_MIN_S = 3, 0.2


def serial_compute_s(row: dict, cell_rows: list[dict]) -> float:
    """A batch's compute done serially: tasks × steps × cpu_us for a mixed task, else the
    slowest plan of its cell (the serial one's)."""
    a = cr.parse_name(row["name"]).args
    if "cpu_us" in a:
        return a.get("tasks", 1) * a.get("steps", 1) * a["cpu_us"] * 1e-6
    return max(r.get("estimate_s", 0) for r in cell_rows)


def cpp_costs(rows: list[dict]) -> float:
    """Sets each row's `rep_s`, a repetition's seconds with the work the plan leaves out, and
    returns a run's calibration seconds for these rows' cells."""
    cells: dict = {}
    for r in rows:
        r["rep_s"] = r["planned_s"] + CPP_PER_BENCH_S
        b = cr.Bench(r["name"], cr.parse_name(r["name"]), 0)
        cells.setdefault(decide.cell_key(b), []).append(r)
    return sum(2 * max(CALIBRATION_ROUNDS * S, CALIBRATION_MIN_S)
               for S in (serial_compute_s(m[0], m) for m in cells.values()) if S > 0)


def python_costs(rows: list[dict]) -> float:
    for r in rows:
        r["rep_s"] = r["planned_s"] + PY_PER_BENCH_S
    return 0.0


def racing_estimate(planned: list[dict], reps: int, within: float) -> float:
    """The racing phase's seconds predicted from the plan alone (planned times stand for the
    screening's to choose the candidates): the candidates of each cell, `reps` times each."""
    benches = []
    for row in planned:
        b = cr.Bench(row["name"], cr.parse_name(row["name"]), 0)
        b.reps = [{"real_time": max(row["planned_s"], 1e-9), "time_unit": "s"}]
        benches.append(b)
    cells = decide.cells_of(benches)
    chosen = decide.race_candidates(cells, within) if within > 0 else benches
    by_name = {row["name"]: row for row in planned}
    return reps * sum(by_name[b.run_name]["rep_s"] for b in chosen)


class Plan:
    def __init__(self, args, binary: str):
        self.args, self.binary = args, binary
        self.suite = "crossover" if args.crossovers else "map"
        self.grid = [f"--{k}={getattr(args, k)}" for k in GRID_KEYS
                     if getattr(args, k) is not None]
        if args.crossovers and self.grid:
            raise UsageError("--crossovers runs the crossover suite's own sizes: no grid flags")
        if args.crossovers and args.echo:
            raise UsageError("--echo is a flavour of the map, not of the crossovers")
        if not 1 <= args.repetitions <= 100:
            raise UsageError(f"--repetitions={args.repetitions}: expected 1 to 100 "
                             f"({REPETITIONS} or more for a verdict)")
        if not (args.race_within == 0 or 1 <= args.race_within <= 100):
            raise UsageError(f"--race-within={args.race_within:g}: expected 0 (no racing) or a "
                             "factor from 1 to 100")
        self.flt = None if args.crossovers else ("/mixed_echo/" if args.echo else "/mixed/")
        self.target_s = CROSSOVER_TARGET_S if args.crossovers else MAP_TARGET_S
        self.racing = not args.crossovers and args.race_within > 0 and args.repetitions > 1
        self.cpp = binary_plan(binary, self.suite, self.grid, self.flt)
        self.python, self.left_out, self.uvloop = None, [], False
        self.py = None
        if not args.no_python and not args.echo:
            self.py, self.uvloop = find_python(args.python)
            if self.py is None:
                raise UsageError("no python3 (3.8 or later) for the Python rows; give "
                                 "--python=PATH or --no-python")
            import notebook_mixed  # the twins' names: standard library only
            twins = notebook_mixed.twins_of([r["name"] for r in self.cpp], self.uvloop)
            if twins:
                self.python, self.left_out, self.py_speed = python_plan(
                    self.py, binary, twins, self.target_s,
                    PYTHON_MAX_BATCH_S if args.crossovers else 0)
        self.estimate()

    def estimate(self) -> None:
        reps = self.args.repetitions
        first = 1 if self.racing else reps
        self.calibration_s = cpp_costs(self.cpp)
        python_costs(self.python or [])
        cpp_one = sum(r["rep_s"] for r in self.cpp)
        py_one = sum(r["rep_s"] for r in self.python or [])
        self.cpp_s = first * cpp_one + CPP_RUN_S + CPP_PROBE_S + self.calibration_s
        self.py_s = first * py_one + (PY_RUN_S if self.python else 0)
        self.race_s = 0.0
        if self.racing:
            within = self.args.race_within
            self.race_s = racing_estimate(self.cpp, reps, within) + CPP_RUN_S + \
                self.calibration_s + (racing_estimate(self.python, reps, within) + PY_RUN_S
                                      if self.python else 0)
        self.total_s = self.cpp_s + self.py_s + self.race_s
        self.all_reps_s = reps * (cpp_one + py_one) + self.calibration_s + CPP_RUN_S + \
            CPP_PROBE_S + (PY_RUN_S if self.python else 0)
        if self.racing and self.total_s >= self.all_reps_s:
            # Racing saves nothing when most models are close (a small grid): run them all.
            self.racing = False
            self.estimate()

    def cells(self) -> int:
        return len({decide.cell_key(cr.Bench(r["name"], cr.parse_name(r["name"]), 0))
                    for r in self.cpp})

    def one_point(self) -> bool:
        return not self.args.crossovers and self.cells() == 1

    def lines(self) -> list[str]:
        fmt = sweep.fmt_elapsed
        n_py = len(self.python or [])
        what = (f"{self.suite}: {len(self.cpp)} C++ benchmarks"
                + (f" and {n_py} Python" if n_py else "")
                + (f" over {self.cells()} cell(s)" if not self.args.crossovers else ""))
        out = [what]
        if self.racing:
            out.append(f"  screening, 1 repetition each: C++ ≈ {fmt(self.cpp_s)}"
                       + (f", Python ≈ {fmt(self.py_s)}" if n_py else ""))
            out.append(f"  racing, {self.args.repetitions} repetitions of each cell's fastest "
                       f"(within {self.args.race_within:g}×): ≈ {fmt(self.race_s)} predicted "
                       "from the plan, corrected after the screening")
        else:
            out.append(f"  {self.args.repetitions} repetitions each, interleaved: C++ ≈ "
                       f"{fmt(self.cpp_s)}" + (f", Python ≈ {fmt(self.py_s)}" if n_py else ""))
        out.append(f"  about {fmt(self.total_s)} in all"
                   + (f" (every repetition of every model would take ≈ {fmt(self.all_reps_s)})"
                      if self.racing else ""))
        if self.py:
            out.append(f"  Python: {self.py}" + ("" if self.uvloop or not n_py else
                                                  " (no uvloop: its rows are left out; "
                                                  "apt-get install python3-uvloop)"))
        for x in self.left_out:
            out.append(f"  Python left out: {x}")
        return out


# --- running ---------------------------------------------------------------------------------

class Clock:
    """The time left of the whole run: what the phase running has left of its estimate (the
    estimates count what the binary's own plan leaves out), plus the phases after it. The
    binary's own time left is not used: with interleaved repetitions a benchmark is done only
    at its last one, so it swings by hours."""

    def __init__(self, phases: list[float]):
        self.start = self.phase_start = time.monotonic()
        self.phases = list(phases)

    def set_phases(self, phases: list[float]) -> None:
        self.phases = list(phases)
        self.phase_start = time.monotonic()

    def next_phase(self) -> None:
        if self.phases:
            self.phases.pop(0)
        self.phase_start = time.monotonic()

    def left(self) -> float:
        if not self.phases:
            return 0.0
        now = self.phases[0]
        return max(0.05 * now, now - (time.monotonic() - self.phase_start)) + \
            sum(self.phases[1:])


def term_with_parent() -> None:
    """In the child, before exec: SIGTERM when scripts/map dies, however it dies (a phase runs
    in a session of its own, which no signal to scripts/map's group reaches)."""
    try:
        import ctypes
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


_PROGRESS_RE = re.compile(r"^\[\s*\d+/\d+\]\s+(\S+)")
_PLANNED_RE = re.compile(r"about (\d+(?::\d\d)+) planned")


def run_child(cmd: list[str], tag: str, log, clock: Clock, stdin_text: str | None = None,
              costs: dict | None = None) -> int:
    """Runs one phase in its own process group, its output to the log and, each progress line
    tagged with the whole run's time left, to the terminal. The time between a benchmark's
    progress line and the one before goes into costs[its key]: what it really took, set-up
    included."""
    log.write(f"==> {' '.join(cmd)}\n")
    log.flush()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            stdin=subprocess.PIPE if stdin_text is not None
                            else subprocess.DEVNULL, start_new_session=True,
                            preexec_fn=term_with_parent)
    try:
        if stdin_text is not None:
            proc.stdin.write(stdin_text.encode())
            proc.stdin.close()
        last = time.monotonic()
        for line in sweep.output_lines(proc, None):
            log.write(line)
            text = line.rstrip("\n")
            if _PLANNED_RE.search(text):
                last = time.monotonic()
            done = _PROGRESS_RE.match(text)
            if done and costs is not None:
                now = time.monotonic()
                costs[key_of(done.group(1))] = now - last
                last = now
            if _LEFT_RE.search(text) or done:
                mine = f"~{sweep.fmt_elapsed(clock.left())} left"
                text = _LEFT_RE.sub(mine, text) if _LEFT_RE.search(text) else \
                    f"{text.rstrip()}   {mine}"
            if text.strip():
                print(f"  {tag} {text}", flush=True)
        return proc.wait()
    except KeyboardInterrupt:
        sweep.stop(proc)
        raise
    finally:
        if proc.returncode is None:
            sweep.stop(proc)
        proc.stdout.close()


def cpp_command(plan: Plan, out: str, reps: int, names: list[str] | None, probe: bool):
    flt = "^(" + "|".join(re.escape(n) for n in names) + ")$" if names is not None else plan.flt
    return [plan.binary, f"--suite={plan.suite}", *plan.grid, "--display=progress",
            f"--benchmark_repetitions={reps}", "--benchmark_enable_random_interleaving=true",
            f"--benchmark_out={out}", "--benchmark_out_format=json"] + \
        ([f"--benchmark_filter={flt}"] if flt else []) + ([] if probe else ["--no_probe"])


def python_command(plan: Plan, out: str, reps: int) -> list[str]:
    return [plan.py, MIXED_RUNNER, "--names=-", f"--concbench={plan.binary}",
            f"--target_s={plan.target_s}", f"--speed={plan.py_speed}", f"--repetitions={reps}",
            "--interleave", "-o", out]


def load_json(path: str) -> dict | None:
    try:
        with open(path) as f:
            data = json.load(f)
        return data if isinstance(data.get("benchmarks"), list) else None
    except (OSError, ValueError, AttributeError):
        return None


LEFT_OUT_KEY = "concbench_map_python_left_out"  # the Python points the plan left out
SCREENING_KEY = decide.SCREENING_KEY  # {benchmark key: seconds per batch in the screening}


def repetition_rows(data: dict | None) -> list[dict]:
    return [r for r in (data or {}).get("benchmarks", []) if r.get("run_type") != "aggregate"]


def row_seconds(r: dict) -> float:
    return r.get("real_time", 0) * cr.UNIT_SECONDS.get(r.get("time_unit", "ns"), 1e-9)


def merged(screen: dict | None, race: dict | None, extra_context: dict) -> dict | None:
    """One run's JSON from a screening and a racing run: a benchmark that raced keeps the racing
    run's rows only (all its repetitions then come from one run, which calibrated cpu_us's n
    once), the others their screening row; in the binary's order, renumbered, without
    aggregate rows. The screening's times go into the context (SCREENING_KEY): what a model
    raced out is compared with."""
    if screen is None and race is None:
        return None
    raced = {r.get("run_name") for r in repetition_rows(race)}
    groups: dict = {}
    for r in repetition_rows(screen):
        if r.get("run_name") not in raced:
            groups.setdefault(r.get("run_name"), []).append(dict(r))
        else:
            groups.setdefault(r.get("run_name"), [])
    for r in repetition_rows(race):
        groups.setdefault(r.get("run_name"), []).append(dict(r))
    rows = []
    for group in groups.values():
        for i, r in enumerate(group):
            r["repetitions"], r["repetition_index"] = len(group), i
            rows.append(r)
    ctx = dict((screen or race)["context"])
    ctx.update(extra_context)
    if race is not None and screen is not None:
        ctx[SCREENING_KEY] = json.dumps({key_of(r["run_name"]): row_seconds(r)
                                         for r in repetition_rows(screen)
                                         if not r.get("error_occurred")})
    return {"context": ctx, "benchmarks": rows}


def measured_race_s(rows: list[dict], names: set, costs: dict, reps: int, fixed_s: float) -> float:
    """Seconds a racing run will take: each candidate's cost as the screening measured it, `reps`
    times, plus the run's fixed costs; 0 without candidates. `costs` maps a candidate to one
    repetition's seconds."""
    mine = [r for r in rows if key_of(r["name"]) in names]
    return reps * sum(costs.get(key_of(r["name"]), r["rep_s"]) for r in mine) + fixed_s \
        if mine else 0.0


def cpp_race_costs(rows: list[dict], screened: list) -> dict:
    """One C++ repetition's seconds for the race: the screening's timed iterations plus the
    planned set-up of each repetition. Not the screening's wall time between two benchmarks: the
    first benchmark of a cell there also calibrated the cell's compute (three serial batches, 2 s
    for 64 tasks of 10 ms), which a run does once, and the map's C++ race came out 20 % short of
    its estimate that way."""
    planned = {key_of(r["name"]): r for r in rows}
    out = {}
    for b in screened:
        key = key_of(b.run_name)
        if key in planned and b.reps:
            r = b.reps[0]
            out[key] = row_seconds(r) * r.get("iterations", 1) + \
                planned[key].get("setup_s", 0.0) + CPP_PER_BENCH_S
    return out


def run(plan: Plan) -> int:
    args = plan.args
    start = time.monotonic()
    out = sweep.new_folder(args.out_root, plan.suite)
    print(f"map: writing {out}", flush=True)
    clock = Clock([plan.cpp_s, plan.py_s, plan.race_s])
    reps = args.repetitions
    first = 1 if plan.racing else reps
    status = 0
    py_names = [r["name"] for r in plan.python or []]
    parts = {}
    with open(os.path.join(out, "map.log"), "w") as log:
        costs: dict = {}

        def phase(key, cmd, tag, stdin=None):
            nonlocal status
            path = cmd[cmd.index("-o") + 1] if "-o" in cmd else \
                next(c.split("=", 1)[1] for c in cmd if c.startswith("--benchmark_out="))
            rc = run_child(cmd, tag, log, clock, stdin, costs)
            parts[key] = load_json(path)
            if rc != 0:
                status = status or 1
                print(f"map: {tag.strip()} exited {rc}" + ("" if parts[key] else
                                                          ", no results written"), flush=True)
            os.path.exists(path) and os.unlink(path)
            clock.next_phase()

        what = "screening" if plan.racing else f"{reps} repetitions"
        print(f"map: C++, {what} ({len(plan.cpp)} benchmarks)", flush=True)
        phase("cpp", cpp_command(plan, os.path.join(out, ".cpp.json"), first, None, True),
              "C++   ")
        if py_names:
            print(f"map: Python, {what} ({len(py_names)} benchmarks)", flush=True)
            phase("py", python_command(plan, os.path.join(out, ".py.json"), first), "Python",
                  "\n".join(py_names))
        racing_lines = []
        if plan.racing:
            racing_lines = race(plan, out, clock, parts, phase, reps, costs)
        else:
            racing_lines = [f"{reps} repetitions of every model, interleaved at random."]
    elapsed = sweep.fmt_elapsed(time.monotonic() - start)
    racing_lines.append(f"Planned at the start: about {sweep.fmt_elapsed(plan.total_s)}; "
                        f"it took {elapsed}.")
    extra = {"concbench_map_racing": json.dumps(racing_lines),
             "concbench_map_command": "scripts/map " + " ".join(sys.argv[1:])}
    if plan.left_out:
        extra[LEFT_OUT_KEY] = "; ".join(plan.left_out)
    cpp = merged(parts.get("cpp"), parts.get("cpp_race"), extra)
    py = merged(parts.get("py"), parts.get("py_race"), extra)
    if cpp is None:
        print("map: the C++ run wrote no results; nothing to report (see map.log)",
              file=sys.stderr)
        return 1
    cr.write_atomic(os.path.join(out, "results.json"), json.dumps(cpp, indent=1) + "\n")
    if py is not None:
        cr.write_atomic(os.path.join(out, "python.json"), json.dumps(py, indent=1) + "\n")
    results = cr.load_run(out)
    shown = os.path.relpath(out) if not os.path.relpath(out).startswith("..") else out
    if args.crossovers:
        lines = write_crossovers(results, out, racing_lines[-1])
    else:
        lines = write_map(plan.one_point(), results, out, racing_lines, shown)
    print("\n".join(lines))
    print(f"map: done in {elapsed}", file=sys.stderr)
    return status


def race(plan: Plan, out: str, clock: Clock, parts: dict, phase, reps: int,
         costs: dict) -> list[str]:
    """The racing phase: each cell's candidates from the screening, run `reps` times anew in
    one run (the binary calibrates cpu_us's n once per run: all of a finalist's repetitions then
    do the same work)."""
    screened, by_side = [], {}
    for key in ("cpp", "py"):
        if parts.get(key):
            by_side[key] = cr.from_json(parts[key], key).benches
            screened += by_side[key]
    cells = decide.cells_of(screened)
    chosen = decide.race_candidates(cells, plan.args.race_within)
    names = {key_of(b.run_name) for b in chosen}
    cpp_full = [r["name"] for r in plan.cpp if key_of(r["name"]) in names]
    py_full = [r["name"] for r in plan.python or [] if key_of(r["name"]) in names]
    costs = {**costs, **cpp_race_costs(plan.cpp, by_side.get("cpp", []))}
    est_cpp = measured_race_s(plan.cpp, names, costs, reps, CPP_RUN_S + plan.calibration_s)
    est_py = measured_race_s(plan.python or [], names, costs, reps, PY_RUN_S)
    est = est_cpp + est_py
    race_start = time.monotonic()
    screening_s = race_start - clock.start
    clock.set_phases([est_cpp, est_py])
    total = len(plan.cpp) + len(plan.python or [])
    print(f"map: racing {len(cpp_full)} C++ and {len(py_full)} Python benchmarks of {total}, "
          f"{reps} repetitions each: about {sweep.fmt_elapsed(est)} (measured in the "
          "screening)", flush=True)
    if cpp_full:
        phase("cpp_race", cpp_command(plan, os.path.join(out, ".cpp_race.json"), reps,
                                      cpp_full, False), "C++   ")
    if py_full:
        phase("py_race", python_command(plan, os.path.join(out, ".py_race.json"), reps),
              "Python", "\n".join(py_full))
    every = reps * sum(costs.get(key_of(r["name"]), r["rep_s"])
                       for r in plan.cpp + (plan.python or []))
    saved = every - (screening_s + time.monotonic() - race_start)
    return [f"Racing: 1 screening repetition of all {total} benchmarks, then {reps} "
            f"repetitions (interleaved at random, in a run of their own) of the "
            f"{len(cpp_full) + len(py_full)} that were among "
            f"the {decide.RACE_KEEP} fastest of their cell or within "
            f"{plan.args.race_within:g}× of its fastest.",
            f"Every repetition of every model would have taken about "
            f"{sweep.fmt_elapsed(every)} (from the screening's times); racing saved about "
            f"{sweep.fmt_elapsed(max(0.0, saved))}."]


def cores_of(results: cr.Results) -> int:
    for key in ("machine_usable_cores", "usable_cores"):
        try:
            return int(results.context.get(key))
        except (TypeError, ValueError):
            continue
    return os.cpu_count() or 1


def write_map(one_point: bool, results: cr.Results, out: str, racing: list[str],
              shown: str) -> list[str]:
    import plot_map  # matplotlib only when there is something to draw
    cells = decide.map_cells(results)
    if one_point:
        cr.write_atomic(os.path.join(out, "map.md"),
                        map_report.own_task_md(results, cells, cores_of(results), racing))
        return [""] + map_report.own_task_lines(cells, cores_of(results)) + \
            ["", f"Details: {shown}/map.md"]
    chart = plot_map.chart_decision_map(results, cells, out,
                                        map_report.headline(cells, results.models))
    cr.write_atomic(os.path.join(out, "map.md"),
                    map_report.map_md(results, cells, racing, chart.filename))
    lines = map_report.terminal_map(results, cells, shown)
    if chart.filename is None:
        lines.append(f"(decision_map.png not drawn: {chart.reason})")
    return lines


# --- crossovers --------------------------------------------------------------------------------

CROSSOVER_TITLES = {
    "cpu": ("§4 grown: from which n does a pool beat computing in a loop?", False),
    "trabajo": ("§4.1 grown: when do processes pay, and does chunksize 20 beat 1?", True),
}


def crossover_breakevens(results: cr.Results) -> dict:
    """{workload: (axis, {lang: [BreakEven]}, notebook value)} for the crossover workloads."""
    serial = serial_model(results) or "sync"
    out = {}
    # In the notebook's order (its cells'), then any other.
    order = list(dict.fromkeys([c.workload for c in _cells(results)] + results.workloads()))
    for workload in [w for w in order if w in results.workloads()]:
        axis, series = decide.crossover_series(results, workload)
        if axis is None:
            continue
        by_lang = {}
        for lang in (decide.CPP, decide.PYTHON):
            mine = [s for s in series if s.lang == lang]
            by_lang[lang] = [decide.series_break_even(a, b, axis)
                             for a, b in decide.crossover_pairs(mine, serial)]
        cells = [c for c in _cells(results)
                 if c.workload == workload and c.role == "cell" and axis in c.args]
        out[workload] = (axis, by_lang, cells[0].args[axis] if cells else None)
    return out


def _cells(results: cr.Results):
    return cr.cells_of(results.table("cells"))


def friendly(label: str) -> str:
    """'python.processes.with_startup · chunksize 20' -> "Python's
    processes.with_startup · chunksize 20"."""
    lang, rest = cr.split_lang(label)
    return f"Python's {rest}" if lang else f"C++ {rest}"


def write_crossovers(results: cr.Results, out: str, timing: str) -> list[str]:
    import plot_map
    found = crossover_breakevens(results)
    sections, charts, records, terminal = [], [], [], []
    ctx = results.context
    for workload, (axis, by_lang, nb_x) in found.items():
        title, per_task = CROSSOVER_TITLES.get(workload, (f"{workload} grown", False))
        for lang, bes in by_lang.items():
            lines = [decide.crossing_sentence(be, nb_x, friendly) for be in bes]
            if lines:
                sections.append((f"{title} — {lang}", lines))
                terminal += [f"{workload}, {lang}:"] + [f"  {x}" for x in lines]
            for be, text in zip(bes, lines):
                c = be.crossings[-1] if be.crossings else None
                short = be.summary(friendly)
                if c is not None and nb_x is not None:
                    short += (f" (the notebook's {decide.format_x(nb_x)} is "
                              f"{'below' if nb_x < c.x else 'above'} that)")
                records.append({"workload": workload, "lang": lang, "a": be.a, "b": be.b,
                                "key": axis, "x": c.x if c else None,
                                "a_wins_after": c.a_wins_after if c else None,
                                "summary": be.summary(), "short": short, "sentence": text,
                                "notebook_x": nb_x})
        sub = crossover_subtitle(by_lang, axis)
        chart = plot_map.chart_crossover(results, workload, out, title, per_task,
                                         by_lang, sub)
        if chart.filename:
            charts.append(chart.filename)
    notes = []
    left = (results.python_context or {}).get(LEFT_OUT_KEY)
    if left:
        notes.append(f"Python points left out (a serial batch over {PYTHON_MAX_BATCH_S:g} s "
                     f"here): {left}.")
    reference = {"date": ctx.get("date"), "host": ctx.get("hostname") or ctx.get("host_name"),
                 "folder": os.path.basename(out)}
    cr.write_atomic(os.path.join(out, "crossover.json"),
                    json.dumps({"reference": reference, "breakevens": records}, indent=1) + "\n")
    cr.write_atomic(os.path.join(out, "crossover.md"),
                    map_report.crossover_md(ctx, sections, charts, timing, notes))
    return [""] + terminal + ["", f"Charts and crossover.md: {out}"]


def crossover_subtitle(by_lang: dict, axis: str) -> str:
    """The chart's one-line answer: each language's break-even of the notebook's own cell
    (its process pool with start-up against sync, or chunksize 20 against 1), else the first
    found."""
    parts = []
    for lang, bes in by_lang.items():
        with_x = [be for be in bes if be.crossings]
        pick = next((be for be in with_x if "with_startup" in be.a and "chunksize" in be.a
                     and "with_startup" in be.b), None) or \
            next((be for be in with_x if "with_startup" in be.a), None) or \
            (with_x[0] if with_x else None)
        if pick is None:
            parts.append(f"{lang}: no break-even in the range")
        else:
            parts.append(f"{lang}: {pick.summary(decide.short_model)}")
    return "; ".join(parts) + "."


# --- main ------------------------------------------------------------------------------------

def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        args = create_parser().parse_args(argv)
        if args.redraw:
            done, status = cr.fatal_on_user_errors(lambda: redraw(args.redraw), "the charts")
            return status or done
        binary = args.binary or (DEFAULT_BINARY if args.dry_run else None)
        if binary is None:
            try:
                binary = sweep.build_release()
            except subprocess.CalledProcessError as e:
                print(f"fatal: building concbench failed ({' '.join(e.cmd)} exited "
                      f"{e.returncode})", file=sys.stderr)
                return 1
        binary = os.path.abspath(binary)
        if not os.access(binary, os.X_OK):
            raise UsageError(f"{binary} is not built yet; run scripts/run once, or give "
                             "--binary")
        plan = Plan(args, binary)
        if plan.total_s > REFUSE_ABOVE_S and not args.yes and not args.dry_run:
            raise UsageError(f"this grid plans about {sweep.fmt_elapsed(plan.total_s)} "
                             f"(more than {REFUSE_ABOVE_S // 60} minutes): give --yes to run "
                             "it, or a smaller grid")
    except UsageError as e:
        print(f"fatal: {e}", file=sys.stderr)
        return 2
    print("\n".join(plan.lines()), flush=True)
    if args.dry_run:
        return 0

    def on_term(_sig, _frame):
        raise KeyboardInterrupt()
    # Installed explicitly: a run started in the background inherits SIGINT ignored, and SIGTERM
    # must stop the phase running (its own process group) too.
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, on_term)
    try:
        return run(plan)
    except KeyboardInterrupt:
        print("map: interrupted; the results folder keeps what finished in map.log",
              file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
