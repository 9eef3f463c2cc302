// The `threads` model: a fixed-size pool of worker threads with the shape of Python's
// concurrent.futures.ThreadPoolExecutor (notebook sections 2, 4 and 5.2).
//
// What it is for: running many short or blocking tasks on a few long-lived threads, so a task
// costs a queue push and a wake-up instead of a thread creation.
//
// What it guarantees:
//   - The constructor starts `workers` threads (std::invalid_argument if workers < 1); they live
//     until the pool is destroyed.
//   - submit(fn) queues one task and returns a std::future of its result. A task's exception is
//     stored in its future and rethrown by get(); it never reaches std::terminate.
//   - map(fn, items, chunksize) runs fn on every item, `chunksize` consecutive items per queued
//     task, blocks until all are done and returns the results in input order (std::invalid_argument
//     if chunksize < 1). A chunk stops at its first exception; every other chunk still finishes
//     (results are written into the caller's frame), then the exception of the earliest failing
//     item is rethrown. map needs no std::future per task: its chunks count down one shared
//     completion, which is why it is the pool's cheapest way to run a batch.
//   - submit_all(fn, items) queues one task per item and returns a CompletionQueue that hands the
//     results out in completion order (Python's as_completed): next() blocks on a condition
//     variable until some task has finished — no polling, no sleeps.
//   - Tasks are taken from one FIFO queue guarded by one mutex; a worker is woken only when one is
//     idle. Nothing in the pool busy-waits or sleeps to synchronise.
//
// How it shuts down: the destructor lets the workers finish every task already queued, then
// joins them (Python's shutdown(wait=True)). shutdown(kCancelQueued) instead discards the tasks
// that have not started: each of their futures then reports std::future_errc::broken_promise
// (and a CompletionQueue hands them out with that error), so no submitted task is ever lost
// silently; a map() waiting on cancelled chunks throws std::future_error(broken_promise). Either
// way, tasks already running are waited for. Submitting after shutdown throws std::logic_error.
//
// What it requires: a task must not wait for another task of the same pool when every worker
// may be waiting too (map() and CompletionQueue::next() called from inside a task can deadlock a
// pool whose workers are all busy doing the same). The pool object itself is thread-safe: any
// thread may submit.
//
//   concbench::ThreadPool pool(5);
//   std::future<int> f = pool.submit([] { return 42; });
//   std::vector<int64_t> r = pool.map([](int64_t x) { return x * x; }, inputs, /*chunksize=*/4);
//   auto done = pool.submit_all([](int64_t i) { return sleep_task(i, 500ms); }, inputs);
//   while (auto c = done.next()) use(c->index, c->result.get());
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
// std::packaged_task (one pointer to its shared state) costs no allocation of its own.
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

}  // namespace thread_pool_internal

// Results of ThreadPool::submit_all in the order the tasks finish. Move-only; one consumer.
// Destroying it before every result was taken is safe: the remaining tasks still run (or are
// cancelled by a pool shutdown) and their results are dropped.
template <class R>
class CompletionQueue {
 public:
  struct Completed {
    size_t index;             // position of the task's item in the submitted range
    std::future<R> result;    // ready: get() returns the value or rethrows the task's exception
  };

  CompletionQueue(CompletionQueue&&) noexcept = default;
  CompletionQueue& operator=(CompletionQueue&&) noexcept = default;

  // Blocks until another task has finished and returns it; returns nothing once all size()
  // results have been handed out.
  std::optional<Completed> next() {
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
  std::vector<std::future<R>> futures_;
  size_t taken_ = 0;
};

class ThreadPool {
 public:
  enum class Shutdown {
    kFinishQueued,  // run every queued task, then join (the destructor's policy)
    kCancelQueued,  // drop tasks not yet started (their futures: broken_promise), then join
  };

  // Starts `workers` threads. Throws std::invalid_argument if workers < 1, and std::system_error
  // if a thread cannot be created (the threads already started are joined first).
  explicit ThreadPool(int workers);

  // shutdown(Shutdown::kFinishQueued) if it was not called before.
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
  auto submit(F&& fn) -> std::future<std::invoke_result_t<std::decay_t<F>&>> {
    using R = std::invoke_result_t<std::decay_t<F>&>;
    std::packaged_task<R()> task(std::forward<F>(fn));
    std::future<R> future = task.get_future();
    Push(thread_pool_internal::Task(std::move(task)));
    return future;
  }

  // fn(item) for every item of a random-access range, `chunksize` items per queued task; blocks
  // until every chunk has finished and returns the results in input order.
  template <class F, std::ranges::random_access_range Items>
    requires std::ranges::sized_range<Items>
  auto map(F&& fn, const Items& items, int64_t chunksize = 1)
      -> std::vector<std::invoke_result_t<F&, std::ranges::range_reference_t<const Items>>> {
    using R = std::invoke_result_t<F&, std::ranges::range_reference_t<const Items>>;
    if (chunksize < 1) {
      throw std::invalid_argument("ThreadPool::map: chunksize must be >= 1, got " +
                                  std::to_string(chunksize));
    }
    static_assert(!std::is_void_v<R>, "ThreadPool::map needs a function that returns a value");
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
  auto submit_all(F fn, const Items& items)
      -> CompletionQueue<std::invoke_result_t<F&, std::ranges::range_reference_t<const Items>>> {
    using R = std::invoke_result_t<F&, std::ranges::range_reference_t<const Items>>;
    using Item = std::ranges::range_value_t<Items>;
    CompletionQueue<R> queue;
    auto shared_fn = std::make_shared<F>(std::move(fn));
    std::vector<thread_pool_internal::Task> tasks;
    size_t index = 0;
    for (const auto& item : items) {
      std::packaged_task<R()> t([shared_fn, item = Item(item)] { return (*shared_fn)(item); });
      queue.futures_.push_back(t.get_future());
      tasks.emplace_back(NotifyingTask<R>{Notifier<R>(queue.state_, index), std::move(t)});
      ++index;
    }
    PushAll(tasks);
    return queue;
  }

  // Stops accepting tasks, finishes or cancels the queued ones (see Shutdown) and joins the
  // workers. Idempotent; must not be called from a task of this pool.
  void shutdown(Shutdown mode = Shutdown::kFinishQueued);

 private:
  // Tells a CompletionQueue that task `index` is done when destroyed. A worker destroys a task
  // right after running it, and a cancelled task is destroyed unrun; either way its future is
  // ready by then, so next() never waits forever and never hands out a future that is not ready.
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
    std::packaged_task<R()> task;
    void operator()() { task(); }
  };

  // One map() call. Lives in map()'s frame; its chunks point to it. The last chunk to finish
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
    // broken_promise for its first item, so map() never waits for it forever.
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
  std::deque<thread_pool_internal::Task> queue_;  // guarded by mu_
  int idle_ = 0;                                  // workers waiting on cv_, guarded by mu_
  bool stopping_ = false;                         // guarded by mu_
  std::vector<std::thread> threads_;
  std::mutex shutdown_mu_;  // serialises shutdown() calls
  bool joined_ = false;     // guarded by shutdown_mu_
};

}  // namespace concbench
