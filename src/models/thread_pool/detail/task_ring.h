// The pool's FIFO queue of Tasks (models/thread_pool/detail/task.h): a ring buffer that only
// grows. Internal to models/thread_pool/.
//
// What it is for: std::deque allocates and frees a block every few dozen tasks, on the pushing and
// the popping thread respectively, and that malloc traffic across threads cost more than the
// queueing itself. A ring allocates only when it grows (doubling, from 64 slots), and never
// shrinks.
//
// What it requires: one lock around every call (the pool's mutex); pop_front only when !empty().
//
//   TaskRing queue;
//   queue.push_back(Task(std::move(promise)));
//   if (!queue.empty()) queue.pop_front()();  // oldest first
#pragma once

#include <algorithm>
#include <cstddef>
#include <utility>
#include <vector>

#include "models/thread_pool/detail/task.h"

namespace concbench::thread_pool_internal {

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

}  // namespace concbench::thread_pool_internal
