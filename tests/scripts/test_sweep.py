"""scripts/sweep.py against a fake concbench binary: the plan, rejection before running,
progress, the merged results folder, failures, crashes, interruption and a family past its time
limit."""
import io
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import unittest

import support
from support import FAKE_BINARY

import sweep

SWEEP = os.path.join(support.SCRIPTS, "sweep.py")


def group_members(pgid):
    """Pids of the live or zombie processes in process group pgid, from /proc."""
    pids = []
    for entry in os.listdir("/proc"):
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[2]) == pgid:
            pids.append(int(entry))
    return pids


class ProgressTest(unittest.TestCase):
    def test_status_lines_come_after_three_then_ten_seconds_of_silence(self):
        clock = [50.0]
        err = io.StringIO()
        progress = sweep.SweepProgress({"a": 2.0, "b": 10.0}, now=lambda: clock[0], err=err)
        progress.printed(heading=True)  # "[1/1] a/...: 2 benchmark(s) — elapsed 0:00, calibrating…"
        progress.began("a")
        for clock[0] in (51.0, 52.0, 53.0):
            progress.tick()
        clock[0] = 54.0
        progress.finished("a")  # 4 s for 2 planned: b's estimate is 10 + 2 s
        progress.began("b")
        for clock[0] in (60.0, 64.0):
            progress.tick()
        self.assertEqual(err.getvalue(),
                         "    0:03  0/2 benchmarks  calibrating…  now a (3 s)\n"
                         "    0:14  1/2 benchmarks  ~0:02 left  now b (10 s)\n")


    def test_each_family_runs_start_counts_once_for_every_family_not_run(self):
        clock = [0.0]
        progress = sweep.SweepProgress({"a": 1.0, "b": 1.0, "c": 1.0}, families=2,
                                       now=lambda: clock[0], err=io.StringIO())
        progress.family_started()           # a and b: 2 s to start and probe, 1 s each
        clock[0] = 2.0
        progress.began("a")
        clock[0] = 3.0
        progress.finished("a")
        progress.began("b")
        clock[0] = 3.5                      # b half done, c to come, and the start of c's run
        self.assertAlmostEqual(progress.seconds_left(), 0.5 + 1.0 + 2.0)
        clock[0] = 4.0
        progress.finished("b")
        clock[0] = 5.0                      # 1 s to end: 3 s outside the benchmarks in all
        progress.family_ended()
        self.assertAlmostEqual(progress.seconds_left(), 1.0 + 3.0)
        progress.family_started()
        clock[0] = 6.5
        self.assertAlmostEqual(progress.seconds_left(), 1.0 + 3.0 - 1.5)


class SweepTest(unittest.TestCase):
    def setUp(self):
        tmp = tempfile.TemporaryDirectory()
        self.addCleanup(tmp.cleanup)
        self.root = tmp.name

    def sweep(self, *args, env=None, timeout=240):
        e = dict(os.environ, **(env or {}))
        return subprocess.run([sys.executable, SWEEP, f"--binary={FAKE_BINARY}",
                               f"--out-root={self.root}", *args], capture_output=True,
                              text=True, timeout=timeout, env=e)

    def folders(self):
        return sorted(os.listdir(self.root))

    def load(self, folder):
        with open(os.path.join(self.root, folder, "results.json")) as f:
            return json.load(f)

    def assert_rejected(self, *args, says):
        p = self.sweep(*args)
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertEqual(p.stderr.strip().count("\n"), 0, p.stderr)
        self.assertIn(says, p.stderr)
        self.assertEqual(self.folders(), [], "nothing created before the check")

    def test_unknown_model(self):
        self.assert_rejected("--models=fibers", says="unknown model 'fibers'; this suite has: "
                             "sync, threads, processes")

    def test_unknown_workload(self):
        self.assert_rejected("--workloads=disk", says="unknown workload 'disk'")

    def test_unknown_key(self):
        self.assert_rejected("depth=3", says="unknown key 'depth'; the grid keys are: tasks, "
                             "workers, sleep_ms, n")

    def test_value_out_of_range_or_not_a_number(self):
        self.assert_rejected("--tasks=0,4", says="tasks: 0 is out of range")
        self.assert_rejected("workers=two", says="workers: 'two' is not an integer")

    def test_key_that_no_selected_benchmark_takes(self):
        self.assert_rejected("--models=sync", "--workers=2",
                             says="'workers' matches none of the selected benchmarks")

    def test_dry_run_prints_the_plan(self):
        p = self.sweep("--models=threads", "tasks=2,8", "--dry-run")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stdout.splitlines()[0], "threads/sleep: 4 benchmark(s)")
        self.assertIn("threads/sleep/tasks:8/workers:4/sleep_ms:1/real_time", p.stdout)
        self.assertEqual(self.folders(), [])

    def test_pythons_memory_family_is_selected_like_a_model(self):
        p = self.sweep("--models=python.async", "tasks=1000,10000", "--dry-run")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stdout.splitlines(), [
            "python.async/sleep: 2 benchmark(s)",
            "  python.async/sleep/tasks:1000/sleep_ms:100/real_time",
            "  python.async/sleep/tasks:10000/sleep_ms:100/real_time"])
        # The C++ model's name does not select the Python rows.
        p = self.sweep("--models=threads", "--dry-run")
        self.assertNotIn("python.", p.stdout)

    def test_pythons_memory_family_runs_in_its_own_interpreters(self):
        p = self.sweep("--models=python", "tasks=1000")
        self.assertEqual(p.returncode, 0, p.stderr)
        rows = self.load(self.folders()[0])["benchmarks"]
        self.assertEqual({r["run_name"] for r in rows},
                         {"python.async/sleep/tasks:1000/sleep_ms:100/real_time"})
        self.assertGreater(rows[0]["rss_kib"], 0)

    def test_a_full_sweep_writes_one_folder_with_merged_results_and_report(self):
        p = self.sweep("tasks=2,8", "--repetitions=2")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("[1/3] sync/sleep: 2 benchmark(s)", p.stderr)
        self.assertIn("[3/3] processes/cpu: 4 benchmark(s)", p.stderr)
        self.assertIn("[2/4] threads/sleep/tasks:2/workers:4/sleep_ms:1/real_time", p.stdout)
        # The time left, from the binary's plan (--list_planned) and what is done.
        self.assertRegex(p.stderr, r"\[1/3\] sync/sleep: 2 benchmark\(s\) — elapsed 0:\d\d, calibrating…")
        self.assertRegex(p.stderr, r"\[3/3\] processes/cpu: 4 benchmark\(s\) — elapsed 0:\d\d, ~\d+:\d\d left")
        self.assertRegex(p.stdout, r"\[4/4\] processes/cpu/\S+  mean \S+ ms  \(~\d+:\d\d left\)")
        (folder,) = self.folders()
        self.assertRegex(folder, r"^\d{4}-\d\d-\d\dT\d{6}Z_[^_]+_sweep$")
        data = self.load(folder)
        self.assertEqual(len(data["benchmarks"]), (2 + 4 + 4) * 2)
        self.assertEqual(data["context"]["concbench_sweep_status"], "complete: 3 run(s)")
        self.assertIn("--tasks=2,8 --repetitions=2", data["context"]["concbench_sweep_plan"])
        files = os.listdir(os.path.join(self.root, folder))
        for f in ("results.json", "report.md", "sweep.log", "overhead_per_task_sleep.png"):
            self.assertIn(f, files)
        self.assertNotIn(".parts", files)

    def test_a_failing_family_is_kept_and_reported(self):
        p = self.sweep("--models=sync,processes", env={"FAKE_CONCBENCH_FAIL": "processes/cpu"})
        self.assertEqual(p.returncode, 1, p.stderr)
        (folder,) = self.folders()
        data = self.load(folder)
        self.assertEqual(data["context"]["concbench_sweep_status"], "1 of 2 run(s) failed")
        self.assertEqual(sum(1 for r in data["benchmarks"] if r.get("error_occurred")), 1)
        with open(os.path.join(self.root, folder, "report.md")) as f:
            self.assertIn("## ⚠ Failed benchmarks (1)", f.read())

    def test_a_crashing_family_is_listed_as_not_finished(self):
        p = self.sweep("--models=sync,processes", env={"FAKE_CONCBENCH_CRASH": "processes/cpu"})
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertIn("processes/cpu failed: exit 134, no results written", p.stderr)
        data = self.load(self.folders()[0])
        self.assertEqual(data["context"]["concbench_sweep_unfinished"],
                         "processes/cpu (exit 134, no results written)")

    def test_an_interrupted_sweep_keeps_what_finished(self):
        e = dict(os.environ, FAKE_CONCBENCH_DELAY="0.3")
        proc = subprocess.Popen([sys.executable, SWEEP, f"--binary={FAKE_BINARY}",
                                 f"--out-root={self.root}"], stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, text=True, env=e)
        try:
            lines = []
            deadline = time.monotonic() + 120
            for line in proc.stderr:
                lines.append(line)
                if line.startswith("[2/3]"):
                    time.sleep(0.4)
                    proc.send_signal(signal.SIGINT)
                    break
                self.assertLess(time.monotonic(), deadline)
            rest = proc.stderr.read()
            self.assertEqual(proc.wait(timeout=120), 130, "".join(lines) + rest)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            proc.stderr.close()
        self.assertIn("interrupted during threads/sleep; keeping the 1 run(s) that finished",
                      rest)
        self.assertIn("not in the results: processes/cpu (not started)", rest)
        data = self.load(self.folders()[0])
        self.assertEqual(data["context"]["concbench_sweep_status"],
                         "interrupted: 1 of 3 run(s) finished")
        self.assertEqual({r["run_name"].split("/")[0] for r in data["benchmarks"]}, {"sync"})


class FamilyTimeoutTest(unittest.TestCase):
    """A family that hangs after its first benchmark, run with --family-timeout=2."""

    def setUp(self):
        tmp = tempfile.TemporaryDirectory()
        self.addCleanup(tmp.cleanup)
        self.root = os.path.join(tmp.name, "results")
        self.pidfile = os.path.join(tmp.name, "hung.pid")
        self.addCleanup(self.kill_leftovers)

    def kill_leftovers(self):
        # Only when the test has already failed: a sweep that did not end the group.
        for pid in group_members(self.hung_pgid()) if os.path.exists(self.pidfile) else []:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def hung_pgid(self):
        with open(self.pidfile) as f:
            return int(f.read())

    def sweep_with_a_hung_family(self, **env):
        e = dict(os.environ, FAKE_CONCBENCH_HANG="threads/sleep",
                 FAKE_CONCBENCH_PIDFILE=self.pidfile, **env)
        t0 = time.monotonic()
        p = subprocess.run([sys.executable, SWEEP, f"--binary={FAKE_BINARY}",
                            f"--out-root={self.root}", "--family-timeout=2"],
                           capture_output=True, text=True, timeout=120, env=e)
        elapsed = time.monotonic() - t0
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertLess(elapsed, 60, p.stderr)
        self.assertEqual(group_members(self.hung_pgid()), [], "the hung family's group is gone")
        (folder,) = os.listdir(self.root)
        files = {}
        for name in ("results.json", "sweep.log", "report.md"):
            with open(os.path.join(self.root, folder, name)) as f:
                files[name] = f.read()
        return p, json.loads(files["results.json"]), files["sweep.log"], files["report.md"]

    def assert_the_others_completed(self, p, data, report):
        ctx = data["context"]
        self.assertEqual(ctx["concbench_sweep_status"], "1 of 3 run(s) failed (1 timed out)")
        self.assertRegex(ctx["concbench_sweep_timed_out"],
                         r"^threads/sleep \(after \d+ s, limit 2 s, 1 of 6 benchmark\(s\) "
                         r"finished\)$")
        self.assertNotIn("concbench_partial", ctx, "the merged sweep is not one family's partial")
        ok = [r["run_name"] for r in data["benchmarks"] if not r.get("error_occurred")]
        self.assertEqual([n.split("/")[0] for n in ok], ["sync"] * 3 + ["threads"]
                         + ["processes"] * 2)
        self.assertIn("[3/3] processes/cpu: 2 benchmark(s)", p.stderr)
        self.assertRegex(report, r"- \*\*TIMED OUT\*\* `threads/sleep \(after \d+ s, limit 2 s")

    def test_sigterm_ends_it_and_its_partial_rows_are_kept(self):
        p, data, log, report = self.sweep_with_a_hung_family()
        self.assertRegex(log, r"\nTIMED OUT: threads/sleep after [2-9] s \(limit 2 s\); process "
                              r"group terminated \(SIGTERM\)\n")
        self.assert_the_others_completed(p, data, report)
        cut = [r for r in data["benchmarks"] if r.get("error_occurred")]
        self.assertEqual([(r["run_name"], r["error_message"]) for r in cut],
                         [("threads/sleep/tasks:1/workers:4/sleep_ms:1/real_time",
                           "interrupted by SIGTERM")])
        self.assertIn("## ⚠ Failed benchmarks (1)", report)

    def test_a_family_that_ignores_sigterm_gets_sigkill(self):
        p, data, log, report = self.sweep_with_a_hung_family(FAKE_CONCBENCH_IGNORE_TERM="1")
        self.assertRegex(log, r"\nTIMED OUT: threads/sleep after 1\d s \(limit 2 s\); process "
                              r"group terminated \(SIGKILL after 10 s\)\n")
        self.assert_the_others_completed(p, data, report)
        self.assertFalse(any(r.get("error_occurred") for r in data["benchmarks"]))

    def test_a_negative_limit_is_rejected(self):
        p = subprocess.run([sys.executable, SWEEP, f"--binary={FAKE_BINARY}",
                            f"--out-root={self.root}", "--family-timeout=-1"],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 2)
        self.assertEqual(p.stderr, "sweep: --family-timeout=-1: expected 0 (no limit) or a "
                                   "number of seconds\n")
        self.assertFalse(os.path.exists(self.root))

    def test_the_default_limit_grows_with_the_family(self):
        self.assertEqual(sweep.default_family_timeout(3, 1), 900)
        self.assertEqual(sweep.default_family_timeout(40, 3), 7200)


class EntryPointsTest(unittest.TestCase):
    def test_wrappers_are_executable_and_use_the_interpreter_finder(self):
        for name in ("plot", "report", "sweep", "compare"):
            path = os.path.join(support.SCRIPTS, name)
            self.assertTrue(os.access(path, os.X_OK), name)
            with open(path) as f:
                self.assertIn(f'"$here/python" "$here/{name}.py"', f.read())


if __name__ == "__main__":
    unittest.main()
