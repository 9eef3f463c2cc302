"""Runs a parameter sweep through the concbench binary and writes a new results folder.

    scripts/sweep                                   # the sweep suite, every model
    scripts/sweep --models=threads,processes --workloads=cpu --workers=1,2,4,8 --tasks=16
    scripts/sweep models=async workloads=sleep tasks=1,10,100,1000 sleep_ms=10
    scripts/sweep --suite=notebook --repetitions=3 --dry-run

A sweep is one suite's grids (default: sweep), narrowed to some models and workloads, with any
argument's values replaced (`--tasks=1,4,16`, or `tasks=1,4,16`: the keys are the binary's grid
flags, listed by `build/release/concbench --help`). Everything is checked before anything runs:
an unknown model, workload or key, a value out of range, or a key that none of the selected
benchmarks takes is rejected with one line naming it and what is allowed.

The sweep runs one benchmark family (<model>/<workload>) at a time, showing which run, the time
so far and an estimate of the time left (the binary's plan, --list_planned, corrected by the
benchmarks measured so far: scripts/time_left.py; a status line at least every 10 s), and writes results/<UTC date>_<host>_sweep/ holding results.json
(every family's rows merged, with the run context and the sweep's status), sweep.log (the
binary's output), the charts and report.md. Interrupted (Ctrl-C, SIGTERM), it keeps the families
that finished, lists those that did not in the report and exits 130. A family that fails keeps
its rows (errors included) and the sweep goes on; the exit status is then 1.

Every family run has a time limit (--family-timeout=SECONDS; 0 means none). The default is the
larger of 900 s and 60 s per benchmark and repetition of the family: the binary's plan is an
estimate that fixed costs can exceed many times over, and 60 s is the smallest per-benchmark
deadline the binary's own watchdog gives, so the limit only ends a binary whose watchdog did
not. Each family runs in its own process group; at the limit the group gets SIGTERM, then
SIGKILL 10 s later. The rows its results file holds by then are kept, sweep.log and report.md
name it as timed out, the sweep goes on with the next family and exits 1.
"""
from __future__ import annotations

import argparse
import codecs
import datetime
import json
import os
import re
import selectors
import shutil
import signal
import socket
import subprocess
import sys
import time

import concbench_results as cr
from time_left import TimeLeft

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_BINARY = os.path.join(REPO, "build", "release", "concbench")
SUITES = ("notebook", "smoke", "sweep")
_HELP_FLAG_RE = re.compile(r"^\s+--([a-z_][a-z0-9_]*)=LIST\s+(.*?),\s*(-?\d+)\.\.(-?\d+)\s*$")


class UsageError(Exception):
    """A mistake in the command line: one line, printed as is."""


class Interrupted(Exception):
    pass


class TimedOut(Exception):
    """A family run passed its time limit; its process group has been ended and reaped."""

    def __init__(self, elapsed: float, ended_by: str):
        super().__init__(ended_by)
        self.elapsed = elapsed
        self.ended_by = ended_by


# Status lines: the first when nothing was printed for FIRST_STATUS_S after the start, then
# whenever nothing was for STATUS_EVERY_S; the child's silence is checked every TICK_S, so no
# gap between lines reaches 10 s.
FIRST_STATUS_S = 3
STATUS_EVERY_S = 9
TICK_S = 1

# The family time limit's default (see the module docstring), and how long a family stopped at
# its limit has between SIGTERM (when the binary writes its partial results) and SIGKILL.
FAMILY_TIMEOUT_MIN_S = 900
FAMILY_TIMEOUT_PER_RUN_S = 60
TERM_GRACE_S = 10


def fail(msg: str, code: int = 2):
    print(f"sweep: {msg}", file=sys.stderr)
    return code


# --- the plan --------------------------------------------------------------------------------

def grid_keys(binary: str) -> dict[str, tuple[int, int, str]]:
    """The binary's grid flags from its --help: key -> (min, max, meaning)."""
    try:
        p = subprocess.run([binary, "--help"], capture_output=True, text=True, timeout=60)
    except OSError as e:
        raise UsageError(f"cannot run {binary}: {e.strerror or e}") from None
    keys = {}
    for line in p.stdout.splitlines():
        m = _HELP_FLAG_RE.match(line)
        if m:
            keys[m.group(1)] = (int(m.group(3)), int(m.group(4)), m.group(2))
    if not keys:
        raise UsageError(f"{binary} --help lists no grid flags (--KEY=LIST); is it concbench?")
    return keys


def parse_values(key: str, text: str, spec) -> list[int]:
    lo, hi, meaning = spec
    values = []
    for item in text.split(","):
        item = item.strip()
        if not re.fullmatch(r"-?\d+", item):
            raise UsageError(f"{key}: '{item}' is not an integer; expected a comma-separated "
                             f"list of integers in [{lo}, {hi}] ({meaning})")
        v = int(item)
        if not lo <= v <= hi:
            raise UsageError(f"{key}: {v} is out of range; expected integers in [{lo}, {hi}] "
                             f"({meaning})")
        if v in values:
            raise UsageError(f"{key}: {v} is repeated")
        values.append(v)
    return values


def split_grid_args(tokens: list[str]) -> tuple[list[str], dict[str, str]]:
    """Separates 'key=v1,v2' and '--key=v1,v2' grid tokens from the sweep's own options."""
    own, grid = [], {}
    for t in tokens:
        body = t[2:] if t.startswith("--") else t
        key, eq, value = body.partition("=")
        if t.startswith("--") and key in ("suite", "models", "workloads", "repetitions",
                                          "binary", "out-root", "family-timeout", "dry-run",
                                          "help"):
            own.append(t)
        elif t.startswith("-") and not t.startswith("--"):
            own.append(t)
        elif key in ("models", "workloads", "suite", "repetitions"):
            own.append("--" + body)
        elif eq and re.fullmatch(r"[a-z_][a-z0-9_]*", key):
            if key in grid:
                raise UsageError(f"{key} is given twice")
            grid[key] = value
        else:
            own.append(t)
    return own, grid


def list_benchmarks(binary: str, suite: str, overrides: list[str], repetitions: int = 1,
                    extra: list[str] = ()) -> dict[str, float]:
    """The suite's benchmarks in the binary's order, each with its planned seconds for all its
    repetitions (the binary's --list_planned JSON)."""
    cmd = [binary, f"--suite={suite}", *overrides, "--list_planned",
           f"--benchmark_repetitions={repetitions}", *extra]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    if p.returncode != 0:
        lines = [x for x in (p.stderr + p.stdout).splitlines() if x.strip()]
        raise UsageError(f"{os.path.basename(binary)} rejected the grid: "
                         f"{lines[0] if lines else f'exit {p.returncode}'}")
    try:
        listed = json.loads(p.stdout)["benchmarks"]
        return {b["name"]: float(b["planned_s"]) for b in listed}
    except (ValueError, KeyError, TypeError) as e:
        raise UsageError(f"{os.path.basename(binary)} --list_planned gave no plan: {e}") from None


# The notebook's Python in a sweep: §3's asyncio tasks held pending, T at a time, each T in a
# fresh interpreter (scripts/notebook_python.py's memory mode), beside the C++ memory families
# (memory_per_task.png). Its grid follows --tasks and --sleep_ms like any family's.
PYTHON_RUNNER = os.path.join(REPO, "scripts", "notebook_python.py")
PYTHON_MEMORY_TASKS = (1_000, 10_000, 100_000, 1_000_000)
PYTHON_MEMORY_SLEEP_MS = 100
# It runs when the sweep selects it (--models=python or python.async) or the memory families
# (--workloads=memory), whose chart it belongs in.


def python_interpreter() -> str | None:
    """The user's python3 (the notebook's interpreter), when it is 3.8 or later."""
    py = shutil.which("python3")
    if py and subprocess.run([py, "-c", "import sys; sys.exit(sys.version_info < (3, 8))"],
                             capture_output=True).returncode == 0:
        return py
    return None


def python_memory_args(binary: str, grid_text: dict) -> list[str]:
    """The runner's memory mode for this grid; the binary's table of cells names its family."""
    tasks = grid_text.get("tasks") or ",".join(map(str, PYTHON_MEMORY_TASKS))
    sleep = (grid_text.get("sleep_ms") or str(PYTHON_MEMORY_SLEEP_MS)).split(",")[0]
    return [f"--concbench={binary}", f"--memory-tasks={tasks}", f"--sleep-ms={sleep}"]


def python_names(binary: str, suite: str, grid_text: dict) -> list[str]:
    """The Python memory family's names (sweep suite only; none without a usable python3)."""
    py = python_interpreter()
    if suite != "sweep" or py is None:
        return []
    p = subprocess.run([py, PYTHON_RUNNER, *python_memory_args(binary, grid_text), "--list"],
                       capture_output=True, text=True, timeout=60)
    return [x.strip() for x in p.stdout.splitlines() if x.strip()] if p.returncode == 0 else []


def family_command(fam: str, binary: str, suite: str, overrides: list[str], grid_text: dict,
                   repetitions: int, part: str, extra: list[str]) -> list[str]:
    if fam.startswith("python."):
        return [python_interpreter() or "python3", PYTHON_RUNNER, "--quiet",
                *python_memory_args(binary, grid_text), f"--repetitions={repetitions}", "-o", part]
    model_full, workload = fam.split("/")
    return [binary, f"--suite={suite}", *overrides,
            f"--benchmark_filter=^{re.escape(model_full)}/{re.escape(workload)}/",
            f"--benchmark_repetitions={repetitions}", f"--benchmark_out={part}",
            "--benchmark_out_format=json", *extra]


def select(names: list[str], models: list[str] | None, workloads: list[str] | None):
    """Benchmarks grouped by family, in the binary's order, narrowed to the models (a base
    model selects its variants too) and workloads asked for."""
    parsed = [(n, cr.parse_name(n)) for n in names]
    parsed = [(n, p) for n, p in parsed if p is not None]
    all_models = list(dict.fromkeys(p.model_full for _, p in parsed))
    bases = list(dict.fromkeys(p.lang or p.model for _, p in parsed))
    all_workloads = list(dict.fromkeys(p.workload for _, p in parsed))
    for m in models or []:
        if m not in all_models and m not in bases:
            raise UsageError(f"unknown model '{m}'; this suite has: "
                             f"{', '.join(dict.fromkeys(bases + all_models))}")
    for w in workloads or []:
        if w not in all_workloads:
            raise UsageError(f"unknown workload '{w}'; this suite has: {', '.join(all_workloads)}")
    families: dict[str, list] = {}
    for n, p in parsed:
        # A base model selects its variants; a language (python) selects its rows, which a C++
        # model's name does not.
        if models and p.model_full not in models and (p.lang or p.model) not in models:
            continue
        if workloads and p.workload not in workloads and not (p.lang and "memory" in workloads):
            continue
        families.setdefault(f"{p.model_full}/{p.workload}", []).append((n, p))
    if not families:
        raise UsageError(f"no benchmark has model {'/'.join(models or ['any'])} and workload "
                         f"{'/'.join(workloads or ['any'])} in this suite")
    return families


def check_keys_used(families, grid: dict):
    taken = set()
    for members in families.values():
        for _, p in members:
            taken.update(p.args)
    for key in grid:
        if key not in taken:
            raise UsageError(f"'{key}' matches none of the selected benchmarks; they take: "
                             f"{', '.join(sorted(taken)) or 'no arguments'}")


def build_release() -> str:
    """Builds build/release/concbench the way scripts/run does: silently, or with the build's
    whole output on stderr when it fails."""
    os.chdir(REPO)
    subprocess.run(["scripts/setup"], check=True)
    jobs = str(os.cpu_count() or 2)
    for cmd in (["cmake", "--preset", "release"],
                ["cmake", "--build", "--preset", "release", "-j", jobs, "--target", "concbench"]):
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if p.returncode != 0:
            sys.stderr.write(p.stdout)
            raise subprocess.CalledProcessError(p.returncode, cmd)
    return DEFAULT_BINARY


# --- running ---------------------------------------------------------------------------------

def new_folder(root: str, kind: str = "sweep") -> str:
    """A new folder root/<UTC date>_<host>_<kind>/ (with -1, -2... if that one exists)."""
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H%M%SZ")
    host = socket.gethostname().split(".")[0] or "host"
    base = os.path.join(root, f"{stamp}_{host}_{kind}")
    out, n = base, 1
    while True:
        try:
            os.makedirs(out)
            return out
        except FileExistsError:
            out = f"{base}-{n}"
            n += 1


def fmt_elapsed(s: float) -> str:
    s = int(s)
    if s >= 3600:
        return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}"
    return f"{s // 60}:{s % 60:02d}"


_RESULT_LINE_RE = re.compile(r"^([a-z][a-z0-9_.]*/\S+?)(_mean|_median|_stddev|_cv)?\s+"
                             r"(\S+ \S+)\s")


def default_family_timeout(count: int, repetitions: int) -> float:
    return max(FAMILY_TIMEOUT_MIN_S, FAMILY_TIMEOUT_PER_RUN_S * count * repetitions)


def output_lines(proc, deadline: float | None, tick=None):
    """The child's output, line by line, until every writer has closed it; raises TimeoutError
    when the deadline (a time.monotonic() value; None: none) passes first. tick(), if given, is
    called about once a second while the child is silent."""
    fd = proc.stdout.fileno()
    decode = codecs.getincrementaldecoder("utf-8")("replace").decode
    pending = ""
    with selectors.DefaultSelector() as readable:
        readable.register(fd, selectors.EVENT_READ)
        while True:
            wait = None if deadline is None else deadline - time.monotonic()
            if wait is not None and wait <= 0:
                raise TimeoutError()
            if tick is not None:
                wait = TICK_S if wait is None else min(wait, TICK_S)
            if not readable.select(wait):
                if tick is not None:
                    tick()
                continue
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            *lines, pending = (pending + decode(chunk)).split("\n")
            for line in lines:
                yield line + "\n"
    pending += decode(b"", final=True)
    if pending:
        yield pending


def run_family(cmd: list[str], log, members: list[str], repetitions: int, limit_s: float = 0,
               progress: SweepProgress | None = None) -> int:
    """Runs one family in its own process group, copying its output to the log and a short line
    per finished benchmark to stdout. `members`: its benchmarks, in the order it runs them.
    Raises Interrupted on SIGINT/SIGTERM and TimedOut past limit_s seconds (0: no limit), in
    both cases after ending the group."""
    start = time.monotonic()
    deadline = start + limit_s if limit_s > 0 else None
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            start_new_session=True)
    done, count = 0, len(members)
    heard = False
    if progress:
        progress.family_started()
    try:
        for line in output_lines(proc, deadline, progress.tick if progress else None):
            log.write(line)
            # The binary speaks once it has started and probed: its first benchmark runs now.
            if progress and members and not heard:
                progress.began(members[0])
                heard = True
            m = _RESULT_LINE_RE.match(line)
            if not m:
                if "ERROR OCCURRED" in line or line.startswith("concbench:"):
                    print("    " + line.rstrip(), flush=True)
                continue
            if (repetitions == 1 and m.group(2) is None) or m.group(2) == "_mean":
                done += 1
                what = "mean " if m.group(2) else ""
                left = ""
                if progress:
                    progress.finished(m.group(1))
                    if done < count:
                        progress.began(members[done])
                    left = f"  ({progress.left_text()})"
                print(f"    [{done}/{count}] {m.group(1)}  {what}{m.group(3)}{left}", flush=True)
        return proc.wait(timeout=None if deadline is None
                         else max(0.0, deadline - time.monotonic()))
    except (TimeoutError, subprocess.TimeoutExpired):
        ended_by = stop(proc, ((signal.SIGTERM, TERM_GRACE_S), (signal.SIGKILL, 30)))
        raise TimedOut(time.monotonic() - start, ended_by) from None
    except KeyboardInterrupt:
        stop(proc)
        raise Interrupted() from None
    finally:
        if proc.returncode is None:
            stop(proc)
        proc.stdout.close()
        if progress:
            progress.family_ended()


class SweepProgress:
    """The sweep's estimate of its time left and its status lines: one on stderr when nothing was
    printed for FIRST_STATUS_S after the start, then whenever nothing was for STATUS_EVERY_S.

    The estimate is the benchmarks' (time_left.TimeLeft) plus the families' own cost: each family
    run starts the binary, probes the machine (about 1.5 s here) and ends it, the same for 1
    benchmark as for 40, so the families not run yet count at the mean of those run. `now` is a
    clock in seconds (time.monotonic unless a test gives one)."""

    def __init__(self, planned: dict[str, float], families: int = 1, now=time.monotonic, err=None):
        self.left = TimeLeft(planned)
        self.count = len(planned)
        self.families = families
        self.now = now
        self.err = err
        self.start = self.last_line = now()
        self.quiet_s = FIRST_STATUS_S
        self.overheads: list[float] = []  # each family run's time outside its benchmarks
        self.family_since: float | None = None
        self.family_inside = 0.0          # the benchmarks' time when the family run started

    def elapsed(self) -> float:
        return self.now() - self.start

    def inside(self) -> float:
        return sum(self.left.done.values())

    def family_started(self) -> None:
        self.family_since, self.family_inside = self.elapsed(), self.inside()

    def family_ended(self) -> None:
        if self.family_since is not None:
            self.overheads.append(self.elapsed() - self.family_since - (self.inside() - self.family_inside))
        self.family_since = None

    def outside(self, t: float) -> float:
        """The family run in progress's time so far outside its benchmarks (0 between runs)."""
        if self.family_since is None:
            return 0.0
        running = t - self.left.since if self.left.running is not None else 0.0
        return max(0.0, t - self.family_since - (self.inside() - self.family_inside) - running)

    def seconds_left(self) -> float | None:
        t = self.elapsed()
        benchmarks = self.left.seconds_left(t, between=False)
        if benchmarks is None:
            return None
        if not self.overheads:  # in the first family run: its start stands for every other's
            return benchmarks + self.outside(t) * (self.families - 1)
        mean = sum(self.overheads) / len(self.overheads)
        left = mean * (self.families - len(self.overheads)) - min(self.outside(t), mean)
        return benchmarks + max(0.0, left)

    def left_text(self) -> str:
        s = self.seconds_left()
        return "calibrating…" if s is None else f"~{fmt_elapsed(s)} left"

    def began(self, name: str) -> None:
        self.left.began(name, self.elapsed())

    def finished(self, name: str) -> None:
        self.left.finished(name, self.elapsed())
        self.printed()

    def printed(self, heading: bool = False) -> None:
        """A line was printed: the next status line waits STATUS_EVERY_S, or after a family's
        heading, what it waited before (FIRST_STATUS_S at the start)."""
        self.last_line = self.now()
        if not heading:
            self.quiet_s = STATUS_EVERY_S

    def tick(self) -> None:
        if self.now() - self.last_line < self.quiet_s:
            return
        line = (f"    {fmt_elapsed(self.elapsed())}  {len(self.left.done)}/{self.count} "
                f"benchmarks  {self.left_text()}")
        if self.left.running:
            line += f"  now {self.left.running} ({self.elapsed() - self.left.since:.0f} s)"
        print(line, file=self.err or sys.stderr, flush=True)
        self.printed()


def within(timeout: float, done, interval: float) -> bool:
    """Whether done() is true within timeout seconds, asked every interval seconds (at least
    once)."""
    end = time.monotonic() + timeout
    while not done():
        if time.monotonic() >= end:
            return False
        time.sleep(interval)
    return True


def exited(pid: int, timeout: float) -> bool:
    """Whether child pid exits within timeout seconds, leaving it unreaped: a group leader that is
    a zombie keeps its group's id from being reused, so the group can still be signalled."""
    def done():
        try:
            return os.waitid(os.P_PID, pid, os.WEXITED | os.WNOWAIT | os.WNOHANG) is not None
        except ChildProcessError:
            return True
    return within(timeout, done, 0.05)


def group_gone(pgid: int) -> bool:
    """Whether no process, zombies included, is left in process group pgid."""
    try:
        os.killpg(pgid, 0)
    except (ProcessLookupError, PermissionError):
        return True
    return False


# How long stop() waits for a killed group's last processes to be gone.
GROUP_GONE_S = 5.0


def stop(proc, steps=((signal.SIGINT, 5), (signal.SIGTERM, 5), (signal.SIGKILL, 30))) -> str:
    """Signals proc's process group step by step until proc exits, then SIGKILLs whatever is
    left in the group and reaps proc; returns what ended it ("SIGTERM", "SIGKILL after 10 s")."""
    ended_by, waited = "its own exit", 0.0
    if proc.returncode is not None:
        return ended_by
    for sig, wait in steps:
        if exited(proc.pid, 0):
            break
        os.killpg(proc.pid, sig)
        ended_by = sig.name + (f" after {waited:g} s" if waited else "")
        if exited(proc.pid, wait):
            break
        waited += wait
    # A child that outlived the binary (it ignored the signal) would keep the group alive.
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        pass
    # SIGKILL lands asynchronously, and the group's orphans are reaped by init in its own time:
    # wait (a few seconds at most) until none is left, so that nothing of it outlives the call.
    within(GROUP_GONE_S, lambda: group_gone(proc.pid), 0.01)
    return ended_by


def load_part(path: str):
    try:
        with open(path) as f:
            data = json.load(f)
        if isinstance(data, dict) and isinstance(data.get("benchmarks"), list):
            return data
    except (OSError, ValueError):
        pass
    return None


# A family's own partial markers: the merged file says what did not finish in its sweep keys.
FAMILY_ONLY_KEYS = ("concbench_partial", "concbench_not_run")


def merge(parts: list[dict], status: str, plan: str, unfinished: list[str],
          timed_out: list[str] = ()) -> dict:
    context = dict(parts[0]["context"]) if parts else {}
    for key in FAMILY_ONLY_KEYS:
        context.pop(key, None)
    context["concbench_sweep_status"] = status
    context["concbench_sweep_plan"] = plan
    if unfinished:
        context["concbench_sweep_unfinished"] = ";".join(unfinished)
    if timed_out:
        context["concbench_sweep_timed_out"] = ";".join(timed_out)
    rows = [r for p in parts for r in p["benchmarks"]]
    return {"context": context, "benchmarks": rows}


def create_parser():
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
        usage="scripts/sweep [--suite=S] [--models=M,...] [--workloads=W,...] "
              "[--KEY=V,... | KEY=V,...]... [--repetitions=N] [--family-timeout=SECONDS] "
              "[--dry-run] "
              "[-- extra concbench flags]")
    p.add_argument("--suite", default="sweep", choices=SUITES,
                   help="whose grids to start from (default: sweep)")
    p.add_argument("--models", help="comma-separated models or model.variant names "
                   "(default: all); 'threads' selects threads and every threads.* variant")
    p.add_argument("--workloads", help="comma-separated workloads (default: all)")
    p.add_argument("--repetitions", type=int, default=1,
                   help="repetitions of each benchmark (default 1; 3 gives error bars)")
    p.add_argument("--binary", help="concbench binary to run (default: build and use "
                   "build/release/concbench)")
    p.add_argument("--out-root", default=os.path.join(REPO, "results"),
                   help="where the new results folder goes (default: results/)")
    p.add_argument("--family-timeout", type=float, metavar="SECONDS",
                   help="time limit of each family run, 0 for none (default: the larger of "
                   f"{FAMILY_TIMEOUT_MIN_S} s and {FAMILY_TIMEOUT_PER_RUN_S} s per benchmark and "
                   f"repetition); past it the family's process group gets SIGTERM, then "
                   f"SIGKILL {TERM_GRACE_S} s later, and the sweep goes on (exit 1)")
    p.add_argument("--dry-run", action="store_true", help="print the plan and exit")
    p.add_argument("extra", nargs="*", help="after --: flags passed to every concbench run "
                   "(e.g. --benchmark_min_time=0.1)")
    return p


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    extra = []
    if "--" in argv:
        i = argv.index("--")
        argv, extra = argv[:i], argv[i + 1:]
    try:
        own, grid_text = split_grid_args(argv)
    except UsageError as e:
        return fail(str(e))
    args = create_parser().parse_args(own)
    if args.extra:
        return fail(f"unexpected argument '{args.extra[0]}' (grid values are KEY=V1,V2; "
                    "concbench flags go after --)")
    if args.repetitions < 1:
        return fail("--repetitions must be at least 1")
    if args.family_timeout is not None and not 0 <= args.family_timeout < float("inf"):
        return fail(f"--family-timeout={args.family_timeout:g}: expected 0 (no limit) or a "
                    "number of seconds")
    for e in extra:
        if not e.startswith("--benchmark_") or e.startswith(("--benchmark_out",
                                                              "--benchmark_filter",
                                                              "--benchmark_repetitions")):
            return fail(f"'{e}' cannot be passed to concbench here: only --benchmark_* flags "
                        "other than _out, _filter and _repetitions (the sweep sets those)")
    models = [m for m in (args.models or "").split(",") if m] or None
    workloads = [w for w in (args.workloads or "").split(",") if w] or None

    try:
        binary = args.binary or (None if args.dry_run else build_release())
        if binary is None:
            binary = DEFAULT_BINARY
            if not os.path.exists(binary):
                raise UsageError(f"{binary} is not built yet; run scripts/run once, or pass "
                                 "--binary")
        binary = os.path.abspath(binary)
        keys = grid_keys(binary)
        overrides = []
        for key, text in grid_text.items():
            if key not in keys:
                raise UsageError(f"unknown key '{key}'; the grid keys are: {', '.join(keys)}")
            overrides.append(f"--{key}={','.join(map(str, parse_values(key, text, keys[key])))}")
        planned = list_benchmarks(binary, args.suite, overrides, args.repetitions, extra)
        names = list(planned)
        # Python's memory per pending task goes with the memory families, or when asked for.
        if any(m.startswith("python") for m in models or []) or "memory" in (workloads or []):
            names += python_names(binary, args.suite, grid_text)
        families = select(names, models, workloads)
        check_keys_used(families, grid_text)
    except UsageError as e:
        return fail(str(e))
    except subprocess.CalledProcessError as e:
        return fail(f"building concbench failed ({' '.join(e.cmd)} exited {e.returncode})", 1)

    total = sum(len(v) for v in families.values())
    plan = " ".join(["scripts/sweep", f"--suite={args.suite}"]
                    + ([f"--models={','.join(models)}"] if models else [])
                    + ([f"--workloads={','.join(workloads)}"] if workloads else [])
                    + overrides + [f"--repetitions={args.repetitions}"]
                    + ([f"--family-timeout={args.family_timeout:g}"]
                       if args.family_timeout is not None else [])
                    + (["--", *extra] if extra else []))
    print(f"sweep: {len(families)} run(s), {total} benchmark(s), {args.repetitions} "
          f"repetition(s) each: {plan}", file=sys.stderr)
    if args.dry_run:
        for fam, members in families.items():
            print(f"{fam}: {len(members)} benchmark(s)")
            for n, _ in members:
                print(f"  {n}")
        return 0

    out = new_folder(args.out_root)
    parts_dir = os.path.join(out, ".parts")
    os.makedirs(parts_dir)
    print(f"sweep: writing {out}", file=sys.stderr)

    def on_term(_sig, _frame):
        raise KeyboardInterrupt()
    # Installed explicitly: a sweep started in the background inherits SIGINT ignored.
    previous = {sig: signal.signal(sig, on_term) for sig in (signal.SIGINT, signal.SIGTERM)}

    parts, finished, failed, unfinished, timed_out = [], [], [], [], []
    interrupted = False
    start = time.monotonic()
    fams = list(families.items())
    # Python's memory family is not in the binary's plan: its benchmarks count as an average one.
    selected = [n for _, members in fams for n, _ in members]
    known = [planned[n] for n in selected if n in planned]
    guess = sum(known) / len(known) if known else 1.0
    progress = SweepProgress({n: planned.get(n, guess) for n in selected}, len(fams))
    with open(os.path.join(out, "sweep.log"), "w") as log:
        for i, (fam, members) in enumerate(fams):
            if interrupted:
                unfinished.append(f"{fam} (not started)")
                continue
            print(f"[{i + 1}/{len(fams)}] {fam}: {len(members)} benchmark(s) — "
                  f"elapsed {fmt_elapsed(time.monotonic() - start)}, {progress.left_text()}",
                  file=sys.stderr, flush=True)
            progress.printed(heading=True)
            part = os.path.join(parts_dir, f"{i:03d}.json")
            cmd = family_command(fam, binary, args.suite, overrides, grid_text, args.repetitions,
                                 part, extra)
            limit = (args.family_timeout if args.family_timeout is not None
                     else default_family_timeout(len(members), args.repetitions))
            log.write(f"==> {' '.join(cmd)}\n")
            log.flush()
            t0 = time.monotonic()
            try:
                rc = run_family(cmd, log, [n for n, _ in members], args.repetitions, limit,
                                progress)
            except (Interrupted, KeyboardInterrupt):
                interrupted = True
                unfinished.append(f"{fam} (interrupted)")
                print(f"sweep: interrupted during {fam}; keeping the {len(finished)} run(s) "
                      "that finished", file=sys.stderr)
                continue
            except TimedOut as e:
                rc, stopped_after = None, e.elapsed
                line = (f"TIMED OUT: {fam} after {e.elapsed:.0f} s (limit {limit:g} s); "
                        f"process group terminated ({e.ended_by})")
                log.write(line + "\n")
                log.flush()
                print("    " + line, file=sys.stderr, flush=True)
            data = load_part(part)
            rows = data["benchmarks"] if data else []
            if rc is None:
                failed.append(fam)
                kept = len({r.get("run_name") for r in rows if not r.get("error_occurred")})
                timed_out.append(f"{fam} (after {stopped_after:.0f} s, limit {limit:g} s, "
                                 f"{kept} of {len(members)} benchmark(s) finished)")
                if rows:
                    parts.append(data)
                continue
            if not rows:
                unfinished.append(f"{fam} (exit {rc}, no results written)")
                failed.append(fam)
                print(f"    {fam} failed: exit {rc}, no results written (see sweep.log)",
                      file=sys.stderr)
                continue
            parts.append(data)
            if rc != 0:
                failed.append(fam)
                print(f"    {fam} exited {rc}: its failed benchmarks are listed in report.md",
                      file=sys.stderr)
            else:
                finished.append(fam)
            print(f"    done in {fmt_elapsed(time.monotonic() - t0)}", file=sys.stderr)
    for sig, handler in previous.items():
        signal.signal(sig, handler)
    shutil.rmtree(parts_dir, ignore_errors=True)

    n_ok = len(finished)
    if interrupted:
        status = f"interrupted: {n_ok} of {len(fams)} run(s) finished"
    elif failed:
        status = f"{len(failed)} of {len(fams)} run(s) failed"
    else:
        status = f"complete: {len(fams)} run(s)"
    if failed and interrupted:
        status += f", {len(failed)} failed"
    if timed_out:
        status += f" ({len(timed_out)} timed out)"
    elapsed = fmt_elapsed(time.monotonic() - start)
    if not parts:
        print(f"sweep: {status}; nothing to keep, no results.json written ({out})",
              file=sys.stderr)
        return 130 if interrupted else 1
    path = os.path.join(out, "results.json")
    cr.write_atomic(path, json.dumps(merge(parts, status, plan, unfinished, timed_out),
                                     indent=2) + "\n")
    for u in unfinished:
        print(f"sweep: not in the results: {u}", file=sys.stderr)
    print(f"sweep: {status} in {elapsed}; writing charts and report", file=sys.stderr)
    import report  # matplotlib is loaded only when there is something to draw
    report_rc = report.main([path])
    print(out)
    if interrupted:
        return 130
    return 1 if failed or report_rc else 0


if __name__ == "__main__":
    sys.exit(main())
