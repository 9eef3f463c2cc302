#include "models/loop_process_pool.h"

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <chrono>
#include <cstdint>
#include <exception>
#include <map>
#include <string>
#include <vector>

#include "loop_runner_checks.h"
#include "measure/ideal.h"
#include "models/async.h"
#include "process_checks.h"
#include "sys/uv_loop.h"
#include "workload/cpu.h"
#include "workload/task.h"

namespace concbench {
namespace {

using std::chrono::milliseconds;

// Collects what the pool hands back.
struct Owner final : LoopComputeOwner {
  std::map<int64_t, int64_t> done;
  std::exception_ptr failed;
  void OnComputeDone(int64_t task, int64_t value) override { done[task] = value; }
  void OnComputeFailed(std::exception_ptr error) override { failed = error; }
};

// Every worker reaped, and the loop closes (no handle of the pool is left on it).
void ExpectNothingLeft(UvLoop& loop) {
  EXPECT_TRUE(NoChildren());
  EXPECT_NO_THROW(loop.Close());
}

std::string Message(std::exception_ptr e) {
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& x) {
    return x.what();
  }
}

TEST(LoopProcessPoolTest, MoreStepsThanWorkersAllComeBackWithTheirResults) {
  UvLoop loop;
  Owner owner;
  {
    LoopProcessPool pool(loop, 2, {});
    EXPECT_TRUE(pool.idle());
    for (int64_t t = 0; t < 5; ++t) pool.Submit(Compute(ComputeFn::kTrabajo), t, t, &owner);
    EXPECT_FALSE(pool.idle());  // three queued behind the two running
    uv_run(loop.get(), UV_RUN_DEFAULT);  // the poll handles stop when the workers are idle
    EXPECT_TRUE(pool.idle());
    EXPECT_GT(pool.worker_usage().cpu_seconds, 0.0);
    EXPECT_EQ(pool.ipc().messages, 10);  // one frame each way per step
  }
  ASSERT_EQ(owner.done.size(), 5u);
  for (int64_t t = 0; t < 5; ++t) EXPECT_EQ(owner.done[t], trabajo(t)) << t;
  EXPECT_EQ(owner.failed, nullptr);
  ExpectNothingLeft(loop);
}

TEST(LoopProcessPoolTest, AWorkerThatDiesIsReportedAndThePoolIsBroken) {
  UvLoop loop;
  Owner owner;
  {
    LoopProcessPool pool(loop, 2, {});
    // Input 1 makes its worker _exit(3) (ComputeFn::kExitIf).
    const Step exit_on_one = {.kind = StepKind::kCompute, .fn = ComputeFn::kExitIf, .arg = 1};
    pool.Submit(exit_on_one, 0, 0, &owner);
    pool.Submit(exit_on_one, 1, 1, &owner);
    uv_run(loop.get(), UV_RUN_DEFAULT);
    ASSERT_NE(owner.failed, nullptr);
    const std::string what = Message(owner.failed);
    EXPECT_NE(what.find("LoopProcessPool: worker "), std::string::npos) << what;
    EXPECT_NE(what.find("exited with status 3 while running task 1"), std::string::npos) << what;
    EXPECT_TRUE(pool.idle());
    EXPECT_THROW(pool.Submit(Compute(ComputeFn::kIdentity), 2, 2, &owner), std::logic_error);
  }
  ExpectNothingLeft(loop);
}

TEST(LoopProcessPoolTest, ASpecAWorkerCannotRunIsRefusedBeforeAnythingIsSent) {
  UvLoop loop;
  Owner owner;
  LoopProcessPool pool(loop, 1, {});
  EXPECT_THROW(pool.Submit({.kind = StepKind::kCompute, .fn = static_cast<ComputeFn>(99)}, 0, 0, &owner),
               std::invalid_argument);
  EXPECT_TRUE(pool.idle());
}

TEST(LoopProcessPoolTest, TracedStepsAreTimedByTheWorkerUnderTheirOwnStepIndex) {
  UvLoop loop;
  Owner owner;
  std::vector<WorkerSpan> spans;
  LoopProcessPool pool(loop, 2, {});
  pool.SetTraceSink(&spans);
  const uint64_t before = MonotonicNs();
  for (int64_t t = 0; t < 3; ++t) pool.Submit(Compute(ComputeFn::kTrabajo), t, t, &owner, /*step_index=*/2);
  uv_run(loop.get(), UV_RUN_DEFAULT);
  const uint64_t after = MonotonicNs();
  int worker_spans = 0, sent = 0, in = 0;
  for (const WorkerSpan& w : spans) {
    EXPECT_GT(w.pid, 0);
    EXPECT_LE(before, w.span.begin_ns);
    EXPECT_LE(w.span.begin_ns, w.span.end_ns);
    EXPECT_LE(w.span.end_ns, after);
    if (w.parent_event == nullptr) {
      ++worker_spans;
      EXPECT_EQ(w.span.step, 2);  // the step's place in its task, not 0 of the one-step frame
    } else {
      sent += std::string(w.parent_event) == "step sent";
      in += std::string(w.parent_event) == "result in";
    }
  }
  EXPECT_EQ(worker_spans, 3);
  EXPECT_EQ(sent, 3);
  EXPECT_EQ(in, 3);
}

// ---- the loop runner with compute in worker processes (async.processes) ----

std::vector<LoopOptions> ProcessVariants(LoopProcessPool* pool) {
  return {{.start = LoopStart::kGather, .compute = LoopCompute::kProcesses, .processes = pool},
          {.start = LoopStart::kSequential, .compute = LoopCompute::kProcesses, .processes = pool}};
}

TEST(AsyncProcessesTest, ComputeThenSleepGivesTheSameResultsGatheredOrInTurn) {
  UvLoop loop;
  LoopProcessPool pool(loop, 2, {});
  const TaskSpec spec = {{ComputeOn(ComputeFn::kCpuIntensivo, 20'000), SleepStep(milliseconds(20))}};
  for (const LoopOptions& o : ProcessVariants(&pool)) {
    EXPECT_EQ(RunOnLoop(loop, spec, TaskIndices(4), {}, o), (std::vector<int64_t>{959758, 959759, 959760, 959761}))
        << DescribeVariant(o);
    EXPECT_TRUE(pool.idle());
  }
}

TEST(AsyncProcessesTest, WaitsOverlapWhileTheWorkersCompute) {
  UvLoop loop;
  LoopProcessPool pool(loop, 2, {});
  // Eight tasks of a 100 ms wait each: gathered, the waits overlap (about one wait, not eight).
  const TaskSpec spec = {{Compute(ComputeFn::kIdentity), SleepStep(milliseconds(100))}};
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(Checksum(RunOnLoop(loop, spec, TaskIndices(8), {}, ProcessVariants(&pool)[0])), 28 + 36);
  EXPECT_LT(std::chrono::steady_clock::now() - start, milliseconds(450));
}

TEST(AsyncProcessesTest, AWorkerThatDiesStopsTheBatchAndTheLoopCloses) {
  UvLoop loop;
  {
    LoopProcessPool pool(loop, 2, {});
    const TaskSpec spec = {{{.kind = StepKind::kCompute, .fn = ComputeFn::kExitIf, .arg = 2}, SleepStep(milliseconds(1))}};
    try {
      RunOnLoop(loop, spec, TaskIndices(4), {}, ProcessVariants(&pool)[0]);
      ADD_FAILURE() << "a batch whose worker died returned";
    } catch (const WorkerDied& e) {
      EXPECT_NE(std::string(e.what()).find("while running task 2"), std::string::npos) << e.what();
    }
  }
  ExpectNothingLeft(loop);
}

TEST(AsyncProcessesTest, ComputeInProcessesWithoutAPoolIsRefused) {
  UvLoop loop;
  EXPECT_THROW(RunOnLoop(loop, {{Compute(ComputeFn::kIdentity)}}, TaskIndices(1), {}, {.compute = LoopCompute::kProcesses}),
               std::invalid_argument);
}

}  // namespace
}  // namespace concbench
