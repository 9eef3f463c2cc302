#include "registry.h"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "bench_runner.h"
#include "family.h"

namespace concbench {
namespace {

using Tuples = std::vector<std::vector<int64_t>>;

TEST(RegistryTest, ExpandsTheCartesianProductLastAxisFastest) {
  const Expansion e = ExpandGrids({{{"tasks", {1, 2}}, {"sleep_ms", {10, 20}}}}, {});
  EXPECT_EQ(e.arg_names, (std::vector<std::string>{"tasks", "sleep_ms"}));
  EXPECT_EQ(e.tuples, (Tuples{{1, 10}, {1, 20}, {2, 10}, {2, 20}}));
}

TEST(RegistryTest, SeveralGridsKeepExactCombinationsWithoutDuplicates) {
  const Expansion e = ExpandGrids(
      {{{"tasks", {5}}, {"sleep_ms", {500}}}, {{"tasks", {5}}, {"sleep_ms", {200, 500}}}}, {});
  EXPECT_EQ(e.tuples, (Tuples{{5, 500}, {5, 200}}));
}

TEST(RegistryTest, OverridesReplaceAnAxisEverywhere) {
  const Overrides o{{"tasks", {1, 4}}};
  const Expansion e = ExpandGrids(
      {{{"tasks", {5}}, {"sleep_ms", {500}}}, {{"tasks", {7}}, {"sleep_ms", {200}}}}, o);
  EXPECT_EQ(e.tuples, (Tuples{{1, 500}, {4, 500}, {1, 200}, {4, 200}}));
}

TEST(RegistryTest, AGridWithoutAxesGivesOneEmptyTuple) {
  const Expansion e = ExpandGrids({Grid{}}, {});
  EXPECT_EQ(e.tuples, (Tuples{{}}));
  EXPECT_TRUE(ExpandGrids({}, {}).tuples.empty());
}

TEST(RegistryTest, GridsThatDisagreeOnArgumentsAreABug) {
  EXPECT_THROW(ExpandGrids({{{"tasks", {1}}}, {{"workers", {1}}}}, {}), std::logic_error);
  EXPECT_THROW(ExpandGrids({{{"no_such_arg", {1}}}}, {}), std::logic_error);
}

TEST(RegistryTest, PicksTheGridsOfTheSuite) {
  const SuiteGrids g{.notebook = {{{"tasks", {5}}}}, .smoke = {}, .sweep = {{{"tasks", {1}}}}};
  EXPECT_EQ(GridsFor(g, Suite::kNotebook).size(), 1u);
  EXPECT_TRUE(GridsFor(g, Suite::kSmoke).empty());
}

TEST(RegistryTest, ArgsAreReadByName) {
  const Args a({"tasks", "sleep_ms"}, {5, 500});
  EXPECT_EQ(a["tasks"], 5);
  EXPECT_EQ(a["sleep_ms"], 500);
  EXPECT_DOUBLE_EQ(a.Seconds("sleep_ms"), 0.5);
  EXPECT_TRUE(a.Has("tasks"));
  EXPECT_FALSE(a.Has("workers"));
  EXPECT_EQ(a.Get("workers", 3), 3);
  EXPECT_THROW(a["workers"], std::logic_error);
  EXPECT_THROW(Args({"tasks"}, {1, 2}), std::logic_error);
}

// A body that records the arguments it read, by name.
struct Seen {
  int64_t tasks = -1, sleep_ms = -1;
};

TEST(RegistryTest, ABodyReadsTheSameValuesWhateverTheAxisOrder) {
  const Options o{.suite = Suite::kSmoke};
  Seen first, second;
  auto body = [](Seen* seen) {
    return [seen](benchmark::State& state, const Args& a) {
      seen->tasks = a["tasks"];
      seen->sleep_ms = a["sleep_ms"];
      for (auto _ : state) {
      }
    };
  };
  const Budget one = Fixed(1, [](const Args&) { return 1.0; });
  RegisterFamily(o, {.name = "order_a/sleep",
                     .grids = {.smoke = {{{"tasks", {7}}, {"sleep_ms", {3}}}}},
                     .body = body(&first),
                     .budget = one});
  RegisterFamily(o, {.name = "order_b/sleep",
                     .grids = {.smoke = {{{"sleep_ms", {3}}, {"tasks", {7}}}}},
                     .body = body(&second),
                     .budget = one});
  const auto runs = RunBenchmarks("^order_[ab]/");
  ASSERT_EQ(runs.size(), 2u);
  EXPECT_EQ(runs[0].benchmark_name(), "order_a/sleep/tasks:7/sleep_ms:3/iterations:1/real_time");
  EXPECT_EQ(runs[1].benchmark_name(), "order_b/sleep/sleep_ms:3/tasks:7/iterations:1/real_time");
  EXPECT_EQ(first.tasks, 7);
  EXPECT_EQ(first.sleep_ms, 3);
  EXPECT_EQ(second.tasks, 7);
  EXPECT_EQ(second.sleep_ms, 3);
}

TEST(RegistryTest, PlannedNamesAreTheNamesGoogleBenchmarkGives) {
  const Options o{.suite = Suite::kSmoke};
  const size_t before = PlannedBenchmarks().size();
  RegisterFamily(o, {.name = "planned/cpu",
                     .grids = {.smoke = {{{"tasks", {2, 3}}, {"n", {10}}}}},
                     .body = [](benchmark::State& state, const Args&) {
                       for (auto _ : state) {
                       }
                     },
                     .budget = Adaptive([](const Args& a) { return 0.004 * static_cast<double>(a["tasks"]); })});
  ASSERT_EQ(PlannedBenchmarks().size(), before + 2);
  const auto runs = RunBenchmarks("^planned/");
  ASSERT_EQ(runs.size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(PlannedBenchmarks()[before + i].name, runs[i].benchmark_name());
    EXPECT_EQ(PlannedBenchmarks()[before + i].iterations, runs[i].iterations);
  }
  EXPECT_EQ(runs[0].iterations, 3);  // ceil(0.02 / 0.008)
  EXPECT_EQ(runs[1].iterations, 2);  // ceil(0.02 / 0.012)
  EXPECT_DOUBLE_EQ(PlannedBenchmarks()[before + 1].estimate_s, 0.012);
}

TEST(RegistryTest, ABodyThatThrowsEndsItsBenchmarkWithTheMessage) {
  RegisterFamily(Options{.suite = Suite::kSmoke},
                 {.name = "throws/sleep",
                  .grids = {.smoke = {{{"tasks", {1}}}}},
                  .body = [](benchmark::State&, const Args&) { throw std::runtime_error("fork refused: EAGAIN"); },
                  .budget = Fixed(1, [](const Args&) { return 1.0; })});
  const auto runs = RunBenchmarks("^throws/");
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_TRUE(runs[0].error_occurred);
  EXPECT_EQ(runs[0].error_message, "fork refused: EAGAIN");
}

TEST(RegistryTest, OneBudgetPolicyClampsIterations) {
  const Args a({"tasks"}, {1});
  auto take = [](double seconds) { return Estimate([seconds](const Args&) { return seconds; }); };
  // A fixed budget: ceil(budget / estimate), between 1 and 1,000,000.
  EXPECT_EQ(PlannedIterations(Fixed(0.5, take(0.1)), a, Suite::kNotebook), 5);
  EXPECT_EQ(PlannedIterations(Fixed(0.5, take(0.3)), a, Suite::kSweep), 2);
  EXPECT_EQ(PlannedIterations(Fixed(0.5, take(10)), a, Suite::kNotebook), 1);
  EXPECT_EQ(PlannedIterations(Fixed(0.5, take(1e-12)), a, Suite::kNotebook), 1'000'000);
  EXPECT_EQ(PlannedIterations(Fixed(0.5, take(0)), a, Suite::kNotebook), 1'000'000);
  // Adaptive: Google Benchmark decides, outside the smoke suite.
  EXPECT_EQ(PlannedIterations(Adaptive(take(0.001)), a, Suite::kNotebook), 0);
  // The smoke rule is the same for both: kSmokeSeconds worth, at most kSmokeMaxIterations.
  EXPECT_EQ(PlannedIterations(Adaptive(take(0.005)), a, Suite::kSmoke), 4);
  EXPECT_EQ(PlannedIterations(Fixed(0.5, take(0.005)), a, Suite::kSmoke), 4);
  EXPECT_EQ(PlannedIterations(Fixed(0.5, take(1e-9)), a, Suite::kSmoke), kSmokeMaxIterations);
  EXPECT_EQ(PlannedIterations(Fixed(0.5, take(3)), a, Suite::kSmoke), 1);
  // A family given a longer smoke repetition (a compute family: 0.1 s) gets its iterations, and
  // a cap raised in proportion.
  const Budget longer{.seconds = 0.5, .estimate = take(0.004), .smoke_seconds = 0.1};
  EXPECT_EQ(PlannedIterations(longer, a, Suite::kSmoke), 25);
  const Budget tiny{.seconds = 0.5, .estimate = take(1e-9), .smoke_seconds = 0.1};
  EXPECT_EQ(PlannedIterations(tiny, a, Suite::kSmoke), 5 * kSmokeMaxIterations);
}

}  // namespace
}  // namespace concbench
