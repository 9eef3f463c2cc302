// The `threads` model: a fixed-size pool of worker threads with the shape of Python's
// concurrent.futures.ThreadPoolExecutor (notebook sections 2, 4 and 5.2).
//
// What it is for: running many short or blocking tasks on a few long-lived threads, so a task
// costs a queue push and a wake-up instead of a thread creation.
//
// What it guarantees:
//   - The constructor starts `workers` threads (std::invalid_argument if workers < 1); they live
//     until the pool is destroyed.
//   - Submit(fn) queues one task and returns a Future of its result: one allocation holds the
//     callable, the result and the ready flag. A task's exception is stored in its future and
//     rethrown by Get(); it never reaches std::terminate.
//   - Map(fn, items, chunksize) runs fn on every item, `chunksize` consecutive items per queued
//     task, blocks until all are done and returns the results in input order (std::invalid_argument
//     if chunksize < 1). A chunk stops at its first exception; every other chunk still finishes
//     (results are written into the caller's frame), then the exception of the earliest failing
//     item is rethrown. Map needs no future per task: its chunks count down one shared
//     completion, which is why it is the pool's cheapest way to run a batch.
//   - SubmitAll(fn, items) queues one task per item and returns a CompletionQueue that hands the
//     results out in completion order (Python's as_completed): Next() blocks on a condition
//     variable until some task has finished — no polling, no sleeps.
//   - Tasks are taken from one FIFO queue guarded by one mutex; a worker is woken only when one is
//     idle. Nothing in the pool busy-waits or sleeps to synchronise.
//
// How it shuts down: the destructor lets the workers finish every task already queued, then
// joins them (Python's shutdown(wait=True)). Shutdown(kCancelQueued) instead discards the tasks
// that have not started: each of their futures then reports std::future_errc::broken_promise
// (and a CompletionQueue hands them out with that error), so no submitted task is ever lost
// silently; a Map() waiting on cancelled chunks throws std::future_error(broken_promise). Either
// way, tasks already running are waited for. Submitting after shutdown throws std::logic_error.
//
// What it requires: a task must not wait for another task of the same pool when every worker
// may be waiting too (Map() and CompletionQueue::Next() called from inside a task can deadlock a
// pool whose workers are all busy doing the same). The pool object itself is thread-safe: any
// thread may submit.
//
//   concbench::ThreadPool pool(5);
//   concbench::Future<int> f = pool.Submit([] { return 42; });
//   std::vector<int64_t> r = pool.Map([](int64_t x) { return x * x; }, inputs, /*chunksize=*/4);
//   auto done = pool.SubmitAll([](int64_t i) { return SleepTask(i, 500ms); }, inputs);
//   while (auto c = done.Next()) use(c->index, c->result.Get());
#pragma once

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <new>
#include <optional>
#include <ranges>
#include <stdexcept>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

namespace concbench {

namespace thread_pool_internal {

// A move-only `void()` callable with inline storage for small callables, so that queueing a
// Promise (one pointer to its shared state) costs no allocation of its own.
class Task {
 public:
  Task() = default;

  template <class F>
    requires(!std::is_same_v<std::decay_t<F>, Task> && std::is_invocable_v<std::decay_t<F>&>)
  explicit Task(F&& f) {
    using D = std::decay_t<F>;
    if constexpr (kFitsInline<D>) {
      ::new (static_cast<void*>(buf_)) D(std::forward<F>(f));
      ops_ = &kInlineOps<D>;
    } else {
      D* heap = new D(std::forward<F>(f));
      ::new (static_cast<void*>(buf_)) D*(heap);
      ops_ = &kHeapOps<D>;
    }
  }

  Task(Task&& other) noexcept : ops_(other.ops_) {
    if (ops_ != nullptr) ops_->move(buf_, other.buf_);
    other.ops_ = nullptr;
  }
  Task& operator=(Task&& other) noexcept {
    if (this != &other) {
      reset();
      ops_ = other.ops_;
      if (ops_ != nullptr) ops_->move(buf_, other.buf_);
      other.ops_ = nullptr;
    }
    return *this;
  }
  Task(const Task&) = delete;
  Task& operator=(const Task&) = delete;
  ~Task() { reset(); }

  explicit operator bool() const { return ops_ != nullptr; }
  void operator()() { ops_->run(buf_); }

 private:
  static constexpr size_t kInlineSize = 6 * sizeof(void*);

  struct Ops {
    void (*run)(void*);
    void (*move)(void* dst, void* src);  // move-constructs into dst and destroys src
    void (*destroy)(void*);
  };

  template <class D>
  static constexpr bool kFitsInline = sizeof(D) <= kInlineSize &&
                                      alignof(D) <= alignof(std::max_align_t) &&
                                      std::is_nothrow_move_constructible_v<D>;

  template <class D>
  static constexpr Ops kInlineOps = {
      [](void* p) { (*std::launder(static_cast<D*>(p)))(); },
      [](void* dst, void* src) {
        D* s = std::launder(static_cast<D*>(src));
        ::new (dst) D(std::move(*s));
        s->~D();
      },
      [](void* p) { std::launder(static_cast<D*>(p))->~D(); },
  };

  template <class D>
  static constexpr Ops kHeapOps = {
      [](void* p) { (**std::launder(static_cast<D**>(p)))(); },
      [](void* dst, void* src) { ::new (dst) D*(*std::launder(static_cast<D**>(src))); },
      [](void* p) { delete *std::launder(static_cast<D**>(p)); },
  };

  void reset() {
    if (ops_ != nullptr) ops_->destroy(buf_);
    ops_ = nullptr;
  }

  alignas(std::max_align_t) std::byte buf_[kInlineSize];
  const Ops* ops_ = nullptr;
};

// The pool's FIFO queue: a ring buffer that only grows. std::deque allocates and frees a block
// every few dozen tasks, on the pushing and the popping thread respectively, and that malloc
// traffic across threads cost more than the queueing itself.
class TaskRing {
 public:
  bool empty() const noexcept { return size_ == 0; }
  size_t size() const noexcept { return size_; }

  void push_back(Task task) {
    if (size_ == slots_.size()) Grow();
    slots_[(head_ + size_) & (slots_.size() - 1)] = std::move(task);
    ++size_;
  }
  Task pop_front() noexcept {
    Task t = std::move(slots_[head_]);
    head_ = (head_ + 1) & (slots_.size() - 1);
    --size_;
    return t;
  }
  // Moves every queued task out, oldest first, leaving the ring empty.
  std::vector<Task> TakeAll() {
    std::vector<Task> out;
    out.reserve(size_);
    while (!empty()) out.push_back(pop_front());
    return out;
  }

 private:
  void Grow() {
    std::vector<Task> bigger(std::max<size_t>(64, slots_.size() * 2));
    for (size_t i = 0; i < size_; ++i) bigger[i] = std::move(slots_[(head_ + i) & (slots_.size() - 1)]);
    slots_ = std::move(bigger);
    head_ = 0;
  }

  std::vector<Task> slots_;  // a power of two in size
  size_t head_ = 0;
  size_t size_ = 0;
};

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

}  // namespace thread_pool_internal

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

// Results of ThreadPool::SubmitAll in the order the tasks finish. Move-only; one consumer.
// Destroying it before every result was taken is safe: the remaining tasks still run (or are
// cancelled by a pool shutdown) and their results are dropped.
template <class R>
class CompletionQueue {
 public:
  struct Completed {
    size_t index;             // position of the task's item in the submitted range
    Future<R> result;         // ready: Get() returns the value or rethrows the task's exception
  };

  CompletionQueue(CompletionQueue&&) noexcept = default;
  CompletionQueue& operator=(CompletionQueue&&) noexcept = default;

  // Blocks until another task has finished and returns it; returns nothing once all size()
  // results have been handed out.
  std::optional<Completed> Next() {
    if (taken_ >= futures_.size()) return std::nullopt;
    size_t index;
    {
      std::unique_lock lock(state_->mu);
      state_->cv.wait(lock, [&] { return !state_->ready.empty(); });
      index = state_->ready.front();
      state_->ready.pop_front();
    }
    ++taken_;
    return Completed{index, std::move(futures_[index])};
  }

  size_t size() const { return futures_.size(); }

 private:
  friend class ThreadPool;

  struct State {
    std::mutex mu;
    std::condition_variable cv;
    std::deque<size_t> ready;  // indices of finished (or cancelled) tasks, in completion order

    void Push(size_t index) {
      {
        std::lock_guard lock(mu);
        ready.push_back(index);
      }
      cv.notify_one();
    }
  };

  CompletionQueue() : state_(std::make_shared<State>()) {}

  std::shared_ptr<State> state_;
  std::vector<Future<R>> futures_;
  size_t taken_ = 0;
};

class ThreadPool {
 public:
  enum class ShutdownMode {
    kFinishQueued,  // run every queued task, then join (the destructor's policy)
    kCancelQueued,  // drop tasks not yet started (their futures: broken_promise), then join
  };

  // Starts `workers` threads. Throws std::invalid_argument if workers < 1, and std::system_error
  // if a thread cannot be created (the threads already started are joined first).
  explicit ThreadPool(int workers);

  // Shutdown(ShutdownMode::kFinishQueued) if it was not called before.
  ~ThreadPool();

  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int workers() const { return static_cast<int>(threads_.size()); }

  // Tasks waiting for a worker right now (a snapshot, for tests and diagnostics).
  size_t queued() const {
    std::lock_guard lock(mu_);
    return queue_.size();
  }

  // Queues fn() and returns the future of its result.
  template <class F>
  auto Submit(F&& fn) -> Future<std::invoke_result_t<std::decay_t<F>&>> {
    using R = std::invoke_result_t<std::decay_t<F>&>;
    auto* state = new thread_pool_internal::TaskState<R, std::decay_t<F>>(std::forward<F>(fn));
    Future<R> future(state);
    // If Push throws (the pool is shut down), the promise breaks and both owners let go.
    Push(thread_pool_internal::Task(thread_pool_internal::Promise<R>(state)));
    return future;
  }

  // fn(item) for every item of a random-access range, `chunksize` items per queued task; blocks
  // until every chunk has finished and returns the results in input order.
  template <class F, std::ranges::random_access_range Items>
    requires std::ranges::sized_range<Items>
  auto Map(F&& fn, const Items& items, int64_t chunksize = 1)
      -> std::vector<std::invoke_result_t<F&, std::ranges::range_reference_t<const Items>>> {
    using R = std::invoke_result_t<F&, std::ranges::range_reference_t<const Items>>;
    if (chunksize < 1) {
      throw std::invalid_argument("ThreadPool::Map: chunksize must be >= 1, got " +
                                  std::to_string(chunksize));
    }
    static_assert(!std::is_void_v<R>, "ThreadPool::Map needs a function that returns a value");
    const size_t n = std::ranges::size(items);
    if (n == 0) return {};
    const size_t chunk = static_cast<size_t>(chunksize);
    using Job = MapJob<F, std::ranges::iterator_t<const Items>, R>;
    Job job(fn, std::ranges::begin(items), n, (n + chunk - 1) / chunk);
    {
      std::vector<thread_pool_internal::Task> tasks;
      tasks.reserve((n + chunk - 1) / chunk);
      for (size_t lo = 0; lo < n; lo += chunk) {
        tasks.emplace_back(typename Job::Chunk(&job, lo, std::min(n, lo + chunk)));
      }
      // If this throws (pool shut down), the chunks are destroyed unrun and count themselves
      // done, so `job` is finished with when the exception leaves.
      PushAll(tasks);
    }
    // Every chunk writes into this frame, so wait for all of them even when one failed.
    job.Wait();
    if (job.error) std::rethrow_exception(job.error);
    std::vector<R> results;
    results.reserve(n);
    for (auto& r : job.slots) results.push_back(std::move(*r));
    return results;
  }

  // Queues fn(item) for every item (copied into its task) and returns the results in
  // completion order.
  template <class F, std::ranges::input_range Items>
  auto SubmitAll(F fn, const Items& items)
      -> CompletionQueue<std::invoke_result_t<F&, std::ranges::range_reference_t<const Items>>> {
    using R = std::invoke_result_t<F&, std::ranges::range_reference_t<const Items>>;
    using Item = std::ranges::range_value_t<Items>;
    CompletionQueue<R> queue;
    auto shared_fn = std::make_shared<F>(std::move(fn));
    std::vector<thread_pool_internal::Task> tasks;
    size_t index = 0;
    for (const auto& item : items) {
      auto call = [shared_fn, item = Item(item)] { return (*shared_fn)(item); };
      auto* state = new thread_pool_internal::TaskState<R, decltype(call)>(std::move(call));
      queue.futures_.push_back(Future<R>(state));
      tasks.emplace_back(NotifyingTask<R>{Notifier<R>(queue.state_, index), thread_pool_internal::Promise<R>(state)});
      ++index;
    }
    PushAll(tasks);
    return queue;
  }

  // Stops accepting tasks, finishes or cancels the queued ones (see Shutdown) and joins the
  // workers. Idempotent; must not be called from a task of this pool.
  void Shutdown(ShutdownMode mode = ShutdownMode::kFinishQueued);

 private:
  // Tells a CompletionQueue that task `index` is done when destroyed. A worker destroys a task
  // right after running it, and a cancelled task is destroyed unrun; either way its future is
  // ready by then, so Next() never waits forever and never hands out a future that is not ready.
  template <class R>
  class Notifier {
   public:
    Notifier(std::shared_ptr<typename CompletionQueue<R>::State> state, size_t index)
        : state_(std::move(state)), index_(index) {}
    Notifier(Notifier&& o) noexcept : state_(std::move(o.state_)), index_(o.index_) {}
    Notifier& operator=(Notifier&&) = delete;
    ~Notifier() {
      if (state_) state_->Push(index_);
    }

   private:
    std::shared_ptr<typename CompletionQueue<R>::State> state_;
    size_t index_;
  };

  template <class R>
  struct NotifyingTask {
    Notifier<R> notifier;  // declared first, destroyed last: after the promise is kept or broken
    thread_pool_internal::Promise<R> promise;
    void operator()() { promise(); }
  };

  // One Map() call. Lives in Map()'s frame; its chunks point to it. The last chunk to finish
  // wakes the caller, notifying while it holds `mu`, so the caller cannot return (and destroy
  // the job) before that chunk is done with it. The first failing item in input order wins.
  template <class F, class It, class R>
  struct MapJob {
    MapJob(F& f, It it, size_t n, size_t chunks) : fn(f), first(it), slots(n), remaining(chunks) {}

    F& fn;
    const It first;
    std::vector<std::optional<R>> slots;
    std::atomic<size_t> remaining;
    std::mutex mu;
    std::condition_variable cv;
    bool done = false;               // guarded by mu
    std::exception_ptr error;        // guarded by mu until done
    size_t error_index = SIZE_MAX;   // guarded by mu

    void Fail(size_t index, std::exception_ptr e) {
      std::lock_guard lock(mu);
      if (index < error_index) error_index = index, error = std::move(e);
    }
    void ChunkDone() {
      if (remaining.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
      std::lock_guard lock(mu);
      done = true;
      cv.notify_one();
    }
    void Wait() {
      std::unique_lock lock(mu);
      cv.wait(lock, [this] { return done; });
    }

    // Items [lo, hi). A chunk destroyed without running (cancelled by shutdown) reports
    // broken_promise for its first item, so Map() never waits for it forever.
    class Chunk {
     public:
      Chunk(MapJob* job, size_t lo, size_t hi) : job_(job), lo_(lo), hi_(hi) {}
      Chunk(Chunk&& o) noexcept : job_(std::exchange(o.job_, nullptr)), lo_(o.lo_), hi_(o.hi_) {}
      Chunk& operator=(Chunk&&) = delete;
      ~Chunk() {
        if (job_ == nullptr) return;
        job_->Fail(lo_, std::make_exception_ptr(std::future_error(std::future_errc::broken_promise)));
        job_->ChunkDone();
      }
      void operator()() {
        MapJob* job = std::exchange(job_, nullptr);
        size_t i = lo_;
        try {
          // Stops at the chunk's first exception; the items after it in the chunk do not run.
          for (; i < hi_; ++i) {
            job->slots[i].emplace(std::invoke(job->fn, job->first[static_cast<std::ptrdiff_t>(i)]));
          }
        } catch (...) {
          job->Fail(i, std::current_exception());
        }
        job->ChunkDone();
      }

     private:
      MapJob* job_;
      size_t lo_, hi_;
    };
  };

  void Push(thread_pool_internal::Task task);
  void PushAll(std::vector<thread_pool_internal::Task>& tasks);
  void WorkerLoop();

  mutable std::mutex mu_;
  std::condition_variable cv_;
  thread_pool_internal::TaskRing queue_;          // guarded by mu_
  int idle_ = 0;                                  // workers waiting on cv_, guarded by mu_
  bool waking_ = false;                           // a wake-up is on its way, guarded by mu_
  bool stopping_ = false;                         // guarded by mu_
  std::vector<std::thread> threads_;
  std::mutex shutdown_mu_;  // serialises Shutdown() calls
  bool joined_ = false;     // guarded by shutdown_mu_
};

}  // namespace concbench
