// The one timed-loop skeleton every family body uses.
//
// A body does its setup (pools, loops, servers: outside the timed loop), then hands one
// iteration to TimeIterations together with what the iteration promises (Expect). The skeleton
// owns the rest: the Meter, timing the loop, counting checksum mismatches, verifying them after
// timing, the model counters and items processed. An iteration that throws ends the benchmark
// with the exception's message (the loop stops at once). On success it returns the meter so the
// body can add the counters only it has; on failure the benchmark has already been failed.
//
//   const int64_t tasks = args["tasks"];
//   ThreadPool pool(args["workers"]);
//   TimeIterations(state, {.checksum = SleepBatchChecksum(tasks), .ideal_s = ..., .items = tasks},
//                  [&] { return Checksum(pool.Map(task, inputs)); });
#pragma once

#include <benchmark/benchmark.h>

#include <cstdint>
#include <exception>
#include <optional>

#include "counters.h"
#include "watchdog.h"

namespace concbench {

struct Expect {
  // The checksum every iteration must return; reported as the `checksum` counter. Without one
  // the iteration checks its own work and throws when it is wrong.
  std::optional<int64_t> checksum;
  // The best time per iteration this model could reach (ideal_s, overhead_s, efficiency).
  std::optional<double> ideal_s;
  // The same with the parallel capacity the machine delivered just before the loop
  // (machine_ideal_s, machine_efficiency), for families whose ideal uses parallel cores, and
  // that capacity (machine_capacity).
  std::optional<double> machine_ideal_s;
  std::optional<double> machine_capacity;
  // Tasks per iteration, for items_per_second (0: not reported).
  int64_t items = 0;
  // Usage of processes that live through the whole loop (a pool's workers), added to cpu_util.
  LiveWorkers live_workers;
  // cpu_util and ctx_switches; off for memory families, whose loops pause timing to read memory.
  bool usage_counters = true;
};

// Sets the counters Expect promises from a finished meter.
void ReportExpected(benchmark::State& state, const Meter& meter, const Expect& expect);

template <class Iteration>
std::optional<Meter> TimeIterations(benchmark::State& state, const Expect& expect, Iteration&& iteration) {
  Meter meter(expect.live_workers);
  int64_t mismatches = 0, wrong = 0;
  meter.Start();
  try {
    for (auto _ : state) {
      const int64_t sum = iteration();
      CountIteration();
      if (expect.checksum && sum != *expect.checksum) ++mismatches, wrong = sum;
    }
  } catch (const std::exception& e) {
    meter.Stop();
    Fail(state, e.what());
    return std::nullopt;
  }
  meter.Stop();
  if (state.error_occurred()) return std::nullopt;
  if (expect.checksum && !VerifyChecksums(state, mismatches, wrong, *expect.checksum)) return std::nullopt;
  ReportExpected(state, meter, expect);
  return meter;
}

}  // namespace concbench
