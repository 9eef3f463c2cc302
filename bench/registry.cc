#include "registry.h"

#include <algorithm>
#include <cmath>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>

#include "batch_family.h"
#include "cells.h"
#include "models.h"
#include "watchdog.h"

namespace concbench {
namespace {

struct Group {
  const char* name;
  GroupFn fn;
};

std::vector<Group>& Groups() {
  static std::vector<Group> groups;
  return groups;
}

std::set<std::string>& MutableUsedArgNames() {
  static std::set<std::string> names;
  return names;
}

struct Current {
  std::string name;
  bool last = false;
};
Current& MutableCurrent() {
  static Current current;
  return current;
}

std::vector<Planned>& MutablePlanned() {
  static std::vector<Planned> planned;
  return planned;
}

// Google Benchmark's own naming: family name, "arg:value" parts, then the fixed iteration count
// and the time mode.
std::string BenchmarkName(const std::string& family, const Args& args, int64_t iterations) {
  std::string name = family;
  for (size_t i = 0; i < args.names().size(); ++i) {
    name += "/" + args.names()[i] + ":" + std::to_string(args.values()[i]);
  }
  if (iterations > 0) name += "/iterations:" + std::to_string(iterations);
  return name + "/real_time";
}

// The argument names of a family, from the first grid it has in any suite (none: empty).
std::vector<std::string> AxisNames(const SuiteGrids& g) {
  for (const auto* grids : {&g.notebook, &g.smoke, &g.sweep, &g.map, &g.crossover}) {
    if (grids->empty()) continue;
    std::vector<std::string> names;
    for (const Axis& a : grids->front()) names.push_back(a.name);
    return names;
  }
  return {};
}

}  // namespace

std::vector<Grid> NotebookGrids(const std::string& family, const SuiteGrids& grids) {
  std::vector<Grid> out = grids.notebook;
  const std::vector<std::string> axes = AxisNames(grids);
  for (const Cell& c : Cells()) {
    if (c.family != family) continue;
    Grid g;
    for (const auto& [name, value] : CellArgs(c)) g.push_back({name, {value}});
    std::vector<std::string> names;
    for (const Axis& a : g) names.push_back(a.name);
    // A family registered twice under one name (threads/sleep, with and without chunksize)
    // takes the cells whose arguments are its own.
    if (axes.empty() || names == axes) out.push_back(std::move(g));
  }
  return out;
}

const std::vector<Grid>& GridsFor(const SuiteGrids& g, Suite s) {
  switch (s) {
    case Suite::kNotebook: return g.notebook;
    case Suite::kSmoke: return g.smoke;
    case Suite::kSweep: return g.sweep;
    case Suite::kMap: return g.map;
    case Suite::kCrossover: return g.crossover;
  }
  throw std::logic_error("GridsFor: unknown suite");
}

Expansion ExpandGrids(const std::vector<Grid>& grids, const Overrides& overrides) {
  Expansion e;
  for (size_t gi = 0; gi < grids.size(); ++gi) {
    const Grid& grid = grids[gi];
    std::vector<std::string> names;
    std::vector<const std::vector<int64_t>*> axes;
    for (const Axis& a : grid) {
      if (FindArg(a.name) == nullptr) throw std::logic_error("unknown argument name " + a.name);
      names.push_back(a.name);
      const auto it = overrides.find(a.name);
      axes.push_back(it != overrides.end() ? &it->second : &a.values);
    }
    if (gi == 0) {
      e.arg_names = names;
    } else if (names != e.arg_names) {
      throw std::logic_error("grids of one family must share their argument names");
    }
    // Odometer over the axes, last axis fastest. Zero axes give one empty tuple.
    std::vector<size_t> idx(axes.size(), 0);
    bool done = std::any_of(axes.begin(), axes.end(), [](auto* v) { return v->empty(); });
    while (!done) {
      std::vector<int64_t> t;
      for (size_t k = 0; k < axes.size(); ++k) t.push_back((*axes[k])[idx[k]]);
      if (std::find(e.tuples.begin(), e.tuples.end(), t) == e.tuples.end()) e.tuples.push_back(t);
      done = true;
      for (size_t k = axes.size(); k-- > 0;) {
        if (++idx[k] < axes[k]->size()) {
          done = false;
          break;
        }
        idx[k] = 0;
      }
    }
  }
  return e;
}

Args::Args(std::vector<std::string> names, std::vector<int64_t> values)
    : names_(std::move(names)), values_(std::move(values)) {
  if (names_.size() != values_.size()) throw std::logic_error("Args: names and values differ in number");
}

int64_t Args::operator[](std::string_view name) const {
  for (size_t i = 0; i < names_.size(); ++i) {
    if (names_[i] == name) return values_[i];
  }
  throw std::logic_error("a family read argument '" + std::string(name) + "', which its grid does not have");
}

int64_t Args::Get(std::string_view name, int64_t fallback) const { return Has(name) ? (*this)[name] : fallback; }

bool Args::Has(std::string_view name) const {
  return std::find(names_.begin(), names_.end(), name) != names_.end();
}

int64_t PlannedIterations(const Budget& budget, const Args& args, Suite s) {
  const bool smoke = s == Suite::kSmoke, map = s == Suite::kMap;
  if (!smoke && !map && budget.seconds <= 0) return 0;
  const double estimate = budget.estimate ? budget.estimate(args) : 0;
  const double seconds = smoke ? budget.smoke_seconds : map ? kMapSeconds : budget.seconds;
  const double most = smoke ? std::ceil(budget.smoke_seconds / kSmokeSeconds) * static_cast<double>(kSmokeMaxIterations)
                            : static_cast<double>(map ? kMapMaxIterations : 1'000'000);
  const double n = estimate > 0 ? std::ceil(seconds / estimate) : most;
  return static_cast<int64_t>(std::clamp(n, 1.0, most));
}

double PlannedSeconds(const Planned& p, int64_t repetitions, double min_time_s) {
  const double one = p.iterations > 0 ? static_cast<double>(p.iterations) * p.estimate_s
                                      : std::max(min_time_s, p.estimate_s);
  return static_cast<double>(std::max<int64_t>(repetitions, 1)) * (one + p.setup_s);
}

int RegisterFamily(const Options& o, const Family& f) {
  const Expansion e = ExpandGrids(o.suite == Suite::kNotebook ? NotebookGrids(f.name, f.grids) : GridsFor(f.grids, o.suite),
                                  o.overrides);
  for (const auto& t : e.tuples) {
    const Args args(e.arg_names, t);
    // A body that throws (a pool that cannot start, a refused thread, a failed system call) ends
    // with the exception's message instead of taking the whole run down through std::terminate.
    const int64_t iterations = PlannedIterations(f.budget, args, o.suite);
    const Planned planned{BenchmarkName(f.name, args, iterations), iterations,
                          f.budget.estimate ? f.budget.estimate(args) : 0, f.budget.setup ? f.budget.setup(args) : 0};
    const double deadline_s = RunDeadlineSeconds(PlannedSeconds(planned, 1, o.min_time_s), o.timeout_s);
    // The watchdog (bench/watchdog.h) knows which benchmark runs, since when, and its deadline.
    auto guarded = [body = f.body, args, name = planned.name, deadline_s, iterations, calls = std::make_shared<int64_t>(0),
                    repetitions = o.repetitions](benchmark::State& state) {
      MutableCurrent() = {name, ++*calls == repetitions};
      BeginRun(name, deadline_s, iterations > 0 ? iterations : static_cast<int64_t>(state.max_iterations));
      try {
        body(state, args);
      } catch (const std::exception& ex) {
        state.SkipWithError(ex.what());
      }
      EndRun();
    };
    auto* b = benchmark::RegisterBenchmark(f.name.c_str(), guarded);
    b->UseRealTime()->Unit(f.unit);
    if (!e.arg_names.empty()) {
      b->ArgNames(e.arg_names);
      b->Args(t);
    }
    if (iterations > 0) b->Iterations(iterations);
    MutablePlanned().push_back(planned);
  }
  if (!e.tuples.empty()) {
    for (const auto& n : e.arg_names) MutableUsedArgNames().insert(n);
  }
  return static_cast<int>(e.tuples.size());
}

bool AddFamilyGroup(const char* name, GroupFn fn) {
  Groups().push_back({name, fn});
  return true;
}

int RegisterAllFamilies(const Options& o) {
  // Static initialisation order across files is unspecified: run the groups in the table of
  // models' order of base models, each base's table families first (bench/batch_family.h), then
  // any other group by name, so every build registers, and runs, the same sequence.
  std::vector<std::string_view> bases;
  for (const ModelInfo& m : Models()) {
    const std::string_view base = m.name.substr(0, m.name.find('.'));
    if (std::find(bases.begin(), bases.end(), base) == bases.end()) bases.push_back(base);
  }
  auto rank = [&](std::string_view n) {
    return static_cast<size_t>(std::find(bases.begin(), bases.end(), n) - bases.begin());
  };
  auto groups = Groups();
  std::stable_sort(groups.begin(), groups.end(), [&](const Group& a, const Group& b) {
    return std::pair(rank(a.name), std::string_view(a.name)) < std::pair(rank(b.name), std::string_view(b.name));
  });
  const size_t before = MutablePlanned().size();
  for (const std::string_view base : bases) {
    RegisterBatchFamilies(o, base);
    for (const Group& g : groups) {
      if (g.name == base) g.fn(o);
    }
  }
  for (const Group& g : groups) {
    if (rank(g.name) == bases.size()) g.fn(o);
  }
  return static_cast<int>(MutablePlanned().size() - before);
}

const std::set<std::string>& UsedArgNames() { return MutableUsedArgNames(); }

const std::string& CurrentBenchmark() { return MutableCurrent().name; }
bool CurrentIsLastRepetition() { return MutableCurrent().last; }

const std::vector<Planned>& PlannedBenchmarks() { return MutablePlanned(); }

}  // namespace concbench
