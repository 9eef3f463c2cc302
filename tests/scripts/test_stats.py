"""scripts/stats.py on synthetic samples with known answers: the verdict's direction, the
thresholds it applies, the U test's and the interval's literal values, and the geometric mean."""
import os
import sys
import unittest

import support  # noqa: F401  (puts scripts/ on sys.path)

import stats

GBENCH = "/usr/share/benchmark"

# Five repetitions of about 1 ms, no ties, CV 1.6 %.
A = [1.00e-3, 1.01e-3, 0.99e-3, 1.02e-3, 0.98e-3]
# Five quiet repetitions of about 1 s (CV 0.16 %), and five more from the same distribution.
QUIET = [1.000, 1.002, 0.998, 1.001, 0.999]
QUIET_AGAIN = [1.0012, 0.9991, 1.0004, 0.9983, 1.0017]


class VerdictTest(unittest.TestCase):
    def test_a_clearly_lower_b_is_faster(self):
        v = stats.judge(A, [t * 0.8 for t in A])
        self.assertEqual(v.verdict, "faster")
        self.assertAlmostEqual(v.change, -0.20)
        self.assertAlmostEqual(v.median_a, 1.00e-3)
        self.assertAlmostEqual(v.median_b, 0.80e-3)
        self.assertAlmostEqual(v.p_value, 2 / 252)  # complete separation of 5 and 5
        self.assertEqual(v.text(), "faster (p = 0.008)")
        lo, hi = v.ci
        self.assertLess(lo, v.change)
        self.assertLess(v.change, hi)
        self.assertLess(hi, 0)

    def test_a_clearly_higher_b_is_slower(self):
        v = stats.judge([t * 0.8 for t in A], A)
        self.assertEqual(v.verdict, "slower")
        self.assertAlmostEqual(v.change, 0.25)
        self.assertEqual(v.text(), "slower (p = 0.008)")
        self.assertGreater(v.ci[0], 0)

    def test_two_samples_of_one_distribution_are_no_significant_change(self):
        v = stats.judge(QUIET, QUIET_AGAIN)
        self.assertEqual(v.verdict, "no significant change")
        self.assertAlmostEqual(v.p_value, 0.8412698412698413)
        self.assertEqual(v.text(), "no significant change (p = 0.84)")

    def test_a_significant_change_under_one_percent_is_no_significant_change(self):
        v = stats.judge(QUIET, [t * 1.005 for t in QUIET])
        self.assertAlmostEqual(v.p_value, 2 / 252)
        self.assertAlmostEqual(v.change, 0.005)
        self.assertEqual(v.verdict, "no significant change")
        self.assertEqual(v.text(), "no significant change (p = 0.008, within ±1 %)")

    def test_noisy_samples_that_the_test_cannot_tell_apart_are_too_noisy(self):
        v = stats.judge([1.0, 1.31, 0.82, 1.2, 0.9], [1.1, 0.85, 1.26, 0.95, 1.04])
        self.assertEqual(v.p_value, 1.0)
        self.assertAlmostEqual(v.cv_a, 0.1958797461809102)
        self.assertAlmostEqual(v.ci[0], 0.95 / 1.31 - 1)  # 3rd smallest of the 25 ratios b/a
        self.assertAlmostEqual(v.ci[1], 1.1 / 0.82 - 1)  # 3rd largest
        self.assertEqual(v.verdict, "too noisy")
        self.assertEqual(v.text(), "not distinguishable on this machine (anywhere from -27 % to "
                         "+34 %)")

    def test_many_noisy_repetitions_can_still_rule_out_a_change(self):
        # CV 8 % and 7 % over 40 repetitions each: the interval stays within ±10 %.
        a = [1 + 0.08 * ((i * 37) % 40 - 19.5) / 11.5 for i in range(40)]
        b = [1 + 0.07 * ((i * 23) % 40 - 19.5) / 11.5 + 0.01 for i in range(40)]
        v = stats.judge(a, b)
        self.assertGreater(min(v.cv_a, v.cv_b), 0.05)
        self.assertLess(max(-v.ci[0], v.ci[1]), stats.MAX_UNSEEN_CHANGE)
        self.assertEqual(v.verdict, "no significant change")

    def test_a_noisy_sample_cleanly_separated_is_still_a_change(self):
        noisy_slow = [2.0, 2.9, 2.1, 2.5, 2.2]  # CV 15 %, every value above every A
        v = stats.judge([1.0, 1.01, 0.99, 1.02, 0.98], noisy_slow)
        self.assertGreater(v.ci[1] - v.ci[0], 2 * stats.MAX_UNSEEN_CHANGE)
        self.assertEqual(v.verdict, "slower")

    def test_three_repetitions_a_side_are_too_few_whatever_the_gap(self):
        v = stats.judge([1.0, 1.01, 0.99], [2.0, 2.01, 1.99])
        self.assertAlmostEqual(v.p_value, 0.1)  # the smallest two-sided p for 3 and 3
        self.assertEqual(v.verdict, "too few repetitions")
        self.assertEqual(v.text(), "too few repetitions (3 and 3, p = 0.10; 5+ needed)")
        self.assertAlmostEqual(v.ci_level, 0.9)

    def test_four_repetitions_a_side_are_too_few_even_when_p_is_below_alpha(self):
        v = stats.judge([1.0, 1.01, 0.99, 1.02], [2.0, 2.01, 1.99, 2.02])
        self.assertAlmostEqual(v.p_value, 2 / 70)
        self.assertEqual(v.verdict, "too few repetitions")

    def test_one_repetition_has_no_test_and_no_interval(self):
        v = stats.judge([1.0], [2.0])
        self.assertIsNone(v.p_value)
        self.assertIsNone(v.ci)
        self.assertAlmostEqual(v.change, 1.0)
        self.assertEqual(v.text(), "too few repetitions (1 and 1, no test; 5+ needed)")

    def test_empty_or_zero_times_are_refused(self):
        with self.assertRaisesRegex(ValueError, "at least one time on each side"):
            stats.judge([], [1.0])
        with self.assertRaisesRegex(ValueError, "times greater than 0"):
            stats.judge([0.0, 1.0], [1.0, 1.0])


class TestAndIntervalTest(unittest.TestCase):
    def test_null_distribution_of_u_for_three_and_three(self):
        self.assertEqual(stats._u_null_counts(3, 3), [1, 1, 2, 3, 3, 3, 3, 2, 1, 1])

    def test_interval_ranks_match_the_published_critical_values(self):
        self.assertEqual(stats._interval_rank(3, 3, 0.95), (1, 0.9))
        k, level = stats._interval_rank(5, 5, 0.95)
        self.assertEqual((k, level), (3, 1 - 8 / 252))
        # Two-sided 5 % critical values of U: 8 for 7 and 7, 127 for 20 and 20 (normal
        # approximation); the interval's rank is one more.
        self.assertEqual(stats._interval_rank(7, 7, 0.95)[0], 9)
        self.assertEqual(stats._interval_rank(20, 20, 0.95)[0], 128)

    def test_interval_of_the_change_from_pairwise_ratios(self):
        (lo, hi), level = stats.change_interval([10, 11, 12, 13, 14], [20, 21, 22, 23, 24])
        self.assertAlmostEqual(lo, 20 / 13 - 1)  # 3rd smallest of the 25 ratios b/a
        self.assertAlmostEqual(hi, 22 / 10 - 1)  # 3rd largest
        self.assertAlmostEqual(level, 1 - 8 / 252)

    @unittest.skipUnless(os.path.isdir(os.path.join(GBENCH, "gbench")),
                         "libbenchmark-tools not installed")
    def test_p_value_is_the_one_compare_py_prints(self):
        sys.path.insert(0, GBENCH)
        try:
            from gbench import report
        finally:
            sys.path.remove(GBENCH)
        a, b = [1.0, 1.31, 0.82, 1.2, 0.9, 1.05], [1.1, 0.85, 1.26, 0.95, 1.04, 1.4]
        _, _, time_p = report.calc_utest([a, b], [a, b])
        self.assertEqual(stats.u_test(a, b), time_p)

    def test_formats(self):
        self.assertEqual([stats.format_p(p) for p in (1.0, 0.4213, 0.0556, 0.0079, 0.0004)],
                         ["1.00", "0.42", "0.056", "0.008", "<0.001"])
        self.assertAlmostEqual(stats.cv([1.0, 2.0, 3.0]), 0.5)
        self.assertIsNone(stats.cv([1.0]))


class GeometricMeanTest(unittest.TestCase):
    def test_ratios_average_geometrically(self):
        self.assertAlmostEqual(stats.geometric_mean([0.5, 2.0]), 1.0)
        self.assertAlmostEqual(stats.geometric_mean([2.0, 8.0]), 4.0)
        self.assertAlmostEqual(stats.geometric_mean([1.1]), 1.1)

    def test_no_ratio_is_an_error(self):
        with self.assertRaisesRegex(ValueError, "no ratios"):
            stats.geometric_mean([])


if __name__ == "__main__":
    unittest.main()
