#include <gtest/gtest.h>
#include <pthread.h>

#include <chrono>
#include <numeric>
#include <stdexcept>
#include <string>
#include <vector>

#include "coro_test_tasks.h"
#include "echo_test_support.h"
#include "measure/timer.h"
#include "models/coro/frames.h"
#include "models/coro/gather.h"
#include "models/coro/notebook_tasks.h"
#include "models/coro/run.h"
#include "models/coro/sleep.h"
#include "models/coro/task.h"
#include "sleep_batch_checks.h"
#include "workload/echo_client.h"
#include "workload/echo_server.h"
#include "workload/sleep.h"

namespace concbench {
namespace {

using namespace std::chrono_literals;
using coro_test::CoroEchoBatch;
using coro_test::CoroGather;
using coro_test::CoroSequential;
using coro_test::CoroSleepTask;
using std::chrono::milliseconds;

constexpr milliseconds kSleep(50);

double Seconds(std::chrono::nanoseconds d) { return std::chrono::duration<double>(d).count(); }

// Sleeps `wait`, appends `index` to `order` when it wakes, and returns `index`.
Task<int64_t> SleepThenRecord(UvLoop& loop, int64_t index, milliseconds wait, std::vector<int64_t>& order) {
  co_await Sleep(loop, wait);
  order.push_back(index);
  co_return index;
}

struct TaskFailed : std::runtime_error {
  explicit TaskFailed(int64_t i) : std::runtime_error("task " + std::to_string(i) + " failed"), index(i) {}
  int64_t index;
};

Task<int64_t> SleepThenThrow(UvLoop& loop, int64_t index, milliseconds wait, int64_t& finished) {
  co_await Sleep(loop, wait);
  ++finished;
  throw TaskFailed(index);
}

Task<int64_t> SleepThenReturn(UvLoop& loop, int64_t index, milliseconds wait, int64_t& finished) {
  co_await Sleep(loop, wait);
  ++finished;
  co_return index;
}

TEST(CoroTest, GatherReturnsResultsInInputOrderWhenTasksFinishInReverse) {
  UvLoop loop;
  std::vector<int64_t> order;
  std::vector<Task<int64_t>> tasks;
  for (int64_t i = 0; i < 5; ++i) tasks.push_back(SleepThenRecord(loop, i, milliseconds(10 * (5 - i)), order));
  const std::vector<int64_t> results = RunUntilComplete(loop, Gather(std::move(tasks)));
  EXPECT_EQ(order, (std::vector<int64_t>{4, 3, 2, 1, 0}));
  EXPECT_EQ(results, (std::vector<int64_t>{0, 1, 2, 3, 4}));
  EXPECT_EQ(loop.CountHandles(), 0);
}

TEST(CoroTest, AnExceptionReachesTheCoroutineThatAwaitsIt) {
  UvLoop loop;
  int64_t finished = 0;
  auto parent = [&]() -> Task<std::string> {
    try {
      co_await SleepThenThrow(loop, 7, 1ms, finished);
    } catch (const TaskFailed& e) {
      co_return "caught " + std::to_string(e.index);
    }
    co_return "not caught";
  };
  EXPECT_EQ(RunUntilComplete(loop, parent()), "caught 7");
  // Uncaught, it reaches RunUntilComplete's caller.
  EXPECT_THROW(RunUntilComplete(loop, SleepThenThrow(loop, 8, 1ms, finished)), TaskFailed);
  EXPECT_EQ(finished, 2);
  EXPECT_EQ(CoroFrames().live_frames, 0);
}

TEST(CoroTest, GatherRethrowsTheFirstExceptionInInputOrderAfterEveryTaskFinished) {
  UvLoop loop;
  int64_t finished = 0;
  std::vector<Task<int64_t>> tasks;
  tasks.push_back(SleepThenReturn(loop, 0, 30ms, finished));
  tasks.push_back(SleepThenThrow(loop, 1, 20ms, finished));  // first in input order
  tasks.push_back(SleepThenThrow(loop, 2, 1ms, finished));   // first in time
  tasks.push_back(SleepThenReturn(loop, 3, 60ms, finished));  // last to finish
  Stopwatch w;
  try {
    RunUntilComplete(loop, Gather(std::move(tasks)));
    FAIL() << "Gather did not rethrow";
  } catch (const TaskFailed& e) {
    EXPECT_EQ(e.index, 1);
  }
  EXPECT_EQ(finished, 4);  // nothing was cancelled
  EXPECT_GE(w.ElapsedSeconds(), 0.060);
  EXPECT_EQ(loop.CountHandles(), 0);
  EXPECT_EQ(CoroFrames().live_frames, 0);
}

TEST(CoroTest, GatherOfVoidTasksWaitsForAllOfThem) {
  UvLoop loop;
  int64_t done = 0;
  auto task = [&](milliseconds wait) -> Task<void> {
    co_await Sleep(loop, wait);
    ++done;
  };
  std::vector<Task<void>> tasks;
  for (int i = 0; i < 4; ++i) tasks.push_back(task(milliseconds(i)));
  RunUntilComplete(loop, Gather(std::move(tasks)));
  EXPECT_EQ(done, 4);
  EXPECT_EQ(RunUntilComplete(loop, Gather(std::vector<Task<int64_t>>{})), std::vector<int64_t>{});
}

TEST(CoroTest, FiveGatheredSleepsOverlap) {
  UvLoop loop;
  ExpectFiveSleepTasksTake([&](int64_t n, milliseconds w) { return CoroGather(loop, n, w); }, milliseconds(100), 1, 4.5);
}

TEST(CoroTest, FiveSequentialSleepsTakeAtLeastFiveSleeps) {
  UvLoop loop;
  ExpectFiveSleepTasksTake([&](int64_t n, milliseconds w) { return CoroSequential(loop, n, w); }, kSleep, 5);
}

// Each sleep measured by its own coroutine on the steady clock, including sub-millisecond ones
// that libuv's millisecond timers cannot express.
Task<double> TimedSleep(UvLoop& loop, std::chrono::nanoseconds d) {
  const Stopwatch w;
  co_await Sleep(loop, d);
  co_return w.ElapsedSeconds();
}

TEST(CoroTest, EverySleepLastsAtLeastItsDuration) {
  UvLoop loop;
  std::vector<std::chrono::nanoseconds> waits = {0ns, 300us, 1ms, 1500us};
  for (int i = 0; i < 12; ++i) waits.push_back(milliseconds(1 + 3 * i));
  std::vector<Task<double>> tasks;
  for (const auto d : waits) tasks.push_back(TimedSleep(loop, d));
  const std::vector<double> took = RunUntilComplete(loop, Gather(std::move(tasks)));
  ASSERT_EQ(took.size(), waits.size());
  for (size_t i = 0; i < waits.size(); ++i) EXPECT_GE(took[i], Seconds(waits[i])) << "sleep " << i;

  // Awaited one after another, each from a callback of the one before.
  auto sequential = [&]() -> Task<std::vector<double>> {
    std::vector<double> t;
    for (int i = 0; i < 4; ++i) t.push_back(co_await TimedSleep(loop, 7ms));
    co_return t;
  };
  for (const double t : RunUntilComplete(loop, sequential())) EXPECT_GE(t, 0.007);
}

// A pause between arming and running lets the loop's millisecond clock advance before it polls,
// so libuv fires the timers up to a millisecond early; Sleep must wait out the rest.
TEST(CoroTest, SleepsStillLastTheirDurationWhenTheLoopStartsLate) {
  UvLoop loop;
  const auto pause = [] {
    const Stopwatch p;
    while (p.ElapsedSeconds() < 0.0015) {
    }
  };
  for (int round = 0; round < 10; ++round) {
    std::vector<Task<double>> tasks;
    for (int i = 0; i < 3; ++i) tasks.push_back(TimedSleep(loop, 3ms));
    const std::vector<double> took = RunUntilComplete(loop, Gather(std::move(tasks)), {.timeout = {}, .on_started = pause});
    for (const double t : took) EXPECT_GE(t, 0.003) << "round " << round;
  }
}

// ---- abandoned runs: every frame freed, every handle closed ----------------------------------

struct MeasurementFailed : std::runtime_error {
  MeasurementFailed() : std::runtime_error("measurement failed") {}
};

TEST(CoroTest, AnExceptionFromOnStartedAbandonsTheRunAndFreesEverySuspendedFrame) {
  UvLoop loop;
  ASSERT_EQ(CoroFrames().live_frames, 0);
  int64_t live_when_started = 0;
  int64_t handles_when_started = 0;
  const Stopwatch w;
  EXPECT_THROW(CoroGather(loop, 1000, 10s, {.timeout = {}, .on_started = [&] {
                                               live_when_started = CoroFrames().live_frames;
                                               handles_when_started = loop.CountHandles();
                                               throw MeasurementFailed();
                                             }}),
               MeasurementFailed);
  EXPECT_LT(w.ElapsedSeconds(), 5.0);  // did not wait for the 10 s timers
  EXPECT_EQ(live_when_started, 1001);  // 1,000 sleeps and the gather
  EXPECT_EQ(handles_when_started, 1000);
  EXPECT_EQ(CoroFrames().live_frames, 0);
  EXPECT_EQ(CoroFrames().live_bytes, 0);
  EXPECT_EQ(loop.CountHandles(), 0);
  // The loop is still usable, and closes.
  EXPECT_EQ(CoroGather(loop, 3, 1ms), (std::vector<int64_t>{1, 2, 3}));
  EXPECT_NO_THROW(loop.Close());
}

// Frames suspended at several depths: a gather of chains, each awaiting a task awaiting a sleep.
Task<int64_t> Nested(UvLoop& loop, int64_t depth, milliseconds wait) {
  if (depth == 0) co_return co_await CoroSleepTask(loop, 0, wait);
  co_return 1 + co_await Nested(loop, depth - 1, wait);
}

TEST(CoroTest, ATimeoutAbandonsTheRunAndLeavesTheLoopReusable) {
  UvLoop loop;
  std::vector<Task<int64_t>> tasks;
  for (int64_t i = 0; i < 50; ++i) tasks.push_back(Nested(loop, i % 5, i % 2 == 0 ? 10s : 1ms));
  const Stopwatch w;
  try {
    RunUntilComplete(loop, Gather(std::move(tasks)), {.timeout = 100ms, .on_started = {}});
    FAIL() << "no timeout";
  } catch (const CoroTimeout& e) {
    EXPECT_STREQ(e.what(), "RunUntilComplete: the task did not finish within 100 ms");
  }
  EXPECT_GE(w.ElapsedSeconds(), 0.100);
  EXPECT_LT(w.ElapsedSeconds(), 5.0);
  EXPECT_EQ(CoroFrames().live_frames, 0);
  EXPECT_EQ(loop.CountHandles(), 0);
  // A timeout that does not expire leaves nothing either.
  EXPECT_EQ(CoroGather(loop, 2, 1ms, {.timeout = 10s, .on_started = {}}), (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(loop.CountHandles(), 0);
  EXPECT_NO_THROW(loop.Close());
}

TEST(CoroTest, AStoppedOrIdleLoopAbandonsTheRunAndSaysWhy) {
  UvLoop loop;
  auto stops = [&]() -> Task<int64_t> {
    uv_stop(loop.get());
    co_return co_await CoroSleepTask(loop, 0, 10s);
  };
  try {
    RunUntilComplete(loop, stops());
    FAIL() << "no error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("stopped (uv_stop)"), std::string::npos) << e.what();
  }
  EXPECT_EQ(loop.CountHandles(), 0);
  // Suspended on nothing any handle will complete.
  auto forever = []() -> Task<int64_t> {
    co_await std::suspend_always{};
    co_return 1;
  };
  EXPECT_THROW(RunUntilComplete(loop, forever()), std::logic_error);
  EXPECT_EQ(CoroFrames().live_frames, 0);
  EXPECT_EQ(loop.CountHandles(), 0);
  EXPECT_NO_THROW(loop.Close());
}

TEST(CoroTest, DestroyingTheLoopAfterAnAbandonedRunLeavesNothingBehind) {
  Task<int64_t> never_started;
  {
    UvLoop loop;
    never_started = CoroSleepTask(loop, 0, 1ms);
    EXPECT_THROW(CoroGather(loop, 100, 10s, {.timeout = 20ms, .on_started = {}}), CoroTimeout);
    // Checked here, not left to ~UvLoop: libuv is not built with the sanitizers, so ASan would
    // not see it finish closing a handle whose frame had already been freed.
    EXPECT_EQ(loop.CountHandles(), 0);
  }  // ~UvLoop aborts unless uv_loop_close returns 0
  EXPECT_EQ(CoroFrames().live_frames, 1);  // the task never started holds no handle
  never_started = Task<int64_t>();
  EXPECT_EQ(CoroFrames().live_frames, 0);
}

// ---- arguments ----------------------------------------------------------------------------------

TEST(CoroTest, BadArgumentsAndMisusedTasksAreRejected) {
  UvLoop loop;
  EXPECT_THROW(CoroGather(loop, -1, kSleep), std::invalid_argument);
  EXPECT_THROW(CoroSequential(loop, 1, milliseconds(-1)), std::invalid_argument);
  EXPECT_THROW(CoroDispatch(-1), std::invalid_argument);
  EXPECT_THROW(RunUntilComplete(loop, CoroSleepTask(loop, 0, -1ns)), std::invalid_argument);
  EXPECT_THROW(RunUntilComplete(loop, Task<int64_t>()), std::invalid_argument);
  EXPECT_TRUE(CoroGather(loop, 0, kSleep).empty());

  std::vector<Task<int64_t>> with_empty;
  with_empty.push_back(CoroSleepTask(loop, 0, 1ms));
  with_empty.emplace_back();
  EXPECT_THROW(RunUntilComplete(loop, Gather(std::move(with_empty))), std::invalid_argument);

  auto awaits_twice = [&]() -> Task<int64_t> {
    Task<int64_t> t = CoroSleepTask(loop, 0, 0ms);
    const int64_t first = co_await std::move(t);
    co_return first + co_await std::move(t);
  };
  EXPECT_THROW(RunUntilComplete(loop, awaits_twice()), std::logic_error);
  EXPECT_EQ(CoroFrames().live_frames, 0);
  EXPECT_EQ(loop.CountHandles(), 0);
  loop.Close();
  EXPECT_THROW(RunUntilComplete(loop, CoroSleepTask(loop, 0, 1ms)), std::invalid_argument);
}

// ---- frames ---------------------------------------------------------------------------------------

TEST(CoroTest, FrameAccountingMeasuresEveryFrameAndReturnsToZero) {
  UvLoop loop;
  ResetCoroFramePeak();
  const CoroFrameStats before = CoroFrames();
  EXPECT_EQ(before.live_frames, 0);

  int64_t sleep_frame = 0;
  {
    const Task<int64_t> t = CoroSleepTask(loop, 0, 1ms);
    sleep_frame = CoroFrames().last_frame_bytes;
    EXPECT_EQ(CoroFrames().live_frames, 1);
    EXPECT_EQ(CoroFrames().live_bytes, sleep_frame);
  }
  // The frame holds the uv_timer_t of its co_await Sleep, and little else.
  EXPECT_GT(sleep_frame, static_cast<int64_t>(sizeof(uv_timer_t)));
  EXPECT_LT(sleep_frame, 512);

  constexpr int64_t kTasks = 1000;
  int64_t live_bytes_when_started = 0;
  const auto r = CoroGather(loop, kTasks, 1ms, {.timeout = {}, .on_started = [&] {
                                                  EXPECT_EQ(CoroFrames().live_frames, kTasks + 1);
                                                  live_bytes_when_started = CoroFrames().live_bytes;
                                                }});
  EXPECT_EQ(std::accumulate(r.begin(), r.end(), int64_t{0}), SleepBatchChecksum(kTasks));
  EXPECT_GE(live_bytes_when_started, kTasks * sleep_frame);
  EXPECT_GE(CoroFrames().peak_live_bytes, live_bytes_when_started);
  EXPECT_EQ(CoroFrames().frames_allocated - before.frames_allocated, 1 + kTasks + 1);
  EXPECT_EQ(CoroFrames().live_frames, 0);
  EXPECT_EQ(CoroFrames().live_bytes, 0);

  CoroDispatch(1);
  const int64_t immediate_frame = CoroFrames().last_frame_bytes;
  EXPECT_GT(immediate_frame, 0);
  EXPECT_LT(immediate_frame, sleep_frame);
  std::printf("frame bytes: co_await Sleep task %lld, non-suspending task %lld\n",
              static_cast<long long>(sleep_frame), static_cast<long long>(immediate_frame));
  RecordProperty("sleep_task_frame_bytes", std::to_string(sleep_frame));
  RecordProperty("immediate_task_frame_bytes", std::to_string(immediate_frame));
}

TEST(CoroTest, DispatchCreatesRunsAndFreesEveryCoroutine) {
  const CoroFrameStats before = CoroFrames();
  EXPECT_EQ(CoroDispatch(10'000), 50'005'000);
  EXPECT_EQ(CoroFrames().frames_allocated - before.frames_allocated, 10'001);
  EXPECT_EQ(CoroFrames().live_frames, 0);
  EXPECT_EQ(CoroDispatch(0), 0);
}

Task<int64_t> Chain(int64_t depth) {
  if (depth == 0) co_return 0;
  co_return 1 + co_await Chain(depth - 1);
}

void* RunChain(void* result) {
  UvLoop loop;
  *static_cast<int64_t*>(result) = RunUntilComplete(loop, Chain(200'000));
  return nullptr;
}

// 200,000 nested awaits on a 256 KiB stack: about a byte per level, so only a transfer that
// does not nest a call gets through without a stack overflow (in every build: the sanitizers'
// and -O0's frames are larger, not more). CoroDispatch covers the flat loop of awaits.
TEST(CoroTest, ADeepChainOfAwaitsDoesNotGrowTheStack) {
  pthread_attr_t attr;
  ASSERT_EQ(pthread_attr_init(&attr), 0);
  ASSERT_EQ(pthread_attr_setstacksize(&attr, 256 * 1024), 0);
  int64_t result = -1;
  pthread_t thread;
  ASSERT_EQ(pthread_create(&thread, &attr, &RunChain, &result), 0);
  ASSERT_EQ(pthread_join(thread, nullptr), 0);
  pthread_attr_destroy(&attr);
  EXPECT_EQ(result, 200'000);
}

// ---- echo -----------------------------------------------------------------------------------------

TEST(CoroEchoTest, GatheredEchoesMatchTheBatchChecksum) {
  const FdLeakCheck fds;
  UvLoop loop;
  {
    EchoServer server({.delay = 20ms});
    const EchoBatch small(40, 1000);
    const Stopwatch w;
    const std::vector<int64_t> digests = CoroEchoBatch(loop, server.address(), small);
    EXPECT_LT(w.ElapsedSeconds(), 5.0);
    ASSERT_EQ(digests.size(), 40u);
    for (int64_t i = 0; i < 40; ++i) EXPECT_EQ(digests[static_cast<size_t>(i)], EchoDigest(small.payload(i)));
    EXPECT_EQ(std::accumulate(digests.begin(), digests.end(), int64_t{0}), small.expected_checksum());
    // Larger than a socket buffer: partial reads and writes on both sides.
    const EchoBatch big(3, size_t{1} << 20);
    const std::vector<int64_t> big_digests = CoroEchoBatch(loop, server.address(), big);
    EXPECT_EQ(std::accumulate(big_digests.begin(), big_digests.end(), int64_t{0}), big.expected_checksum());
    // One exchange awaited on its own.
    EXPECT_EQ(RunUntilComplete(loop, CoroEchoTask(loop, server.address(), small, 5)), EchoDigest(small.payload(5)));
    EXPECT_EQ(server.Stop(), "");
    EXPECT_EQ(server.connections_accepted(), 40 + 3 + 1);
  }
  EXPECT_EQ(loop.CountHandles(), 0);
  EXPECT_EQ(CoroFrames().live_frames, 0);
}

TEST(CoroEchoTest, FailuresAreNamedAndLeaveNothingOpen) {
  const FdLeakCheck fds;
  UvLoop loop;
  const EchoBatch batch(3, 1000);
  try {
    CoroEchoBatch(loop, ClosedPort(), batch);
    FAIL() << "no error";
  } catch (const EchoError& e) {
    EXPECT_EQ(e.kind(), EchoErrorKind::kRefused) << e.what();
    EXPECT_NE(std::string(e.what()).find("task 0 of 3: connect failed: connection refused (ECONNREFUSED)"),
              std::string::npos)
        << e.what();
  }
  {
    EchoServer server({.fault = EchoFault::kShortReply});
    try {
      CoroEchoBatch(loop, server.address(), batch);
      FAIL() << "no error";
    } catch (const EchoError& e) {
      EXPECT_EQ(e.kind(), EchoErrorKind::kShortRead) << e.what();
      EXPECT_NE(std::string(e.what()).find("after 504 of 1004 reply bytes (short read)"), std::string::npos)
          << e.what();
    }
    EXPECT_EQ(server.Stop(), "");
  }
  {
    // Every connection waits in a read when the timeout abandons the run.
    EchoServer server({.fault = EchoFault::kSilent});
    const Stopwatch w;
    try {
      CoroEchoBatch(loop, server.address(), EchoBatch(5, 64), {.timeout = 200ms, .close_with_reset = true});
      FAIL() << "no error";
    } catch (const EchoError& e) {
      EXPECT_EQ(e.kind(), EchoErrorKind::kTimeout) << e.what();
      EXPECT_NE(std::string(e.what()).find("5 of 5 replies missing after 200 ms"), std::string::npos) << e.what();
    }
    EXPECT_LT(w.ElapsedSeconds(), 3.0);
    EXPECT_EQ(server.Stop(), "");
  }
  EXPECT_EQ(loop.CountHandles(), 0);
  EXPECT_EQ(CoroFrames().live_frames, 0);
}

}  // namespace
}  // namespace concbench
