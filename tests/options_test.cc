#include "options.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace concbench {
namespace {

// Runs ParseOwnFlags over a command line; returns the error (empty if none) and what is left.
struct Parsed {
  std::string error;
  Options options;
  std::vector<std::string> rest;
};

Parsed Parse(std::vector<std::string> args) {
  args.insert(args.begin(), "concbench");
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  int argc = static_cast<int>(args.size());
  Parsed p;
  if (auto err = ParseOwnFlags(&argc, argv.data(), &p.options)) p.error = *err;
  for (int i = 1; i < argc; ++i) p.rest.emplace_back(argv[i]);
  return p;
}

TEST(OptionsTest, DefaultsToTheNotebookSuite) {
  const Parsed p = Parse({});
  EXPECT_EQ(p.error, "");
  EXPECT_EQ(p.options.suite, Suite::kNotebook);
  EXPECT_TRUE(p.options.overrides.empty());
}

TEST(OptionsTest, ParsesSuiteAndOverridesAndLeavesOtherFlags) {
  const Parsed p = Parse({"--suite=smoke", "--benchmark_filter=sync/", "--tasks=1,4,16", "--v=1"});
  EXPECT_EQ(p.error, "");
  EXPECT_EQ(p.options.suite, Suite::kSmoke);
  EXPECT_EQ(p.options.overrides.at("tasks"), (std::vector<int64_t>{1, 4, 16}));
  EXPECT_EQ(p.rest, (std::vector<std::string>{"--benchmark_filter=sync/", "--v=1"}));
}

TEST(OptionsTest, ListPlanTakesNoValue) {
  EXPECT_EQ(Parse({"--list_planned"}).options.list, "planned");
  EXPECT_EQ(Parse({}).options.list, "");
  EXPECT_EQ(Parse({"--list_planned=yes"}).error, "--list_planned takes no value");
}

TEST(OptionsTest, NoMachineIdealTakesNoValueAndIsInTheContext) {
  const Parsed p = Parse({"--no_machine_ideal"});
  EXPECT_EQ(p.error, "");
  EXPECT_TRUE(p.options.no_machine_ideal);
  EXPECT_FALSE(Parse({}).options.no_machine_ideal);
  EXPECT_EQ(DescribeOptions(p.options), "suite=notebook no_machine_ideal");
  EXPECT_EQ(Parse({"--no_machine_ideal=1"}).error, "--no_machine_ideal takes no value");
}

TEST(OptionsTest, UnknownFlagsAreLeftForGoogleBenchmark) {
  const Parsed p = Parse({"--bogus=1"});
  EXPECT_EQ(p.error, "");
  EXPECT_EQ(p.rest, (std::vector<std::string>{"--bogus=1"}));
}

TEST(OptionsTest, BadSuiteNamesTheFlagTheValueAndTheChoices) {
  const Parsed p = Parse({"--suite=fast"});
  EXPECT_NE(p.error.find("--suite"), std::string::npos);
  EXPECT_NE(p.error.find("'fast'"), std::string::npos);
  EXPECT_NE(p.error.find("notebook, smoke, sweep"), std::string::npos);
  EXPECT_NE(Parse({"--suite"}).error, "");
  EXPECT_NE(Parse({"--suite="}).error, "");
}

TEST(OptionsTest, RejectsEveryKindOfBadValue) {
  for (const char* bad : {"--tasks=", "--tasks=0", "--tasks=-1", "--tasks=abc", "--tasks=1,,2",
                          "--tasks=1,", "--tasks=2,2", "--tasks=99999999999999999999",
                          "--tasks=1000001", "--tasks=1.5", "--tasks= 1", "--workers=0",
                          "--chunksize=0", "--sleep_ms=-1", "--sleep_ms=60001", "--tasks"}) {
    const Parsed p = Parse({bad});
    EXPECT_NE(p.error, "") << bad;
    EXPECT_EQ(p.error.rfind("--", 0), 0u) << p.error;
  }
}

TEST(OptionsTest, ChecksGoogleBenchmarksOwnFlagValues) {
  for (const char* bad : {"--benchmark_format=xml", "--benchmark_out_format=", "--benchmark_time_unit=h",
                          "--benchmark_repetitions=0", "--benchmark_repetitions=-3",
                          "--benchmark_repetitions=abc", "--benchmark_min_time=0",
                          "--benchmark_min_time=-1", "--benchmark_min_time=nan",
                          "--benchmark_min_warmup_time=-1", "--benchmark_list_tests=maybe",
                          "--benchmark_out="}) {
    const Parsed p = Parse({bad});
    EXPECT_NE(p.error, "") << bad;
    EXPECT_NE(p.error.find("invalid value"), std::string::npos) << p.error;
  }
  const Parsed ok = Parse({"--benchmark_format=json", "--benchmark_repetitions=3",
                           "--benchmark_min_time=0.01", "--benchmark_list_tests", "--benchmark_list_tests=true"});
  EXPECT_EQ(ok.error, "");
  EXPECT_EQ(ok.rest.size(), 5u);
}

TEST(OptionsTest, ErrorSaysWhatIsAllowed) {
  const Parsed p = Parse({"--workers=abc"});
  EXPECT_EQ(p.error,
            "--workers: 'abc' is not an integer; expected a comma-separated list of integers in "
            "[1, 4096] (worker threads or processes)");
}

TEST(OptionsTest, ZeroIsAllowedWhereItMeansSomething) {
  const Parsed p = Parse({"--sleep_ms=0,1", "--payload=0"});
  EXPECT_EQ(p.error, "");
  EXPECT_EQ(p.options.overrides.at("sleep_ms"), (std::vector<int64_t>{0, 1}));
}

TEST(OptionsTest, DescribesItselfForTheContext) {
  const Parsed p = Parse({"--suite=sweep", "--tasks=1,2"});
  EXPECT_EQ(DescribeOptions(p.options), "suite=sweep tasks=1,2");
}

TEST(OptionsTest, HelpListsEveryArgument) {
  const std::string help = OwnFlagsHelp();
  for (const ArgSpec& a : KnownArgs()) {
    EXPECT_NE(help.find("--" + std::string(a.name) + "="), std::string::npos) << a.name;
  }
}

}  // namespace
}  // namespace concbench
