#include "models/thread_per_task.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "measure/memory.h"
#include "measure/timer.h"
#include "models/hold.h"
#include "process_checks.h"
#include "workload/sleep.h"

namespace concbench {
namespace {

using std::chrono::milliseconds;

TEST(ThreadPerTaskTest, EveryTaskRunsOnceOnAThreadOfItsOwn) {
  std::vector<int64_t> results(8, 0);
  std::mutex mu;
  std::set<std::thread::id> threads;
  RunThreadPerTask(8, [&](int64_t i) {
    results[static_cast<size_t>(i)] += SleepTask(i, milliseconds(1));
    const std::lock_guard lock(mu);
    threads.insert(std::this_thread::get_id());
  });
  EXPECT_EQ(results, (std::vector<int64_t>{1, 2, 3, 4, 5, 6, 7, 8}));
  EXPECT_EQ(threads.size(), 8u);
  EXPECT_EQ(threads.count(std::this_thread::get_id()), 0u);
}

TEST(ThreadPerTaskTest, TheThreadsRunAtOnce) {
  // Five concurrent 100 ms sleeps take less than three sleeps (one after another they take five).
  Stopwatch w;
  RunThreadPerTask(5, [](int64_t i) { SleepTask(i, milliseconds(100)); });
  EXPECT_GE(w.ElapsedSeconds(), 0.100);
  EXPECT_LT(w.ElapsedSeconds(), 0.300);
}

TEST(ThreadPerTaskTest, ZeroTasksStartNoThread) {
  std::atomic<int> calls{0};
  RunThreadPerTask(0, [&](int64_t) { ++calls; });
  EXPECT_EQ(calls.load(), 0);
}

TEST(ThreadPerTaskTest, ARefusedThreadIsReportedAfterTheOthersAreJoined) {
  const int rc = RunInChild([] {
    if (const int failed = LimitProcessesOfThisUser(8)) return failed;
    // Compare with the count before: ThreadSanitizer starts a background thread of its own on
    // demand, which may come in between.
#if defined(__SANITIZE_THREAD__)
    constexpr int64_t kRuntimeThreads = 1;
#else
    constexpr int64_t kRuntimeThreads = 0;
#endif
    const int64_t threads = *ReadProcStatusKib("Threads");
    std::atomic<int64_t> ran{0};
    try {
      // Each thread stays alive long after the next is started, however slow starting is.
      RunThreadPerTask(200, [&](int64_t) {
        ++ran;
        std::this_thread::sleep_for(milliseconds(1000));
      });
      return 22;  // the limit was not hit
    } catch (const LimitError& e) {
      const std::string what = e.what();
      if (what.find("std::thread failed after ") == std::string::npos) return 23;
      if (what.find(" of 200 threads") == std::string::npos) return 24;
      if (what.find("RLIMIT_NPROC=") == std::string::npos) return 25;
    }
    if (ran.load() == 0 || ran.load() >= 200) return 26;  // those started ran, then were joined
    if (*ReadProcStatusKib("Threads") > threads + kRuntimeThreads) return 27;
    return 0;
  });
  EXPECT_EQ(rc, 0);
}

}  // namespace
}  // namespace concbench
