// Future<R>: the result of ThreadPool::Submit (models/thread_pool/thread_pool.h), like
// std::future: move-only, Get() once.
//
// What it guarantees: Get() blocks until the task has finished, then returns its result or
// rethrows its exception: a task's exception is stored in its future and never reaches
// std::terminate. A task the pool cancelled (Shutdown(kCancelQueued)) reports
// std::future_errc::broken_promise, so no submitted task is ever lost silently. Waiting blocks on
// the state's atomic flag (a futex), never on a sleep.
//
// How it shuts down: destroying a Future without Get() is safe; the task still runs (or is
// cancelled) and its result is dropped with the last owner of the shared state.
//
//   Future<int> f = pool.Submit([] { return 42; });
//   f.Wait();         // optional: Get() waits too
//   int v = f.Get();  // 42; f is no longer valid
#pragma once

#include <future>
#include <utility>

#include "models/thread_pool/detail/shared_state.h"

namespace concbench {

// The result of ThreadPool::Submit, like std::future: move-only, Get() once.
template <class R>
class Future {
 public:
  Future() = default;
  Future(Future&& o) noexcept : state_(std::exchange(o.state_, nullptr)) {}
  Future& operator=(Future&& o) noexcept {
    if (this != &o) {
      Reset();
      state_ = std::exchange(o.state_, nullptr);
    }
    return *this;
  }
  Future(const Future&) = delete;
  Future& operator=(const Future&) = delete;
  ~Future() { Reset(); }

  bool valid() const noexcept { return state_ != nullptr; }
  bool ready() const noexcept { return state_ != nullptr && state_->ready(); }

  // Blocks until the task has finished (or was cancelled). std::future_error(no_state) if !valid().
  void Wait() const {
    if (state_ == nullptr) throw std::future_error(std::future_errc::no_state);
    state_->Wait();
  }

  // Waits, then returns the result or rethrows the task's exception (broken_promise for a
  // cancelled task). The future is then no longer valid.
  R Get() {
    Wait();
    thread_pool_internal::StateBase<R>* s = std::exchange(state_, nullptr);
    struct Drop {
      thread_pool_internal::StateBase<R>* s;
      ~Drop() { s->Release(); }
    } drop{s};
    return s->Take();
  }

 private:
  friend class ThreadPool;
  template <class>
  friend class CompletionQueue;
  explicit Future(thread_pool_internal::StateBase<R>* state) noexcept : state_(state) {}

  void Reset() noexcept {
    if (state_ != nullptr) std::exchange(state_, nullptr)->Release();
  }

  thread_pool_internal::StateBase<R>* state_ = nullptr;
};

}  // namespace concbench
