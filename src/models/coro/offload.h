// A compute step of a TaskSpec run on libuv's threadpool from a coroutine: `co_await
// OffloadAwaiter(loop, step, input, observer, task, k)` queues the step (uv_queue_work), suspends
// the coroutine, and resumes it on the loop's thread with the step's result (asyncio's
// `await loop.run_in_executor(None, fn, arg)`).
//
// The work request lives on the heap, not in the awaiting frame: libuv's threadpool may still be
// running it when a run is abandoned and the frame destroyed. The awaiter's destructor then
// cancels a request not yet started, or orphans a running one; either way the request's done
// callback (which UvLoop::Close waits for) frees it and resumes nothing, and the step never
// writes into a frame.
//
//   Task<int64_t> Half(UvLoop& loop, const Step& s) { co_return co_await OffloadAwaiter(loop, s, 7, nullptr, 0, 0); }
#pragma once

#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <exception>

#include "sys/uv_loop.h"
#include "workload/blocking.h"
#include "workload/task_spec.h"

namespace concbench {

// `co_await OffloadAwaiter(loop, step, input, observer, task, k)`: runs the compute step on libuv's threadpool and
// gives its result (or rethrows what it threw) on the loop's thread. `observer`, when given, sees
// the step begin and end on the threadpool thread.
class [[nodiscard]] OffloadAwaiter {
 public:
  OffloadAwaiter(UvLoop& loop, const Step& step, int64_t input, TaskObserver* observer, int64_t task, size_t k)
      : loop_(loop), step_(step), input_(input), observer_(observer), task_(task), k_(k) {}
  OffloadAwaiter(const OffloadAwaiter&) = delete;
  OffloadAwaiter& operator=(const OffloadAwaiter&) = delete;
  ~OffloadAwaiter();

  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<> waiter);  // throws UvError if uv_queue_work fails
  int64_t await_resume();

 private:
  struct Request;  // heap-allocated: libuv's threadpool may outlive the awaiter
  UvLoop& loop_;
  const Step& step_;
  int64_t input_;
  TaskObserver* observer_;
  int64_t task_;
  size_t k_;
  Request* request_ = nullptr;  // in flight; owned by libuv until its done callback
  int64_t result_ = 0;
  std::exception_ptr error_;
};

}  // namespace concbench
