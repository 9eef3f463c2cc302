#include "models/async.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <numeric>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

#include "measure/timer.h"
#include "sleep_batch_checks.h"

namespace concbench {
namespace {

using std::chrono::milliseconds;

constexpr milliseconds kWait(50);

double Seconds(milliseconds m) { return std::chrono::duration<double>(m).count(); }

TEST(AsyncTest, FiveGatheredWaitsOverlap) {
  UvLoop loop;
  ExpectFiveSleepTasksTake([&](int64_t n, milliseconds w) { return AsyncGather(loop, n, w); }, milliseconds(100), 1, 4.5);
}

TEST(AsyncTest, FiveSequentialWaitsTakeAtLeastFiveWaits) {
  UvLoop loop;
  ExpectFiveSleepTasksTake([&](int64_t n, milliseconds w) { return AsyncSequential(loop, n, w); }, kWait, 5);
}

TEST(AsyncTest, BlockingCallbacksSerialiseTheGatheredTasks) {
  UvLoop loop;
  Stopwatch w;
  const auto r = AsyncBlocking(loop, 5, milliseconds(20));
  EXPECT_GE(w.ElapsedSeconds(), 5 * 0.020);
  EXPECT_EQ(r, (std::vector<int64_t>{1, 2, 3, 4, 5}));
}

TEST(AsyncTest, TimersFireInDeadlineOrderAndEqualDeadlinesInArmingOrder) {
  UvLoop loop;
  const std::vector<milliseconds> waits = {milliseconds(40), milliseconds(10), milliseconds(30),
                                           milliseconds(0),  milliseconds(20), milliseconds(10)};
  std::vector<int64_t> order;
  const auto r = AsyncGather(
      loop, waits, AsyncHooks{.on_armed = {}, .on_done = [&](int64_t i) { order.push_back(i); }});
  EXPECT_EQ(order, (std::vector<int64_t>{3, 1, 5, 4, 2, 0}));
  EXPECT_EQ(r, (std::vector<int64_t>{1, 2, 3, 4, 5, 6}));
}

TEST(AsyncTest, EveryWaitLastsAtLeastItsDuration) {
  UvLoop loop;
  std::vector<milliseconds> waits;
  for (int i = 0; i < 12; ++i) waits.push_back(milliseconds(1 + 3 * i));
  std::vector<double> done_at(waits.size(), -1);
  Stopwatch w;
  AsyncGather(loop, waits, AsyncHooks{.on_armed = {}, .on_done = [&](int64_t i) {
                                        done_at[static_cast<size_t>(i)] = w.ElapsedSeconds();
                                      }});
  for (size_t i = 0; i < waits.size(); ++i)
    EXPECT_GE(done_at[i], Seconds(waits[i])) << "task " << i;

  std::vector<double> seq_done;
  Stopwatch w2;
  AsyncSequential(loop, 4, milliseconds(7), AsyncHooks{.on_armed = {}, .on_done = [&](int64_t) {
                                                         seq_done.push_back(w2.ElapsedSeconds());
                                                       }});
  ASSERT_EQ(seq_done.size(), 4u);
  for (size_t i = 0; i < seq_done.size(); ++i)
    EXPECT_GE(seq_done[i], 0.007 * static_cast<double>(i + 1));
}

// A pause between arming and running lets the loop's millisecond clock advance before it polls,
// so libuv fires the timers up to a millisecond early; the model must wait out the rest.
TEST(AsyncTest, WaitsStillLastTheirDurationWhenTheLoopStartsLate) {
  UvLoop loop;
  for (int round = 0; round < 10; ++round) {
    std::vector<double> done_at;
    Stopwatch w;
    const auto pause = [] {
      Stopwatch p;
      while (p.ElapsedSeconds() < 0.0015) {
      }
    };
    AsyncGather(loop, 3, milliseconds(3), AsyncHooks{.on_armed = pause, .on_done = [&](int64_t) {
                                                       done_at.push_back(w.ElapsedSeconds());
                                                     }});
    ASSERT_EQ(done_at.size(), 3u);
    for (const double d : done_at) EXPECT_GE(d, 0.003) << "round " << round;
  }
}

TEST(AsyncTest, TenThousandGatheredTimersEachRunExactlyOnce) {
  UvLoop loop;
  constexpr int64_t kTasks = 10'000;
  std::vector<int> runs(kTasks, 0);
  bool armed = false;
  const auto r =
      AsyncGather(loop, kTasks, milliseconds(5),
                  AsyncHooks{.on_armed = [&] { armed = true; },
                             .on_done = [&](int64_t i) { ++runs[static_cast<size_t>(i)]; }});
  EXPECT_TRUE(armed);
  EXPECT_EQ(std::count(runs.begin(), runs.end(), 1), kTasks);
  EXPECT_EQ(std::accumulate(r.begin(), r.end(), int64_t{0}), 50'005'000);
  EXPECT_EQ(loop.CountHandles(), 0);
}

TEST(AsyncTest, EveryVariantLeavesNoHandleAndTheLoopCloses) {
  UvLoop loop;
  AsyncGather(loop, 3, milliseconds(1));
  EXPECT_EQ(loop.CountHandles(), 0);
  AsyncSequential(loop, 3, milliseconds(1));
  EXPECT_EQ(loop.CountHandles(), 0);
  AsyncBlocking(loop, 3, milliseconds(1));
  EXPECT_EQ(loop.CountHandles(), 0);
  const int64_t in[] = {1, 2, 3};
  AsyncOffload(loop, in, [](int64_t x) { return x; });
  EXPECT_EQ(loop.CountHandles(), 0);
  EXPECT_NO_THROW(loop.Close());
}

TEST(AsyncTest, AnExceptionFromAHookStopsTheBatchAndLeavesNoHandle) {
  UvLoop loop;
  const auto throw_at_2 = AsyncHooks{.on_armed = {}, .on_done = [](int64_t i) {
                                       if (i == 2) throw std::runtime_error("hook failed");
                                     }};
  EXPECT_THROW(AsyncGather(loop, 5, milliseconds(1), throw_at_2), std::runtime_error);
  EXPECT_EQ(loop.CountHandles(), 0);
  EXPECT_THROW(AsyncSequential(loop, 5, milliseconds(1), throw_at_2), std::runtime_error);
  EXPECT_EQ(loop.CountHandles(), 0);
  // The loop is still usable afterwards.
  EXPECT_EQ(AsyncGather(loop, 2, milliseconds(0)), (std::vector<int64_t>{1, 2}));
  EXPECT_NO_THROW(loop.Close());
}

TEST(AsyncTest, ZeroTasksReturnAtOnceAndNegativeArgumentsAreRejected) {
  UvLoop loop;
  EXPECT_TRUE(AsyncGather(loop, 0, kWait).empty());
  EXPECT_TRUE(AsyncSequential(loop, 0, kWait).empty());
  EXPECT_TRUE(AsyncBlocking(loop, 0, kWait).empty());
  EXPECT_TRUE(AsyncOffload(loop, {}, [](int64_t x) { return x; }).results.empty());
  EXPECT_THROW(AsyncGather(loop, -1, kWait), std::invalid_argument);
  EXPECT_THROW(AsyncSequential(loop, 1, milliseconds(-1)), std::invalid_argument);
  const std::vector<milliseconds> bad = {milliseconds(1), milliseconds(-5)};
  EXPECT_THROW(AsyncGather(loop, bad), std::invalid_argument);
}

TEST(AsyncTest, OffloadRunsEveryTaskOnThePoolAndReturnsResultsInOrder) {
  UvLoop loop;
  std::vector<int64_t> in(32);
  std::iota(in.begin(), in.end(), 0);
  const auto caller = std::this_thread::get_id();
  std::atomic<int> on_caller{0};
  const OffloadResult r = AsyncOffload(loop, in, [&](int64_t x) {
    if (std::this_thread::get_id() == caller) ++on_caller;
    return x * x;
  });
  ASSERT_EQ(r.results.size(), 32u);
  for (int64_t i = 0; i < 32; ++i) EXPECT_EQ(r.results[static_cast<size_t>(i)], i * i);
  EXPECT_EQ(on_caller.load(), 0);
  EXPECT_GE(r.threads_used, 1);
  EXPECT_LE(r.threads_used, UvThreadpoolSize());
}

TEST(AsyncTest, OffloadUsesSeveralPoolThreadsForConcurrentTasks) {
  if (UvThreadpoolSize() < 2) GTEST_SKIP() << "UV_THREADPOOL_SIZE gives a single thread";
  UvLoop loop;
  // Two tasks that each wait for the other to start can only finish on two threads at once.
  std::atomic<int> started{0};
  const int64_t in[] = {0, 1};
  const OffloadResult r = AsyncOffload(loop, in, [&](int64_t x) {
    ++started;
    while (started.load() < 2) std::this_thread::yield();
    return x + 1;
  });
  EXPECT_EQ(r.results, (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(r.threads_used, 2);
}

TEST(AsyncTest, OffloadRethrowsATaskExceptionAfterEveryTaskFinished) {
  UvLoop loop;
  std::atomic<int> ran{0};
  const int64_t in[] = {0, 1, 2, 3, 4, 5};
  EXPECT_THROW(AsyncOffload(loop, in,
                            [&](int64_t x) -> int64_t {
                              ++ran;
                              if (x == 1) throw std::runtime_error("task failed");
                              return x;
                            }),
               std::runtime_error);
  EXPECT_EQ(ran.load(), 6);
  EXPECT_NO_THROW(loop.Close());
}

TEST(AsyncTest, ThreadpoolSizeFollowsLibuvsRules) {
  EXPECT_EQ(ThreadpoolSizeFor(nullptr), 4);
  EXPECT_EQ(ThreadpoolSizeFor("8"), 8);
  EXPECT_EQ(ThreadpoolSizeFor("0"), 1);
  EXPECT_EQ(ThreadpoolSizeFor("abc"), 1);
  EXPECT_EQ(ThreadpoolSizeFor("5000"), 1024);
  EXPECT_EQ(ThreadpoolSizeFor("-1"), 1024);  // libuv stores atoi's result in an unsigned
}

}  // namespace
}  // namespace concbench
