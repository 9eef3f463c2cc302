// Runs benchmarks registered in a test binary through Google Benchmark and hands back what a
// reporter would see, so tests can check names, counters and errors as the JSON would show them.
//
//   RegisterFamily(Options{.suite = Suite::kSmoke}, {.name = "t1/sleep", ...});
//   std::vector<benchmark::BenchmarkReporter::Run> runs = RunBenchmarks("^t1/");
#pragma once

#include <benchmark/benchmark.h>

#include <string>
#include <vector>

namespace concbench {

class CapturingReporter : public benchmark::BenchmarkReporter {
 public:
  bool ReportContext(const Context&) override { return true; }
  void ReportRuns(const std::vector<Run>& runs) override { runs_.insert(runs_.end(), runs.begin(), runs.end()); }
  const std::vector<Run>& runs() const { return runs_; }

 private:
  std::vector<Run> runs_;
};

// Runs every registered benchmark whose name matches `filter` (a regex) and returns its runs.
inline std::vector<benchmark::BenchmarkReporter::Run> RunBenchmarks(const std::string& filter) {
  CapturingReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter, filter);
  return reporter.runs();
}

}  // namespace concbench
