// How long a run of concbench has left: the plan, scaled by how the repetitions done so far
// compared with their plan.
//
// Why repetitions: Google Benchmark 1.7.1 reports a benchmark only when its last repetition is
// done (benchmark.cc, RunBenchmarks), and with --benchmark_enable_random_interleaving the
// repetitions of every benchmark are shuffled over the whole run, so for most of a run hardly any
// benchmark has finished: counting finished benchmarks said "2:58:52 left" of a 2:41 run.
// Repetitions are known as they happen: the registry's guard brackets every run of a body
// (bench/watchdog.h, BeginRun/EndRun) and passes its iteration count.
// - A benchmark with a fixed iteration count runs its body once per repetition.
// - An adaptive one (Google Benchmark chooses the count) runs it with growing counts in its
//   first repetition until one lasts --benchmark_min_time (benchmark_runner.cc,
//   DoOneRepetition), then once per repetition with that count. So a repetition is done when a
//   run with the largest count seen so far ends; the smaller sizing rounds before it count as
//   none, and their time goes into the pace.
//
// The estimate, at time t (seconds since the start) with a run of benchmark c in flight since s:
//   done  = Σ over benchmarks of min(repetitions done, R) × planned seconds of one repetition
//   pace  = s / done                          (the wall time of everything done, against its plan)
//   left  = pace × (plan − done − plan(c)) + max(0, pace × plan(c) − (t − s))
// Nothing is estimated before the first repetition is done. A benchmark that Google Benchmark
// reports finished has all its repetitions done, whatever runs were seen.
//
// Not thread-safe: the caller serialises (ProgressReporter holds a mutex).
//
//   TimeLeft left(planned, /*repetitions=*/5, /*min_time_s=*/0.2);
//   left.RunBegan("sync/sleep/...", 0.0);
//   left.RunEnded("sync/sleep/...", /*iterations=*/1, 2.51);
//   std::optional<double> s = left.SecondsLeft(2.6);
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "registry.h"

namespace concbench {

class TimeLeft {
 public:
  TimeLeft(const std::vector<Planned>& planned, int64_t repetitions, double min_time_s);

  // A run of `name`'s body began, or ended after `iterations` iterations, `at_s` seconds after
  // the start. A name that is not planned is ignored.
  void RunBegan(const std::string& name, double at_s);
  void RunEnded(const std::string& name, int64_t iterations, double at_s);
  // Google Benchmark reported `name` finished: all its repetitions are done.
  void Finished(const std::string& name);

  // Seconds left at `now_s`; nothing before the first repetition is done.
  std::optional<double> SecondsLeft(double now_s) const;

  double planned_s() const { return planned_s_; }
  int64_t repetitions_planned() const;
  int64_t repetitions_done() const { return repetitions_done_; }
  // The run in flight ("" when none) and when it began.
  const std::string& running() const { return running_; }
  double running_since_s() const { return running_since_s_; }

 private:
  struct Progress {
    double repetition_s = 0;   // planned seconds of one repetition
    int64_t done = 0;          // repetitions done, at most R
    int64_t most_iterations = 0;
    int64_t runs_at_most = 0;  // runs with most_iterations iterations
  };
  void Credit(Progress& p, int64_t done);

  int64_t repetitions_;
  std::map<std::string, Progress> progress_;
  double planned_s_ = 0;
  double done_s_ = 0;  // planned seconds of the repetitions done
  int64_t repetitions_done_ = 0;
  std::string running_;
  double running_since_s_ = 0;
};

}  // namespace concbench
