// The JSON results file, written so that it is always valid JSON and never looks complete when
// it is not.
//
// Google Benchmark's JSON reporter writes the file as the run goes and closes its brackets only
// at the end, so a run that is stopped (a watchdog, a signal, a crash) leaves a truncated file.
// ResultsFile keeps what that reporter writes in memory and, after every benchmark, replaces the
// file (temporary file + rename) with the text so far, closed, and marked in its context with
// "concbench_partial": "<why>" (while it runs: "running: k of N benchmarks done"). Finalize
// writes the complete file, without that key, with the context entries of the end of the run
// added (the end-of-run machine probe). WritePartial writes the file as a stopped run leaves it:
// the reason, a failed row for the benchmark that was cut short, and in "concbench_not_run" the
// other planned benchmarks that never finished, joined by "; ". The format is exactly Google
// Benchmark's, so compare.py and every script read it unchanged.
//
//   ResultsFile file("out.json", planned_names, [] { return EndContext(); });
//   RunSpecifiedBenchmarks(&display, &file);   // with --benchmark_out=out.json
#pragma once

#include <benchmark/benchmark.h>

#include <functional>
#include <mutex>
#include <set>
#include <sstream>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace concbench {

using ContextList = std::vector<std::pair<std::string, std::string>>;

class ResultsFile : public benchmark::BenchmarkReporter {
 public:
  // `path`: the --benchmark_out file; `planned`: the names of the benchmarks the run will report.
  // `end_context`, if given, is called once, at Finalize.
  // `tables` go into the context of every version of the file (the tables of models, workloads and
  // cells: too long for the console's context header, where Google Benchmark prints the rest).
  ResultsFile(std::string path, std::vector<std::string> planned, std::function<ContextList()> end_context = {},
              ContextList tables = {});

  bool ReportContext(const Context& context) override;
  void ReportRuns(const std::vector<Run>& runs) override;
  void Finalize() override;

  // Writes the file as a run stopped for `reason` leaves it; `cut_short`, if not empty, is the
  // name of the benchmark that did not finish, added as a failed row with `reason` as its error.
  // Thread-safe against the reporter's own calls (a watchdog or signal thread calls it).
  void WritePartial(const std::string& reason, const std::string& cut_short = "");

  // The JSON text for `body` (what Google Benchmark's reporter wrote so far; `closed` once its
  // Finalize has closed the brackets) with `extra` context entries inserted first in the context,
  // then, if `failed_row` names a benchmark, a failed row for it with `error`, then closed.
  // Exposed for tests.
  std::string Close(const std::string& body, bool closed, bool has_rows, const ContextList& extra,
                    const std::string& failed_row = "", const std::string& error = "") const;

 private:
  void WriteLocked(const std::string& text);

  std::string NotRunLocked(const std::string& cut_short) const;

  std::string path_;
  std::vector<std::string> planned_;
  std::function<ContextList()> end_context_;
  ContextList tables_;
  std::mutex mu_;  // guards everything below
  std::ostringstream text_;
  benchmark::JSONReporter json_;
  std::set<std::string> done_;  // run names reported
  bool has_rows_ = false;
  bool finished_ = false;
};

// JSON string literal for `s` (quotes included).
std::string JsonString(const std::string& s);
// ["a", "b"]
std::string JsonStrings(std::span<const std::string_view> items);

}  // namespace concbench
