#!/usr/bin/env python3
"""Smoke run of the concbench binary: --suite=smoke must finish, write well-formed JSON whose
names follow the schema's grammar and whose counters are present and verified, and bad flags
must fail with a clear message and a non-zero exit."""
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import unittest

BINARY = None  # set from argv

# <model>[.<variant>]/<workload>/<arg>:<value>/.../[iterations:N/]real_time
NAME_RE = re.compile(
    r"^[a-z][a-z_]*(\.[a-z_]+)*/[a-z][a-z_]*(/[a-z_]+:\d+)*(/iterations:\d+)?/real_time$")
MODEL_COUNTERS = ("ideal_s", "overhead_s", "efficiency", "checksum", "cpu_util", "ctx_switches")


def python_checksum(workload, args):
    """The checksum the notebook's own Python would compute for a CPU family (None otherwise)."""
    if workload not in ("cpu", "trabajo", "tarea_normal"):
        return None
    tasks = args["tasks"]
    if workload == "cpu":
        return tasks * sum((i * i) % 97 for i in range(args["n"]))
    if workload == "trabajo":
        return sum(sum((x + i) % 97 for i in range(50_000)) for x in range(tasks))
    if workload == "tarea_normal":
        return sum(sum((x + i) % 101 for i in range(300_000)) for x in range(tasks))
    return None


def parse_name(name):
    parts = name.split("/")
    args = {}
    for p in parts[2:]:
        if ":" in p:
            k, v = p.split(":", 1)
            args[k] = int(v)
    return parts[0], parts[1], args


def run(*flags, timeout=240):
    return subprocess.run([BINARY, *flags], capture_output=True, text=True, timeout=timeout)


def table_workloads():
    """The workloads of the binary's table (--list_workloads): every row of theirs carries the
    full model counter set."""
    return {w["name"] for w in json.loads(run("--list_workloads", timeout=60).stdout)["workloads"]}


class SmokeRun(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.out = os.path.join(cls.tmp.name, "smoke.json")
        cls.proc = run("--suite=smoke", f"--benchmark_out={cls.out}", "--benchmark_out_format=json")

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def test_exits_zero(self):
        self.assertEqual(self.proc.returncode, 0, self.proc.stderr + self.proc.stdout)

    def load(self):
        with open(self.out) as f:
            return json.load(f)

    def test_context_names_the_run(self):
        ctx = self.load()["context"]
        for key in ("concbench_version", "concbench_git_commit", "concbench_build_type",
                    "concbench_suite", "libuv_version", "usable_cores", "hostname"):
            self.assertIn(key, ctx)
        self.assertEqual(ctx["concbench_suite"], "smoke")

    def test_the_machine_probe_is_in_the_context_at_both_ends(self):
        ctx = self.load()["context"]
        for key in ("machine_parallel_capacity", "machine_smt", "machine_wakeup_us",
                    "machine_sleep_overshoot_us", "machine_fork_us", "machine_noise_cv",
                    "machine_load", "machine_governor", "machine_turbo", "machine_virtualized",
                    "machine_parallel_capacity_end", "machine_noise_cv_end",
                    "machine_core_ns_per_step", "machine_core_ns_per_step_end"):
            self.assertIn(key, ctx)
        self.assertGreater(float(ctx["machine_parallel_capacity"]), 0)

    def test_a_complete_run_is_not_marked_partial(self):
        self.assertNotIn("concbench_partial", self.load()["context"])

    def test_names_follow_the_grammar(self):
        rows = self.load()["benchmarks"]
        self.assertGreater(len(rows), 0)
        for r in rows:
            self.assertRegex(r["name"], NAME_RE)

    def test_no_errors_and_model_counters_present(self):
        workloads = table_workloads()
        self.assertTrue({"sleep", "cpu", "trabajo", "tarea_normal", "echo"} <= workloads, workloads)
        for r in self.load()["benchmarks"]:
            self.assertFalse(r.get("error_occurred", False), r)
            _, workload, _ = parse_name(r["name"])
            if workload in workloads:
                for c in MODEL_COUNTERS:
                    self.assertIn(c, r, r["name"])
                self.assertGreater(r["efficiency"], 0, r["name"])
                self.assertGreaterEqual(r["ideal_s"], 0, r["name"])

    def test_cpu_checksums_match_python(self):
        checked = 0
        for r in self.load()["benchmarks"]:
            _, workload, args = parse_name(r["name"])
            want = python_checksum(workload, args)
            if want is not None:
                self.assertEqual(int(r["checksum"]), want, r["name"])
                checked += 1
        self.assertGreater(checked, 0)

    def test_the_loop_runs_cpu_work_offloaded(self):
        # async/cpu, async/trabajo and async/tarea_normal were renamed async.offload/...
        names = [r["name"] for r in self.load()["benchmarks"]]
        for workload in ("cpu", "trabajo", "tarea_normal"):
            self.assertTrue(any(n.startswith(f"async.offload/{workload}/") for n in names), workload)
            self.assertFalse(any(n.startswith(f"async/{workload}/") for n in names), workload)

    def test_a_warm_pools_messages_are_the_timed_batches_only(self):
        # A pool runs one untimed batch before its timed loop (its warm-up); its counters must
        # not count it: every chunk is one message out and one back, per timed batch.
        checked = 0
        for r in self.load()["benchmarks"]:
            model, workload, args = parse_name(r["name"])
            if model != "processes" or "chunksize" not in args or workload == "roundtrip":
                continue
            chunks = -(-args["tasks"] // args["chunksize"])
            self.assertEqual(r["ipc_messages"], 2 * chunks, r["name"])
            checked += 1
        self.assertGreater(checked, 5)

    def test_sleep_checksums_count_every_task(self):
        for r in self.load()["benchmarks"]:
            _, workload, args = parse_name(r["name"])
            if workload == "sleep" and "tasks" in args:
                t = args["tasks"]
                self.assertEqual(int(r["checksum"]), t * (t + 1) // 2, r["name"])


class NoMachineIdeal(unittest.TestCase):
    """--no_machine_ideal skips the calibration before each repetition: the counters it gives are
    absent, the others are not, and the plan no longer counts its time."""
    FILTER = "--benchmark_filter=^(threads|processes)/cpu/"
    COUNTERS = ("machine_ideal_s", "machine_capacity", "machine_efficiency")

    def rows(self, *flags):
        with tempfile.TemporaryDirectory() as tmp:
            out = os.path.join(tmp, "out.json")
            p = run("--suite=smoke", "--no_probe", self.FILTER, *flags,
                    f"--benchmark_out={out}", "--benchmark_out_format=json", timeout=120)
            self.assertEqual(p.returncode, 0, p.stderr[-2000:])
            with open(out) as f:
                data = json.load(f)
        self.assertEqual(len(data["benchmarks"]), 2)
        return data

    def planned_setup(self, *flags):
        p = run("--suite=smoke", self.FILTER, *flags, "--list_planned", timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        return sum(b["setup_s"] for b in json.loads(p.stdout)["benchmarks"])

    def test_its_counters_are_absent_and_the_others_present(self):
        for r in self.rows()["benchmarks"]:
            for c in self.COUNTERS:
                self.assertIn(c, r, r["name"])
        data = self.rows("--no_machine_ideal")
        self.assertIn("no_machine_ideal", data["context"]["concbench_options"])
        for r in data["benchmarks"]:
            for c in self.COUNTERS:
                self.assertNotIn(c, r, r["name"])
            for c in MODEL_COUNTERS:
                self.assertIn(c, r, r["name"])

    def test_the_plan_leaves_out_its_time(self):
        self.assertLess(self.planned_setup("--no_machine_ideal") + 0.05, self.planned_setup())


@unittest.skipIf(os.environ.get("CONCBENCH_SANITIZE"),
                 "sanitizer runtimes need descriptors, threads and address space of their own")
class Faults(unittest.TestCase):
    """Limits hit mid-run: the failing benchmarks say why, the others still run, the JSON is
    complete and marks the failures, and the binary exits 1 instead of crashing or hanging."""

    def run_limited(self, preexec):
        with tempfile.TemporaryDirectory() as tmp:
            os.chmod(tmp, 0o777)  # the unprivileged run must be able to write its JSON
            out = os.path.join(tmp, "faults.json")
            p = subprocess.run([BINARY, "--suite=smoke", f"--benchmark_out={out}",
                                "--benchmark_out_format=json"], preexec_fn=preexec,
                               capture_output=True, text=True, timeout=240, cwd=tmp)
            self.assertEqual(p.returncode, 1, p.stderr[-2000:])
            with open(out) as f:
                rows = json.load(f)["benchmarks"]
        failed = {r["name"]: r["error_message"] for r in rows if r.get("error_occurred")}
        self.assertGreater(len(failed), 0)
        self.assertGreater(len(rows) - len(failed), 0, "the benchmarks that need no more "
                           "descriptors or threads still ran")
        for name in failed:
            self.assertIn(name, p.stderr)  # listed in the summary on stderr
        return failed

    def test_descriptor_limit(self):
        failed = self.run_limited(lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (10, 10)))
        self.assertTrue(any(n.startswith("processes/") for n in failed), failed)
        self.assertTrue(any("/echo/" in n for n in failed), failed)
        for name, msg in failed.items():
            self.assertRegex(msg, r"(?i)too many open files|EMFILE|RLIMIT_NOFILE", name)

    def test_thread_and_process_limit(self):
        def limit():
            if os.geteuid() == 0:  # RLIMIT_NPROC does not bind root
                os.setgid(65534)
                os.setuid(65534)
            resource.setrlimit(resource.RLIMIT_NPROC, (4, 4))  # 3 + the watchdog thread
        failed = self.run_limited(limit)
        for prefix in ("threads.per_task/", "processes.per_task/"):
            self.assertTrue(any(n.startswith(prefix) for n in failed), (prefix, failed))
        for name, msg in failed.items():
            self.assertIn("Resource temporarily unavailable", msg, name)


class Probe(unittest.TestCase):
    def test_probe_prints_a_card_and_exits_zero(self):
        p = run("--probe", timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("parallel capacity", p.stdout)
        self.assertLessEqual(len(p.stdout.splitlines()), 15)

    def test_probe_with_a_suite_or_a_filter_is_refused(self):
        for flags in (["--probe", "--suite=smoke"], ["--probe", "--benchmark_filter=sync"],
                      ["--probe", "--tasks=4"]):
            p = run(*flags, timeout=60)
            self.assertEqual(p.returncode, 2, flags)
            self.assertIn("--probe measures the machine and runs no benchmark", p.stderr)


class BadInput(unittest.TestCase):
    def assert_fails(self, *flags, mentions):
        p = run(*flags, timeout=60)
        self.assertNotEqual(p.returncode, 0, flags)
        for m in mentions:
            self.assertIn(m, p.stderr + p.stdout, flags)

    def test_bad_suite(self):
        self.assert_fails("--suite=fast", mentions=["--suite", "'fast'", "notebook, smoke, sweep"])

    def test_bad_grid_override(self):
        self.assert_fails("--suite=smoke", "--tasks=0", mentions=["--tasks", "'0'"])
        self.assert_fails("--suite=smoke", "--workers=abc", mentions=["--workers", "'abc'"])

    def test_bad_google_benchmark_flag_value(self):
        self.assert_fails("--suite=smoke", "--benchmark_repetitions=-3",
                          mentions=["--benchmark_repetitions", "'-3'"])
        self.assert_fails("--suite=smoke", "--benchmark_format=xml",
                          mentions=["--benchmark_format", "'xml'"])

    def test_unwritable_output(self):
        self.assert_fails("--suite=smoke", "--benchmark_out=/nonexistent/dir/x.json",
                          mentions=["--benchmark_out", "/nonexistent/dir", "No such file"])

    def test_unknown_flag(self):
        self.assert_fails("--suite=smoke", "--no_such_flag=1", mentions=["no_such_flag"])

    def test_invalid_filter_regex_is_refused_with_its_reason_before_anything_runs(self):
        p = run("--suite=smoke", "--benchmark_filter=(", timeout=60)
        self.assertEqual(p.stderr, "concbench: --benchmark_filter: '(' is not a valid regular expression "
                                   "(Mismatched '(' and ')' in regular expression)\n")
        self.assertEqual(p.returncode, 2)
        self.assertEqual(p.stdout, "")  # no probe, no context, no benchmark

    def test_filter_matching_nothing(self):
        self.assert_fails("--suite=smoke", "--benchmark_filter=^nothing_matches$",
                          mentions=["no benchmark matched"])

    def test_override_changes_the_names(self):
        p = run("--suite=smoke", "--benchmark_filter=^sync/sleep", "--tasks=3", "--sleep_ms=0",
                "--benchmark_list_tests=true", timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("sync/sleep/tasks:3/sleep_ms:0/", p.stdout)


if __name__ == "__main__":
    BINARY = sys.argv.pop(1)
    unittest.main(verbosity=2)
