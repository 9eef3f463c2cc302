// What the `async.coro` model's benchmarks need from coroutines beside the runner of any
// TaskSpec (models/coro/spec_task.h): one echo exchange as a coroutine (an echo step's wait) and
// the cost of one coroutine that never suspends (the async.coro/dispatch family).
//
// The notebook's `async def` written with these pieces: Task (task.h), Sleep (sleep.h), Gather
// (gather.h), TcpStream (tcp_stream.h), RunUntilComplete (run.h), frame accounting (frames.h):
//
//   Task<int64_t> TareaIo(UvLoop& loop, int64_t i) { co_await Sleep(loop, 500ms); co_return i + 1; }
//   for (int64_t i = 0; i < 5; ++i) tasks.push_back(TareaIo(loop, i));  // std::vector<Task<int64_t>>
//   std::vector<int64_t> results = RunUntilComplete(loop, Gather(std::move(tasks)));  // ~0.5 s: 1..5
//
// Cost targets (measured by the benchmarks, not here): at most 0.4 KiB per pending coroutine at
// 1,000,000 tasks. A pending SpecTask's frame is 384 bytes with GCC 12 (its Sleep's uv_timer_t is
// 152); what Gather keeps per task: gather.h.
#pragma once

#include <netinet/in.h>

#include <cstdint>

#include "models/async_echo.h"
#include "models/coro/task.h"
#include "sys/uv_loop.h"
#include "workload/echo_protocol.h"

namespace concbench {

// The cost of one coroutine: creates, starts, finishes and destroys `tasks` (≥ 0) coroutines
// that return at once (task i returns SleepTaskResult(i)), each awaited in turn by one parent
// coroutine, without a loop (nothing suspends). Returns Σ results = SleepBatchChecksum(tasks).
int64_t CoroDispatch(int64_t tasks);

// Task `task` of `batch` as one coroutine: connect to `server`, write the request frame
// (workload/echo_protocol.h), read the reply frame, check it byte for byte against what was sent
// and give EchoDigest(reply). Throws EchoError (workload/echo_client.h) worded as the callback
// client's (async_echo.h): "echo 127.0.0.1:40321: task 3 of 5: connect failed: ...". The
// connection is closed with a reset when `close_with_reset` (see EchoClientOptions); `verified`,
// when given, counts the replies verified. `batch` must outlive the task.
Task<int64_t> CoroEchoTask(UvLoop& loop, sockaddr_in server, const EchoBatch& batch, int64_t task,
                           bool close_with_reset = true, int64_t* verified = nullptr);

}  // namespace concbench
