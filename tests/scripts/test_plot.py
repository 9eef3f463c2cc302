"""Charts from fixtures (scripts/plot.py): which charts each results file gives, valid PNGs,
skip reasons, and one-line failures on bad input."""
import os
import subprocess
import sys
import tempfile
import unittest

import support
from support import fixture, png_size

import concbench_results as cr
import plot


class ThinSeriesTest(unittest.TestCase):
    def test_keeps_the_ends_and_evenly_spaced_lines_per_model(self):
        series = {("threads", ("workers", w)): [w] for w in (1, 2, 4, 8, 16, 32, 64)}
        series[("sync",)] = ["s"]
        models = cr.Models([], ["sync", "threads"])
        kept, note = plot.thin_series(series, models)
        self.assertEqual(list(kept), [("sync",), ("threads", ("workers", 1)),
                                      ("threads", ("workers", 4)), ("threads", ("workers", 16)),
                                      ("threads", ("workers", 64))])
        self.assertIn("threads: 4 of its 7 argument sets drawn", note)
        self.assertEqual(plot.thin_series({("sync",): [1]}, models), ({("sync",): [1]}, ""))


class ChartsTest(unittest.TestCase):
    def charts(self, name):
        tmp = tempfile.TemporaryDirectory()
        self.addCleanup(tmp.cleanup)
        r = cr.load(fixture(name))
        charts = plot.make_charts(r, tmp.name)
        return tmp.name, charts

    def assert_valid_pngs(self, outdir, charts):
        written = sorted(c.filename for c in charts if c.filename)
        self.assertEqual(sorted(f for f in os.listdir(outdir)), written,
                         "only the charts, and no temporary file, are left")
        for fn in written:
            w, h = png_size(os.path.join(outdir, fn))
            self.assertGreater(w, 400, fn)
            self.assertGreater(h, 250, fn)
        return written

    def test_notebook_fixture(self):
        outdir, charts = self.charts("notebook_all_models.json")
        # One size per cell: bars where lines would need three, no lines at all otherwise.
        self.assertEqual(self.assert_valid_pngs(outdir, charts), [
            "chunksize_trabajo_pairs.png", "notebook.png", "overhead_per_task_cpu.png",
            "overhead_per_task_sleep.png", "overhead_per_task_tarea_normal.png",
            "overhead_per_task_trabajo.png"])
        skipped = {c.title: c.reason for c in charts if not c.filename}
        self.assertEqual(sorted(skipped), ["How much faster do more workers make it?",
                                           "How much memory does each task held alive take?",
                                           "Timelines of the notebook's cells",
                                           "Which model stays flat as tasks grow?"])
        self.assertIn("no trace.json or python_trace.json beside the results",
                      skipped["Timelines of the notebook's cells"])
        self.assertFalse(any(c.error for c in charts))

    def test_sweep_fixture(self):
        outdir, charts = self.charts("sweep_all_models.json")
        self.assertEqual(self.assert_valid_pngs(outdir, charts), [
            "chunksize_trabajo.png", "memory_per_task.png",
            "overhead_per_task_cpu.png", "overhead_per_task_sleep.png",
            "overhead_per_task_trabajo.png", "speedup_vs_workers_cpu.png",
            "speedup_vs_workers_sleep.png", "time_vs_tasks_memory.png",
            "time_vs_tasks_sleep.png"])
        # A sweep runs none of the notebook's cells with the notebook's arguments.
        skipped = [(c.title, c.reason) for c in charts if not c.filename]
        self.assertEqual(skipped[0], (
            "How long does each notebook cell take here, in its own Python and in C++?",
            "none of the notebook's cells has a matching benchmark (run the notebook suite: "
            "scripts/run)"))
        self.assertEqual([t for t, _ in skipped[1:]], ["Timelines of the notebook's cells"])

    def test_failed_benchmarks_are_left_out_and_every_skip_says_why(self):
        outdir, charts = self.charts("with_errors.json")
        self.assertEqual(self.assert_valid_pngs(outdir, charts), ["overhead_per_task_sleep.png"])
        for c in charts:
            if not c.filename:
                self.assertTrue(c.reason and "\n" not in c.reason, c)

    def test_a_partial_file_charts_what_finished(self):
        notes = {}
        saved = plot.publish

        def publish(fig, outdir, filename, title, answer, more=(), *rest):
            notes[filename] = more
            return saved(fig, outdir, filename, title, answer, more, *rest)
        plot.publish = publish
        try:
            outdir, charts = self.charts("partial.json")
        finally:
            plot.publish = saved
        # Two task counts a model: bars of what was measured, no lines.
        self.assertEqual(self.assert_valid_pngs(outdir, charts), ["overhead_per_task_sleep.png"])
        self.assertFalse(any(c.error for c in charts))
        # The benchmark cut short (0 iterations, zero times, no counters) is left out, and said so.
        self.assertIn("not drawn: 1 failed benchmark(s), listed in report.md",
                      notes["overhead_per_task_sleep.png"])

    def test_a_chart_that_breaks_does_not_stop_the_others(self):
        def broken(_results, _outdir):
            raise ValueError("boom")
        saved = plot.CHARTS
        plot.CHARTS = (broken, plot.chart_notebook)
        try:
            outdir, charts = self.charts("notebook_all_models.json")
        finally:
            plot.CHARTS = saved
        self.assertEqual([(c.error, c.filename) for c in charts],
                         [(True, None), (False, "notebook.png")])
        self.assertIn("ValueError: boom", charts[0].reason)


class CommandLineTest(unittest.TestCase):
    def run_plot(self, *args):
        return subprocess.run([sys.executable, os.path.join(support.SCRIPTS, "plot.py"), *args],
                              capture_output=True, text=True, timeout=120)

    def test_bad_inputs_give_one_line_and_exit_2(self):
        for name in ("empty.json", "truncated.json", "foreign.json", "not_benchmark.json",
                     "missing.json"):
            with tempfile.TemporaryDirectory() as d:
                p = self.run_plot(fixture(name), "-o", d)
                self.assertEqual(p.returncode, 2, name)
                self.assertEqual(len(p.stderr.strip().splitlines()), 1, p.stderr)
                self.assertTrue(p.stderr.startswith("fatal: "), p.stderr)
                self.assertNotIn("Traceback", p.stderr)
                self.assertEqual(os.listdir(d), [], "nothing written on failure")

    def test_prints_the_charts_and_the_skips(self):
        with tempfile.TemporaryDirectory() as d:
            p = self.run_plot(fixture("with_errors.json"), "-o", d)
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertEqual(p.stdout.strip(), os.path.join(d, "overhead_per_task_sleep.png"))
            self.assertIn("skipped: How much faster do more workers make it?: no model was run "
                          "at 3 or more worker counts", p.stderr)


if __name__ == "__main__":
    unittest.main()
