"""Timeline charts (scripts/timeline.py, through plot.py and report.py) from the trace fixtures
(fixtures/traces: five notebook cells cut from a real run's traces, C++ and Python): which
charts a run folder gives, what their answers say, that every one passes the chart checks
(chart_checks.py: no overlapping or clipped text, distinct ticks, at most six series a panel),
the lanes' cap, the report's section, and scripts/plot on bare trace files."""
import os
import shutil
import subprocess
import tempfile
import unittest

import matplotlib.pyplot as plt

import support
from support import fixture, png_size

import chart_checks
import concbench_results as cr
import plot
import report
import timeline
import trace_read as tr
from chart_style import RC

TRACES = fixture("traces")
# The cells whose C++ benchmark or Python twin the fixture traces hold.
CELLS = ["2", "3", "3.coro", "4.threads", "4.gil", "4.processes", "4.1.chunk20"]


def traced_run(tmp):
    """A run folder: the notebook fixture run's results and python.json, and the traces."""
    for name in ("results.json", "python.json"):
        shutil.copy(os.path.join(fixture("notebook_run"), name), tmp)
    for name in (timeline.CPP_TRACE, timeline.PYTHON_TRACE):
        shutil.copy(os.path.join(TRACES, name), tmp)
    return cr.load_run(os.path.join(tmp, "results.json"))


class CellTimelinesTest(unittest.TestCase):
    def setUp(self):
        tmp = tempfile.TemporaryDirectory()
        self.addCleanup(tmp.cleanup)
        self.dir = tmp.name
        self.results = traced_run(tmp.name)
        self.cts = {ct.id: ct for ct in timeline.cell_timelines(
            self.results, *timeline.load_folder(tmp.name))}

    def test_one_timeline_per_traced_cell_and_an_index(self):
        charts = [c for c in plot.make_charts(self.results, self.dir)
                  if c.filename and c.filename.startswith("timelines/")]
        self.assertEqual([c.filename for c in charts], [f"timelines/{c}.png" for c in CELLS])
        for c in charts:
            w, h = png_size(os.path.join(self.dir, c.filename))
            self.assertGreater(w, 800)
            self.assertGreater(h, 300)
        with open(os.path.join(self.dir, "timelines", "index.md")) as f:
            index = f.read()
        for c in CELLS:
            self.assertIn(f"]({c}.png)", index)

    def test_the_answers_come_from_the_traces(self):
        self.assertEqual(timeline.answer(self.cts["3"]),
                         "C++: all 5 tasks at once on one thread (the event loop), done in "
                         "500 ms (ideal 500 ms); Python: the same, 502 ms (ideal 500 ms).")
        self.assertEqual(timeline.answer(self.cts["3.coro"]),
                         "Python: all 5 tasks at once on one thread (the event loop), done in "
                         "502 ms (ideal 500 ms); no C++ trace of it.")
        gil = timeline.answer(self.cts["4.gil"])
        self.assertTrue(gil.startswith("C++: 4 tasks one at a time on 2 threads"), gil)
        self.assertIn("Python: 4 tasks, 2 at once on 3 threads, each on the CPU 41% of its span "
                      "(the GIL)", gil)
        pool = timeline.answer(self.cts["4.processes"])
        self.assertIn("on 2 worker processes, the first starting after 24.5 ms (13.6 ms of it "
                      "starting the pool)", pool)
        self.assertIn("Look at the gap before the first task, where the pool starts",
                      timeline.look(self.cts["4.1.chunk20"]))
        self.assertIn("the GIL runs one at a time", timeline.look(self.cts["4.threads"]))
        self.assertEqual(self.cts["3"].question, "Do its 5 waits overlap, and on what?")
        self.assertEqual(self.cts["4.gil"].question,
                         "Do its 4 computations run side by side, and on what?")

    def test_every_timeline_passes_the_chart_checks(self):
        with plt.rc_context(RC):
            for cid, ct in self.cts.items():
                fig = timeline.draw(ct, self.results.models)
                with self.subTest(cell=cid):
                    self.assertEqual(chart_checks.chart_problems(fig), [])
                plt.close(fig)

    def test_a_side_ten_times_shorter_is_drawn_again_on_its_own_scale(self):
        with plt.rc_context(RC):
            fig = timeline.draw(self.cts["4.gil"], self.results.models)  # C++ ~1 ms, Python ~80
            titles = [ax.get_title(loc="left") for ax in fig.axes]
            plt.close(fig)
        self.assertEqual(titles, ["C++: threads.gil/cpu", "Python: python.threads/cpu",
                                  "C++: threads.gil/cpu — on its own time scale"])

    def test_the_report_shows_each_timeline_by_section_with_what_to_look_at(self):
        charts = plot.make_charts(self.results, self.dir)
        text = report.build_report(self.results, charts, "results.json")
        section = text[text.index("## Timelines"):text.index("## Charts")]
        self.assertEqual(section.count("![§"), len(CELLS))
        self.assertEqual([line for line in section.splitlines() if line.startswith("### ")],
                         ["### §2", "### §3", "### §4", "### §4.1"])
        self.assertEqual(section.count("**§"), len(CELLS))
        self.assertNotIn("timelines/", text[text.index("## Charts"):])


class LaneCapTest(unittest.TestCase):
    def test_past_max_lanes_the_last_row_counts_the_others(self):
        events = [{"ph": "M", "pid": 1, "name": "process_name",
                   "args": {"name": "async.offload/trabajo/tasks:200/real_time"}},
                  {"name": "batch", "cat": "batch", "ph": "X", "pid": 1, "tid": 0, "ts": 0,
                   "dur": 20000, "args": {"tasks": 200}},
                  {"ph": "M", "pid": 1, "tid": 0, "name": "thread_name",
                   "args": {"name": "the batch"}}]
        for i in range(200):
            tid = 1_000_000_000 + i
            events += [{"ph": "M", "pid": 1, "tid": tid, "name": "thread_name",
                        "args": {"name": f"task {i} on the loop (tid 9)"}},
                       {"ph": "M", "pid": 1, "tid": tid, "name": "thread_sort_index",
                        "args": {"sort_index": i + 1}},
                       {"name": f"task {i}", "cat": "task", "ph": "X", "pid": 1, "tid": tid,
                        "ts": 10 + i, "dur": 19000, "args": {"task": i}}]
        data = {"traceEvents": events}
        self.assertEqual(tr.validate(data), [])
        ct = timeline.trace_timelines(tr.processes(data))[0]
        with plt.rc_context(RC):
            fig = timeline.draw(ct, cr.Models([], ["async.offload"]))
            labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
            self.assertEqual(chart_checks.chart_problems(fig), [])
            plt.close(fig)
        # The batch, then MAX_LANES rows of lanes, the last counting the lanes not drawn.
        self.assertEqual(len(labels), timeline.MAX_LANES + 1)
        self.assertEqual(labels[0], "+193 more lanes (193 tasks)")
        self.assertEqual(labels[-2:], ["loop: task 0", "timed batch"])
        self.assertIn("all 200 tasks at once on one thread (the event loop)",
                      timeline.answer(ct))


class PlotTracesTest(unittest.TestCase):
    def test_plot_draws_each_traced_benchmark_of_bare_traces(self):
        with tempfile.TemporaryDirectory() as tmp:
            p = subprocess.run([os.path.join(support.SCRIPTS, "plot"),
                                os.path.join(TRACES, "trace.json"),
                                os.path.join(TRACES, "python_trace.json"), "-o", tmp],
                               capture_output=True, text=True, timeout=240)
            self.assertEqual(p.returncode, 0, p.stderr)
            files = sorted(os.listdir(os.path.join(tmp, "timelines")))
        # Five C++ benchmarks, four with their Python twin of the same name under them; the
        # Python threads/cpu (twin of threads.gil/cpu by the cell table alone) on its own.
        self.assertEqual(len([f for f in files if f.endswith(".png")]), 6)
        self.assertIn("index.md", files)
        self.assertEqual(len(p.stdout.splitlines()), 6)

    def test_a_file_that_is_not_a_trace_is_one_line_and_exit_2(self):
        p = subprocess.run([os.path.join(support.SCRIPTS, "plot"),
                            os.path.join(TRACES, "trace.json"), fixture("compare_A.json")],
                           capture_output=True, text=True, timeout=120)
        self.assertEqual(p.returncode, 2)
        self.assertEqual(len(p.stderr.splitlines()), 1, p.stderr)
        self.assertIn("compare_A.json: not a trace", p.stderr)


class ChartChecksTest(unittest.TestCase):
    """Each check of chart_checks.py catches what it is for."""

    def figure(self):
        fig, ax = plt.subplots(figsize=(4, 3))
        self.addCleanup(plt.close, fig)
        ax.set_xlim(0, 1)
        return fig, ax

    def test_a_clean_figure_passes(self):
        fig, ax = self.figure()
        ax.plot([0, 1], [0, 1], label="a")
        ax.set_title("title")
        self.assertEqual(chart_checks.chart_problems(fig), [])

    def test_overlapping_texts(self):
        fig, ax = self.figure()
        ax.text(0.5, 0.5, "one text")
        ax.text(0.52, 0.5, "another text")
        self.assertIn("overlap", " ".join(chart_checks.chart_problems(fig)))

    def test_text_leaving_the_figure(self):
        fig, ax = self.figure()
        ax.text(1.5, 0.5, "far to the right", transform=ax.transAxes)
        self.assertIn("leaves the figure", " ".join(chart_checks.chart_problems(fig)))

    def test_repeated_tick_labels(self):
        fig, ax = self.figure()
        ax.set_yticks([0.1, 0.2, 0.3])
        ax.set_yticklabels(["100 ms", "100 ms", "300 ms"])
        self.assertIn("y tick labels repeat: ['100 ms']",
                      " ".join(chart_checks.chart_problems(fig)))

    def test_more_than_six_series(self):
        fig, ax = self.figure()
        for i in range(7):
            ax.plot([0, 1], [i, i], label=f"series {i}")
        self.assertIn("7 series", " ".join(chart_checks.chart_problems(fig)))


if __name__ == "__main__":
    unittest.main()
