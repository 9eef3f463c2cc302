"""scripts/machine.py: the probe's card and its warnings, from a run's context."""
import unittest

import support  # noqa: F401  (puts scripts/ on the path)

import machine

QUIET = {"machine_parallel_capacity": "1.97", "machine_parallel_capacity_end": "1.95",
         "machine_usable_cores": "2", "machine_noise_cv": "0.0200", "machine_noise_cv_end": "0.0210",
         "machine_wakeup_us": "41.0", "machine_sleep_overshoot_us": "60.0", "machine_fork_us": "310",
         "machine_load": "0.10", "machine_smt": "no", "machine_governor": "unknown",
         "machine_turbo": "unknown", "machine_virtualized": "no", "num_cpus": 2}


class MachineTest(unittest.TestCase):
    def test_a_quiet_machine_has_no_warning(self):
        self.assertTrue(machine.has_probe(QUIET))
        self.assertEqual(machine.machine_warnings(QUIET), [])
        rows = dict(machine.machine_card(QUIET))
        self.assertEqual(rows["parallel capacity (CPU work)"],
                         "1.97 of 2 usable cores at the start, 1.95 at the end")
        self.assertEqual(rows["noise of one core (cv)"], "2.0% at the start, 2.1% at the end")

    def test_one_core_is_said_in_the_singular(self):
        rows = dict(machine.machine_card(dict(QUIET, machine_usable_cores="1")))
        self.assertEqual(rows["parallel capacity (CPU work)"],
                         "1.97 of 1 usable core at the start, 1.95 at the end")
        self.assertEqual(machine.usable_cores({}), "? usable cores")

    def test_each_condition_gets_its_warning(self):
        cases = {
            "machine_parallel_capacity": ("1.10", "delivered 1.1× on CPU work"),
            "machine_parallel_capacity_end": ("1.40", "changed from 1.97 to 1.40"),
            "machine_noise_cv": ("0.18", "vary by 18%"),
            "machine_load": ("3.5", "load average was 3.5 on 2 CPUs"),
            "machine_smt": ("yes", "SMT siblings"),
            "machine_governor": ("powersave", "governor is 'powersave'"),
            "machine_turbo": ("on", "Turbo boost is on"),
            "machine_virtualized": ("yes", "virtual machine"),
        }
        for key, (value, words) in cases.items():
            ctx = dict(QUIET, **{key: value})
            text = " ".join(machine.machine_warnings(ctx))
            self.assertIn(words, text, key)

    def test_without_a_probe_there_is_nothing_to_read(self):
        self.assertFalse(machine.has_probe({"num_cpus": 2}))
        self.assertFalse(machine.has_probe({"machine_parallel_capacity": "unknown"}))
        self.assertEqual(machine.machine_warnings({}), [])


if __name__ == "__main__":
    unittest.main()
