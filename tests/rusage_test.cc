#include "measure/rusage.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include "measure/timer.h"
#include "workload/cpu.h"
#include "workload/sleep.h"

namespace concbench {
namespace {

TEST(RusageTest, BusyWorkCostsCpuTime) {
  const auto before = RusageSample::Take();
  Stopwatch w;
  volatile int64_t sink = 0;
  while (w.ElapsedSeconds() < 0.05) sink = sink + cpu_intensivo(10'000);
  const RusageDelta d = RusageSample::Take() - before;
  EXPECT_GT(d.self_user_s + d.self_system_s, 0.02);
  EXPECT_GE(d.cpu_seconds(), d.self_user_s);
}

TEST(RusageTest, SleepingCostsLittleCpuAndSwitchesContext) {
  const auto before = RusageSample::Take();
  for (int i = 0; i < 5; ++i) blocking_sleep(std::chrono::milliseconds(2));
  const RusageDelta d = RusageSample::Take() - before;
  EXPECT_LT(d.cpu_seconds(), 0.05);
  EXPECT_GE(d.voluntary_switches, 5);
  EXPECT_EQ(d.context_switches(), d.voluntary_switches + d.involuntary_switches);
}

TEST(RusageTest, CountsReapedChildren) {
  const auto before = RusageSample::Take();
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    Stopwatch w;
    volatile int64_t sink = 0;
    while (w.ElapsedSeconds() < 0.05) sink = sink + cpu_intensivo(10'000);
    _exit(0);
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  const RusageDelta d = RusageSample::Take() - before;
  EXPECT_GT(d.children_user_s + d.children_system_s, 0.02);
}

}  // namespace
}  // namespace concbench
