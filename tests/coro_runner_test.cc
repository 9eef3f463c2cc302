#include "models/coro/offload.h"
#include "models/coro/spec_task.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
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

// Every variant of the runner: start × compute (models/coro_runner.h).
std::vector<CoroRunOptions> EveryVariant() {
  std::vector<CoroRunOptions> all;
  for (LoopStart start : {LoopStart::kGather, LoopStart::kSequential}) {
    for (LoopCompute compute : {LoopCompute::kInline, LoopCompute::kThreadpool}) {
      all.push_back({.start = start, .compute = compute});
    }
  }
  return all;
}

// run(spec, inputs, env, options) for the checks of loop_runner_checks.h.
auto AsCoroutines(UvLoop& loop) {
  return [&loop](const TaskSpec& spec, std::span<const int64_t> inputs, const TaskEnv& env,
                 const CoroRunOptions& o) { return RunCoroutines(loop, spec, inputs, env, o); };
}

TEST(CoroRunnerTest, GatheredSleepsOverlapAndSequentialOnesAdd) {
  UvLoop loop;
  ExpectGatheredSleepsOverlapAndSequentialOnesAdd<CoroRunOptions>(AsCoroutines(loop));
}

TEST(CoroRunnerTest, ComputeThenSleepGivesTheSameResultsUnderEveryVariant) {
  UvLoop loop;
  ExpectComputeThenSleepUnderEveryVariant(loop, EveryVariant(), AsCoroutines(loop));
}

TEST(CoroRunnerTest, TheObserverSeesEveryTaskAndStepUnderEveryVariant) {
  UvLoop loop;
  ExpectEveryTaskAndStepSeenUnderEveryVariant(EveryVariant(), AsCoroutines(loop));
}

TEST(CoroRunnerTest, OffloadedStepsRunOnThePoolAndInlineOnesOnTheLoop) {
  UvLoop loop;
  const auto caller = std::this_thread::get_id();
  for (LoopCompute compute : {LoopCompute::kInline, LoopCompute::kThreadpool}) {
    std::atomic<int> on_caller{0}, elsewhere{0};
    RecordingObserver seen;
    seen.hook = [&](const RecordingObserver::Event& e) {
      if (e.kind == Kind::kStepBegin) ++(std::this_thread::get_id() == caller ? on_caller : elsewhere);
    };
    const auto r = RunCoroutines(loop, {{Compute(ComputeFn::kTrabajo)}}, TaskIndices(8), {},
                                 {.compute = compute, .observer = &seen});
    for (int64_t i = 0; i < 8; ++i) EXPECT_EQ(r[static_cast<size_t>(i)], trabajo(i));
    EXPECT_EQ(on_caller.load(), compute == LoopCompute::kInline ? 8 : 0);
    EXPECT_EQ(elsewhere.load(), compute == LoopCompute::kInline ? 0 : 8);
  }
}

TEST(CoroRunnerTest, ZeroTasksAndSpecsAWorkerCannotRun) {
  UvLoop loop;
  for (const CoroRunOptions& o : EveryVariant()) {
    EXPECT_TRUE(RunCoroutines(loop, SleepTask(milliseconds(50)), {}, {}, o).empty()) << DescribeVariant(o);
  }
  try {
    RunCoroutines(loop, {{SleepStep(milliseconds(-1))}}, TaskIndices(2), {}, {});
    ADD_FAILURE() << "no std::invalid_argument";
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(), "RunCoroutines: step 0: a sleep of -1000000 ns");
  }
  EXPECT_EQ(loop.CountHandles(), 0);
}

TEST(CoroRunnerTest, AnOffloadedStepThatThrowsIsRethrown) {
  UvLoop loop;
  RecordingObserver seen;
  // Task 1's compute step fails on the threadpool thread that runs it.
  seen.hook = [](const RecordingObserver::Event& e) {
    if (e.kind == Kind::kStepBegin && e.task == 1) throw std::runtime_error("step failed");
  };
  for (LoopStart start : {LoopStart::kGather, LoopStart::kSequential}) {
    try {
      RunCoroutines(loop, {{Compute(ComputeFn::kTrabajo), SleepStep(milliseconds(1))}}, TaskIndices(4), {},
                    {.start = start, .compute = LoopCompute::kThreadpool, .observer = &seen});
      ADD_FAILURE() << "no exception";
    } catch (const std::runtime_error& e) {
      EXPECT_STREQ(e.what(), "step failed");
    }
    EXPECT_EQ(loop.CountHandles(), 0);
  }
  EXPECT_NO_THROW(loop.Close());
}

TEST(CoroRunnerTest, ARunAbandonedWhileAStepIsOffloadedLeavesTheLoopClosable) {
  UvLoop loop;
  // The offloaded step holds its threadpool thread until the run has been abandoned. The timeout
  // leaves the threadpool ample time to start it (a step still queued would be cancelled).
  std::atomic<bool> started{false}, abandoned{false};
  std::atomic<int> finished{0};
  RecordingObserver seen;
  seen.hook = [&](const RecordingObserver::Event& e) {
    if (e.kind == Kind::kStepBegin) {
      started = true;
      while (!abandoned.load()) std::this_thread::sleep_for(milliseconds(1));
    }
    if (e.kind == Kind::kStepEnd) ++finished;
  };
  Stopwatch w;
  EXPECT_THROW(RunCoroutines(loop, {{Compute(ComputeFn::kIdentity)}}, TaskIndices(1), {},
                             {.compute = LoopCompute::kThreadpool, .timeout = milliseconds(500), .observer = &seen}),
               CoroTimeout);
  EXPECT_GE(w.ElapsedSeconds(), 0.500);
  const bool in_flight = started.load();
  abandoned = true;
  EXPECT_TRUE(in_flight) << "the step never started: the run was not abandoned with it in flight";
  // Close waits for the orphaned request, whose done callback frees it; uv_loop_close returns 0.
  EXPECT_NO_THROW(loop.Close());
  EXPECT_EQ(finished.load(), in_flight ? 1 : 0);
}

TEST(CoroRunnerTest, ARunAbandonedWhileAStepIsOffloadedLeavesTheLoopReusable) {
  UvLoop loop;
  std::atomic<bool> abandoned{false};
  RecordingObserver seen;
  seen.hook = [&](const RecordingObserver::Event& e) {
    if (e.kind == Kind::kStepBegin && e.task == 0) {
      while (!abandoned.load()) std::this_thread::sleep_for(milliseconds(1));
    }
  };
  EXPECT_THROW(RunCoroutines(loop, {{Compute(ComputeFn::kIdentity)}}, TaskIndices(1), {},
                             {.compute = LoopCompute::kThreadpool, .timeout = milliseconds(20), .observer = &seen}),
               CoroTimeout);
  abandoned = true;
  // The next run on the same loop also sees the orphan's done callback go by, harmlessly.
  EXPECT_EQ(RunCoroutines(loop, {{Compute(ComputeFn::kIdentity), SleepStep(milliseconds(5))}}, TaskIndices(3), {},
                          {.compute = LoopCompute::kThreadpool}),
            (std::vector<int64_t>{1, 3, 5}));
  EXPECT_NO_THROW(loop.Close());
}

TEST(CoroRunnerTest, OnStartedSeesEveryGatheredTaskPending) {
  UvLoop loop;
  RecordingObserver seen;
  int64_t begun = -1, ended = -1;
  RunCoroutines(loop, SleepTask(milliseconds(5)), TaskIndices(4), {},
                {.on_started =
                     [&] {
                       begun = ended = 0;
                       for (const auto& e : seen.events()) {
                         begun += e.kind == Kind::kTaskBegin;
                         ended += e.kind == Kind::kTaskEnd;
                       }
                     },
                 .observer = &seen});
  EXPECT_EQ(begun, 4);
  EXPECT_EQ(ended, 0);
}

// ---- echo steps ----------------------------------------------------------------------------

TEST(CoroRunnerEchoTest, EchoStepsGiveEveryDigestUnderEveryVariant) {
  FdLeakCheck fds;
  EchoFixture echo(4, 100, milliseconds(20));
  {
    UvLoop loop;
    ExpectEchoStepsUnderEveryVariant(loop, echo, EveryVariant(), AsCoroutines(loop));
    // Gathered, the four requests wait out one delay together.
    Stopwatch w;
    RunCoroutines(loop, {{EchoStep(milliseconds(20), 100)}}, echo.payloads.inputs(), echo.env, {});
    EXPECT_LT(w.ElapsedSeconds(), 3 * 0.020);
    loop.Close();
  }
  EXPECT_EQ(echo.server.requests_received(), 4 * 6);
  EXPECT_EQ(echo.server.Stop(), "");
}

TEST(CoroRunnerEchoTest, ARefusedConnectionThrowsEchoErrorNamingTheTask) {
  // Gather rethrows the first task's error in input order: task 0's.
  EXPECT_EQ(ExpectRefusedEchoNamesATask<CoroRunOptions>(AsCoroutines), 0);
}

}  // namespace
}  // namespace concbench
