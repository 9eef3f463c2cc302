"""Parsing, grouping and error paths of scripts/concbench_results.py."""
import json
import os
import shutil
import tempfile
import unittest

from support import fixture  # support also puts scripts/ on the path

import concbench_results as cr


class ParseNameTest(unittest.TestCase):
    def test_model_workload_and_arguments_by_key(self):
        p = cr.parse_name("threads/sleep/tasks:5/workers:5/sleep_ms:500/iterations:1/real_time")
        self.assertEqual((p.model, p.variant, p.workload), ("threads", None, "sleep"))
        self.assertEqual(p.args, {"tasks": 5, "workers": 5, "sleep_ms": 500})

    def test_variant_is_split_from_the_model(self):
        p = cr.parse_name("processes.per_task/cpu/tasks:4/n:200000/real_time")
        self.assertEqual((p.model, p.variant, p.model_full), ("processes", "per_task",
                                                              "processes.per_task"))

    def test_threads_is_an_argument_not_google_benchmarks(self):
        p = cr.parse_name("threads.race/counter/threads:2/increments:100000/real_time")
        self.assertEqual(p.args, {"threads": 2, "increments": 100000})

    def test_argument_order_does_not_matter(self):
        a = cr.parse_name("processes/trabajo/chunksize:20/tasks:200/real_time")
        b = cr.parse_name("processes/trabajo/tasks:200/chunksize:20/real_time")
        self.assertEqual(a.args, b.args)

    def test_workload_without_arguments(self):
        p = cr.parse_name("async/startup/real_time")
        self.assertEqual((p.model, p.workload, p.args), ("async", "startup", {}))

    def test_foreign_names_are_rejected(self):
        for name in ("BM_memcpy/8", "BM_x", "sync", "sync/sleep/5/real_time", "Sync/sleep"):
            self.assertIsNone(cr.parse_name(name), name)


class LoadTest(unittest.TestCase):
    def test_notebook_fixture_groups_rows_by_benchmark(self):
        r = cr.load(fixture("notebook_all_models.json"))
        self.assertEqual(len(r.benches), 22)
        self.assertEqual(r.failed(), [])
        b = r.find("threads", "sleep", {"tasks": 5, "sleep_ms": 500})[0]
        self.assertEqual(len(b.reps), 3)
        self.assertEqual(sorted(b.aggregates), ["cv", "mean", "median", "stddev"])
        self.assertEqual(b.repetitions(), 3)

    def test_time_is_converted_to_seconds_with_the_sample_sd(self):
        data = {"context": {}, "benchmarks": [
            {"name": "sync/sleep/tasks:1/real_time", "run_type": "iteration", "real_time": v,
             "time_unit": "ms", "efficiency": e} for v, e in ((1.0, 0.5), (3.0, 1.0))]}
        b = cr.from_json(data).benches[0]
        t = b.time_s()
        self.assertAlmostEqual(t.mean, 0.002)
        self.assertAlmostEqual(t.sd, 0.0014142135623730952)
        self.assertEqual(t.n, 2)
        self.assertAlmostEqual(b.counter("efficiency").mean, 0.75)
        self.assertIsNone(b.counter("no_such_counter"))

    def test_aggregates_only_runs_use_mean_and_stddev(self):
        rows = [{"name": "sync/cpu/tasks:4/real_time_" + agg,
                 "run_name": "sync/cpu/tasks:4/real_time",
                 "run_type": "aggregate", "aggregate_name": agg, "repetitions": 5,
                 "real_time": v, "time_unit": "us"} for agg, v in (("mean", 200.0),
                                                                    ("stddev", 10.0))]
        b = cr.from_json({"context": {}, "benchmarks": rows}).benches[0]
        t = b.time_s()
        self.assertAlmostEqual(t.mean, 200e-6)
        self.assertAlmostEqual(t.sd, 10e-6)
        self.assertEqual(t.n, 5)

    def test_errors_are_kept_apart_and_never_timed(self):
        r = cr.load(fixture("with_errors.json"))
        self.assertEqual([b.run_name for b in r.failed()],
                         ["processes/cpu/tasks:4/workers:2/n:1000/real_time"])
        self.assertIn("SIGKILL", r.failed()[0].errors[0])
        self.assertEqual(len(r.ok()), 2)

    def test_a_folder_stands_for_its_results_json(self):
        with tempfile.TemporaryDirectory() as d:
            shutil.copy(fixture("with_errors.json"), os.path.join(d, "results.json"))
            self.assertEqual(len(cr.load(d).benches), 3)

    def test_a_partial_file_says_what_was_cut_short_and_what_never_ran(self):
        with tempfile.TemporaryDirectory() as d:
            shutil.copy(fixture("partial.json"), os.path.join(d, "results.partial.json"))
            r = cr.load(d)
        self.assertTrue(r.path.endswith("results.partial.json"))
        self.assertTrue(r.partial.startswith("timed out: async/sleep/tasks:8/sleep_ms:1"))
        self.assertEqual([b.run_name for b in r.cut_short()],
                         ["async/sleep/tasks:8/sleep_ms:1/real_time"])
        self.assertEqual(len(r.ok()), 4)
        self.assertEqual(len(r.not_run()), 23)
        self.assertEqual(r.not_run()[0], "async/sleep/tasks:16/sleep_ms:1/real_time")

    def test_a_complete_file_is_not_partial(self):
        r = cr.load(fixture("with_errors.json"))
        self.assertIsNone(r.partial)
        self.assertEqual((r.cut_short(), r.not_run()), ([], []))

    def test_a_partial_file_stopped_before_any_benchmark(self):
        with self.assertRaises(cr.ResultsError) as ctx:
            cr.from_json({"context": {"concbench_partial": "interrupted by SIGINT"},
                          "benchmarks": []}, "results.partial.json")
        self.assertEqual(str(ctx.exception), "results.partial.json: no benchmarks in it "
                                             "(partial: interrupted by SIGINT)")

    def assert_rejected(self, path, *words):
        with self.assertRaises(cr.ResultsError) as ctx:
            cr.load(path)
        msg = str(ctx.exception)
        self.assertNotIn("\n", msg)
        for w in words:
            self.assertIn(w, msg)

    def test_empty_file(self):
        self.assert_rejected(fixture("empty.json"), "empty.json", "empty")

    def test_truncated_file(self):
        self.assert_rejected(fixture("truncated.json"), "malformed JSON", "line")

    def test_foreign_benchmark_json(self):
        self.assert_rejected(fixture("foreign.json"), "no concbench benchmarks", "BM_memcpy/8")

    def test_json_that_is_not_a_benchmark_run(self):
        self.assert_rejected(fixture("not_benchmark.json"), "not Google Benchmark JSON")

    def test_missing_file_and_folder(self):
        self.assert_rejected("/nonexistent/results.json", "cannot read")
        with tempfile.TemporaryDirectory() as d:
            self.assert_rejected(d, "no results.json")

    def test_binary_file(self):
        with tempfile.NamedTemporaryFile(suffix=".json") as f:
            f.write(b"\x89PNG\r\n\x1a\n\xff\xfe")
            f.flush()
            self.assert_rejected(f.name, "not a text file")

    def test_rows_without_names(self):
        with self.assertRaises(cr.ResultsError):
            cr.from_json({"context": {}, "benchmarks": [{"real_time": 1}]})


class GroupingTest(unittest.TestCase):
    def setUp(self):
        self.r = cr.load(fixture("sweep_all_models.json"))

    def test_facets_are_what_a_task_does_and_series_how_it_is_run(self):
        b = self.r.find("processes", "trabajo", {"chunksize": 20, "payload": 1024})[0]
        self.assertEqual(cr.facet_of(b), (("payload", 1024),))
        self.assertEqual(cr.series_of(b, exclude=("tasks",)),
                         ("processes", ("workers", 2), ("chunksize", 20)))

    def test_sleep_families_split_into_one_facet_per_sleep(self):
        sleep = [b for b in self.r.ok() if b.workload == "sleep"]
        facets = cr.group(sleep, lambda b: cr.facet_of(b, exclude=("tasks",)))
        self.assertEqual(sorted(facets), [(("sleep_ms", 1),), (("sleep_ms", 10),)])

    def test_models_sort_in_the_binarys_table_order(self):
        names = ["processes", "python.threads", "async.sequential", "sync", "threads.per_task",
                 "threads", "zeta", "python.async.uvloop"]
        self.assertEqual(sorted(names, key=self.r.models.rank),
                         ["sync", "threads", "threads.per_task", "async.sequential", "processes",
                          "zeta", "python.threads", "python.async.uvloop"])

    def test_python_rows_belong_to_their_twins_base_model(self):
        models = self.r.models
        self.assertEqual([models.base(m) for m in ("python.async.uvloop", "async.coro.sequential",
                                                   "python.processes.with_startup", "zeta.x")],
                         ["async", "async", "processes", "zeta"])
        self.assertEqual(models.bases[:4], ["sync", "threads", "async", "processes"])

    def test_workloads_are_io_cpu_or_mixed_by_their_steps(self):
        w = self.r.workload_table
        self.assertEqual([w.kind(x) for x in ("sleep", "echo", "cpu", "memory")],
                         [cr.IO_BOUND, cr.IO_BOUND, cr.CPU_BOUND, None])
        self.assertEqual(cr.Workloads([{"name": "mixed", "steps": ["compute", "sleep"]}])
                         .kind("mixed"), cr.MIXED)

    def test_without_the_tables_models_come_in_order_of_appearance(self):
        with open(fixture("sweep_all_models.json")) as f:
            data = json.load(f)
        for key in cr.TABLE_KEYS.values():
            del data["context"][key]
        r = cr.from_json(data)
        self.assertEqual(r.models.bases, ["sync", "threads", "async", "processes"])
        self.assertEqual(sorted(["async", "threads.gil", "sync", "threads.per_task", "threads"],
                                key=r.models.rank),
                         ["sync", "threads", "threads.per_task", "threads.gil", "async"])
        self.assertIsNone(r.workload_table.kind("sleep"))

    def test_a_python_json_alone_takes_the_tables_of_its_run(self):
        with tempfile.TemporaryDirectory() as d:
            shutil.copy(os.path.join(fixture("notebook_run"), "python.json"), d)
            alone = cr.load_run(os.path.join(d, "python.json"))
            self.assertEqual(alone.models.bases[:4], ["sync", "threads", "async", "processes"])
            with open(os.path.join(fixture("notebook_run"), "python.json")) as f:
                data = json.load(f)
            for key in cr.TABLE_KEYS.values():
                del data["context"][key]
            with open(os.path.join(d, "python.json"), "w") as f:
                json.dump(data, f)
            shutil.copy(os.path.join(fixture("notebook_run"), "results.json"), d)
            beside = cr.load_run(os.path.join(d, "python.json"))
            self.assertEqual(len(beside.table("cells")), len(alone.table("cells")))

    def test_labels_read_as_words(self):
        self.assertEqual(cr.format_args({"tasks": 5, "workers": 1, "sleep_ms": 500}),
                         "5 tasks, 1 worker, sleep 500 ms")
        self.assertEqual(cr.format_arg("payload", 65536), "payload 64 KiB")
        self.assertEqual(cr.format_arg("n", 200000), "n=200,000")
        self.assertEqual(cr.series_label(("threads", ("workers", 4))), "threads · 4 workers")
        self.assertEqual(cr.format_seconds(2.51), "2.51 s")
        self.assertEqual(cr.format_seconds(0.000159), "159 µs")
        self.assertEqual(cr.format_seconds(-0.0012), "-1.2 ms")


class WriteAtomicTest(unittest.TestCase):
    def test_replaces_whole_or_leaves_the_old_file(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "report.md")
            cr.write_atomic(path, "first\n")
            with self.assertRaises(TypeError):
                cr.write_atomic(path, 12345)  # fails while writing
            with open(path) as f:
                self.assertEqual(f.read(), "first\n")
            self.assertEqual(os.listdir(d), ["report.md"])
            cr.write_atomic(path, b"second")
            with open(path, "rb") as f:
                self.assertEqual(f.read(), b"second")


class FixturesTest(unittest.TestCase):
    def test_fixture_checksums_are_the_notebooks(self):
        r = cr.load(fixture("notebook_all_models.json"))
        tarea = r.find("processes", "tarea_normal", {"tasks": 4})[0]
        self.assertEqual(tarea.counter("checksum").mean, 59995920)
        cpu = r.find("sync", "cpu", {"tasks": 4, "n": 200000})[0]
        self.assertEqual(cpu.counter("checksum").mean, 38400956)
        with open(fixture("notebook_all_models.json")) as f:
            self.assertIn("context", json.load(f))


if __name__ == "__main__":
    unittest.main()
