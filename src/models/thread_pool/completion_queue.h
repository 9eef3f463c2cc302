// CompletionQueue<R>: the results of ThreadPool::SubmitAll (models/thread_pool/thread_pool.h) in
// the order the tasks finish, Python's concurrent.futures.as_completed.
//
// What it guarantees: Next() blocks on a condition variable until some task has finished (no
// polling, no sleeps) and hands out that task's item index and its ready Future; once all size()
// results have been handed out it returns nothing. A task the pool cancelled
// (Shutdown(kCancelQueued)) is handed out too, its future reporting
// std::future_errc::broken_promise, so Next() never waits forever.
//
// What it requires: one consumer; the queue is move-only.
//
//   CompletionQueue<int64_t> done = pool.SubmitAll([](int64_t i) { return SleepTask(i, 500ms); }, inputs);
//   while (auto c = done.Next()) use(c->index, c->result.Get());  // in completion order
//   // every result taken: Next() returns std::nullopt
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <utility>
#include <vector>

#include "models/thread_pool/future.h"

namespace concbench {

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

}  // namespace concbench
