"""scripts/notebook_mixed.py: the notebook's Python on mixed tasks and on the crossovers. Its
checksums in closed form against the notebook's own functions, the ideal on the literal case of
measure/ideal.h, the twins' names against the real binary's (arguments and their order), a tiny
live run of every runner with its checksums verified, a wrong checksum caught, and a name it
cannot run refused in one line.

The name tests run the real binary, whose path comes in CONCBENCH_BINARY (tests/scripts.cmake);
without it they are skipped:

    CONCBENCH_BINARY=build/release/concbench /usr/bin/python3 -m unittest -v test_notebook_mixed
"""
import json
import os
import subprocess
import sys
import tempfile
import unittest

import support

import concbench_results as cr
import notebook_code as nb
import notebook_mixed as nm

BINARY = os.environ.get("CONCBENCH_BINARY")
RUNNER = os.path.join(support.SCRIPTS, "notebook_mixed.py")


class ClosedFormTest(unittest.TestCase):
    def test_cpu_intensivo_sum_is_the_notebooks_function(self):
        self.assertEqual(nm.cpu_intensivo_sum(200_000), 9_600_239)  # what the notebook printed
        for n in (0, 1, 96, 97, 98, 12_345):
            self.assertEqual(nm.cpu_intensivo_sum(n), nb.cpu_intensivo(n), n)

    def test_trabajo_sum_is_the_notebooks_function(self):
        self.assertEqual(sum(nm.trabajo_sum(x) for x in range(200)), 479_993_655)
        for x in (0, 1, 96, 97, 1999):
            self.assertEqual(nm.trabajo_sum(x), nb.trabajo(x), x)


class IdealTest(unittest.TestCase):
    # measure/ideal.h: 4 tasks of 1 ms CPU + 10 ms wait.
    CPU, WAIT = [1e-3] * 4, 10e-3

    def ideal(self, lanes, slots, chunksize=1):
        return nm.batch_ideal_s(self.CPU, self.WAIT, self.WAIT, lanes, slots, chunksize)

    def test_the_literal_case_on_each_shape(self):
        self.assertAlmostEqual(self.ideal(1, 1), 0.044)   # sync
        self.assertAlmostEqual(self.ideal(2, 1), 0.022)   # threads on 2 workers (the GIL)
        self.assertAlmostEqual(self.ideal(2, 2), 0.022)   # processes on 2 workers
        self.assertAlmostEqual(self.ideal(0, 1), 0.014)   # asyncio computing inline
        self.assertAlmostEqual(self.ideal(0, 2), 0.012)   # asyncio offloading to 2 processes

    def test_makespan_hands_chunks_to_the_first_free_worker(self):
        self.assertAlmostEqual(nm.makespan([1, 1, 1, 1, 1], 2, 1), 3)
        self.assertAlmostEqual(nm.makespan([1, 1, 1, 1, 1], 2, 2), 3)   # chunks 2, 2, 1
        self.assertAlmostEqual(nm.makespan([1, 1, 1, 1, 1], 2, 5), 5)   # one chunk: one worker
        self.assertEqual(nm.makespan([], 2, 1), 0.0)


class TwinNameTest(unittest.TestCase):
    def test_twins_keep_the_cpp_arguments_in_order_and_add_uvloop_after_asyncio(self):
        cpp = ["sync/mixed/tasks:8/cpu_us:0/io_ms:1/steps:1/iterations:1/real_time",
               "async/mixed/tasks:8/cpu_us:0/io_ms:1/steps:1/iterations:1/real_time",
               "async.coro/mixed/tasks:8/cpu_us:0/io_ms:1/steps:1/iterations:1/real_time",
               "threads.gil/cpu/tasks:4/workers:4/n:1000/iterations:9/real_time",
               "processes/trabajo/tasks:2/workers:2/chunksize:20/payload:0/iterations:3/real_time"]
        self.assertEqual(nm.twins_of(cpp), [
            "python.sync/mixed/tasks:8/cpu_us:0/io_ms:1/steps:1/real_time",
            "python.async/mixed/tasks:8/cpu_us:0/io_ms:1/steps:1/real_time",
            "python.async.uvloop/mixed/tasks:8/cpu_us:0/io_ms:1/steps:1/real_time",
            "python.processes/trabajo/tasks:2/workers:2/chunksize:20/payload:0/real_time"])
        self.assertNotIn("uvloop", " ".join(nm.twins_of(cpp, with_uvloop=False)))

    def test_a_name_with_an_argument_the_runner_lacks_is_refused(self):
        with self.assertRaises(nm.PlanError) as e:
            nm.parse_spec("python.threads/mixed/tasks:4/cpu_us:1/io_ms:1/steps:1/real_time")
        self.assertEqual(str(e.exception), "python.threads/mixed/tasks:4/cpu_us:1/io_ms:1/steps:1/"
                         "real_time: python.threads/mixed takes tasks, cpu_us, io_ms, steps, "
                         "workers; missing workers")


@unittest.skipUnless(BINARY, "no concbench binary: ctest passes it in CONCBENCH_BINARY "
                     "(tests/scripts.cmake); set CONCBENCH_BINARY to run these by hand")
class RealBinaryNamesTest(unittest.TestCase):
    def plan(self, *flags):
        p = subprocess.run([BINARY, *flags, "--list_planned"], capture_output=True, text=True,
                           timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        return [b["name"] for b in json.loads(p.stdout)["benchmarks"]]

    def check_twins(self, cpp):
        keys = {cr.key_name(cr.Bench(n, cr.parse_name(n), 0)) for n in cpp}
        twins = nm.twins_of(cpp)
        self.assertTrue(twins)
        for t in twins:
            spec = nm.parse_spec(t)  # every twin is one this module runs
            model = t.split("/")[0][len("python."):]
            twin_of = t.replace(model, spec.model, 1)[len("python."):-len("/real_time")]
            self.assertIn(twin_of, keys, f"{t} mirrors no C++ benchmark")
        return twins

    def test_the_map_twins_match_the_cpp_names(self):
        twins = self.check_twins(self.plan("--suite=map", "--cpu_us=0,2000", "--io_ms=20",
                                           "--tasks=100", "--steps=3",
                                           "--benchmark_filter=/mixed/"))
        for name in ("python.sync/mixed/tasks:100/cpu_us:2000/io_ms:20/steps:3/real_time",
                     "python.threads/mixed/tasks:100/workers:64/cpu_us:2000/io_ms:20/steps:3/"
                     "real_time",
                     "python.processes/mixed/tasks:100/workers:2/cpu_us:2000/io_ms:20/steps:3/"
                     "chunksize:1/real_time",
                     "python.async.processes.uvloop/mixed/tasks:100/workers:2/cpu_us:2000/"
                     "io_ms:20/steps:3/real_time"):
            if "uvloop" in name and nm.uvloop is None:
                continue
            self.assertIn(name.replace("workers:2", f"workers:{nm.cores()}"), twins)

    def test_the_crossover_twins_match_the_cpp_names(self):
        twins = self.check_twins(self.plan("--suite=crossover"))
        w = nm.cores()
        for name in ("python.sync/cpu/tasks:4/n:200000/real_time",
                     "python.threads/cpu/tasks:4/workers:4/n:200000/real_time",
                     f"python.processes.with_startup/cpu/tasks:4/workers:{w}/n:200000/"
                     "chunksize:1/real_time",
                     f"python.processes/trabajo/tasks:200/workers:{w}/chunksize:20/payload:0/"
                     "real_time",
                     "python.sync/trabajo/tasks:200/real_time"):
            self.assertIn(name, twins)


class LiveRunTest(unittest.TestCase):
    NAMES = ["python.sync/mixed/tasks:4/cpu_us:100/io_ms:1/steps:2/real_time",
             "python.threads/mixed/tasks:4/workers:4/cpu_us:100/io_ms:1/steps:2/real_time",
             "python.processes/mixed/tasks:4/workers:2/cpu_us:100/io_ms:1/steps:2/chunksize:1/"
             "real_time",
             "python.async/mixed/tasks:4/cpu_us:100/io_ms:1/steps:2/real_time",
             "python.async.offload/mixed/tasks:4/cpu_us:100/io_ms:1/steps:2/real_time",
             "python.async.processes/mixed/tasks:4/workers:2/cpu_us:100/io_ms:1/steps:2/"
             "real_time",
             "python.processes.with_startup/cpu/tasks:4/workers:2/n:1000/chunksize:1/real_time",
             "python.sync/trabajo/tasks:3/real_time"]

    def run_names(self, names, *flags):
        with tempfile.TemporaryDirectory() as d:
            out = os.path.join(d, "py.json")
            p = subprocess.run([sys.executable, RUNNER, "--names=-", "--concbench=/nonexistent",
                                "-o", out, "--quiet", *flags], input="\n".join(names),
                               capture_output=True, text=True, timeout=240)
            data = None
            if os.path.exists(out):
                with open(out) as f:
                    data = json.load(f)
        return p, data

    def test_every_runner_runs_its_batches_and_verifies_them(self):
        names = self.NAMES + (["{}.uvloop/{}".format(*n.split("/", 1))
                               for n in self.NAMES if n.startswith("python.async")]
                              if nm.uvloop else [])
        p, data = self.run_names(names, "--repetitions=2", "--target_s=0.005",
                                 "--speed=60,50")
        self.assertEqual(p.returncode, 0, p.stderr)
        reps = [r for r in data["benchmarks"] if r["run_type"] == "iteration"]
        self.assertEqual(sorted({r["name"] for r in reps}), sorted(names))
        self.assertFalse([r for r in reps if r.get("error_occurred")])
        # cpu_us 100 at 60 ns a step is n = 1667; 4 tasks × 2 steps of it, plus 2 × (1+2+3+4).
        mixed = [r for r in reps if "/mixed/" in r["name"]]
        self.assertEqual({r["checksum"] for r in mixed},
                         {8 * nb.cpu_intensivo(1667) + 2 * 10})
        self.assertEqual(data["context"]["cpu_intensivo_ns_per_step"], "60")
        self.assertEqual(data["context"]["python_mixed_n"], "cpu_us 100 → n 1667")

    def test_a_wrong_checksum_is_an_error_row(self):
        spec = nm.parse_spec(self.NAMES[0])
        b = nm.plan_bench(spec, nm.Speed(60e-9, 50e-9))
        b.work.expected += 1
        o = nm.run_repetition(b, 0.001)
        self.assertTrue(o.error.startswith("checksum mismatch: got "), o.error)

    def test_a_name_it_cannot_run_is_one_fatal_line(self):
        p, data = self.run_names(["python.async.coro/mixed/tasks:4/cpu_us:1/io_ms:1/steps:1/"
                                  "real_time"])
        self.assertEqual(p.returncode, 2)
        self.assertIsNone(data)
        self.assertEqual(p.stderr.splitlines(), [
            "fatal: python.async.coro/mixed/tasks:4/cpu_us:1/io_ms:1/steps:1/real_time: no "
            "Python runner for model 'async.coro'; there are: python.sync, python.threads, "
            "python.processes, python.processes.with_startup, python.async, "
            "python.async.offload, python.async.processes"])


if __name__ == "__main__":
    unittest.main()
