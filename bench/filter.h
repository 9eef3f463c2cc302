// Google Benchmark's --benchmark_filter, read exactly as Google Benchmark 1.7.1 reads it.
//
// What it is for: knowing before the run which registered benchmarks will run (the progress
// estimate, the results file's list of planned benchmarks), and refusing a filter that is not a
// regular expression with its reason, where Google Benchmark only prints "Could not compile
// benchmark re" and runs nothing.
//
// How 1.7.1 reads it (src/benchmark.cc, benchmark_register.cc, re.h): "" and "all" mean "."; a
// leading '-' selects the names the rest does not match; the rest is compiled by its Regex
// class and searched for anywhere in the full name. Debian's libbenchmark 1.7.1 builds that class
// on std::regex with std::regex_constants::extended (its CMake check finds HAVE_STD_REGEX, which
// re.h prefers to POSIX regcomp). The two differ: regcomp accepts "\d" and "a{,3}", std::regex
// refuses them, so this checks with std::regex.
//
//   if (auto err = FilterError(filter)) { std::cerr << "concbench: " << *err << "\n"; return 2; }
//   std::vector<Planned> selected = SelectPlanned(PlannedBenchmarks(), filter);
#pragma once

#include <optional>
#include <regex>
#include <string>
#include <vector>

#include "registry.h"

namespace concbench {

// Nothing when `filter` is valid; otherwise the message, which names the flag, the value and the
// reason: "--benchmark_filter: '(' is not a valid regular expression (Mismatched '(' and ')' in
// regular expression)".
std::optional<std::string> FilterError(const std::string& filter);

class BenchmarkFilter {
 public:
  // Throws std::invalid_argument with FilterError's message for an invalid filter.
  explicit BenchmarkFilter(const std::string& filter);

  // Whether Google Benchmark runs the benchmark named `name` (its full name, "/real_time" and
  // all).
  bool Matches(const std::string& name) const;

 private:
  std::regex re_;
  bool negative_ = false;
};

// The benchmarks of `all` that `filter` selects, in their order. Throws std::invalid_argument for
// an invalid filter.
std::vector<Planned> SelectPlanned(const std::vector<Planned>& all, const std::string& filter);

}  // namespace concbench
