"""The notebook's cells (scripts/notebook_cells.py), read from the binary's table in the results'
context: the printed Python times, which benchmark each cell is matched to, and results written
before the table existed."""
import json
import unittest

from support import fixture

import concbench_results as cr
import notebook_cells


def without_tables(name):
    """A fixture as an older concbench wrote it: no concbench_models/_workloads/_cells."""
    with open(fixture(name)) as f:
        data = json.load(f)
    for key in cr.TABLE_KEYS.values():
        data["context"].pop(key)
    return cr.from_json(data, name)


class NotebookTableTest(unittest.TestCase):
    def test_the_cells_are_the_binarys_table_in_the_notebooks_order(self):
        r = cr.load(fixture("notebook_all_models.json"))
        cells = notebook_cells.cells(r)
        self.assertEqual([c.id for c in cells][:4], ["0", "1", "2", "2.1.race"])
        self.assertEqual(notebook_cells.find_cell(r, "4.gil"), cr.Cell(
            "4.gil", "4", "same cell, C++ threads with a GIL-like lock", "cell", "threads.gil",
            "cpu", {"tasks": 4, "workers": 4, "n": 200000}, (), "python.threads", 0.129,
            "4.serial"))
        self.assertEqual(notebook_cells.find_cell(r, "4.processes").fixed_args,
                         {"tasks": 4, "n": 200000, "chunksize": 1})  # workers: the default

    def test_every_timed_cell_has_its_printed_python_time(self):
        r = cr.load(fixture("notebook_all_models.json"))
        times = [(c.section, c.printed_s) for c in notebook_cells.timed_cells(r)]
        self.assertEqual(times, [
            ("0", 0.101), ("1", 2.510), ("2", 0.506), ("2.1", 0.046), ("2.1", 0.072),
            ("3", 0.503), ("3", 0.503), ("3.1", 1.506), ("3.1", 1.506), ("4", 0.129),
            ("4", 0.129), ("4", 0.116), ("4.1", 0.611), ("4.1", 0.702), ("5.1", 1.505),
            ("5.2", 0.203), ("5.3", 0.131)])

    def test_every_cell_finds_its_benchmark_in_the_notebook_fixture(self):
        r = cr.load(fixture("notebook_all_models.json"))
        matches = notebook_cells.notebook_matches(r)
        # This older fixture predates §0's pause, the coroutine rows and the with_startup rows
        # of §4.1 and §5.3.
        missing = [c.id for c, b in matches if b is None]
        self.assertEqual(missing, ["0", "3.coro", "3.1.coro", "4.1.chunk1", "4.1.chunk20", "5.3"])
        by_id = {c.id: b.run_name for c, b in matches if b}
        self.assertEqual(by_id["5.2"],
                         "threads/sleep/tasks:5/workers:5/sleep_ms:200/chunksize:1/"
                         "iterations:3/real_time")
        # The notebook's process cells include the pool's start-up: the table says with_startup.
        self.assertEqual(by_id["4.processes"], "processes.with_startup/cpu/tasks:4/workers:2/"
                                               "n:200000/chunksize:1/real_time")
        self.assertEqual(notebook_cells.serial_model(r), "sync")

    def test_a_failed_benchmark_is_not_a_match(self):
        r = cr.load(fixture("with_errors.json"))
        self.assertTrue(all(b is None for _, b in notebook_cells.notebook_matches(r)))

    def test_results_without_the_table_have_no_cells_and_load_quietly(self):
        r = without_tables("notebook_all_models.json")
        self.assertEqual(notebook_cells.notebook_rows(r), [])
        self.assertIsNone(notebook_cells.serial_model(r))
        self.assertIsNone(notebook_cells.gil_check(r))
        self.assertEqual(notebook_cells.lost_updates(r), (None, None))


class LivePythonTest(unittest.TestCase):
    """A notebook run with the notebook's Python beside it (fixtures/notebook_run)."""

    @classmethod
    def setUpClass(cls):
        cls.results = cr.load_run(fixture("notebook_run"))
        cls.rows = notebook_cells.notebook_rows(cls.results)
        cls.by_id = {r.cell.id: r for r in cls.rows}

    def test_python_json_is_read_beside_results_json(self):
        self.assertEqual(self.results.python_context["python_implementation"], "CPython")
        self.assertTrue(any(b.lang == "python" for b in self.results.benches))

    def test_every_cell_has_its_cpp_and_its_python_run_here(self):
        for row in self.rows:
            self.assertIsNotNone(row.cpp, row.cell.id)
            self.assertIsNotNone(row.python, row.cell.id)
            self.assertEqual(row.python.lang, "python")
            self.assertLessEqual(row.cell.fixed_args.items(), row.python.args.items(), row.cell.id)

    def test_an_exact_twin_is_preferred(self):
        row = self.by_id["2"]
        self.assertEqual(row.python.args, row.cpp.args)

    def test_the_gil_row_and_the_coroutine_rows_have_python_twins(self):
        self.assertEqual(self.by_id["4.gil"].python.run_name,
                         "python.threads/cpu/tasks:4/workers:4/n:200000/real_time")
        self.assertEqual(self.by_id["3.coro"].python.run_name,
                         "python.async/sleep/tasks:5/sleep_ms:500/real_time")
        self.assertIs(self.by_id["3.1.coro"].python, self.by_id["5.1"].python)

    def test_cpu_cells_say_cpp_is_faster_with_a_p_value(self):
        row = self.by_id["4.threads"]
        self.assertEqual(row.verdict.verdict, "faster")
        phrase = notebook_cells.verdict_phrase(row.verdict)
        self.assertRegex(phrase, r"^C\+\+ \d+× faster \(p = 0\.0\d+\)$")

    def test_sleep_cells_compare_two_measured_numbers(self):
        row = self.by_id["1"]
        self.assertAlmostEqual(row.verdict.median_a, 2.5052, delta=0.01)  # Python here
        self.assertAlmostEqual(row.verdict.median_b, row.cpp.time_s().mean, delta=0.01)

    def test_parallel_cells_are_judged_against_their_serial_baseline(self):
        row = self.by_id["4.gil"]
        self.assertEqual(row.baseline.run_name, "sync/cpu/tasks:4/n:200000/real_time")
        self.assertIsNotNone(row.vs_baseline)
        self.assertEqual(self.by_id["5.3"].baseline.run_name,
                         "sync/tarea_normal/tasks:4/real_time")

    def test_gil_check_lost_updates_and_memory(self):
        py, cc = notebook_cells.gil_check(self.results)
        self.assertAlmostEqual(py, 0.193 / 0.190, delta=0.02)
        self.assertGreater(cc, 0)
        self.assertEqual(notebook_cells.lost_updates(self.results), (0.0, 61234.0))
        self.assertEqual(notebook_cells.memory_growth(self.results), (9316.0, 2344.0))


if __name__ == "__main__":
    unittest.main()
