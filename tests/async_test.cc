#include "models/async.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <numeric>
#include <span>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "echo_test_support.h"
#include "loop_runner_checks.h"
#include "measure/timer.h"
#include "observer_support.h"
#include "sleep_batch_checks.h"
#include "workload/cpu.h"
#include "workload/echo_client.h"
#include "workload/echo_protocol.h"
#include "workload/task.h"

namespace concbench {
namespace {

using std::chrono::milliseconds;
using Kind = RecordingObserver::Kind;

// Every variant of the runner: start × waits × compute (models/async.h).
std::vector<LoopOptions> EveryVariant() {
  std::vector<LoopOptions> all;
  for (LoopStart start : {LoopStart::kGather, LoopStart::kSequential}) {
    for (LoopWaits waits : {LoopWaits::kOnLoop, LoopWaits::kBlocking}) {
      for (LoopCompute compute : {LoopCompute::kInline, LoopCompute::kThreadpool}) {
        all.push_back({.start = start, .waits = waits, .compute = compute});
      }
    }
  }
  return all;
}

// run(spec, inputs, env, options) for the checks of loop_runner_checks.h.
auto OnLoop(UvLoop& loop) {
  return [&loop](const TaskSpec& spec, std::span<const int64_t> inputs, const TaskEnv& env, const LoopOptions& o) {
    return RunOnLoop(loop, spec, inputs, env, o);
  };
}

// ---- sleeps: how the variants overlap their waits -------------------------------------------

TEST(AsyncTest, GatheredWaitsOverlapAndSequentialOnesAdd) {
  UvLoop loop;
  ExpectGatheredSleepsOverlapAndSequentialOnesAdd<LoopOptions>(OnLoop(loop));
}

TEST(AsyncTest, BlockingWaitsSerialiseTheGatheredTasks) {
  UvLoop loop;
  ExpectFiveSleepTasksTake(
      [&](int64_t n, milliseconds w) {
        return RunOnLoop(loop, SleepTask(w), TaskIndices(n), {}, {.waits = LoopWaits::kBlocking});
      },
      milliseconds(20), 5);
}

TEST(AsyncTest, GatheredTimersOfEqualDeadlinesFireInArmingOrder) {
  UvLoop loop;
  RecordingObserver seen;
  EXPECT_EQ(RunOnLoop(loop, SleepTask(milliseconds(10)), TaskIndices(6), {}, {.observer = &seen}),
            (std::vector<int64_t>{1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(seen.EndOrder(), (std::vector<int64_t>{0, 1, 2, 3, 4, 5}));
}

TEST(AsyncTest, EveryWaitLastsAtLeastItsDuration) {
  UvLoop loop;
  for (int i = 0; i < 12; ++i) {
    const milliseconds wait(1 + 3 * i);
    RecordingObserver seen;
    RunOnLoop(loop, SleepTask(wait), TaskIndices(3), {}, {.observer = &seen});
    for (int64_t t = 0; t < 3; ++t) {
      EXPECT_GE(seen.SeenAt(Kind::kTaskEnd, t), 1e-3 * static_cast<double>(wait.count())) << "task " << t;
    }
  }
  RecordingObserver sequential;
  RunOnLoop(loop, SleepTask(milliseconds(7)), TaskIndices(4), {},
            {.start = LoopStart::kSequential, .observer = &sequential});
  for (int64_t t = 0; t < 4; ++t) EXPECT_GE(sequential.SeenAt(Kind::kTaskEnd, t), 0.007 * static_cast<double>(t + 1));
  // A task's second sleep counts from its own beginning, not from the batch's start.
  RecordingObserver two;
  RunOnLoop(loop, {{SleepStep(milliseconds(3)), SleepStep(milliseconds(4))}}, TaskIndices(3), {}, {.observer = &two});
  for (int64_t t = 0; t < 3; ++t) {
    EXPECT_GE(two.SeenAt(Kind::kStepEnd, t, 1) - two.SeenAt(Kind::kStepBegin, t, 1), 0.004) << "task " << t;
    EXPECT_GE(two.SeenAt(Kind::kTaskEnd, t), 0.007) << "task " << t;
  }
}

// A pause between arming and running lets the loop's millisecond clock advance before it polls,
// so libuv fires the timers up to a millisecond early; the runner must wait out the rest.
TEST(AsyncTest, WaitsStillLastTheirDurationWhenTheLoopStartsLate) {
  UvLoop loop;
  const auto pause = [] {
    Stopwatch p;
    while (p.ElapsedSeconds() < 0.0015) {
    }
  };
  for (int round = 0; round < 10; ++round) {
    RecordingObserver seen;
    RunOnLoop(loop, SleepTask(milliseconds(3)), TaskIndices(3), {}, {.on_started = pause, .observer = &seen});
    for (int64_t t = 0; t < 3; ++t) EXPECT_GE(seen.SeenAt(Kind::kTaskEnd, t), 0.003) << "round " << round;
  }
}

TEST(AsyncTest, TenThousandGatheredTimersEachRunExactlyOnce) {
  UvLoop loop;
  constexpr int64_t kTasks = 10'000;
  std::vector<int> ends(kTasks, 0);
  RecordingObserver seen;
  seen.hook = [&](const RecordingObserver::Event& e) {
    if (e.kind == Kind::kTaskEnd) ++ends[static_cast<size_t>(e.task)];
  };
  bool started = false;
  const auto r = RunOnLoop(loop, SleepTask(milliseconds(5)), TaskIndices(kTasks), {},
                           {.on_started = [&] { started = true; }, .observer = &seen});
  EXPECT_TRUE(started);
  EXPECT_EQ(std::count(ends.begin(), ends.end(), 1), kTasks);
  EXPECT_EQ(std::accumulate(r.begin(), r.end(), int64_t{0}), 50'005'000);
  EXPECT_EQ(loop.CountHandles(), 0);
}

// ---- any spec under any variant -------------------------------------------------------------

TEST(AsyncTest, ComputeThenSleepGivesTheSameResultsUnderEveryVariant) {
  UvLoop loop;
  ExpectComputeThenSleepUnderEveryVariant(loop, EveryVariant(), OnLoop(loop));
}

TEST(AsyncTest, TheObserverSeesEveryTaskAndStepUnderEveryVariant) {
  UvLoop loop;
  ExpectEveryTaskAndStepSeenUnderEveryVariant(EveryVariant(), OnLoop(loop));
}

TEST(AsyncTest, ZeroTasksReturnAtOnceUnderEveryVariant) {
  UvLoop loop;
  for (const LoopOptions& o : EveryVariant()) {
    bool started = false;
    LoopOptions with_hook = o;
    with_hook.on_started = [&] { started = true; };
    EXPECT_TRUE(RunOnLoop(loop, SleepTask(milliseconds(50)), {}, {}, with_hook).empty()) << DescribeVariant(o);
    EXPECT_FALSE(started) << DescribeVariant(o);
  }
  EXPECT_EQ(loop.CountHandles(), 0);
}

TEST(AsyncTest, ASpecAWorkerCannotRunIsRefused) {
  UvLoop loop;
  try {
    RunOnLoop(loop, {{Compute(ComputeFn::kIdentity), SleepStep(milliseconds(-1))}}, TaskIndices(2), {}, {});
    ADD_FAILURE() << "no std::invalid_argument";
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(), "RunOnLoop: step 1: a sleep of -1000000 ns");
  }
  EXPECT_THROW(RunOnLoop(loop, {{EchoStep(milliseconds(1), -1)}}, TaskIndices(1), {}, {}), std::invalid_argument);
  EXPECT_EQ(loop.CountHandles(), 0);
}

// ---- failures: rethrown once the batch's handles are closed ---------------------------------

TEST(AsyncTest, AnExceptionFromAHookStopsTheBatchAndLeavesNoHandle) {
  UvLoop loop;
  RecordingObserver throw_at_2;
  throw_at_2.hook = [](const RecordingObserver::Event& e) {
    if (e.kind == Kind::kTaskEnd && e.task == 2) throw std::runtime_error("hook failed");
  };
  for (const LoopOptions& variant : EveryVariant()) {
    LoopOptions o = variant;
    o.observer = &throw_at_2;
    EXPECT_THROW(RunOnLoop(loop, SleepTask(milliseconds(1)), TaskIndices(5), {}, o), std::runtime_error)
        << DescribeVariant(o);
    EXPECT_EQ(loop.CountHandles(), 0) << DescribeVariant(o);
  }
  // From on_started, with every gathered task pending.
  EXPECT_THROW(RunOnLoop(loop, SleepTask(milliseconds(1)), TaskIndices(5), {},
                         {.on_started = [] { throw std::runtime_error("on_started failed"); }}),
               std::runtime_error);
  EXPECT_EQ(loop.CountHandles(), 0);
  // The loop is still usable afterwards, and closes.
  EXPECT_EQ(RunOnLoop(loop, SleepTask(milliseconds(0)), TaskIndices(2), {}, {}), (std::vector<int64_t>{1, 2}));
  EXPECT_NO_THROW(loop.Close());
}

TEST(AsyncTest, AnExceptionInAComputeStepIsRethrownOnceEveryOffloadedStepFinished) {
  for (LoopCompute compute : {LoopCompute::kInline, LoopCompute::kThreadpool}) {
    UvLoop loop;
    std::atomic<int> ran{0};
    RecordingObserver seen;
    // The compute step of task 1 fails where it runs (on a threadpool thread when offloaded).
    seen.hook = [&](const RecordingObserver::Event& e) {
      if (e.kind != Kind::kStepBegin || e.step != 0) return;
      ++ran;
      if (e.task == 1) throw std::runtime_error("task failed");
    };
    try {
      RunOnLoop(loop, {{Compute(ComputeFn::kTrabajo), SleepStep(milliseconds(1))}}, TaskIndices(6), {},
                {.compute = compute, .observer = &seen});
      ADD_FAILURE() << "no exception";
    } catch (const std::runtime_error& e) {
      EXPECT_STREQ(e.what(), "task failed");
    }
    if (compute == LoopCompute::kThreadpool) {
      EXPECT_EQ(ran.load(), 6);  // every task's step was queued at the start, and every one ran
    }
    EXPECT_EQ(loop.CountHandles(), 0);
    EXPECT_NO_THROW(loop.Close());
  }
}

// ---- compute on libuv's threadpool ----------------------------------------------------------

TEST(AsyncTest, OffloadRunsEveryComputeStepOnThePoolAndReturnsResultsInOrder) {
  UvLoop loop;
  const auto caller = std::this_thread::get_id();
  std::atomic<int> on_caller{0};
  RecordingObserver seen;
  seen.hook = [&](const RecordingObserver::Event& e) {
    if (e.kind == Kind::kStepBegin && std::this_thread::get_id() == caller) ++on_caller;
  };
  LoopStats stats;
  const auto r = RunOnLoop(loop, {{Compute(ComputeFn::kTrabajo)}}, TaskIndices(32), {},
                           {.compute = LoopCompute::kThreadpool, .observer = &seen}, &stats);
  ASSERT_EQ(r.size(), 32u);
  EXPECT_EQ(std::vector<int64_t>(r.begin(), r.begin() + 5),
            (std::vector<int64_t>{2398830, 2398875, 2398920, 2398965, 2399010}));
  for (int64_t i = 0; i < 32; ++i) EXPECT_EQ(r[static_cast<size_t>(i)], trabajo(i));
  EXPECT_EQ(on_caller.load(), 0);
  EXPECT_GE(stats.threads_used, 1);
  EXPECT_LE(stats.threads_used, UvThreadpoolSize());
  // Inline, nothing is offloaded.
  LoopStats inline_stats;
  RunOnLoop(loop, {{Compute(ComputeFn::kTrabajo)}}, TaskIndices(2), {}, {}, &inline_stats);
  EXPECT_EQ(inline_stats.threads_used, 0);
}

TEST(AsyncTest, OffloadUsesSeveralPoolThreadsForConcurrentSteps) {
  if (UvThreadpoolSize() < 2) GTEST_SKIP() << "UV_THREADPOOL_SIZE gives a single thread";
  UvLoop loop;
  // Two steps that each wait for the other to start can only finish on two threads at once.
  std::atomic<int> started{0};
  RecordingObserver seen;
  seen.hook = [&](const RecordingObserver::Event& e) {
    if (e.kind != Kind::kStepBegin) return;
    ++started;
    while (started.load() < 2) std::this_thread::yield();
  };
  LoopStats stats;
  EXPECT_EQ(RunOnLoop(loop, {{Compute(ComputeFn::kIdentity)}}, TaskIndices(2), {},
                      {.compute = LoopCompute::kThreadpool, .observer = &seen}, &stats),
            (std::vector<int64_t>{0, 1}));
  EXPECT_EQ(stats.threads_used, 2);
}

TEST(AsyncTest, ThreadpoolSizeFollowsLibuvsRules) {
  EXPECT_EQ(ThreadpoolSizeFor(nullptr), 4);
  EXPECT_EQ(ThreadpoolSizeFor("8"), 8);
  EXPECT_EQ(ThreadpoolSizeFor("0"), 1);
  EXPECT_EQ(ThreadpoolSizeFor("abc"), 1);
  EXPECT_EQ(ThreadpoolSizeFor("5000"), 1024);
  EXPECT_EQ(ThreadpoolSizeFor("-1"), 1024);  // libuv stores atoi's result in an unsigned
}

// ---- echo steps: sockets on the loop --------------------------------------------------------

TEST(AsyncEchoStepTest, GatheredEchoStepsGiveEveryDigestInAboutOneDelay) {
  FdLeakCheck fds;
  EchoFixture echo(8, 64, milliseconds(100));
  {
    UvLoop loop;
    Stopwatch w;
    const auto r = RunOnLoop(loop, {{EchoStep(milliseconds(100), 64)}}, echo.payloads.inputs(), echo.env, {});
    const double s = w.ElapsedSeconds();
    ASSERT_EQ(r.size(), 8u);
    for (int64_t i = 0; i < 8; ++i) EXPECT_EQ(r[static_cast<size_t>(i)], EchoDigest(echo.payloads.payload(i)));
    EXPECT_GE(s, 0.100);
    EXPECT_LT(s, 3 * 0.100);  // one after another: 8 delays
    EXPECT_EQ(loop.CountHandles(), 0);
    loop.Close();
  }
  EXPECT_EQ(echo.server.connections_accepted(), 8);
  EXPECT_EQ(echo.server.Stop(), "");
}

TEST(AsyncEchoStepTest, EchoBetweenComputeAndSleepUnderEveryVariant) {
  FdLeakCheck fds;
  EchoFixture echo(3, 100, milliseconds(1));
  {
    UvLoop loop;
    ExpectEchoStepsUnderEveryVariant(loop, echo, EveryVariant(), OnLoop(loop));
    loop.Close();
  }
  EXPECT_EQ(echo.server.requests_received(), 3 * 9);
  EXPECT_EQ(echo.server.Stop(), "");
}

TEST(AsyncEchoStepTest, ARefusedConnectionThrowsEchoErrorNamingTheTask) {
  // Whichever connect fails first.
  const int64_t task = ExpectRefusedEchoNamesATask<LoopOptions>(OnLoop);
  EXPECT_GE(task, 0);
  EXPECT_LT(task, 3);
}

}  // namespace
}  // namespace concbench
