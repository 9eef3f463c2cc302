"""Is B faster or slower than A? Significance for two samples of repetition times, and for
pairs of them.

Pure computing: nothing here prints or draws. compare.py builds its summary and compare.png on
it, ab.py its paired verdicts (judge_pairs, at the end); the report, the notebook table and the
machine section are meant to reuse it.

    v = judge([1.02e-3, 1.01e-3, ...], [0.81e-3, 0.80e-3, ...])   # seconds, one per repetition
    v.verdict   -> "faster"
    v.text()    -> "faster (p = 0.008)"

The test is Google Benchmark's: a two-sided Mann–Whitney U test through
scipy.stats.mannwhitneyu, called exactly as tools/gbench/report.py calls it (exact p below 8
repetitions a side without ties, else the normal approximation), so a p-value here is the
`_pvalue` row of `scripts/compare --raw`. The interval of the change is the order-statistic
interval that goes with that test (Hodges–Lehmann / Moses): distribution-free, exact for small
samples, and it excludes 0 essentially when the test rejects.
"""
from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, replace
from typing import Iterable, Sequence

from scipy.stats import mannwhitneyu, norm

# A p-value below this is significant (compare.py's default --alpha, criterion.rs's default
# significance level).
ALPHA = 0.05

# Fewer repetitions than this on either side: the p-value is reported, the verdict is "too few
# repetitions". With 3 + 3 the smallest two-sided p possible is 0.1, so no change can ever be
# significant; with 4 + 4 it is 0.029, reached only when every B is on the same side of every A,
# so one stray repetition decides the verdict. From 5 + 5 the smallest p is 0.008 and two
# inversions still give p = 0.032. Google Benchmark's compare.py warns below 9
# (UTEST_OPTIMAL_REPETITIONS): 5 is the floor for a verdict here, 9 is still better.
MIN_REPETITIONS = 5

# Google Benchmark's own floor (UTEST_MIN_REPETITIONS): below 2 a side there is no test at all.
TEST_MIN_REPETITIONS = 2

# A change smaller than this is "no significant change" even when the test is significant:
# repetitions inside one run share the machine's state, two runs at different times do not, and
# shifts of about 1 % between runs are common with no change at all (criterion.rs's default
# noise threshold is the same 1 %).
NOISE_THRESHOLD = 0.01
NOISE_BAND = f"±{NOISE_THRESHOLD * 100:g} %"

# When the test is not significant, "no significant change" must mean that a real change would
# have shown: the interval of the change must lie within ±10 %. When it reaches beyond, a change
# of 10 % or more could hide in the noise and the verdict is "too noisy". With 5 repetitions a
# side this happens from a coefficient of variation of about 6 % (the interval is the 3rd
# smallest and largest of the 25 ratios b/a); with more repetitions the interval narrows, so 40
# repetitions at CV 8 % can still rule out a 10 % change. A significant result is never "too
# noisy": the U test works on ranks, so noise does not make a clean separation less real.
MAX_UNSEEN_CHANGE = 0.10

# The confidence asked of the interval; with few repetitions the closest one possible below it.
CI_LEVEL = 0.95

VERDICTS = ("faster", "slower", "no significant change", "too noisy", "too few repetitions",
            "within drift", "machines differ")


@dataclass(frozen=True)
class Verdict:
    """B against A. Times in seconds; change = median_b / median_a − 1 (−0.25: B 25 % faster).
    ci is the interval of the change at confidence ci_level (None with one repetition a side);
    p_value is None below 2 repetitions a side."""
    median_a: float
    median_b: float
    change: float
    p_value: float | None
    ci: tuple[float, float] | None
    ci_level: float | None
    cv_a: float | None
    cv_b: float | None
    n_a: int
    n_b: int
    verdict: str
    # Two separate runs: how far apart their machines were (beyond_drift), as a fraction.
    drift: float | None = None

    def text(self) -> str:
        """The verdict as a sentence fragment: 'faster (p = 0.008)', 'not distinguishable on this
        machine (anywhere from -25 % to +7 %)', 'too few repetitions (3 and 3, p = 0.10; 5+
        needed)'."""
        p = f"p = {format_p(self.p_value)}" if self.p_value is not None else "no test"
        if self.verdict in ("faster", "slower"):
            return f"{self.verdict} ({p})"
        if self.verdict == "no significant change":
            if self.p_value is not None and self.p_value < ALPHA:
                return f"no significant change ({p}, within {NOISE_BAND})"
            return f"no significant change ({p})"
        if self.verdict == "too noisy":
            return (f"not distinguishable on this machine (anywhere from "
                    f"{self.ci[0] * 100:+.0f} % to {self.ci[1] * 100:+.0f} %)")
        if self.verdict == "within drift":
            return f"within the machines' drift ({p}, but within ±{self.drift * 100:.0f} %)"
        if self.verdict == "machines differ":
            return f"no verdict: the two runs' machines differ by {self.drift * 100:.0f} %"
        return (f"too few repetitions ({self.n_a} and {self.n_b}, {p}; "
                f"{MIN_REPETITIONS}+ needed)")


def format_p(p: float) -> str:
    """1.00, 0.42, 0.056, 0.008, <0.001."""
    if p < 0.001:
        return "<0.001"
    return f"{p:.2f}" if p >= 0.1 else f"{p:.3f}"


def cv(values: Sequence[float]) -> float | None:
    """Coefficient of variation (sample standard deviation / mean), as Google Benchmark's _cv
    rows; None for fewer than 2 values."""
    if len(values) < 2:
        return None
    mean = statistics.fmean(values)
    return statistics.stdev(values) / mean if mean else None


def u_test(a: Sequence[float], b: Sequence[float]) -> float | None:
    """Two-sided Mann–Whitney U p-value, as compare.py computes it; None below 2 values a side."""
    if min(len(a), len(b)) < TEST_MIN_REPETITIONS:
        return None
    return float(mannwhitneyu(a, b, alternative="two-sided").pvalue)


def _u_null_counts(n: int, m: int) -> list[int]:
    """How many of the C(n+m, n) orderings of two untied samples give U = 0, 1, ..., n·m: the
    coefficients of the Gaussian binomial [n+m choose n]_q = prod_{i=1..n} (1-q^(m+i))/(1-q^i)."""
    c = [1] + [0] * (n * m + n * (n + 1) // 2)
    for i in range(1, n + 1):
        k = m + i
        for d in range(len(c) - 1, k - 1, -1):  # times (1 - q^k)
            c[d] -= c[d - k]
        for d in range(i, len(c)):              # divided by (1 - q^i)
            c[d] += c[d - i]
    return c[:n * m + 1]


def _interval_rank(n: int, m: int, level: float) -> tuple[int, float]:
    """k (1-based) such that the k-th smallest and k-th largest of the n·m pairwise differences
    bound an interval of confidence >= level, and that confidence. With samples too small for
    `level`, k = 1 (the extreme differences) and the confidence they do give."""
    tail = (1 - level) / 2
    if n >= 8 or m >= 8:  # where scipy leaves the exact distribution too
        sd = math.sqrt(n * m * (n + m + 1) / 12)
        k = max(1, math.floor(n * m / 2 + 0.5 - norm.ppf(1 - tail) * sd))
        return k, 1 - 2 * norm.cdf((k - 0.5 - n * m / 2) / sd)
    counts = _u_null_counts(n, m)
    total = math.comb(n + m, n)
    below, k = 0, 0
    while below + counts[k] <= tail * total:  # P(U <= k) <= tail
        below += counts[k]
        k += 1
    if k == 0:
        k, below = 1, counts[0]
    return k, 1 - 2 * below / total


def change_interval(a: Sequence[float], b: Sequence[float], level: float = CI_LEVEL):
    """((low, high), confidence) of the change B/A − 1, from the pairwise ratios b_j / a_i
    (Hodges–Lehmann / Moses order-statistic interval on log times); None with one value a side.
    The confidence is `level`, or less when the samples are too small for it (3 + 3 give 0.90)."""
    if min(len(a), len(b)) < 2:
        return None
    d = sorted(math.log(y) - math.log(x) for x in a for y in b)
    k, got = _interval_rank(len(a), len(b), level)
    return (math.exp(d[k - 1]) - 1, math.exp(d[len(d) - k]) - 1), got


def judge(a: Sequence[float], b: Sequence[float]) -> Verdict:
    """The verdict on B against A, from their repetition times in seconds (all > 0)."""
    if not a or not b:
        raise ValueError("judge needs at least one time on each side")
    if min(min(a), min(b)) <= 0:
        raise ValueError("judge needs times greater than 0")
    ma, mb = statistics.median(a), statistics.median(b)
    change = mb / ma - 1
    p = u_test(a, b)
    ci = change_interval(a, b)
    cv_a, cv_b = cv(a), cv(b)
    if p is None or min(len(a), len(b)) < MIN_REPETITIONS:
        verdict = "too few repetitions"
    elif p < ALPHA and abs(change) >= NOISE_THRESHOLD:
        verdict = "faster" if change < 0 else "slower"
    elif p < ALPHA:
        verdict = "no significant change"
    elif max(-ci[0][0], ci[0][1]) > MAX_UNSEEN_CHANGE:
        verdict = "too noisy"
    else:
        verdict = "no significant change"
    return Verdict(ma, mb, change, p, ci[0] if ci else None, ci[1] if ci else None, cv_a, cv_b,
                   len(a), len(b), verdict)


def beyond_drift(v: Verdict, drift: float, detect: float) -> Verdict:
    """The verdict on two separate runs whose machines were up to `drift` apart (0.31: one
    run's machine was 31 % slower or faster, as far as their records show). The U test only
    knows the repetitions' own noise, so:
    - drift > detect (the change the caller asks to detect): "machines differ", whatever the
      test says: a change of `detect` cannot be told from the machine;
    - otherwise a "faster" or "slower" stays one only when its whole interval lies beyond
      ±drift, and becomes "within drift" when it does not; the other verdicts stand."""
    if drift > detect:
        return replace(v, verdict="machines differ", drift=drift)
    if v.verdict in ("faster", "slower") and v.ci and v.ci[0] <= drift and v.ci[1] >= -drift:
        return replace(v, verdict="within drift", drift=drift)
    return replace(v, drift=drift)


def geometric_mean(ratios: Iterable[float]) -> float:
    """Geometric mean of ratios (e.g. B/A per benchmark): 0.5 and 2.0 average to 1.0."""
    logs = [math.log(r) for r in ratios]
    if not logs:
        raise ValueError("geometric_mean of no ratios")
    return math.exp(math.fsum(logs) / len(logs))


# --- paired comparisons (scripts/ab) ----------------------------------------------------------
#
# scripts/ab measures A and B in pairs, one repetition of each close in time and in a random
# order, so the machine's drift hits both halves of a pair alike and cancels in the ratio B/A.
# With A and B the same, the order being random makes log(B/A) symmetric about 0, whatever the
# noise: the Wilcoxon signed-rank interval below is then exact, and an A/A session calls a
# benchmark changed with probability at most 1 − PAIRED_LEVEL (before the minimum effect).

# The confidence of the paired interval. asv calls a change only at p < 0.002: a session judges
# every benchmark of a suite at once (86 in the smoke suite), and at 95 % an A/A session would
# call about four of them changed, at 99 % about one; at 99.8 % about one session in six calls
# one (before MIN_EFFECT removes most of those).
PAIRED_LEVEL = 0.998

# A change smaller than this is "no change" even when the interval excludes 0: two builds of
# the same code differ that much by code layout alone, and no user asks about less.
MIN_EFFECT = 0.02

# Fewer pairs than this: no verdict. 2 / 2^n is the smallest two-sided p that n pairs can give;
# below 10 pairs it is above 1 − PAIRED_LEVEL, so no interval could ever exclude 0. From 20
# pairs on (scripts/ab's default) one wild pair cannot move the interval: it drops 26 of the 210
# Walsh averages at each end, and one pair spoils 20.
MIN_PAIRS = 10

PAIRED_VERDICTS = ("slower", "faster", "too noisy", "no change", "too few pairs")


@dataclass(frozen=True)
class PairedVerdict:
    """B against A from n pairs (a_i, b_i) of times in seconds. ratio is the median of b_i / a_i,
    ci the interval of the ratio at confidence ci_level (None below 2 pairs), noise the pairs'
    own spread (robust sd of log(b_i / a_i): 0.05 means a pair's ratio wanders by about 5 %)."""
    median_a: float
    median_b: float
    ratio: float
    ci: tuple[float, float] | None
    ci_level: float | None
    noise: float
    n: int
    verdict: str

    @property
    def change(self) -> float:
        return self.ratio - 1

    @property
    def negligible(self) -> bool:
        """The interval excludes no change, but the change is under MIN_EFFECT."""
        return self.verdict == "no change" and self.ci is not None and \
            (self.ci[0] > 1 or self.ci[1] < 1)

    def text(self) -> str:
        """The verdict and the interval of the change: 'slower (+7.2 to +12.1 %)', 'no change
        (-1.0 to +1.5 %)', 'no change (under 2 %: +0.7 to +1.4 %)', 'too noisy (anywhere from
        -12.0 to +20.1 %)', 'too few pairs (9; 10+ needed)'."""
        if self.verdict == "too few pairs":
            return f"too few pairs ({self.n}; {MIN_PAIRS}+ needed)"
        span = f"{(self.ci[0] - 1) * 100:+.1f} to {(self.ci[1] - 1) * 100:+.1f} %"
        if self.negligible:
            return f"no change (under {MIN_EFFECT * 100:g} %: {span})"
        if self.verdict == "too noisy":
            return f"too noisy (anywhere from {span})"
        return f"{self.verdict} ({span})"


def _signed_rank_null_counts(n: int) -> list[int]:
    """How many of the 2^n sign patterns of n untied ranks give W+ = 0, 1, ..., n(n+1)/2: the
    coefficients of prod_{i=1..n} (1 + q^i)."""
    top = n * (n + 1) // 2
    c = [1] + [0] * top
    for i in range(1, n + 1):
        for w in range(top, i - 1, -1):
            c[w] += c[w - i]
    return c


# Up to this many pairs the signed-rank distribution is counted exactly (2^60 fits a float's
# exponent easily; Python's integers are exact); beyond, the normal approximation.
EXACT_SIGNED_RANK = 60


def _walsh_rank(n: int, level: float) -> tuple[int, float]:
    """k (1-based) such that the k-th smallest and k-th largest of the n(n+1)/2 Walsh averages
    bound an interval of confidence >= level, and that confidence; k = 1 and the confidence it
    does give when n pairs are too few for `level`."""
    tail = (1 - level) / 2
    top = n * (n + 1) // 2
    if n > EXACT_SIGNED_RANK:
        sd = math.sqrt(n * (n + 1) * (2 * n + 1) / 24)
        k = max(1, math.floor(top / 2 + 0.5 - norm.ppf(1 - tail) * sd))
        return k, 1 - 2 * norm.cdf((k - 0.5 - top / 2) / sd)
    counts = _signed_rank_null_counts(n)
    total = 2 ** n
    below, k = 0, 0
    while below + counts[k] <= tail * total:  # P(W+ <= k) <= tail
        below += counts[k]
        k += 1
    if k == 0:
        k, below = 1, counts[0]
    return k, 1 - 2 * below / total


def paired_interval(logs: Sequence[float], level: float = PAIRED_LEVEL):
    """((low, high), confidence) of the centre of the log ratios, as ratios: the Wilcoxon
    signed-rank interval (Hodges–Lehmann), from the order statistics of the Walsh averages
    (d_i + d_j) / 2, i <= j. Distribution-free and exact for a distribution symmetric about its
    centre; None below 2 values."""
    n = len(logs)
    if n < 2:
        return None
    walsh = sorted((logs[i] + logs[j]) / 2 for i in range(n) for j in range(i, n))
    k, got = _walsh_rank(n, level)
    return (math.exp(walsh[k - 1]), math.exp(walsh[len(walsh) - k])), got


def robust_sd(values: Sequence[float]) -> float:
    """1.4826 × the median absolute deviation: the sd for normal data, unmoved by a few
    outliers; 0 for fewer than 2 values."""
    if len(values) < 2:
        return 0.0
    m = statistics.median(values)
    return 1.4826 * statistics.median(abs(v - m) for v in values)


def could_settle(v: PairedVerdict, more: int) -> bool:
    """Whether `more` pairs could settle a "too noisy" verdict: with the pairs' own noise, the
    interval of n + more pairs (about ± z · noise / √(n + more) in log B/A, z of PAIRED_LEVEL)
    would fit within ±MAX_UNSEEN_CHANGE. A benchmark whose pairs wander by 35 % needs some 130
    pairs for that; adding 30 would only look at it again."""
    z = statistics.NormalDist().inv_cdf((1 + PAIRED_LEVEL) / 2)
    return z * v.noise / math.sqrt(v.n + more) <= math.log1p(MAX_UNSEEN_CHANGE)


def judge_pairs(pairs: Sequence[tuple[float, float]]) -> PairedVerdict:
    """The verdict on B against A from pairs (a_i, b_i) of times in seconds (all > 0):
    - too few pairs: fewer than MIN_PAIRS;
    - slower / faster: the interval of the ratio excludes 1 and the median ratio is at least
      MIN_EFFECT away from it;
    - no change: the interval lies within ±MAX_UNSEEN_CHANGE (a change that large would have
      shown), or it excludes 1 but the change is under MIN_EFFECT;
    - too noisy: otherwise: the pairs' own noise leaves room for a change of MAX_UNSEEN_CHANGE."""
    if not pairs:
        raise ValueError("judge_pairs needs at least one pair")
    if min(min(p) for p in pairs) <= 0:
        raise ValueError("judge_pairs needs times greater than 0")
    logs = [math.log(b / a) for a, b in pairs]
    ratio = math.exp(statistics.median(logs))
    interval = paired_interval(logs)
    ci, level = interval if interval else (None, None)
    n = len(pairs)
    if n < MIN_PAIRS or ci is None:
        verdict = "too few pairs"
    elif (ci[0] > 1 or ci[1] < 1) and abs(ratio - 1) >= MIN_EFFECT:
        verdict = "slower" if ratio > 1 else "faster"
    elif ci[0] > 1 or ci[1] < 1 or max(1 - ci[0], ci[1] - 1) <= MAX_UNSEEN_CHANGE:
        verdict = "no change"
    else:
        verdict = "too noisy"
    return PairedVerdict(statistics.median(a for a, _ in pairs),
                         statistics.median(b for _, b in pairs), ratio, ci, level,
                         robust_sd(logs), n, verdict)
