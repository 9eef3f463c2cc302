// Task<T>: the lazy coroutine of the `async.coro` model (models/coro/notebook_tasks.h), the
// notebook's `async def`; its promise; and the resume loop through which every coroutine of
// models/coro/ is resumed.
//
// What it is for: writing a task the way the notebook does, as a function that awaits a sleep
// (models/coro/sleep.h) or a socket (models/coro/tcp_stream.h) and returns a value:
//
//   Task<int64_t> TareaIo(UvLoop& loop, int64_t i) { co_await Sleep(loop, 500ms); co_return i + 1; }
//   Task<int64_t> Both(UvLoop& loop) { co_return co_await TareaIo(loop, 0) + co_await TareaIo(loop, 1); }
//   int64_t three = RunUntilComplete(loop, Both(loop));  // models/coro/run.h: ~1 s, one after the other
//
// Tasks. Task<T> (and Task<void>) is a lazy coroutine: calling a coroutine function allocates its
// frame and runs nothing; the body starts when the task is awaited (`co_await std::move(task)`),
// gathered (models/coro/gather.h), or handed to RunUntilComplete. A task is move-only and owns its
// frame: destroying the Task destroys the frame. A task runs at most once; awaiting an empty or
// finished task throws std::logic_error. Awaiting a task and finishing one are symmetric
// transfers: the coroutine that suspends hands the next one (the awaited task, or the finished
// task's awaiter) to the resume loop running it, which runs it from the same stack depth; so
// neither a deep chain of nested awaits nor a loop awaiting many tasks that finish at once grows
// the stack, in every build (see coro_detail::Resume for why this does not return the handle from
// await_suspend).
//
// Errors. An exception thrown in a task is stored in its frame and rethrown by `co_await` in the
// coroutine that awaits it, and by RunUntilComplete for the task it runs.
//
// Resumption: a coroutine is resumed only (1) by RunUntilComplete's first resume, outside any
// libuv call; (2) by the resume loop, when the coroutine before it hands it over (an awaited task
// starting, an awaiter whose task finished); (3) by Gather, which starts its tasks one after
// another from its own await (each runs to its first suspension); or (4) from a libuv callback
// that allows any libuv call: a timer's close callback (Sleep), and the connect, write and read
// callbacks of TcpStream. Never from inside uv_close, uv_walk or uv_run's own call, and never
// re-entrantly: nothing in models/coro/ calls uv_run from a callback.
//
// Ownership. A frame is owned by its Task, and a started task's Task by what awaits it (the
// awaiting frame, Gather's frame, or RunUntilComplete), so all frames of a run hang from the task
// RunUntilComplete runs, and only that tree's owner ever destroys a suspended frame (how a run is
// abandoned: models/coro/run.h). Every frame is allocated through the promise's operator new,
// which counts it (models/coro/frames.h).
//
// Requirements: a task runs on the thread of the RunUntilComplete that started it. A Task is
// awaited only from a Task coroutine (the resume loop runs what a suspending Task hands over).
// Reference parameters of a coroutine must outlive its task.
#pragma once

#include <coroutine>
#include <cstddef>
#include <exception>
#include <type_traits>
#include <utility>
#include <variant>

#include "models/coro/frames.h"

namespace concbench {

template <class T = void>
class Task;

namespace coro_detail {

// Symmetric transfer without relying on tail calls. A coroutine that suspends in favour of
// another (an awaited task to start, or the awaiter of a task that finished) hands that one over
// instead of returning it from await_suspend, and the Resume() loop that resumed the suspending
// coroutine runs it next, from the same stack depth. (Returning the handle is the standard way,
// but GCC 12 makes that a tail call only when optimising without sanitizers: under ASan, TSan or
// -O0 every transfer nested a call, and a coroutine awaiting 10,000 tasks that finish at once
// overflowed the stack.) Every resumption in models/coro/ goes through Resume().
extern constinit thread_local std::coroutine_handle<> tl_handed_over;

inline void HandOver(std::coroutine_handle<> next) noexcept { tl_handed_over = next; }

inline void Resume(std::coroutine_handle<> h) noexcept {
  while (h) {
    h.resume();
    h = std::exchange(tl_handed_over, {});
  }
}

// Who is told that a task finished: the awaiting coroutine, a Gather, or RunUntilComplete. A plain
// function pointer (no std::function, no virtual call through a vtable pointer in every promise):
// `on_done` returns the coroutine to run next, or a null handle.
struct Completion {
  std::coroutine_handle<> (*on_done)(Completion* self) noexcept;
};

class PromiseBase {
 public:
  static void* operator new(std::size_t bytes) { return AllocateFrame(bytes); }
  static void operator delete(void* frame, std::size_t bytes) noexcept { FreeFrame(frame, bytes); }

  std::suspend_always initial_suspend() const noexcept { return {}; }

  struct FinalAwaiter {
    bool await_ready() const noexcept { return false; }
    template <class P>
    void await_suspend(std::coroutine_handle<P> self) noexcept {
      if (Completion* c = self.promise().completion()) HandOver(c->on_done(c));
    }
    void await_resume() const noexcept {}
  };
  FinalAwaiter final_suspend() const noexcept { return {}; }

  Completion* completion() const noexcept { return completion_; }
  void set_completion(Completion* c) noexcept { completion_ = c; }

 private:
  Completion* completion_ = nullptr;
};

template <class T>
class Promise : public PromiseBase {
  static_assert(!std::is_reference_v<T>, "Task<T&> is not supported: return a pointer or a value");

 public:
  Task<T> get_return_object() noexcept;

  template <class U = T>
    requires std::is_constructible_v<T, U&&>
  void return_value(U&& value) noexcept(std::is_nothrow_constructible_v<T, U&&>) {
    result_.template emplace<1>(std::forward<U>(value));
  }
  void unhandled_exception() noexcept { result_.template emplace<2>(std::current_exception()); }

  std::exception_ptr error() const noexcept {
    return result_.index() == 2 ? std::get<2>(result_) : nullptr;
  }
  // The value co_returned (moved out), or the exception rethrown. Only after the task finished.
  T TakeResult() {
    if (result_.index() == 2) std::rethrow_exception(std::get<2>(result_));
    return std::move(std::get<1>(result_));
  }

 private:
  std::variant<std::monostate, T, std::exception_ptr> result_;
};

template <>
class Promise<void> : public PromiseBase {
 public:
  Task<void> get_return_object() noexcept;
  void return_void() const noexcept {}
  void unhandled_exception() noexcept { error_ = std::current_exception(); }
  std::exception_ptr error() const noexcept { return error_; }
  void TakeResult() const {
    if (error_) std::rethrow_exception(error_);
  }

 private:
  std::exception_ptr error_;
};

struct TaskAccess;

[[noreturn]] void ThrowNotAwaitable(const char* what);

}  // namespace coro_detail

template <class T>
class [[nodiscard]] Task {
 public:
  using promise_type = coro_detail::Promise<T>;

  Task() noexcept = default;  // empty: owns no frame
  Task(Task&& other) noexcept : frame_(std::exchange(other.frame_, {})) {}
  Task& operator=(Task&& other) noexcept {
    if (this != &other) {
      Reset();
      frame_ = std::exchange(other.frame_, {});
    }
    return *this;
  }
  Task(const Task&) = delete;
  Task& operator=(const Task&) = delete;
  ~Task() { Reset(); }

  bool valid() const noexcept { return static_cast<bool>(frame_); }
  bool done() const noexcept { return frame_ && frame_.done(); }

  // `co_await std::move(task)`: runs the task until it finishes (the awaiting coroutine is
  // suspended meanwhile) and gives its result or rethrows its exception.
  auto operator co_await() && noexcept { return Awaiter(frame_); }

 private:
  using Handle = std::coroutine_handle<promise_type>;
  friend promise_type;
  friend struct coro_detail::TaskAccess;

  explicit Task(Handle frame) noexcept : frame_(frame) {}
  void Reset() noexcept {
    if (frame_) std::exchange(frame_, {}).destroy();
  }

  struct Awaiter : coro_detail::Completion {
    explicit Awaiter(Handle child) noexcept : Completion{&ResumeParent}, child_(child) {}
    bool await_ready() const noexcept { return false; }
    void await_suspend(std::coroutine_handle<> parent) {
      if (!child_) coro_detail::ThrowNotAwaitable("co_await on an empty Task");
      if (child_.done()) coro_detail::ThrowNotAwaitable("co_await on a Task that already ran");
      parent_ = parent;
      child_.promise().set_completion(this);
      coro_detail::HandOver(child_);  // symmetric transfer into the child
    }
    T await_resume() { return child_.promise().TakeResult(); }

   private:
    static std::coroutine_handle<> ResumeParent(Completion* self) noexcept {
      return static_cast<Awaiter*>(self)->parent_;
    }
    Handle child_;
    std::coroutine_handle<> parent_;
  };

  Handle frame_;
};

namespace coro_detail {

template <class T>
Task<T> Promise<T>::get_return_object() noexcept {
  return Task<T>(std::coroutine_handle<Promise<T>>::from_promise(*this));
}
inline Task<void> Promise<void>::get_return_object() noexcept {
  return Task<void>(std::coroutine_handle<Promise<void>>::from_promise(*this));
}

struct TaskAccess {
  template <class T>
  static std::coroutine_handle<Promise<T>> handle(const Task<T>& t) noexcept {
    return t.frame_;
  }
  template <class T>
  static std::coroutine_handle<Promise<T>> Release(Task<T>& t) noexcept {
    return std::exchange(t.frame_, {});
  }
  template <class T>
  static Task<T> Adopt(std::coroutine_handle<Promise<T>> h) noexcept {
    return Task<T>(h);
  }
};

}  // namespace coro_detail
}  // namespace concbench
