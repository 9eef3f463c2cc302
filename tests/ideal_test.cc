#include "measure/ideal.h"

#include <gtest/gtest.h>

#include <sched.h>

#include <chrono>
#include <stdexcept>

#include "workload/sleep.h"

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
}

TEST(IdealTest, CalibrateTimesEachTask) {
  // Task x sleeps x × 5 ms: the medians keep that order and at least those durations.
  const int64_t in[] = {1, 2, 4};
  const Calibration c = Calibrate(in, [](int64_t x) {
    BlockingSleep(std::chrono::milliseconds(5 * x));
    return x;
  }, 3, 0.0);
  ASSERT_EQ(c.task_seconds.size(), 3u);
  EXPECT_GE(c.task_seconds[0], 0.005);
  EXPECT_GE(c.task_seconds[1], 0.010);
  EXPECT_GE(c.task_seconds[2], 0.020);
  EXPECT_LT(c.task_seconds[0], c.task_seconds[2]);
  EXPECT_DOUBLE_EQ(c.total_seconds, c.task_seconds[0] + c.task_seconds[1] + c.task_seconds[2]);
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

TEST(IdealTest, UsableCoresFollowsTheAffinityMask) {
  cpu_set_t all;
  ASSERT_EQ(sched_getaffinity(0, sizeof all, &all), 0);
  EXPECT_EQ(UsableCores(), CPU_COUNT(&all));
  // Pinned to one CPU (this thread only, like `taskset -c`), one core is usable.
  int first = 0;
  while (!CPU_ISSET(first, &all)) ++first;
  cpu_set_t one;
  CPU_ZERO(&one);
  CPU_SET(first, &one);
  ASSERT_EQ(sched_setaffinity(0, sizeof one, &one), 0);
  const int pinned = UsableCores();
  ASSERT_EQ(sched_setaffinity(0, sizeof all, &all), 0);
  EXPECT_EQ(pinned, 1);
}

}  // namespace
}  // namespace concbench
