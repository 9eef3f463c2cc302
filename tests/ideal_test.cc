#include "measure/ideal.h"

#include <gtest/gtest.h>

#include <stdexcept>

namespace concbench {
namespace {

TEST(IdealTest, MakespanOfEqualTasks) {
  EXPECT_DOUBLE_EQ(UniformMakespan(5, 0.5, 1, 1), 2.5);
  EXPECT_DOUBLE_EQ(UniformMakespan(5, 0.5, 5, 1), 0.5);
  EXPECT_DOUBLE_EQ(UniformMakespan(5, 0.5, 2, 1), 1.5);
  EXPECT_DOUBLE_EQ(UniformMakespan(5, 0.5, 8, 1), 0.5);
  EXPECT_DOUBLE_EQ(UniformMakespan(0, 0.5, 2, 1), 0.0);
}

TEST(IdealTest, MakespanHonoursChunksize) {
  // 200 tasks in chunks of 20 on 2 workers: 10 chunks, 5 per worker.
  EXPECT_DOUBLE_EQ(UniformMakespan(200, 0.001, 2, 20), 0.1);
  // 5 tasks, chunks of 4 on 2 workers: one chunk of 4, one of 1.
  EXPECT_DOUBLE_EQ(UniformMakespan(5, 1.0, 2, 4), 4.0);
  // Chunk larger than the batch: one worker does everything.
  EXPECT_DOUBLE_EQ(UniformMakespan(3, 1.0, 4, 10), 3.0);
}

TEST(IdealTest, MakespanGivesTheNextChunkToTheFirstFreeWorker) {
  const double t[] = {3, 1, 1, 1};
  // Worker A takes 3; worker B takes 1, 1, 1 and is done at 3.
  EXPECT_DOUBLE_EQ(Makespan(t, 2, 1), 3.0);
}

TEST(IdealTest, RejectsInvalidArguments) {
  const double t[] = {1};
  EXPECT_THROW(Makespan(t, 0, 1), std::invalid_argument);
  EXPECT_THROW(Makespan(t, 1, 0), std::invalid_argument);
}

TEST(IdealTest, CalibrateReturnsResultsAndChecksum) {
  const int64_t in[] = {1, 2, 3};
  const Calibration c = Calibrate(in, [](int64_t x) { return x * 10; });
  EXPECT_EQ(c.results, (std::vector<int64_t>{10, 20, 30}));
  EXPECT_EQ(c.checksum, 60);
  EXPECT_EQ(c.task_seconds.size(), 3u);
  EXPECT_GE(c.total_seconds, 0.0);
}

TEST(IdealTest, CalibrateRunsAtLeastTheMinimumRounds) {
  const int64_t in[] = {7};
  int calls = 0;
  Calibrate(in, [&](int64_t x) { ++calls; return x; }, 4, 0.0);
  EXPECT_EQ(calls, 4);
}

TEST(IdealTest, CalibrateRejectsNondeterministicTasks) {
  const int64_t in[] = {1};
  int64_t calls = 0;
  EXPECT_THROW(Calibrate(in, [&](int64_t) { return ++calls; }), std::logic_error);
}

TEST(IdealTest, UsableCoresIsPositive) { EXPECT_GE(UsableCores(), 1); }

}  // namespace
}  // namespace concbench
