// The ideal a model could reach, computed from what its tasks cost on their own.
//
// A family's `ideal_s` counter comes from here. Calibrate() runs the tasks serially on the
// calling thread (outside any timed region) to learn each task's cost and its correct result;
// Makespan() then says how long those tasks take at best on W workers fed `chunksize` tasks at
// a time, handing each chunk, in input order, to the first worker that becomes free — the same
// policy as concbench's pools and Python's executors.
//
//   auto cal = concbench::Calibrate(inputs, task);
//   double ideal = concbench::Makespan(cal.task_seconds, std::min(workers, UsableCores()), 1);
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "workload/task.h"

namespace concbench {

struct Calibration {
  std::vector<int64_t> results;      // task(inputs[i]), the expected results
  std::vector<double> task_seconds;  // median observed duration of each task
  int64_t checksum = 0;              // Σ results
  double total_seconds = 0;          // Σ task_seconds
};

// Runs the whole batch serially on the calling thread, round after round, until at least
// `min_rounds` rounds and `min_seconds` of work are done (at most 10,000 rounds), and keeps each
// task's median time. The median of a sustained run, not the minimum of a burst, is what a timed
// loop of the same work sees (a short burst runs at boost clock and cold-start outliers skew a
// mean). Throws std::logic_error if a task gives different results in different rounds.
Calibration Calibrate(std::span<const int64_t> inputs, const TaskFn& task, int min_rounds = 3,
                      double min_seconds = 0.05);

// Best completion time of the tasks on `workers` workers taking `chunksize` consecutive tasks
// at a time from the front of the queue. workers and chunksize must be ≥ 1
// (std::invalid_argument otherwise). Zero tasks take 0 s.
double Makespan(std::span<const double> task_seconds, int64_t workers, int64_t chunksize);

// How a model runs a batch, for its ideal: how many tasks progress at once (`lanes`: a pool's
// workers, 1 when tasks run one after another, 0 for no limit: every task at once), how many of
// them can compute at once (`cpu_slots`: min(workers, cores) for a pool, 1 for the loop's own
// thread or under a GIL), and how many tasks a lane takes at a time (`chunksize`).
struct BatchShape {
  int64_t lanes = 1;
  int64_t cpu_slots = 1;
  int64_t chunksize = 1;
};

// The best time of a batch whose task i computes cpu_seconds[i] and waits wait_seconds, its last
// step being a wait of last_wait_seconds (0 when it ends computing), on a model of this shape,
// with `capacity` effective cores (infinity: cpu_slots perfect cores). With k = cpu_slots,
// c = min(k, capacity) and L = lanes (the task count when 0):
//   no waits:  max( Makespan(cpu, k, chunksize),  Σ cpu ÷ c )
//   waits:     max( Makespan(cpu_i + wait, L, chunksize),  Σ cpu ÷ c + last_wait )
// The first term: no schedule of the lanes beats it (for pure waits it is UniformMakespan). The
// second: c cores give at most c seconds of CPU per second, and the last task to compute still
// has its last wait ahead of it. For 4 tasks of 1 ms CPU + 10 ms wait: threads on 2 workers
// 22 ms, the loop computing inline (L = 0, k = 1) 14 ms, offloaded to 2 threads 12 ms, sync 44 ms.
// Throws std::invalid_argument when a count is < 0 (lanes) or < 1 (cpu_slots, chunksize), or
// capacity is not > 0.
double BatchIdealSeconds(std::span<const double> cpu_seconds, double wait_seconds, double last_wait_seconds,
                         const BatchShape& shape, double capacity);

// Makespan of `tasks` equal tasks of `seconds` each: ceil(ceil(T/C)/W)·C·s when the chunks are
// full; computed exactly for a last partial chunk.
double UniformMakespan(int64_t tasks, double seconds, int64_t workers, int64_t chunksize);

// CPUs this process may run on (sched_getaffinity), at least 1.
int UsableCores();

// Σ values, the checksum every family verifies.
int64_t Checksum(std::span<const int64_t> values);

}  // namespace concbench
