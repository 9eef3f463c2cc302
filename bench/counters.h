// The counters every family reports, defined once. The README's counter table mirrors this.
//
//   ideal_s      the best wall time one iteration of this model could take for these arguments
//                (for example the makespan of the tasks on the workers), seconds
//   overhead_s   measured wall time per iteration − ideal_s, seconds
//   efficiency   ideal_s / measured wall time per iteration (1 = the model reached its ideal)
//   checksum     Σ of the task results of one iteration; every iteration is verified against the
//                expected value after timing, and a mismatch fails the benchmark
//   cpu_util     CPU seconds (user + system, this process's threads and its reaped children)
//                / wall seconds, over the timed loop
//   ctx_switches voluntary + involuntary context switches per iteration (process + children)
//
// Model-specific counters (lost_updates, rss_kib, ipc_bytes, ...) are set by their families
// next to these, with their definitions in the README.
//
//   Meter meter;
//   meter.Start();
//   for (auto _ : state) { ... }
//   meter.Stop();
//   if (!VerifyChecksums(state, mismatches, wrong, want)) return;
//   SetModelCounters(state, meter, ideal_s, want);
#pragma once

#include <benchmark/benchmark.h>

#include <cstdint>
#include <string_view>

#include "measure/rusage.h"
#include "measure/timer.h"

namespace concbench {

// Wall time and rusage over the timed loop. Start() and Stop() may bracket several regions;
// their costs add up.
class Meter {
 public:
  void Start();
  void Stop();

  double wall_seconds() const { return wall_s_; }
  const RusageDelta& usage() const { return usage_; }

 private:
  Stopwatch watch_;
  RusageSample before_;
  double wall_s_ = 0;
  RusageDelta usage_;
  bool running_ = false;
};

// Sets ideal_s, overhead_s, efficiency, checksum, cpu_util and ctx_switches from the meter.
void SetModelCounters(benchmark::State& state, const Meter& meter, double ideal_s, int64_t checksum);

// Fails the benchmark (SkipWithError) unless every iteration produced the expected checksum.
// `mismatches` counts iterations whose checksum differed and `wrong` is one such checksum.
// Returns true when all is well.
bool VerifyChecksums(benchmark::State& state, int64_t mismatches, int64_t wrong, int64_t expected);

// SkipWithError with a message built from parts; returns false so callers can `return Fail(...)`.
bool Fail(benchmark::State& state, std::string_view what);

}  // namespace concbench
