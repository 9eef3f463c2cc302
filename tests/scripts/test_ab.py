"""scripts/ab.py: the paired verdicts on fixture data (ab_A.json, ab_B.json from
make_fixtures.py: identical pairs, a clean 10 % shift, a 10 % shift with one wild pair, noisy
pairs, a 1 % shift, a benchmark failing in B), a whole session against the fake binary (A/A, and
B with --inject_slowdown=10 caught, --fail-on-regression), revisions built once in a throwaway
repository whose CMakeLists "builds" the fake binary, and bad input: one `fatal:` line, exit 2,
nothing written, no worktree left behind."""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

import support
from support import FAKE_BINARY, fixture, png_size

import ab
import compare
import concbench_results as cr
import stats

AB = os.path.join(support.SCRIPTS, "ab.py")


def run_ab(*args, cwd=None, script=AB, timeout=240, **fake_env):
    # A revision's fake binary is a copy under build/ab/, away from the fixtures it reads.
    env = dict(os.environ, FAKE_CONCBENCH_TABLES=fixture("concbench_tables.json"), **fake_env)
    return subprocess.run([sys.executable, script, *args], capture_output=True, text=True,
                          timeout=timeout, cwd=cwd, env=env)


def fixture_analysis():
    return ab.analyse(cr.load(fixture("ab_A.json")), cr.load(fixture("ab_B.json")))


class PairedVerdictTest(unittest.TestCase):
    """stats.judge_pairs on pairs written out by hand."""
    A = [1.00, 1.02, 0.99, 1.05, 0.97, 1.01, 1.03, 0.98, 1.04, 1.00, 0.96, 1.02]

    def test_identical_pairs_are_no_change_with_a_zero_width_interval(self):
        v = stats.judge_pairs([(a, a) for a in self.A])
        self.assertEqual(v.verdict, "no change")
        self.assertEqual((v.ratio, v.ci, v.noise, v.n), (1.0, (1.0, 1.0), 0.0, 12))
        # The 3rd smallest and largest Walsh averages: P(W+ <= 2) = 3 / 2^12 for 12 pairs.
        self.assertAlmostEqual(v.ci_level, 1 - 2 * 3 / 2 ** 12)
        self.assertEqual(v.text(), "no change (+0.0 to +0.0 %)")

    def test_a_clean_ten_percent_shift_is_slower_whatever_the_drift_of_a(self):
        drifting = [a * (1 + i / 10) for i, a in enumerate(self.A)]  # A slows by 110 %
        v = stats.judge_pairs([(a, a * 1.10) for a in drifting])
        self.assertEqual(v.verdict, "slower")
        self.assertAlmostEqual(v.ratio, 1.10)
        self.assertAlmostEqual(v.ci[0], 1.10)
        self.assertAlmostEqual(v.ci[1], 1.10)
        self.assertAlmostEqual(v.change, 0.10)

    def test_the_same_shift_the_other_way_is_faster(self):
        v = stats.judge_pairs([(a, a / 1.10) for a in self.A])
        self.assertEqual(v.verdict, "faster")
        self.assertAlmostEqual(v.change, 1 / 1.10 - 1)

    def test_one_wild_pair_of_twenty_does_not_decide(self):
        # Of 20 pairs' 210 Walsh averages the interval drops 26 at each end; one wild pair
        # makes only 20 of them wild. (Of 12 pairs' 78 it drops 2: one wild pair, 12 wild
        # averages, would widen the interval to it.)
        pairs = [(a, a * 1.10) for a in self.A + self.A[:8]]
        pairs[4] = (1.0, 0.2)  # B five times faster, once
        v = stats.judge_pairs(pairs)
        self.assertEqual(v.verdict, "slower")
        self.assertAlmostEqual(v.ratio, 1.10)
        self.assertEqual(v.noise, 0.0)  # the robust spread ignores it

    def test_a_significant_change_under_two_percent_is_no_change(self):
        v = stats.judge_pairs([(a, a * 1.015) for a in self.A])
        self.assertEqual(v.verdict, "no change")
        self.assertTrue(v.negligible)
        self.assertEqual(v.text(), "no change (under 2 %: +1.5 to +1.5 %)")

    def test_noisy_pairs_are_too_noisy(self):
        ratios = [0.7, 1.4, 0.9, 1.25, 0.8, 1.3, 1.1, 0.75, 1.2, 0.95, 1.35, 0.85]
        v = stats.judge_pairs([(1.0, r) for r in ratios])
        self.assertEqual(v.verdict, "too noisy")
        self.assertLess(v.ci[0], 1 / 1.10)
        self.assertGreater(v.ci[1], 1.10)
        self.assertTrue(v.text().startswith("too noisy (anywhere from -"))

    def test_nine_pairs_are_too_few(self):
        v = stats.judge_pairs([(a, a * 1.5) for a in self.A[:9]])
        self.assertEqual(v.verdict, "too few pairs")
        self.assertEqual(v.text(), "too few pairs (9; 10+ needed)")

    def test_the_interval_rank_of_twenty_pairs(self):
        # Wilcoxon signed-rank, n = 20 (counted by brute force over the 2^20 sign patterns):
        # P(W+ <= 26) = 1041 / 2^20 <= 0.001 < P(W+ <= 27) = 1219 / 2^20.
        k, level = stats._walsh_rank(20, 0.998)
        self.assertEqual(k, 27)
        self.assertAlmostEqual(level, 1 - 2 * 1041 / 2 ** 20)

    def test_more_pairs_are_asked_only_where_they_could_settle_the_verdict(self):
        def noisy(noise, n=20):
            return stats.PairedVerdict(1, 1, 1, (0.8, 1.2), 0.998, noise, n, "too noisy")
        # ± 3.09 · noise / √(n + more) must fit in ±log(1.1) = ±0.095.
        self.assertTrue(stats.could_settle(noisy(0.15), 30))    # 0.066
        self.assertFalse(stats.could_settle(noisy(0.35), 30))   # 0.153
        self.assertTrue(stats.could_settle(noisy(0.35), 150))   # 0.082
        self.assertFalse(stats.could_settle(noisy(0.15), 0))    # 0.104

    def test_bad_times_are_refused(self):
        with self.assertRaises(ValueError):
            stats.judge_pairs([])
        with self.assertRaises(ValueError):
            stats.judge_pairs([(1.0, 0.0)])


class FixtureTest(unittest.TestCase):
    """ab.analyse on a session's A.json and B.json."""

    @classmethod
    def setUpClass(cls):
        cls.an = fixture_analysis()
        cls.by_key = {r.key: r for r in cls.an.rows}

    def verdict(self, key):
        return self.by_key[key].verdict

    def test_each_benchmark_gets_its_verdict(self):
        self.assertEqual({k: r.verdict.verdict for k, r in self.by_key.items()}, {
            "sync/sleep/tasks:2/sleep_ms:1": "no change",
            "sync/cpu/tasks:2/n:1000": "slower",
            "threads/cpu/tasks:2/workers:2/n:1000": "slower",
            "threads/startup/workers:2": "too noisy",
            "sync/trabajo/tasks:3": "no change",
        })

    def test_pairs_are_matched_by_their_index_and_the_drift_of_a_cancels(self):
        v = self.verdict("sync/cpu/tasks:2/n:1000")
        self.assertEqual(v.n, 12)
        self.assertAlmostEqual(v.ratio, 1.10, delta=0.005)
        self.assertLess(v.ci[1] - v.ci[0], 0.02)  # A itself drifted by 50 %
        self.assertLess(v.noise, 0.01)

    def test_rows_come_verdicts_first(self):
        self.assertEqual([r.verdict.verdict for r in self.an.rows],
                         ["slower", "slower", "too noisy", "no change", "no change"])

    def test_a_benchmark_failing_in_one_pair_is_listed_not_judged(self):
        self.assertEqual(self.an.failed, [("B", "processes/cpu/tasks:2/workers:2/n:1000/chunksize:1",
                                           "worker 1 (pid 4242) killed by signal 9 (SIGKILL) "
                                           "during task 2")])

    def test_the_injected_slowdown_is_read_from_the_context(self):
        self.assertEqual(self.an.slowdown, {"A": 0.0, "B": 10.0})

    def test_the_table_reads_whole(self):
        lines = ab.table_lines(self.an.rows)
        self.assertEqual(lines[0], "verdict      change   interval of B/A   noise        A  "
                                   "benchmark")
        self.assertEqual(lines[2], "slower       +9.9 %   +9.6 to +10.5 %   0.4 %   3.5 µs  "
                                   "sync/cpu/tasks:2/n:1000")
        self.assertEqual(lines[4], "no change*   +1.0 %    +0.7 to +1.4 %   0.4 %   206 µs  "
                                   "sync/trabajo/tasks:3")

    def test_regressions_are_slower_verdicts_beyond_the_percentage(self):
        self.assertEqual(len(compare.regressions(self.an.rows, 5)), 2)
        self.assertEqual(compare.regressions(self.an.rows, 11), [])


class SessionTest(unittest.TestCase):
    """Whole sessions against the fake binary (deterministic times: A/A pairs are identical)."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="ab-test-")
        cls.out = os.path.join(cls.tmp, "slow")
        cls.p = run_ab(FAKE_BINARY, FAKE_BINARY, "--suite=sweep", "--pairs=10", "--seed=7",
                       "--b-flags=--inject_slowdown=10", "--fail-on-regression=5", "-o", cls.out)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def test_the_injected_slowdown_is_caught_and_fails_the_gate(self):
        self.assertEqual(self.p.returncode, 1, self.p.stderr)
        self.assertIn("\nslower 2, no change 9 (11 benchmarks; 99.8 % intervals, changes under "
                      "2 % are no change)\n", self.p.stdout)
        # The fake's time is 1.05 × its ideal + 0.1 ms, and only the ideal grows by 10 %.
        self.assertIn("\nslower   +9.5 %   +9.5 to +9.5 %  0.0 %  2.2 ms   ≈+9.1 %  "
                      "processes/cpu/tasks:4/workers:2/n:1000\n", self.p.stdout)
        self.assertIn("regression: processes/cpu/tasks:4/workers:1/n:1000: +9.8 %, slower "
                      "(+9.8 to +9.8 %), beyond --fail-on-regression=5\n", self.p.stderr)

    def test_the_change_the_slowdown_should_make_is_shown(self):
        self.assertIn("\nverdict  change  interval of B/A  noise       A  expected  benchmark\n",
                      self.p.stdout)
        self.assertIn("\nexpected: what the injected slowdown should do, from the growth of the "
                      "calibrated ideal (ideal_s of B − of A) / A's time\n", self.p.stdout)

    def test_the_header_says_what_b_injects(self):
        self.assertIn("\nB: every compute step did 10 % more work (--inject_slowdown=10, a "
                      "positive control)", self.p.stdout)
        self.assertIn(f"B = {FAKE_BINARY}  (built from an unknown commit, with "
                      "--inject_slowdown=10)\n", self.p.stdout)

    def test_the_folder_holds_both_sides_pair_by_pair_and_the_chart(self):
        self.assertEqual(sorted(os.listdir(self.out)), ["A.json", "B.json", "ab.png", "ab.txt"])
        png_size(os.path.join(self.out, "ab.png"))
        with open(os.path.join(self.out, "B.json")) as f:
            b = json.load(f)
        self.assertEqual(b["context"]["concbench_inject_slowdown_pct"], "10")
        order = b["context"]["ab_order"].split()
        self.assertEqual(len(order), 10)
        self.assertEqual(set(order), {"AB", "BA"}, "both orders, at random")
        reps = sorted({r["repetition_index"] for r in b["benchmarks"]})
        self.assertEqual(reps, list(range(10)))
        with open(os.path.join(self.out, "ab.txt")) as f:
            self.assertIn("slower 2, no change 9", f.read())

    def test_both_sides_skip_the_calibration_ab_does_not_read(self):
        for side in ("A", "B"):
            with open(os.path.join(self.out, f"{side}.json")) as f:
                self.assertIn("no_machine_ideal", json.load(f)["context"]["concbench_options"])

    def test_neither_side_skips_it_when_one_binary_lacks_the_flag(self):
        old = os.path.join(self.tmp, "old_concbench")
        with open(old, "w") as f:
            f.write(f"#!/bin/sh\nFAKE_CONCBENCH_OLD=1 exec {sys.executable} {FAKE_BINARY} \"$@\"\n")
        os.chmod(old, 0o755)
        out = os.path.join(self.tmp, "old")
        p = run_ab(old, FAKE_BINARY, "--suite=sweep", "--pairs=10", "--benchmark_filter=^sync",
                   "-o", out)
        self.assertEqual(p.returncode, 0, p.stderr)
        for side in ("A", "B"):
            with open(os.path.join(out, f"{side}.json")) as f:
                self.assertEqual(json.load(f)["context"]["concbench_options"], "suite=sweep")

    def test_a_and_a_is_no_change_everywhere_and_passes_the_gate(self):
        out = os.path.join(self.tmp, "same")
        p = run_ab(FAKE_BINARY, FAKE_BINARY, "--suite=sweep", "--pairs=10",
                   "--benchmark_filter=^sync", "--fail-on-regression=5", "-o", out, "--all")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("\nno change 3 (3 benchmarks;", p.stdout)
        self.assertEqual(p.stdout.count("\nno change  "), 3)
        self.assertNotIn("only in", p.stdout)


class FollowUpTest(unittest.TestCase):
    """A/A sessions whose one benchmark wanders at random: by ±15 %, after the first 10 pairs it
    alone is too noisy and the follow-up measures it alone; by ±60 %, no 15 more pairs could
    settle it, and it is left out."""

    NOISY = "threads/sleep/tasks:16/workers:4/sleep_ms:1/real_time"

    def session(self, noise_pct, *flags):
        tmp = tempfile.mkdtemp(prefix="ab-follow-")
        self.addCleanup(shutil.rmtree, tmp, ignore_errors=True)
        out = os.path.join(tmp, "out")
        p = run_ab(FAKE_BINARY, FAKE_BINARY, "--suite=sweep", "--pairs=10", "--seed=3", "-o", out,
                   *flags, FAKE_CONCBENCH_NOISE=f"{self.NOISY}:{noise_pct}")
        self.assertEqual(p.returncode, 0, p.stderr)
        with open(os.path.join(out, "B.json")) as f:
            b = json.load(f)
        pairs = {}
        for r in b["benchmarks"]:
            pairs.setdefault(r["run_name"], []).append(r["repetition_index"])
        return p, b, pairs

    def test_the_benchmarks_still_too_noisy_get_more_pairs_and_no_other_does(self):
        p, b, pairs = self.session(15, "--more-pairs=15")
        self.assertIn("then at most 15 more of those still too noisy", p.stderr)
        self.assertIn("(follow-up: the 1 still too noisy)", p.stderr)
        noisy = pairs.pop(self.NOISY)
        for name, got in pairs.items():
            self.assertEqual(got, list(range(10)), name)
        # 10 pairs of everything, then blocks of 10 and 5 while it stays too noisy.
        self.assertIn(len(noisy), (20, 25), b["context"]["ab_follow_up"])
        self.assertEqual(noisy, list(range(len(noisy))))
        self.assertEqual({r["repetitions"] for r in b["benchmarks"]
                          if r["run_name"] == self.NOISY}, {len(noisy)})
        self.assertEqual(b["context"]["ab_follow_up"], "10x1" if len(noisy) == 20 else "10x1 5x1")
        self.assertEqual(len(b["context"]["ab_order"].split()), len(noisy))
        self.assertIn(f"then {len(noisy) - 10} more of those still too noisy (10 pairs of 1 "
                      "benchmark", p.stdout)
        self.assertNotIn("not followed up", p.stdout)

    def test_a_benchmark_no_follow_up_could_settle_is_left_out_and_said_so(self):
        p, b, pairs = self.session(60, "--more-pairs=15")
        self.assertEqual(set(map(len, pairs.values())), {10})
        self.assertEqual(b["context"]["ab_follow_up"], "")
        self.assertRegex(p.stdout, r"\nnot followed up: 1 benchmark too noisy to settle in the "
                                   r"follow-up's pairs \(a pair's ratio wanders by \d+ %; see")

    def test_the_follow_up_stops_at_the_time_limit_and_says_so(self):
        p, b, pairs = self.session(15, "--more-pairs=15", "--max-minutes=0.001")
        self.assertEqual(set(map(len, pairs.values())), {10})
        self.assertEqual(b["context"]["ab_follow_up"], "")
        self.assertIn("\nstopped at the 0.001-minute limit (--max-minutes): 1 benchmark still "
                      "too noisy got no more pairs\n", p.stdout)

    def test_blocks_grow_so_that_more_pairs_add_few_looks(self):
        self.assertEqual(list(ab.follow_up_blocks(70)), [10, 20, 40])
        self.assertEqual(list(ab.follow_up_blocks(15)), [10, 5])
        self.assertEqual(list(ab.follow_up_blocks(100)), [10, 20, 40, 30])
        self.assertEqual(list(ab.follow_up_blocks(0)), [])

    def test_a_pair_is_estimated_from_the_benchmarks_it_runs(self):
        costs = ab.Costs()
        names = {"x": "x/real_time", "y": "y/real_time"}
        row = lambda name, ms, it: {"run_name": name, "real_time": ms, "time_unit": "ms",  # noqa: E731
                                    "iterations": it}
        # x: 10 × 10 ms = 0.1 s timed, y: 0.3 s; the process took 0.8 s: a factor of 2.
        costs.add(names, [row("x/real_time", 10, 10), row("y/real_time", 30, 10)], 0.8)
        self.assertAlmostEqual(costs.pair_seconds(["y"]), 2 * 2 * 0.3)
        self.assertAlmostEqual(costs.pair_seconds(["x", "y"]), 2 * 0.8)
        self.assertAlmostEqual(costs.pair_seconds(["z"]), 2 * 2 * 0.2)  # the median benchmark

    def test_no_follow_up_with_zero_more_pairs(self):
        p, b, pairs = self.session(15, "--more-pairs=0")
        self.assertNotIn("follow-up", p.stderr)
        self.assertEqual(b["context"]["ab_follow_up"], "")
        self.assertEqual(set(map(len, pairs.values())), {10})


class RevisionTest(unittest.TestCase):
    """Revisions of a throwaway repository holding scripts/ and the fake binary, whose
    CMakeLists "builds" concbench by copying the fake; a broken and a hanging CMakeLists."""

    GOOD = ("cmake_minimum_required(VERSION 3.20)\nproject(fake NONE)\n"
            "add_custom_target(concbench ALL COMMAND ${CMAKE_COMMAND} -E copy "
            "${CMAKE_SOURCE_DIR}/fake_concbench.py ${CMAKE_BINARY_DIR}/concbench)\n")
    BROKEN = "this is not cmake (\n"
    HANGING = "cmake_minimum_required(VERSION 3.20)\nproject(fake NONE)\n" \
              "execute_process(COMMAND sleep 120)\n"

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="ab-repo-")
        cls.repo = os.path.join(cls.tmp, "repo")
        shutil.copytree(support.SCRIPTS, os.path.join(cls.repo, "scripts"),
                        ignore=shutil.ignore_patterns("__pycache__"))
        shutil.copy(FAKE_BINARY, cls.repo)
        with open(os.path.join(cls.repo, ".gitignore"), "w") as f:
            f.write("build/\n__pycache__/\n")
        cls.git("init", "-q")
        cls.commits = {}
        for name, text in (("good", cls.GOOD), ("broken", cls.BROKEN), ("hanging", cls.HANGING)):
            with open(os.path.join(cls.repo, "CMakeLists.txt"), "w") as f:
                f.write(text)
            cls.git("add", "-A")
            cls.git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", name)
            cls.commits[name] = cls.git("rev-parse", "HEAD").strip()
        cls.script = os.path.join(cls.repo, "scripts", "ab.py")
        cls.cache = os.path.join(cls.repo, "build", "ab")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    @classmethod
    def git(cls, *args):
        return subprocess.run(["git", "-C", cls.repo, *args], capture_output=True, text=True,
                              check=True).stdout

    def assert_no_worktree_left(self):
        self.assertEqual(self.git("worktree", "list", "--porcelain").count("worktree "), 1)
        left = [n for n in os.listdir(self.cache) if n.startswith(".")]
        self.assertEqual(left, [], "a build folder was left behind")

    def run_in_repo(self, *args, timeout=240):
        return run_ab(*args, "--suite=smoke", "--pairs=1", script=self.script, cwd=self.repo,
                      timeout=timeout)

    def test_a_revision_is_built_once_then_reused(self):
        good = self.commits["good"]
        first = self.run_in_repo(good, good, "-o", os.path.join(self.tmp, "first"))
        self.assertEqual(first.returncode, 0, first.stderr)
        self.assertEqual(first.stderr.count(f"ab: building A = {good} (commit {good[:12]})"), 1)
        self.assertNotIn("building B", first.stderr, "B is the same commit: built already")
        binary = os.path.join(self.cache, good, "concbench")
        self.assertTrue(os.access(binary, os.X_OK))
        self.assertEqual(os.listdir(self.cache), [good])  # the build's log went too
        self.assert_no_worktree_left()
        second = self.run_in_repo("HEAD~2", good, "-o", os.path.join(self.tmp, "second"))
        self.assertEqual(second.returncode, 0, second.stderr)
        self.assertNotIn("building", second.stderr)
        self.assertIn(f"A = HEAD~2  (commit {good[:12]}, build/ab/{good}/concbench)",
                      second.stdout)

    def test_a_revision_that_does_not_build_is_one_line_and_leaves_its_log(self):
        broken = self.commits["broken"][:12]
        out = os.path.join(self.tmp, "broken")
        p = self.run_in_repo(FAKE_BINARY, "HEAD~1", "-o", out)
        self.assertEqual(p.returncode, 2)
        fatal = [ln for ln in p.stderr.splitlines() if ln.startswith("fatal:")]
        self.assertEqual(fatal, [f"fatal: B: commit {broken} does not build: cmake (configure) "
                                 f"failed (exit 1); its output is in build/ab/{broken}.log"])
        self.assertNotIn("Traceback", p.stderr)
        self.assertEqual(p.stdout, "")
        self.assertFalse(os.path.exists(out))
        self.assertTrue(os.path.isfile(os.path.join(self.cache, f"{broken}.log")))
        self.assertFalse(os.path.exists(os.path.join(self.cache, self.commits["broken"])))
        self.assert_no_worktree_left()

    def test_an_interrupted_build_leaves_nothing(self):
        hanging = self.commits["hanging"]
        proc = subprocess.Popen([sys.executable, self.script, FAKE_BINARY, hanging, "-o",
                                 os.path.join(self.tmp, "hanging")], cwd=self.repo,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and "sleep 120" not in subprocess.run(
                ["ps", "-eo", "args"], capture_output=True, text=True).stdout:
            time.sleep(0.2)
        self.assertEqual(self.git("worktree", "list", "--porcelain").count("worktree "), 2,
                         "the build's worktree exists while it runs")
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
        self.assertEqual(proc.returncode, 130, err)
        self.assertTrue(err.endswith("ab: interrupted; nothing written\n"), err)
        self.assert_no_worktree_left()
        self.assertFalse(any(n.startswith(hanging[:12]) for n in os.listdir(self.cache)))
        self.assertNotIn("sleep 120", subprocess.run(["ps", "-eo", "args"], capture_output=True,
                                                     text=True).stdout)


class BadInputTest(unittest.TestCase):
    def setUp(self):
        tmp = tempfile.TemporaryDirectory()
        self.addCleanup(tmp.cleanup)
        self.out = os.path.join(tmp.name, "out")

    def assert_one_fatal_line(self, p, text):
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertEqual(p.stderr.count("\n"), 1, p.stderr)
        self.assertTrue(p.stderr.startswith("fatal: "), p.stderr)
        self.assertIn(text, p.stderr)
        self.assertEqual(p.stdout, "")
        self.assertFalse(os.path.exists(self.out), "nothing written")

    def test_an_unknown_revision(self):
        self.assert_one_fatal_line(run_ab("no-such-revision", FAKE_BINARY, "-o", self.out),
                                   "fatal: A: 'no-such-revision' is neither a concbench binary "
                                   f"nor a revision of {support.REPO}")

    def test_a_file_that_cannot_run(self):
        self.assert_one_fatal_line(run_ab(FAKE_BINARY, fixture("ab_A.json"), "-o", self.out),
                                   f"fatal: B: {fixture('ab_A.json')} is a file but not "
                                   "executable")

    def test_two_binaries_with_no_benchmark_in_common(self):
        self.assert_one_fatal_line(
            run_ab(FAKE_BINARY, FAKE_BINARY, "--a-flags=--suite=sweep",
                   "--b-flags=--suite=notebook", "-o", self.out),
            "fatal: A and B have no benchmark in common: nothing to compare (A lists 11, e.g. "
            "sync/sleep/tasks:1/sleep_ms:1; B lists 1, e.g. sync/sleep/tasks:5/sleep_ms:500)")

    def test_a_flag_concbench_refuses(self):
        self.assert_one_fatal_line(run_ab(FAKE_BINARY, FAKE_BINARY, "--tasks=0", "-o", self.out),
                                   "fatal: A: concbench refused the flags --tasks=0: --tasks: "
                                   "'0' is out of range")
        self.assert_one_fatal_line(
            run_ab(FAKE_BINARY, FAKE_BINARY, "--b-flags=--inject_slowdown=x", "-o", self.out),
            "fatal: B: concbench refused the flags --inject_slowdown=x: --inject_slowdown needs "
            "a number of percent from 0 to 1000, got 'x'")

    def test_bad_flags_of_ab_itself(self):
        for args, text in (
                (["--pairs=0"], "argument --pairs: expected a whole number from 1 to 1000, not "
                                "'0'"),
                (["--fail-on-regression=lots"], "argument --fail-on-regression: expected a "
                                                "percentage"),
                (["--benchmark_repetitions=5"], "--benchmark_repetitions=5: scripts/ab runs one "
                                                "repetition per process; --pairs says how many"),
                (["--b-flags=--benchmark_out=x.json"], "--benchmark_out=x.json in --b-flags: "
                                                       "scripts/ab writes the results itself"),
                (["--benchmark_list_tests=true"], "scripts/ab lists and runs the benchmarks "
                                                  "itself"),
                (["--a-flags='unclosed"], "--a-flags or --b-flags: No closing quotation"),
                (["stray"], "unexpected argument 'stray' (concbench flags start with --)")):
            with self.subTest(args=args):
                self.assert_one_fatal_line(run_ab(FAKE_BINARY, FAKE_BINARY, *args, "-o",
                                                  self.out), text)

    def test_a_missing_b(self):
        self.assert_one_fatal_line(run_ab(FAKE_BINARY), "the following arguments are required: "
                                                        "contender")


class EntryPointTest(unittest.TestCase):
    def test_the_shell_entry_point_works(self):
        p = subprocess.run([os.path.join(support.SCRIPTS, "ab"), "--help"], capture_output=True,
                           text=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("scripts/ab A B", p.stdout)


if __name__ == "__main__":
    unittest.main()
