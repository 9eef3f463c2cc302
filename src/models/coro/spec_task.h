// The `async.coro` model's runner: every task of a batch is one C++20 coroutine on the libuv loop
// (models/coro/), the notebook's `async def` that awaits its waits, running any TaskSpec
// (workload/task_spec.h): `co_await Sleep` for a sleep step, an awaited echo exchange for an echo
// step, and a compute step inline or `co_await`ed on libuv's threadpool (asyncio's
// run_in_executor). Tasks are gathered (asyncio.gather) or awaited one after another.
//
// The guarantees are RunUntilComplete's and Gather's (models/coro/run.h, gather.h): every frame
// and handle of the run is gone when the call returns or throws. An offloaded step that is still running when
// a run is abandoned finishes on its own request, which its done callback frees (UvLoop::Close
// waits for it); it never writes into a frame.
//
//   concbench::UvLoop loop;
//   auto r = RunCoroutines(loop, {{SleepStep(500ms)}}, TaskIndices(5), {}, {});  // ~0.5 s: 1..5
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "models/async.h"
#include "models/coro/run.h"
#include "models/coro/task.h"
#include "workload/blocking.h"
#include "workload/task_env.h"
#include "workload/task_spec.h"

namespace concbench {

struct CoroRunOptions {
  LoopStart start = LoopStart::kGather;
  LoopCompute compute = LoopCompute::kInline;
  // As RunOptions (models/coro/run.h): abandon the run after `timeout` (0: none); `on_started` once
  // every gathered task has run to its first suspension.
  std::chrono::milliseconds timeout{0};
  std::function<void()> on_started;
  TaskObserver* observer = nullptr;  // as LoopOptions::observer
  bool close_with_reset = true;      // echo steps
};

// What every task of a batch shares; it outlives the batch's coroutines.
struct SpecBatch {
  UvLoop& loop;
  const TaskSpec& spec;
  const TaskEnv& env;
  LoopCompute compute = LoopCompute::kInline;
  TaskObserver* observer = nullptr;
  bool close_with_reset = true;
};

// One task as a coroutine: its steps in order, the sum of their results. Its frame holds what a
// pending sleep needs (the timer) and little else: an offloaded step and an echo exchange are
// coroutines of their own, alive only while they run.
Task<int64_t> SpecTask(const SpecBatch& batch, int64_t input, int64_t task);

// Every input's task, gathered or one after another; the results in input order. Throws
// std::invalid_argument for a spec ValidateSpec refuses.
std::vector<int64_t> RunCoroutines(UvLoop& loop, const TaskSpec& spec, std::span<const int64_t> inputs,
                                   const TaskEnv& env, const CoroRunOptions& options);

}  // namespace concbench
