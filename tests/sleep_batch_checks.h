// The timing contract every event-loop model's sleep batches keep (async_test.cc, coro_test.cc,
// coro_runner_test.cc), with wide, machine-independent bounds: five gathered waits take at least
// one wait and less than 4.5 (one after another they would take five: the slack is for a loaded
// machine), five sequential waits at least five, and either way the results are the sleep tasks'
// 1..5 in task order.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <vector>

#include "measure/timer.h"

namespace concbench {

// Runs `run(5, wait)` (a batch of five sleep tasks of `wait`, returning their results) and checks
// that it took at least `at_least` waits and, when `less_than` > 0, less than `less_than` waits.
template <class Run>
void ExpectFiveSleepTasksTake(Run run, std::chrono::milliseconds wait, double at_least, double less_than = 0) {
  const double one = std::chrono::duration<double>(wait).count();
  const Stopwatch w;
  const std::vector<int64_t> r = run(int64_t{5}, wait);
  const double s = w.ElapsedSeconds();
  EXPECT_EQ(r, (std::vector<int64_t>{1, 2, 3, 4, 5}));
  EXPECT_GE(s, at_least * one);
  if (less_than > 0) {
    EXPECT_LT(s, less_than * one);
  }
}

}  // namespace concbench
