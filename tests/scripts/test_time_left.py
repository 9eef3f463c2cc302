"""scripts/time_left.py: the sweep's estimate of its time left, on literal sequences."""
import unittest

import support  # noqa: F401  (puts scripts/ on the path)

from time_left import TimeLeft

PLAN = {"a": 2.0, "b": 0.5, "c": 1.5}  # 4 s planned


class TimeLeftTest(unittest.TestCase):
    def test_nothing_is_estimated_before_a_benchmark_is_done(self):
        left = TimeLeft(PLAN)
        self.assertEqual(left.total, 4.0)
        self.assertIsNone(left.seconds_left(0.0))
        left.began("a", 0.0)
        self.assertIsNone(left.seconds_left(5.0))

    def test_what_is_not_done_counts_at_its_plan_plus_the_mean_excess(self):
        left = TimeLeft(PLAN)
        left.began("a", 0.0)
        left.finished("a", 3.0)                      # 1 s over plan
        self.assertAlmostEqual(left.seconds_left(3.0), (0.5 + 1.0) + (1.5 + 1.0))
        left.began("b", 3.0)                         # in flight: credited up to its 1.5 s
        self.assertAlmostEqual(left.seconds_left(3.5), 4.0 - 0.5)
        self.assertAlmostEqual(left.seconds_left(9.0), 4.0 - 1.5)  # overdue: the rest remains
        left.finished("b", 4.0)                      # 0.5 s over: the mean excess is 0.75 s
        left.began("c", 4.0)
        self.assertAlmostEqual(left.seconds_left(4.0), 1.5 + 0.75)
        left.finished("c", 6.4)
        self.assertEqual(left.seconds_left(6.4), 0.0)

    def test_time_between_benchmarks_scales_the_estimate(self):
        left = TimeLeft(PLAN)
        left.began("a", 1.0)                         # 1 s went elsewhere first
        left.finished("a", 3.0)
        self.assertAlmostEqual(left.seconds_left(3.0), (0.5 + 1.5) * 3.0 / 2.0)

    def test_a_benchmark_counts_once_and_an_unknown_one_not_at_all(self):
        left = TimeLeft(PLAN)
        left.finished("z", 1.0)
        self.assertIsNone(left.seconds_left(1.0))
        left.began("b", 0.5)
        left.finished("b", 1.0)                      # on plan
        left.finished("b", 2.0)
        self.assertAlmostEqual(left.seconds_left(2.0), (2.0 + 1.5) * 2.0 / 0.5)


if __name__ == "__main__":
    unittest.main()
