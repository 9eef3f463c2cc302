#include "models/coro/sleep.h"

#include <stdexcept>
#include <string>

#include "models/coro/detail/teardown.h"
#include "models/coro/task.h"

namespace concbench {
namespace {

constexpr uint64_t kNsPerMs = 1'000'000;

using coro_detail::Orphaned;
using coro_detail::TearingDown;

}  // namespace

SleepAwaiter::SleepAwaiter(UvLoop& loop, std::chrono::nanoseconds duration)
    : loop_(loop.get()), deadline_ns_(static_cast<uint64_t>(duration.count())) {
  if (duration.count() < 0) {
    throw std::invalid_argument("Sleep: the duration must be >= 0, got " +
                                std::to_string(duration.count()) + " ns");
  }
}

SleepAwaiter::~SleepAwaiter() {
  switch (state_) {
    case State::kIdle:
    case State::kClosed:
      return;
    case State::kArmed:
      if (!TearingDown()) Orphaned("a pending Sleep");
      uv_close(reinterpret_cast<uv_handle_t*>(&timer_), nullptr);
      return;
    case State::kClosing:  // its close callback sees the teardown and resumes nothing
      if (!TearingDown()) Orphaned("a closing Sleep");
      return;
  }
}

void SleepAwaiter::await_suspend(std::coroutine_handle<> waiter) {
  UvCheck(uv_timer_init(loop_, &timer_), "uv_timer_init");
  state_ = State::kArmed;
  timer_.data = this;
  waiter_ = waiter;
  // Armed for the plain duration from a fresh clock, as a libuv program would; OnTimer catches
  // an early firing. (In a callback the cached clock still holds the iteration's start.)
  uv_update_time(loop_);
  const uint64_t duration_ns = deadline_ns_;
  deadline_ns_ = uv_hrtime() + duration_ns;
  const int rc = uv_timer_start(&timer_, &OnTimer, duration_ns / kNsPerMs, 0);
  if (rc < 0) {
    status_ = rc;
    Close();
  }
}

void SleepAwaiter::await_resume() const {
  if (status_ < 0) throw UvError("uv_timer_start", status_);
}

// libuv counts whole milliseconds of a truncated clock, so a timer can fire up to a millisecond
// before its duration has passed on the steady clock: then it is re-armed for the rest.
void SleepAwaiter::OnTimer(uv_timer_t* timer) {
  auto* a = static_cast<SleepAwaiter*>(timer->data);
  if (uv_hrtime() < a->deadline_ns_) {
    uv_update_time(a->loop_);
    const int rc = uv_timer_start(timer, &OnTimer, TimeoutUntil(a->loop_, a->deadline_ns_), 0);
    if (rc == 0) return;
    a->status_ = rc;
  }
  a->Close();
}

// The coroutine resumes once libuv is done with the timer, so the awaiter (and the frame around
// it) may go as soon as the coroutine moves on.
void SleepAwaiter::Close() noexcept {
  state_ = State::kClosing;
  uv_close(reinterpret_cast<uv_handle_t*>(&timer_), &OnClosed);
}

void SleepAwaiter::OnClosed(uv_handle_t* handle) {
  if (TearingDown()) return;  // the awaiter is already destroyed: touch nothing
  auto* a = static_cast<SleepAwaiter*>(handle->data);
  a->state_ = State::kClosed;
  coro_detail::Resume(a->waiter_);
}

}  // namespace concbench
