// What both event-loop runners do with any TaskSpec under every one of their variants: RunOnLoop
// (models/async.h, async_test.cc) and RunCoroutines (models/coro/spec_task.h, coro_runner_test.cc).
// Each check takes the runner's variants (its options) and `run(spec, inputs, env, options)`,
// which runs one batch on `loop`.
//
//   ExpectComputeThenSleepUnderEveryVariant(loop, EveryVariant(), [&](auto&&... a) { return RunOnLoop(loop, a...); });
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "echo_test_support.h"
#include "models/async.h"
#include "observer_support.h"
#include "sleep_batch_checks.h"
#include "sys/uv_loop.h"
#include "workload/cpu.h"
#include "workload/echo_protocol.h"
#include "workload/task.h"
#include "workload/task_spec.h"

namespace concbench {

// "gather/on_loop/inline", "sequential/threadpool", ...
template <class Options>
std::string DescribeVariant(const Options& o) {
  std::string s = o.start == LoopStart::kGather ? "gather" : "sequential";
  if constexpr (requires { o.waits; }) s += o.waits == LoopWaits::kOnLoop ? "/on_loop" : "/blocking";
  return s + (o.compute == LoopCompute::kInline ? "/inline" : o.compute == LoopCompute::kThreadpool ? "/threadpool" : "/processes");
}

// A task of one sleep.
inline TaskSpec SleepTask(std::chrono::milliseconds wait) { return {{SleepStep(wait)}}; }

// Five one-sleep tasks: gathered, their waits overlap (at least one wait, less than 4.5); started
// in sequence, they add up (at least five). The timing contract of sleep_batch_checks.h.
template <class Options, class Run>
void ExpectGatheredSleepsOverlapAndSequentialOnesAdd(Run run) {
  const auto five_sleeps = [&run](Options o) {
    return [&run, o](int64_t n, std::chrono::milliseconds wait) {
      return run(SleepTask(wait), TaskIndices(n), TaskEnv{}, o);
    };
  };
  ExpectFiveSleepTasksTake(five_sleeps(Options{}), std::chrono::milliseconds(100), 1, 4.5);
  Options sequential{};
  sequential.start = LoopStart::kSequential;
  ExpectFiveSleepTasksTake(five_sleeps(sequential), std::chrono::milliseconds(50), 5);
}

// A compute step then a sleep: cpu_intensivo(20000) = 959757, then the sleep's input + 1, under
// every variant, and no handle left behind; the loop closes (uv_loop_close returns 0).
template <class Options, class Run>
void ExpectComputeThenSleepUnderEveryVariant(UvLoop& loop, const std::vector<Options>& variants, Run run) {
  const TaskSpec spec = {{ComputeOn(ComputeFn::kCpuIntensivo, 20'000), SleepStep(std::chrono::milliseconds(20))}};
  for (const Options& o : variants) {
    EXPECT_EQ(run(spec, TaskIndices(4), TaskEnv{}, o), (std::vector<int64_t>{959758, 959759, 959760, 959761}))
        << DescribeVariant(o);
    EXPECT_EQ(loop.CountHandles(), 0) << DescribeVariant(o);
  }
  EXPECT_NO_THROW(loop.Close());
}

// The observer sees every task begin, each of its steps begin and end, and the task end, under
// every variant; one after another when the tasks are started in sequence.
template <class Options, class Run>
void ExpectEveryTaskAndStepSeenUnderEveryVariant(const std::vector<Options>& variants, Run run) {
  using Kind = RecordingObserver::Kind;
  const TaskSpec spec = {{Compute(ComputeFn::kIdentity), SleepStep(std::chrono::milliseconds(1)),
                          Compute(ComputeFn::kTrabajo)}};
  for (const Options& variant : variants) {
    RecordingObserver seen;
    Options o = variant;
    o.observer = &seen;
    // i + (i + 1) + trabajo(i).
    EXPECT_EQ(run(spec, TaskIndices(3), TaskEnv{}, o), (std::vector<int64_t>{2398831, 2398878, 2398925}))
        << DescribeVariant(o);
    ExpectEveryTaskAndStepSeen(seen, 3, 3);
    if (o.start == LoopStart::kSequential) {
      for (int64_t t = 1; t < 3; ++t) {
        EXPECT_GE(seen.SeenAt(Kind::kTaskBegin, t), seen.SeenAt(Kind::kTaskEnd, t - 1)) << DescribeVariant(o);
      }
    }
  }
}

// An echo step between a compute step and a sleep gives trabajo(i) + the digest of what task i
// sent + (i + 1) under every variant, and with connections closed by FIN instead of a reset.
template <class Options, class Run>
void ExpectEchoStepsUnderEveryVariant(UvLoop& loop, const EchoFixture& echo, const std::vector<Options>& variants,
                                      Run run) {
  const auto delay = std::chrono::milliseconds(echo.server.options().delay);
  const TaskSpec spec = {{Compute(ComputeFn::kTrabajo),
                          EchoStep(delay, static_cast<int64_t>(echo.payloads.payload_bytes())),
                          SleepStep(std::chrono::milliseconds(1))}};
  std::vector<int64_t> want;
  for (const int64_t i : echo.payloads.inputs()) {
    want.push_back(trabajo(i) + EchoDigest(echo.payloads.payload(i)) + i + 1);
  }
  for (const Options& o : variants) {
    EXPECT_EQ(run(spec, echo.payloads.inputs(), echo.env, o), want) << DescribeVariant(o);
    EXPECT_EQ(loop.CountHandles(), 0) << DescribeVariant(o);
  }
  Options fin{};
  fin.close_with_reset = false;
  EXPECT_EQ(run(spec, echo.payloads.inputs(), echo.env, fin), want);
}

// Echo steps to a port where nothing listens: the run throws an EchoError of kind kRefused, worded
// "echo <address>: task <i> of 3: connect failed: connection refused (ECONNREFUSED): nothing
// listens on that port", and leaves no handle or descriptor; the loop closes. `make_run(loop)` gives
// the runner on a loop of the check's own. Returns which task the error named.
template <class Options, class MakeRun>
int64_t ExpectRefusedEchoNamesATask(MakeRun make_run) {
  FdLeakCheck fds;
  const RefusedEchoFixture refused(3, 64);
  UvLoop loop;
  const auto run = make_run(loop);
  int64_t task = -1;
  try {
    run({{EchoStep(std::chrono::milliseconds(0), 64)}}, TaskIndices(3), refused.env, Options{});
    ADD_FAILURE() << "no EchoError";
  } catch (const EchoError& e) {
    EXPECT_EQ(e.kind(), EchoErrorKind::kRefused);
    const std::string what = e.what();
    const std::string head = "echo " + FormatAddress(refused.env.echo_server) + ": task ";
    const std::string tail = " of 3: connect failed: connection refused (ECONNREFUSED): nothing listens on that port";
    EXPECT_EQ(what.rfind(head, 0), 0u) << what;
    EXPECT_EQ(what.size(), head.size() + 1 + tail.size()) << what;
    EXPECT_EQ(what.substr(head.size() + 1), tail) << what;
    task = what.size() > head.size() ? what[head.size()] - '0' : -1;
  }
  EXPECT_EQ(loop.CountHandles(), 0);
  EXPECT_NO_THROW(loop.Close());
  return task;
}

}  // namespace concbench
