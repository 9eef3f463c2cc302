#include "models/coro/run.h"

#include <uv.h>

#include <cstdint>
#include <exception>
#include <string>

#include "models/coro/detail/teardown.h"

namespace concbench {
namespace {

constexpr uint64_t kNsPerMs = 1'000'000;

// What RunUntilComplete's task reports to when it finishes, and the run's timeout timer.
class Root : public coro_detail::Completion {
 public:
  explicit Root(uv_loop_t* loop) noexcept : Completion{&OnDone}, loop_(loop) {}
  // The timer may still be closing when a stopped loop returned; finish that before its memory
  // goes (UV_RUN_NOWAIT never blocks).
  ~Root() {
    if (deadline_ == Deadline::kNone || deadline_ == Deadline::kClosed) return;
    CloseDeadline();
    uv_run(loop_, UV_RUN_NOWAIT);
  }
  Root(const Root&) = delete;
  Root& operator=(const Root&) = delete;

  void ArmDeadline(std::chrono::milliseconds timeout) {
    if (timeout.count() <= 0) return;
    UvCheck(uv_timer_init(loop_, &deadline_timer_), "uv_timer_init");
    deadline_ = Deadline::kOpen;
    deadline_timer_.data = this;
    // Rounded up (TimeoutUntil), so a run is never abandoned before `timeout` has passed.
    const uint64_t deadline_ns = uv_hrtime() + static_cast<uint64_t>(timeout.count()) * kNsPerMs;
    UvCheck(uv_timer_start(&deadline_timer_, &OnDeadline, TimeoutUntil(loop_, deadline_ns), 0), "uv_timer_start");
  }
  void CloseDeadline() noexcept {
    if (deadline_ != Deadline::kOpen) return;
    deadline_ = Deadline::kClosing;
    uv_close(reinterpret_cast<uv_handle_t*>(&deadline_timer_), &OnDeadlineClosed);
  }
  bool timed_out() const noexcept { return timed_out_; }

 private:
  enum class Deadline : uint8_t { kNone, kOpen, kClosing, kClosed };

  // The task finished: nothing is left to bound, and an armed timer would keep the loop alive.
  static std::coroutine_handle<> OnDone(Completion* self) noexcept {
    static_cast<Root*>(self)->CloseDeadline();
    return {};
  }
  static void OnDeadline(uv_timer_t* timer) {
    auto* r = static_cast<Root*>(timer->data);
    r->timed_out_ = true;
    uv_stop(r->loop_);
  }
  static void OnDeadlineClosed(uv_handle_t* handle) {
    static_cast<Root*>(handle->data)->deadline_ = Deadline::kClosed;
  }

  uv_loop_t* loop_;
  uv_timer_t deadline_timer_;
  Deadline deadline_ = Deadline::kNone;
  bool timed_out_ = false;
};

// Destroys every frame of an abandoned run. Their awaiters close their handles as they go; one
// loop iteration finishes those closes (and cancels the requests on closed sockets) with every
// coroutine callback disarmed; only then is the frames' memory freed.
void Abandon(uv_loop_t* loop, std::coroutine_handle<> root, Root& r) noexcept {
  const coro_detail::Teardown teardown;
  root.destroy();
  r.CloseDeadline();
  uv_run(loop, UV_RUN_NOWAIT);
}

std::string Ms(std::chrono::milliseconds ms) { return std::to_string(ms.count()) + " ms"; }

}  // namespace

namespace coro_detail {

void CheckRunnable(const UvLoop& loop, bool valid, bool done) {
  if (loop.closed()) throw std::invalid_argument("RunUntilComplete: the loop is closed");
  if (!valid || done) throw std::invalid_argument("RunUntilComplete: the task is empty or has already run");
}

void RunRoot(UvLoop& loop, std::coroutine_handle<> root, PromiseBase& promise, const RunOptions& options) {
  Root r(loop.get());
  promise.set_completion(&r);
  std::exception_ptr reason;
  try {
    loop.UpdateTime();  // the loop may have been idle: timers armed by the first resume start now
    r.ArmDeadline(options.timeout);
    Resume(root);
    if (!root.done() && options.on_started) options.on_started();
    const bool stopped = loop.Run();
    if (!root.done()) {
      if (r.timed_out()) {
        reason = std::make_exception_ptr(
            CoroTimeout("RunUntilComplete: the task did not finish within " + Ms(options.timeout)));
      } else if (stopped) {
        reason = std::make_exception_ptr(
            std::runtime_error("RunUntilComplete: the loop was stopped (uv_stop) before the task finished"));
      } else {
        reason = std::make_exception_ptr(std::logic_error(
            "RunUntilComplete: the loop went idle before the task finished (it awaits something "
            "that nothing on the loop will complete)"));
      }
    }
  } catch (...) {
    reason = std::current_exception();
  }
  if (!reason) return;
  Abandon(loop.get(), root, r);
  std::rethrow_exception(reason);
}

}  // namespace coro_detail
}  // namespace concbench
