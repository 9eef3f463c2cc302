#include "models/gil.h"

#include <algorithm>
#include <stdexcept>

#include "workload/cpu.h"

namespace concbench {

Gil::Gil(std::chrono::nanoseconds switch_interval) : interval_(switch_interval) {
  if (switch_interval <= std::chrono::nanoseconds::zero()) {
    throw std::invalid_argument("Gil: switch interval must be > 0");
  }
}

void Gil::Acquire() {
  std::unique_lock lock(mu_);
  while (locked_) {
    const uint64_t saved = switch_number_;
    const auto deadline = std::chrono::steady_clock::now() + interval_;
    bool timed_out = false;
    while (locked_ && switch_number_ == saved) {
      if (cond_.wait_until(lock, deadline) == std::cv_status::timeout) {
        timed_out = true;
        break;
      }
    }
    // A whole interval without the lock changing hands: ask the holder to drop it.
    if (timed_out && locked_ && switch_number_ == saved) {
      drop_request_.store(true, std::memory_order_relaxed);
    }
  }
  locked_ = true;
  ++switch_number_;
  const std::thread::id me = std::this_thread::get_id();
  if (holder_ != me) {
    holder_ = me;
    ++switches_;
  }
  drop_request_.store(false, std::memory_order_relaxed);
  lock.unlock();
  switch_cond_.notify_all();
}

void Gil::Release() {
  std::unique_lock lock(mu_);
  locked_ = false;
  cond_.notify_one();
  // Forced switching (CPython's FORCE_SWITCHING): when a waiter has asked for the lock, it gets
  // it before this thread can take it back, even if this thread wants it again at once (its next
  // task). A drop request is only set by a thread waiting in Acquire(), which leaves Acquire()
  // only by taking the lock, so this wait ends.
  if (drop_request_.load(std::memory_order_relaxed)) {
    const std::thread::id me = std::this_thread::get_id();
    switch_cond_.wait(lock, [&] { return holder_ != me; });
  }
}

void Gil::Yield() {
  Release();
  Acquire();
}

int64_t Gil::switches() const {
  std::lock_guard lock(mu_);
  return switches_;
}

namespace {

// Σ term(i) for 0 ≤ i < count, holding the GIL, with a checkpoint every slice.
template <class Term>
int64_t SlicedSum(Gil& gil, int64_t count, Term term) {
  GilHold hold(gil);
  int64_t s = 0;
  for (int64_t lo = 0; lo < count; lo += kGilSliceIterations) {
    const int64_t hi = std::min(count, lo + kGilSliceIterations);
    for (int64_t i = lo; i < hi; ++i) s += term(i);
    gil.Checkpoint();
  }
  return s;
}

}  // namespace

TaskFn GilCpuTask(CpuJob job, Gil& gil) {
  switch (job) {
    case CpuJob::kCpuIntensivo:
      return [&gil](int64_t n) { return SlicedSum(gil, n, [](int64_t i) { return (i * i) % 97; }); };
    case CpuJob::kTrabajo:
      return [&gil](int64_t x) {
        return SlicedSum(gil, 50'000, [x](int64_t i) { return py_mod(x + i, 97); });
      };
    case CpuJob::kTareaNormal:
      return [&gil](int64_t x) {
        return SlicedSum(gil, 300'000, [x](int64_t i) { return py_mod(x + i, 101); });
      };
  }
  throw std::invalid_argument("GilCpuTask: unknown job");
}

}  // namespace concbench
