#include "time_left.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace concbench {
namespace {

// a: a fixed count (1 iteration of 0.5 s); b: adaptive, about the minimum time (0.2 s) a
// repetition. Two repetitions each: 2 × 0.5 + 2 × 0.2 = 1.4 s planned.
const std::vector<Planned> kPlan = {{"a/iterations:1/real_time", 1, 0.5}, {"b/real_time", 0, 0.001}};

TEST(TimeLeftTest, EstimatesNothingBeforeTheFirstRepetitionIsDone) {
  TimeLeft left(kPlan, 2, 0.2);
  EXPECT_DOUBLE_EQ(left.planned_s(), 1.4);
  EXPECT_EQ(left.repetitions_planned(), 4);
  EXPECT_EQ(left.SecondsLeft(0.0), std::nullopt);
  left.RunBegan("a/iterations:1/real_time", 0.0);
  EXPECT_EQ(left.SecondsLeft(0.7), std::nullopt);
  EXPECT_EQ(left.running(), "a/iterations:1/real_time");
}

TEST(TimeLeftTest, ScalesThePlanByThePaceOfTheRepetitionsDone) {
  TimeLeft left(kPlan, 2, 0.2);
  left.RunBegan("a/iterations:1/real_time", 0.0);
  left.RunEnded("a/iterations:1/real_time", 1, 1.0);  // 1 s for 0.5 planned: pace 2
  EXPECT_EQ(left.repetitions_done(), 1);
  EXPECT_NEAR(*left.SecondsLeft(1.0), 2 * 0.9, 1e-12);
  // A run in flight is credited with the time it ran, up to its planned share (0.2 s at pace 2).
  left.RunBegan("b/real_time", 1.0);
  EXPECT_NEAR(*left.SecondsLeft(1.1), 2 * 0.7 + (0.4 - 0.1), 1e-12);
  EXPECT_NEAR(*left.SecondsLeft(3.0), 2 * 0.7, 1e-12);  // overdue: the rest is still to come
}

TEST(TimeLeftTest, AnAdaptiveBenchmarksSizingRoundsAreNotRepetitions) {
  TimeLeft left(kPlan, 2, 0.2);
  left.RunBegan("a/iterations:1/real_time", 0.0);
  left.RunEnded("a/iterations:1/real_time", 1, 1.0);
  // Google Benchmark sizes b's first repetition with 1, 10 and 100 iterations: one repetition.
  const double rounds[][3] = {{1, 1.0, 1.11}, {10, 1.11, 1.15}, {100, 1.15, 1.40}};
  for (const auto& [iterations, begin, end] : rounds) {
    left.RunBegan("b/real_time", begin);
    left.RunEnded("b/real_time", static_cast<int64_t>(iterations), end);
    EXPECT_EQ(left.repetitions_done(), 2);
  }
  EXPECT_NEAR(*left.SecondsLeft(1.40), 1.40 / 0.7 * 0.7, 1e-12);
  // Its second repetition runs the last count again.
  left.RunBegan("b/real_time", 1.40);
  left.RunEnded("b/real_time", 100, 1.70);
  EXPECT_EQ(left.repetitions_done(), 3);
  EXPECT_NEAR(*left.SecondsLeft(1.70), 1.70 / 0.9 * 0.5, 1e-12);
  left.RunBegan("a/iterations:1/real_time", 1.70);
  EXPECT_NEAR(*left.SecondsLeft(2.00), 1.70 / 0.9 * 0.5 - 0.3, 1e-12);
  EXPECT_DOUBLE_EQ(*left.SecondsLeft(3.00), 0.0);
  left.RunEnded("a/iterations:1/real_time", 1, 2.70);
  EXPECT_EQ(left.repetitions_done(), 4);
  EXPECT_DOUBLE_EQ(*left.SecondsLeft(2.70), 0.0);
  EXPECT_EQ(left.running(), "");
}

TEST(TimeLeftTest, AReportedBenchmarkHasAllItsRepetitionsAndUnknownNamesAreIgnored) {
  TimeLeft left(kPlan, 3, 0.2);
  left.RunEnded("not/planned", 1, 1.0);
  EXPECT_EQ(left.repetitions_done(), 0);
  left.Finished("b/real_time");
  EXPECT_EQ(left.repetitions_done(), 3);
  EXPECT_NEAR(*left.SecondsLeft(1.2), 1.2 / 0.6 * 1.5, 1e-12);
}

// The case that counting finished benchmarks got wrong: interleaved repetitions, each taking
// 1.25 × its plan. No benchmark finishes before the seventh of nine repetitions, yet from the
// first one on the estimate is the truth, in flight and between runs.
TEST(TimeLeftTest, InterleavedRepetitionsGiveTheTruthLongBeforeAnyBenchmarkFinishes) {
  const std::vector<Planned> plan = {{"x/iterations:1/real_time", 1, 0.1},
                                     {"y/iterations:1/real_time", 1, 0.5},
                                     {"z/iterations:1/real_time", 1, 2.0}};
  const double per_rep[] = {0.1, 0.5, 2.0};
  const int order[] = {2, 0, 1, 0, 2, 1, 1, 2, 0};
  TimeLeft left(plan, 3, 0.5);
  const double total = 1.25 * 3 * (0.1 + 0.5 + 2.0);
  double t = 0;
  for (const int i : order) {
    left.RunBegan(plan[i].name, t);
    const double took = 1.25 * per_rep[i];
    if (left.repetitions_done() > 0) {
      EXPECT_NEAR(*left.SecondsLeft(t + took / 2), total - (t + took / 2), 1e-9) << "during " << plan[i].name;
    }
    t += took;
    left.RunEnded(plan[i].name, 1, t);
    EXPECT_NEAR(*left.SecondsLeft(t), total - t, 1e-9) << "after " << plan[i].name;
  }
}

}  // namespace
}  // namespace concbench
