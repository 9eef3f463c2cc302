"""The notebook's cells (scripts/notebook_cells.py): the printed Python times, and which
benchmark each cell is matched to."""
import unittest

from support import fixture

import concbench_results as cr
import notebook_cells


class NotebookTableTest(unittest.TestCase):
    def test_every_cell_has_its_printed_python_time(self):
        times = [(c.section, c.python_s) for c in notebook_cells.NOTEBOOK_CELLS]
        self.assertEqual(times, [
            ("0", 0.101), ("1", 2.510), ("2", 0.506), ("2.1", 0.046), ("2.1", 0.072),
            ("3", 0.503), ("3", 0.503), ("3.1", 1.506), ("3.1", 1.506), ("4", 0.129),
            ("4", 0.129), ("4", 0.116), ("4.1", 0.611), ("4.1", 0.702), ("5.1", 1.505),
            ("5.2", 0.203), ("5.3", 0.131)])

    def test_every_cell_finds_its_benchmark_in_the_notebook_fixture(self):
        r = cr.load(fixture("notebook_all_models.json"))
        matches = notebook_cells.notebook_matches(r)
        # This older fixture predates §0's pause and the coroutine rows.
        missing = [(c.section, c.what) for c, b in matches if b is None]
        self.assertEqual([s for s, _ in missing], ["0", "3", "3.1"])
        by_section = {(c.section, c.what): b.run_name for c, b in matches if b}
        self.assertEqual(by_section[("4.1", "processes map: 200 × trabajo, chunksize 20")],
                         "processes/trabajo/tasks:200/workers:2/chunksize:20/real_time")
        self.assertEqual(by_section[("5.3", "processes: tarea_normal(0..3)")],
                         "processes/tarea_normal/tasks:4/workers:2/real_time")
        # The notebook's process cells include the pool's start-up: preferred when measured.
        self.assertEqual(by_section[("4", "processes: 4 × cpu_intensivo(200000)")],
                         "processes.with_startup/cpu/tasks:4/workers:2/n:200000/real_time")

    def test_a_failed_benchmark_is_not_a_match(self):
        r = cr.load(fixture("with_errors.json"))
        self.assertTrue(all(b is None for _, b in notebook_cells.notebook_matches(r)))


class LivePythonTest(unittest.TestCase):
    """A notebook run with the notebook's Python beside it (fixtures/notebook_run)."""

    @classmethod
    def setUpClass(cls):
        cls.results = cr.load_run(fixture("notebook_run"))
        cls.rows = notebook_cells.notebook_rows(cls.results)

    def test_python_json_is_read_beside_results_json(self):
        self.assertEqual(self.results.python_context["python_implementation"], "CPython")
        self.assertTrue(any(b.lang == "python" for b in self.results.benches))

    def test_every_cell_has_its_cpp_and_its_python_run_here(self):
        for row in self.rows:
            self.assertIsNotNone(row.cpp, row.cell.what)
            self.assertIsNotNone(row.python, row.cell.what)
            self.assertEqual(row.python.lang, "python")
            # Matched by the arguments: the C++ row's own where the twin has them, else the
            # cell's (some of this fixture's C++ rows predate arguments of the real ones).
            self.assertLessEqual(row.cell.args.items(), row.python.args.items(), row.cell.what)

    def test_an_exact_twin_is_preferred(self):
        row = next(r for r in self.rows if r.cell.section == "2")
        self.assertEqual(row.python.args, row.cpp.args)

    def test_the_gil_row_and_the_coroutine_rows_have_python_twins(self):
        by = {(r.cell.section, r.cell.models): r for r in self.rows}
        self.assertEqual(by[("4", "threads.gil")].python.run_name,
                         "python.threads/cpu/tasks:4/workers:4/n:200000/real_time")
        self.assertEqual(by[("3", "async.coro")].python.run_name,
                         "python.async/sleep/tasks:5/sleep_ms:500/real_time")

    def test_cpu_cells_say_cpp_is_faster_with_a_p_value(self):
        row = next(r for r in self.rows if r.cell.workload == "cpu" and r.cell.models == "threads")
        self.assertEqual(row.verdict.verdict, "faster")
        phrase = notebook_cells.verdict_phrase(row.verdict)
        self.assertRegex(phrase, r"^C\+\+ \d+× faster \(p = 0\.0\d+\)$")

    def test_sleep_cells_compare_two_measured_numbers(self):
        row = next(r for r in self.rows if r.cell.section == "1")
        self.assertAlmostEqual(row.verdict.median_a, 2.5052, delta=0.01)  # Python here
        self.assertAlmostEqual(row.verdict.median_b, row.cpp.time_s().mean, delta=0.01)

    def test_parallel_cells_are_judged_against_their_serial_baseline(self):
        row = next(r for r in self.rows if r.cell.models == "threads.gil")
        self.assertEqual(row.baseline.run_name, "sync/cpu/tasks:4/n:200000/real_time")
        self.assertIsNotNone(row.vs_baseline)

    def test_gil_check_lost_updates_and_memory(self):
        py, cc = notebook_cells.gil_check(self.results)
        self.assertAlmostEqual(py, 0.193 / 0.190, delta=0.02)
        self.assertGreater(cc, 0)
        self.assertEqual(notebook_cells.lost_updates(self.results), (0.0, 61234.0))
        self.assertEqual(notebook_cells.memory_growth(self.results), (9316.0, 2344.0))


if __name__ == "__main__":
    unittest.main()
