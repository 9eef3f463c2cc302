"""scripts/sweep.py reading the real concbench binary's --help.

The other sweep tests run a fake binary that prints --help in the format sweep.py expects, so
they cannot see the real binary's format change. These run the real one: ctest passes its path
in CONCBENCH_BINARY (tests/scripts.cmake); run by hand without it, they are skipped:

    CONCBENCH_BINARY=build/release/concbench /usr/bin/python3 -m unittest -v test_sweep_help
"""
import os
import re
import subprocess
import sys
import unittest

import support

import sweep

BINARY = os.environ.get("CONCBENCH_BINARY")

# bench/options.cc's kArgs, written out: every grid flag with its range and meaning.
GRID_FLAGS = {
    "tasks": (1, 1000000, "tasks per batch"),
    "workers": (1, 4096, "worker threads or processes"),
    "sleep_ms": (0, 60000, "simulated I/O per task, milliseconds"),
    "sleep_us": (0, 60000000, "simulated I/O per task, microseconds"),
    "chunksize": (1, 1000000, "tasks per message to a worker"),
    "n": (0, 1000000000, "CPU work size (cpu_intensivo's n)"),
    "payload": (0, 16777216, "bytes per task crossing a process or socket boundary"),
    "threads": (1, 4096, "threads incrementing a shared counter"),
    "increments": (1, 100000000, "increments per thread"),
    "delay_ms": (0, 60000, "echo server's delay before answering, milliseconds"),
    "stack_kib": (16, 1048576, "thread stack size, KiB"),
    "cpu_us": (0, 10000000, "CPU per step of a mixed task, microseconds of cpu_intensivo"),
    "io_ms": (0, 60000, "wait per step of a mixed task, milliseconds"),
    "steps": (1, 100, "rounds of compute then wait in a mixed task"),
}


@unittest.skipUnless(BINARY, "no concbench binary: ctest passes it in CONCBENCH_BINARY "
                     "(tests/scripts.cmake); set CONCBENCH_BINARY to run these by hand")
class RealBinaryHelpTest(unittest.TestCase):
    def setUp(self):
        self.assertTrue(os.access(BINARY, os.X_OK),
                        f"CONCBENCH_BINARY={BINARY} is not an executable file")

    def help_text(self):
        p = subprocess.run([BINARY, "--help"], capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        return p.stdout

    def lists_tests(self, *flags):
        """Whether the binary accepts the flags (listing the sweep suite, running nothing)."""
        p = subprocess.run([BINARY, "--suite=sweep", *flags, "--benchmark_list_tests=true"],
                           capture_output=True, text=True, timeout=60)
        return p.returncode == 0

    def test_finds_every_grid_flag_with_its_range_and_meaning(self):
        self.assertEqual(sweep.grid_keys(BINARY), GRID_FLAGS)

    def test_every_flag_the_help_documents_is_parsed(self):
        # Every line naming a --KEY=LIST flag, whatever follows it: a line the parser no longer
        # matches (a new range format, say) is quoted in the failure.
        lines = [x for x in self.help_text().splitlines()
                 if re.match(r"\s*--[a-z_][a-z0-9_]*=LIST\b", x)]
        self.assertGreaterEqual(len(lines), len(GRID_FLAGS))
        self.assertEqual([x for x in lines if not sweep._HELP_FLAG_RE.match(x)], [],
                         "--help lines that sweep.py's parser does not match")
        documented = [re.match(r"\s*--([a-z_][a-z0-9_]*)=", x).group(1) for x in lines]
        self.assertEqual(list(sweep.grid_keys(BINARY)), documented)

    def test_the_ranges_read_are_the_ones_the_binary_enforces(self):
        for key, (lo, hi, _) in sweep.grid_keys(BINARY).items():
            with self.subTest(key=key):
                self.assertTrue(self.lists_tests(f"--{key}={lo},{hi}"), f"{lo},{hi} rejected")
                self.assertFalse(self.lists_tests(f"--{key}={hi + 1}"), f"{hi + 1} accepted")
                self.assertFalse(self.lists_tests(f"--{key}={lo - 1}"), f"{lo - 1} accepted")

    def test_the_plan_lists_what_the_binary_runs_each_with_its_seconds(self):
        plan = sweep.list_benchmarks(BINARY, "notebook", [], 5, ["--benchmark_min_time=0.2"])
        p = subprocess.run([BINARY, "--suite=notebook", "--benchmark_list_tests=true"],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(list(plan), p.stdout.split())
        self.assertTrue(all(s > 0 for s in plan.values()), plan)
        # 5 × 500 ms, one iteration a repetition; an adaptive family: 5 × the minimum time.
        self.assertEqual(plan["sync/sleep/tasks:5/sleep_ms:500/iterations:1/real_time"], 12.5)
        self.assertEqual(plan["async/startup/real_time"], 1.0)

    def test_sweep_rejects_a_value_out_of_the_binarys_range_before_running(self):
        p = subprocess.run([sys.executable, os.path.join(support.SCRIPTS, "sweep.py"),
                            f"--binary={BINARY}", "--dry-run", "--payload=0,16777217"],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertEqual(p.stderr, "sweep: payload: 16777217 is out of range; expected integers "
                         "in [0, 16777216] (bytes per task crossing a process or socket "
                         "boundary)\n")
        self.assertEqual(p.stdout, "")


if __name__ == "__main__":
    unittest.main()
