#include "progress.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <regex>
#include <string>
#include <vector>

namespace concbench {
namespace {

using BRun = benchmark::BenchmarkReporter::Run;

BRun MakeRun(const std::string& name, double real_ms, int64_t repetitions, double efficiency = -1) {
  BRun r;
  r.run_name.function_name = name;
  r.run_type = BRun::RT_Iteration;
  r.iterations = 1;
  r.repetitions = repetitions;
  r.time_unit = benchmark::kMillisecond;
  r.real_accumulated_time = real_ms / 1e3;
  r.cpu_accumulated_time = real_ms / 1e3;
  if (efficiency >= 0) r.counters["efficiency"] = efficiency;
  return r;
}

BRun Aggregate(BRun r, const std::string& which) {
  r.run_type = BRun::RT_Aggregate;
  r.aggregate_name = which;
  return r;
}

// Runs a reporter over `calls` and returns what it printed, line by line.
std::vector<std::string> Lines(const std::vector<Planned>& planned, const std::vector<std::vector<BRun>>& calls) {
  char* buf = nullptr;
  size_t len = 0;
  std::FILE* out = open_memstream(&buf, &len);
  {
    ProgressReporter p(planned, 3, 0.5, out);
    benchmark::BenchmarkReporter::Context ctx;
    p.ReportContext(ctx);
    for (const auto& c : calls) p.ReportRuns(c);
    p.Finalize();
  }
  std::fclose(out);
  std::vector<std::string> lines;
  std::string text(buf, len);
  std::free(buf);
  size_t pos = 0;
  while (pos < text.size()) {
    const size_t nl = text.find('\n', pos);
    lines.push_back(text.substr(pos, nl - pos));
    pos = nl + 1;
  }
  return lines;
}

TEST(ProgressTest, PrintsOneLinePerBenchmarkWithItsMedianAndTheRest) {
  const std::vector<Planned> planned = {{"a/sleep/tasks:5/iterations:1/real_time", 1, 0.5},
                                        {"b/cpu/tasks:4/real_time", 0, 0.001},
                                        {"c/echo/tasks:2/real_time", 1, 0.1},
                                        {"d/never/real_time", 1, 1.0}};
  const BRun a = MakeRun("a/sleep/tasks:5/iterations:1/real_time", 501.2, 3, 0.9976);
  BRun failed = MakeRun("c/echo/tasks:2/real_time", 0, 3);
  failed.error_occurred = true;
  failed.error_message = "echo 127.0.0.1:4000: connect refused";
  const auto lines = Lines(planned, {{a, a, a},
                                     {Aggregate(a, "mean"), Aggregate(MakeRun(a.run_name.str(), 500.3, 3, 0.9994), "median")},
                                     {MakeRun("b/cpu/tasks:4/real_time", 0.0872, 1)},
                                     {failed}});
  ASSERT_EQ(lines.size(), 5u);
  // 4 planned: a is 3 × 0.5 s, b 3 × the minimum time 0.5 s, c 3 × 0.1 s, d 3 × 1 s = 6.3 s.
  EXPECT_EQ(lines[0], "concbench: 4 benchmarks × 3 repetitions, about 0:06 planned");
  // No run was seen (RunBegan/RunEnded), so nothing is measured: no estimate yet.
  EXPECT_TRUE(std::regex_match(lines[1], std::regex(R"(\[1/4\] a/sleep/tasks:5 +500\.3 ms  eff 0\.999  ✓  0:00 \(calibrating…\))")))
      << lines[1];
  EXPECT_TRUE(std::regex_match(lines[2], std::regex(R"(\[2/4\] b/cpu/tasks:4 +87\.2 µs  ✓  0:00 \(calibrating…\))")))
      << lines[2];
  EXPECT_TRUE(std::regex_match(lines[3], std::regex(R"(\[3/4\] c/echo/tasks:2 +failed: echo 127\.0\.0\.1:4000: connect refused  0:00.*)")))
      << lines[3];
  EXPECT_EQ(lines[4], "concbench: 3 benchmarks in 0:00, 1 failed, 1 did not run");
}

// A status line comes kFirstStatusS after the start when nothing else was printed, then after
// every kStatusEveryS of silence: "calibrating…" until a repetition is done, then the time left,
// with the run in flight.
TEST(ProgressTest, StatusLinesShowTheRepetitionsTheTimeLeftAndTheRunInFlight) {
  const std::string a = "a/sleep/tasks:5/iterations:1/real_time", b = "b/cpu/tasks:4/real_time";
  double now = 100;  // the fake clock
  char* buf = nullptr;
  size_t len = 0;
  std::FILE* out = open_memstream(&buf, &len);
  {
    // 3 × 0.5 s for a, 3 × the minimum time 0.5 s for b: 3 s planned.
    ProgressReporter p({{a, 1, 0.5}, {b, 0, 0.001}}, 3, 0.5, out, nullptr, false, [&] { return now; });
    p.Tick();  // before the start: nothing
    benchmark::BenchmarkReporter::Context ctx;
    p.ReportContext(ctx);
    p.RunBegan(a);
    now = 102;
    p.Tick();  // 2 s of silence: nothing yet
    now = 103;
    p.Tick();
    now = 104;
    p.RunEnded(a, 1);  // 4 s for 0.5 s planned: 3.5 s over
    p.RunBegan(b);
    now = 105;
    p.Tick();  // 2 s after the last line: nothing
    now = 113;
    p.Tick();  // a's 2 left at 4 s + b's 3 at 0.5 + a's excess 3.5, less the 4 s b has run
    p.Finalize();
    now = 130;
    p.Tick();  // after the end: nothing
  }
  std::fclose(out);
  const std::string text(buf, len);
  std::free(buf);
  EXPECT_EQ(text,
            "concbench: 2 benchmarks × 3 repetitions, about 0:03 planned\n"
            "  0:03  0/6 repetitions  calibrating…  now a/sleep/tasks:5 (3.0 s)\n"
            "  0:13  1/6 repetitions  ~0:16 left  now b/cpu/tasks:4 (9.0 s)\n"
            "concbench: 0 benchmarks in 0:13, 0 failed, 2 did not run\n");
}

TEST(ProgressTest, LongErrorsAreCutToFitTheLine) {
  BRun failed = MakeRun("x/sleep/real_time", 0, 1);
  failed.error_occurred = true;
  failed.error_message = std::string(200, 'e');
  const std::string d = DescribeFinished({failed});
  EXPECT_EQ(d.size(), 70u);
  EXPECT_EQ(d.substr(d.size() - 3), "...");
}

TEST(ProgressTest, NamesAndTimesReadAsAPersonWouldSayThem) {
  EXPECT_EQ(ShortName("threads/sleep/tasks:5/workers:5/iterations:3/real_time"), "threads/sleep/tasks:5/workers:5");
  EXPECT_EQ(ShortName("sync/cpu/tasks:4/n:200000/real_time"), "sync/cpu/tasks:4/n:200000");
  EXPECT_EQ(FormatSeconds(2.5103), "2.51 s");
  EXPECT_EQ(FormatSeconds(0.5003), "500.3 ms");
  EXPECT_EQ(FormatSeconds(1.03e-3), "1.03 ms");
  EXPECT_EQ(FormatSeconds(87.2e-6), "87.2 µs");
  EXPECT_EQ(FormatSeconds(62e-9), "62 ns");
  EXPECT_DOUBLE_EQ(PlannedSeconds({"x", 10, 0.02}, 3, 0.5), 0.6);
  EXPECT_DOUBLE_EQ(PlannedSeconds({"x", 0, 0.02}, 3, 0.5), 1.5);
  // A repetition's setup (a warm-up batch, a calibration) counts once per repetition.
  EXPECT_DOUBLE_EQ(PlannedSeconds({"x", 10, 0.02, 0.1}, 3, 0.5), 0.9);
}

}  // namespace
}  // namespace concbench
