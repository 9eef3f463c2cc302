// How long a run of concbench has left, from its plan and the repetitions measured so far.
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
//   run with the largest count seen so far ends; the smaller sizing rounds before it are not
//   repetitions, though their time counts.
//
// The estimate: every repetition still to run, at
// - its benchmark's own measured time per repetition once one is done (the mean of its runs at
//   the largest count);
// - otherwise its planned time plus the mean excess (measured − planned, per repetition, sizing
//   included) of the benchmarks measured so far. The plan's error is mostly a cost it leaves out
//   (a pool's start, a fork, the sizing rounds), about the same for a 0.1 s repetition as for a
//   2.5 s one, so an excess added, not a ratio multiplied: a ratio taken from a few short
//   repetitions 5-12 times over their plan once made a notebook run's estimate 2x the truth at
//   its 10 % mark.
// The run in flight is credited with the time it has run, up to its estimate; the sum is scaled
// by (wall time so far) / (time inside runs), for what happens between runs. Nothing is estimated
// before the first repetition is done. A benchmark Google Benchmark reports finished has all its
// repetitions done.
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
    double planned_s = 0;       // one repetition
    int64_t done = 0;           // repetitions done, at most R
    double measured_s = 0;      // every run, sizing rounds included
    int64_t most_iterations = 0;
    int64_t runs_at_most = 0;   // runs with most_iterations iterations, and their time
    double at_most_s = 0;
  };
  void Credit(Progress& p, int64_t done);
  // One repetition of `p` still to run, at `excess` seconds over plan for an unmeasured one.
  double Estimate(const Progress& p, double excess) const;

  int64_t repetitions_;
  std::map<std::string, Progress> progress_;
  double planned_s_ = 0;
  int64_t repetitions_done_ = 0;
  double in_runs_s_ = 0;  // wall time inside runs that ended
  std::string running_;
  double running_since_s_ = 0;
};

}  // namespace concbench
