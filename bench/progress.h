// What a person sees while concbench runs: one short line per benchmark as it finishes, with the
// time so far and an estimate of what is left, instead of Google Benchmark's wide table.
//
//   [ 12/62] threads/sleep/tasks:5/workers:5/sleep_ms:500     500.3 ms  eff 0.999  ✓   0:41 (~1:20 left)
//   [ 13/62] processes/cpu/tasks:4/workers:2/n:200000/...     failed: worker 1 (pid 4242) killed by signal 9
//
// On a terminal each successful benchmark's line replaces the previous one, so a run of a hundred
// benchmarks leaves only its failures and a summary in the scrollback; elsewhere (a log, a pipe)
// every line stays.
//
// The estimate comes from the families' own budgets (PlannedBenchmarks: iterations × estimated
// seconds per iteration, or Google Benchmark's minimum time for adaptive ones), scaled by how the
// finished benchmarks compared with their plan. A table reporter may be given too: it receives
// every call as well, so the full Google Benchmark table can be written to a file at the same
// time (--console_out).
#pragma once

#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "registry.h"

namespace concbench {

// A benchmark's name as a person reads it: without Google Benchmark's "/iterations:N" and
// "/real_time" parts.
std::string ShortName(const std::string& name);

// "500.3 ms", "2.51 s", "87.2 µs": a time in the unit a person reads easily.
std::string FormatSeconds(double seconds);

// One line for a finished benchmark (its repetitions and aggregates): the median (or only) wall
// time, the median efficiency when it has one, and ✓, or the error.
std::string DescribeFinished(const std::vector<benchmark::BenchmarkReporter::Run>& runs);

class ProgressReporter : public benchmark::BenchmarkReporter {
 public:
  // `planned`: the benchmarks that will run, in any order. `out` receives the lines; with
  // `overwrite` (a terminal) a successful line is replaced by the next. `table`, if given,
  // receives every call too.
  ProgressReporter(std::vector<Planned> planned, int64_t repetitions, double min_time_s, std::FILE* out,
                   benchmark::BenchmarkReporter* table = nullptr, bool overwrite = false);

  bool ReportContext(const Context& context) override;
  void ReportRuns(const std::vector<Run>& runs) override;
  void Finalize() override;

 private:
  void PrintLine(const std::vector<Run>& runs);

  std::vector<Planned> planned_;
  std::vector<Run> pending_;  // a benchmark's repetitions, waiting for its aggregates
  int64_t repetitions_;
  double min_time_s_;
  std::FILE* out_;
  benchmark::BenchmarkReporter* table_;
  bool overwrite_;
  bool line_open_ = false;  // a replaceable line is on the terminal
  std::chrono::steady_clock::time_point start_;
  size_t done_ = 0;
  size_t failed_ = 0;
  double planned_done_s_ = 0;
  double planned_total_s_ = 0;
};

}  // namespace concbench
