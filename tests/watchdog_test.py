#!/usr/bin/env python3
"""Nothing hangs: the concbench binary's deadlines, stall errors, watchdog and signal handling.

Runs the binary with the test-only families of bench/test_hang_bench.cc (CONCBENCH_TEST_HANG)
and real process families with a worker stopped or a SIGTERM sent, and checks what a user sees:
the exit status, the message naming the benchmark or the pid, the partial results file (valid
JSON the scripts read, never looking complete) and that no child process is left behind.

    watchdog_test.py BUILD/concbench
"""
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import unittest

BINARY = None  # set from argv
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "scripts"))
import concbench_results as cr  # noqa: E402

# Bounds are wide: a loaded 2-vCPU machine or a sanitizer build is slow, but a hang is endless.
SLACK_S = 20


def children_of(pid):
    """Pids whose parent is `pid` (zombies included), from /proc."""
    out = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        if int(fields[1]) == pid:
            out.append(int(entry))
    return out


def alive(pid):
    """Whether `pid` still exists as anything but a zombie about to be reaped by init."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2] != "Z"


class Run:
    """concbench started in the background, its output in files."""

    def __init__(self, tmp, *flags, env_hang=None):
        self.out = os.path.join(tmp, "out.json")
        env = dict(os.environ)
        env.pop("CONCBENCH_TEST_HANG", None)
        if env_hang:
            env["CONCBENCH_TEST_HANG"] = env_hang
        self.stderr_path = os.path.join(tmp, "stderr.txt")
        self.stderr = open(self.stderr_path, "w")
        self.started = time.monotonic()
        self.proc = subprocess.Popen(
            [BINARY, "--no_probe", "--display=table", *flags, f"--benchmark_out={self.out}",
             "--benchmark_out_format=json"],
            stdout=subprocess.DEVNULL, stderr=self.stderr, env=env)
        self.seen_children = set()

    def wait_for_children(self, count, within=SLACK_S):
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            kids = children_of(self.proc.pid)
            self.seen_children.update(kids)
            if len(kids) >= count:
                return kids
            time.sleep(0.02)
        raise AssertionError(f"concbench started fewer than {count} children within {within} s")

    def wait(self, within):
        try:
            self.proc.wait(timeout=within)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError(f"concbench still running after {within} s: it hung")
        self.elapsed = time.monotonic() - self.started
        self.stderr.close()
        with open(self.stderr_path) as f:
            self.err = f.read()
        return self.proc.returncode

    def results(self):
        with open(self.out) as f:
            return json.load(f)

    def assert_no_child_left(self, test):
        time.sleep(0.5)  # orphans, if any, would be reparented and still alive
        left = [p for p in self.seen_children if alive(p)]
        test.assertEqual(left, [], f"child processes left behind: {left}\n{self.err}")


def rows(doc, prefix):
    return [b for b in doc["benchmarks"] if b["name"].startswith(prefix)]


class Watchdog(unittest.TestCase):
    def setUp(self):
        self._tmp = tempfile.TemporaryDirectory()
        self.tmp = self._tmp.name

    def tearDown(self):
        self._tmp.cleanup()

    def test_thread_task_that_never_returns_ends_with_the_watchdog(self):
        # A stalled process pool fails its benchmark and the run goes on; a thread-pool task that
        # never returns can only be ended by the watchdog: exit 3, a partial file.
        r = Run(self.tmp, "--suite=smoke", "--benchmark_filter=^(sync/sleep|test.hang/(processes|threads))",
                "--timeout_s=2", env_hang="processes,threads")
        status = r.wait(within=2 + 2 + 2 + SLACK_S)
        self.assertEqual(status, 3, r.err)
        self.assertIn("timed out: test.hang/threads/tasks:2", r.err)
        self.assertIn("past its deadline of 2 s", r.err)
        self.assertIn("outstanding: 0 iteration(s) done of 1", r.err)
        self.assertIn("2 thread-pool task(s) submitted", r.err)
        self.assertIn("exit status 3", r.err)
        doc = r.results()
        ctx = doc["context"]
        self.assertTrue(ctx["concbench_partial"].startswith("timed out: test.hang/threads"), ctx)
        self.assertEqual(ctx["concbench_deadline"], "2 s for every benchmark run")
        self.assertEqual(ctx["concbench_deadline_source"], "--timeout_s")
        self.assertTrue(any(not b.get("error_occurred") for b in rows(doc, "sync/sleep")), doc["benchmarks"])
        stalled = rows(doc, "test.hang/processes")
        self.assertTrue(stalled and stalled[0]["error_occurred"], stalled)
        self.assertIn("stalled", stalled[0]["error_message"])
        self.assertIn("running", stalled[0]["error_message"])
        cut = rows(doc, "test.hang/threads")
        self.assertTrue(cut and cut[0]["error_occurred"], cut)
        # The scripts read it: the finished rows, the failures, the partial mark.
        results = cr.load(r.out)
        self.assertTrue(results.ok())
        self.assertEqual(len(results.failed()), 2)
        self.assertIn("concbench_partial", results.context)

    def test_event_loop_that_never_returns_ends_with_the_watchdog(self):
        r = Run(self.tmp, "--suite=smoke", "--benchmark_filter=^test.hang/async", "--timeout_s=1",
                env_hang="async")
        self.assertEqual(r.wait(within=1 + 2 + SLACK_S), 3, r.err)
        self.assertIn("timed out: test.hang/async", r.err)
        self.assertIn("libuv timer(s) pending", r.err)
        self.assertIn("timed out", r.results()["context"]["concbench_partial"])

    def test_sigstopped_worker_is_named_and_the_run_ends(self):
        # The experiment: a worker stopped mid-run, --timeout_s=3.
        r = Run(self.tmp, "--suite=smoke", "--benchmark_filter=^processes/sleep", "--tasks=40", "--workers=2",
                "--chunksize=1", "--sleep_ms=100", "--timeout_s=3")
        victim = r.wait_for_children(2)[0]
        os.kill(victim, signal.SIGSTOP)
        status = r.wait(within=3 + SLACK_S)
        # The pool's stall error (exit 1) or, when the other worker kept results coming until
        # close to the deadline, the watchdog's (exit 3): either names the stopped worker.
        self.assertIn(status, (1, 3), r.err)
        self.assertRegex(r.err, rf"pid {victim},? stopped \(T\)")
        self.assertLess(r.elapsed, 3 + 2 + SLACK_S)
        r.assert_no_child_left(self)

    def test_sigterm_and_sigint_reap_every_child_and_keep_partial_results(self):
        for sig, status in ((signal.SIGTERM, 143), (signal.SIGINT, 130)):
            with self.subTest(signal=sig.name):
                r = Run(self.tmp, "--suite=smoke", "--benchmark_filter=^processes/sleep", "--tasks=40",
                        "--workers=2", "--sleep_ms=1000")
                r.wait_for_children(2)
                os.kill(r.proc.pid, sig)
                self.assertEqual(r.wait(within=SLACK_S), status, r.err)
                self.assertIn(f"interrupted by {sig.name} during processes/sleep", r.err)
                self.assertIn(f"interrupted by {sig.name}", r.results()["context"]["concbench_partial"])
                r.assert_no_child_left(self)

    def test_default_deadline_is_recorded(self):
        r = Run(self.tmp, "--suite=smoke", "--benchmark_filter=^sync/sleep")
        self.assertEqual(r.wait(within=60), 0, r.err)
        ctx = r.results()["context"]
        self.assertEqual(ctx["concbench_deadline"], "the larger of 60 s and 10 x each run's planned time")
        self.assertEqual(ctx["concbench_deadline_source"], "default")
        self.assertNotIn("concbench_partial", ctx)

    def test_bad_timeout_is_refused(self):
        for value in ("-1", "abc", "", "1e9", "nan"):
            with self.subTest(value=value):
                p = subprocess.run([BINARY, f"--timeout_s={value}"], capture_output=True, text=True, timeout=60)
                self.assertEqual(p.returncode, 2, p.stderr)
                self.assertIn("--timeout_s needs a number of seconds", p.stderr)


if __name__ == "__main__":
    BINARY = sys.argv.pop(1)
    unittest.main()
