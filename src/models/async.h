// The `async` model's runner: the tasks of a batch on one libuv event loop in the calling thread
// (notebook sections 3, 3.1 and 5.1), each task a TaskSpec (workload/task_spec.h) whose steps the
// loop drives one after another with callbacks.
//
// A sleep step is a timer and an echo step a socket exchange (models/echo_exchange.h), so the
// loop runs other tasks while one waits; a compute step runs where the options say. Variants of
// the model are options, not code:
//
//   start    kGather      every task started at once (asyncio.gather): ~1 wait in all
//            kSequential  each task started when the previous one finished (`await` in a loop)
//   waits    kOnLoop      timers and sockets (what an event loop is for)
//            kBlocking    each wait blocks the loop's thread (time.sleep inside `async def`):
//                         every task is started from a zero-delay timer, then runs to its end
//   compute  kInline      on the loop's thread: every other task waits meanwhile (async)
//            kThreadpool  on libuv's threadpool (uv_queue_work), the task resumes on the loop
//                         when it is done (async.offload, asyncio's run_in_executor)
//            kProcesses   in the workers of a LoopProcessPool (models/loop_process_pool.h), the
//                         task resumes on the loop when its result arrives (async.processes,
//                         run_in_executor with a ProcessPoolExecutor)
//
// Every task's result is the sum of its steps' results, as in every model (workload/blocking.h).
//
// Requirements: `loop` is open, not running, and has no other active handle or request (the
// runner runs it until it is idle). Do not call it from inside a callback of `loop`.
// Guarantees: every sleep lasts at least its duration on the steady clock: a timer is armed for
// its plain duration, as a libuv program would, and a timer that libuv's truncated millisecond
// clock fires early (by up to 1 ms) is re-armed for the rest (TimeoutUntil); every task completes
// exactly once and results come back in input order; every handle the batch opens is closed and
// every offloaded step has finished before the call returns, also when it throws, so the loop
// can be reused or closed afterwards.
// Errors: a failing libuv call throws UvError naming the call; a failed echo step throws
// EchoError naming the server and the task; an exception from a hook or a compute step stops the
// batch and is rethrown once its handles are closed and its offloaded steps have finished.
//
//   concbench::UvLoop loop;
//   const TaskSpec sleep = {{SleepStep(500ms)}};
//   auto r = RunOnLoop(loop, sleep, TaskIndices(5), {}, {});  // ~0.5 s, r == {1, 2, 3, 4, 5}
//   auto s = RunOnLoop(loop, sleep, TaskIndices(5), {}, {.start = LoopStart::kSequential});  // ~2.5 s
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "sys/uv_loop.h"
#include "workload/blocking.h"
#include "workload/task_env.h"
#include "workload/task_spec.h"

namespace concbench {

enum class LoopStart { kGather, kSequential };
enum class LoopWaits { kOnLoop, kBlocking };
enum class LoopCompute { kInline, kThreadpool, kProcesses };

class LoopProcessPool;

struct LoopOptions {
  LoopStart start = LoopStart::kGather;
  LoopWaits waits = LoopWaits::kOnLoop;
  LoopCompute compute = LoopCompute::kInline;
  // kProcesses: the workers that run the compute steps, on the same loop, idle, used by nothing
  // else during the batch.
  LoopProcessPool* processes = nullptr;
  // After the batch's tasks are started (each has run to its first wait), before the loop runs:
  // for a gathered batch of waits, every task is pending here (a memory measurement sees them).
  std::function<void()> on_started;
  // Sees every task and step begin and end (the traced iteration). Offloaded compute steps are
  // seen on the thread that runs them, so it must be thread-safe with kThreadpool.
  TaskObserver* observer = nullptr;
  // What echo steps do on the loop: close each connection with a reset once its reply is verified.
  bool close_with_reset = true;
};

struct LoopStats {
  int threads_used = 0;  // kThreadpool: distinct threadpool threads that ran at least one step
};

// Runs `spec` for every input; task i is inputs[i] at position i. Returns the results in input
// order. Throws std::invalid_argument for a spec ValidateSpec refuses, or kProcesses without a
// pool.
std::vector<int64_t> RunOnLoop(UvLoop& loop, const TaskSpec& spec, std::span<const int64_t> inputs,
                               const TaskEnv& env, const LoopOptions& options, LoopStats* stats = nullptr);

// The size libuv gives its threadpool for a UV_THREADPOOL_SIZE value (nullptr = unset): 4 when
// unset, 1 for 0, at most 1,024, computed like libuv 1.44 (atoi, then unsigned).
int ThreadpoolSizeFor(const char* uv_threadpool_size);

// libuv's threadpool size in this process. libuv reads UV_THREADPOOL_SIZE once, when the pool
// first starts; this reads it at its own first call and caches it, so both agree as long as
// the variable is not changed while the program runs.
int UvThreadpoolSize();

}  // namespace concbench
