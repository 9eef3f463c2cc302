#include "models/thread_pool/thread_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <latch>
#include <numeric>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "measure/timer.h"
#include "models/thread_pool/completion_queue.h"
#include "models/thread_pool/future.h"
#include "workload/sleep.h"

namespace concbench {
namespace {

using std::chrono::milliseconds;

std::vector<int64_t> Iota(int64_t n) {
  std::vector<int64_t> v(static_cast<size_t>(n));
  std::iota(v.begin(), v.end(), 0);
  return v;
}

TEST(ThreadPoolTest, RejectsZeroOrNegativeWorkers) {
  EXPECT_THROW(ThreadPool(0), std::invalid_argument);
  EXPECT_THROW(ThreadPool(-3), std::invalid_argument);
  try {
    ThreadPool pool(0);
  } catch (const std::invalid_argument& e) {
    EXPECT_EQ(std::string(e.what()), "ThreadPool: workers must be >= 1, got 0");
  }
}

TEST(ThreadPoolTest, StartsTheRequestedWorkers) {
  ThreadPool pool(3);
  EXPECT_EQ(pool.workers(), 3);
  // Three tasks that each wait for the other two can only finish on three distinct threads.
  std::latch all_running(3);
  std::vector<Future<std::thread::id>> f;
  for (int i = 0; i < 3; ++i) {
    f.push_back(pool.Submit([&] {
      all_running.arrive_and_wait();
      return std::this_thread::get_id();
    }));
  }
  const auto a = f[0].Get(), b = f[1].Get(), c = f[2].Get();
  EXPECT_NE(a, b);
  EXPECT_NE(b, c);
  EXPECT_NE(a, c);
}

TEST(ThreadPoolTest, SubmitReturnsTheResult) {
  ThreadPool pool(2);
  auto f = pool.Submit([] { return 6 * 7; });
  EXPECT_EQ(f.Get(), 42);
  auto s = pool.Submit([] { return std::string("ok 0"); });
  EXPECT_EQ(s.Get(), "ok 0");
}

TEST(ThreadPoolTest, RunsEveryTaskExactlyOnce) {
  constexpr int kTasks = 10'000;
  std::vector<std::atomic<int>> runs(kTasks);
  {
    ThreadPool pool(4);
    std::vector<Future<void>> f;
    for (int i = 0; i < kTasks; ++i) f.push_back(pool.Submit([&runs, i] { runs[static_cast<size_t>(i)]++; }));
    for (auto& x : f) x.Get();
  }
  for (int i = 0; i < kTasks; ++i) ASSERT_EQ(runs[static_cast<size_t>(i)].load(), 1) << "task " << i;
}

TEST(ThreadPoolTest, MapRunsEveryItemExactlyOnce) {
  constexpr int64_t kItems = 5'000;
  std::vector<std::atomic<int>> runs(kItems);
  ThreadPool pool(3);
  pool.Map([&runs](int64_t i) { return ++runs[static_cast<size_t>(i)]; }, Iota(kItems), 7);
  for (int64_t i = 0; i < kItems; ++i) ASSERT_EQ(runs[static_cast<size_t>(i)].load(), 1) << "item " << i;
}

TEST(ThreadPoolTest, MapKeepsInputOrderForAnyChunksize) {
  ThreadPool pool(3);
  const std::vector<int64_t> in = Iota(10);
  std::vector<int64_t> want;
  for (int64_t x : in) want.push_back(x * x);
  // 1, a chunksize that does not divide 10, one equal to it and one larger than it.
  for (int64_t chunk : {1, 3, 10, 25}) {
    // Earlier items sleep longer, so they finish last unless the results are put back in order.
    const auto out = pool.Map(
        [](int64_t x) {
          BlockingSleep(milliseconds(10 - x));
          return x * x;
        },
        in, chunk);
    EXPECT_EQ(out, want) << "chunksize " << chunk;
  }
}

TEST(ThreadPoolTest, MapOfNothingIsEmpty) {
  ThreadPool pool(1);
  EXPECT_TRUE(pool.Map([](int64_t x) { return x; }, std::vector<int64_t>{}, 4).empty());
}

TEST(ThreadPoolTest, MapRejectsChunksizeBelowOne) {
  ThreadPool pool(1);
  const auto in = Iota(3);
  EXPECT_THROW(pool.Map([](int64_t x) { return x; }, in, 0), std::invalid_argument);
  EXPECT_THROW(pool.Map([](int64_t x) { return x; }, in, -1), std::invalid_argument);
}

TEST(ThreadPoolTest, MapRethrowsTheEarliestFailingItemAfterEveryChunkFinished) {
  ThreadPool pool(2);
  std::atomic<int> finished{0};
  const auto in = Iota(20);
  try {
    pool.Map(
        [&](int64_t x) -> int64_t {
          if (x == 13) throw std::runtime_error("item 13");
          if (x == 5) throw std::runtime_error("item 5");
          ++finished;
          return x;
        },
        in, 4);
    FAIL() << "map did not throw";
  } catch (const std::runtime_error& e) {
    EXPECT_EQ(std::string(e.what()), "item 5");
  }
  // Chunks [4,8) and [12,16) stop at their throwing item: 4 and 12 ran, 6, 7, 14 and 15 did not.
  EXPECT_EQ(finished.load(), 20 - 2 - 4);
}

TEST(ThreadPoolTest, AFutureIsValidUntilItsResultIsTaken) {
  ThreadPool pool(1);
  Future<int> f = pool.Submit([] { return 7; });
  EXPECT_TRUE(f.valid());
  f.Wait();
  EXPECT_TRUE(f.ready());
  EXPECT_EQ(f.Get(), 7);
  EXPECT_FALSE(f.valid());
  EXPECT_THROW(f.Wait(), std::future_error);
  Future<int> moved = pool.Submit([] { return 8; });
  Future<int> target = std::move(moved);
  EXPECT_FALSE(moved.valid());  // NOLINT(bugprone-use-after-move): checking the moved-from state
  EXPECT_EQ(target.Get(), 8);
}

TEST(ThreadPoolTest, ATaskWhoseFutureWasDroppedStillRunsOnce) {
  // Either owner of the shared state may go first; ASan checks that neither frees it early.
  ThreadPool pool(1);
  std::latch release(1);
  std::atomic<int> ran{0};
  {
    Future<void> dropped = pool.Submit([&] {
      release.wait();
      ++ran;
    });
  }
  release.count_down();
  pool.Shutdown();
  EXPECT_EQ(ran.load(), 1);
}

TEST(ThreadPoolTest, ExceptionReachesTheFuture) {
  ThreadPool pool(1);
  auto f = pool.Submit([]() -> int { throw std::runtime_error("boom"); });
  // The only worker ran the failing task and is still alive to run the next one.
  EXPECT_EQ(pool.Submit([] { return 1; }).Get(), 1);
  // Joined before reading the exception: libstdc++'s exception reference counts are invisible to
  // ThreadSanitizer, which would otherwise report the worker's release of the task as a race.
  pool.Shutdown();
  try {
    f.Get();
    FAIL() << "Get() did not throw";
  } catch (const std::runtime_error& e) {
    EXPECT_EQ(std::string(e.what()), "boom");
  }
}

TEST(ThreadPoolTest, CompletionOrderPutsAShortTaskBeforeALongOne) {
  ThreadPool pool(2);
  const std::vector<int64_t> sleeps_ms = {300, 10};
  auto done = pool.SubmitAll(
      [](int64_t ms) {
        BlockingSleep(milliseconds(ms));
        return ms;
      },
      sleeps_ms);
  EXPECT_EQ(done.size(), 2u);
  auto first = done.Next();
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->index, 1u);
  EXPECT_EQ(first->result.Get(), 10);
  auto second = done.Next();
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(second->index, 0u);
  EXPECT_EQ(second->result.Get(), 300);
  EXPECT_FALSE(done.Next().has_value());
}

TEST(ThreadPoolTest, CompletionQueueCarriesExceptions) {
  ThreadPool pool(2);
  auto done = pool.SubmitAll(
      [](int64_t x) -> int64_t {
        if (x == 1) throw std::invalid_argument("one");
        return x;
      },
      Iota(3));
  int64_t sum = 0, errors = 0;
  while (auto c = done.Next()) {
    try {
      sum += c->result.Get();
    } catch (const std::invalid_argument&) {
      ++errors;
      EXPECT_EQ(c->index, 1u);
    }
  }
  EXPECT_EQ(sum, 2);
  EXPECT_EQ(errors, 1);
}

TEST(ThreadPoolTest, ConcurrentSleepsOverlap) {
  // The notebook's section 2 with short sleeps: 5 sleeps on 5 workers take about one sleep.
  ThreadPool pool(5);
  Stopwatch w;
  auto done = pool.SubmitAll([](int64_t i) { return SleepTask(i, milliseconds(100)); }, Iota(5));
  int64_t sum = 0;
  while (auto c = done.Next()) sum += c->result.Get();
  EXPECT_EQ(sum, 15);
  EXPECT_GE(w.ElapsedSeconds(), 0.100);
  EXPECT_LT(w.ElapsedSeconds(), 3 * 0.100);  // serial would be 5 sleeps
}

TEST(ThreadPoolTest, DestructorFinishesQueuedWork) {
  std::atomic<int> ran{0};
  std::vector<Future<int>> f;
  {
    ThreadPool pool(1);
    for (int i = 0; i < 20; ++i) {
      f.push_back(pool.Submit([&ran, i] {
        BlockingSleep(milliseconds(1));
        ++ran;
        return i;
      }));
    }
  }  // 19 or so tasks are still queued here
  EXPECT_EQ(ran.load(), 20);
  for (int i = 0; i < 20; ++i) EXPECT_EQ(f[static_cast<size_t>(i)].Get(), i);
}

// Keeps the only worker of `pool` busy until `release` counts down: what is submitted next
// waits in the queue. Returns once the worker is running the blocker, whose result is 1.
Future<int> OccupyTheWorker(ThreadPool& pool, std::latch& release) {
  std::latch started(1);
  Future<int> blocker = pool.Submit([&started, &release] {
    started.count_down();
    release.wait();
    return 1;
  });
  started.wait();
  return blocker;
}

TEST(ThreadPoolTest, CancelledTasksReportBrokenPromise) {
  ThreadPool pool(1);
  std::latch release(1);
  auto running = OccupyTheWorker(pool, release);
  std::atomic<int> ran_queued{0};
  std::vector<Future<int>> queued;
  for (int i = 0; i < 5; ++i) queued.push_back(pool.Submit([&] { return ++ran_queued; }));
  std::thread stopper([&] { pool.Shutdown(ThreadPool::ShutdownMode::kCancelQueued); });
  // The queued futures become ready (broken) while the running task still holds the worker.
  for (auto& f : queued) f.Wait();
  release.count_down();
  stopper.join();
  // Read only after the join: libstdc++'s exception reference counts are invisible to
  // ThreadSanitizer, which would otherwise report the stopper's release of a task as a race.
  for (auto& f : queued) {
    try {
      f.Get();
      ADD_FAILURE() << "a cancelled task ran";
    } catch (const std::future_error& e) {
      EXPECT_EQ(e.code(), std::make_error_code(std::future_errc::broken_promise));
    }
  }
  EXPECT_EQ(running.Get(), 1);  // the task already running was waited for, not cancelled
  EXPECT_EQ(ran_queued.load(), 0);
  EXPECT_THROW(pool.Submit([] { return 0; }), std::logic_error);
}

TEST(ThreadPoolTest, CancelledSubmitAllTasksAreStillHandedOut) {
  ThreadPool pool(1);
  std::latch release(1);
  auto blocker = OccupyTheWorker(pool, release);
  auto done = pool.SubmitAll([](int64_t x) { return x; }, Iota(4));
  std::thread stopper([&] { pool.Shutdown(ThreadPool::ShutdownMode::kCancelQueued); });
  int broken = 0;
  while (auto c = done.Next()) {
    try {
      c->result.Get();
    } catch (const std::future_error& e) {
      if (e.code() == std::future_errc::broken_promise) ++broken;
    }
  }
  EXPECT_EQ(broken, 4);
  release.count_down();
  stopper.join();
  blocker.Get();
}

TEST(ThreadPoolTest, MapWaitingOnCancelledChunksThrowsBrokenPromise) {
  ThreadPool pool(1);
  std::latch release(1);
  auto blocker = OccupyTheWorker(pool, release);
  std::thread mapper([&] {
    // Queued behind the blocker, then cancelled before it can run.
    EXPECT_THROW(pool.Map([](int64_t x) { return x; }, Iota(6), 2), std::future_error);
  });
  // The pool offers no event for "queued"; this test-only wait yields until the three chunks are.
  while (pool.queued() < 3) std::this_thread::yield();
  std::thread stopper([&] { pool.Shutdown(ThreadPool::ShutdownMode::kCancelQueued); });
  // The worker is held by the blocker, so an empty queue means the chunks were cancelled.
  while (pool.queued() != 0) std::this_thread::yield();
  release.count_down();
  mapper.join();
  stopper.join();
  blocker.Get();
}

TEST(ThreadPoolTest, SubmitAfterShutdownIsRefused) {
  ThreadPool pool(2);
  pool.Shutdown();
  pool.Shutdown();  // idempotent
  EXPECT_THROW(pool.Submit([] { return 0; }), std::logic_error);
  EXPECT_THROW(pool.Map([](int64_t x) { return x; }, Iota(3)), std::logic_error);
}

TEST(ThreadPoolTest, ManyProducersSubmitConcurrently) {
  ThreadPool pool(3);
  std::atomic<int64_t> total{0};
  std::vector<std::thread> producers;
  for (int p = 0; p < 4; ++p) {
    producers.emplace_back([&pool, &total] {
      std::vector<Future<void>> f;
      for (int i = 1; i <= 1'000; ++i) f.push_back(pool.Submit([&total, i] { total += i; }));
      for (auto& x : f) x.Get();
    });
  }
  for (auto& t : producers) t.join();
  EXPECT_EQ(total.load(), 4 * 500'500);
}

}  // namespace
}  // namespace concbench
