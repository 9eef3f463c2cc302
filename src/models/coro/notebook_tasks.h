// The `async.coro` model's tasks: C++20 coroutines on the libuv event loop of sys/uv_loop.h, the
// notebook's `async def`, `await asyncio.sleep(...)` and `asyncio.gather(*tasks)` (sections 3
// and 3.1), on the same loop as the callback model of models/async.h. The benchmarks
// (bench/async_bench.cc, bench/echo_bench.cc) run these.
//
// What it is for: writing a task the way the notebook does (a function that awaits a sleep or a
// socket and returns a value), running many at once on one loop in the calling thread, and
// measuring what a coroutine costs beside a bare callback (time per task, frame bytes per pending
// task). The parts, one per header of models/coro/: Task (task.h), Sleep (sleep.h), Gather
// (gather.h), TcpStream (tcp_stream.h), RunUntilComplete (run.h) and frame accounting (frames.h).
//
//   Task<int64_t> TareaIo(UvLoop& loop, int64_t i) { co_await Sleep(loop, 500ms); co_return i + 1; }
//   for (int64_t i = 0; i < 5; ++i) tasks.push_back(TareaIo(loop, i));  // std::vector<Task<int64_t>>
//   std::vector<int64_t> results = RunUntilComplete(loop, Gather(std::move(tasks)));  // ~0.5 s: 1..5
//
// CoroGather(loop, 5, 500ms) is that cell; CoroSleepTask is TareaIo.
//
// Cost targets (measured by the benchmarks, not here): per task at sleep 0 and 100,000 tasks at
// most 1.5× AsyncGather's; at most 0.4 KiB per pending coroutine at 1,000,000 tasks. SleepTask's
// frame is 280 bytes with GCC 12 (its uv_timer_t is 152); what Gather keeps per task: gather.h.
#pragma once

#include <netinet/in.h>

#include <chrono>
#include <cstdint>
#include <vector>

#include "models/async_echo.h"
#include "models/coro/run.h"
#include "models/coro/task.h"
#include "sys/uv_loop.h"
#include "workload/echo_protocol.h"

namespace concbench {

// One simulated-I/O task: `co_await Sleep(loop, wait)`, then `co_return SleepTaskResult(index)`
// (index + 1, the result every model's sleep task gives).
Task<int64_t> CoroSleepTask(UvLoop& loop, int64_t index, std::chrono::nanoseconds wait);

// `tasks` CoroSleepTasks gathered (asyncio.gather), results in input order: about one `wait` in all.
// tasks ≥ 0 and wait ≥ 0 (std::invalid_argument otherwise).
std::vector<int64_t> CoroGather(UvLoop& loop, int64_t tasks, std::chrono::milliseconds wait,
                                const RunOptions& options = {});

// `tasks` CoroSleepTasks awaited one after another (`await` in a loop): about `tasks` waits.
std::vector<int64_t> CoroSequential(UvLoop& loop, int64_t tasks, std::chrono::milliseconds wait,
                                    const RunOptions& options = {});

// The cost of one coroutine: creates, starts, finishes and destroys `tasks` (≥ 0) coroutines
// that return at once (task i returns SleepTaskResult(i)), each awaited in turn by one parent
// coroutine, without a loop (nothing suspends). Returns Σ results = SleepBatchChecksum(tasks).
int64_t CoroDispatch(int64_t tasks);

// ---- echo over coroutines ---------------------------------------------------------------------

// Task `task` of `batch` as one coroutine: connect to `server`, write the request frame
// (workload/echo_protocol.h), read the reply frame, check it byte for byte against what was sent
// and give EchoDigest(reply). Throws EchoError (workload/echo_client.h) worded as the callback
// client's (async_echo.h): "echo 127.0.0.1:40321: task 3 of 5: connect failed: ...". The
// connection is closed with a reset when `close_with_reset` (see EchoClientOptions). `batch`
// must outlive the task.
Task<int64_t> CoroEchoTask(UvLoop& loop, const sockaddr_in& server, const EchoBatch& batch,
                           int64_t task, bool close_with_reset = true);

// Every task of `batch` gathered on `loop`, each on its own connection, all at once: the
// digests in task order (their sum is batch.expected_checksum()). The whole batch is bounded by
// options.timeout (EchoError kTimeout: "5 of 5 replies missing after 200 ms"); otherwise the
// first failed task in task order is rethrown once every task has finished. No handle and no
// descriptor outlives the call. Needs one descriptor per task.
std::vector<int64_t> CoroEchoBatch(UvLoop& loop, const sockaddr_in& server, const EchoBatch& batch,
                                   const AsyncEchoOptions& options = {});

}  // namespace concbench
