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
            ("1", 2.510), ("2", 0.506), ("2.1", 0.046), ("2.1", 0.072), ("3", 0.503),
            ("3.1", 1.506), ("4", 0.129), ("4", 0.129), ("4", 0.116), ("4.1", 0.611),
            ("4.1", 0.702), ("5.1", 1.505), ("5.2", 0.203), ("5.3", 0.131)])

    def test_every_cell_finds_its_benchmark_in_the_notebook_fixture(self):
        r = cr.load(fixture("notebook_all_models.json"))
        matches = notebook_cells.notebook_matches(r)
        self.assertTrue(all(b is not None for _, b in matches))
        by_section = {(c.section, c.what): b.run_name for c, b in matches}
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


if __name__ == "__main__":
    unittest.main()
