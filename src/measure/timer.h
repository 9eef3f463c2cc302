// Wall-clock timing on the steady clock: a stopwatch.
//
// Stopwatch measures the wall time elapsed since it was made or last Reset(), on
// std::chrono::steady_clock, so it never runs backwards when the system clock is set. It holds
// one time point: copying it is free and nothing in it throws.
//
//   concbench::Stopwatch watch;
//   BlockingSleep(100ms);
//   double s = watch.ElapsedSeconds();  // ≥ 0.1
#pragma once

#include <chrono>

namespace concbench {

// Measures elapsed wall time since construction or the last Reset().
class Stopwatch {
 public:
  using Clock = std::chrono::steady_clock;

  Stopwatch() : start_(Clock::now()) {}
  void Reset() { start_ = Clock::now(); }
  Clock::duration Elapsed() const { return Clock::now() - start_; }
  double ElapsedSeconds() const { return std::chrono::duration<double>(Elapsed()).count(); }

 private:
  Clock::time_point start_;
};

}  // namespace concbench
