#include "registry.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>
#include <utility>

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

int& RegisteredCount() {
  static int count = 0;
  return count;
}

}  // namespace

const std::vector<Grid>& GridsFor(const SuiteGrids& g, Suite s) {
  switch (s) {
    case Suite::kNotebook: return g.notebook;
    case Suite::kSmoke: return g.smoke;
    case Suite::kSweep: return g.sweep;
  }
  throw std::logic_error("GridsFor: unknown suite");
}

Expansion ExpandGrids(const std::vector<Grid>& grids,
                      const std::map<std::string, std::vector<int64_t>, std::less<>>& overrides) {
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

int RegisterFamily(const Options& o, const std::string& name, const SuiteGrids& grids, BenchFn fn,
                   const Configure& configure) {
  const Expansion e = ExpandGrids(GridsFor(grids, o.suite), o.overrides);
  // A family that throws (a refused thread, a failed system call it did not expect) ends with an
  // error naming the cause instead of taking the whole run down through std::terminate.
  BenchFn guarded = [fn](benchmark::State& state) {
    try {
      fn(state);
    } catch (const std::exception& ex) {
      state.SkipWithError((std::string("unexpected exception: ") + ex.what()).c_str());
    }
  };
  for (const auto& t : e.tuples) {
    auto* b = benchmark::RegisterBenchmark(name.c_str(), guarded);
    b->UseRealTime()->Unit(benchmark::kMillisecond);
    if (!e.arg_names.empty()) {
      b->ArgNames(e.arg_names);
      b->Args(t);
    }
    if (configure) configure(b, t);
  }
  if (!e.tuples.empty()) {
    for (const auto& n : e.arg_names) MutableUsedArgNames().insert(n);
  }
  RegisteredCount() += static_cast<int>(e.tuples.size());
  return static_cast<int>(e.tuples.size());
}

void BoundIterations(benchmark::internal::Benchmark* b, double expected_s, double budget_s) {
  double n = expected_s > 0 ? std::ceil(budget_s / expected_s) : 1e6;
  n = std::clamp(n, 1.0, 1e6);
  b->Iterations(static_cast<benchmark::IterationCount>(n));
}

bool AddFamilyGroup(const char* name, GroupFn fn) {
  Groups().push_back({name, fn});
  return true;
}

int RegisterAllFamilies(const Options& o) {
  // Static initialisation order across files is unspecified: run the groups in the notebook's
  // order (then any other group by name) so every build registers, and runs, the same sequence.
  static constexpr std::string_view kOrder[] = {"sync", "threads", "async", "processes", "echo",
                                                "memory"};
  auto rank = [](std::string_view n) {
    return static_cast<size_t>(std::find(std::begin(kOrder), std::end(kOrder), n) - std::begin(kOrder));
  };
  auto groups = Groups();
  std::stable_sort(groups.begin(), groups.end(), [&](const Group& a, const Group& b) {
    return std::pair(rank(a.name), std::string_view(a.name)) <
           std::pair(rank(b.name), std::string_view(b.name));
  });
  RegisteredCount() = 0;
  for (const Group& g : groups) g.fn(o);
  return RegisteredCount();
}

const std::set<std::string>& UsedArgNames() { return MutableUsedArgNames(); }

}  // namespace concbench
