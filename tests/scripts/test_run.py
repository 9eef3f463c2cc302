"""scripts/run in a copy of the scripts with no build: a stand-in cmake (its output shown only
when it fails) and setup, and a stand-in concbench that writes a results file and exits non-zero,
as the real one does when its watchdog stops it (3) or some benchmarks fail (1)."""
import os
import shutil
import subprocess
import tempfile
import unittest

import support
from support import fixture

# cmake: talks on both streams, as a build does, and exits FAKE_CMAKE_STATUS (default 0).
FAKE_CMAKE = """#!/bin/sh
echo "[ 50%] Building CXX object bench/progress.cc.o"
echo "bench/progress.cc:75: warning: memcpy may overlap [-Wrestrict]" >&2
exit "${FAKE_CMAKE_STATUS:-0}"
"""

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
        fakes = {"scripts/setup": "#!/bin/sh\nexit 0\n", "bin/cmake": FAKE_CMAKE,
                 "build/release/concbench": FAKE_RUN}
        for path, text in fakes.items():
            full = os.path.join(self.repo, path)
            os.makedirs(os.path.dirname(full), exist_ok=True)
            with open(full, "w") as f:
                f.write(text)
            os.chmod(full, 0o755)

    def run_script(self, results, status, cmake_status=0):
        env = dict(os.environ, FAKE_RESULTS=results, FAKE_STATUS=str(status),
                   FAKE_CMAKE_STATUS=str(cmake_status),
                   PATH=os.path.join(self.repo, "bin") + os.pathsep + os.environ["PATH"])
        p = subprocess.run([os.path.join(self.repo, "scripts", "run"), "--suite=smoke"],
                           capture_output=True, text=True, timeout=240, env=env)
        if cmake_status:
            return p, None
        (folder,) = os.listdir(os.path.join(self.repo, "results"))
        return p, os.path.join(self.repo, "results", folder)

    def test_a_successful_build_is_one_line(self):
        p, _ = self.run_script(fixture("with_errors.json"), 1)
        build = [line for line in p.stderr.splitlines() if "build" in line]
        self.assertEqual(build, ["==> building concbench (Release)"], p.stderr)
        self.assertNotIn("warning", p.stderr + p.stdout)
        self.assertNotIn("Building CXX", p.stderr + p.stdout)

    def test_a_failed_build_shows_all_its_output_and_its_status(self):
        p, _ = self.run_script(fixture("with_errors.json"), 0, cmake_status=2)
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertIn("[ 50%] Building CXX object bench/progress.cc.o\n"
                      "bench/progress.cc:75: warning: memcpy may overlap [-Wrestrict]\n", p.stderr)
        self.assertIn("concbench: the build failed (exit 2); its whole output is above", p.stderr)
        self.assertFalse(os.path.exists(os.path.join(self.repo, "results")))

    def test_a_watchdog_stop_still_writes_charts_report_and_answer(self):
        p, folder = self.run_script(fixture("partial.json"), 3)
        self.assertEqual(p.returncode, 3, p.stderr)
        files = os.listdir(folder)
        self.assertIn("results.partial.json", files)
        self.assertNotIn("results.json", files)
        self.assertIn("overhead_per_task_sleep.png", files)  # two task counts: bars
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
