// RunUntilComplete: asyncio's loop.run_until_complete for a Task (models/coro/task.h). It starts
// the task on a libuv loop (sys/uv_loop.h), runs the loop until the task has finished and the
// loop is idle, and gives the task's result; or it abandons the run and leaves nothing of it.
//
//   UvLoop loop;  // TareaIo: co_await Sleep(loop, 500ms); co_return i + 1;
//   int64_t two = RunUntilComplete(loop, TareaIo(loop, 1));  // ~0.5 s
//   RunUntilComplete(loop, TareaIo(loop, 1), {.timeout = 100ms});  // throws CoroTimeout; loop reusable
//
// Errors. An exception thrown in the task is rethrown by RunUntilComplete.
//
// Ownership and shutdown. A frame is owned by its Task, and a started task's Task by what awaits
// it (the awaiting frame, Gather's frame, or RunUntilComplete), so all frames of a run hang from
// the task RunUntilComplete runs, and only that tree's owner ever destroys a suspended frame. A
// Sleep closes its timer before it resumes its coroutine (it resumes from the close callback), and
// a TcpStream's handle is an allocation of its own, freed by its close callback, so a frame that
// finishes, or unwinds from an exception, leaves libuv no pointer into it.
// RunUntilComplete abandons a run when its timeout expires, when the loop is stopped (uv_stop) or
// goes idle before the task finished, or when RunOptions::on_started throws. It then (1) destroys
// the task's frame and with it every suspended frame below it: each awaiter's destructor closes
// its handle (an armed timer, a connecting socket), each TcpStream's destructor its socket, and
// the promise's operator delete keeps the frames' memory instead of freeing it; (2) runs one
// UV_RUN_NOWAIT iteration, in which libuv finishes those closes and cancels the requests of the
// closed sockets, with every coroutine callback disarmed (none resumes anything); (3) frees the
// kept frames; (4) throws the reason. So whether RunUntilComplete returns or throws, no frame of
// the run is alive, no handle it opened is left, and the loop can be run again or closed
// (uv_loop_close returns 0). Coroutines run only inside RunUntilComplete, and a UvLoop cannot be
// closed from its own callbacks, so a loop is never destroyed under a suspended coroutine. An
// awaiter destroyed with its handle open outside that teardown (a suspended frame freed some other
// way) would leave libuv a dangling pointer; it aborts the process with a message instead
// (models/coro/detail/teardown.h).
//
// Requirements: one thread per loop, as libuv requires; a task runs on the thread of the
// RunUntilComplete that started it. RunUntilComplete must not be called from a callback of the
// same loop, and the loop must have no other active handle (it runs the loop until idle, as the
// functions of models/async.h do).
#pragma once

#include <chrono>
#include <coroutine>
#include <functional>
#include <stdexcept>

#include "models/coro/task.h"
#include "sys/uv_loop.h"

namespace concbench {

struct RunOptions {
  // Abandon the run (CoroTimeout) once this much time has passed with the task unfinished.
  // Zero: no limit.
  std::chrono::milliseconds timeout{0};
  // Called once the task has run to its first suspension — every gathered task has started and
  // is pending — and before the loop runs: the moment a memory measurement sees every task alive.
  // Not called if the task finished without suspending. An exception from it abandons the run
  // and is rethrown.
  std::function<void()> on_started;
};

// What RunUntilComplete throws when RunOptions::timeout expires.
class CoroTimeout : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

namespace coro_detail {
// Runs `root` to completion on `loop`, or abandons the run: destroys `root` and every frame below
// it, frees their memory once libuv has finished closing their handles, and throws the reason.
void RunRoot(UvLoop& loop, std::coroutine_handle<> root, PromiseBase& promise, const RunOptions& options);
void CheckRunnable(const UvLoop& loop, bool valid, bool done);
}  // namespace coro_detail

// asyncio's loop.run_until_complete: starts `task` on `loop`, runs the loop until the task has
// finished and the loop is idle, and returns the task's result or rethrows its exception. Throws
// std::invalid_argument for an empty or already-run task or a closed loop; CoroTimeout when
// `options.timeout` expires; std::runtime_error when the loop is stopped (uv_stop) and
// std::logic_error when it goes idle before the task finished; UvError when arming the timeout
// fails. Every throw after the task started abandons the run as described above (Ownership and
// shutdown): nothing of it is left.
template <class T>
T RunUntilComplete(UvLoop& loop, Task<T> task, const RunOptions& options = {}) {
  coro_detail::CheckRunnable(loop, task.valid(), task.done());
  const auto frame = coro_detail::TaskAccess::Release(task);
  coro_detail::RunRoot(loop, frame, frame.promise(), options);
  // Finished: the Task frees the frame once the result is out (or thrown).
  const Task<T> finished = coro_detail::TaskAccess::Adopt(frame);
  return frame.promise().TakeResult();
}

}  // namespace concbench
