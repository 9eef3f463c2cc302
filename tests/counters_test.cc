#include "counters.h"

#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "bench_runner.h"
#include "family.h"
#include "registry.h"
#include "workload/cpu.h"
#include "workload/sleep.h"

namespace concbench {
namespace {

using namespace std::chrono_literals;

double Counter(const benchmark::BenchmarkReporter::Run& r, const std::string& name) {
  const auto it = r.counters.find(name);
  if (it == r.counters.end()) throw std::runtime_error("no counter " + name);
  return it->second.value;
}

TEST(CountersTest, AMeterAddsItsRegionsAndNotTheGapsBetweenThem) {
  Meter meter;
  meter.Start();
  BlockingSleep(30ms);
  meter.Stop();
  BlockingSleep(300ms);  // not measured
  meter.Start();
  BlockingSleep(30ms);
  meter.Stop();
  meter.Stop();  // a second Stop adds nothing
  EXPECT_GE(meter.wall_seconds(), 0.060);
  EXPECT_LT(meter.wall_seconds(), 0.300);
}

TEST(CountersTest, AMeterCountsCpuTimeSpentInItsRegions) {
  Meter meter;
  meter.Start();
  int64_t sink = 0;
  Stopwatch w;
  while (w.ElapsedSeconds() < 0.05) sink += cpu_intensivo(10'000);
  meter.Stop();
  EXPECT_GT(sink, 0);
  EXPECT_GT(meter.cpu_seconds(), 0.01);
  EXPECT_LE(meter.cpu_seconds(), meter.wall_seconds() * 4 + 0.01);
}

TEST(CountersTest, AMeterAddsWhatLiveWorkersReportDuringItsRegions) {
  WorkerUsage reported{.cpu_seconds = 1.0, .ctx_switches = 10};
  Meter meter([&] { return reported; });
  meter.Start();
  reported = {.cpu_seconds = 3.5, .ctx_switches = 17};
  meter.Stop();
  reported = {.cpu_seconds = 100, .ctx_switches = 1000};  // between regions: not counted
  meter.Start();
  reported = {.cpu_seconds = 101, .ctx_switches = 1001};
  meter.Stop();
  EXPECT_GE(meter.cpu_seconds(), 3.5);
  EXPECT_LT(meter.cpu_seconds(), 3.5 + 0.5);  // + this process's own few milliseconds
  EXPECT_GE(meter.context_switches(), 8);
}

TEST(CountersTest, UndocumentedCountersAreRefused) {
  EXPECT_NE(FindCounter("efficiency"), nullptr);
  EXPECT_EQ(FindCounter("ns_per_taks"), nullptr);
  RegisterFamily(Options{.suite = Suite::kSmoke},
                 {.name = "undocumented/sleep",
                  .grids = {.smoke = {Grid{}}},
                  .body = [](benchmark::State& state, const Args&) {
                    for (auto _ : state) {
                    }
                    SetCounter(state, "speed", 1);
                  },
                  .budget = Fixed(1, [](const Args&) { return 1.0; })});
  const auto runs = RunBenchmarks("^undocumented/");
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_TRUE(runs[0].error_occurred);
  EXPECT_EQ(runs[0].error_message, "undocumented counter speed");
}

// One family through the skeleton: 3 iterations of a 20 ms sleep, checksum 15, ideal 10 ms.
void RegisterSkeletonFamily(const std::string& name, int64_t returned, int64_t expected) {
  RegisterFamily(Options{.suite = Suite::kSmoke},
                 {.name = name + "/sleep",
                  .grids = {.smoke = {{{"tasks", {5}}}}},
                  .body = [returned, expected](benchmark::State& state, const Args& a) {
                    TimeIterations(state, {.checksum = expected, .ideal_s = 0.010, .items = a["tasks"]}, [&] {
                      BlockingSleep(20ms);
                      return returned;
                    });
                  },
                  .budget = Fixed(1, [](const Args&) { return 0.02 / 3; })});
}

TEST(CountersTest, TheSkeletonSetsTheModelCountersFromItsMeter) {
  RegisterSkeletonFamily("skeleton_ok", 15, 15);
  const auto runs = RunBenchmarks("^skeleton_ok/");
  ASSERT_EQ(runs.size(), 1u);
  const auto& r = runs[0];
  ASSERT_FALSE(r.error_occurred) << r.error_message;
  ASSERT_EQ(r.iterations, 3);
  const double measured = r.real_accumulated_time / 3;  // seconds per iteration, as GB timed it
  EXPECT_DOUBLE_EQ(Counter(r, "ideal_s"), 0.010);
  EXPECT_DOUBLE_EQ(Counter(r, "checksum"), 15);
  EXPECT_NEAR(Counter(r, "overhead_s"), measured - 0.010, 0.002);
  EXPECT_NEAR(Counter(r, "efficiency"), 0.010 / measured, 0.05);
  EXPECT_LT(Counter(r, "efficiency"), 0.5);  // 10 ms of ideal in ≥ 20 ms
  EXPECT_GE(Counter(r, "cpu_util"), 0);
  EXPECT_LT(Counter(r, "cpu_util"), 0.5);  // it slept
  EXPECT_GE(Counter(r, "ctx_switches"), 1);  // each sleep blocks at least once
  EXPECT_NEAR(r.counters.at("items_per_second").value, 5 / measured, 5 / measured * 0.05);
}

TEST(CountersTest, AChecksumMismatchFailsTheBenchmarkWithBothValues) {
  RegisterSkeletonFamily("skeleton_bad", 7, 15);
  const auto runs = RunBenchmarks("^skeleton_bad/");
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_TRUE(runs[0].error_occurred);
  EXPECT_EQ(runs[0].error_message, "checksum mismatch in 3 of 3 iterations: got 7, expected 15");
}

TEST(CountersTest, AnIterationThatThrowsStopsTheLoopAndFailsWithItsMessage) {
  static int calls = 0;
  RegisterFamily(Options{.suite = Suite::kSmoke},
                 {.name = "skeleton_throws/sleep",
                  .grids = {.smoke = {Grid{}}},
                  .body = [](benchmark::State& state, const Args&) {
                    TimeIterations(state, {.checksum = 1}, [] {
                      if (++calls == 2) throw std::runtime_error("worker 1 (pid 42) killed by signal 9");
                      return int64_t{1};
                    });
                  },
                  .budget = Fixed(1, [](const Args&) { return 1e-6; })});
  const auto runs = RunBenchmarks("^skeleton_throws/");
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_TRUE(runs[0].error_occurred);
  EXPECT_EQ(runs[0].error_message, "worker 1 (pid 42) killed by signal 9");
  EXPECT_EQ(calls, 2);
}

// docs/counters.md's table is the list in the code, word for word: the same names with the same
// meanings, in the same order.
TEST(CountersTest, TheDocsCounterTableListsEveryCounterOfTheCodeWordForWord) {
  std::ifstream in(CONCBENCH_COUNTERS_DOC);
  ASSERT_TRUE(in) << CONCBENCH_COUNTERS_DOC;
  std::stringstream text;
  text << in.rdbuf();
  const std::string doc = text.str();
  const size_t start = doc.find("\n## Every counter\n");
  ASSERT_NE(start, std::string::npos) << CONCBENCH_COUNTERS_DOC << " has no '## Every counter' section";
  const size_t end = doc.find("\n## ", start + 1);
  const std::string section =
      doc.substr(start, end == std::string::npos ? std::string::npos : end - start) + "\n";
  // A row: | `name` | meaning |
  std::vector<std::pair<std::string, std::string>> documented;
  const std::regex row(R"(\n\| `([a-z_]+)` +\| (.+?) *\|(?=\n))");
  for (auto it = std::sregex_iterator(section.begin(), section.end(), row); it != std::sregex_iterator(); ++it) {
    documented.emplace_back((*it)[1], (*it)[2]);
  }
  std::vector<std::string> documented_names, coded_names;
  for (const auto& [name, meaning] : documented) documented_names.push_back(name);
  for (const CounterDef& c : Counters()) coded_names.emplace_back(c.name);
  ASSERT_EQ(documented_names, coded_names) << "names or their order differ between "
                                           << CONCBENCH_COUNTERS_DOC << " and kCounters";
  for (size_t i = 0; i < documented.size(); ++i) {
    EXPECT_EQ(documented[i].second, std::string(Counters()[i].meaning))
        << "the meaning of " << documented[i].first << " differs between " << CONCBENCH_COUNTERS_DOC
        << " and kCounters (bench/counters.cc)";
  }
}

}  // namespace
}  // namespace concbench
