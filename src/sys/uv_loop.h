// A small RAII layer over a libuv event loop, following libuv's own rules: every call's status is
// checked, every handle is closed, and `uv_loop_close` must return 0.
//
// Errors: a libuv call that fails throws UvError, which carries the call's name and its status
// and reads "uv_timer_start: invalid argument (EINVAL)". UvCheck() turns a status into that
// exception, so a call site is one line: `UvCheck(uv_timer_init(loop, &t), "uv_timer_init");`.
//
// UvLoop owns one uv_loop_t: the constructor initialises it (uv_loop_init), Run() runs it until no
// active handle or request is left, and Close() closes every handle still linked to it (uv_walk +
// uv_close, no close callback), runs it until those closes and any in-flight request completed,
// and calls uv_loop_close, throwing UvError unless it returns 0. The destructor calls Close(); if
// that fails the process aborts with the message, because freeing a loop that libuv still uses
// would be a use-after-free. Handles passed to libuv must stay valid until they are closed, which
// for handles closed by Close() means until Close() returns.
//
// Not thread-safe, like libuv itself: use a loop from one thread, and never call Run() or
// Close() from inside one of its callbacks.
//
//   concbench::UvLoop loop;
//   uv_timer_t t;
//   concbench::UvCheck(uv_timer_init(loop.get(), &t), "uv_timer_init");
//   loop.UpdateTime();  // an idle loop's cached clock is stale: refresh it before arming
//   concbench::UvCheck(uv_timer_start(&t, OnTimer, 10, 0), "uv_timer_start");
//   loop.Run();
//   loop.Close();  // closes `t`, then uv_loop_close
#pragma once

#include <uv.h>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

namespace concbench {

// "call: message (NAME)" for a negative libuv status, e.g. "uv_listen: address already in use
// (EADDRINUSE)".
std::string UvErrorMessage(std::string_view call, int status);

class UvError : public std::runtime_error {
 public:
  UvError(std::string_view call, int status);

  const std::string& call() const noexcept { return call_; }
  int status() const noexcept { return status_; }  // a negative UV_E* code

 private:
  std::string call_;
  int status_;
};

// Returns `status` when it is ≥ 0; throws UvError(call, status) when it is negative.
inline int UvCheck(int status, std::string_view call) {
  if (status < 0) [[unlikely]]
    throw UvError(call, status);
  return status;
}

// The millisecond timeout that makes a libuv timer armed now on `loop` fire no earlier than
// `deadline_ns` on uv_hrtime()'s clock (CLOCK_MONOTONIC, the steady clock). libuv counts timers
// in whole milliseconds of a cached loop time that is truncated and may lag the real clock, so
// arming for the plain duration can fire up to a millisecond early; this rounds up instead.
// Call it after UpdateTime() (or uv_update_time), as the deadline is measured from uv_now(loop).
uint64_t TimeoutUntil(const uv_loop_t* loop, uint64_t deadline_ns);

class UvLoop {
 public:
  UvLoop();  // throws UvError if uv_loop_init fails
  ~UvLoop();

  UvLoop(const UvLoop&) = delete;
  UvLoop& operator=(const UvLoop&) = delete;

  uv_loop_t* get() noexcept { return &loop_; }
  const uv_loop_t* get() const noexcept { return &loop_; }

  // Runs the loop until no active handle or request is left (UV_RUN_DEFAULT). Returns true when
  // it ended early because a callback called uv_stop() while work was still active.
  bool Run();

  // Refreshes the loop's cached clock; arm timers after this, not after a long pause.
  void UpdateTime() noexcept { uv_update_time(&loop_); }
  uint64_t NowMs() const noexcept { return uv_now(&loop_); }

  // Handles linked to the loop (open or closing), not counting libuv's internal ones.
  int64_t CountHandles() const;

  // Closes every remaining handle, waits for in-flight requests, and closes the loop. Idempotent;
  // throws UvError("uv_loop_close", status) if the loop could not be closed.
  void Close();
  bool closed() const noexcept { return !open_; }

 private:
  uv_loop_t loop_;
  bool open_ = false;
};

}  // namespace concbench
