#include "models/thread_pool/thread_pool.h"

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
    Shutdown(ShutdownMode::kCancelQueued);
    throw;
  }
}

ThreadPool::~ThreadPool() { Shutdown(ShutdownMode::kFinishQueued); }

void ThreadPool::Shutdown(ShutdownMode mode) {
  std::lock_guard shutdown_lock(shutdown_mu_);
  if (joined_) return;
  std::vector<thread_pool_internal::Task> cancelled;
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    if (mode == ShutdownMode::kCancelQueued) cancelled = queue_.TakeAll();
  }
  cv_.notify_all();
  // Destroying unrun tasks breaks their promises (and notifies completion queues); done outside
  // mu_ because a notifier takes another lock.
  cancelled.clear();
  for (auto& t : threads_) t.join();
  joined_ = true;
}

// Wake-ups are the pool's main cost: a futex wake and a context switch, tens of microseconds when
// the woken CPU was idle. A single task wakes one idle worker only when no wake-up is already on
// its way (waking_); the woken worker passes the wake on if it leaves work behind, so a stream
// of Submit calls costs one wake per burst instead of one per task. A batch (Map, SubmitAll)
// wakes as many idle workers as it has tasks, at once, so its tasks start together.
void ThreadPool::Push(thread_pool_internal::Task task) {
  bool wake = false;
  {
    std::lock_guard lock(mu_);
    if (stopping_) throw std::logic_error("ThreadPool: submit after shutdown");
    queue_.push_back(std::move(task));
    if (idle_ > 0 && !waking_) wake = waking_ = true;
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
    if (wake > 0) waking_ = true;
  }
  for (int i = 0; i < wake; ++i) cv_.notify_one();
}

void ThreadPool::WorkerLoop() {
  while (true) {
    thread_pool_internal::Task task;
    bool wake = false;
    {
      std::unique_lock lock(mu_);
      if (queue_.empty() && !stopping_) {
        ++idle_;
        // Every return from wait clears waking_, even a spurious one: at worst that costs an
        // extra wake-up, whereas a flag left set with no wake-up in flight would strand the queue.
        do {
          cv_.wait(lock);
          waking_ = false;
        } while (queue_.empty() && !stopping_);
        --idle_;
      }
      if (queue_.empty()) return;  // stopping and nothing left to finish
      task = queue_.pop_front();
      if (!queue_.empty() && idle_ > 0 && !waking_) wake = waking_ = true;
    }
    if (wake) cv_.notify_one();
    // Every task the pool queues stores its own exception (a Promise, or a Map chunk).
    task();
    // `task` is destroyed here, before the next wait, which releases a completion notifier.
  }
}

}  // namespace concbench
