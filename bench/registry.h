// How benchmark families declare their argument grids and get registered for the chosen suite.
//
// A family is one benchmark function with a name "<model>/<workload>" and, per suite, a list of
// grids; a grid is an ordered list of axes (argument name + values) whose cartesian product gives
// the argument tuples. Several grids let a suite hold the notebook's exact combinations
// (5 × 500 ms and 5 × 200 ms) without their cross product. Grid overrides from the command line
// replace an axis's values wherever that axis appears. Registration names each benchmark
// "<model>/<workload>/<arg>:<value>/.../real_time" and always measures wall-clock time.
//
// Each bench/<group>_bench.cc registers its families from one function, added at static
// initialisation with CONCBENCH_REGISTER_GROUP-free plain code:
//
//   static void RegisterSync(const Options& o) {
//     RegisterFamily(o, "sync/sleep", {.notebook = {{{"tasks", {5}}, {"sleep_ms", {500}}}}},
//                    SyncSleep, [](auto* b, auto args) { BoundIterations(b, ...); });
//   }
//   static const bool kRegistered = AddFamilyGroup("sync", RegisterSync);
#pragma once

#include <benchmark/benchmark.h>

#include <cstdint>
#include <functional>
#include <set>
#include <span>
#include <string>
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
};

const std::vector<Grid>& GridsFor(const SuiteGrids& g, Suite s);

struct Expansion {
  std::vector<std::string> arg_names;
  std::vector<std::vector<int64_t>> tuples;  // in grid order, duplicates removed
};

// Expands grids with the overrides applied. Every grid must have the same axis names in the same
// order (std::logic_error otherwise: that is a bug in a family, not a user error).
Expansion ExpandGrids(const std::vector<Grid>& grids,
                      const std::map<std::string, std::vector<int64_t>, std::less<>>& overrides);

using BenchFn = std::function<void(benchmark::State&)>;
// Per-tuple configuration (iterations, unit, ...), called after the defaults are applied.
using Configure = std::function<void(benchmark::internal::Benchmark*, std::span<const int64_t>)>;

// Registers one benchmark per argument tuple of `name` in the chosen suite, with UseRealTime,
// millisecond unit and the ArgNames. An exception escaping `fn` ends that benchmark with
// SkipWithError naming it (a family must still not leave joinable threads or children behind).
// Returns how many were registered.
int RegisterFamily(const Options& o, const std::string& name, const SuiteGrids& grids, BenchFn fn,
                   const Configure& configure = {});

// Caps a family's run time: enough iterations for about `budget_s` of wall time given that one
// iteration should take `expected_s`, at least 1 and at most 1,000,000. Used by sleep-bound
// families whose duration is known before running.
void BoundIterations(benchmark::internal::Benchmark* b, double expected_s, double budget_s = 0.5);

using GroupFn = void (*)(const Options&);

// Adds a group of families; called from a static initialiser in each bench/*_bench.cc.
bool AddFamilyGroup(const char* name, GroupFn fn);

// Registers every group's families for `o`. Returns the number of benchmarks registered.
int RegisterAllFamilies(const Options& o);

// Argument names that appeared in at least one registered family (to warn about overrides that
// matched nothing).
const std::set<std::string>& UsedArgNames();

}  // namespace concbench
