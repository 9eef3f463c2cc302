"""scripts/compare.py: the summary of two fixture runs (one row per benchmark, readable units,
the verdicts, the geometric means, what was left out and why), compare.png, the exit codes of
--fail-on-regression, compare.py's own table with --raw, and one line for bad input.

compare_A.json and compare_B.json are two notebook runs of 5 repetitions written by
make_fixtures.py; COMPARE_CHANGES there says what B changes and which verdict each should get."""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

import support
from support import fixture, png_size

import compare
import concbench_results as cr

COMPARE = os.path.join(support.SCRIPTS, "compare.py")


def have_compare_py():
    try:
        compare.find_compare_py()
    except Exception:  # noqa: BLE001
        return False
    return subprocess.run([sys.executable, "-c", "import scipy"]).returncode == 0


def run_compare(*args, env=None):
    return subprocess.run([sys.executable, COMPARE, *args], capture_output=True, text=True,
                          timeout=240, env=dict(os.environ, **(env or {})))


def gate(test, a, b, pct, code):
    """`scripts/compare A B --fail-on-regression=PCT`, checked to exit with `code`."""
    p = run_compare(a, b, "--no-chart", f"--fail-on-regression={pct}")
    test.assertEqual(p.returncode, code, p.stderr)
    return p


def two_runs(cleanup):
    """Folders A/ and B/ holding the compare fixtures as results.json, removed by `cleanup`
    (a test's addCleanup or addClassCleanup); returns (A, B)."""
    tmp = tempfile.TemporaryDirectory()
    cleanup(tmp.cleanup)
    paths = []
    for side in ("A", "B"):
        os.makedirs(os.path.join(tmp.name, side))
        shutil.copy(fixture(f"compare_{side}.json"), os.path.join(tmp.name, side, "results.json"))
        paths.append(os.path.join(tmp.name, side))
    return paths


def edited_run(test, name, edit):
    """A folder holding fixture `name` as results.json after edit(data), removed after the
    test."""
    with open(fixture(name)) as f:
        data = json.load(f)
    edit(data)
    tmp = tempfile.TemporaryDirectory()
    test.addCleanup(tmp.cleanup)
    with open(os.path.join(tmp.name, "results.json"), "w") as f:
        json.dump(data, f)
    return tmp.name


def scaled_run(test, name, factor):
    """edited_run with every time multiplied by factor."""
    def scale(data):
        for r in data["benchmarks"]:
            r["real_time"] *= factor
    return edited_run(test, name, scale)


def table_rows(stdout):
    """The summary table's rows by benchmark name (the header line excluded)."""
    lines = stdout.split("\n\n")[1].splitlines()
    assert lines[0].startswith("benchmark "), lines[0]
    return {ln.split()[0]: ln for ln in lines[1:]}


class SummaryTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.a, cls.b = two_runs(cls.addClassCleanup)
        cls.p = run_compare(cls.a, cls.b)
        cls.rows = table_rows(cls.p.stdout)

    def test_exits_0_and_says_nothing_on_stderr(self):
        self.assertEqual(self.p.returncode, 0, self.p.stderr)
        self.assertEqual(self.p.stderr, "")

    def test_one_row_per_benchmark_in_both_runs_from_its_repetitions(self):
        self.assertEqual(len(self.rows), 20)
        self.assertNotIn("iterations:", self.p.stdout.split("\n\n")[1])
        self.assertNotIn("real_time", self.p.stdout)
        self.assertEqual(self.rows["threads/cpu/tasks:4/workers:4/n:200000"],
                         "threads/cpu/tasks:4/workers:4/n:200000    729 µs    581 µs  "
                         "-20.3 %  0.008  faster")

    def test_times_are_in_readable_units(self):
        self.assertEqual(self.rows["threads.atomic/counter/…"].split()[1:5],
                         ["1.88", "ms", "1.89", "ms"])
        self.assertEqual(self.rows["sync/sleep/tasks:5/sleep_ms:500"].split()[1:5],
                         ["2.5", "s", "2.5", "s"])
        self.assertEqual(self.rows["threads.race/counter/…"].split()[1:5],
                         ["160", "µs", "142", "µs"])

    def test_each_change_gets_its_verdict(self):
        expected = {
            "threads/cpu/tasks:4/workers:4/n:200000": "faster",
            "processes/cpu/…/n:200000/chunksize:1": "slower",
            "threads.race/counter/…": "too noisy (-23 to +7 %)",
            "sync/memory/n:300000": "too few repetitions",
            "async/sleep/tasks:5/sleep_ms:500": "no significant change*",
            "sync/cpu/tasks:4/n:200000": "no significant change",
        }
        for name, verdict in expected.items():
            self.assertTrue(self.rows[name].endswith("  " + verdict), self.rows[name])
        self.assertIn("\n1 faster, 1 slower, 16 no significant change, 1 too noisy, 1 too few "
                      "repetitions (20 benchmarks)\n", self.p.stdout)
        self.assertIn("* p < 0.05, but under ±1 %", self.p.stdout)
        self.assertIn("note: 1 benchmark had fewer than 5 repetitions in A or B", self.p.stdout)

    def test_slower_row_reads_whole(self):
        self.assertEqual(self.rows["processes/cpu/…/n:200000/chunksize:1"],
                         "processes/cpu/…/n:200000/chunksize:1      761 µs    875 µs  "
                         "+15.1 %  0.008  slower")

    def test_a_benchmark_whose_iterations_changed_is_still_matched(self):
        self.assertIn("threads/sleep/…/chunksize:1", self.rows)  # §5.2's, 200 ms
        self.assertEqual(self.rows["threads/sleep/…/chunksize:1"].split()[1:3], ["200", "ms"])
        self.assertNotIn("sleep_ms:200", self.p.stdout.split("only in A")[1])

    def test_table_fits_in_100_columns(self):
        table = self.p.stdout.split("\n\n")[1].splitlines()
        self.assertEqual([ln for ln in table if len(ln) > 100], [])

    def test_header_names_the_runs_and_what_differs(self):
        head = self.p.stdout.split("\n\n")[0].splitlines()
        self.assertEqual(head[0], f"A = {self.a}/results.json  (notebook suite, commit "
                         "2660751a545b, 5 repetitions, load 0.31)")
        self.assertEqual(head[1], f"B = {self.b}/results.json  (notebook suite, commit "
                         "7870429c0ffe, 3–5 repetitions, load 1.20)")
        self.assertEqual(head[2], "differs: concbench_git_commit 2660751a545b → 7870429c0ffe")
        self.assertEqual(head[3], "drift: the runs did not both record their machine (a run "
                         "with --no_probe, or an older binary): the drift between them is "
                         "unknown and not accounted for")
        self.assertEqual(len(head), 4)

    def test_geometric_mean_per_model(self):
        self.assertIn("\n  processes               ×1.049    +4.9 %  (3 benchmarks)\n",
                      self.p.stdout)
        self.assertIn("\n  threads.race            ×0.887   -11.3 %  (1 benchmark)\n",
                      self.p.stdout)
        self.assertIn("\n  all                     ×0.987    -1.3 %  (20 benchmarks)\n",
                      self.p.stdout)

    def test_one_sided_and_failed_benchmarks_are_listed(self):
        out = self.p.stdout
        self.assertIn("only in A, not compared (1):\n  processes/startup/workers:2\n", out)
        self.assertIn("only in B, not compared (1):\n  async/startup\n", out)
        self.assertIn("failed, not compared (1):\n  processes/tarea_normal/tasks:4/workers:2/"
                      "chunksize:1 (in B): worker 2 (pid 5150) exited with status 1 during "
                      "task 3\n", out)

    def test_chart_goes_next_to_b(self):
        png = os.path.join(self.b, "compare.png")
        self.assertTrue(self.p.stdout.endswith(f"\nchart: {png}\n"))
        w, h = png_size(png)
        self.assertGreater(h, 20 * 30, "one row per benchmark")
        self.assertFalse(os.path.exists(os.path.join(self.a, "compare.png")))


class SummaryOptionsTest(unittest.TestCase):
    def test_output_names_the_chart(self):
        a, b = two_runs(self.addCleanup)
        out = os.path.join(os.path.dirname(a), "elsewhere.png")
        p = run_compare(a, b, "-o", out)
        self.assertEqual(p.returncode, 0, p.stderr)
        png_size(out)
        self.assertEqual(os.listdir(b), ["results.json"])

    def test_no_chart_writes_nothing(self):
        a, b = two_runs(self.addCleanup)
        p = run_compare(a, b, "--no-chart")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertNotIn("chart:", p.stdout)
        self.assertEqual(os.listdir(b), ["results.json"])

    def test_fail_on_regression_above_the_slowdown_exits_1(self):
        a, b = two_runs(self.addCleanup)
        p = gate(self, a, b, 10, 1)
        self.assertEqual(p.stderr, "regression: processes/cpu/tasks:4/workers:2/n:200000/"
                         "chunksize:1: "
                         "+15.1 %, slower (p = 0.008), beyond --fail-on-regression=10\n")

    def test_fail_on_regression_below_the_slowdown_exits_0(self):
        a, b = two_runs(self.addCleanup)
        p = gate(self, a, b, 20, 0)
        self.assertEqual(p.stderr, "")

    def test_a_slowdown_without_enough_repetitions_is_not_a_regression(self):
        slow = scaled_run(self, "compare_A.json", 2)
        p = run_compare(fixture("notebook_all_models.json"), slow, "--no-chart",
                        "--fail-on-regression=5")  # 3 repetitions in A
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("\n22 too few repetitions (22 benchmarks)\n", p.stdout)

    def test_different_suites_are_compared_and_the_difference_said(self):
        p = run_compare(fixture("notebook_all_models.json"), fixture("sweep_all_models.json"),
                        "--no-chart")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("\ndiffers: concbench_options suite=notebook → suite=sweep\n"
                      "         concbench_suite notebook → sweep\ndrift: ", p.stdout)
        self.assertIn("\nsync/trabajo/tasks:200   17.7 ms   17.5 ms  -1.1 %  -  too few "
                      "repetitions\n\n1 too few repetitions (1 benchmark)\n", p.stdout)
        # More than ten benchmarks on one side are counted by model and workload.
        self.assertIn("\nonly in B, not compared (134):\n  sync/sleep ×10, threads/sleep ×32, "
                      "threads.per_task/sleep ×10, async/sleep ×10,\n", p.stdout)

    def test_failed_benchmarks_are_listed_with_their_error(self):
        p = run_compare(fixture("with_errors.json"), fixture("with_errors.json"), "--no-chart")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("same context: suite, commit, machine, build and options", p.stdout)
        self.assertIn("(smoke suite, commit 2660751a545b, 1 repetition, load 0.50)", p.stdout)
        self.assertIn("failed, not compared (2):\n  processes/cpu/tasks:4/workers:2/n:1000 (in A)"
                      ": worker 1 (pid 4242) killed by signal 9 (SIGKILL) during task 2\n",
                      p.stdout)


def with_machine(test, name, speeds, capacities=(2.0, 2.0), noises=(0.01, 0.01), **context):
    """edited_run of fixture `name` with the machine records of a run: one core's ns per step,
    the parallel capacity and the noise, at its start and end."""
    def edit(data):
        for (key, values) in (("machine_core_ns_per_step", speeds),
                              ("machine_parallel_capacity", capacities),
                              ("machine_noise_cv", noises)):
            data["context"][key], data["context"][key + "_end"] = (str(v) for v in values)
        data["context"].update(context)
    return edited_run(test, name, edit)


class DriftTest(unittest.TestCase):
    """Two separate runs that recorded their machines: a change is called only beyond the
    drift, and no verdict at all when the machines differ more than the change asked for."""

    def runs(self, speed_b, **b_context):
        a = with_machine(self, "compare_A.json", (1.00, 1.01))
        b = with_machine(self, "compare_B.json", speed_b, **b_context)
        return a, b

    def test_close_machines_keep_the_verdicts_beyond_their_drift(self):
        a, b = self.runs((1.02, 1.03))
        p = run_compare(a, b, "--no-chart")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("\ndrift: the two runs' single-core speed differs by up to 3 % (1.00 to "
                      "1.03 ns a step of cpu_intensivo): a change is called only beyond ±3 %\n",
                      p.stdout)
        rows = table_rows(p.stdout)
        self.assertTrue(rows["threads/cpu/tasks:4/workers:4/n:200000"].endswith("  faster"))
        self.assertTrue(rows["processes/cpu/…/n:200000/chunksize:1"].endswith("  slower"))
        self.assertNotIn("machine_", p.stdout.split("\n\n")[0], "the drift line sums them up")

    def test_a_change_inside_the_drift_is_not_called(self):
        a, b = self.runs((1.15, 1.17))
        p = gate(self, a, b, 20, 0)
        self.assertIn("a change is called only beyond ±17 %", p.stdout)
        rows = table_rows(p.stdout)
        self.assertTrue(rows["processes/cpu/…/n:200000/chunksize:1"].endswith(
            "  +15.1 %  0.008  within drift (p = 0.008)"), rows["processes/cpu/…/n:200000/chunksize:1"])
        self.assertTrue(rows["threads/cpu/tasks:4/workers:4/n:200000"].endswith("  faster"))
        self.assertIn("\n1 faster, 16 no significant change, 1 too noisy, 1 too few repetitions, "
                      "1 within drift (20 benchmarks)\n", p.stdout)

    def test_machines_further_apart_than_the_change_asked_for_get_no_verdict(self):
        a, b = self.runs((1.25, 1.31))
        p = run_compare(a, b, "--no-chart")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("\nno verdicts: the two runs' single-core speed differs by up to 31 % (1.00 "
                      "to 1.31 ns a step of cpu_intensivo): a change smaller than that cannot be "
                      "told from the machine; use scripts/ab\n", p.stdout)
        self.assertIn("\n20 machines differ (20 benchmarks)\n", p.stdout)

    def test_the_gate_says_it_cannot_tell_and_exits_3(self):
        a, b = self.runs((1.25, 1.31))
        p = gate(self, a, b, 5, 3)
        self.assertEqual(p.stderr, "inconclusive: the two runs' single-core speed differs by up "
                         "to 31 % (1.00 to 1.31 ns a step of cpu_intensivo), more than "
                         "--fail-on-regression=5: these runs cannot tell; use scripts/ab\n")

    def test_the_gate_fails_on_a_regression_beyond_the_drift(self):
        a, b = self.runs((1.02, 1.03))
        p = gate(self, a, b, 10, 1)
        self.assertIn("regression: processes/cpu/tasks:4/workers:2/n:200000/chunksize:1: +15.1 %", p.stderr)

    def test_the_largest_record_names_the_drift(self):
        a, b = self.runs((1.00, 1.01), capacities=("1.38", "1.90"))
        self.assertIn("no verdicts: the two runs' parallel capacity differs by up to 45 % (1.38 "
                      "to 2.00 cores)", run_compare(a, b, "--no-chart").stdout)
        a, b = self.runs((1.00, 1.01), noises=("0.02", "0.12"))
        self.assertIn("no verdicts: one core's speed varied by up to 12 % from one 5 ms round "
                      "to the next (noise cv) during the runs", run_compare(a, b,
                                                                            "--no-chart").stdout)

    def test_an_injected_slowdown_is_shown(self):
        a, b = self.runs((1.00, 1.01), concbench_inject_slowdown_pct="10")
        head = run_compare(a, b, "--no-chart").stdout.split("\n\n")[0].splitlines()
        self.assertIn("commit 7870429c0ffe, inject_slowdown=10, 3–5 repetitions", head[1])
        self.assertEqual(head[2], "B: every compute step did 10 % more work "
                         "(--inject_slowdown=10, a positive control): a benchmark is slower by "
                         "that times its share of compute")


class AbbreviationTest(unittest.TestCase):
    def rows(self, names):
        rows = [{"name": n + "/real_time", "run_name": n + "/real_time", "run_type": "iteration",
                 "real_time": 1.0, "time_unit": "ms"} for n in names]
        res = cr.from_json({"context": {}, "benchmarks": rows})
        c = compare.build(res, res)
        return c.rows

    def test_siblings_lose_what_they_share_and_keep_what_tells_them_apart(self):
        rows = self.rows(["processes.with_startup/trabajo/tasks:200/workers:2/chunksize:1/"
                          "payload:0",
                          "processes.with_startup/trabajo/tasks:200/workers:2/chunksize:20/"
                          "payload:0",
                          "sync/cpu/tasks:4/n:200000"])
        self.assertEqual(compare.abbreviate(rows, 55),
                         ["processes.with_startup/trabajo/…/chunksize:1/payload:0",
                          "processes.with_startup/trabajo/…/chunksize:20/payload:0",
                          "sync/cpu/tasks:4/n:200000"])
        # Narrower: the shared tail goes too; never the chunksize that tells them apart.
        self.assertEqual(compare.abbreviate(rows, 30)[:2],
                         ["processes.with_startup/trabajo/…/chunksize:1/…",
                          "processes.with_startup/trabajo/…/chunksize:20/…"])

    def test_a_benchmark_alone_in_its_family_keeps_its_tail(self):
        rows = self.rows(["threads.atomic/counter/threads:2/increments:100000"])
        self.assertEqual(compare.abbreviate(rows, 45),
                         ["threads.atomic/counter/…/increments:100000"])

    def test_medians_come_from_the_repetitions_not_the_aggregate_rows(self):
        reps = [{"name": "sync/cpu/tasks:1/real_time", "run_name": "sync/cpu/tasks:1/real_time",
                 "run_type": "iteration", "real_time": t, "time_unit": "ms"}
                for t in (1.0, 1.1, 5.0)]
        bogus = dict(reps[0], name="sync/cpu/tasks:1/real_time_median", run_type="aggregate",
                     aggregate_name="median", real_time=100.0)
        res = cr.from_json({"context": {}, "benchmarks": reps + [bogus]})
        (row,) = compare.build(res, res).rows
        self.assertAlmostEqual(row.verdict.median_a, 1.1e-3)
        self.assertEqual(row.verdict.n_a, 3)


class BadInputTest(unittest.TestCase):
    def assert_one_fatal_line(self, p, text):
        self.assertEqual(p.returncode, 2)
        self.assertEqual(p.stderr.count("\n"), 1, p.stderr)
        self.assertTrue(p.stderr.startswith("fatal: "), p.stderr)
        self.assertIn(text, p.stderr)
        self.assertEqual(p.stdout, "")

    def test_malformed_json(self):
        self.assert_one_fatal_line(run_compare(fixture("truncated.json"),
                                               fixture("with_errors.json")), "malformed JSON")

    def test_missing_file(self):
        self.assert_one_fatal_line(run_compare("/nonexistent/results.json",
                                               fixture("with_errors.json")),
                                   "/nonexistent/results.json: cannot read: No such file")

    def test_foreign_json(self):
        self.assert_one_fatal_line(run_compare(fixture("with_errors.json"),
                                               fixture("foreign.json")),
                                   "no concbench benchmarks in it")

    def test_runs_with_nothing_in_common(self):
        self.assert_one_fatal_line(
            run_compare(fixture("with_errors.json"), fixture("notebook_all_models.json")),
            "have no benchmark in common: nothing to compare (A has 3 benchmarks, e.g. "
            "sync/sleep/tasks:2/sleep_ms:1; B has 22, e.g. sync/sleep/tasks:5/sleep_ms:500)")

    def test_runs_whose_common_benchmarks_all_failed(self):
        def failed_only(data):
            data["benchmarks"] = [r for r in data["benchmarks"] if r.get("error_occurred")]
        d = edited_run(self, "with_errors.json", failed_only)
        self.assert_one_fatal_line(run_compare(fixture("with_errors.json"), d),
                                   "have no successful benchmark in common: nothing to compare")
        self.assertEqual(os.listdir(d), ["results.json"])

    def test_bad_flags(self):
        self.assert_one_fatal_line(
            run_compare(fixture("with_errors.json"), fixture("with_errors.json"),
                        "--fail-on-regression=lots", "--no-chart"),
            "argument --fail-on-regression: expected a percentage of 0 or more (e.g. 5), "
            "not 'lots'")
        self.assert_one_fatal_line(
            run_compare(fixture("with_errors.json"), fixture("with_errors.json"), "-a",
                        "--no-chart"),
            "unrecognized argument -a (compare.py's options go after --raw)")

    def test_unwritable_chart_folder(self):
        self.assert_one_fatal_line(
            run_compare(fixture("with_errors.json"), fixture("with_errors.json"),
                        "-o", "/nonexistent/compare.png"),
            "/nonexistent/compare.png: cannot write the chart there")


@unittest.skipUnless(have_compare_py(), "libbenchmark-tools or python3-scipy not installed "
                     "(scripts/setup installs them)")
class RawTest(unittest.TestCase):
    def test_two_runs_of_concbench_json(self):
        b = scaled_run(self, "notebook_all_models.json", 0.5)
        p = run_compare(fixture("notebook_all_models.json"), b, "--raw", "-a")
        self.assertEqual(os.listdir(b), ["results.json"])
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("Comparing A to B", p.stdout)
        line = next(ln for ln in p.stdout.splitlines()
                    if ln.startswith("sync/sleep/tasks:5/sleep_ms:500/iterations:1/real_time_mean"))
        self.assertEqual(line.split()[1], "-0.5000")
        self.assertNotIn("\x1b[", p.stdout, "no colour codes when not on a terminal")
        self.assertNotIn("\nsync/sleep/tasks:5/sleep_ms:500/iterations:1/real_time ", p.stdout,
                         "-a went to compare.py: aggregates only, no repetition rows")

    def test_pvalues_are_the_summarys(self):
        a, b = two_runs(self.addCleanup)
        raw = run_compare(a, b, "--raw")
        self.assertEqual(raw.returncode, 0, raw.stderr)
        line = next(ln for ln in raw.stdout.splitlines()
                    if ln.startswith("threads.race/counter/threads:2/increments:100000/real_time"
                                     "_pvalue"))
        p = float(line.split()[1])
        summary = table_rows(run_compare(a, b, "--no-chart").stdout)
        self.assertEqual(f"{p:.2f}",
                         summary["threads.race/counter/…"].split()[7])

    def test_failed_benchmarks_are_noted_not_compared(self):
        p = run_compare(fixture("with_errors.json"), fixture("with_errors.json"), "--raw")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("note: failed in A, not compared: processes/cpu/tasks:4/workers:2/n:1000/"
                      "real_time", p.stderr)
        self.assertNotIn("processes/cpu", p.stdout)
        self.assertIn("sync/sleep/tasks:2/sleep_ms:1", p.stdout)

    def test_fail_on_regression_applies_to_raw_too(self):
        a, b = two_runs(self.addCleanup)
        p = run_compare(a, b, "--raw", "--fail-on-regression=10")
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertIn("regression: processes/cpu/tasks:4/workers:2/n:200000/chunksize:1: "
                      "+15.1 %", p.stderr)

    def test_missing_compare_py_says_how_to_install_it(self):
        p = run_compare(fixture("with_errors.json"), fixture("with_errors.json"), "--raw",
                        env={"CONCBENCH_COMPARE_PY": "/nonexistent/compare.py"})
        self.assertEqual(p.returncode, 2)
        self.assertIn("CONCBENCH_COMPARE_PY=/nonexistent/compare.py: no such file", p.stderr)


class EntryPointTest(unittest.TestCase):
    def test_the_shell_entry_point_works(self):
        a, b = two_runs(self.addCleanup)
        p = subprocess.run([os.path.join(support.SCRIPTS, "compare"), a, b, "--no-chart"],
                           capture_output=True, text=True, timeout=240)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertTrue(re.search(r"^processes/cpu/\S+ .* slower$", p.stdout, flags=re.M))


if __name__ == "__main__":
    unittest.main()
