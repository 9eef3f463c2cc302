#include "models/thread_pool.h"

#include <string>
#include <system_error>

namespace concbench {

ThreadPool::ThreadPool(int workers) {
  if (workers < 1) {
    throw std::invalid_argument("ThreadPool: workers must be >= 1, got " + std::to_string(workers));
  }
  threads_.reserve(static_cast<size_t>(workers));
  try {
    for (int i = 0; i < workers; ++i) threads_.emplace_back([this] { WorkerLoop(); });
  } catch (...) {
    shutdown(Shutdown::kCancelQueued);
    throw;
  }
}

ThreadPool::~ThreadPool() { shutdown(Shutdown::kFinishQueued); }

void ThreadPool::shutdown(Shutdown mode) {
  std::lock_guard shutdown_lock(shutdown_mu_);
  if (joined_) return;
  std::deque<thread_pool_internal::Task> cancelled;
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    if (mode == Shutdown::kCancelQueued) cancelled.swap(queue_);
  }
  cv_.notify_all();
  // Destroying unrun tasks breaks their promises (and notifies completion queues); done outside
  // mu_ because a notifier takes another lock.
  cancelled.clear();
  for (auto& t : threads_) t.join();
  joined_ = true;
}

void ThreadPool::Push(thread_pool_internal::Task task) {
  bool wake;
  {
    std::lock_guard lock(mu_);
    if (stopping_) throw std::logic_error("ThreadPool: submit after shutdown");
    queue_.push_back(std::move(task));
    wake = idle_ > 0;
  }
  if (wake) cv_.notify_one();
}

void ThreadPool::PushAll(std::vector<thread_pool_internal::Task>& tasks) {
  int wake;
  {
    std::lock_guard lock(mu_);
    if (stopping_) throw std::logic_error("ThreadPool: submit after shutdown");
    for (auto& t : tasks) queue_.push_back(std::move(t));
    wake = static_cast<int>(std::min<size_t>(static_cast<size_t>(idle_), tasks.size()));
  }
  for (int i = 0; i < wake; ++i) cv_.notify_one();
}

void ThreadPool::WorkerLoop() {
  while (true) {
    thread_pool_internal::Task task;
    {
      std::unique_lock lock(mu_);
      if (queue_.empty() && !stopping_) {
        ++idle_;
        cv_.wait(lock, [this] { return !queue_.empty() || stopping_; });
        --idle_;
      }
      if (queue_.empty()) return;  // stopping and nothing left to finish
      task = std::move(queue_.front());
      queue_.pop_front();
    }
    // Every task the pool queues is a packaged_task (or wraps one): it stores its own exception.
    task();
    // `task` is destroyed here, before the next wait, which releases a completion notifier.
  }
}

}  // namespace concbench
