#include "registry.h"

#include <gtest/gtest.h>

#include <stdexcept>

namespace concbench {
namespace {

using Overrides = std::map<std::string, std::vector<int64_t>, std::less<>>;
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

}  // namespace
}  // namespace concbench
