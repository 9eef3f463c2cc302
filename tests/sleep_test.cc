#include "workload/sleep.h"

#include <gtest/gtest.h>

#include "measure/timer.h"

namespace concbench {
namespace {

using namespace std::chrono_literals;

TEST(SleepTest, BlocksForAtLeastTheDuration) {
  Stopwatch w;
  BlockingSleep(20ms);
  const double s = w.ElapsedSeconds();
  EXPECT_GE(s, 0.020);
  EXPECT_LT(s, 2.0);  // wide: a loaded machine may oversleep, never by seconds
}

TEST(SleepTest, NonPositiveDurationReturnsAtOnce) {
  Stopwatch w;
  BlockingSleep(0ms);
  BlockingSleep(-5ms);
  EXPECT_LT(w.ElapsedSeconds(), 0.5);
}

TEST(SleepTest, SleepTaskReturnsIndexPlusOne) {
  EXPECT_EQ(SleepTask(0, 0ms), 1);
  EXPECT_EQ(SleepTask(41, 1ms), 42);
  EXPECT_EQ(SleepTaskResult(41), 42);
}

}  // namespace
}  // namespace concbench
