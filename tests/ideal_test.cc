#include "measure/ideal.h"

#include <gtest/gtest.h>

#include <sched.h>

#include <chrono>
#include <cmath>
#include <limits>
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

// The header's example: 4 tasks of 1 ms CPU, then a 10 ms wait.
constexpr double kCpu[] = {0.001, 0.001, 0.001, 0.001};
constexpr double kInf = std::numeric_limits<double>::infinity();

TEST(IdealTest, BatchIdealOfComputeThenWaitOnEveryShape) {
  // Threads on 2 workers: two tasks after another per worker, 2 × 11 ms.
  EXPECT_NEAR(BatchIdealSeconds(kCpu, 0.010, 0.010, {.lanes = 2, .cpu_slots = 2}, kInf), 0.022, 1e-12);
  // The loop computing inline: 4 ms of CPU one after another, then the last task's wait.
  EXPECT_NEAR(BatchIdealSeconds(kCpu, 0.010, 0.010, {.lanes = 0, .cpu_slots = 1}, kInf), 0.014, 1e-12);
  // Offloaded to 2 threads: 2 ms of CPU on each, then the last wait.
  EXPECT_NEAR(BatchIdealSeconds(kCpu, 0.010, 0.010, {.lanes = 0, .cpu_slots = 2}, kInf), 0.012, 1e-12);
  // Sync: every task after another, 4 × 11 ms.
  EXPECT_NEAR(BatchIdealSeconds(kCpu, 0.010, 0.010, {.lanes = 1, .cpu_slots = 1}, kInf), 0.044, 1e-12);
  // A task that ends computing has no wait left after its CPU: 4 ms + 0.
  EXPECT_NEAR(BatchIdealSeconds(kCpu, 0.010, 0.0, {.lanes = 0, .cpu_slots = 1}, kInf), 0.011, 1e-12);
}

TEST(IdealTest, BatchIdealOfPureWaitsIsTheUniformMakespan) {
  const double none[] = {0, 0, 0, 0, 0};
  for (int64_t lanes : {1, 2, 5, 8}) {
    for (int64_t chunksize : {1, 2}) {
      const BatchShape shape{.lanes = lanes, .cpu_slots = 1, .chunksize = chunksize};
      EXPECT_DOUBLE_EQ(BatchIdealSeconds(none, 0.5, 0.5, shape, kInf), UniformMakespan(5, 0.5, lanes, chunksize))
          << lanes << " lanes, chunksize " << chunksize;
    }
  }
  // Every task at once (lanes 0): one wait.
  EXPECT_DOUBLE_EQ(BatchIdealSeconds(none, 0.5, 0.5, {.lanes = 0, .cpu_slots = 1}, kInf), 0.5);
}

TEST(IdealTest, BatchIdealOfPureComputeIsTheMakespanOnTheSlots) {
  const double cpu[] = {3, 1, 1, 1, 2};
  for (int64_t slots : {1, 2, 3, 8}) {
    for (int64_t chunksize : {1, 2}) {
      EXPECT_DOUBLE_EQ(BatchIdealSeconds(cpu, 0, 0, {.lanes = 4, .cpu_slots = slots, .chunksize = chunksize}, kInf),
                       Makespan(cpu, slots, chunksize))
          << slots << " slots, chunksize " << chunksize;
    }
  }
  // Worker A takes 3; B takes 1, 1, 1; the 2 goes to the first free at 3: 5 (Σ ÷ 2 is only 4).
  EXPECT_DOUBLE_EQ(BatchIdealSeconds(cpu, 0, 0, {.lanes = 4, .cpu_slots = 2}, kInf), 5.0);
}

TEST(IdealTest, ACapacityOfOneCoreGivesTheSerialTotal) {
  const double cpu[] = {3, 1, 1, 1, 2};
  EXPECT_DOUBLE_EQ(BatchIdealSeconds(cpu, 0, 0, {.lanes = 4, .cpu_slots = 4}, 1.0), 8.0);
  EXPECT_NEAR(BatchIdealSeconds(kCpu, 0.010, 0.010, {.lanes = 0, .cpu_slots = 2}, 1.0), 0.014, 1e-12);
  // 1.5 effective cores for 4 slots: 8 s ÷ 1.5.
  EXPECT_DOUBLE_EQ(BatchIdealSeconds(cpu, 0, 0, {.lanes = 4, .cpu_slots = 4}, 1.5), 8.0 / 1.5);
  EXPECT_DOUBLE_EQ(BatchIdealSeconds({}, 0, 0, {.lanes = 4, .cpu_slots = 4}, 1.0), 0.0);
}

TEST(IdealTest, BatchIdealRejectsBadArguments) {
  EXPECT_THROW(BatchIdealSeconds(kCpu, 0.01, 0.01, {.lanes = -1, .cpu_slots = 1}, kInf), std::invalid_argument);
  EXPECT_THROW(BatchIdealSeconds(kCpu, 0.01, 0.01, {.lanes = 1, .cpu_slots = 0}, kInf), std::invalid_argument);
  EXPECT_THROW(BatchIdealSeconds(kCpu, 0.01, 0.01, {.lanes = 1, .cpu_slots = 1, .chunksize = 0}, kInf),
               std::invalid_argument);
  EXPECT_THROW(BatchIdealSeconds(kCpu, 0.01, 0.01, {.lanes = 1, .cpu_slots = 1}, 0.0), std::invalid_argument);
  EXPECT_THROW(BatchIdealSeconds(kCpu, 0.01, 0.01, {.lanes = 1, .cpu_slots = 1}, -1.0), std::invalid_argument);
  EXPECT_THROW(BatchIdealSeconds(kCpu, 0.01, 0.01, {.lanes = 1, .cpu_slots = 1}, std::nan("")), std::invalid_argument);
  try {
    BatchIdealSeconds(kCpu, 0, 0, {.lanes = -1, .cpu_slots = 0, .chunksize = 0}, kInf);
    ADD_FAILURE() << "no std::invalid_argument";
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(), "BatchIdealSeconds: lanes -1, cpu_slots 0, chunksize 0");
  }
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
