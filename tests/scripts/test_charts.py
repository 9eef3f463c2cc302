"""Every chart scripts/plot draws keeps the chart rules (issue 25, chart_checks.py), rendered
from the fixture runs: the notebook suite (C++ alone; and with the notebook's Python and its
traces, timelines included), a sweep, and a partial run. Each figure is checked just before it
is written: no two texts overlap, none leaves the figure, the tick labels of an axis differ, at
most six series a panel, no empty panel, no legend over a panel, lines only where some series
runs through three x values. Every chart answers its question in one line. Then each check
fails once on purpose, on a real chart broken the way issue 25 saw charts broken; and the pieces
that keep the rules (the grouping into small multiples, one colour per model in every chart,
tick labels with enough digits) are checked on their own."""
import os
import shutil
import tempfile
import unittest
from unittest import mock

from matplotlib.ticker import FuncFormatter

from support import fixture

import chart_checks
import chart_style
import concbench_results as cr
import plot
import timeline

RUNS = {
    "notebook": ("notebook_all_models.json",),
    "python": ("notebook_run/results.json", "notebook_run/python.json", "traces/trace.json",
               "traces/python_trace.json"),
    "sweep": ("sweep_all_models.json",),
    "partial": ("partial.json",),
}


def run_folder(tmp: str, run: str) -> str:
    """A results folder of a fixture run: its results.json and whatever lies beside it."""
    for i, name in enumerate(RUNS[run]):
        shutil.copy(fixture(name), os.path.join(tmp, "results.json" if i == 0
                                                else os.path.basename(name)))
    return os.path.join(tmp, "results.json")


def render(testcase, run: str, defect=None):
    """Draws every chart of a fixture run; returns (charts, {filename: problems}), each figure
    checked just before it is saved, after defect(fig) when given."""
    tmp = tempfile.TemporaryDirectory()
    testcase.addCleanup(tmp.cleanup)
    found = {}

    def checking(real):
        def save(fig, path):
            if defect:
                defect(fig)
            found[os.path.relpath(path, tmp.name)] = chart_checks.chart_problems(fig)
            real(fig, path)
        return save
    with mock.patch.object(plot, "save", checking(plot.save)), \
            mock.patch.object(timeline, "save", checking(timeline.save)):
        charts = plot.make_charts(cr.load_run(run_folder(tmp.name, run)), tmp.name)
    return charts, found


class EveryChartKeepsTheRulesTest(unittest.TestCase):
    def check_run(self, run, answers=None):
        """Every chart of the run drawn (which ones: test_plot.py) and checked; `answers` maps
        a chart's file to the line it must print under its title."""
        charts, found = render(self, run)
        self.assertEqual([c.title for c in charts if c.error], [])
        drawn = sorted(c.filename for c in charts if c.filename)
        self.assertTrue(drawn)
        self.assertEqual(sorted(found), drawn)
        self.assertEqual({f: p for f, p in found.items() if p}, {})
        for c in charts:
            if c.filename and not c.filename.startswith("timelines/"):
                self.assertTrue(c.title.split(" — ")[0].endswith("?"), c.title)
                self.assertTrue(c.answer.endswith(".") and "\n" not in c.answer, c.answer)
        drawn_answers = {c.filename: c.answer for c in charts if c.filename}
        for filename, answer in (answers or {}).items():
            self.assertEqual(drawn_answers[filename], answer)
        return charts

    def test_the_notebook_suite(self):
        charts = self.check_run("notebook")
        skipped = {c.title: c.reason for c in charts if not c.filename}
        self.assertEqual(skipped["Which model stays flat as tasks grow?"],
                         "the notebook suite runs each cell at one size; `scripts/sweep` draws "
                         "the curves")
        self.assertEqual(skipped["How much faster do more workers make it?"],
                         skipped["Which model stays flat as tasks grow?"])

    def test_the_notebook_suite_with_its_python_and_traces(self):
        charts = self.check_run("python", {
            "notebook.png":
                "C++ is faster in 10 of 17 cells, up to 266× (§4 threads: 4 × "
                "cpu_intensivo(200000)); 7 take the same time in both — they wait, "
                "and a wait costs the same in any language.",
            "chunksize_trabajo_pairs.png":
                "processes: chunksize 20 1.25× faster than 1 (p = 0.008); "
                "processes.with_startup: chunksize 20 1.24× faster than 1 (p = 0.008); "
                "python.processes.with_startup: chunksize 20 1.04× faster than 1 "
                "(p = 0.008)."})
        self.assertEqual(len([c for c in charts if c.filename
                              and c.filename.startswith("timelines/")]), 7)

    def test_a_sweep(self):
        self.check_run("sweep", {
            "time_vs_tasks_sleep.png":
                "sleep 1 ms: async stays within 2× of its 1-task time up to 256 tasks; "
                "threads · 16 workers climbs from 64 tasks, threads.per_task from 64, "
                "threads · 4 workers from 16 and 4 more.",
            "speedup_vs_workers_cpu.png":
                "n=200,000, 8 tasks: threads: 2× at 4 workers (ideal 2×); processes: "
                "1.94× at 8 workers (ideal 2×); threads.gil: 0.985× at 2 workers "
                "(ideal 1×) (over sync).",
            "memory_per_task.png":
                "At 1,000 tasks alive: async: 327 B; threads.per_task: 74.2 KiB; "
                "processes.per_task: 108 KiB."})

    def test_a_partial_run(self):
        self.check_run("partial")


TIME = plot.chart_time_vs_tasks


def first_line_chart(fig):
    return next(ax for ax in fig.axes if ax.get_lines())


class EachCheckFailsOnPurposeTest(unittest.TestCase):
    """Each rule broken once, on a real chart, the way issue 25 saw it broken."""

    def problems(self, run, chart, filename, defect=None, **patches):
        """The problems of one chart of a run, drawn alone, after defect(fig) and with plot's
        names patched."""
        with mock.patch.multiple(plot, CHARTS=(chart,), **patches):
            _, found = render(self, run, defect)
        return " ".join(found[filename])

    def broken(self, defect):
        """The sweep's wall time vs tasks, after defect(fig)."""
        return self.problems("sweep", TIME, "time_vs_tasks_sleep.png", defect)

    def test_captions_moved_onto_the_axis_labels_overlap(self):
        def defect(fig):
            for ax in fig.axes:
                for t in ax.texts:
                    t.xyann = (0, 12)  # up from under the x label onto it
        self.assertIn("overlap", self.broken(defect))

    def test_a_legend_anchored_at_the_figures_edge_leaves_it(self):
        def defect(fig):  # where the legend used to be: bbox_to_anchor (1.0, 0.5)
            for leg in fig.legends:
                leg.set_bbox_to_anchor((1.0, 0.5), transform=fig.transFigure)
        self.assertIn("leaves the figure",
                      self.broken(defect))

    def test_a_narrow_log_axis_labelled_with_three_digits_repeats_its_ticks(self):
        def defect(fig):  # issue 25's "100 ms" on every tick
            ax = first_line_chart(fig)
            ax.set_yscale("log")
            ax.set_ylim(0.1, 0.1006)
            three = FuncFormatter(lambda v, _p: cr.format_seconds(v))
            ax.yaxis.set_major_formatter(three)
            ax.yaxis.set_minor_formatter(three)
        self.assertIn("y tick labels repeat: ['100 ms']",
                      self.broken(defect))

    def test_a_value_written_past_its_panels_edge_is_not_drawn(self):
        def defect(fig):  # a bar's error reaching past the axis: its label was never drawn
            ax = fig.axes[0]
            for t in ax.texts:
                t.set_annotation_clip(None)
            lo = ax.get_xlim()[0]  # a log axis: most values now lie past its right edge
            ax.set_xlim(lo, lo * 2)
        self.assertIn("is not drawn: its point lies outside its panel", self.problems(
            "notebook", plot.chart_overhead_per_task, "overhead_per_task_sleep.png", defect))

    def test_every_series_in_one_panel_is_too_many(self):
        one_panel = lambda keys, models: [sorted(keys, key=plot.by_rank(models))]  # noqa: E731
        self.assertIn("series (at most 6)", self.problems(
            "sweep", TIME, "time_vs_tasks_sleep.png", split_series=one_panel))

    def test_a_panel_with_nothing_drawn_is_empty(self):
        def defect(fig):
            ax = first_line_chart(fig)
            for artist in list(ax.lines) + list(ax.collections):
                artist.remove()
        self.assertIn("is empty", self.broken(defect))

    def test_a_legend_inside_a_panel_covers_it(self):
        def defect(fig):
            first_line_chart(fig).legend(loc="center")
        self.assertIn("covers panel 0", self.broken(defect))

    def test_lines_through_two_task_counts_cannot_show_growth(self):
        # The partial run has two task counts per model: drawn anyway, its lines are refused.
        self.assertIn("fewer than 3 x values", self.problems(
            "partial", TIME, "time_vs_tasks_sleep.png", enough_points=lambda s: True))


class RulesTest(unittest.TestCase):
    models = cr.Models([], ["sync", "threads", "threads.per_task", "async", "async.sequential",
                            "async.blocking", "async.coro", "async.coro.sequential",
                            "async.bare", "processes"])

    def test_small_multiples_keep_a_base_model_together_and_at_most_six_a_panel(self):
        keys = [(m,) for m in self.models.names] + [("python.async",)]
        groups = chart_style.split_series(keys, self.models)
        self.assertEqual(groups, [
            [("sync",), ("threads",), ("threads.per_task",)],
            [("async",), ("async.sequential",), ("async.blocking",), ("async.coro",)],
            [("async.coro.sequential",), ("async.bare",), ("python.async",)],
            [("processes",)]])

    def test_a_model_has_the_same_colour_and_style_whatever_else_a_chart_draws(self):
        alone = chart_style.Styler([("async.coro",)], self.models)(("async.coro",))
        among = chart_style.Styler([("async",), ("async.sequential",), ("async.coro",)],
                                   self.models)(("async.coro",))
        self.assertEqual(alone, among)
        self.assertNotEqual(among["color"], chart_style.Styler(
            [("async",)], self.models)(("async",))["color"])

    def test_tick_labels_take_the_digits_that_tell_them_apart(self):
        f = chart_style.seconds_formatter()
        self.assertEqual(f.format_ticks([0.1, 0.1002, 0.1004]), ["100 ms", "100.2 ms",
                                                                  "100.4 ms"])
        self.assertEqual(f.format_ticks([0.001, 0.01, 0.1, 1]), ["1 ms", "10 ms", "100 ms",
                                                                 "1 s"])
        self.assertEqual(chart_style.seconds_text(0.99996), "1 s")


if __name__ == "__main__":
    unittest.main()
