"""scripts/map: the winner of each cell (a clear winner, a tie, a failed model, a model raced
out) on the fixture runs, the notebook's rule of thumb, the break-even read between measured
points (literal points: both sides significant, one side not, no change in the range), the
charts against the chart rules, and bad input answered in one line with nothing written.

The bad-input tests and the plan run the real binary, whose path comes in CONCBENCH_BINARY
(tests/scripts.cmake); without it they are skipped:

    CONCBENCH_BINARY=build/release/concbench /usr/bin/python3 -m unittest -v test_map
"""
import collections
import os
import subprocess
import sys
import tempfile
import unittest
from unittest import mock

import support
from support import fixture

from chart_checks import chart_problems

import concbench_results as cr
import decide
import map as map_script
import map_report
import plot_map

BINARY = os.environ.get("CONCBENCH_BINARY")
MAP_RUN = fixture("map_run")
CROSSOVER_RUN = fixture("crossover_run")


def cell(cells, lang, cpu_us, io_ms):
    return next(c for c in cells if c.lang == lang and c.args["cpu_us"] == cpu_us
                and c.args["io_ms"] == io_ms)


class WinnerTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.results = cr.load_run(MAP_RUN)
        cls.cells = decide.map_cells(cls.results)

    def test_a_clear_winner_is_named_with_its_margin_and_p(self):
        c = cell(self.cells, decide.CPP, 0, 0)
        self.assertEqual(c.winner.model, "sync")
        self.assertEqual(c.runner_up.model, "async")
        self.assertTrue(c.separated)
        self.assertAlmostEqual(c.margin(), 4.0)
        self.assertAlmostEqual(c.p_value(), 2 / 252)  # 5 and 5, completely apart
        self.assertEqual(c.verdict_text(), "×4.00, p = 0.008")

    def test_two_models_the_test_cannot_separate_are_a_tie(self):
        c = cell(self.cells, decide.CPP, 1000, 0)
        self.assertTrue(c.tie)
        self.assertEqual(c.tied_models(), ["processes", "async.processes"])
        self.assertEqual(c.verdict_text(), "tie (p = 1.00)")
        self.assertEqual(map_report.cell_md(c),
                         "tie: `processes` = `async.processes`<br>tie (p = 1.00)")

    def test_a_failed_model_is_left_out_and_named_with_its_error(self):
        c = cell(self.cells, decide.CPP, 1000, 10)
        self.assertEqual([e.model for e in c.failed], ["processes"])
        self.assertEqual(c.winner.model, "async.offload")
        self.assertEqual(c.runner_up.model, "threads")
        self.assertEqual(c.verdict_text(), "×1.17, p = 0.008")
        details = "\n".join(map_report.details_md(self.cells))
        self.assertIn("failed: `processes` (worker 4242 exited with status 3)", details)

    def test_the_runner_up_is_the_fastest_model_of_another_family(self):
        E = collections.namedtuple("E", "model median")
        c = decide.Cell(decide.CPP, "mixed", {}, [])
        c.finalists = [E("async", 1.0), E("async.coro", 1.01), E("python.threads", 1.2),
                       E("threads", 1.5)]
        self.assertEqual(c.runner_up.model, "python.threads")
        self.assertEqual(decide.family("python.async.processes.uvloop"), "async")
        c.finalists = [E("async", 1.0), E("async.coro", 1.01)]  # one family ran
        self.assertEqual(c.runner_up.model, "async.coro")

    def test_a_model_raced_out_is_reported_with_its_ratio_in_the_screening(self):
        c = cell(self.cells, decide.CPP, 0, 0)
        self.assertEqual([e.model for e in c.raced_out], ["threads"])
        self.assertEqual(decide.raced_out_text([c], c.raced_out[0]),
                         "raced out after 1 repetition, 100.0× the fastest in the screening")

    def test_racing_keeps_the_two_fastest_and_those_within_the_factor(self):
        c = cell(self.cells, decide.CPP, 0, 0)  # sync 1 µs, async 4 µs, threads 100 µs
        self.assertEqual([b.model_full for b in decide.race_candidates([c])],
                         ["sync", "async"])
        self.assertEqual([b.model_full for b in decide.race_candidates([c], within=200)],
                         ["sync", "async", "threads"])

    def test_the_python_cells_are_judged_apart_from_the_cpp_ones(self):
        c = cell(self.cells, decide.PYTHON, 1000, 0)
        self.assertEqual(c.winner.model, "python.processes")
        self.assertEqual(c.verdict_text(), "×1.50, p = 0.008")

    def test_the_rule_of_thumb_holds_where_the_rule_names_the_winner(self):
        models = self.results.models
        check = lambda lang, cpu, io: decide.check_rule(models, cell(self.cells, lang, cpu, io))  # noqa: E731,E501
        self.assertIsNone(check(decide.CPP, 0, 0).holds)          # no work: the rule is silent
        self.assertTrue(check(decide.CPP, 1000, 0).holds)         # CPU-bound: processes
        self.assertTrue(check(decide.CPP, 0, 10).holds)           # I/O-bound: async
        self.assertTrue(check(decide.PYTHON, 1000, 0).holds)
        self.assertEqual(decide.task_kind({"cpu_us": 2000, "io_ms": 1}), decide.CPU_BOUND)
        self.assertEqual(decide.task_kind({"cpu_us": 1000, "io_ms": 1}), decide.BALANCED)
        summary = decide.rule_summary(models, self.cells)
        self.assertEqual(summary[0], "C++: the rule holds in 3 of 3 cells with work (1 of 1 "
                                     "CPU-bound, 2 of 2 I/O-bound).")

    def test_map_md_and_the_terminal_carry_the_same_table(self):
        md = map_report.map_md(self.results, self.cells, ["Racing: ..."], "decision_map.png")
        self.assertIn("| **0 ms** | **`sync`**<br>×4.00, p = 0.008 | tie: `processes` = "
                      "`async.processes`<br>tie (p = 1.00) |", md)
        text = "\n".join(map_report.terminal_map(self.results, self.cells, "results/x"))
        self.assertIn("C++: mixed, 8 tasks, 1 step — winner, margin over the runner-up, p", text)
        self.assertRegex(text, r"0 ms +sync +tie: processes")
        self.assertRegex(text, r"\n +×4.00 p=0.008 += async.processes")


class OwnTaskTest(unittest.TestCase):
    def test_every_model_fastest_first_with_ratio_verdict_and_reason(self):
        results = cr.load_run(MAP_RUN)
        cells = [c for c in decide.map_cells(results) if c.args["cpu_us"] == 1000
                 and c.args["io_ms"] == 0]
        ranked, why = decide.rank_point(cells, 2)
        self.assertEqual([r.entry.model for r in ranked],
                         ["processes", "async.processes", "python.processes", "python.threads",
                          "threads"])
        self.assertEqual(ranked[0].verdict, "fastest")
        self.assertEqual(ranked[1].verdict, "not distinguishable from the fastest (p = 1.00)")
        self.assertEqual(ranked[2].verdict, "slower (p = 0.008)")
        self.assertAlmostEqual(ranked[2].ratio, 1.5)
        self.assertEqual(ranked[-1].verdict,
                         "failed: checksum mismatch: got 35, expected 36")
        # 8 tasks × 1 ms of compute on 2 cores: 4 ms; one thread: 8 ms.
        self.assertEqual(why, "CPU-bound on 2 cores: 8 ms of compute take at least 4 ms; a "
                              "loop or a GIL that computes on one thread serialises 8 ms; "
                              "sync needs 8 ms.")
        self.assertEqual(ranked[0].bound, "CPU-bound: 8 ms of compute on 2 cores ≈ 4 ms "
                                          "(ideal 4 ms)")

    def test_the_reason_names_the_bound_that_binds(self):
        # The example: 100 tasks × 3 steps of 2 ms CPU + 20 ms wait on 2 cores.
        why = decide.reason({"tasks": 100, "steps": 3, "cpu_us": 2000, "io_ms": 20}, 2)
        self.assertTrue(why.startswith("CPU-bound on 2 cores: 600 ms of compute take at least "
                                       "300 ms (+ 20 ms, the last wait)"), why)
        self.assertIn("serialises 600 ms", why)
        # measure/ideal.h's example: 4 tasks of 1 ms CPU + 10 ms wait: the best is 12 ms.
        why = decide.reason({"tasks": 4, "steps": 1, "cpu_us": 1000, "io_ms": 10}, 2)
        self.assertEqual(why, "I/O-bound: each task waits 1 × 10 ms = 10 ms; with every wait "
                              "overlapped the best is 12 ms, and the compute (4 ms ÷ 2 cores = "
                              "2 ms) fits beside it; sync needs 44 ms.")

    def test_the_bounds_are_the_ideal_formula_on_literal_cases(self):
        # measure/ideal.h's example: 4 tasks of 1 ms CPU + 10 ms wait, 2 cores and 2 workers.
        b = decide.bounds({"tasks": 4, "steps": 1, "cpu_us": 1000, "io_ms": 10}, 2, workers=2)
        self.assertAlmostEqual(b["2 workers"], 0.022)           # threads on 2 workers
        self.assertAlmostEqual(b["one thread computes"], 0.014)  # the loop computing inline
        self.assertAlmostEqual(b["CPU on 2 cores"], 0.012)       # offloaded to 2 threads
        self.assertAlmostEqual(b["one after another"], 0.044)    # sync


def point(x, a_median, b_median, spread=(0.98, 0.99, 1.0, 1.01, 1.02)):
    return decide.Point(x, [a_median * s for s in spread], [b_median * s for s in spread])


class BreakEvenTest(unittest.TestCase):
    def test_both_sides_significant_interpolates_on_log_scales(self):
        # A is 2× slower at 100,000 and 2× faster at 1,000,000: log ratio ±ln 2, so the
        # break-even is halfway in log n, 10^5.5.
        be = decide.break_even("pool", "sync", "n", [point(10_000, 8, 1), point(100_000, 2, 1),
                                                      point(1_000_000, 0.5, 1),
                                                      point(10_000_000, 0.5, 1)])
        self.assertEqual(len(be.crossings), 1)
        c = be.crossings[0]
        self.assertAlmostEqual(c.x, 10 ** 5.5)
        self.assertEqual((c.low.x, c.high.x), (100_000, 1_000_000))
        self.assertTrue(c.a_wins_after)
        self.assertEqual(decide.format_x(c.x), "320,000")
        self.assertEqual(be.summary(), "pool beats sync from n ≈ 320,000")
        self.assertEqual(decide.crossing_sentence(be, 200_000),
                         "pool beats sync from n ≈ 320,000: pool against sync, at n = 100,000 "
                         "it takes 2.00× the time, p = 0.008; at n = 1,000,000 it takes 0.50× "
                         "the time, p = 0.008; the notebook's 200,000 is below that.")

    def test_a_point_the_test_cannot_separate_stays_inside_the_bracket(self):
        tie = decide.Point(1_000_000, [0.99, 1.01, 1.0, 0.98, 1.02], [1.0, 0.99, 1.01, 1.02, 0.98])
        be = decide.break_even("pool", "sync", "n", [point(100_000, 2, 1), tie,
                                                      point(10_000_000, 0.5, 1)])
        c = be.crossings[0]
        self.assertEqual((c.low.x, c.high.x), (100_000, 10_000_000))
        self.assertEqual([p.x for p in c.between], [1_000_000])
        self.assertTrue(100_000 < c.x < 10_000_000)
        self.assertIn("not separated at 1,000,000", decide.crossing_sentence(be))

    def test_a_change_seen_on_one_side_only_is_no_break_even(self):
        tie = decide.Point(10_000_000, [0.99, 1.01, 1.0, 0.98, 1.02], [1.0, 0.99, 1.01, 1.02, 0.98])
        be = decide.break_even("pool", "sync", "n", [point(100_000, 2, 1),
                                                      point(1_000_000, 1.5, 1), tie])
        self.assertEqual(be.crossings, [])
        self.assertEqual(be.summary(), "sync beats pool wherever the test separates them, and "
                                       "pool never significantly beats sync (n 100,000 to "
                                       "10,000,000): no break-even in this range")

    def test_no_change_in_the_range_says_who_wins_all_of_it(self):
        be = decide.break_even("pool", "sync", "n", [point(1_000, 9, 1), point(10_000, 5, 1),
                                                      point(100_000, 3, 1)])
        self.assertEqual(be.crossings, [])
        self.assertEqual(be.summary(), "sync beats pool over the whole range (n 1,000 to "
                                       "100,000)")

    def test_the_fixture_crossover_gives_each_languages_sentence(self):
        results = cr.load_run(CROSSOVER_RUN)
        found = map_script.crossover_breakevens(results)
        axis, by_lang, notebook_n = found["cpu"]
        self.assertEqual((axis, notebook_n), ("n", 200_000))
        cpp = by_lang[decide.CPP][0]
        self.assertEqual(decide.format_x(cpp.crossings[0].x), "510,000")
        self.assertEqual(decide.crossing_sentence(by_lang[decide.PYTHON][0], notebook_n,
                                                  map_script.friendly),
                         "Python's sync beats Python's processes.with_startup over the whole "
                         "range (n 10,000 to 10,000,000).")


# --- the chart rules (issue 25: tests/scripts/chart_checks.py) ---------------------------------

class ChartTest(unittest.TestCase):
    def draw(self, fn, *args):
        """Runs a chart function, checking each figure just before it is saved."""
        found = []
        real_save = plot_map.save

        def checking_save(fig, path):
            found.extend(chart_problems(fig))
            real_save(fig, path)
        with tempfile.TemporaryDirectory() as out, \
                mock.patch.object(plot_map, "save", checking_save):
            chart = fn(*args[:-1], out, *args[-1:]) if args else fn(out)
            self.assertIsNotNone(chart.filename, chart.reason)
            support.png_size(os.path.join(out, chart.filename))
        return found

    def test_the_decision_map_keeps_the_chart_rules(self):
        results = cr.load_run(MAP_RUN)
        cells = decide.map_cells(results)
        problems = self.draw(lambda out: plot_map.chart_decision_map(
            results, cells, out, map_report.headline(cells, results.models)))
        self.assertEqual(problems, [])

    def test_the_crossover_chart_keeps_the_chart_rules(self):
        results = cr.load_run(CROSSOVER_RUN)
        axis, by_lang, _ = map_script.crossover_breakevens(results)["cpu"]
        problems = self.draw(lambda out: plot_map.chart_crossover(
            results, "cpu", out, "§4 grown?", False, by_lang,
            map_script.crossover_subtitle(by_lang, axis)))
        self.assertEqual(problems, [])


class RedrawTest(unittest.TestCase):
    def test_a_map_folder_is_drawn_again_from_its_results(self):
        import shutil
        with tempfile.TemporaryDirectory() as d:
            folder = os.path.join(d, "run")
            shutil.copytree(MAP_RUN, folder)
            p = subprocess.run([sys.executable, os.path.join(support.SCRIPTS, "map.py"),
                                f"--redraw={folder}"], capture_output=True, text=True,
                               timeout=120)
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertIn("Fastest by median — C++: async 2, sync 1, processes 1 of 4 (1 tie); "
                          "Python: sync 1, processes 1 of 2; the notebook's rule holds in 4 of 4 "
                          "cells with work.", p.stdout)
            support.png_size(os.path.join(folder, "decision_map.png"))
            with open(os.path.join(folder, "map.md")) as f:
                self.assertIn("## Every cell", f.read())

    def test_a_folder_without_results_is_one_fatal_line(self):
        with tempfile.TemporaryDirectory() as d:
            p = subprocess.run([sys.executable, os.path.join(support.SCRIPTS, "map.py"),
                                f"--redraw={d}"], capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 2)
        self.assertEqual(len(p.stderr.splitlines()), 1)
        self.assertTrue(p.stderr.startswith("fatal: "), p.stderr)


class ReferenceInReportTest(unittest.TestCase):
    def write_reference(self, root, folder, short):
        os.makedirs(os.path.join(root, folder))
        with open(os.path.join(root, folder, "crossover.json"), "w") as f:
            map_script.json.dump({"reference": {"date": "2026-12-06T10:00:00+00:00",
                                                "host": "vm"},
                                  "breakevens": [{"workload": "cpu", "lang": "C++",
                                                  "summary": "s", "short": short},
                                                 {"workload": "mixed", "lang": "C++",
                                                  "summary": "not a notebook cell's"}]}, f)

    def test_a_notebook_report_quotes_the_newest_reference_labelled_as_such(self):
        import report
        results = cr.load_run(fixture("notebook_run"))
        with tempfile.TemporaryDirectory() as root:
            self.write_reference(root, "2026-11-01T000000Z_vm_crossover", "older")
            self.write_reference(root, "2026-12-06T100000Z_vm_crossover",
                                 "C++ processes.with_startup beats C++ sync from n ≈ 510,000")
            lines = report.reference_crossovers(results, root)
        self.assertTrue(lines[0].startswith("**Where the choice flips — the reference's "
                                            "crossovers, not this run's** ([results/2026-12-06T"
                                            "100000Z_vm_crossover](../2026-12-06T100000Z_vm_"
                                            "crossover/crossover.md), 2026-12-06T10:00:00+00:00, "
                                            "host vm;"), lines[0])
        self.assertEqual(lines[2:], ["- §4, C++: C++ processes.with_startup beats C++ sync from "
                                     "n ≈ 510,000", ""])

    def test_without_a_reference_the_report_says_nothing_of_it(self):
        import report
        with tempfile.TemporaryDirectory() as root:
            self.assertEqual(report.reference_crossovers(cr.load_run(fixture("notebook_run")),
                                                         root), [])


# --- bad input and the plan, with the real binary -----------------------------------------------

def run_map(*args, out_root):
    return subprocess.run([sys.executable, os.path.join(support.SCRIPTS, "map.py"),
                           f"--binary={BINARY}", f"--out-root={out_root}", *args],
                          capture_output=True, text=True, timeout=240)


@unittest.skipUnless(BINARY, "no concbench binary: ctest passes it in CONCBENCH_BINARY "
                     "(tests/scripts.cmake); set CONCBENCH_BINARY to run these by hand")
class BadInputTest(unittest.TestCase):
    def check_refused(self, *args, says):
        with tempfile.TemporaryDirectory() as out:
            p = run_map(*args, out_root=out)
            self.assertEqual(p.returncode, 2, p.stderr)
            self.assertEqual(p.stdout, "")
            lines = p.stderr.splitlines()
            self.assertEqual(len(lines), 1, p.stderr)
            self.assertTrue(lines[0].startswith("fatal: "), lines[0])
            self.assertIn(says, lines[0])
            self.assertEqual(os.listdir(out), [], "nothing may be written")

    def test_a_negative_cpu_us_is_refused_with_its_range(self):
        self.check_refused("--cpu_us=-5", says="'-5' is out of range; expected a "
                           "comma-separated list of integers in [0, 10000000]")

    def test_steps_0_is_refused(self):
        self.check_refused("--steps=0", says="--steps: '0' is out of range")

    def test_an_absurd_wait_is_refused(self):
        self.check_refused("--io_ms=100000", says="--io_ms: '100000' is out of range")

    def test_a_grid_of_more_than_an_hour_needs_yes(self):
        self.check_refused("--io_ms=10000", says="(more than 60 minutes): give --yes")

    def test_the_plan_is_printed_and_nothing_run_with_dry_run(self):
        with tempfile.TemporaryDirectory() as out:
            p = run_map("--cpu_us=0,1000", "--io_ms=0,10", "--tasks=8", "--dry-run",
                        out_root=out)
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertRegex(p.stdout, r"^map: 36 C\+\+ benchmarks and \d+ Python over 4 "
                                       r"cell\(s\)\n")
            self.assertRegex(p.stdout, r"about \d+:\d\d in all")
            self.assertEqual(os.listdir(out), [])


class MergeTest(unittest.TestCase):
    def test_a_raced_model_keeps_the_racing_runs_rows_and_the_screening_goes_to_the_context(self):
        def row(name, t, i=0):
            return {"name": name, "run_name": name, "run_type": "iteration",
                    "repetition_index": i, "real_time": t, "time_unit": "ms", "iterations": 1}
        a = "sync/mixed/tasks:8/cpu_us:0/io_ms:0/steps:1/iterations:100/real_time"
        b = "threads/mixed/tasks:8/workers:64/cpu_us:0/io_ms:0/steps:1/iterations:100/real_time"
        screen = {"context": {"k": 1}, "benchmarks": [row(a, 1.0), row(b, 9.0)]}
        race = {"context": {"k": 2}, "benchmarks": [row(a, 1.1, 0), row(a, 1.2, 1),
                                                    dict(row(a, 1.15), run_type="aggregate")]}
        m = map_script.merged(screen, race, {"extra": "x"})
        self.assertEqual([(r["run_name"][:4], r["real_time"], r["repetition_index"],
                           r["repetitions"]) for r in m["benchmarks"]],
                         [("sync", 1.1, 0, 2), ("sync", 1.2, 1, 2), ("thre", 9.0, 0, 1)])
        self.assertEqual(m["context"]["k"], 1)
        self.assertEqual(m["context"]["extra"], "x")
        screening = map_script.json.loads(m["context"][decide.SCREENING_KEY])
        self.assertEqual(list(screening), ["sync/mixed/tasks:8/cpu_us:0/io_ms:0/steps:1",
                                           "threads/mixed/tasks:8/workers:64/cpu_us:0/io_ms:0/"
                                           "steps:1"])
        self.assertAlmostEqual(screening["sync/mixed/tasks:8/cpu_us:0/io_ms:0/steps:1"], 1e-3)


if __name__ == "__main__":
    unittest.main()
