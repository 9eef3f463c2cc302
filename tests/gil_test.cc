#include "models/gil.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <thread>
#include <vector>

#include "models/thread_pool/thread_pool.h"
#include "workload/cpu.h"

namespace concbench {
namespace {

TEST(GilTest, DefaultSwitchIntervalIsCPythons) {
  Gil gil;
  EXPECT_EQ(gil.switch_interval(), std::chrono::milliseconds(5));
  EXPECT_THROW(Gil(std::chrono::nanoseconds(0)), std::invalid_argument);
}

TEST(GilTest, SlicedTasksAreBitExact) {
  Gil gil;
  EXPECT_EQ(GilCpuTask(CpuJob::kCpuIntensivo, gil)(200'000), 9600239);
  EXPECT_EQ(GilCpuTask(CpuJob::kTrabajo, gil)(0), 2398830);
  EXPECT_EQ(GilCpuTask(CpuJob::kTareaNormal, gil)(0), 14998935);
  // Inputs that are not a multiple of the slice, and a negative shift (Python's modulo sign).
  EXPECT_EQ(GilCpuTask(CpuJob::kCpuIntensivo, gil)(1'000'001), cpu_intensivo(1'000'001));
  EXPECT_EQ(GilCpuTask(CpuJob::kTrabajo, gil)(-123), trabajo(-123));
  EXPECT_EQ(GilCpuTask(CpuJob::kTareaNormal, gil)(7), tarea_normal(7));
  EXPECT_EQ(GilCpuTask(CpuJob::kCpuIntensivo, gil)(0), 0);
}

TEST(GilTest, OnlyOneThreadHoldsIt) {
  Gil gil;
  std::atomic<int> inside{0};
  std::atomic<int> max_inside{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int k = 0; k < 200; ++k) {
        GilHold hold(gil);
        const int now = ++inside;
        int seen = max_inside.load();
        while (now > seen && !max_inside.compare_exchange_weak(seen, now)) {
        }
        gil.Checkpoint();
        --inside;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(max_inside.load(), 1);
}

TEST(GilTest, ComputingThreadsTakeTurns) {
  // Two CPU-bound tasks of ~50 ms each under a 1 ms interval: a waiter asks for the lock after
  // one interval and the holder hands it over at its next checkpoint, so it changes hands many
  // times (without drop requests it would change hands about twice; a loaded machine may delay
  // the waiter, so only "more than twice" is asserted).
  Gil gil(std::chrono::milliseconds(1));
  const TaskFn task = GilCpuTask(CpuJob::kCpuIntensivo, gil);
  const int64_t n = 20'000'000;
  const int64_t want = cpu_intensivo(n);
  ThreadPool pool(2);
  const std::vector<int64_t> in = {n, n};
  const auto out = pool.Map(task, in);
  EXPECT_EQ(out, (std::vector<int64_t>{want, want}));
  EXPECT_GE(gil.switches(), 3);
}

}  // namespace
}  // namespace concbench
