// The shared state between a task submitted to the pool and its Future: StateBase (the result and
// its owners), TaskState (the same with the callable) and Promise (the worker's end, queued as a
// Task). Internal to models/thread_pool/.
//
// What it is for: handing a task's result to its Future for one allocation and one atomic store
// per task, where std::packaged_task + std::future cost more (see StateBase).
//
// What it guarantees: the result is published exactly once, either by running the callable (its
// value, or its exception) or, when the Promise is destroyed unrun, as
// std::future_errc::broken_promise; a waiter then wakes. The state has two owners, the Promise and
// the Future, and is freed by the last one to let go, so it outlives the wake-up it sends.
//
// What it requires: Run is called at most once, and Take once, after Wait.
//
//   auto* state = new TaskState<int, F>(std::move(fn));  // owned by the promise and the future
//   Promise<int> promise(state);  // queued as a Task; a worker calls promise()
//   state->Wait(); int r = state->Take(); state->Release();  // what Future<int>::Get() does
#pragma once

#include <atomic>
#include <cstdint>
#include <exception>
#include <future>
#include <optional>
#include <type_traits>
#include <utility>

namespace concbench::thread_pool_internal {

// The shared state of one submitted task and its Future: the result (or exception), a ready flag
// and two owners (the queued task and the future), in the same allocation as the callable
// (TaskState). std::packaged_task + std::future cost two allocations, a std::function and a
// std::call_once per task; this is one allocation and one atomic store.
template <class R>
class StateBase {
 public:
  StateBase(const StateBase&) = delete;
  StateBase& operator=(const StateBase&) = delete;

  // Runs the callable and publishes its result; called once, by the worker.
  virtual void Run() noexcept = 0;

  // Publishes std::future_errc::broken_promise: the task was dropped without running.
  void Break() noexcept { Publish(std::make_exception_ptr(std::future_error(std::future_errc::broken_promise))); }

  bool ready() const noexcept { return ready_.load(std::memory_order_acquire) != 0; }

  // Blocks until the result is published: std::atomic::wait spins briefly, then sleeps on a futex.
  void Wait() const noexcept {
    while (ready_.load(std::memory_order_acquire) == 0) ready_.wait(0, std::memory_order_acquire);
  }

  // The result, moved out (call once, after Wait), or the task's exception rethrown.
  R Take() {
    if (error_) std::rethrow_exception(error_);
    if constexpr (!std::is_void_v<R>) return std::move(*value_);
  }

  // Drops one owner; the last one frees the state.
  void Release() noexcept {
    if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
  }

 protected:
  StateBase() = default;
  virtual ~StateBase() = default;

  template <class F>
  void Complete(F& fn) noexcept {
    try {
      if constexpr (std::is_void_v<R>) {
        fn();
      } else {
        value_.emplace(fn());
      }
    } catch (...) {
      Publish(std::current_exception());
      return;
    }
    Publish(nullptr);
  }

 private:
  void Publish(std::exception_ptr error) noexcept {
    error_ = std::move(error);
    ready_.store(1, std::memory_order_release);
    ready_.notify_all();  // no system call unless someone waits
  }

  struct Empty {};
  std::atomic<uint32_t> refs_{2};
  std::atomic<uint32_t> ready_{0};
  std::exception_ptr error_;
  std::optional<std::conditional_t<std::is_void_v<R>, Empty, R>> value_;
};

template <class R, class F>
class TaskState final : public StateBase<R> {
 public:
  explicit TaskState(F fn) : fn_(std::move(fn)) {}
  void Run() noexcept override { this->Complete(fn_); }

 private:
  F fn_;
};

// The worker's side of a submitted task, queued as a Task: running it publishes the result;
// destroying it unrun (a cancelled queue) publishes broken_promise. Either way it then drops its
// reference, after publishing, so the state outlives the wake-up it sends.
template <class R>
class Promise {
 public:
  explicit Promise(StateBase<R>* state) noexcept : state_(state) {}
  Promise(Promise&& o) noexcept : state_(std::exchange(o.state_, nullptr)) {}
  Promise& operator=(Promise&&) = delete;
  ~Promise() {
    if (state_ == nullptr) return;
    state_->Break();
    state_->Release();
  }
  void operator()() noexcept {
    StateBase<R>* s = std::exchange(state_, nullptr);
    s->Run();
    s->Release();
  }

 private:
  StateBase<R>* state_;
};

}  // namespace concbench::thread_pool_internal
