// Simulated I/O: a blocking wait of a given duration, the notebook's `time.sleep`.
//
// The wait is measured against CLOCK_MONOTONIC with an absolute deadline, so a signal that
// interrupts it does not shorten or lengthen it. Event-loop models do not call this; they arm a
// timer of the same duration instead (that is the point of the comparison).
//
//   concbench::BlockingSleep(std::chrono::milliseconds(500));
//   int64_t r = concbench::SleepTask(3, std::chrono::milliseconds(1));  // sleeps, returns 4
#pragma once

#include <chrono>
#include <cstdint>

namespace concbench {

// Blocks the calling thread for at least `d` (d ≤ 0 returns at once).
void BlockingSleep(std::chrono::nanoseconds d);

// One simulated-I/O task: sleeps for `d` and returns `index + 1`, so the sum of the results of
// tasks 0..T-1 is T(T+1)/2 and a task that ran twice or not at all changes it.
int64_t SleepTask(int64_t index, std::chrono::nanoseconds d);

// The result SleepTask(index, ·) returns, without the wait.
constexpr int64_t SleepTaskResult(int64_t index) { return index + 1; }

// Σ SleepTaskResult(i) for i < tasks: the checksum of a batch of sleep tasks, T(T+1)/2.
constexpr int64_t SleepBatchChecksum(int64_t tasks) { return tasks * (tasks + 1) / 2; }

}  // namespace concbench
