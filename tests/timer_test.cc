#include "measure/timer.h"

#include <gtest/gtest.h>

#include <sstream>

#include "workload/sleep.h"

namespace concbench {
namespace {

using namespace std::chrono_literals;

TEST(TimerTest, FormatsLikeTheNotebook) {
  EXPECT_EQ(FormatTimeBlock("pausa de 0.1s", 0.1014), "[pausa de 0.1s] time: 0.101 s");
  EXPECT_EQ(FormatTimeBlock("x", 2.5), "[x] time: 2.500 s");
}

TEST(TimerTest, TimeBlockPrintsWhenTheScopeEnds) {
  std::ostringstream out;
  {
    TimeBlock t("pausa", out);
    BlockingSleep(10ms);
    EXPECT_EQ(out.str(), "");
  }
  const std::string s = out.str();
  EXPECT_EQ(s.rfind("[pausa] time: 0.0", 0), 0u) << s;
  EXPECT_EQ(s.back(), '\n');
}

TEST(TimerTest, TimeBlockHandsBackTheDuration) {
  double seconds = -1;
  {
    TimeBlock t(&seconds);
    BlockingSleep(20ms);
  }
  EXPECT_GE(seconds, 0.020);
  EXPECT_LT(seconds, 2.0);
}

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
