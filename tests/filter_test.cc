#include "filter.h"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <vector>

namespace concbench {
namespace {

const std::vector<Planned> kAll = {{"sync/sleep/tasks:5/iterations:1/real_time", 1, 0},
                                   {"threads/sleep/tasks:5/real_time", 0, 0},
                                   {"async/sleep/tasks:5/real_time", 0, 0}};

TEST(FilterTest, SelectsWhatGoogleBenchmarksFilterSelects) {
  EXPECT_EQ(SelectPlanned(kAll, "").size(), 3u);
  EXPECT_EQ(SelectPlanned(kAll, "all").size(), 3u);
  EXPECT_EQ(SelectPlanned(kAll, "^(sync|async)/").size(), 2u);
  EXPECT_EQ(SelectPlanned(kAll, "iterations:1").size(), 1u);  // the full name is searched
  EXPECT_EQ(SelectPlanned(kAll, "-^sync/").size(), 2u);
  EXPECT_EQ(SelectPlanned(kAll, "-").size(), 0u);  // the empty regex matches every name
  EXPECT_EQ(SelectPlanned(kAll, "^nothing$").size(), 0u);
}

TEST(FilterTest, AnInvalidRegexIsNamedWithItsReason) {
  EXPECT_EQ(FilterError("("), "--benchmark_filter: '(' is not a valid regular expression (Mismatched '(' and ')' "
                              "in regular expression)");
  EXPECT_EQ(FilterError("-[a"), "--benchmark_filter: '-[a' is not a valid regular expression (Unexpected character "
                                "within '[...]' in regular expression)");
  EXPECT_EQ(FilterError("^sync/"), std::nullopt);
  EXPECT_THROW(SelectPlanned(kAll, "(unclosed"), std::invalid_argument);
}

TEST(FilterTest, RefusesWhatGoogleBenchmarksStdRegexRefusesThoughPosixRegcompTakesIt) {
  // Debian's libbenchmark 1.7.1 compiles the filter with std::regex (extended): "\d" and "a{,3}"
  // select nothing there ("Could not compile benchmark re"), so they are errors here too.
  EXPECT_NE(FilterError("tasks:\\d"), std::nullopt);
  EXPECT_NE(FilterError("a{,3}"), std::nullopt);
  EXPECT_EQ(FilterError("tasks:[0-9]+"), std::nullopt);
}

}  // namespace
}  // namespace concbench
