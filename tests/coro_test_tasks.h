// The notebook's own coroutine tasks written by hand on concbench's coroutine pieces (Task,
// Sleep, Gather, RunUntilComplete, the echo exchange), for the tests of those pieces: section 3's
// `async def tarea_io_async(i): await asyncio.sleep(...)` gathered or awaited in turn, and an echo
// batch gathered. The model itself runs any TaskSpec (models/coro/spec_task.h).
#pragma once

#include <netinet/in.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "models/async_echo.h"
#include "models/coro/gather.h"
#include "models/coro/notebook_tasks.h"
#include "models/coro/run.h"
#include "models/coro/sleep.h"
#include "models/coro/task.h"
#include "workload/echo_client.h"
#include "workload/echo_protocol.h"
#include "workload/sleep.h"

namespace concbench {
namespace coro_test {

inline std::string Ms(std::chrono::milliseconds ms) { return std::to_string(ms.count()) + " ms"; }

inline void CheckSleepArgs(const char* fn, int64_t tasks, std::chrono::milliseconds wait) {
  if (tasks < 0 || wait.count() < 0) {
    throw std::invalid_argument(std::string(fn) + ": tasks and wait must be >= 0, got " +
                                std::to_string(tasks) + " tasks of " + Ms(wait));
  }
}


// One simulated-I/O task: `co_await Sleep(loop, wait)`, then `co_return SleepTaskResult(index)`.
inline Task<int64_t> CoroSleepTask(UvLoop& loop, int64_t index, std::chrono::nanoseconds wait) {
  co_await Sleep(loop, wait);
  co_return SleepTaskResult(index);
}

inline Task<std::vector<int64_t>> SleepOneAfterAnother(UvLoop& loop, int64_t tasks, std::chrono::nanoseconds wait) {
  std::vector<int64_t> results;
  results.reserve(static_cast<size_t>(tasks));
  for (int64_t i = 0; i < tasks; ++i) results.push_back(co_await CoroSleepTask(loop, i, wait));
  co_return results;
}

// `tasks` CoroSleepTasks gathered (asyncio.gather), results in input order: about one `wait`.
// `tasks` CoroSleepTasks awaited one after another: about `tasks` waits.
inline std::vector<int64_t> CoroGather(UvLoop& loop, int64_t tasks, std::chrono::milliseconds wait,
                                const RunOptions& options = {}) {
  CheckSleepArgs("CoroGather", tasks, wait);
  std::vector<Task<int64_t>> sleeps;
  sleeps.reserve(static_cast<size_t>(tasks));
  for (int64_t i = 0; i < tasks; ++i) sleeps.push_back(CoroSleepTask(loop, i, wait));
  return RunUntilComplete(loop, Gather(std::move(sleeps)), options);
}

inline std::vector<int64_t> CoroSequential(UvLoop& loop, int64_t tasks, std::chrono::milliseconds wait,
                                    const RunOptions& options = {}) {
  CheckSleepArgs("CoroSequential", tasks, wait);
  return RunUntilComplete(loop, SleepOneAfterAnother(loop, tasks, wait), options);
}

// Every task of `batch` gathered, each on its own connection; bounded by options.timeout.
inline std::vector<int64_t> CoroEchoBatch(UvLoop& loop, const sockaddr_in& server, const EchoBatch& batch,
                                   const AsyncEchoOptions& options = {}) {
  if (batch.tasks() == 0) return {};
  const auto timeout = std::max(options.timeout, std::chrono::milliseconds(1));
  int64_t verified = 0;
  std::vector<Task<int64_t>> exchanges;
  exchanges.reserve(static_cast<size_t>(batch.tasks()));
  for (int64_t i = 0; i < batch.tasks(); ++i) {
    exchanges.push_back(CoroEchoTask(loop, server, batch, i, options.close_with_reset, &verified));
  }
  try {
    return RunUntilComplete(loop, Gather(std::move(exchanges)), {.timeout = timeout, .on_started = {}});
  } catch (const CoroTimeout&) {
    throw EchoError(EchoErrorKind::kTimeout, "echo " + FormatAddress(server) + ": " +
                                                 std::to_string(batch.tasks() - verified) + " of " +
                                                 std::to_string(batch.tasks()) + " replies missing after " +
                                                 Ms(timeout));
  }
}


}  // namespace coro_test
}  // namespace concbench
