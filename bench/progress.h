// What a person sees while concbench runs: a line per benchmark as it finishes, and in between a
// status line with the repetitions done, the time left and the run in flight, instead of Google
// Benchmark's wide table.
//
//   concbench: 67 benchmarks × 5 repetitions, about 2:08 planned
//     0:03  2/335 repetitions  calibrating…  now sync/sleep/tasks:5/sleep_ms:500 (1.4 s)
//     0:13  31/335 repetitions  ~2:01 left  now async/echo/tasks:5/delay_ms:500/payload:64 (0.2 s)
//   [ 12/67] threads/sleep/tasks:5/workers:5/sleep_ms:500     500.3 ms  eff 0.999  ✓   1:41 (~0:31 left)
//   [ 13/67] processes/cpu/tasks:4/workers:2/n:200000/...     failed: worker 1 (pid 4242) killed by signal 9
//
// On a terminal each line but a failure replaces the previous one (the status line is redrawn
// every second), so a run of a hundred benchmarks leaves only its failures and a summary in the
// scrollback; elsewhere (a log, a pipe) every line stays, and a status line is written when
// nothing else was for kFirstStatusS seconds after the start, then for kStatusEveryS seconds.
//
// The time left comes from TimeLeft (bench/time_left.h): the families' own budgets
// (PlannedBenchmarks), corrected by the repetitions measured so far. The repetitions are
// counted from the runs the watchdog's board sees (the reporter is its RunObserver), because
// Google Benchmark reports nothing before a benchmark's last repetition.
// A table reporter may be given too: it receives every call as well, so the full Google
// Benchmark table can be written to a file at the same time (--console_out).
#pragma once

#include <benchmark/benchmark.h>

#include <cstdio>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "registry.h"
#include "time_left.h"
#include "watchdog.h"

namespace concbench {

// A benchmark's name as a person reads it: without Google Benchmark's "/iterations:N" and
// "/real_time" parts.
std::string ShortName(const std::string& name);

// "500.3 ms", "2.51 s", "87.2 µs": a time in the unit a person reads easily.
std::string FormatSeconds(double seconds);

// One line for a finished benchmark (its repetitions and aggregates): the median (or only) wall
// time, the median efficiency when it has one, and ✓, or the error.
std::string DescribeFinished(const std::vector<benchmark::BenchmarkReporter::Run>& runs);

// Ticks come about once a second, so silences of kStatusEveryS keep every gap under 10 s.
inline constexpr double kFirstStatusS = 3;
inline constexpr double kStatusEveryS = 9;

class ProgressReporter : public benchmark::BenchmarkReporter, public RunObserver {
 public:
  // Seconds on a steady clock; the default reads std::chrono::steady_clock.
  using Now = std::function<double()>;

  // `planned`: the benchmarks that will run, in any order. `out` receives the lines; with
  // `overwrite` (a terminal) a successful line is replaced by the next. `table`, if given,
  // receives every call too.
  ProgressReporter(std::vector<Planned> planned, int64_t repetitions, double min_time_s, std::FILE* out,
                   benchmark::BenchmarkReporter* table = nullptr, bool overwrite = false, Now now = {});

  bool ReportContext(const Context& context) override;
  void ReportRuns(const std::vector<Run>& runs) override;
  void Finalize() override;

  void RunBegan(const std::string& name) override;
  void RunEnded(const std::string& name, int64_t iterations) override;

  // Called about once a second from another thread (the watchdog's): writes a status line when
  // one is due. Does nothing before ReportContext or after Finalize.
  void Tick();

 private:
  double Elapsed() const;
  void PrintFinished(const std::vector<Run>& runs);
  // Writes `line`; it stays on the terminal when `keep`, or when the output is not a terminal.
  void Emit(std::string line, bool keep);

  std::mutex mu_;  // everything below: the benchmark thread and the ticking thread both print
  std::vector<Planned> planned_;
  int64_t repetitions_;
  TimeLeft left_;
  std::vector<Run> pending_;  // a benchmark's repetitions, waiting for its aggregates
  std::FILE* out_;
  benchmark::BenchmarkReporter* table_;
  bool overwrite_;
  Now now_;
  bool line_open_ = false;  // a replaceable line is on the terminal
  bool running_ = false;    // between ReportContext and Finalize
  double start_ = 0;
  double last_line_ = 0;    // when the last line was written, seconds since the start
  size_t done_ = 0;
  size_t failed_ = 0;
};

}  // namespace concbench
