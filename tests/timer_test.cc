#include "measure/timer.h"

#include <gtest/gtest.h>

#include "workload/sleep.h"

namespace concbench {
namespace {

using namespace std::chrono_literals;

TEST(TimerTest, StopwatchMeasuresFromItsLastReset) {
  Stopwatch w;
  BlockingSleep(200ms);
  const double a = w.ElapsedSeconds();
  EXPECT_GE(a, 0.200);
  EXPECT_GE(w.ElapsedSeconds(), a);  // monotonic
  w.Reset();
  // Without the reset this would be ≥ 0.2 s; being preempted for 0.1 s between two calls is not
  // something a test machine does.
  EXPECT_LT(w.ElapsedSeconds(), 0.100);
  BlockingSleep(20ms);
  EXPECT_GE(w.ElapsedSeconds(), 0.020);
}

}  // namespace
}  // namespace concbench
