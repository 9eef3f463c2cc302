"""Traces (concbench --trace, notebook_python.py --trace): the validator against the format's
rules, then the traces the real binary and the Python runner write: valid, exactly `tasks` task
events per traced batch, each inside its batch, every step inside its task, a process model's
tasks on its worker processes' lanes, and an unwritable path refused in one line before anything
runs. The binary's path comes in CONCBENCH_BINARY (tests/scripts.cmake); without it those parts
skip:

    CONCBENCH_BINARY=build/release/concbench /usr/bin/python3 -m unittest -v test_trace
"""
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import unittest

import support

import concbench_results as cr
import trace_read as tr

BINARY = os.environ.get("CONCBENCH_BINARY")
RUNNER = os.path.join(support.SCRIPTS, "notebook_python.py")
TABLES = support.fixture("concbench_tables.json")
SLACK_US = 1.0  # ts and dur are rounded to the nanosecond: a child may end a rounding later

# A small valid trace: one benchmark, a batch, a task with a 500 ms sleep step, an instant.
BENCH = "threads/sleep/tasks:1/workers:1/sleep_ms:500/real_time"


def small_trace():
    return {"displayTimeUnit": "ms", "traceEvents": [
        {"ph": "M", "pid": 1, "name": "process_name", "args": {"name": BENCH}},
        {"ph": "M", "pid": 1, "tid": 0, "name": "thread_name", "args": {"name": "the batch"}},
        {"ph": "M", "pid": 1, "tid": 7, "name": "thread_name", "args": {"name": "thread (tid 7)"}},
        {"ph": "M", "pid": 1, "tid": 7, "name": "thread_sort_index", "args": {"sort_index": 1}},
        {"name": "batch", "cat": "batch", "ph": "X", "pid": 1, "tid": 0, "ts": 0, "dur": 500100,
         "args": {"tasks": 1, "ideal_s": 0.5, "measured_s": 0.5001}},
        {"name": "task 0", "cat": "task", "ph": "X", "pid": 1, "tid": 7, "ts": 10, "dur": 500050,
         "args": {"task": 0, "input": 0}},
        {"name": "sleep 500 ms", "cat": "step", "ph": "X", "pid": 1, "tid": 7, "ts": 12,
         "dur": 500040, "args": {"task": 0, "input": 0, "step": 0}},
        {"name": "chunk sent", "cat": "model", "ph": "i", "s": "t", "pid": 1, "tid": 7,
         "ts": 5, "args": {}},
    ]}


class ValidatorTest(unittest.TestCase):
    def broken(self, change):
        data = small_trace()
        change(data["traceEvents"])
        return tr.validate(data)

    def assert_breaks(self, change, words):
        problems = self.broken(change)
        self.assertTrue(problems, "the validator accepted a broken trace")
        self.assertIn(words, " ".join(problems))

    def test_accepts_a_trace_that_keeps_every_rule(self):
        self.assertEqual(tr.validate(small_trace()), [])

    def test_needs_a_trace_events_list(self):
        self.assertEqual(tr.validate({"traceEvents": {}}),
                         ["not an object with a \"traceEvents\" list"])
        self.assertTrue(tr.validate([]))

    def test_every_event_has_name_ph_and_pid(self):
        for key in ("name", "ph", "pid"):
            self.assert_breaks(lambda ev, key=key: ev[5].pop(key), f"has no {key}")

    def test_complete_events_have_a_ts_and_a_duration_that_are_not_negative(self):
        self.assert_breaks(lambda ev: ev[5].update(dur=-1), "dur ≥ 0")
        self.assert_breaks(lambda ev: ev[5].pop("dur"), "dur ≥ 0")
        self.assert_breaks(lambda ev: ev[5].update(ts=-3), "ts ≥ 0")
        self.assert_breaks(lambda ev: ev[5].update(ts="10"), "ts ≥ 0")
        self.assert_breaks(lambda ev: ev[5].update(ts=float("nan")), "ts ≥ 0")

    def test_instants_have_a_ts_and_a_scope(self):
        self.assert_breaks(lambda ev: ev[7].pop("s"), "scope")
        self.assert_breaks(lambda ev: ev[7].pop("ts"), "instant without a numeric ts")

    def test_metadata_has_no_ts_a_known_name_and_args(self):
        self.assert_breaks(lambda ev: ev[0].update(ts=0), "metadata with a ts")
        self.assert_breaks(lambda ev: ev[0].update(name="process_label"), "metadata named")
        self.assert_breaks(lambda ev: ev[0].pop("args"), "metadata without args")

    def test_tids_fit_in_32_bits(self):
        self.assert_breaks(lambda ev: [e.update(tid=2 ** 40) for e in ev if e.get("tid") == 7],
                           "within 32 bits")
        self.assert_breaks(lambda ev: ev[5].update(tid="7"), "within 32 bits")

    def test_times_are_microseconds(self):
        # The 500 ms sleep written in nanoseconds, then in milliseconds.
        self.assert_breaks(lambda ev: ev[6].update(dur=500_040_000), "not in microseconds")
        self.assert_breaks(lambda ev: ev[6].update(dur=500.04), "not in microseconds")

    def test_every_process_and_lane_with_events_is_named(self):
        self.assert_breaks(lambda ev: ev.pop(0), "process 1 has events but no process_name")
        self.assert_breaks(lambda ev: ev.pop(2), "lane 7 of process 1 has events but no "
                           "thread_name")


def check_batches(test, data, expect_names=None):
    """The per-benchmark rules: exactly `tasks` task events (the name's tasks, or threads),
    each inside its batch; each step inside its task; a process model's tasks on its workers'
    lanes (workers are other processes). Returns the traced benchmarks."""
    test.assertEqual(tr.validate(data), [])
    procs = [p for p in tr.processes(data) if p.batch is not None]
    if expect_names is not None:
        test.assertEqual(sorted(p.name for p in procs), sorted(expect_names))
    for p in procs:
        with test.subTest(benchmark=p.name):
            parsed = cr.parse_name(p.name)
            want = parsed.args.get("tasks", parsed.args.get("threads"))
            test.assertEqual(len(p.tasks), want, "task events")
            test.assertEqual(p.batch.args.get("tasks"), want)
            test.assertEqual(p.batch.args.get("tasks_left_out", 0), 0)
            end = p.batch.dur + SLACK_US / 1e6
            for t in p.tasks:
                test.assertGreaterEqual(t.t, -SLACK_US / 1e6, t)
                test.assertLessEqual(t.end, end, t)
            test.assertEqual(sorted(t.args["task"] for t in p.tasks), list(range(want)))
            by_index = {t.args["task"]: t for t in p.tasks}
            for s in p.steps:
                task = by_index[s.args["task"]]
                test.assertGreaterEqual(s.t, task.t - SLACK_US / 1e6, (s, task))
                test.assertLessEqual(s.end, task.end + SLACK_US / 1e6, (s, task))
            lanes = {lane.tid: lane for lane in p.lanes}
            if parsed.model == "processes":
                kinds = {lanes[t.tid].kind for t in p.tasks}
                test.assertEqual(kinds, {"worker"}, "a process model's tasks run in its workers")
                test.assertTrue(all(t.tid == lanes[t.tid].unit for t in p.tasks),
                                "a worker's lane is its pid")
    return procs


@unittest.skipUnless(BINARY, "no concbench binary: ctest passes it in CONCBENCH_BINARY "
                     "(tests/scripts.cmake); set CONCBENCH_BINARY to run these by hand")
class BinaryTraceTest(unittest.TestCase):
    def run_binary(self, *flags, timeout=240):
        tmp = tempfile.TemporaryDirectory()
        self.addCleanup(tmp.cleanup)
        trace = os.path.join(tmp.name, "t.json")
        out = os.path.join(tmp.name, "r.json")
        p = subprocess.run([BINARY, "--no_probe", *flags, f"--trace={trace}",
                            f"--benchmark_out={out}"], capture_output=True, text=True,
                           timeout=timeout, cwd=tmp.name)
        self.assertEqual(p.returncode, 0, p.stderr[-2000:])
        with open(out) as f:
            ran = {r["run_name"] for r in json.load(f)["benchmarks"]}
        return tr.load(trace), ran

    def test_notebook_threads_sleep_trace(self):
        data, ran = self.run_binary("--suite=notebook", "--benchmark_filter=^threads/sleep")
        procs = check_batches(self, data, ran)
        self.assertEqual(len(procs), 2)
        for p in procs:
            sleep_us = cr.parse_name(p.name).args["sleep_ms"] * 1000
            for s in p.steps:
                self.assertGreaterEqual(s.dur * 1e6, sleep_us)  # µs: a sleep never ends early

    def test_one_family_of_every_model_that_runs_tasks(self):
        """For each model of the binary's table that runs steps, its first benchmark of the
        smoke suite (one with compute and wait steps where the smoke suite has one)."""
        models = json.loads(subprocess.run([BINARY, "--list_models"], capture_output=True,
                                           text=True, timeout=60, check=True).stdout)["models"]
        runners = [m["name"] for m in models if m.get("steps")]
        planned = json.loads(subprocess.run([BINARY, "--suite=smoke", "--list_planned"],
                                            capture_output=True, text=True, timeout=60,
                                            check=True).stdout)["benchmarks"]
        chosen = []
        for model in runners:
            mine = [b["name"] for b in planned if cr.parse_name(b["name"]).model_full == model
                    and "tasks" in cr.parse_name(b["name"]).args]
            self.assertTrue(mine, f"the smoke suite has no batch benchmark of {model}")
            chosen.append(next((n for n in mine if "/mixed/" in n), mine[0]))
        data, ran = self.run_binary(
            "--suite=smoke", "--benchmark_filter=^(" + "|".join(map(re.escape, chosen)) + ")$")
        self.assertEqual(sorted(ran), sorted(chosen))
        procs = check_batches(self, data, chosen)
        self.assertEqual({cr.parse_name(p.name).model_full for p in procs}, set(runners))

    def test_an_unwritable_trace_path_is_one_line_and_exit_2_before_anything_runs(self):
        started = time.monotonic()
        p = subprocess.run([BINARY, "--no_probe", "--suite=notebook",
                            "--benchmark_filter=^sync/sleep",
                            "--trace=/nonexistent-folder/t.json"],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 2, p.stderr)
        lines = [x for x in p.stderr.splitlines() if x.strip()]
        self.assertEqual(len(lines), 1, p.stderr)
        self.assertIn("/nonexistent-folder/t.json", lines[0])
        self.assertNotIn("sync/sleep", p.stdout)  # no benchmark ran (§1 alone takes 2.5 s)
        self.assertLess(time.monotonic() - started, 2.0)

    def test_a_trace_path_that_is_a_folder_is_refused_before_anything_runs(self):
        with tempfile.TemporaryDirectory() as tmp:
            folder = os.path.join(tmp, "a_folder")
            os.mkdir(folder)
            p = subprocess.run([BINARY, "--no_probe", "--suite=smoke",
                                "--benchmark_filter=^sync/sleep", f"--trace={folder}"],
                               capture_output=True, text=True, timeout=60)
            self.assertEqual(os.listdir(tmp), ["a_folder"])
            self.assertEqual(p.returncode, 2, p.stderr)


class PythonTraceTest(unittest.TestCase):
    def test_the_notebook_module_is_patched_only_while_a_cell_is_traced(self):
        import contextlib
        import io

        import notebook_code as nb
        import notebook_trace as nt
        names = (*nt.TASK_FUNCTIONS, "time", "asyncio", "time_block", "ProcessPoolExecutor")
        before = {n: getattr(nb, n) for n in names}

        def cell():
            nb.configure(SINCRONO_TAREAS=2, SINCRONO_SLEEP_S=0.001)
            try:
                nb.tiempos.clear()
                with contextlib.redirect_stdout(io.StringIO()):
                    nb.cell_1()
                return nb.tiempos[-1]
            finally:
                nb.configure(SINCRONO_TAREAS=5, SINCRONO_SLEEP_S=0.5)

        def failing():
            raise RuntimeError("the cell broke")
        with tempfile.TemporaryDirectory() as tmp:
            trace = nt.TraceFile(os.path.join(tmp, "t.json"))
            trace.add("python.sync/sleep/tasks:2/sleep_ms:1/real_time", cell, 0.002)
            trace.add("python.sync/sleep/tasks:1/sleep_ms:1/real_time", failing)
            data = tr.load(trace.path)
        self.assertEqual([n for n in names if getattr(nb, n) is not before[n]], [])
        ok, failed = tr.processes(data)
        self.assertEqual([t.args["function"] for t in ok.tasks], ["tarea_bloqueante"] * 2)
        self.assertEqual([s.name for s in ok.steps], ["sleep 1 ms"] * 2)
        self.assertEqual(ok.batch.args["ideal_s"], 0.002)
        self.assertEqual(failed.batch.args["error"], "the cell broke")
        self.assertIn("error: the cell broke", [e.name for e in failed.model])

    def test_quick_cells_trace(self):
        with tempfile.TemporaryDirectory() as tmp:
            trace, out = os.path.join(tmp, "py.json"), os.path.join(tmp, "r.json")
            p = subprocess.run([sys.executable, RUNNER, "--quick", "--repetitions=1",
                                f"--cells={TABLES}", "--quiet", f"--trace={trace}", "-o", out],
                               capture_output=True, text=True, timeout=240)
            self.assertEqual(p.returncode, 0, p.stderr)
            data = tr.load(trace)
            with open(out) as f:
                ran = {r["run_name"] for r in json.load(f)["benchmarks"]}
        # Every benchmark whose cell calls the notebook's task functions; the others are named.
        not_traced = [n.partition(": ")[0] for n in data["otherData"]["not_traced"]]
        self.assertEqual([n for n in not_traced if "/alloc/" not in n], [])
        procs = check_batches(self, data, ran - set(not_traced))
        for p in procs:
            lanes = {lane.kind for lane in p.lanes if any(t.tid == lane.tid for t in p.tasks)}
            parsed = cr.parse_name(p.name)
            with self.subTest(benchmark=p.name):
                expected = {"processes": {"worker"}, "async": {"loop"}}.get(parsed.model,
                                                                             {"main", "thread"})
                self.assertLessEqual(lanes, expected)
                if parsed.model == "processes":
                    self.assertTrue(any(e.name.startswith("start the pool") for e in p.model))
                    self.assertGreater(p.tasks[0].t, 0)  # the pool starts inside the batch
                if "sleep_ms" in parsed.args:
                    self.assertEqual(len(p.steps), len(p.tasks))
                    self.assertEqual({s.name for s in p.steps},
                                     {f"sleep {parsed.args['sleep_ms']} ms"})

    def test_an_unwritable_trace_path_is_one_line_and_exit_2_before_anything_runs(self):
        p = subprocess.run([sys.executable, RUNNER, "--quick", f"--cells={TABLES}",
                            "--trace=/nonexistent-folder/py.json"],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 2)
        self.assertEqual(p.stderr.splitlines(), [
            "fatal: --trace=/nonexistent-folder/py.json: cannot write in /nonexistent-folder: "
            "No such file or directory"])
        self.assertEqual(p.stdout, "")
        with tempfile.TemporaryDirectory() as tmp:
            p = subprocess.run([sys.executable, RUNNER, "--quick", f"--cells={TABLES}",
                                f"--trace={tmp}"], capture_output=True, text=True, timeout=60)
            self.assertEqual(p.returncode, 2)
            self.assertEqual(p.stderr.splitlines(),
                             [f"fatal: --trace={tmp}: is a folder; expected a file path"])


if __name__ == "__main__":
    unittest.main()
