#include "measure/rusage.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <ctime>

#include "workload/cpu.h"
#include "workload/sleep.h"

namespace concbench {
namespace {

double ProcessCpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + ts.tv_nsec / 1e9;
}

// Burns `seconds` of this process's CPU time, however loaded the machine is (a wall-clock bound
// would burn less CPU when other processes take the core).
void BurnCpu(double seconds) {
  const double start = ProcessCpuSeconds();
  volatile int64_t sink = 0;
  while (ProcessCpuSeconds() - start < seconds) sink = sink + cpu_intensivo(10'000);
}

TEST(RusageTest, BusyWorkCostsCpuTime) {
  const auto before = RusageSample::Take();
  BurnCpu(0.05);
  const RusageDelta d = RusageSample::Take() - before;
  EXPECT_GT(d.self_user_s + d.self_system_s, 0.04);
  EXPECT_GE(d.cpu_seconds(), d.self_user_s);
}

TEST(RusageTest, SleepingCostsLittleCpuAndSwitchesContext) {
  const auto before = RusageSample::Take();
  for (int i = 0; i < 5; ++i) BlockingSleep(std::chrono::milliseconds(2));
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
    BurnCpu(0.05);
    _exit(0);
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  const RusageDelta d = RusageSample::Take() - before;
  EXPECT_GT(d.children_user_s + d.children_system_s, 0.04);
}

}  // namespace
}  // namespace concbench
