// An emulation of CPython's global interpreter lock, for the `threads.gil` families: it shows in
// C++ why the notebook's threads give no speed-up on CPU-bound work (section 4).
//
// What it models: CPython ≥ 3.2's GIL (Python/ceval_gil.h). One lock must be held to compute. A
// thread that wants it waits up to one switch interval (CPython's sys.getswitchinterval(),
// 5 ms by default); if the holder has not changed in that time, the waiter sets a drop request.
// The holder polls the request between small slices of work (CPython: between bytecodes),
// releases the lock, and waits until another thread has taken it (forced switching) before
// queueing for it again. So CPU-bound threads take turns, one at a time, every ~5 ms.
//
// What it guarantees: mutual exclusion between Acquire() and Release(); a waiter gets the lock
// at the latest one switch interval plus one slice after asking, as long as the holder calls
// Checkpoint(); no busy waiting (waiters block on condition variables).
//
// What it requires: Release() and Checkpoint() only by the thread that holds the lock.
//
//   Gil gil;                                   // 5 ms switch interval
//   pool.Map([&](int64_t x) { return RunTaskUnderGil(spec, x, env, gil); }, inputs);
//   // bit-exact results; one thread computes at a time, waits overlap
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>

#include "workload/blocking.h"
#include "workload/task_env.h"
#include "workload/task_spec.h"

namespace concbench {

class Gil {
 public:
  static constexpr std::chrono::milliseconds kDefaultSwitchInterval{5};

  // switch_interval must be > 0 (std::invalid_argument otherwise).
  explicit Gil(std::chrono::nanoseconds switch_interval = kDefaultSwitchInterval);

  Gil(const Gil&) = delete;
  Gil& operator=(const Gil&) = delete;

  void Acquire();
  // If a waiter has asked for the lock, blocks until it (or another waiter) has taken it, so a
  // thread that releases and re-acquires at once (its next task) cannot starve the waiter.
  void Release();

  // Cheap when nobody waits (one relaxed load). Otherwise hands the lock over to a waiter and
  // blocks until the calling thread gets it back; returns whether it did.
  bool Checkpoint() {
    if (!drop_request_.load(std::memory_order_relaxed)) return false;
    Yield();
    return true;
  }

  // How many times the lock passed from one thread to a different one.
  int64_t switches() const;

  std::chrono::nanoseconds switch_interval() const { return interval_; }

 private:
  void Yield();

  const std::chrono::nanoseconds interval_;
  mutable std::mutex mu_;
  std::condition_variable cond_;         // waiters for the lock
  std::condition_variable switch_cond_;  // a yielding holder waits here for the hand-over
  bool locked_ = false;                  // guarded by mu_
  std::thread::id holder_;               // last thread that took the lock, guarded by mu_
  uint64_t switch_number_ = 0;           // times the lock was taken, guarded by mu_
  int64_t switches_ = 0;                 // hand-overs to a different thread, guarded by mu_
  std::atomic<bool> drop_request_{false};
};

// Holds the GIL for a scope.
class GilHold {
 public:
  explicit GilHold(Gil& gil) : gil_(gil) { gil_.Acquire(); }
  ~GilHold() { gil_.Release(); }
  GilHold(const GilHold&) = delete;
  GilHold& operator=(const GilHold&) = delete;

 private:
  Gil& gil_;
};

// Iterations of a compute step's inner loop between two Checkpoint() calls: about a microsecond
// of work, like the few bytecodes between two checks of CPython's eval breaker.
inline constexpr int64_t kGilSliceIterations = 1024;

// Runs `spec` on `input` as a Python thread runs it: holding `gil` while it computes, calling
// Checkpoint() every kGilSliceIterations iterations of a compute step, and releasing it around
// every wait (time.sleep and socket calls release the GIL in CPython), so waits overlap and
// computing does not. Results are bit-exact with RunTaskBlocking. `observer` as there.
int64_t RunTaskUnderGil(const TaskSpec& spec, int64_t input, const TaskEnv& env, Gil& gil,
                        TaskObserver* observer = nullptr, int64_t task = 0);

}  // namespace concbench
