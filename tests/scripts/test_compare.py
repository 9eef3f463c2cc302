"""scripts/compare.py: Google Benchmark's compare.py accepts concbench's JSON through the
wrapper; failed and one-sided benchmarks are left out with a note; bad input is one line."""
import json
import os
import subprocess
import sys
import tempfile
import unittest

import support
from support import fixture

import compare

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


@unittest.skipUnless(have_compare_py(), "libbenchmark-tools or python3-scipy not installed "
                     "(scripts/setup installs them)")
class CompareTest(unittest.TestCase):
    def test_two_runs_of_concbench_json(self):
        with tempfile.TemporaryDirectory() as d:
            with open(fixture("notebook_all_models.json")) as f:
                data = json.load(f)
            for r in data["benchmarks"]:
                r["real_time"] *= 0.5
            os.makedirs(os.path.join(d, "B"))
            with open(os.path.join(d, "B", "results.json"), "w") as f:
                json.dump(data, f)
            p = run_compare(fixture("notebook_all_models.json"), os.path.join(d, "B"), "-a")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("Comparing A to B", p.stdout)
        line = next(ln for ln in p.stdout.splitlines()
                    if ln.startswith("sync/sleep/tasks:5/sleep_ms:500/iterations:1/real_time_mean"))
        self.assertEqual(line.split()[1], "-0.5000")
        self.assertNotIn("\x1b[", p.stdout, "no colour codes when not on a terminal")

    def test_failed_benchmarks_are_noted_not_compared(self):
        p = run_compare(fixture("with_errors.json"), fixture("with_errors.json"))
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("note: failed in A, not compared: processes/cpu/tasks:4/workers:2/n:1000/"
                      "real_time", p.stderr)
        self.assertNotIn("processes/cpu", p.stdout)
        self.assertIn("sync/sleep/tasks:2/sleep_ms:1", p.stdout)

    def test_runs_with_nothing_in_common(self):
        p = run_compare(fixture("with_errors.json"), fixture("notebook_all_models.json"))
        self.assertEqual(p.returncode, 2)
        self.assertIn("no successful benchmark in common", p.stderr)


class CompareErrorsTest(unittest.TestCase):
    def test_bad_input_is_one_line(self):
        p = run_compare(fixture("truncated.json"), fixture("with_errors.json"))
        self.assertEqual(p.returncode, 2)
        self.assertEqual(p.stderr.count("\n"), 1, p.stderr)
        self.assertIn("malformed JSON", p.stderr)

    def test_missing_compare_py_says_how_to_install_it(self):
        p = run_compare(fixture("with_errors.json"), fixture("with_errors.json"),
                        env={"CONCBENCH_COMPARE_PY": "/nonexistent/compare.py"})
        self.assertEqual(p.returncode, 2)
        self.assertIn("CONCBENCH_COMPARE_PY=/nonexistent/compare.py: no such file", p.stderr)


if __name__ == "__main__":
    unittest.main()
