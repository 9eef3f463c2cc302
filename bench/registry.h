// How benchmark families declare their argument grids, read their arguments and bound their run
// time, and how they are registered for the chosen suite.
//
// A family is one body with a name "<model>/<workload>" and, per suite, a list of grids; a grid
// is an ordered list of axes (argument name + values) whose cartesian product gives the argument
// tuples. Several grids let a suite hold the notebook's exact combinations (5 × 500 ms and
// 5 × 200 ms) without their cross product. Grid overrides from the command line replace an axis's
// values wherever that axis appears. Each tuple becomes one benchmark named
// "<model>/<workload>/<arg>:<value>/.../real_time", measured in wall-clock time.
//
// Bodies and budgets read their arguments by name (`args["tasks"]`), never by position, so the
// order of a grid's axes decides only the order of the name's parts.
//
// Each bench/<group>_bench.cc registers its families from one function, added at static
// initialisation:
//
//   void RegisterSync(const Options& o) {
//     RegisterFamily(o, {.name = "sync/sleep", .grids = {.notebook = {{{"tasks", {5}}, {"sleep_ms", {500}}}}},
//                        .body = SyncSleep, .budget = Fixed(0.5, SleepEstimate)});
//   }
//   const bool kRegistered = AddFamilyGroup("sync", RegisterSync);
#pragma once

#include <benchmark/benchmark.h>

#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "options.h"

namespace concbench {

struct Axis {
  std::string name;  // must be one of KnownArgs()
  std::vector<int64_t> values;
};
using Grid = std::vector<Axis>;

// The grids of one family in each suite; a family absent from a suite leaves it empty.
struct SuiteGrids {
  std::vector<Grid> notebook;
  std::vector<Grid> smoke;
  std::vector<Grid> sweep;
  std::vector<Grid> map;
  std::vector<Grid> crossover;
};

const std::vector<Grid>& GridsFor(const SuiteGrids& g, Suite s);

// A family's grids in the notebook suite: its own notebook grids, then one grid per notebook cell
// (bench/cells.h) that names this family and has its arguments.
std::vector<Grid> NotebookGrids(const std::string& family, const SuiteGrids& grids);

using Overrides = std::map<std::string, std::vector<int64_t>, std::less<>>;

struct Expansion {
  std::vector<std::string> arg_names;
  std::vector<std::vector<int64_t>> tuples;  // in grid order, duplicates removed
};

// Expands grids with the overrides applied. Every grid must have the same axis names in the same
// order (std::logic_error otherwise: that is a bug in a family, not a user error).
Expansion ExpandGrids(const std::vector<Grid>& grids, const Overrides& overrides);

// The arguments of one benchmark, by name.
class Args {
 public:
  Args() = default;
  Args(std::vector<std::string> names, std::vector<int64_t> values);

  // The value of argument `name`; std::logic_error when the benchmark has no such argument (a
  // family reading an argument its grids do not have is a bug).
  int64_t operator[](std::string_view name) const;
  // The value of `name`, or `fallback` when the benchmark has no such argument.
  int64_t Get(std::string_view name, int64_t fallback) const;
  bool Has(std::string_view name) const;
  // `name`'s value in seconds, for arguments in milliseconds (sleep_ms, delay_ms).
  double Seconds(std::string_view name_ms) const { return static_cast<double>((*this)[name_ms]) / 1e3; }

  const std::vector<std::string>& names() const { return names_; }
  const std::vector<int64_t>& values() const { return values_; }

 private:
  std::vector<std::string> names_;
  std::vector<int64_t> values_;
};

// Seconds one iteration should take for given arguments: a rough estimate that sizes the run
// (and, from it, the benchmark's deadline and the progress estimate); it never enters a counter.
using Estimate = std::function<double(const Args&)>;

// How long each benchmark of a family runs. One policy for every family:
//   - fixed budget (seconds > 0): ceil(seconds / estimate) iterations, at least 1 and at most
//     1,000,000, fixed in advance (the count shows as /iterations:N/ in the name). For families
//     whose iterations are long or whose duration is known (sleeps, I/O, forks).
//   - adaptive (seconds == 0): Google Benchmark sizes the run itself (--benchmark_min_time),
//     for families quick and steady enough.
//   - the smoke suite: every family runs ceil(smoke_seconds / estimate) iterations, at least 1
//     and at most kSmokeMaxIterations per kSmokeSeconds, fixed; the map suite likewise with
//     kMapSeconds and kMapMaxIterations.
inline constexpr double kSmokeSeconds = 0.02;
inline constexpr int64_t kSmokeMaxIterations = 10;

struct Budget {
  double seconds = 0;
  Estimate estimate;
  // Seconds each repetition spends outside its timed iterations (a warm-up batch, a calibration),
  // or none: they count in the plan, the deadline and the time left.
  Estimate setup;
  // A smoke repetition's seconds; a family given more gets proportionally more iterations (at
  // most kSmokeMaxIterations per kSmokeSeconds).
  double smoke_seconds = kSmokeSeconds;
};
// The map suite (scripts/map) runs hundreds of benchmarks and gets its samples from repetitions:
// each repetition lasts about kMapSeconds (at least one batch, at most kMapMaxIterations).
inline constexpr double kMapSeconds = 0.05;
inline constexpr int64_t kMapMaxIterations = 100;

// A fixed budget of `seconds` per benchmark.
inline Budget Fixed(double seconds, Estimate estimate) { return {seconds, std::move(estimate)}; }
// Google Benchmark sizes the run; `estimate` still sizes the smoke run and the deadline.
inline Budget Adaptive(Estimate estimate) { return {0, std::move(estimate)}; }

// The iteration count a budget gives a benchmark with these arguments in suite `s`; 0 means
// Google Benchmark chooses.
int64_t PlannedIterations(const Budget& budget, const Args& args, Suite s);

using Body = std::function<void(benchmark::State&, const Args&)>;

struct Family {
  std::string name;  // "<model>[.<variant>]/<workload>"
  SuiteGrids grids;
  Body body;
  Budget budget;
  benchmark::TimeUnit unit = benchmark::kMillisecond;
};

// What the registry knows about one registered benchmark before it runs.
struct Planned {
  std::string name;         // Google Benchmark's name: ".../iterations:N/real_time"
  int64_t iterations = 0;   // 0: chosen by Google Benchmark
  double estimate_s = 0;    // one iteration, from the family's estimate
  double setup_s = 0;       // one repetition's time outside its iterations (Budget::setup)
};

// Planned seconds of one benchmark: its repetitions of `setup_s` plus `iterations` ×
// `estimate_s`, or, when Google Benchmark sizes the run, about `min_time_s` per repetition.
double PlannedSeconds(const Planned& p, int64_t repetitions, double min_time_s);

// Registers one benchmark per argument tuple of `f` in the chosen suite, with UseRealTime, the
// family's unit, its ArgNames and its budget. Each run of its body is a watched run (bench/watchdog.h)
// with the deadline RunDeadlineSeconds gives its planned time. An exception escaping the body ends that benchmark
// with SkipWithError naming it (a body must still not leave joinable threads or children behind).
// Returns how many were registered.
int RegisterFamily(const Options& o, const Family& f);

using GroupFn = void (*)(const Options&);

// Adds a group of families; called from a static initialiser in each bench/*_bench.cc.
bool AddFamilyGroup(const char* name, GroupFn fn);

// Registers every group's families for `o`, in the notebook's model order. Returns the number of
// benchmarks registered.
int RegisterAllFamilies(const Options& o);

// The benchmark whose body runs now (its Google Benchmark name), and whether this call of its body
// is its last planned repetition (Options::repetitions): the one a traced iteration follows. Only
// for families whose iteration count is fixed (Google Benchmark then calls a body once per
// repetition). Called from a body, on the thread running it.
const std::string& CurrentBenchmark();
bool CurrentIsLastRepetition();

// Argument names that appeared in at least one registered family (to warn about overrides that
// matched nothing).
const std::set<std::string>& UsedArgNames();

// Every benchmark registered so far, in registration order.
const std::vector<Planned>& PlannedBenchmarks();

}  // namespace concbench
