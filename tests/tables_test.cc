// The tables the binary owns (bench/models.h, bench/workloads.h, bench/cells.h) agree with each
// other. That every cell is registered in the notebook suite with exactly its arguments, and that
// the tables export as JSON, is checked on the binary itself (tables_test.py).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>
#include <string>
#include <vector>

#include "cells.h"
#include "measure/ideal.h"
#include "models.h"
#include "registry.h"
#include "workloads.h"

namespace concbench {
namespace {

constexpr Suite kSuites[] = {Suite::kNotebook, Suite::kSmoke, Suite::kSweep, Suite::kMap, Suite::kCrossover};

TEST(TablesTest, EveryModelWithARunnerHasAShapeAndAWayToMakeIt) {
  std::set<std::string_view> names;
  // Arguments every shape may read.
  const Args args({"tasks", "workers", "chunksize"}, {4, 2, 1});
  for (const ModelInfo& m : Models()) {
    EXPECT_TRUE(names.insert(m.name).second) << m.name << " twice";
    EXPECT_EQ(FindModel(m.name), &m);
    EXPECT_FALSE(m.summary.empty()) << m.name;
    if (!m.python.empty()) {
      EXPECT_EQ(m.python.substr(0, 7), "python.") << m.name;
    }
    if (m.steps == 0) {
      // A model of its own families only.
      EXPECT_EQ(m.make_runner, nullptr) << m.name;
      continue;
    }
    ASSERT_NE(m.shape, nullptr) << m.name;
    ASSERT_NE(m.make_runner, nullptr) << m.name;
    EXPECT_NE(m.overhead_s, nullptr) << m.name;
    const BatchShape shape = m.shape(args);
    // A shape the ideal accepts.
    EXPECT_NO_THROW(BatchIdealSeconds(std::vector<double>{0.001}, 0.01, 0.01, shape,
                                      std::numeric_limits<double>::infinity()))
        << m.name;
  }
  EXPECT_EQ(FindModel("no.such.model"), nullptr);
  EXPECT_EQ(ModelOfName("threads.gil/cpu/tasks:4/real_time"), "threads.gil");
  EXPECT_EQ(ModelOfName("sync"), "sync");
}

TEST(TablesTest, EveryWorkloadRunsOnModelsOfTheTableThatRunItsSteps) {
  for (const WorkloadInfo& w : Workloads()) {
    EXPECT_EQ(FindWorkload(w.name), &w);
    EXPECT_NE(w.steps, 0u) << w.name;
    for (const ModelGrids& mg : w.models) {
      const ModelInfo* m = FindModel(mg.model);
      ASSERT_NE(m, nullptr) << w.name << " names " << mg.model << ", which the table of models does not have";
      EXPECT_EQ(m->steps & w.steps, w.steps) << mg.model << "/" << w.name;
    }
  }
  EXPECT_EQ(FindWorkload("no_such_workload"), nullptr);
}

TEST(TablesTest, AWorkloadsSpecUsesExactlyTheStepsItDeclaresAndReadsItsOwnArguments) {
  for (const WorkloadInfo& w : Workloads()) {
    for (const ModelGrids& mg : w.models) {
      for (const Suite s : kSuites) {
        const Expansion e = ExpandGrids(s == Suite::kNotebook ? NotebookGrids(std::string(mg.model) + "/" +
                                                                                   std::string(w.name),
                                                                               mg.grids)
                                                              : GridsFor(mg.grids, s),
                                        {});
        const std::string where = std::string(mg.model) + "/" + std::string(w.name) + " in " +
                                  std::string(SuiteName(s));
        for (const std::string_view a : w.args) {
          if (!e.tuples.empty()) {
            EXPECT_NE(std::find(e.arg_names.begin(), e.arg_names.end(), a), e.arg_names.end()) << where << ": " << a;
          }
          EXPECT_TRUE(OwnsArg(w, a)) << where;
        }
        for (const auto& t : e.tuples) {
          const Args args(e.arg_names, t);
          const TaskSpec spec = w.spec(args);
          EXPECT_EQ(ValidateSpec(spec), std::nullopt) << where;
          EXPECT_EQ(StepKindsOf(spec), w.steps) << where;
          EXPECT_EQ(static_cast<int64_t>(w.inputs(args).size()), args["tasks"]) << where;
        }
      }
    }
  }
}

TEST(TablesTest, EveryCellNamesATableModelAndAnExistingBaseline) {
  std::set<std::string_view> ids;
  for (const Cell& c : Cells()) {
    EXPECT_TRUE(ids.insert(c.id).second) << c.id << " twice";
  }
  for (const Cell& c : Cells()) {
    EXPECT_NE(FindModel(ModelOfName(c.family)), nullptr) << c.id << ": " << c.family;
    EXPECT_TRUE(c.role == "cell" || c.role == "baseline") << c.id;
    EXPECT_EQ(CellBenchmark(c).rfind(std::string(c.family) + "/", 0), 0u) << c.id;
    if (!c.baseline.empty()) {
      const auto it = std::find_if(Cells().begin(), Cells().end(), [&](const Cell& b) { return b.id == c.baseline; });
      ASSERT_NE(it, Cells().end()) << c.id << " compares with " << c.baseline;
      EXPECT_EQ(it->role, "baseline") << c.id;
    }
    if (c.role == "baseline") {
      EXPECT_LT(c.printed_s, 0) << c.id;
    }
  }
  // The executor's default worker count is the usable cores; every other value is the cell's own.
  for (const Cell& c : Cells()) {
    const auto args = CellArgs(c);
    ASSERT_EQ(args.size(), c.args.size()) << c.id;
    for (size_t i = 0; i < args.size(); ++i) {
      EXPECT_EQ(args[i].first, c.args[i].first) << c.id;
      EXPECT_EQ(args[i].second, c.args[i].second == kDefaultWorkers ? UsableCores() : c.args[i].second) << c.id;
      EXPECT_GE(args[i].second, 0) << c.id << " " << args[i].first;
    }
  }
}

}  // namespace
}  // namespace concbench
