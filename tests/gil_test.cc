#include "models/gil.h"

#include <gtest/gtest.h>
#include <pthread.h>
#include <time.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <string_view>
#include <stdexcept>
#include <thread>
#include <vector>

#include "echo_test_support.h"
#include "measure/timer.h"
#include "models/thread_pool/thread_pool.h"
#include "observer_support.h"
#include "workload/cpu.h"
#include "workload/echo_client.h"

namespace concbench {
namespace {

using std::chrono::milliseconds;

TEST(GilTest, DefaultSwitchIntervalIsCPythons) {
  Gil gil;
  EXPECT_EQ(gil.switch_interval(), std::chrono::milliseconds(5));
  EXPECT_THROW(Gil(std::chrono::nanoseconds(0)), std::invalid_argument);
}

int64_t UnderGil(const TaskSpec& spec, int64_t input) {
  Gil gil;
  return RunTaskUnderGil(spec, input, {}, gil);
}

TEST(GilTest, TasksUnderTheGilAreBitExact) {
  EXPECT_EQ(UnderGil({{Compute(ComputeFn::kCpuIntensivo)}}, 200'000), 9600239);
  EXPECT_EQ(UnderGil({{Compute(ComputeFn::kTrabajo)}}, 0), 2398830);
  EXPECT_EQ(UnderGil({{Compute(ComputeFn::kTareaNormal)}}, 0), 14998935);
  // Inputs that are not a multiple of the slice, and a negative shift (Python's modulo sign).
  EXPECT_EQ(UnderGil({{Compute(ComputeFn::kCpuIntensivo)}}, 1'000'001), 47999911);
  EXPECT_EQ(UnderGil({{Compute(ComputeFn::kTrabajo)}}, -123), 2400182);
  EXPECT_EQ(UnderGil({{Compute(ComputeFn::kTareaNormal)}}, 7), 14999145);
  EXPECT_EQ(UnderGil({{Compute(ComputeFn::kCpuIntensivo)}}, 0), 0);
  // Every step on the same input, waits included: 959757 + (3 + 1) + trabajo(3).
  EXPECT_EQ(UnderGil({{ComputeOn(ComputeFn::kCpuIntensivo, 20'000), SleepStep(milliseconds(1)),
                       Compute(ComputeFn::kTrabajo)}},
                     3),
            959757 + 4 + 2398965);
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
  const TaskSpec spec = {{Compute(ComputeFn::kCpuIntensivo)}};
  const int64_t n = 20'000'000;
  const int64_t want = cpu_intensivo(n);
  ThreadPool pool(2);
  const std::vector<int64_t> in = {n, n};
  const auto out = pool.Map([&](int64_t x) { return RunTaskUnderGil(spec, x, {}, gil); }, in);
  EXPECT_EQ(out, (std::vector<int64_t>{want, want}));
  EXPECT_GE(gil.switches(), 3);
}

TEST(GilTest, ASingleThreadTakesItOnceWhateverItRuns) {
  Gil gil(std::chrono::milliseconds(1));
  for (int64_t i = 0; i < 3; ++i) {
    RunTaskUnderGil({{Compute(ComputeFn::kTrabajo), SleepStep(milliseconds(1)), Compute(ComputeFn::kTrabajo)}}, i, {},
                    gil);
  }
  // Released around every sleep and at every task's end, but never taken by another thread.
  EXPECT_EQ(gil.switches(), 1);
}

double ThreadCpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

// Runs `spec` on `threads` threads at once, each under `gil`; returns the wall time, and each
// thread's own CPU time in *cpu.
double RunOnThreadsUnderGil(const TaskSpec& spec, int64_t input, int threads, Gil& gil, std::vector<double>* cpu) {
  cpu->assign(static_cast<size_t>(threads), 0);
  std::vector<std::thread> running;
  const Stopwatch w;
  for (int t = 0; t < threads; ++t) {
    running.emplace_back([&, t] {
      const double before = ThreadCpuSeconds();
      RunTaskUnderGil(spec, input, {}, gil);
      (*cpu)[static_cast<size_t>(t)] = ThreadCpuSeconds() - before;
    });
  }
  for (auto& t : running) t.join();
  return w.ElapsedSeconds();
}

TEST(GilTest, TwoComputingThreadsTakeAboutTheSerialTime) {
  // One computes at a time, the other blocks (no CPU) until the lock comes back: the wall time
  // is at least the two threads' CPU time added up, whatever the cores. Two free threads on two
  // cores would take about half of it.
  Gil gil;
  std::vector<double> cpu;
  const double wall = RunOnThreadsUnderGil({{Compute(ComputeFn::kCpuIntensivo)}}, 40'000'000, 2, gil, &cpu);
  EXPECT_GE(wall, 0.9 * (cpu[0] + cpu[1])) << "CPU " << cpu[0] << " s + " << cpu[1] << " s";
  EXPECT_GT(cpu[0], 0.0);
  EXPECT_GT(cpu[1], 0.0);
  EXPECT_GE(gil.switches(), 2);
}

TEST(GilTest, AComputingThreadStopsWhileAnotherHoldsTheGil) {
  // Machine-independent form of the test above: thread `y` computes about half a second under a
  // 1 ms interval; once it computes, this thread takes the GIL (at y's next checkpoint) and holds
  // it 100 ms, during which y must use no CPU at all (it waits on a condition variable). Computing
  // without the GIL, y would go on using its CPU share, whatever the machine's load.
  Gil gil(std::chrono::milliseconds(1));
  std::atomic<bool> computing{false};
  RecordingObserver seen;
  seen.hook = [&](const RecordingObserver::Event& e) {
    if (e.kind == RecordingObserver::Kind::kStepBegin) computing = true;
  };
  std::thread y([&] { RunTaskUnderGil({{Compute(ComputeFn::kCpuIntensivo)}}, 400'000'000, {}, gil, &seen); });
  clockid_t y_clock{};
  ASSERT_EQ(pthread_getcpuclockid(y.native_handle(), &y_clock), 0);
  const auto y_cpu = [y_clock] {
    timespec ts{};
    clock_gettime(y_clock, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
  };
  while (!computing) std::this_thread::yield();
  double used = 0;
  bool y_was_computing = false;
  {
    GilHold hold(gil);
    y_was_computing = seen.SeenAt(RecordingObserver::Kind::kStepEnd, 0) < 0;
    const double before = y_cpu();
    std::this_thread::sleep_for(milliseconds(100));
    used = y_cpu() - before;
  }
  y.join();
  EXPECT_TRUE(y_was_computing) << "y ended its step before this thread held the GIL";
  EXPECT_LT(used, 0.010) << "y used " << used << " s of CPU while this thread held the GIL";
  EXPECT_GE(gil.switches(), 3);  // y, this thread, y again
}

TEST(GilTest, ThreadsSleepingUnderItOverlap) {
  // The GIL is released around every wait, as time.sleep releases it: five concurrent 100 ms
  // sleeps take less than three sleeps (one after another they take five).
  Gil gil;
  std::vector<double> cpu;
  const double wall = RunOnThreadsUnderGil({{SleepStep(milliseconds(100))}}, 0, 5, gil, &cpu);
  EXPECT_GE(wall, 0.100);
  EXPECT_LT(wall, 0.300);
}

TEST(GilTest, TheObserverSeesTheTaskAndEveryStep) {
  Gil gil;
  RecordingObserver seen;
  const TaskSpec spec = {{Compute(ComputeFn::kIdentity), SleepStep(milliseconds(1)), Compute(ComputeFn::kTrabajo)}};
  EXPECT_EQ(RunTaskUnderGil(spec, 0, {}, gil, &seen, /*task=*/0), 0 + 1 + 2398830);
  ExpectEveryTaskAndStepSeen(seen, 1, 3);
}

// Whether another thread takes `gil` within `within`. A thread that took it is joined, so it has
// released it before `gil` can go out of scope; a thread left blocked on it is detached (it ends
// with the process).
bool AnotherThreadTakesIt(Gil& gil, std::chrono::seconds within) {
  auto took = std::make_shared<std::atomic<bool>>(false);
  std::thread taker([&gil, took] {
    GilHold hold(gil);
    *took = true;
  });
  const Stopwatch w;
  while (!*took && w.ElapsedSeconds() < static_cast<double>(within.count())) {
    std::this_thread::sleep_for(milliseconds(1));
  }
  if (*took) {
    taker.join();
  } else {
    taker.detach();
  }
  return *took;
}

TEST(GilTest, AWaitThatThrowsLeavesTheGilFree) {
  FdLeakCheck fds;
  Gil gil;
  const RefusedEchoFixture refused(1, 16);
  EXPECT_THROW(RunTaskUnderGil({{Compute(ComputeFn::kIdentity), EchoStep(milliseconds(0), 16)}}, 0, refused.env, gil),
               EchoError);
  EXPECT_TRUE(AnotherThreadTakesIt(gil, std::chrono::seconds(5)));
  EXPECT_EQ(gil.switches(), 2);
}

TEST(GilTest, AnObserverThatThrowsLeavesTheGilFree) {
  struct Throwing final : TaskObserver {
    void TaskBegin(int64_t) override {}
    void TaskEnd(int64_t) override {}
    void StepBegin(int64_t, size_t) override {}
    void StepEnd(int64_t, size_t) override {}
    void ModelEvent(std::string_view, uint64_t, uint64_t) override { throw std::runtime_error("observer failed"); }
  } throwing;
  Gil gil;
  EXPECT_THROW(RunTaskUnderGil({{Compute(ComputeFn::kIdentity)}}, 0, {}, gil, &throwing), std::runtime_error);
  EXPECT_TRUE(AnotherThreadTakesIt(gil, std::chrono::seconds(5)));
}

}  // namespace
}  // namespace concbench
