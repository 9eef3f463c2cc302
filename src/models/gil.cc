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

int64_t RunTaskUnderGil(const TaskSpec& spec, int64_t input, const TaskEnv& env, Gil& gil, TaskObserver* observer,
                        int64_t task) {
  // Whether this thread holds the lock: released on every way out, an exception included.
  struct Release {
    Gil& gil;
    bool held = false;
    ~Release() {
      if (held) gil.Release();
    }
  } release{gil};
  // Traced, the time spent waiting for the lock shows as "waiting for the GIL" events.
  const auto acquire = [&] {
    const uint64_t t0 = observer != nullptr ? MonotonicNs() : 0;
    gil.Acquire();
    release.held = true;
    if (observer != nullptr) observer->ModelEvent("waiting for the GIL", t0, MonotonicNs());
  };
  const auto checkpoint = [&] {
    if (observer == nullptr) {
      gil.Checkpoint();
      return;
    }
    const uint64_t t0 = MonotonicNs();
    if (gil.Checkpoint()) observer->ModelEvent("GIL handed over, waiting for it back", t0, MonotonicNs());
  };
  if (observer != nullptr) observer->TaskBegin(task);
  // A thread holds the GIL whenever it runs Python code: from the task's start to its end, except
  // while it waits.
  acquire();
  int64_t sum = 0;
  for (size_t k = 0; k < spec.steps.size(); ++k) {
    const Step& s = spec.steps[k];
    if (observer != nullptr) observer->StepBegin(task, k);
    if (s.kind == StepKind::kCompute) {
      sum += RunComputeSliced(s, input, kGilSliceIterations, checkpoint);
    } else {
      gil.Release();
      release.held = false;
      sum += RunStepBlocking(s, input, env);
      acquire();
    }
    if (observer != nullptr) observer->StepEnd(task, k);
  }
  if (observer != nullptr) observer->TaskEnd(task);
  return sum;
}

}  // namespace concbench
