#include "time_left.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace concbench {
namespace {

// a: one iteration of 0.5 s; b: adaptive, the minimum time (0.2 s) a repetition; c: one
// iteration of 2 s. Two repetitions each: 5.4 s planned.
const std::string kA = "a/iterations:1/real_time", kB = "b/real_time", kC = "c/iterations:1/real_time";
const std::vector<Planned> kPlan = {{kA, 1, 0.5}, {kB, 0, 0.001}, {kC, 1, 2.0}};

TEST(TimeLeftTest, EstimatesNothingBeforeTheFirstRepetitionIsDone) {
  TimeLeft left(kPlan, 2, 0.2);
  EXPECT_DOUBLE_EQ(left.planned_s(), 5.4);
  EXPECT_EQ(left.repetitions_planned(), 6);
  EXPECT_EQ(left.SecondsLeft(0.0), std::nullopt);
  left.RunBegan(kA, 0.0);
  EXPECT_EQ(left.SecondsLeft(0.7), std::nullopt);
  EXPECT_EQ(left.running(), kA);
}

TEST(TimeLeftTest, AMeasuredBenchmarkAtItsOwnTimeTheOthersAtPlanPlusTheMeanExcess) {
  TimeLeft left(kPlan, 2, 0.2);
  left.RunBegan(kA, 0.0);
  left.RunEnded(kA, 1, 0.8);  // 0.3 s over plan
  EXPECT_EQ(left.repetitions_done(), 1);
  EXPECT_NEAR(*left.SecondsLeft(0.8), 1 * 0.8 + 2 * (0.2 + 0.3) + 2 * (2.0 + 0.3), 1e-12);
  // The run in flight is credited with the time it ran, up to its estimate (2.3 s).
  left.RunBegan(kC, 0.8);
  EXPECT_NEAR(*left.SecondsLeft(1.8), 6.4 - 1.0, 1e-12);
  EXPECT_NEAR(*left.SecondsLeft(4.0), 6.4 - 2.3, 1e-12);
  left.RunEnded(kC, 1, 2.9);  // 0.1 s over plan: the mean excess is 0.2 s
  EXPECT_NEAR(*left.SecondsLeft(2.9), 1 * 0.8 + 2 * (0.2 + 0.2) + 1 * 2.1, 1e-12);
}

TEST(TimeLeftTest, AnAdaptiveBenchmarksSizingRoundsAreNotRepetitionsButTheirTimeCounts) {
  TimeLeft left(kPlan, 2, 0.2);
  // Google Benchmark sizes b's first repetition with 1, 10 and 100 iterations: one repetition
  // of 0.25 s, 0.30 s in all.
  const double rounds[][3] = {{1, 0.0, 0.01}, {10, 0.01, 0.05}, {100, 0.05, 0.30}};
  for (const auto& [iterations, begin, end] : rounds) {
    left.RunBegan(kB, begin);
    left.RunEnded(kB, static_cast<int64_t>(iterations), end);
    EXPECT_EQ(left.repetitions_done(), 1);
  }
  EXPECT_NEAR(*left.SecondsLeft(0.30), 2 * (0.5 + 0.1) + 1 * 0.25 + 2 * (2.0 + 0.1), 1e-12);
  // Its second repetition runs the last count again.
  left.RunBegan(kB, 0.30);
  left.RunEnded(kB, 100, 0.56);
  EXPECT_EQ(left.repetitions_done(), 2);
  EXPECT_NEAR(*left.SecondsLeft(0.56), 2 * (0.5 + 0.08) + 2 * (2.0 + 0.08), 1e-12);
}

TEST(TimeLeftTest, TimeBetweenRunsScalesTheEstimate) {
  TimeLeft left(kPlan, 2, 0.2);
  left.RunBegan(kA, 1.0);  // 1 s went elsewhere before the first run
  left.RunEnded(kA, 1, 1.5);
  EXPECT_NEAR(*left.SecondsLeft(1.5), (0.5 + 2 * 0.2 + 2 * 2.0) * 1.5 / 0.5, 1e-12);
}

TEST(TimeLeftTest, AReportedBenchmarkHasAllItsRepetitionsAndUnknownNamesAreIgnored) {
  TimeLeft left(kPlan, 2, 0.2);
  left.RunEnded("not/planned", 1, 1.0);
  left.Finished(kB);
  EXPECT_EQ(left.repetitions_done(), 2);
  EXPECT_EQ(left.SecondsLeft(1.0), std::nullopt);  // nothing measured yet
  left.RunBegan(kA, 0.0);
  left.RunEnded(kA, 1, 1.0);
  EXPECT_NEAR(*left.SecondsLeft(1.0), 1 * 1.0 + 2 * (2.0 + 0.5), 1e-12);
}

// The case that counting finished benchmarks got wrong: interleaved repetitions, each taking
// its plan and 0.25 s more. No benchmark finishes before the seventh of nine repetitions, yet
// from the first one on the estimate is the truth, in flight and between runs.
TEST(TimeLeftTest, InterleavedRepetitionsGiveTheTruthLongBeforeAnyBenchmarkFinishes) {
  const std::vector<Planned> plan = {{"x/iterations:1/real_time", 1, 0.1},
                                     {"y/iterations:1/real_time", 1, 0.5},
                                     {"z/iterations:1/real_time", 1, 2.0}};
  const double took[] = {0.35, 0.75, 2.25};
  const int order[] = {2, 0, 1, 0, 2, 1, 1, 2, 0};
  TimeLeft left(plan, 3, 0.5);
  const double total = 3 * (0.35 + 0.75 + 2.25);
  double t = 0;
  for (const int i : order) {
    left.RunBegan(plan[i].name, t);
    if (left.repetitions_done() > 0) {
      EXPECT_NEAR(*left.SecondsLeft(t + took[i] / 2), total - (t + took[i] / 2), 1e-9) << "during " << plan[i].name;
    }
    t += took[i];
    left.RunEnded(plan[i].name, 1, t);
    EXPECT_NEAR(*left.SecondsLeft(t), total - t, 1e-9) << "after " << plan[i].name;
  }
}

}  // namespace
}  // namespace concbench
