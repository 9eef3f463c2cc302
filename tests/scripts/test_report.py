"""report.md from fixtures (scripts/report.py): sections, embedded charts, failures listed first,
one-line errors and nothing written on bad input."""
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


def run_report(*args):
    return subprocess.run([sys.executable, os.path.join(support.SCRIPTS, "report.py"), *args],
                          capture_output=True, text=True, timeout=240)


class ReportTest(unittest.TestCase):
    def folder_with(self, name):
        tmp = tempfile.TemporaryDirectory()
        self.addCleanup(tmp.cleanup)
        path = os.path.join(tmp.name, "results.json")
        shutil.copy(fixture(name), path)
        return tmp.name, path

    def test_notebook_report_has_every_section_and_its_charts(self):
        d, path = self.folder_with("notebook_all_models.json")
        p = run_report(path)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stdout.strip(), os.path.join(d, "report.md"))
        with open(os.path.join(d, "report.md")) as f:
            md = f.read()
        headings = re.findall(r"^## (.*)$", md, flags=re.M)
        self.assertEqual(headings, ["Machine", "The notebook, cell by cell", "Charts",
                                    "All results", "Run context"])
        images = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", md)
        self.assertIn("notebook.png", images)
        for img in images:
            png_size(os.path.join(d, img))
        self.assertRegex(md, r"\| 4 \| processes: 4 × cpu_intensivo\(200000\) \| 116 ms \| "
                             r"not run \| 1\.88 ms ± [^|]+ \| – \|")
        # This older fixture has no with_startup run of §5.3, the benchmark the table names.
        self.assertIn("| 5.3 | processes: tarea_normal(0..3) | 131 ms | not run | not in these "
                      "results | – |", md)
        # The binary's tables: the models described, not dumped in the run context.
        self.assertIn("- `threads.gil`: the thread pool under an emulated CPython GIL", md)
        self.assertNotIn("concbench_cells", md)
        self.assertIn("59,995,920", md)  # the checksum column
        self.assertNotIn("Failed benchmarks", md)

    def test_a_run_with_the_notebooks_python_beside_it(self):
        tmp = tempfile.TemporaryDirectory()
        self.addCleanup(tmp.cleanup)
        for f in ("results.json", "python.json"):
            shutil.copy(os.path.join(fixture("notebook_run"), f), tmp.name)
        p = run_report(os.path.join(tmp.name, "results.json"))
        self.assertEqual(p.returncode, 0, p.stderr)
        with open(os.path.join(tmp.name, "report.md")) as f:
            md = f.read()
        self.assertIn("| § | cell | printed (another machine) | Python here | C++ here | verdict |", md)
        self.assertRegex(md, r"\| 4 \| threads: 4 × cpu_intensivo\(200000\) \| 129 ms \| 194 ms ± [^|]+ \| "
                             r"730 µs ± [^|]+ \| C\+\+ \d+× faster \(p = 0\.008\) \|")
        self.assertIn("**The GIL, checked against CPython.** §4's threads take 1.02× the serial time", md)
        self.assertIn("Lost updates per run of 2 × 100,000 increments: Python 0, C++ 61,234", md)
        self.assertIn("Python here 9,316 KiB, C++ here 2,344 KiB", md)
        self.assertNotIn("was not run beside this run", md)
        self.assertGreater(png_size(os.path.join(tmp.name, "notebook.png"))[1], 1000)

    def test_the_charts_come_by_notebook_section_each_with_its_answer(self):
        tmp = tempfile.TemporaryDirectory()
        self.addCleanup(tmp.cleanup)
        for f in ("results.json", "python.json"):
            shutil.copy(os.path.join(fixture("notebook_run"), f), tmp.name)
        self.assertEqual(run_report(tmp.name).returncode, 0)
        with open(os.path.join(tmp.name, "report.md")) as f:
            md = f.read()
        section = md[md.index("## Charts"):md.index("## All results")]
        self.assertEqual(re.findall(r"^#### (§[^—]+) — ", section, flags=re.M),
                         ["§0, §1, §2, §3, §3.1, §5.1, §5.2", "§4", "§4.1", "§4.1", "§5.3"])
        self.assertNotIn("### Sweeps", section)
        self.assertEqual(section.count("**Answer:** "), 5)
        self.assertIn("**Answer:** processes: chunksize 20 1.25× faster than 1 (p = 0.008);",
                      section)
        self.assertIn("**Not drawn for this run:** *Which model stays flat as tasks grow?*, "
                      "*How much faster do more workers make it?* — the notebook suite runs "
                      "each cell at one size; `scripts/sweep` draws the curves; ", section)

    def test_a_sweeps_charts_come_after_the_notebooks(self):
        d, path = self.folder_with("sweep_all_models.json")
        self.assertEqual(run_report(path).returncode, 0)
        with open(os.path.join(d, "report.md")) as f:
            md = f.read()
        section = md[md.index("## Charts"):md.index("## All results")]
        self.assertNotIn("### By the notebook's sections", section)
        self.assertIn("### Sweeps and other families\n\n#### Which model stays flat as tasks "
                      "grow? — sleep (I/O-bound)\n", section)
        self.assertEqual(section.count("**Answer:** "), 9)

    def test_without_python_json_it_says_the_python_was_not_run(self):
        d, path = self.folder_with("notebook_all_models.json")
        self.assertEqual(run_report(path).returncode, 0)
        with open(os.path.join(d, "report.md")) as f:
            self.assertIn("The notebook's Python was not run beside this run", f.read())

    def test_failed_benchmarks_come_first_and_are_not_charted(self):
        d, path = self.folder_with("with_errors.json")
        p = run_report(path)
        self.assertEqual(p.returncode, 0, p.stderr)
        with open(os.path.join(d, "report.md")) as f:
            md = f.read()
        # The machine the numbers are read against, then the failures, before anything else.
        self.assertEqual(re.findall(r"^## (.*)$", md, flags=re.M)[:2],
                         ["Machine", "⚠ Failed benchmarks (1)"])
        self.assertIn("| `processes/cpu/tasks:4/workers:2/n:1000/real_time` | worker 1 (pid 4242) "
                      "killed by signal 9 (SIGKILL) during task 2 |", md)
        results_part = md.split("## All results")[1]
        self.assertNotIn("n=1,000", results_part)
        self.assertIn("**Not drawn for this run:** *How long does each notebook cell take here, "
                      "in its own Python and in C++?* — none of the notebook's cells", md)
        self.assertEqual(md.count("Not drawn for this run"), 1)

    def test_a_partial_run_says_what_finished_what_was_cut_short_and_what_never_ran(self):
        tmp = tempfile.TemporaryDirectory()
        self.addCleanup(tmp.cleanup)
        shutil.copy(fixture("partial.json"), os.path.join(tmp.name, "results.partial.json"))
        p = run_report(tmp.name)
        self.assertEqual(p.returncode, 0, p.stderr)
        with open(os.path.join(tmp.name, "report.md")) as f:
            md = f.read()
        head = md.split("## Machine")[0]
        self.assertIn("**⚠ PARTIAL RESULTS: timed out: async/sleep/tasks:8/sleep_ms:1/real_time "
                      "ran 12.0 s past its deadline of 60 s.**", head)
        self.assertIn("- Cut short (1; errors with the failures below): "
                      "`async/sleep/tasks:8/sleep_ms:1/real_time`", head)
        self.assertRegex(head, r"- Not run \(23\): `async/sleep/tasks:16/sleep_ms:1/real_time`"
                               r"(, `[^`]+`){19} … and 3 more\n")
        self.assertIn("[`results.partial.json`](results.partial.json)", md)
        self.assertIn("## ⚠ Failed benchmarks (1)", md)
        for img in re.findall(r"!\[[^\]]*\]\(([^)]+)\)", md):
            png_size(os.path.join(tmp.name, img))
        self.assertIn("overhead_per_task_sleep.png", os.listdir(tmp.name))
        self.assertNotIn("`async`", md.split("## All results")[1].split("## Run context")[0])

    def test_an_injected_slowdown_is_said_first(self):
        tmp = tempfile.TemporaryDirectory()
        self.addCleanup(tmp.cleanup)
        shutil.copy(fixture("ab_B.json"), os.path.join(tmp.name, "results.json"))
        p = run_report(os.path.join(tmp.name, "results.json"))
        self.assertEqual(p.returncode, 0, p.stderr)
        with open(os.path.join(tmp.name, "report.md")) as f:
            md = f.read()
        self.assertIn("\n\n**⚠ INJECTED SLOWDOWN: every compute step did 10 % more work "
                      "(--inject_slowdown=10, a positive control): a benchmark is slower by that "
                      "times its share of compute.** These are not the code's own times.\n\n", md)
        self.assertLess(md.index("INJECTED SLOWDOWN"), md.index("## Machine"))

    def test_results_written_before_the_binarys_tables_still_report_quietly(self):
        d, path = self.folder_with("sweep_all_models.json")
        with open(path) as f:
            data = json.load(f)
        for key in ("concbench_models", "concbench_workloads", "concbench_cells"):
            del data["context"][key]
        with open(path, "w") as f:
            json.dump(data, f)
        p = run_report(path)
        self.assertEqual((p.returncode, p.stderr), (0, ""))
        with open(os.path.join(d, "report.md")) as f:
            md = f.read()
        self.assertIn("These results carry no table of the notebook's cells", md)
        self.assertIn("### sleep\n", md)  # a workload the table would have described
        self.assertIn("### memory: tasks held alive at once\n", md)
        self.assertIn("speedup_vs_workers_cpu.png", os.listdir(d))

    def test_bad_input_writes_nothing(self):
        for name in ("empty.json", "truncated.json", "foreign.json"):
            d, path = self.folder_with(name)
            p = run_report(path)
            self.assertEqual(p.returncode, 2, name)
            self.assertEqual(p.stderr.count("\n"), 1, p.stderr)
            self.assertNotIn("Traceback", p.stderr)
            self.assertEqual(os.listdir(d), ["results.json"], name)

    def test_an_existing_report_survives_a_failed_run(self):
        d, path = self.folder_with("truncated.json")
        with open(os.path.join(d, "report.md"), "w") as f:
            f.write("previous report\n")
        self.assertEqual(run_report(path).returncode, 2)
        with open(os.path.join(d, "report.md")) as f:
            self.assertEqual(f.read(), "previous report\n")

    def test_the_shell_entry_point_works(self):
        d, path = self.folder_with("with_errors.json")
        p = subprocess.run([os.path.join(support.SCRIPTS, "report"), d], capture_output=True,
                           text=True, timeout=240)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertTrue(os.path.exists(os.path.join(d, "report.md")))


if __name__ == "__main__":
    unittest.main()
