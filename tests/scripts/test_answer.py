"""scripts/answer.py: the end of scripts/run on the terminal — short, the notebook table with
verdicts, failures, the machine's warnings, where the results are."""
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

import support
from support import fixture

import answer
import concbench_results as cr


def run_answer(*args):
    return subprocess.run([sys.executable, os.path.join(support.SCRIPTS, "answer.py"), *args],
                          capture_output=True, text=True, timeout=120)


class AnswerTest(unittest.TestCase):
    def test_a_notebook_run_fits_the_terminal(self):
        p = run_answer(fixture("notebook_run"))
        self.assertEqual(p.returncode, 0, p.stderr)
        lines = p.stdout.splitlines()
        self.assertLessEqual(len(lines), 40)
        self.assertTrue(all(len(line) <= 100 for line in lines), max(lines, key=len))
        self.assertIn("§   cell", p.stdout)
        self.assertRegex(p.stdout, r"4   threads: 4 × cpu_intensivo\(200000\) +194 ms +72\d µs  "
                                   r"C\+\+ \d+× faster \(p = 0\.008\)")
        self.assertIn("equal within ±1 % (p = 0.008)", p.stdout)
        self.assertTrue(lines[-1].startswith("Results, charts and report: "))

    def test_cell_labels_are_whole_and_a_long_one_wraps_under_itself(self):
        lines = run_answer(fixture("notebook_run")).stdout.splitlines()
        table = lines[:lines.index("")]
        self.assertNotIn("…", "\n".join(table))
        self.assertIn("2   threads: 5 tasks × sleep 0.5 s, 5 workers         506 ms   500 ms  "
                      "C++ 1.01× faster (p = 0.008)", table)
        i = next(k for k, line in enumerate(table) if line.startswith("5.1 "))
        self.assertEqual(table[i], "5.1 asyncio sequential: 5 × sleep 0.3 s (labelled     1.51 s    "
                                   "1.5 s  equal within ±1 % (p = 0.008)")
        self.assertEqual(table[i + 1], "    0.2 s)")

    def test_failures_and_a_partial_run_are_said_first(self):
        r = cr.load(fixture("with_errors.json"))
        r.context["concbench_partial"] = "timed out: threads/sleep/tasks:5 after 60 s"
        lines = answer.answer(r, "results/x")
        self.assertEqual(lines[0], "PARTIAL RESULTS: timed out: threads/sleep/tasks:5 after 60 s")
        failed = [line for line in lines if "benchmark(s) failed" in line]
        self.assertEqual(len(failed), 1)

    def test_a_partial_run_counts_what_never_ran_in_one_line(self):
        p = run_answer(fixture("partial.json"))
        self.assertEqual(p.returncode, 0, p.stderr)
        lines = p.stdout.splitlines()
        self.assertTrue(lines[0].startswith("PARTIAL RESULTS: timed out: async/sleep/tasks:8"))
        self.assertEqual(lines[1], "23 planned benchmark(s) not run (listed in report.md)")
        self.assertIn("  async/sleep/tasks:8/sleep_ms:1/real_time: timed out:", p.stdout)

    def test_machine_warnings_are_wrapped_to_the_width(self):
        r = cr.load(fixture("notebook_all_models.json"))
        r.context.update({"machine_parallel_capacity": "1.10", "machine_parallel_capacity_end": "1.90",
                          "machine_usable_cores": "2", "machine_noise_cv": "0.18",
                          "machine_virtualized": "yes"})
        lines = answer.machine_lines(r)
        self.assertTrue(lines[0].startswith("Machine: 2 usable cores delivering 1.10 at the start"))
        text = "\n".join(lines)
        self.assertIn("delivered 1.1× on CPU work", text)
        self.assertIn("changed from 1.10 to 1.90", text)
        self.assertIn("vary by 18%", text)
        self.assertTrue(all(len(line) <= 100 for line in lines))
        r.context["machine_usable_cores"] = "1"
        self.assertTrue(answer.machine_lines(r)[0].startswith("Machine: 1 usable core delivering 1.10"))

    def test_bad_input_is_one_line(self):
        with tempfile.TemporaryDirectory() as d:
            p = run_answer(d)
        self.assertEqual(p.returncode, 2)
        self.assertEqual(len(p.stderr.strip().splitlines()), 1)
        self.assertTrue(p.stderr.startswith("fatal: "))


if __name__ == "__main__":
    unittest.main()
