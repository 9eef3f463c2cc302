// concbench's own command-line flags, parsed before Google Benchmark sees argv.
//
// --suite=notebook|smoke|sweep|map|crossover picks the argument grids every family registers; a grid override
// such as --tasks=1,4,16 replaces the suite's values of that argument for every family that has
// it. Each value is checked against the argument's allowed range: an empty list, a non-number,
// a value out of range or a repeated value is an error that names the flag, the value and what
// is allowed. Flags that are not concbench's are left in argv for benchmark::Initialize, after
// the values of Google Benchmark's own flags are checked the same way (its 1.7.1 parser exits 0
// or crashes on some bad values).
//
//   concbench::Options opt;
//   if (auto err = concbench::ParseOwnFlags(&argc, argv, &opt)) { std::cerr << *err; return 2; }
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace concbench {

// notebook: the notebook's cells and what runs beside them; smoke: tiny, seconds; sweep: wide;
// map: the mixed CPU + I/O workload on every model (scripts/map); crossover: the notebook's CPU
// cells swept in size until the winner changes (scripts/map --crossovers).
enum class Suite { kNotebook, kSmoke, kSweep, kMap, kCrossover };

std::string_view SuiteName(Suite s);

// One benchmark argument (an ArgName in the result schema) and the values a user may give it.
struct ArgSpec {
  std::string_view name;
  int64_t min;
  int64_t max;
  std::string_view meaning;
};

// Every argument name a family may use, with its allowed range.
std::span<const ArgSpec> KnownArgs();
const ArgSpec* FindArg(std::string_view name);

// How the run is shown on the terminal: Google Benchmark's table, or one progress line per
// benchmark (bench/progress.h). kAuto is progress when stdout is a terminal, the table otherwise.
enum class Display { kAuto, kProgress, kTable };

struct Options {
  Suite suite = Suite::kNotebook;
  bool suite_given = false;
  // --probe: print the machine card (bench/probe) and exit; --no_probe: run without probing.
  bool probe = false;
  bool no_probe = false;
  // --no_machine_ideal: skip the calibration behind machine_ideal_s (a few tens of ms before
  // every repetition of a parallel model's compute); its counters are then absent. For runs that
  // do not read them, e.g. scripts/ab's measuring processes.
  bool no_machine_ideal = false;
  // --list_models, --list_workloads, --list_cells, --list_planned: "models", "workloads",
  // "cells" or "planned"; print that table as JSON and exit.
  std::string list;
  Display display = Display::kAuto;
  // Where Google Benchmark's full table goes as well when progress lines are shown ("" = nowhere).
  std::string console_out;
  // --timeout_s: every benchmark run's deadline in seconds (0: none); not given: the default rule
  // of bench/watchdog.h.
  std::optional<double> timeout_s;
  // --inject_slowdown: percent more work in every compute step (workload/task_spec.h), 0 for none.
  double inject_slowdown_pct = 0;
  // Google Benchmark's --benchmark_min_time (main reads it), which sizes the deadline of runs
  // whose iterations Google Benchmark chooses.
  double min_time_s = 0.5;
  // Google Benchmark's --benchmark_repetitions (main reads it): the traced iteration follows a
  // benchmark's last repetition.
  int64_t repetitions = 1;
  // --trace=PATH: the trace file ("" = no trace); --trace_filter=REGEX: trace only the benchmarks
  // whose name it matches ("" = all).
  std::string trace;
  std::string trace_filter;
  // Argument name → values replacing the suite's values for that argument.
  std::map<std::string, std::vector<int64_t>, std::less<>> overrides;
};

// Parses "v1,v2,..." for `spec`. Returns an error message, or nothing on success.
std::optional<std::string> ParseValueList(std::string_view value, const ArgSpec& spec,
                                          std::vector<int64_t>* out);

// Consumes concbench's flags from argv (compacting it and updating *argc) and fills *out.
// Returns the first error as a one-line message, or nothing on success.
std::optional<std::string> ParseOwnFlags(int* argc, char** argv, Options* out);

// The flags this parser knows, one per line, for --help.
std::string OwnFlagsHelp();

// "suite=notebook tasks=1,4" — the options as a reader would retype them.
std::string DescribeOptions(const Options& o);

}  // namespace concbench
