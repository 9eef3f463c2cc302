#!/usr/bin/env python3
"""The tables the binary exports (--list_models, --list_workloads, --list_cells) are JSON, and
every notebook cell is a benchmark the notebook suite registers, with exactly the cell's
arguments. How the tables agree with each other is tables_test.cc's part."""
import json
import re
import subprocess
import sys
import unittest

BINARY = None  # set from argv

# Google Benchmark's parts after the arguments.
SUFFIX_RE = re.compile(r"(/iterations:\d+)?/real_time$")


def run(*flags):
    p = subprocess.run([BINARY, *flags], capture_output=True, text=True, timeout=120)
    if p.returncode != 0:
        raise AssertionError(f"{BINARY} {' '.join(flags)} exited {p.returncode}: {p.stderr}")
    return p.stdout


def table(flag, key):
    return json.loads(run(flag))[key]


class Tables(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.models = table("--list_models", "models")
        cls.workloads = table("--list_workloads", "workloads")
        cls.cells = table("--list_cells", "cells")

    def test_every_table_is_a_non_empty_list_of_named_rows(self):
        for rows, key in ((self.models, "name"), (self.workloads, "name"), (self.cells, "id")):
            self.assertGreater(len(rows), 0)
            names = [r[key] for r in rows]
            self.assertEqual(len(names), len(set(names)), names)

    def test_model_rows_name_their_base_variant_and_steps(self):
        for m in self.models:
            base, _, variant = m["name"].partition(".")
            self.assertEqual((m["base"], m["variant"]), (base, variant), m)
            self.assertTrue(set(m["steps"]) <= {"compute", "sleep", "echo"}, m)

    def test_every_cell_is_registered_in_the_notebook_suite_with_exactly_its_arguments(self):
        listed = run("--suite=notebook", "--benchmark_list_tests=true").split()
        registered = {SUFFIX_RE.sub("", name) for name in listed}
        self.assertEqual(len(listed), len(set(listed)), "a benchmark registered twice")
        for c in self.cells:
            args = "".join(f"/{k}:{v}" for k, v in c["args"].items())
            self.assertEqual(c["benchmark"], c["family"] + args, c["id"])
            self.assertIn(c["benchmark"], registered, c["id"])


if __name__ == "__main__":
    BINARY = sys.argv.pop(1)
    unittest.main(verbosity=2)
