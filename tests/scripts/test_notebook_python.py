"""scripts/notebook_python.py, the notebook's own Python run live: names (the C++ twins'), the
Google Benchmark JSON shape and statistics, checksums against an independent computation,
counters, error rows, the command line, memory mode, and the standard library alone."""
import glob
import json
import math
import os
import re
import statistics
import subprocess
import sys
import tempfile
import unittest

import support

import concbench_results as cr
import notebook_python as runner

RUNNER = os.path.join(support.SCRIPTS, "notebook_python.py")


def process_workers():
    """What ProcessPoolExecutor() defaults to, by the documented rule (not by asking one)."""
    count = getattr(os, "process_cpu_count", os.cpu_count)
    return count() or 1


W = process_workers()

# The binary's cell table, as saved beside the fixtures (test_cell_table keeps it true to the
# binary): every expected name below comes from it, none is written out here.
TABLES = support.fixture("concbench_tables.json")
with open(TABLES) as _f:
    CELLS = cr.cells_of(json.load(_f)["cells"])


def twins():
    """{Python twin: sections} of the table's cells, in its order, each twin once, with the
    arguments the notebook left to the executor's default at this Python's default (W)."""
    out = {}
    for c in CELLS:
        if c.python:
            args = "".join(f"/{k}:{W if k in c.defaults else v}" for k, v in c.args.items())
            section = c.section + (" (serial baseline)" if c.role == "baseline" else "")
            sections = out.setdefault(f"{c.python[len('python.'):]}/{c.workload}{args}", [])
            if section not in sections:
                sections.append(section)
    return {name: ", ".join(sections) for name, sections in out.items()}


FULL = list(twins())
SECTIONS = list(twins().values())
# --quick's upper bounds, by argument name (sleep_ms: a hundredth of the notebook's).
QUICK_MAX = {"tasks": 2, "workers": 2, "n": 1000, "increments": 1000, "chunksize": 2}


def quick_names():
    p = run("--list", "--quick")
    assert p.returncode == 0, p.stderr
    return [n[len("python."):-len("/real_time")] for n in p.stdout.splitlines()]


def python_name(twin):
    return f"python.{twin}/real_time"


# The notebook's CPU functions in closed form: each sum runs over whole periods of its modulus
# plus a remainder, so these do not share a line of code with the notebook's loops.
def cpu_intensivo_closed(n):
    period = sum((r * r) % 97 for r in range(97))
    return (n // 97) * period + sum((r * r) % 97 for r in range(n % 97))


def trabajo_closed(x):  # Σ (x+i) % 97, i < 50,000 = 515 periods of 97 and 45 more
    return 515 * sum(range(97)) + sum((x + j) % 97 for j in range(45))


def tarea_normal_closed(x):  # Σ (x+i) % 101, i < 300,000 = 2,970 periods of 101 and 30 more
    return 2970 * sum(range(101)) + sum((x + j) % 101 for j in range(30))


def args_of(name):
    return {k: int(v) for k, v in re.findall(r"/([a-z_]+):(\d+)", name)}


def expected_checksum(name):
    """The checksum a row must carry, computed here; None for the counter cells."""
    a = args_of(name)
    workload = name.split("/")[1]
    if workload == "sleep":
        return a["tasks"] * (a["tasks"] + 1) // 2
    if workload == "cpu":
        return a["tasks"] * cpu_intensivo_closed(a["n"])
    if workload == "trabajo":
        return sum(trabajo_closed(x) for x in range(a["tasks"]))
    if workload == "tarea_normal":
        return sum(tarea_normal_closed(x) for x in range(a["tasks"]))
    if workload == "alloc":
        return a["n"] * (a["n"] - 1) // 2
    return None


def run(*args, env=None, interpreter=(), timeout=240, cells=TABLES):
    """The runner on the saved cell table (cells=None: on whatever the arguments say)."""
    e = dict(os.environ)
    e.pop(runner.FAULT_ENV, None)
    e.update(env or {})
    table = [f"--cells={cells}"] if cells else []
    return subprocess.run([sys.executable, *interpreter, RUNNER, *table, *args],
                          capture_output=True, text=True, timeout=timeout, env=e)


class Tmp(unittest.TestCase):
    def setUp(self):
        tmp = tempfile.TemporaryDirectory()
        self.addCleanup(tmp.cleanup)
        self.dir = tmp.name

    def out(self, name="out.json"):
        return os.path.join(self.dir, name)


def rows_by_name(data):
    by = {}
    for r in data["benchmarks"]:
        by.setdefault(r["run_name"], []).append(r)
    return by


class NotebookConstantsTest(unittest.TestCase):
    def test_the_closed_forms_give_the_values_the_notebook_printed(self):
        self.assertEqual([tarea_normal_closed(x) for x in range(4)],
                         [14998935, 14998965, 14998995, 14999025])  # §5.3's printed list
        self.assertEqual(cpu_intensivo_closed(200_000), 9600239)   # README, Workloads
        self.assertEqual([trabajo_closed(x) for x in range(5)],
                         [2398830, 2398875, 2398920, 2398965, 2399010])

    def test_the_runners_full_size_checksums_are_the_notebooks(self):
        self.assertEqual(runner.CPU_INTENSIVO_200000, cpu_intensivo_closed(200_000))
        self.assertEqual(runner.TRABAJO_SUM_0_199, sum(trabajo_closed(x) for x in range(200)))
        self.assertEqual(runner.TAREA_NORMAL_SUM_0_3, 59995920)


class NamesTest(unittest.TestCase):
    def test_full_names_are_the_cells_python_twins_each_once(self):
        p = run("--list")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stdout.splitlines(), [python_name(t) for t in FULL])
        # Cells sharing a twin run once: §3.1 and §5.1, §4's threads and its GIL row, §3's
        # coroutine row.
        self.assertIn("python.async.sequential/sleep/tasks:5/sleep_ms:300/real_time",
                      p.stdout.splitlines())
        self.assertEqual(len(FULL), len({c.python + str(c.fixed_args) for c in CELLS
                                         if c.python}))

    def test_quick_names_shrink_every_argument_by_its_names_rule(self):
        quick = quick_names()
        self.assertEqual(len(quick), len(FULL))
        self.assertEqual(len(set(quick)), len(quick), "no two twins shrink to one name")
        for q, full in zip(quick, FULL):
            qa, fa = args_of(q), args_of(full)
            self.assertEqual(q.split("/")[:2], full.split("/")[:2])
            self.assertEqual(list(qa), list(fa), q)
            for k, v in qa.items():
                self.assertLessEqual(v, min(fa[k], QUICK_MAX.get(k, fa[k])), q)
            if "sleep_ms" in qa:
                self.assertEqual(qa["sleep_ms"], max(1, fa["sleep_ms"] // 100), q)
        self.assertIn("threads/sleep/tasks:2/workers:2/sleep_ms:5", quick)

    def test_the_binary_is_asked_for_its_cells_by_default(self):
        p = run("--list", cells=None)  # build/release/concbench of this repository
        if p.returncode == 2 and "cannot run it" in p.stderr:
            self.skipTest("build/release/concbench is not built")
        self.assertEqual(p.returncode, 0, p.stderr)
        p = run("--list", f"--concbench={support.FAKE_BINARY}", cells=None)
        self.assertEqual((p.returncode, p.stdout.splitlines()),
                         (0, [python_name(t) for t in FULL]), p.stderr)

    def test_every_name_but_section_0_is_a_benchmark_of_the_committed_cpp_run(self):
        runs = sorted(glob.glob(os.path.join(support.REPO, "results", "*_notebook",
                                             "results.json")))
        if not runs:
            self.skipTest("no committed C++ notebook run under results/")
        with open(runs[0]) as f:
            cpp = {re.sub(r"/iterations:\d+", "", r["run_name"])
                   for r in json.load(f)["benchmarks"]}
        # The C++ suite sizes processes.* pools to its usable cores; the name keeps the count.
        norm = lambda n: re.sub(r"(processes[^/]*/.*?/workers:)\d+", r"\1W", n)  # noqa: E731
        cpp_norm = {norm(n) for n in cpp}
        listed = run("--list").stdout.splitlines()
        self.assertEqual(len(listed), len(FULL))
        for name in listed[1:]:
            self.assertTrue(name.startswith("python."), name)
            self.assertIn(norm(name[len("python."):]), cpp_norm, name)

    def test_filter_selects_by_regex_and_nothing_matched_is_exit_1(self):
        p = run("--list", "--quick", r"--filter=^python\.threads\.")
        self.assertEqual(p.stdout.splitlines(), [python_name(t) for t in quick_names()
                                                 if t.startswith("threads.")])
        self.assertEqual(len(p.stdout.splitlines()), 2)
        p = run("--list", "--filter=fibers")
        self.assertEqual(p.returncode, 1)
        self.assertIn("no benchmark matched 'fibers'", p.stderr)


class QuickRunTest(unittest.TestCase):
    """One --quick run with 2 repetitions, inspected by every test here."""
    REPS = 2

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.path = os.path.join(cls.tmp.name, "quick.json")
        cls.proc = run("--quick", f"--repetitions={cls.REPS}", "-o", cls.path)
        with open(cls.path) as f:
            cls.data = json.load(f)
        cls.by = rows_by_name(cls.data)
        cls.quick = quick_names()

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def test_it_succeeds_with_one_progress_line_per_cell(self):
        self.assertEqual(self.proc.returncode, 0, self.proc.stderr)
        lines = self.proc.stderr.splitlines()
        self.assertEqual(len(lines), len(self.quick), self.proc.stderr)
        for i, (line, twin) in enumerate(zip(lines, self.quick), 1):
            self.assertTrue(line.startswith(f"[{i}/{len(self.quick)}] {python_name(twin)}  "
                                            "median "), line)
        self.assertEqual(os.listdir(self.tmp.name), ["quick.json"], "no temporary file left")

    def test_rows_are_grouped_in_the_notebooks_order(self):
        self.assertEqual(list(self.by), [python_name(t) for t in self.quick])

    def test_rows_have_google_benchmarks_shape(self):
        iteration_keys = ["name", "family_index", "per_family_instance_index", "run_name",
                          "run_type", "repetitions", "repetition_index", "threads",
                          "iterations", "real_time", "cpu_time", "time_unit"]
        aggregate_keys = ["name", "family_index", "per_family_instance_index", "run_name",
                          "run_type", "repetitions", "threads", "aggregate_name",
                          "aggregate_unit", "iterations", "real_time", "cpu_time", "time_unit"]
        for fi, (name, rows) in enumerate(self.by.items()):
            self.assertEqual(len(rows), self.REPS + 4, name)
            for i, r in enumerate(rows[:self.REPS]):
                self.assertEqual(list(r)[:len(iteration_keys)], iteration_keys, name)
                self.assertEqual((r["name"], r["run_type"], r["repetition_index"], r["iterations"],
                                  r["repetitions"], r["threads"], r["time_unit"], r["family_index"],
                                  r["per_family_instance_index"]),
                                 (name, "iteration", i, 1, self.REPS, 1, "ms", fi, 0))
                self.assertGreater(r["real_time"], 0)
                counters = list(r)[len(iteration_keys):-1]
                self.assertEqual(counters, sorted(counters), "counters sorted, as a std::map")
            for r, (agg, unit) in zip(rows[self.REPS:], (("mean", "time"), ("median", "time"),
                                                         ("stddev", "time"), ("cv", "percentage"))):
                self.assertEqual(list(r)[:len(aggregate_keys)], aggregate_keys, name)
                self.assertEqual((r["name"], r["run_name"], r["aggregate_name"],
                                  r["aggregate_unit"], r["iterations"], r["time_unit"]),
                                 (f"{name}_{agg}", name, agg, unit, self.REPS, "ms"))
            for r in rows:
                self.assertNotIn("error_occurred", r, name)
                self.assertEqual(r["notebook_cells"], SECTIONS[fi], name)
                self.assertEqual(list(r)[-1], "notebook_cells")

    def test_aggregates_are_the_statistics_of_the_repetitions(self):
        for name, rows in self.by.items():
            reps, aggs = rows[:self.REPS], {r["aggregate_name"]: r for r in rows[self.REPS:]}
            for key in [k for k, v in reps[0].items() if isinstance(v, float)]:
                values = [r[key] for r in reps]
                mean, sd = statistics.mean(values), statistics.stdev(values)
                self.assertAlmostEqual(aggs["mean"][key], mean, delta=1e-9 * abs(mean) + 1e-12)
                self.assertAlmostEqual(aggs["median"][key], statistics.median(values),
                                       delta=1e-9 * abs(mean) + 1e-12)
                self.assertAlmostEqual(aggs["stddev"][key], sd, delta=1e-6 * sd + 1e-9)
                if mean == 0 and sd == 0:
                    self.assertTrue(math.isnan(aggs["cv"][key]), (name, key))  # 0/0, as in C++
                else:
                    self.assertAlmostEqual(aggs["cv"][key], sd / mean, delta=1e-6 * abs(sd / mean)
                                           + 1e-9, msg=(name, key))

    def test_checksums_equal_a_direct_computation(self):
        for name, rows in self.by.items():
            want = expected_checksum(name)
            for r in rows[:self.REPS]:
                if want is None:
                    self.assertNotIn("checksum", r, name)
                else:
                    self.assertEqual(r["checksum"], want, name)

    def test_sleep_cells_report_their_ideal_efficiency_and_overhead(self):
        ideal_of = {"sync": lambda a: a["tasks"] * a["sleep_ms"],
                    "threads": lambda a: -(-a["tasks"] // a["workers"]) * a["sleep_ms"],
                    "async": lambda a: a["sleep_ms"],
                    "async.sequential": lambda a: a["tasks"] * a["sleep_ms"]}
        for name, rows in self.by.items():
            model = name.split("/")[0][len("python."):]
            for r in rows[:self.REPS]:
                if "/sleep/" not in name:
                    self.assertNotIn("ideal_s", r, name)
                    continue
                ideal = ideal_of[model](args_of(name)) / 1000
                measured = r["real_time"] / 1000
                self.assertAlmostEqual(r["ideal_s"], ideal, msg=name)
                self.assertAlmostEqual(r["efficiency"], ideal / measured, msg=name)
                self.assertAlmostEqual(r["overhead_s"], measured - ideal, msg=name)
                self.assertGreater(measured, ideal * 0.99, "a sleep never ends early")

    def test_counter_cells_report_lost_updates_and_the_lock_loses_none(self):
        for prefix in ("python.threads.race/", "python.threads.mutex/"):
            (name,) = [n for n in self.by if n.startswith(prefix)]
            for r in self.by[name][:self.REPS]:
                self.assertIn("lost_updates", r)
                self.assertGreaterEqual(r["lost_updates"], 0)
        (mutex,) = [n for n in self.by if n.startswith("python.threads.mutex/")]
        self.assertEqual([r["lost_updates"] for r in self.by[mutex][:self.REPS]], [0, 0])

    def test_section_6_reports_rss_growth_from_get_memory_info(self):
        (alloc,) = [n for n in self.by if "/alloc/" in n]
        for r in self.by[alloc][:self.REPS]:
            self.assertEqual(r["rss_kib"], r["rss_after_kib"] - r["rss_before_kib"])
            self.assertGreater(r["rss_before_kib"], 1000)

    def test_context_says_which_python_ran(self):
        ctx = self.data["context"]
        for key in ("date", "host_name", "executable", "num_cpus", "python_version",
                    "python_implementation", "python_executable", "gil_enabled",
                    "os_cpu_count", "multiprocessing_start_method"):
            self.assertIn(key, ctx)
        self.assertEqual(ctx["python_executable"], sys.executable)
        self.assertEqual(ctx["concbench_suite"], "smoke")
        if sys.version_info < (3, 13):
            self.assertIs(ctx["gil_enabled"], True)

    def test_context_carries_the_binarys_tables(self):
        with open(TABLES) as f:
            tables = json.load(f)
        for t in ("models", "workloads", "cells"):
            self.assertEqual(json.loads(self.data["context"][f"concbench_{t}"]), {t: tables[t]})
        self.assertEqual(cr.load(self.path).models.base("python.threads.race"), "threads")

    def test_concbench_results_loads_it(self):
        results = cr.load(self.path)
        self.assertEqual(sorted([b.run_name for b in results.benches] + results.ignored_names),
                         sorted(self.by))
        self.assertEqual(results.failed(), [])


class FailureTest(Tmp):
    CELLS = r"--filter=^python\.(async|threads\.mutex)/"

    def test_a_cell_that_raises_is_an_error_row_and_the_others_still_run(self):
        p = run("--quick", "--repetitions=2", self.CELLS, "-o", self.out(),
                env={runner.FAULT_ENV: r"raise:^python\.async/"})
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertIn("1 of 2 benchmark(s) failed", p.stderr)
        with open(self.out()) as f:
            by = rows_by_name(json.load(f))
        failed = by[python_name("async/sleep/tasks:2/sleep_ms:5")]
        self.assertEqual(len(failed), 2, "no aggregates for a failed benchmark")
        for i, r in enumerate(failed):
            self.assertEqual((r["run_type"], r["repetition_index"], r["error_occurred"],
                              r["real_time"], r["iterations"]), ("iteration", i, True, 0.0, 0))
            self.assertTrue(r["error_message"].startswith("RuntimeError: test fault"), r)
            self.assertNotIn("checksum", r)
        ok = by[python_name("threads.mutex/counter/threads:2/increments:1000")]
        self.assertEqual(len(ok), 6)
        self.assertFalse(any(r.get("error_occurred") for r in ok))

    def test_a_wrong_checksum_is_an_error_row(self):
        p = run("--quick", "--repetitions=1", self.CELLS, "-o", self.out(),
                env={runner.FAULT_ENV: r"checksum:^python\.async/"})
        self.assertEqual(p.returncode, 1, p.stderr)
        with open(self.out()) as f:
            (row,) = rows_by_name(json.load(f))[python_name("async/sleep/tasks:2/sleep_ms:5")]
        self.assertEqual(row["error_message"], "checksum mismatch: got 4, expected 3")

    def test_results_in_the_wrong_shape_are_rejected(self):
        check = runner.sleep_checksum
        self.assertEqual(check(["ok 1", "ok 0"], "ok {}", 2), 3)
        for bad in (["ok 0", "ok 0"], ["ok 2"], ["fin 0"], ["ok 0 "], [0]):
            with self.assertRaises(runner.CheckFailed, msg=bad):
                check(bad, "ok {}", 2)
        self.assertEqual(runner.index_checksum([0, 1, 2], 3), 6)
        for bad in ([0, 0], [3], ["0"], [True]):
            with self.assertRaises(runner.CheckFailed, msg=bad):
                runner.index_checksum(bad, 3)


class CommandLineTest(Tmp):
    def assert_fatal(self, *args, says):
        p = run(*args)
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertEqual(len(p.stderr.splitlines()), 1, p.stderr)
        self.assertTrue(p.stderr.startswith("fatal: "), p.stderr)
        self.assertIn(says, p.stderr)
        self.assertEqual(p.stdout, "")
        self.assertEqual(os.listdir(self.dir), [], "nothing written")

    def test_bad_flag_values_are_one_fatal_line_and_exit_2(self):
        o = ["-o", self.out()]
        self.assert_fatal("--repetitions=0", *o, says="--repetitions=0: out of range")
        self.assert_fatal("--repetitions=-3", *o, says="--repetitions=-3: out of range")
        self.assert_fatal("--repetitions=two", *o, says="--repetitions='two': expected an integer")
        self.assert_fatal("--repetitions", says="expected one argument")
        self.assert_fatal("--bogus", *o, says="unrecognized arguments: --bogus")
        self.assert_fatal("--filter=(", *o, says="--filter='(': not a regular expression")
        self.assert_fatal("--memory-tasks=1000,1000", *o, says="1000 is repeated")
        self.assert_fatal("--memory-tasks=1e3", *o, says="'1e3' is not an integer")
        self.assert_fatal("--memory-tasks=", *o, says="'' is not an integer")
        self.assert_fatal("--sleep-ms=5", *o, says="--sleep-ms applies to memory mode only")
        self.assert_fatal("--quick", "--memory-tasks=10", *o, says="--quick shrinks")

    def test_a_missing_binary_or_an_unreadable_cells_file_is_one_fatal_line(self):
        missing = os.path.join(self.dir, "no-concbench")
        p = run("--list", f"--concbench={missing}", cells=None)
        self.assertEqual((p.returncode, p.stdout, len(p.stderr.splitlines())), (2, "", 1))
        self.assertTrue(p.stderr.startswith(f"fatal: --concbench={missing}: cannot run it"))
        for content, says in (("{", "not JSON"), ('{"models": []}', 'no "cells" list')):
            with open(self.out("cells.json"), "w") as f:
                f.write(content)
            p = run("--list", cells=self.out("cells.json"))
            self.assertEqual((p.returncode, len(p.stderr.splitlines())), (2, 1), p.stderr)
            self.assertIn(says, p.stderr)
        os.unlink(self.out("cells.json"))
        self.assert_fatal("--list", f"--cells={self.out('none.json')}", says="cannot read")

    def test_an_unwritable_output_fails_before_anything_runs(self):
        self.assert_fatal("--quick", "-o", self.dir, says="is a folder")
        self.assert_fatal("--quick", "-o", os.path.join(self.dir, "missing", "x.json"),
                          says="cannot write in")
        with open(self.out("file"), "w"):
            pass
        p = run("--quick", "-o", os.path.join(self.out("file"), "x.json"))
        self.assertEqual((p.returncode, len(p.stderr.splitlines())), (2, 1), p.stderr)
        self.assertIn("Not a directory", p.stderr)

    def test_without_output_the_json_goes_to_stdout_and_cell_prints_do_not(self):
        p = run("--quick", "--repetitions=1", r"--filter=^python\.sync/sleep/tasks:2/")
        self.assertEqual(p.returncode, 0, p.stderr)
        data = json.loads(p.stdout)  # the cell's print("Resultados:", ...) is not in it
        self.assertEqual([r["name"] for r in data["benchmarks"]],
                         [python_name("sync/sleep/tasks:2/sleep_ms:5")])


class MemoryModeTest(Tmp):
    def test_pending_tasks_memory_per_task_from_separate_interpreters(self):
        p = run("--memory-tasks=1000,3000", "--sleep-ms=1", "--repetitions=2", "-o", self.out())
        self.assertEqual(p.returncode, 0, p.stderr)
        with open(self.out()) as f:
            data = json.load(f)
        self.assertEqual(data["context"]["concbench_python_mode"], "memory")
        by = rows_by_name(data)
        self.assertEqual(list(by), [python_name("async/sleep/tasks:1000/sleep_ms:1"),
                                    python_name("async/sleep/tasks:3000/sleep_ms:1")])
        for name, rows in by.items():
            tasks = args_of(name)["tasks"]
            self.assertEqual(len(rows), 2 + 4)
            for r in rows[:2]:
                self.assertEqual(r["checksum"], tasks * (tasks + 1) // 2)
                self.assertEqual(r["rss_kib_per_task"], r["rss_kib"] / tasks)
                # A pending asyncio task holds a Task, a coroutine frame, a future and a timer
                # handle: well above 0.2 KiB, and far below 20 KiB, on any CPython.
                self.assertTrue(0.2 < r["rss_kib_per_task"] < 20, r)
                self.assertEqual((r["ideal_s"], r["notebook_cells"]), (0.001, "3"))

    def test_a_failing_interpreter_is_an_error_row(self):
        p = run("--memory-tasks=1000,2000", "--sleep-ms=1", "--repetitions=1", "-o", self.out(),
                env={runner.FAULT_ENV: "raise:tasks:2000/"})
        self.assertEqual(p.returncode, 1, p.stderr)
        with open(self.out()) as f:
            by = rows_by_name(json.load(f))
        (bad,) = by[python_name("async/sleep/tasks:2000/sleep_ms:1")]
        self.assertTrue(bad["error_occurred"])
        self.assertIn("test fault", bad["error_message"])
        (good,) = by[python_name("async/sleep/tasks:1000/sleep_ms:1")]
        self.assertNotIn("error_occurred", good)


class StandardLibraryOnlyTest(Tmp):
    def test_it_runs_without_site_packages_in_an_isolated_interpreter(self):
        p = run("--quick", "--repetitions=1", r"--filter=^python\.(processes|async)\.", "-o",
                self.out(), interpreter=("-I", "-S"))
        self.assertEqual(p.returncode, 0, p.stderr)
        with open(self.out()) as f:
            self.assertEqual(len(json.load(f)["benchmarks"]), 5)


if __name__ == "__main__":
    unittest.main()
