#include "models/worker.h"

#include <gtest/gtest.h>
#include <signal.h>

#include <string>

#include "models/frame.h"
#include "workload/cpu.h"

namespace concbench {
namespace {

TEST(WorkerTest, IpcStatsSubtractAndAdd) {
  IpcStats total{1, 1};
  total += IpcStats{350, 7} - IpcStats{100, 2};
  EXPECT_EQ(total.bytes, 251);
  EXPECT_EQ(total.messages, 6);
}

TEST(WorkerTest, WorkerUsageSubtractsAndAdds) {
  const WorkerUsage used = WorkerUsage{2.5, 40} - WorkerUsage{1.0, 15};
  EXPECT_DOUBLE_EQ(used.cpu_seconds, 1.5);
  EXPECT_EQ(used.ctx_switches, 25);
  WorkerUsage total{0.25, 1};
  EXPECT_DOUBLE_EQ((total += used).cpu_seconds, 1.75);
  EXPECT_EQ(total.ctx_switches, 26);
}

TEST(WorkerTest, WorkerDiedCarriesTheWorkerItsPidAndHowItEnded) {
  const WorkerDied e(2, 1234, SIGKILL, "worker 2 (pid 1234) killed by signal 9 (KILL: Killed)");
  EXPECT_EQ(e.worker(), 2);
  EXPECT_EQ(e.pid(), 1234);
  EXPECT_EQ(e.wait_status(), SIGKILL);
  EXPECT_EQ(std::string(e.what()), "worker 2 (pid 1234) killed by signal 9 (KILL: Killed)");
}

TEST(WorkerTest, AResultsFrameCarriesTheCpuTheProcessUsedSoFar) {
  std::string a, b;
  StartResultsFrame(&a).Finish();
  volatile int64_t sink = 0;
  for (int i = 0; i < 20; ++i) sink = sink + tarea_normal(i);  // some tens of milliseconds
  ResultFrameWriter w = StartResultsFrame(&b);
  w.Add(3, 42, "xy");
  w.Finish();
  Frame first, second;
  ASSERT_FALSE(DecodeFrame(a, &first).has_value());
  ASSERT_FALSE(DecodeFrame(b, &second).has_value());
  EXPECT_GT(second.results.cpu_ns, first.results.cpu_ns);
  EXPECT_GE(second.results.ctx_switches, first.results.ctx_switches);
  ASSERT_EQ(second.results.items.size(), 1u);
  EXPECT_EQ(second.results.items[0], (FrameItem{3, 42, "xy"}));
}

}  // namespace
}  // namespace concbench
