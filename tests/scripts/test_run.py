"""scripts/run after a failed C++ run, in a copy of the scripts with no build: a stand-in cmake
and setup, and a stand-in concbench that writes a results file and exits non-zero, as the real
one does when its watchdog stops it (3) or some benchmarks fail (1)."""
import os
import shutil
import subprocess
import tempfile
import unittest

import support
from support import fixture

FAKE_RUN = """#!/bin/sh
# concbench: validates (--benchmark_list_tests) or writes FAKE_RESULTS to --benchmark_out.
for a in "$@"; do
  case "$a" in
    --benchmark_list_tests=true) exit 0 ;;
    --benchmark_out=*) cp "$FAKE_RESULTS" "${a#--benchmark_out=}" ;;
  esac
done
exit "$FAKE_STATUS"
"""


class RunAfterAFailedRunTest(unittest.TestCase):
    def setUp(self):
        tmp = tempfile.TemporaryDirectory()
        self.addCleanup(tmp.cleanup)
        self.repo = tmp.name
        shutil.copytree(support.SCRIPTS, os.path.join(self.repo, "scripts"),
                        ignore=shutil.ignore_patterns("__pycache__"))
        fakes = {"scripts/setup": "#!/bin/sh\nexit 0\n", "bin/cmake": "#!/bin/sh\nexit 0\n",
                 "build/release/concbench": FAKE_RUN}
        for path, text in fakes.items():
            full = os.path.join(self.repo, path)
            os.makedirs(os.path.dirname(full), exist_ok=True)
            with open(full, "w") as f:
                f.write(text)
            os.chmod(full, 0o755)

    def run_script(self, results, status):
        env = dict(os.environ, FAKE_RESULTS=results, FAKE_STATUS=str(status),
                   PATH=os.path.join(self.repo, "bin") + os.pathsep + os.environ["PATH"])
        p = subprocess.run([os.path.join(self.repo, "scripts", "run"), "--suite=smoke"],
                           capture_output=True, text=True, timeout=240, env=env)
        (folder,) = os.listdir(os.path.join(self.repo, "results"))
        return p, os.path.join(self.repo, "results", folder)

    def test_a_watchdog_stop_still_writes_charts_report_and_answer(self):
        p, folder = self.run_script(fixture("partial.json"), 3)
        self.assertEqual(p.returncode, 3, p.stderr)
        files = os.listdir(folder)
        self.assertIn("results.partial.json", files)
        self.assertNotIn("results.json", files)
        self.assertIn("time_vs_tasks_sleep.png", files)
        with open(os.path.join(folder, "report.md")) as f:
            self.assertIn("**⚠ PARTIAL RESULTS: timed out: async/sleep/tasks:8", f.read())
        self.assertIn("the run failed (exit 3)", p.stderr)
        self.assertIn("the notebook's Python cells are skipped after a failed C++ run", p.stderr)
        lines = p.stdout.splitlines()
        self.assertTrue(lines[0].startswith("PARTIAL RESULTS: timed out:"), p.stdout)
        self.assertEqual(lines[1], "23 planned benchmark(s) not run (listed in report.md)")
        self.assertTrue(lines[-1].startswith("Results, charts and report: "), p.stdout)

    def test_failed_benchmarks_keep_the_partial_name_and_get_a_report(self):
        p, folder = self.run_script(fixture("with_errors.json"), 1)
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertNotIn("results.json", os.listdir(folder))
        self.assertIn("report.md", os.listdir(folder))
        self.assertIn("1 benchmark(s) failed:", p.stdout)
        self.assertNotIn("PARTIAL", p.stdout)

    def test_an_unreadable_file_gives_one_fatal_line_and_no_answer(self):
        p, folder = self.run_script(fixture("truncated.json"), 143)
        self.assertEqual(p.returncode, 143, p.stderr)
        self.assertIn("fatal: ", p.stderr)
        self.assertEqual(p.stdout, "")
        self.assertNotIn("report.md", os.listdir(folder))


if __name__ == "__main__":
    unittest.main()
