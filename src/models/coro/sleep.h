// Sleep: `co_await Sleep(loop, d)`, the notebook's `await asyncio.sleep(d)` for a Task
// (models/coro/task.h) on a libuv loop (sys/uv_loop.h).
//
//   Task<int64_t> TareaIo(UvLoop& loop, int64_t i) { co_await Sleep(loop, 500ms); co_return i + 1; }
//   Stopwatch watch;  // measure/timer.h
//   int64_t one = RunUntilComplete(loop, TareaIo(loop, 0));  // watch.Elapsed() >= 500ms: never early
//
// What it guarantees: `co_await Sleep(loop, d)` never ends early: it lasts at least `d` on the
// steady clock (uv_hrtime), by the callback model's rule (models/async.h): armed for the plain
// duration from a refreshed loop clock, and re-armed for the rest (TimeoutUntil) when libuv's
// truncated millisecond clock fires it early. A sleep of 0 still yields to the loop once. The
// uv_timer_t lives in the awaiter, hence in the awaiting coroutine's frame: a pending sleep costs
// no allocation of its own.
//
// Resumption and shutdown: a Sleep closes its timer before it resumes its coroutine (it resumes
// from the timer's close callback), so a frame that finishes, or unwinds from an exception,
// leaves libuv no pointer into it. A pending Sleep destroyed by RunUntilComplete's teardown
// (models/coro/run.h) closes its timer; one destroyed with its timer open outside a teardown
// aborts the process with a message (models/coro/detail/teardown.h).
//
// Errors: a negative duration throws std::invalid_argument from Sleep(); the co_await throws
// UvError if uv_timer_init fails or libuv refuses to arm the timer.
//
// What it requires: awaited at once, from a Task running on the thread of `loop`.
#pragma once

#include <uv.h>

#include <chrono>
#include <coroutine>
#include <cstdint>

#include "sys/uv_loop.h"

namespace concbench {

// The awaiter of `co_await Sleep(loop, d)`. It holds the timer, so it must stay where it was
// made: it cannot be copied or moved, and is only meant to be awaited at once.
class [[nodiscard]] SleepAwaiter {
 public:
  SleepAwaiter(UvLoop& loop, std::chrono::nanoseconds duration);  // duration ≥ 0
  SleepAwaiter(const SleepAwaiter&) = delete;
  SleepAwaiter& operator=(const SleepAwaiter&) = delete;
  ~SleepAwaiter();

  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<> waiter);  // throws UvError if uv_timer_init fails
  void await_resume() const;  // throws UvError if libuv refused to arm the timer

 private:
  enum class State : uint8_t { kIdle, kArmed, kClosing, kClosed };
  static void OnTimer(uv_timer_t* timer);
  static void OnClosed(uv_handle_t* handle);
  void Close() noexcept;

  uv_timer_t timer_;  // its data points back here
  uv_loop_t* loop_;
  uint64_t deadline_ns_;  // the duration until armed, then uv_hrtime() at arming + duration
  std::coroutine_handle<> waiter_;
  int status_ = 0;  // < 0: the uv_timer_start failure await_resume throws
  State state_ = State::kIdle;
};

// Suspends the awaiting coroutine for at least `duration` (≥ 0; std::invalid_argument
// otherwise). A duration is stored in nanoseconds; libuv's timers count milliseconds, so a
// sub-millisecond rest is waited for by a re-arm.
inline SleepAwaiter Sleep(UvLoop& loop, std::chrono::nanoseconds duration) {
  return SleepAwaiter(loop, duration);
}

}  // namespace concbench
