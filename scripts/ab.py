"""Did a change make concbench's benchmarks faster or slower? Two builds, measured in pairs in one
session, on the same machine at the same time.

    scripts/ab A B [--pairs=N] [--more-pairs=M] [--a-flags='...'] [--b-flags='...']
                   [--fail-on-regression=PCT] [-o DIR] [--all] [--seed=N]
                   [concbench flags, e.g. --suite=smoke]

A and B are git revisions of this repository (HEAD, main, a1b2c3d, HEAD~3) or paths to two
concbench binaries; A is the baseline. A revision is built once, out of the working tree (a
detached `git worktree` under build/ab/, removed afterwards whatever happens), in Release, and
its binary kept as build/ab/<commit>/concbench: a second call with the same commit reuses it.
To measure uncommitted work, give the binary: `scripts/ab HEAD build/release/concbench`.

Both binaries list their benchmarks with the same concbench flags; the benchmarks present in
both (matched by name without Google Benchmark's iterations:N) are measured in N pairs (--pairs,
default 20). Each pair is one process of A and one of B, in a random order (A B, B A, B A, A B,
...; --seed makes it repeatable), each running every common benchmark once
(--benchmark_repetitions=1, --no_probe, and --no_machine_ideal when both binaries have it: ab
does not read the calibration behind machine_ideal_s, which is a quarter of a smoke process)
with the same arguments. --a-flags and --b-flags add
flags to one side only: `--b-flags='--inject_slowdown=10'` makes B do 10 % more work in every
compute step, a positive control that the comparison must catch.

Why whole-suite processes, alternated: the fixed cost of a process is its start, registering
the families and (skipped here) the machine probe; the cost of a benchmark is its set-up
(pools, calibration, servers) and its timed loop, paid again at every repetition whether or
not the process is new. A benchmark-at-a-time schedule (one process per benchmark per side per
pair) adds a process start to every measurement: on the 2-vCPU VM, 10 pairs of the smoke suite
took 31 s a pair that way against 10.5 s a pair as whole-suite processes, and the pairs' spread
was no smaller (the median benchmark's robust sd of log(B/A) was 0.41 against 0.37 and 0.38,
under the same load). So one pair of processes measures every benchmark once in A and once in
B, about one suite-run apart (≈ 3.5 s for the smoke suite), in both orders at random: whatever
drifts more slowly than that hits both halves of a pair alike and cancels in the ratio B/A,
and the random order cancels what favours the first or the second process of a pair.

Then the follow-up (--more-pairs, default 70; 0 for none): the benchmarks still "too noisy"
after the first N pairs get more pairs, in blocks of 10, 20 and 40, from processes that run only
them, until none is too noisy or the M pairs are spent (Chromium's Pinpoint also adds repeats
when a result is unclear). A benchmark whose pairs wander too much for the M pairs to settle
(its interval at all of them would still be wider than ±10 %: stats.could_settle) is left out,
and the summary says how many were. The time goes where the doubt is: on the 2-vCPU VM a
process of the 5–10 benchmarks still undecided after 50 pairs takes a tenth of a second, against
3.5 s for the whole smoke suite. A block runs only the pairs that fit in the session's
--max-minutes (default 5), estimated from what the processes so far took; the first N pairs
always run, and the summary says when the limit stopped the follow-up. Each benchmark is judged
on all its pairs and looked at no more than four times with the defaults (after 20, 30, 50 and
90 pairs), so its chance of a false verdict is at most about 4 × 0.2 %.

The verdict on each benchmark comes from its paired ratios B/A (scripts/stats.py, judge_pairs):
the median ratio, its 99.8 % interval (the Wilcoxon signed-rank interval, exact here because a
random order makes an A/A ratio symmetric about 1), and the pairs' own noise (the robust sd of
log B/A). "slower"/"faster": the interval excludes no change and the median change is 2 % or
more. "no change": the interval lies within ±10 % (a change that large would have shown), or
it excludes no change but the change is under 2 %. "too noisy": the pairs are too noisy to rule
out a 10 % change. "too few pairs": under 10 pairs (no interval can reach 99.8 % then).

Output: the header (what A and B are, with any injected slowdown, the session and the machine's
load), the verdicts counted, a table of the benchmarks with a verdict other than "no change"
(every benchmark with --all), then ab.png (each benchmark's ratio with its interval) and the
folder results/<date>_<host>_ab/ (or -o DIR): A.json and B.json (Google Benchmark JSON, one row
per repetition, repetition_index = pair), ab.txt (this summary) and ab.png.

Exit status: 0; 1 with --fail-on-regression=PCT when a benchmark is "slower" by more than PCT
percent (a `regression:` line on stderr names it); 2 for bad input (an unknown revision, one
that does not build, binaries with no benchmark in common, a bad flag, for ab or concbench),
after one `fatal:` line and with nothing written; 130 when interrupted.
"""
from __future__ import annotations

import argparse
import collections
import json
import os
import random
import re
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field

import compare
import concbench_results as cr
import stats
from sweep import stop

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CACHE = os.path.join(REPO, "build", "ab")
BINARY = "concbench"
# Skips the calibration behind machine_ideal_s, which ab does not read; older binaries lack it.
NO_MACHINE_IDEAL = "--no_machine_ideal"

DEFAULT_PAIRS = 20
DEFAULT_MORE_PAIRS = 70
# The follow-up's blocks of pairs, each of the benchmarks still too noisy, grow: a benchmark is
# looked at after 20, 30, 50 and 90 pairs with the defaults, four looks, however many pairs.
FOLLOW_UP_BLOCKS = (10, 20, 40)
# The session's time: the first pairs always run; a follow-up block runs only as many pairs as
# fit before DEFAULT_MAX_MINUTES (--max-minutes), and none when that is under MIN_BLOCK.
DEFAULT_MAX_MINUTES = 5.0
MIN_BLOCK = 5

# concbench flags that ab refuses, and why: it sets them itself on every measuring process, or
# they would make a process print a table instead of measuring, or write one file per process.
OWN_FLAGS = dict.fromkeys(
    ("benchmark_out", "benchmark_out_format", "benchmark_format", "display", "console_out",
     "trace"), "scripts/ab writes the results itself")
OWN_FLAGS.update(dict.fromkeys(
    ("benchmark_list_tests", "probe", "list_models", "list_workloads", "list_cells",
     "list_planned"), "scripts/ab lists and runs the benchmarks itself"))
OWN_FLAGS["benchmark_repetitions"] = ("scripts/ab runs one repetition per process; --pairs says "
                                      "how many")

# A process's deadline: this many times the longest one so far, and at least MIN_DEADLINE_S; the
# first gets FIRST_DEADLINE_S. concbench's own watchdog ends a stalled benchmark long before.
DEADLINE_FACTOR = 5
MIN_DEADLINE_S = 120.0
FIRST_DEADLINE_S = 1800.0
# One side's process failing without results this many times in a row ends the session.
MAX_FAILURES_IN_A_ROW = 2

VERDICT_COLORS = {"slower": "#d62728", "faster": "#2ca02c", "too noisy": "#ff7f0e",
                  "no change": "#7f7f7f", "too few pairs": "#9467bd"}


class UsageError(Exception):
    """Bad input: one line, printed as fatal: and exit 2."""


# --- the two binaries ---------------------------------------------------------------------------

@dataclass
class Side:
    label: str            # "A" or "B"
    spec: str             # what the user gave: a revision or a path
    flags: list[str]      # flags for this side only
    binary: str = ""
    commit: str | None = None
    names: dict[str, str] = field(default_factory=dict)  # key name -> full benchmark name
    context: dict = field(default_factory=dict)
    skips_calibration: bool = False  # its processes get NO_MACHINE_IDEAL (both sides or neither)

    def describe(self) -> str:
        """'A = HEAD  (commit a03fffa22ae0, build/ab/a03f…/concbench)', or for a binary the
        commit it says it was built from."""
        if self.commit:
            what = f"commit {self.commit[:12]}, {os.path.relpath(self.binary, os.getcwd())}"
        else:
            what = f"built from {self.context.get('concbench_git_commit') or 'an unknown commit'}"
        flags = f", with {shlex.join(self.flags)}" if self.flags else ""
        return f"{self.label} = {self.spec}  ({what}{flags})"


def git(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(["git", "-C", REPO, *args], capture_output=True, text=True,
                          check=check)


def resolve(side: Side) -> None:
    """Sets side.binary (and side.commit for a revision); a revision's binary is the cached one,
    built by ensure_built."""
    spec = side.spec
    if os.path.isfile(spec):
        if not os.access(spec, os.X_OK):
            raise UsageError(f"{side.label}: {spec} is a file but not executable")
        side.binary = os.path.abspath(spec)
        return
    if not spec or spec.startswith("-"):
        raise UsageError(f"{side.label}: '{spec}' is neither a concbench binary nor a revision")
    p = git("rev-parse", "--verify", "--quiet", "--end-of-options", f"{spec}^{{commit}}",
            check=False)
    if p.returncode != 0:
        raise UsageError(f"{side.label}: '{spec}' is neither a concbench binary nor a revision "
                         f"of {REPO}")
    side.commit = p.stdout.strip()
    side.binary = os.path.join(CACHE, side.commit, BINARY)


def ensure_built(side: Side, log) -> None:
    if side.commit and not os.access(side.binary, os.X_OK):
        build(side, log)


def build(side: Side, log) -> None:
    """Builds side.commit's concbench in Release, in a detached worktree under build/ab/ that is
    removed afterwards (on an error or an interruption too), and keeps the binary alone."""
    short = side.commit[:12]
    os.makedirs(CACHE, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=f".build-{short}-", dir=CACHE)
    src, out = os.path.join(tmp, "src"), os.path.join(tmp, "build")
    log_path = os.path.join(CACHE, f"{short}.log")
    jobs = str(os.cpu_count() or 2)
    log(f"ab: building {side.label} = {side.spec} (commit {short}) in Release; the binary is "
        f"kept for the next time")
    added = False
    try:
        with open(log_path, "w") as f:
            def step(what, cmd):
                f.write(f"==> {' '.join(cmd)}\n")
                f.flush()
                proc = subprocess.Popen(cmd, stdout=f, stderr=subprocess.STDOUT,
                                        stdin=subprocess.DEVNULL, start_new_session=True)
                try:
                    rc = proc.wait()
                except BaseException:  # interrupted: the step's whole process group goes too
                    stop(proc, ((signal.SIGTERM, 5), (signal.SIGKILL, 30)))
                    raise
                if rc != 0:
                    raise UsageError(f"{side.label}: commit {short} does not build: {what} "
                                     f"failed (exit {rc}); its output is in "
                                     f"{os.path.relpath(log_path, os.getcwd())}")
            step("git worktree add", ["git", "-C", REPO, "worktree", "add", "--detach", src,
                                      side.commit])
            added = True
            step("cmake (configure)", ["cmake", "-S", src, "-B", out,
                                       "-DCMAKE_BUILD_TYPE=Release",
                                       "-DCONCBENCH_BUILD_TESTS=OFF"])
            step("cmake --build", ["cmake", "--build", out, "-j", jobs, "--target", BINARY])
        built = os.path.join(out, BINARY)
        if not os.access(built, os.X_OK):
            raise UsageError(f"{side.label}: commit {short} built no {BINARY} binary; the build's "
                             f"output is in {os.path.relpath(log_path, os.getcwd())}")
        final = os.path.dirname(side.binary)
        os.makedirs(final, exist_ok=True)
        part = os.path.join(final, f".{BINARY}.{os.getpid()}.tmp")  # two builds may race
        shutil.copy2(built, part)
        os.replace(part, side.binary)
        os.unlink(log_path)
    except UsageError:
        raise  # the log stays: the fatal line points to it
    except BaseException:
        if os.path.exists(log_path):
            os.unlink(log_path)
        raise
    finally:
        if added:
            git("worktree", "remove", "--force", src, check=False)
        shutil.rmtree(tmp, ignore_errors=True)
        git("worktree", "prune", check=False)


# --- the concbench command lines ----------------------------------------------------------------

def flag_name(arg: str) -> str:
    return arg.lstrip("-").split("=", 1)[0]


def check_flags(flags: list[str], where: str = "") -> None:
    """Refuses what is not a flag, and the flags ab sets itself; `where` names the option the
    flags came from."""
    where = f" in {where}" if where else ""
    for a in flags:
        if not a.startswith("-"):
            raise UsageError(f"unexpected argument '{a}'{where} (concbench flags start with --)")
        if flag_name(a) in OWN_FLAGS:
            raise UsageError(f"{a}{where}: {OWN_FLAGS[flag_name(a)]}")


def without_filter(flags: list[str]) -> list[str]:
    return [a for a in flags if flag_name(a) != "benchmark_filter"]


def escape(name: str) -> str:
    """A benchmark name as a POSIX extended regular expression (Google Benchmark's filter)
    matching it literally: '[.]' rather than '\\.', which some regex libraries refuse."""
    special = {"]": "[]]", "^": "\\^", "\\": "[\\]"}
    return "".join(special.get(c, f"[{c}]") if c in ".[]()*+?{}|^$\\" else c for c in name)


def list_benchmarks(side: Side, flags: list[str]) -> None:
    """side.names from `concbench <flags> --benchmark_list_tests=true`, and whether the binary
    has NO_MACHINE_IDEAL (listed with it first; a binary that refuses it is listed again
    without)."""
    def listing(extra):
        cmd = [side.binary, *flags, *side.flags, *extra, "--benchmark_list_tests=true"]
        try:
            return subprocess.run(cmd, capture_output=True, text=True, timeout=300)
        except (OSError, subprocess.TimeoutExpired) as e:
            raise UsageError(f"{side.label}: cannot run {side.binary}: {e}") from None
    p = listing([NO_MACHINE_IDEAL])
    side.skips_calibration = p.returncode == 0
    if not side.skips_calibration and NO_MACHINE_IDEAL in p.stderr:
        p = listing([])
    if p.returncode != 0:
        lines = [ln.strip() for ln in p.stderr.splitlines() if ln.strip()]
        why = lines[-1] if lines else f"exit {p.returncode}"
        why = why.removeprefix("concbench: ")
        raise UsageError(f"{side.label}: concbench refused the flags "
                         f"{shlex.join(flags + side.flags) or '(none)'}: {why}")
    for name in p.stdout.split():
        parsed = cr.parse_name(name)
        if parsed:
            bench = cr.Bench(name, parsed, 0)
            side.names.setdefault(cr.key_name(bench), name)
    if not side.names:
        raise UsageError(f"{side.label}: {side.binary} listed no concbench benchmark")


def common_keys(a: Side, b: Side) -> list[str]:
    keys = [k for k in a.names if k in b.names]
    if not keys:
        raise UsageError(
            f"A and B have no benchmark in common: nothing to compare (A lists "
            f"{len(a.names)}, e.g. {next(iter(a.names))}; B lists {len(b.names)}, e.g. "
            f"{next(iter(b.names))})")
    return keys


def run_command(side: Side, flags: list[str], keys: list[str], out: str) -> list[str]:
    """The command of one measuring process of `side`: every common benchmark once."""
    if len(keys) == len(side.names):
        selected = flags  # every benchmark it lists: the user's own filter, if any, says so
    else:
        selected = without_filter(flags) + [
            "--benchmark_filter=^(" + "|".join(escape(side.names[k]) for k in keys) + ")$"]
    return [side.binary, *selected, *side.flags, "--no_probe",
            *([NO_MACHINE_IDEAL] if side.skips_calibration else []), "--benchmark_repetitions=1",
            f"--benchmark_out={out}", "--benchmark_out_format=json"]


# --- the session --------------------------------------------------------------------------------

@dataclass
class Session:
    pairs: int  # pairs of every common benchmark
    seed: int
    order: list[str] = field(default_factory=list)  # "AB" or "BA" per pair
    rows: dict[str, list[dict]] = field(default_factory=lambda: {"A": [], "B": []})
    contexts: dict[str, dict] = field(default_factory=dict)
    seconds: float = 0.0
    load: tuple[float, float] = (float("nan"), float("nan"))
    lost: list[str] = field(default_factory=list)  # processes that gave no results, and why
    follow_up: list[tuple[int, int]] = field(default_factory=list)  # (pairs, benchmarks) a block
    # Too noisy, and too noisy for the follow-up's pairs to settle (stats.could_settle): left out.
    unsettled: dict[str, float] = field(default_factory=dict)  # key -> its pairs' noise
    max_seconds: float = DEFAULT_MAX_MINUTES * 60
    # Benchmarks still too noisy when the next block would have passed max_seconds (0: none).
    cut_by_time: int = 0

    @property
    def total_pairs(self) -> int:
        return self.pairs + sum(n for n, _ in self.follow_up)


def run_one(cmd: list[str], deadline_s: float) -> tuple[int, str]:
    """Runs one measuring process in its own process group; (exit status, its last stderr line).
    Past the deadline the group is ended and the status is -1."""
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        _, err = proc.communicate(timeout=deadline_s)
    except subprocess.TimeoutExpired:
        stop(proc, ((signal.SIGTERM, 10), (signal.SIGKILL, 30)))
        return -1, f"past its deadline of {deadline_s:.0f} s"
    except BaseException:
        stop(proc)
        raise
    lines = [ln.strip() for ln in (err or "").splitlines() if ln.strip()]
    return proc.returncode, (lines[-1] if lines else "")


def read_rows(path: str) -> tuple[dict, list[dict]]:
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
        return data.get("context") or {}, [r for r in data.get("benchmarks") or []
                                           if isinstance(r, dict)]
    except (OSError, ValueError):
        return {}, []


def follow_up_blocks(more: int):
    """The follow-up's block sizes for `more` pairs: FOLLOW_UP_BLOCKS, then its last one again,
    the last cut to what is left (15 → 10, 5; 70 → 10, 20, 40)."""
    i = 0
    while more > 0:
        n = min(FOLLOW_UP_BLOCKS[min(i, len(FOLLOW_UP_BLOCKS) - 1)], more)
        yield n
        more -= n
        i += 1


class Costs:
    """What a measuring process costs, to fit the follow-up into the session's time: each
    benchmark's timed seconds in a process (its iterations × time, the median over its
    processes) and, from the latest processes, their wall time over the sum of those."""

    def __init__(self):
        self.timed: dict[str, list[float]] = collections.defaultdict(list)
        self.factors: list[float] = []  # wall ÷ timed seconds, per process, newest last

    def add(self, names: dict[str, str], rows: list[dict], wall: float) -> None:
        key_of = {full: key for key, full in names.items()}
        total = 0.0
        for r in rows:
            t, key = cr._row_seconds(r), key_of.get(r.get("run_name", ""))
            if t is not None and key is not None:
                self.timed[key].append(t * int(r.get("iterations") or 1))
                total += self.timed[key][-1]
        if total > 0:
            self.factors.append(wall / total)

    def pair_seconds(self, keys: list[str]) -> float:
        """A pair of processes of `keys`: twice their timed seconds × the newest processes'
        factor (a benchmark never timed counts as the median one)."""
        medians = {k: statistics.median(v) for k, v in self.timed.items() if v}
        if not medians or not self.factors:
            return 0.0
        typical = statistics.median(medians.values())
        factor = statistics.median(self.factors[-4:])
        return 2 * factor * sum(medians.get(k, typical) for k in keys)


def measure(a: Side, b: Side, flags: list[str], keys: list[str], pairs: int, more: int,
            seed: int, progress, max_seconds: float = DEFAULT_MAX_MINUTES * 60) -> Session:
    """Runs the pairs of every benchmark, then the follow-up's blocks of the benchmarks still
    too noisy, each as many pairs as fit in what is left of max_seconds; each row is tagged with
    its pair (repetition_index, counted over the session)."""
    rng = random.Random(seed)
    s = Session(pairs, seed, max_seconds=max_seconds)
    most = pairs + more
    sides = {"A": a, "B": b}
    failures = {"A": 0, "B": 0}
    costs = Costs()
    longest = 0.0
    start = time.monotonic()
    s.load = (os.getloadavg()[0], float("nan"))
    with tempfile.TemporaryDirectory(prefix="concbench-ab-") as tmp:
        def run_pairs(selected: list[str], n: int, of: str) -> None:
            nonlocal longest
            for _ in range(n):
                i = len(s.order)
                order = rng.choice(("AB", "BA"))
                s.order.append(order)
                for label in order:
                    out = os.path.join(tmp, f"{label}{i}.json")
                    deadline = (FIRST_DEADLINE_S if not longest
                                else max(MIN_DEADLINE_S, DEADLINE_FACTOR * longest))
                    t0 = time.monotonic()
                    rc, last = run_one(run_command(sides[label], flags, selected, out), deadline)
                    wall = time.monotonic() - t0
                    longest = max(longest, wall)
                    context, rows = read_rows(out)
                    costs.add(sides[label].names, rows, wall)
                    if not rows:
                        failures[label] += 1
                        s.lost.append(f"pair {i + 1}, {label}: exit {rc}" + (f": {last}" if last
                                                                               else ""))
                        if failures[label] >= MAX_FAILURES_IN_A_ROW:
                            raise UsageError(f"{label}'s concbench gave no results "
                                             f"{failures[label]} times in a row (exit {rc}"
                                             + (f": {last})" if last else ")"))
                        continue
                    failures[label] = 0
                    s.contexts.setdefault(label, context)
                    for r in rows:
                        if r.get("run_type", "iteration") == "iteration":
                            s.rows[label].append(dict(r, repetition_index=i))
                progress(i + 1, most, time.monotonic() - start, of)

        run_pairs(keys, pairs, plural(len(keys), "benchmark"))
        for block in follow_up_blocks(more):
            noisy = still_too_noisy(a, b, s, keys, more)
            if not noisy:
                break
            left = max_seconds - (time.monotonic() - start)
            per_pair = costs.pair_seconds(noisy)
            n = min(block, int(left // per_pair) if per_pair > 0 else block)
            if n < min(block, MIN_BLOCK):
                s.cut_by_time = len(noisy)
                break
            s.follow_up.append((n, len(noisy)))
            run_pairs(noisy, n, f"follow-up: the {len(noisy)} still too noisy")
            more -= n
    s.seconds = time.monotonic() - start
    s.load = (s.load[0], os.getloadavg()[0])
    return s


def still_too_noisy(a: Side, b: Side, s: Session, keys: list[str], more: int) -> list[str]:
    """The benchmarks among `keys` whose verdict on the pairs so far is "too noisy" and that
    `more` pairs could settle; the others too noisy go to s.unsettled."""
    if not s.rows["A"] or not s.rows["B"]:
        return []
    an = analyse(cr.from_json(results_json(a, s), "A"), cr.from_json(results_json(b, s), "B"))
    noisy = set()
    for r in an.rows:
        if r.verdict.verdict != "too noisy" or r.key in s.unsettled:
            continue
        if stats.could_settle(r.verdict, more):
            noisy.add(r.key)
        else:
            s.unsettled[r.key] = r.verdict.noise
    return [k for k in keys if k in noisy]


# --- the verdicts -------------------------------------------------------------------------------

@dataclass
class Row:
    """One benchmark measured in both builds: the fields compare.abbreviate reads, and its
    verdict."""
    key: str
    a: cr.Bench
    b: cr.Bench
    verdict: stats.PairedVerdict
    expected: float | None = None  # the change an injected slowdown should make (expected_change)


@dataclass
class Analysis:
    rows: list[Row]
    failed: list[tuple[str, str, str]]  # (side, key, why)
    slowdown: dict[str, float]          # side -> injected slowdown, percent


def rows_by_pair(bench: cr.Bench) -> dict[int, tuple[float, dict]]:
    """(time in seconds, row) of each pair the benchmark has a time for, by pair index."""
    out = {}
    for r in bench.reps:
        t = cr._row_seconds(r)
        if t is not None and t > 0:
            out[int(r.get("repetition_index", len(out)))] = (t, r)
    return out


def expected_change(pairs, slowdown: dict[str, float]) -> float | None:
    """The change an injected slowdown should make to a benchmark, from its pairs ((time, row)
    of A, (time, row) of B): (median ideal_s of B − median ideal_s of A) / A's median time,
    within what the slowdowns allow (a benchmark that is all compute changes by the slowdown,
    one that only waits not at all). Each process calibrates its tasks with its own slowdown, so
    the ideal grows by the slowdown times the share of compute in it, while the rest of the time
    (waits, dispatch, IPC) does not. None without ideal_s."""
    ideal = [(ra["ideal_s"], rb["ideal_s"]) for (_, ra), (_, rb) in pairs
             if isinstance(ra.get("ideal_s"), (int, float))
             and isinstance(rb.get("ideal_s"), (int, float))]
    if not ideal:
        return None
    grown = (statistics.median(b for _, b in ideal) - statistics.median(a for a, _ in ideal)) \
        / statistics.median(t for (t, _), _ in pairs)
    most = (1 + slowdown["B"] / 100) / (1 + slowdown["A"] / 100) - 1
    return min(max(grown, min(0.0, most)), max(0.0, most))


def analyse(a: cr.Results, b: cr.Results) -> Analysis:
    """Pairs each benchmark's repetitions of A and B by pair index and judges them."""
    ka, kb = compare.keyed(a), compare.keyed(b)
    rows, failed = [], []
    slowdown = {side: cr.injected_slowdown(res.context) for side, res in (("A", a), ("B", b))}
    for k in (k for k in ka if k in kb):
        ba, bb = ka[k], kb[k]
        why = [(side, x.errors[0]) for side, x in (("A", ba), ("B", bb)) if x.failed]
        if why:
            failed.extend((side, k, msg) for side, msg in why)
            continue
        ra, rb = rows_by_pair(ba), rows_by_pair(bb)
        pairs = [(ra[i], rb[i]) for i in sorted(ra) if i in rb]
        if not pairs:
            failed.append(("A and B", k, "no pair measured in both"))
            continue
        rows.append(Row(k, ba, bb, stats.judge_pairs([(x[0], y[0]) for x, y in pairs])))
        if slowdown["A"] or slowdown["B"]:
            rows[-1].expected = expected_change(pairs, slowdown)
    order = {v: i for i, v in enumerate(stats.PAIRED_VERDICTS)}
    rows.sort(key=lambda r: (order[r.verdict.verdict], -abs(r.verdict.change)))
    return Analysis(rows, failed, slowdown)


# --- the summary --------------------------------------------------------------------------------

def plural(n: int, what: str) -> str:
    return f"{n} {what}{'' if n == 1 else 's'}"


def format_duration(s: float) -> str:
    return f"{s:.0f} s" if s < 60 else f"{int(s // 60)} min {s % 60:02.0f} s"


def slowdown_lines(an: Analysis) -> list[str]:
    return [f"{side}: {cr.slowdown_note(pct)}" for side, pct in an.slowdown.items() if pct > 0]


def header_lines(a: Side, b: Side, s: Session, flags: list[str], an: Analysis) -> list[str]:
    load = " → ".join(f"{x:.2f}" for x in s.load)
    return [a.describe(), b.describe(), *slowdown_lines(an),
            f"session: {plural(s.pairs, 'pair')}{follow_up_text(s)} in "
            f"{format_duration(s.seconds)}, one repetition of each benchmark per process, A and B "
            f"in a random order per pair (seed {s.seed}); load {load}; concbench flags: "
            f"{shlex.join(flags) or '(none)'}"]


def follow_up_text(s: Session) -> str:
    """', then 20 more of those still too noisy (10 pairs of 35 benchmarks, 10 of 22)', or
    ''."""
    if not s.follow_up:
        return ""
    blocks = ", ".join(f"{n} pairs of {plural(k, 'benchmark')}" if i == 0 else f"{n} of {k}"
                       for i, (n, k) in enumerate(s.follow_up))
    return f", then {s.total_pairs - s.pairs} more of those still too noisy ({blocks}),"


def tally_line(an: Analysis) -> str:
    counts = [(v, sum(r.verdict.verdict == v for r in an.rows)) for v in stats.PAIRED_VERDICTS]
    n = len(an.rows)
    return (", ".join(f"{v} {k}" for v, k in counts if k) +
            f" ({n} benchmark{'s' if n != 1 else ''}; {stats.PAIRED_LEVEL * 100:g} % intervals, "
            f"changes under {stats.MIN_EFFECT * 100:g} % are no change)")


def table_lines(rows: list[Row], width: int = compare.WIDTH) -> list[str]:
    def span(v):
        if v.ci is None or v.verdict == "too few pairs":
            return "-"
        lo, hi = (compare.format_change(x - 1) for x in v.ci)
        return f"{lo[:-2]} to {hi}"
    expected = any(r.expected is not None for r in rows)
    cells = [(r.verdict.verdict + ("*" if r.verdict.negligible else ""),
              compare.format_change(r.verdict.change), span(r.verdict),
              f"{r.verdict.noise * 100:.1f} %", cr.format_seconds(r.verdict.median_a))
             + ((f"≈{compare.format_change(r.expected)}" if r.expected is not None else "-",)
                if expected else ()) for r in rows]
    titles = ("verdict", "change", "interval of B/A", "noise", "A") + (
        ("expected",) if expected else ())
    widths = [max(len(t), *(len(x[i]) for x in cells)) for i, t in enumerate(titles)]
    names = compare.abbreviate(rows, max(len("benchmark"), width - sum(widths) - 2 * len(titles)))

    def line(cols, name):
        return "  ".join([cols[0].ljust(widths[0])] + [x.rjust(w) for x, w in
                                                       zip(cols[1:], widths[1:])] + [name])
    return [line(titles, "benchmark")] + [line(x, n) for x, n in zip(cells, names)]


def summary_lines(a: Side, b: Side, s: Session, flags: list[str], an: Analysis,
                  show_all: bool) -> list[str]:
    shown = an.rows if show_all else [
        r for r in an.rows if r.verdict.verdict != "no change"
        or (r.expected is not None and abs(r.expected) >= stats.MIN_EFFECT)]
    hidden = len(an.rows) - len(shown)
    lines = header_lines(a, b, s, flags, an) + ["", tally_line(an)]
    if s.cut_by_time:
        lines.append(f"stopped at the {s.max_seconds / 60:g}-minute limit (--max-minutes): "
                     f"{plural(s.cut_by_time, 'benchmark')} still too noisy got no more pairs")
    if s.unsettled:
        low, high = (f"{x * 100:.0f}" for x in (min(s.unsettled.values()),
                                               max(s.unsettled.values())))
        lines.append(f"not followed up: {plural(len(s.unsettled), 'benchmark')} too noisy to "
                     f"settle in the follow-up's pairs (a pair's ratio wanders by "
                     f"{low if low == high else f'{low}–{high}'} %; see the noise column)")
    lines.append("")
    if shown:
        lines += table_lines(shown)
    if hidden:
        lines.append(f"{'and ' if shown else ''}{plural(hidden, 'benchmark')} with no change "
                     "(every row: --all)")
    if any(r.verdict.negligible for r in shown):
        lines.append(f"* the interval excludes no change, but the change is under "
                     f"{stats.MIN_EFFECT * 100:g} %")
    lines.append("noise: how much one pair's ratio B/A wanders (robust sd of log B/A); "
                 "A: A's median time")
    if any(r.expected is not None for r in shown):
        lines.append("expected: what the injected slowdown should do, from the growth of the "
                     "calibrated ideal (ideal_s of B − of A) / A's time")
    if an.failed:
        lines += ["", f"failed, not compared ({len(an.failed)}):"]
        lines += [f"  {k} (in {side}): {why}" for side, k, why in an.failed]
    if s.lost:
        lines += ["", f"processes that gave no results ({len(s.lost)}), their pairs left out:"]
        lines += [f"  {x}" for x in s.lost]
    for label, side in (("A", a), ("B", b)):
        other = b if side is a else a
        only = [k for k in side.names if k not in other.names]
        if only:
            lines += ["", f"only in {label}, not compared ({len(only)}): "
                      + ", ".join(only[:3]) + (f" and {len(only) - 3} more" if len(only) > 3
                                               else "")]
    return lines


def draw(an: Analysis, a: Side, b: Side, s: Session, path: str) -> None:
    """ab.png: each benchmark's median ratio B/A with its interval, coloured by verdict."""
    points = []
    for r, label in zip(an.rows, compare.abbreviate(an.rows, 60)):
        v = r.verdict
        lo, hi = v.ci if v.ci else (v.ratio, v.ratio)
        points.append(compare.Point(label, v.ratio, lo, hi, v.verdict,
                                    f"{compare.format_change(v.change)}  {v.verdict}"))
    compare.draw_changes(
        points, path, colors=VERDICT_COLORS, hollow="too few pairs", band=stats.MIN_EFFECT,
        xlabel="median ratio B/A over the pairs (log scale; left = B faster)",
        title="B against A, measured in pairs: each benchmark's ratio B/A",
        subtitle="\n".join([a.describe(), b.describe(), *slowdown_lines(an)]) +
        f"\n{s.pairs} pairs" + (f" (+ {s.total_pairs - s.pairs} of those still too noisy)"
                                if s.follow_up else "") + ", A and B in a random order per pair; bars: "
        f"{stats.PAIRED_LEVEL * 100:g} % interval (Wilcoxon signed-rank); grey band: "
        f"±{stats.MIN_EFFECT * 100:g} %, never called a change")


# --- command line -------------------------------------------------------------------------------

class Parser(argparse.ArgumentParser):
    def error(self, message):
        raise UsageError(message)


def count(text: str) -> int:
    if not re.fullmatch(r"\d+", text) or not 1 <= int(text) <= 1000:
        raise argparse.ArgumentTypeError(f"expected a whole number from 1 to 1000, not {text!r}")
    return int(text)


def minutes(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not 0 < value <= 24 * 60:
        raise argparse.ArgumentTypeError(f"expected minutes, more than 0 and at most a day, not "
                                         f"{text!r}")
    return value


def count_or_zero(text: str) -> int:
    return 0 if text == "0" else count(text)


def create_parser():
    p = Parser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
               allow_abbrev=False)
    p.add_argument("baseline", help="A: a revision (HEAD, main, a1b2c3d) or a concbench binary")
    p.add_argument("contender", help="B: a revision or a concbench binary")
    p.add_argument("--pairs", type=count, default=DEFAULT_PAIRS,
                   help=f"pairs of processes, A and B, of every benchmark (default "
                        f"{DEFAULT_PAIRS})")
    p.add_argument("--more-pairs", type=count_or_zero, default=DEFAULT_MORE_PAIRS, metavar="M",
                   help="then at most M more pairs, in blocks of "
                        f"{', '.join(map(str, FOLLOW_UP_BLOCKS))}, of the benchmarks still too "
                        f"noisy (default {DEFAULT_MORE_PAIRS}; 0: none)")
    p.add_argument("--max-minutes", type=minutes, default=DEFAULT_MAX_MINUTES, metavar="MIN",
                   help="the follow-up runs only the pairs that fit in a session of MIN minutes "
                        f"(default {DEFAULT_MAX_MINUTES:g}); the first --pairs always run")
    p.add_argument("--a-flags", default="", metavar="FLAGS",
                   help="concbench flags for A only, e.g. --a-flags='--inject_slowdown=10'")
    p.add_argument("--b-flags", default="", metavar="FLAGS", help="concbench flags for B only")
    p.add_argument("--fail-on-regression", metavar="PCT", type=compare.percent,
                   help="exit 1 when a benchmark is 'slower' by more than PCT percent")
    p.add_argument("-o", "--output", metavar="DIR",
                   help="the folder to write (default: results/<date>_<host>_ab/)")
    p.add_argument("--all", action="store_true", help="a row for every benchmark")
    p.add_argument("--seed", type=int, help="the random order's seed (default: from the clock)")
    return p


def parse_args(argv):
    args, flags = compare.parse_known(create_parser(), argv)
    args.flags = flags
    check_flags(args.flags)
    try:
        a_flags, b_flags = shlex.split(args.a_flags), shlex.split(args.b_flags)
    except ValueError as e:
        raise UsageError(f"--a-flags or --b-flags: {e}") from None
    check_flags(a_flags, "--a-flags")
    check_flags(b_flags, "--b-flags")
    args.sides = (Side("A", args.baseline, a_flags), Side("B", args.contender, b_flags))
    if args.seed is None:
        args.seed = random.SystemRandom().randrange(1, 10**6)
    return args


def output_folder(args) -> str:
    if args.output:
        out = os.path.abspath(args.output)
        if os.path.exists(out) and (not os.path.isdir(out) or os.listdir(out)):
            raise UsageError(f"{args.output}: exists and is not an empty folder")
        if not os.access(os.path.dirname(out) or ".", os.W_OK):
            raise UsageError(f"{args.output}: cannot create it (folder missing or not writable)")
        return out
    stamp = time.strftime("%Y-%m-%dT%H%M%SZ", time.gmtime())
    host = socket.gethostname().split(".")[0] or "host"
    out = os.path.join(REPO, "results", f"{stamp}_{host}_ab")
    n = 1
    while os.path.exists(out):
        out = os.path.join(REPO, "results", f"{stamp}_{host}_ab-{n}")
        n += 1
    return out


def results_json(side: Side, s: Session) -> dict:
    """One side's rows, each with `repetitions` = the pairs its benchmark was measured in."""
    context = dict(s.contexts.get(side.label, {}))
    context.update({"ab_side": side.label, "ab_spec": side.spec, "ab_pairs": s.pairs,
                    "ab_follow_up": " ".join(f"{n}x{k}" for n, k in s.follow_up),
                    "ab_order": " ".join(s.order), "ab_seed": s.seed,
                    "ab_side_flags": shlex.join(side.flags)})
    counts = collections.Counter(r.get("run_name", "") for r in s.rows[side.label])
    rows = [dict(r, repetitions=counts[r.get("run_name", "")]) for r in s.rows[side.label]]
    return {"context": context, "benchmarks": rows}


def write_folder(out: str, a: Side, b: Side, s: Session, summary: list[str],
                 an: Analysis) -> None:
    """Writes A.json, B.json, ab.txt and ab.png into a temporary folder beside `out`, then
    renames it: the folder appears whole or not at all."""
    parent = os.path.dirname(out)
    os.makedirs(parent, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=".ab-", dir=parent)
    try:
        for side in (a, b):
            with open(os.path.join(tmp, f"{side.label}.json"), "w", encoding="utf-8") as f:
                json.dump(results_json(side, s), f, indent=1)
        with open(os.path.join(tmp, "ab.txt"), "w", encoding="utf-8") as f:
            f.write("\n".join(summary) + "\n")
        draw(an, a, b, s, os.path.join(tmp, "ab.png"))
        if os.path.isdir(out):
            os.rmdir(out)  # the empty folder -o named
        os.rename(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def stderr_progress():
    tty = sys.stderr.isatty()

    last = [""]

    def progress(done, most, elapsed, of):
        """Pair `done` of at most `most`, measuring `of`; the follow-up's pairs are shorter and
        may not all be needed, so no time left is guessed for them."""
        text = f"ab: pair {done} of at most {most} ({of}), {format_duration(elapsed)}"
        if tty:
            end = "\n" if of != last[0] and last[0] else ""
            print(end + "\r" + text.ljust(78), end="", file=sys.stderr, flush=True)
        elif done == 1 or of != last[0] or done % 5 == 0:
            print(text, file=sys.stderr, flush=True)
        last[0] = of

    def finish():
        if tty and last[0]:
            print(file=sys.stderr, flush=True)
    progress.finish = finish
    return progress


def main(argv=None) -> int:
    def on_term(_sig, _frame):
        raise KeyboardInterrupt()
    previous = signal.signal(signal.SIGTERM, on_term)
    try:
        return run(argv)
    except UsageError as e:
        print(f"fatal: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\nab: interrupted; nothing written", file=sys.stderr)
        return 130
    finally:
        signal.signal(signal.SIGTERM, previous)


def run(argv) -> int:
    args = parse_args(argv)
    a, b = args.sides
    out = output_folder(args)
    log = lambda text: print(text, file=sys.stderr, flush=True)  # noqa: E731
    # Both revisions are named before either is built: HEAD or a branch may move during a build.
    for side in (a, b):
        resolve(side)
    for side in (a, b):
        ensure_built(side, log)
    for side in (a, b):
        list_benchmarks(side, args.flags)
    keys = common_keys(a, b)
    # Both sides are measured the same way: without the calibration only if both can skip it.
    a.skips_calibration = b.skips_calibration = a.skips_calibration and b.skips_calibration
    log(f"ab: {plural(len(keys), 'benchmark')} in both; {plural(args.pairs, 'pair')} of processes"
        + (f", then at most {args.more_pairs} more of those still too noisy" if args.more_pairs
           else ""))
    progress = stderr_progress()
    try:
        s = measure(a, b, args.flags, keys, args.pairs, args.more_pairs, args.seed, progress,
                    args.max_minutes * 60)
    finally:
        progress.finish()
    a.context, b.context = s.contexts.get("A", {}), s.contexts.get("B", {})
    if not s.rows["A"] or not s.rows["B"]:
        raise UsageError("the session measured nothing: " + "; ".join(s.lost[-2:]))
    ra = cr.from_json(results_json(a, s), "A")
    rb = cr.from_json(results_json(b, s), "B")
    an = analyse(ra, rb)
    if not an.rows:
        raise UsageError("no benchmark ran successfully in both A and B: "
                         + "; ".join(f"{k} (in {side}): {why}" for side, k, why in an.failed[:2]))
    summary = summary_lines(a, b, s, args.flags, an, args.all)
    write_folder(out, a, b, s, summary, an)
    shown = os.path.relpath(out) if not os.path.relpath(out).startswith("..") else out
    compare.say("\n".join(summary + ["", f"chart: {os.path.join(shown, 'ab.png')}",
                                      f"results: {shown}/ (A.json, B.json, ab.txt)"]))
    if args.fail_on_regression is not None:
        return compare.gate(an.rows, args.fail_on_regression)
    return 0


if __name__ == "__main__":
    sys.exit(main())
