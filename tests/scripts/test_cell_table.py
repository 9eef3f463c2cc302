"""The binary's table of the notebook's cells against the Python runner's code for them
(scripts/notebook_python.py's CELL_CODE): each cell with a Python twin is run by the notebook's
code, no code is left without its cell, and every Python benchmark's arguments are its cells'
(the arguments the notebook left to the executor's default excepted). Also: the copy of the
tables saved beside the fixtures is still the binary's.

The binary's own table is checked when ctest passes its path in CONCBENCH_BINARY
(tests/scripts.cmake); by hand:

    CONCBENCH_BINARY=build/release/concbench /usr/bin/python3 -m unittest -v test_cell_table
"""
import copy
import json
import os
import re
import unittest

import support

import concbench_results as cr
import notebook_python as runner

BINARY = os.environ.get("CONCBENCH_BINARY")
SAVED = support.fixture("concbench_tables.json")


def saved_tables():
    with open(SAVED) as f:
        return json.load(f)


def name_args(name):
    """The arguments of a benchmark name, in its order."""
    return dict((k, int(v)) for k, v in re.findall(r"/([a-z_]+):(-?\d+)", name))


def disagreements(tables, quick=False):
    """Every way the cell table and the runner's code for it disagree, one line each."""
    cells = cr.cells_of(tables["cells"])
    by_id = {c.id: c for c in cells}
    out = []
    for cell_id in runner.CELL_CODE:
        cell = by_id.get(cell_id)
        if cell is None or cell.python is None:
            out.append(f"CELL_CODE runs cell {cell_id}, which the table has "
                       + ("not" if cell is None else "without a Python twin"))
    benches = runner.plan(cells, quick)
    if len({b.name for b in benches}) != len(benches):
        out.append("two Python twins have one name: " + ", ".join(b.name for b in benches))
    for b in benches:
        out += [f"{b.name}: {p}" for p in b.problems]
        coded = [i for i in b.cells if i in runner.CELL_CODE]
        if len(coded) > 1:
            out.append(f"cells {', '.join(coded)} share one Python twin; CELL_CODE runs only "
                       f"{coded[0]}'s code")
        got = name_args(b.name)
        for cell_id in b.cells:
            cell = by_id[cell_id]
            if not b.name.startswith(f"{cell.python}/{cell.workload}/"):
                out.append(f"cell {cell_id}: its twin is {cell.python}/{cell.workload}, the "
                           f"runner's benchmark {b.name}")
            if list(got) != list(cell.args) or any(
                    got[k] != v for k, v in cell.fixed_args.items() if not quick):
                out.append(f"cell {cell_id} has {cell.args} (defaults {list(cell.defaults)}), "
                           f"its Python benchmark {b.name}")
    return out


class SavedTableTest(unittest.TestCase):
    """The runner against the table saved beside the fixtures."""

    def test_every_cell_and_every_code_agree(self):
        self.assertEqual(disagreements(saved_tables()), [])
        self.assertEqual(disagreements(saved_tables(), quick=True), [])

    def tables_with(self, change):
        tables = copy.deepcopy(saved_tables())
        change({c["id"]: c for c in tables["cells"]}, tables["cells"])
        return tables

    def test_a_cell_no_code_runs_is_caught(self):
        def add(by_id, cells):
            cells.append(dict(by_id["3"], id="3.uvloop", python="python.async.uvloop/sleep"))
        self.assertEqual(disagreements(self.tables_with(add)), [
            "python.async.uvloop/sleep/tasks:5/sleep_ms:500/real_time: no notebook code runs "
            "cell(s) 3.uvloop (notebook_python.py's CELL_CODE)"])

    def test_a_code_without_its_cell_is_caught(self):
        def drop(by_id, cells):
            cells.remove(by_id["6"])
        self.assertEqual(disagreements(self.tables_with(drop)),
                         ["CELL_CODE runs cell 6, which the table has not"])

    def test_arguments_that_differ_are_caught(self):
        def change(by_id, _cells):
            by_id["5.2"]["args"]["chunksize"] = 5           # the notebook's map() has 1
            by_id["1"]["args"]["payload"] = 64              # §1's code has no payload
            del by_id["2.1.race"]["args"]["threads"]        # the notebook starts two threads
        found = disagreements(self.tables_with(change))
        self.assertIn("python.threads/sleep/tasks:5/workers:5/sleep_ms:200/chunksize:1/"
                      "real_time: cell 5.2 has chunksize:5; the notebook's code fixes "
                      "chunksize:1", found)
        self.assertIn("python.sync/sleep/tasks:5/sleep_ms:500/real_time: the notebook's code "
                      "for cell 1 has no argument 'payload'", found)
        self.assertIn("python.threads.race/counter/increments:100000/threads:2/real_time: cell "
                      "2.1.race has no argument 'threads', which the notebook's code takes", found)
        self.assertEqual(len([f for f in found if f.startswith("cell ")]), 3, found)

    def test_a_default_takes_this_pythons_value_and_is_not_a_difference(self):
        def change(by_id, _cells):
            by_id["5.3"]["args"]["workers"] = 64
        self.assertEqual(disagreements(self.tables_with(change)), [])


@unittest.skipUnless(BINARY, "no concbench binary: ctest passes it in CONCBENCH_BINARY "
                     "(tests/scripts.cmake); set CONCBENCH_BINARY to run these by hand")
class BinaryTableTest(unittest.TestCase):
    """The runner against the binary's own table, and the saved copy against it."""

    @classmethod
    def setUpClass(cls):
        cls.tables = runner.read_tables(BINARY, None)

    def test_every_cell_and_every_code_agree(self):
        self.assertEqual(disagreements(self.tables), [])
        self.assertEqual(disagreements(self.tables, quick=True), [])

    def test_the_saved_copy_is_the_binarys(self):
        def machine_free(tables):
            """The tables without the values of the arguments left to a default (the
            machine's core count)."""
            out = copy.deepcopy(tables)
            for c in out["cells"]:
                for k in c.get("defaults") or ():
                    c["args"][k] = c["benchmark"] = None
            return out
        self.assertEqual(machine_free(saved_tables()), machine_free(self.tables),
                         "the fixtures' copy of the binary's tables is stale: run "
                         "tests/scripts/make_fixtures.py --binary=build/release/concbench")


if __name__ == "__main__":
    unittest.main()
