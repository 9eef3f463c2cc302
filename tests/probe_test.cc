#include "measure/probe.h"

#include <gtest/gtest.h>

#include <sched.h>
#include <sys/wait.h>

#include <atomic>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <map>
#include <set>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "measure/ideal.h"
#include "measure/timer.h"
#include "workload/cpu.h"

namespace concbench {
namespace {

// Pins the calling thread to the CPU it is running on (threads it creates inherit the mask, as
// under `taskset -c`) and restores its mask when the scope ends.
class PinnedToOneCpu {
 public:
  PinnedToOneCpu() {
    EXPECT_EQ(sched_getaffinity(0, sizeof saved_, &saved_), 0);
    cpu_set_t here;
    CPU_ZERO(&here);
    CPU_SET(sched_getcpu(), &here);
    EXPECT_EQ(sched_setaffinity(0, sizeof here, &here), 0);
  }
  ~PinnedToOneCpu() { EXPECT_EQ(sched_setaffinity(0, sizeof saved_, &saved_), 0); }

 private:
  cpu_set_t saved_{};
};

int ThreadsOfThisProcess() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("Threads:", 0) == 0) return std::stoi(line.substr(8));
  }
  return -1;
}

// Threads of this process once a thread has been created and joined: TSan starts a background
// thread of its own the first time a thread is created, and it must not count as a leak.
int ThreadsBefore() {
  std::thread([] {}).join();
  return ThreadsOfThisProcess();
}

// The whole probe, run once per test process (ctest runs each test in a process of its own).
const MachineProbe& Probed() {
  static const MachineProbe probe = ProbeMachine();
  return probe;
}

bool ParsesAsNumber(const std::string& s) {
  if (s.empty()) return false;
  char* end = nullptr;
  const double v = std::strtod(s.c_str(), &end);
  return *end == '\0' && std::isfinite(v);
}

// Columns of a UTF-8 line: code points (every character of the card is one column wide).
size_t Columns(const std::string& line) {
  size_t n = 0;
  for (unsigned char c : line) n += (c & 0xC0) != 0x80;
  return n;
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  return lines;
}

// A healthy two-core probe, for the card tests to spoil one field at a time.
MachineProbe HealthyTwoCores() {
  return {.usable_cores = 2, .online_cpus = 2, .parallel_capacity = 1.96, .noise_cv = 0.012,
          .wakeup_us = 40, .sleep_overshoot_us = 60, .fork_us = 300, .load = 0.3, .smt = "no",
          .governor = "performance", .turbo = "off", .virtualized = "no", .seconds = 1.6};
}

TEST(ProbeTest, ParseCpuListReadsRangesAndSingleCpus) {
  EXPECT_EQ(ParseCpuList("0-3,8,10-11\n"), (std::vector<int>{0, 1, 2, 3, 8, 10, 11}));
  EXPECT_EQ(ParseCpuList("0"), (std::vector<int>{0}));
  EXPECT_EQ(ParseCpuList("1,5"), (std::vector<int>{1, 5}));
}

TEST(ProbeTest, ParseCpuListGivesNothingForMalformedText) {
  for (const char* bad : {"", "a", "1,", ",1", "3-1", "1--2", "-1", "1-", "1 2"}) {
    EXPECT_TRUE(ParseCpuList(bad).empty()) << "'" << bad << "'";
  }
}

TEST(ProbeTest, ParallelCapacityIsWithinTheUsableCores) {
  const double c = ParallelCapacity();
  EXPECT_GT(c, 0.0);
  EXPECT_LE(c, UsableCores() + 0.3);
}

TEST(ProbeTest, OnOneCpuTheCapacityIsOneAndOneCoreIsUsable) {
  const PinnedToOneCpu pin;
  const MachineProbe p = ProbeEnd();
  EXPECT_EQ(p.usable_cores, 1);
  EXPECT_EQ(p.parallel_capacity, 1.0);
  EXPECT_EQ(ParallelCapacity(), 1.0);
  // Two threads asked to share one CPU between them get about one core, not two: the team's
  // threads inherit the mask. (Expected ≈ 1.0; the bound leaves room for a noisy machine.)
  std::vector<int64_t> batch(8, 200'000);
  const double c = CapacityFor(batch, cpu_intensivo, 2);
  EXPECT_GT(c, 0.0);
  EXPECT_LT(c, 1.5);
}

TEST(ProbeTest, MachineIdealOfCapacityOneIsTheSerialTotal) {
  const std::vector<double> t = {0.1, 0.2, 0.3, 0.4};
  EXPECT_DOUBLE_EQ(MachineIdealSeconds(t, 2, 1, 1.0), 1.0);
  EXPECT_DOUBLE_EQ(MachineIdealSeconds(t, 4, 2, 1.0), 1.0);
  EXPECT_DOUBLE_EQ(MachineIdealSeconds({}, 2, 1, 1.0), 0.0);
}

TEST(ProbeTest, MachineIdealOfFullCapacityIsTheMakespan) {
  if (UsableCores() < 2) GTEST_SKIP() << "needs two usable CPUs";
  const std::vector<double> even = {1, 1, 1, 1};
  const std::vector<double> uneven = {3, 1, 1, 1};
  EXPECT_DOUBLE_EQ(MachineIdealSeconds(even, 2, 1, 2.0), 2.0);
  EXPECT_DOUBLE_EQ(MachineIdealSeconds(even, 2, 1, 7.5), 2.0);
  EXPECT_DOUBLE_EQ(MachineIdealSeconds(uneven, 2, 1, 2.0), 3.0);  // Makespan, not 6 / 2
  EXPECT_DOUBLE_EQ(MachineIdealSeconds(even, 2, 4, 2.0), 4.0);    // one chunk of 4
}

TEST(ProbeTest, MachineIdealOfFractionalCapacityIsTheLargerBound) {
  if (UsableCores() < 2) GTEST_SKIP() << "needs two usable CPUs";
  const std::vector<double> even = {1, 1, 1, 1};
  const std::vector<double> uneven = {3, 1, 1, 1};
  EXPECT_DOUBLE_EQ(MachineIdealSeconds(even, 2, 1, 1.6), 2.5);    // 4 / 1.6 > Makespan 2
  EXPECT_DOUBLE_EQ(MachineIdealSeconds(uneven, 2, 1, 1.5), 4.0);  // 6 / 1.5 > Makespan 3
  EXPECT_DOUBLE_EQ(MachineIdealSeconds(uneven, 2, 1, 1.8), 6.0 / 1.8);
  EXPECT_DOUBLE_EQ(MachineIdealSeconds(uneven, 2, 1, 1.9), 6.0 / 1.9);
}

TEST(ProbeTest, MachineIdealOnOneCpuIsTheSerialTotalWhateverTheCapacity) {
  const PinnedToOneCpu pin;
  EXPECT_DOUBLE_EQ(MachineIdealSeconds({1, 1, 1, 1}, 2, 1, 2.0), 4.0);
}

TEST(ProbeTest, MachineIdealRejectsInvalidArguments) {
  const std::vector<double> t = {1};
  EXPECT_THROW(MachineIdealSeconds(t, 1, 1, 0.0), std::invalid_argument);
  EXPECT_THROW(MachineIdealSeconds(t, 1, 1, -1.0), std::invalid_argument);
  EXPECT_THROW(MachineIdealSeconds(t, 1, 1, std::nan("")), std::invalid_argument);
  EXPECT_THROW(MachineIdealSeconds(t, 0, 1, 1.0), std::invalid_argument);
  EXPECT_THROW(MachineIdealSeconds(t, 1, 0, 1.0), std::invalid_argument);
}

TEST(ProbeTest, ContextHasEveryMachineKeyAndNumbersParse) {
  const auto entries = ContextEntries(Probed());
  std::map<std::string, std::string> ctx(entries.begin(), entries.end());
  EXPECT_EQ(ctx.size(), entries.size()) << "a key appears twice";
  for (const char* key : {"machine_parallel_capacity", "machine_wakeup_us",
                          "machine_sleep_overshoot_us", "machine_fork_us", "machine_noise_cv",
                          "machine_core_ns_per_step",
                          "machine_load", "machine_usable_cores"}) {
    ASSERT_TRUE(ctx.count(key)) << key;
    EXPECT_TRUE(ParsesAsNumber(ctx[key])) << key << " = '" << ctx[key] << "'";
  }
  for (const char* key : {"machine_smt", "machine_governor", "machine_turbo",
                          "machine_virtualized"}) {
    ASSERT_TRUE(ctx.count(key)) << key;
    EXPECT_FALSE(ctx[key].empty()) << key;
  }
  EXPECT_EQ(ctx.size(), 12u);
  EXPECT_TRUE(std::set<std::string>({"yes", "no", "unknown"}).count(ctx["machine_smt"]));
  EXPECT_TRUE(std::set<std::string>({"yes", "no", "unknown"}).count(ctx["machine_virtualized"]));
  EXPECT_EQ(ctx["machine_usable_cores"], std::to_string(UsableCores()));
}

TEST(ProbeTest, ProbeMeasuresEveryCostAndLeavesNothingBehind) {
  const int threads_before = ThreadsBefore();
  const MachineProbe& p = Probed();
  EXPECT_TRUE(p.full);
  EXPECT_GT(p.wakeup_us, 0.0);
  EXPECT_GE(p.sleep_overshoot_us, 0.0);  // a sleep never ends early
  EXPECT_GT(p.fork_us, 0.0);
  EXPECT_GE(p.noise_cv, 0.0);
  EXPECT_GT(p.core_ns_per_step, 0.0);
  EXPECT_GE(p.load, 0.0);
  EXPECT_GT(p.parallel_capacity, 0.0);
  EXPECT_EQ(ThreadsOfThisProcess(), threads_before);
  errno = 0;
  EXPECT_EQ(waitpid(-1, nullptr, WNOHANG), -1);
  EXPECT_EQ(errno, ECHILD) << "a forked child was left unreaped";
}

TEST(ProbeTest, EndProbeGivesOnlyCapacityNoiseAndCoreSpeedWithTheSuffix) {
  const MachineProbe end = ProbeEnd();
  EXPECT_FALSE(end.full);
  const auto entries = ContextEntries(end, "_end");
  ASSERT_EQ(entries.size(), 3u);
  EXPECT_EQ(entries[0].first, "machine_parallel_capacity_end");
  EXPECT_EQ(entries[1].first, "machine_noise_cv_end");
  EXPECT_EQ(entries[2].first, "machine_core_ns_per_step_end");
  EXPECT_GT(end.core_ns_per_step, 0.0);
  for (const auto& [key, value] : entries) EXPECT_TRUE(ParsesAsNumber(value)) << key << " = " << value;
}

TEST(ProbeTest, WhatCouldNotBeMeasuredIsUnknown) {
  MachineProbe p = HealthyTwoCores();
  p.fork_us = MachineProbe::kUnknown;
  const auto entries = ContextEntries(p, "_x");
  const std::map<std::string, std::string> ctx(entries.begin(), entries.end());
  EXPECT_EQ(ctx.at("machine_fork_us_x"), "unknown");
  EXPECT_EQ(ctx.at("machine_parallel_capacity_x"), "1.96");
  EXPECT_EQ(ctx.at("machine_noise_cv_x"), "0.0120");
  EXPECT_EQ(ctx.at("machine_wakeup_us_x"), "40.0");
  EXPECT_EQ(ctx.at("machine_load_x"), "0.30");
}

TEST(ProbeTest, CardFitsFifteenLinesOfEightyColumns) {
  // Every warning at once, and fields wider than any machine gives.
  const MachineProbe worst = {
      .usable_cores = 128, .online_cpus = 128, .parallel_capacity = 101.25, .noise_cv = 0.4567,
      .wakeup_us = 123456.7, .sleep_overshoot_us = 65432.1, .fork_us = 98765432.1, .load = 1234.56,
      .smt = "yes", .governor = "schedutil,performance,powersave", .turbo = "unknown",
      .virtualized = "yes", .hypervisor = "cpu flag 'hypervisor'; xen; " + std::string(200, 'Q')};
  for (const MachineProbe& p : {Probed(), worst}) {
    const std::string card = ProbeCard(p);
    const auto lines = Lines(card);
    EXPECT_LE(lines.size(), 15u) << card;
    EXPECT_GE(lines.size(), 5u) << card;
    for (const auto& l : lines) EXPECT_LE(Columns(l), 80u) << "'" << l << "'";
    EXPECT_EQ(card.back(), '\n');
  }
  EXPECT_EQ(Lines(ProbeCard(worst)).size(), 15u) << ProbeCard(worst);  // every warning at once
}

// The card's capacity warning for a healthy two-core card at `capacity`: `line` is printed and
// `absent` is not.
void ExpectCapacityWarning(double capacity, const std::string& line, const std::string& absent) {
  MachineProbe p = HealthyTwoCores();
  p.parallel_capacity = capacity;
  const std::string card = ProbeCard(p);
  EXPECT_NE(card.find(line), std::string::npos) << card;
  EXPECT_EQ(card.find(absent), std::string::npos) << card;
}

TEST(ProbeTest, CardWarnsWhenCapacityIsBelowEightyPercentOfTheCores) {
  EXPECT_EQ(ProbeCard(HealthyTwoCores()).find("warning"), std::string::npos);
  ExpectCapacityWarning(1.1, "  warning: only 1.10 of 2 cores are free for CPU work; parallel runs slow down\n",
                        "slower than one");
  ExpectCapacityWarning(1.1, "1.10 of 2 usable cores", "slower than one");
}

TEST(ProbeTest, CardSaysSplittingIsSlowerRatherThanACapacityBelowOne) {
  ExpectCapacityWarning(0.8, "  warning: splitting CPU work over 2 threads was 1.25× slower than one\n",
                        "cores are free");
}

TEST(ProbeTest, CardSaysOneCoreInTheSingular) {
  MachineProbe p = HealthyTwoCores();
  p.usable_cores = 1;
  p.parallel_capacity = 0.7;
  const std::string card = ProbeCard(p);
  EXPECT_NE(card.find("0.70 of 1 usable core (CPU work)\n"), std::string::npos) << card;
  EXPECT_NE(card.find("  warning: only 0.70 of 1 core is free for CPU work"), std::string::npos) << card;
}

TEST(ProbeTest, CardWarnsAboutNoiseLoadSmtAndVirtualisation) {
  const auto warns = [](const MachineProbe& p, const char* what) {
    return ProbeCard(p).find(what) != std::string::npos;
  };
  MachineProbe p = HealthyTwoCores();
  p.noise_cv = 0.072;
  EXPECT_TRUE(warns(p, "warning: one core's speed varies by 7.2 % between rounds; use repetitions\n"));
  p = HealthyTwoCores();
  p.load = 3.1;
  EXPECT_TRUE(warns(p, "warning: load 3.10 is above the 2 CPUs: other work is running here\n"));
  p = HealthyTwoCores();
  p.smt = "yes";
  EXPECT_TRUE(warns(p, "(SMT)"));
  p = HealthyTwoCores();
  p.virtualized = "yes";
  EXPECT_TRUE(warns(p, "warning: a virtual machine"));
}

TEST(ProbeTest, CapacityForASmallBatchIsWithinTheThreads) {
  std::vector<int64_t> batch(8, 100'000);  // 8 × cpu_intensivo(100'000): about 1.5 ms here
  for (int threads : {2, 3, 4}) {
    const double c = CapacityFor(batch, cpu_intensivo, threads);
    EXPECT_GT(c, 0.0) << threads;
    EXPECT_LE(c, threads) << threads;
  }
  const std::vector<int64_t> three(3, 100'000);
  EXPECT_LE(CapacityFor(three, cpu_intensivo, 16), 3.0);
}

TEST(ProbeTest, CapacityForRunsABoundedNumberOfRounds) {
  std::atomic<int> calls{0};
  const std::vector<int64_t> batch(4, 100'000);
  const TaskFn task = [&](int64_t x) { ++calls; return cpu_intensivo(x); };
  const Stopwatch w;
  CapacityFor(batch, task, 2);
  EXPECT_LT(w.ElapsedSeconds(), 2.0);
  const CapacityForOptions defaults;
  // One pass sizes the rounds; each pair runs a serial round of `passes` passes and a parallel
  // round where each of the 2 threads runs half of them (rounded up), about 20 ms of
  // 4 × 0.13 ms tasks: tens of passes, not thousands.
  EXPECT_GE(calls.load(), 4 + defaults.min_pairs * 2 * 4);
  EXPECT_LE(calls.load(), 4 + defaults.max_pairs * 3 * 1000 * 4);
  calls = 0;
  CapacityFor(batch, task, 2, {.min_pairs = 1, .max_pairs = 1, .round_seconds = 0});
  EXPECT_EQ(calls.load(), 4 + 4 + 2 * 4);  // rounds of one pass: serially, then once on each thread
}

TEST(ProbeTest, CapacityForOneThreadOrOneTaskIsOneWithoutRunningAnything) {
  int calls = 0;
  const TaskFn task = [&](int64_t x) { ++calls; return x; };
  const std::vector<int64_t> batch = {1, 2, 3};
  EXPECT_EQ(CapacityFor(batch, task, 1), 1.0);
  EXPECT_EQ(CapacityFor(std::vector<int64_t>{1}, task, 4), 1.0);
  EXPECT_EQ(CapacityFor({}, task, 4), 1.0);
  EXPECT_EQ(calls, 0);
  EXPECT_THROW(CapacityFor(batch, task, 0), std::invalid_argument);
}

TEST(ProbeTest, CapacityForRethrowsWhatATaskThrowsOnATeamThread) {
  const std::thread::id caller = std::this_thread::get_id();
  const TaskFn task = [&](int64_t x) {
    if (std::this_thread::get_id() != caller) throw std::runtime_error("task failed");
    return x;
  };
  const int threads_before = ThreadsBefore();
  EXPECT_THROW(CapacityFor(std::vector<int64_t>{1, 2, 3, 4}, task, 2), std::runtime_error);
  EXPECT_EQ(ThreadsOfThisProcess(), threads_before);
}

TEST(ProbeTest, CapacityForRejectsATaskThatDiffersOnATeamThread) {
  const std::thread::id caller = std::this_thread::get_id();
  // The caller is one of the team; the helper runs the whole batch too.
  const TaskFn task = [&](int64_t x) { return std::this_thread::get_id() == caller ? x : x + 1; };
  EXPECT_THROW(CapacityFor(std::vector<int64_t>{1, 2, 3, 4}, task, 2), std::logic_error);
}

TEST(ProbeTest, TheWholeProbeTakesLessThanTenSeconds) {
  const Stopwatch w;
  const MachineProbe p = ProbeMachine();
  const double s = w.ElapsedSeconds();
  EXPECT_LT(s, 10.0);
  EXPECT_GT(p.seconds, 0.0);
  EXPECT_LE(p.seconds, s);
}

}  // namespace
}  // namespace concbench
