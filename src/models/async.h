// The `async` model: tasks on one libuv event loop in the calling thread (notebook sections 3,
// 3.1 and 5.1: asyncio's `gather` versus awaiting one task after another).
//
// A sleep task is a timer, not a blocked thread: task i waits `wait` and then completes with
// SleepTaskResult(i) = i + 1, the result the blocking models' SleepTask returns, so every
// model's checksum for T tasks is T(T+1)/2. The variants differ only in when each wait starts:
//
//   AsyncGather      every timer armed at once, like asyncio.gather of T tasks: ~1 wait in all
//   AsyncSequential  each timer armed from the previous one's callback, like `await` in a loop:
//                    T waits
//   AsyncBlocking    every task started at once, but each blocks the loop's thread for its wait
//                    inside its callback (time.sleep inside `async def`): T waits, and nothing
//                    else on the loop runs meanwhile
//   AsyncOffload     CPU tasks handed to libuv's threadpool (uv_queue_work), completions
//                    delivered back on the loop thread
//
// Requirements: `loop` is open, not running, and has no other active handle or request (these
// functions run it until it is idle). Do not call them from inside a callback of `loop`.
// Guarantees: every wait lasts at least its duration on the steady clock: a timer is armed for
// its plain duration, as a libuv program would, and a timer that libuv's truncated millisecond
// clock fires early (by up to 1 ms) is re-armed for the rest (TimeoutUntil); every task completes
// exactly once and results come back in input order; every handle a call opens is closed before
// it returns, also when it throws, so the loop can be reused or closed afterwards.
// Errors: a failing libuv call throws UvError naming the call. An exception from a hook stops
// the batch and is rethrown once its handles are closed; an exception from a CPU task is
// rethrown once every task of the batch has finished (the others still run).
//
//   concbench::UvLoop loop;
//   auto r = concbench::AsyncGather(loop, 5, std::chrono::milliseconds(500));  // ~0.5 s
//   // r == {1, 2, 3, 4, 5}
//   auto s = concbench::AsyncSequential(loop, 5, std::chrono::milliseconds(300));  // ~1.5 s
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "sys/uv_loop.h"
#include "workload/task.h"

namespace concbench {

// Optional observers of a batch, called on the loop's thread. Both may be empty.
struct AsyncHooks {
  // After the batch's first timers are armed, before the loop runs: for a gathered batch every
  // task is pending at this point (a memory measurement sees them all).
  std::function<void()> on_armed;
  // When task `index` completes, in completion order.
  std::function<void(int64_t index)> on_done;
};

// `tasks` waits of `wait` each, all armed at once. tasks ≥ 0 and wait ≥ 0
// (std::invalid_argument otherwise).
std::vector<int64_t> AsyncGather(UvLoop& loop, int64_t tasks, std::chrono::milliseconds wait,
                                 const AsyncHooks& hooks = {});

// One task per element of `waits`, task i waiting waits[i], all armed at once: they complete in
// deadline order, equal deadlines in input order.
std::vector<int64_t> AsyncGather(UvLoop& loop, std::span<const std::chrono::milliseconds> waits,
                                 const AsyncHooks& hooks = {});

// `tasks` waits of `wait` each, task i+1's timer armed when task i's fires.
std::vector<int64_t> AsyncSequential(UvLoop& loop, int64_t tasks, std::chrono::milliseconds wait,
                                     const AsyncHooks& hooks = {});

// `tasks` tasks started at once (zero-delay timers), each blocking the loop for `wait` inside its
// callback.
std::vector<int64_t> AsyncBlocking(UvLoop& loop, int64_t tasks, std::chrono::milliseconds wait,
                                   const AsyncHooks& hooks = {});

struct OffloadResult {
  std::vector<int64_t> results;  // task(inputs[i]), in input order
  int threads_used = 0;          // distinct threadpool threads that ran at least one task
};

// Runs task(inputs[i]) for every input on libuv's threadpool, one uv_work_t per task, and waits
// on the loop for every completion. At most UvThreadpoolSize() tasks run at a time.
OffloadResult AsyncOffload(UvLoop& loop, std::span<const int64_t> inputs, const TaskFn& task);

// The size libuv gives its threadpool for a UV_THREADPOOL_SIZE value (nullptr = unset): 4 when
// unset, 1 for 0, at most 1,024, computed like libuv 1.44 (atoi, then unsigned).
int ThreadpoolSizeFor(const char* uv_threadpool_size);

// libuv's threadpool size in this process. libuv reads UV_THREADPOOL_SIZE once, when the pool
// first starts; this reads it at its own first call and caches it, so both agree as long as
// the variable is not changed while the program runs.
int UvThreadpoolSize();

}  // namespace concbench
