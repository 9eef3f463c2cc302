// The `threads` model: a fixed-size pool of worker threads with the shape of Python's
// concurrent.futures.ThreadPoolExecutor (notebook sections 2, 4 and 5.2).
//
// What it is for: running many short or blocking tasks on a few long-lived threads, so a task
// costs a queue push and a wake-up instead of a thread creation. The parts, one per header of
// models/thread_pool/: Future (future.h), CompletionQueue (completion_queue.h), and internal to
// the pool, under detail/: the queued Task (task.h), the queue (task_ring.h), the shared state of
// a submitted task (shared_state.h) and the state of one Map call (map_job.h).
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
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <mutex>
#include <ranges>
#include <stdexcept>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "models/thread_pool/completion_queue.h"
#include "models/thread_pool/detail/map_job.h"
#include "models/thread_pool/detail/shared_state.h"
#include "models/thread_pool/detail/task.h"
#include "models/thread_pool/detail/task_ring.h"
#include "models/thread_pool/future.h"

namespace concbench {

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
    using Job = thread_pool_internal::MapJob<F, std::ranges::iterator_t<const Items>, R>;
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
