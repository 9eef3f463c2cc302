// concbench: the benchmark binary. Parses its own flags (suite and grid overrides), registers the
// families for that suite, records the run context in the JSON, runs Google Benchmark under the
// watchdog (bench/watchdog.h), and exits with
//   0 when every benchmark ran; 1 when a benchmark reported an error (a stalled worker included)
//   or none matched (Google Benchmark's own main exits 0 even then); 2 for an invalid flag;
//   3 when the watchdog ended a benchmark past its deadline; 130 / 143 on SIGINT / SIGTERM
//   (the last three leave the results so far in --benchmark_out, marked partial).
#include <benchmark/benchmark.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <unistd.h>
#include <uv.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

#include "concbench/git_commit.h"
#include "concbench/version.h"
#include "filter.h"
#include "measure/probe.h"
#include "measure/ideal.h"
#include "cells.h"
#include "models.h"
#include "options.h"
#include "progress.h"
#include "registry.h"
#include "results_file.h"
#include "trace.h"
#include "sys/rlimit.h"
#include "watchdog.h"
#include "workload/task_spec.h"
#include "workloads.h"

namespace {

// Forwards everything to the display reporter and remembers which runs failed.
class ErrorTrackingReporter : public benchmark::BenchmarkReporter {
 public:
  explicit ErrorTrackingReporter(benchmark::BenchmarkReporter* inner) : inner_(inner) {}

  bool ReportContext(const Context& context) override { return inner_->ReportContext(context); }
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const Run& r : runs) {
      if (r.error_occurred) failures_.push_back(r.benchmark_name() + ": " + r.error_message);
    }
    inner_->ReportRuns(runs);
  }
  void Finalize() override { inner_->Finalize(); }

  const std::vector<std::string>& failures() const { return failures_; }

 private:
  benchmark::BenchmarkReporter* inner_;
  std::vector<std::string> failures_;
};

// Whether `path`'s folder is writable; says why not, naming `flag`.
bool CheckWritable(const std::string& flag, const std::string& path) {
  const size_t slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
  if (access(dir.c_str(), W_OK) == 0) return true;
  std::cerr << "concbench: " << flag << ": cannot write '" << path << "': " << dir << ": " << std::strerror(errno)
            << "\n";
  return false;
}

// Google Benchmark only finds out that --benchmark_out cannot be written when it opens the file,
// and then says "invalid file name". Say why, before anything runs.
bool CheckOutputWritable(int argc, char** argv) {
  const std::string prefix = "--benchmark_out=";
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg.rfind(prefix, 0) == 0 && !CheckWritable("--benchmark_out", arg.substr(prefix.size()))) return false;
  }
  return true;
}

// The value of Google Benchmark flag `--name=value` on the command line, or `fallback`.
std::string BenchmarkFlag(int argc, char** argv, const std::string& name, const std::string& fallback) {
  const std::string prefix = "--" + name + "=";
  std::string value = fallback;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg.rfind(prefix, 0) == 0) value = arg.substr(prefix.size());
  }
  return value;
}

// The display reporter: progress lines (bench/progress.h) when asked, or by default on a
// terminal unless --benchmark_format asks for something else; Google Benchmark's own otherwise.
// The table is kept (in --console_out) even when progress lines are shown.
struct Display {
  std::unique_ptr<benchmark::BenchmarkReporter> table;
  std::unique_ptr<std::ofstream> console_file;
  std::unique_ptr<concbench::ProgressReporter> progress;
  benchmark::BenchmarkReporter* reporter() { return progress ? progress.get() : table.get(); }
};

Display MakeDisplay(const concbench::Options& opt, const std::string& format,
                    const std::vector<concbench::Planned>& planned, int64_t repetitions, double min_time_s) {
  Display d;
  const bool progress = opt.display == concbench::Display::kProgress ||
                        (opt.display == concbench::Display::kAuto && format.empty() && isatty(STDOUT_FILENO));
  if (!progress) {
    d.table.reset(benchmark::CreateDefaultDisplayReporter());
    return d;
  }
  if (!opt.console_out.empty()) {
    d.console_file = std::make_unique<std::ofstream>(opt.console_out);
    d.table = std::make_unique<benchmark::ConsoleReporter>(benchmark::ConsoleReporter::OO_Tabular);
    d.table->SetOutputStream(d.console_file.get());
    d.table->SetErrorStream(d.console_file.get());
  }
  d.progress = std::make_unique<concbench::ProgressReporter>(planned, repetitions, min_time_s, stdout,
                                                             d.table.get(), isatty(STDOUT_FILENO) != 0);
  return d;
}

// Google Benchmark's own main exits 0 when the filter matches nothing; concbench exits 1.
int NoMatch(const std::string& filter) {
  std::cerr << "concbench: no benchmark matched --benchmark_filter='" << filter << "'\n";
  return 1;
}

void PrintHelp() {
  std::fputs(concbench::OwnFlagsHelp().c_str(), stdout);
  std::fputs("\nGoogle Benchmark flags:\n", stdout);
  benchmark::PrintDefaultHelp();
}

// Many concurrent connections need descriptors: take the soft limit up to the hard one, as a
// server would, and report both in the context.
void RaiseDescriptorLimit() {
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0) std::perror("concbench: setrlimit(RLIMIT_NOFILE)");
  }
}

void AddContext(const concbench::Options& opt) {
  benchmark::AddCustomContext("concbench_version", CONCBENCH_VERSION);
  benchmark::AddCustomContext("concbench_git_commit", CONCBENCH_GIT_COMMIT);
  benchmark::AddCustomContext("concbench_build_type", CONCBENCH_BUILD_TYPE);
  benchmark::AddCustomContext("concbench_sanitize", *CONCBENCH_SANITIZE ? CONCBENCH_SANITIZE : "none");
  benchmark::AddCustomContext("concbench_compiler", CONCBENCH_COMPILER);
  benchmark::AddCustomContext("concbench_suite", std::string(concbench::SuiteName(opt.suite)));
  benchmark::AddCustomContext("concbench_options", concbench::DescribeOptions(opt));
  benchmark::AddCustomContext("concbench_deadline", concbench::DeadlineRule(opt.timeout_s));
  if (opt.inject_slowdown_pct > 0) {
    char pct[32];
    std::snprintf(pct, sizeof pct, "%g", opt.inject_slowdown_pct);
    benchmark::AddCustomContext("concbench_inject_slowdown_pct", pct);
  }
  benchmark::AddCustomContext("concbench_deadline_source", concbench::DeadlineSource(opt.timeout_s));
  benchmark::AddCustomContext("libuv_version", uv_version_string());
  benchmark::AddCustomContext("usable_cores", std::to_string(concbench::UsableCores()));
  const char* pool = std::getenv("UV_THREADPOOL_SIZE");
  benchmark::AddCustomContext("uv_threadpool_size", pool ? pool : "default (4)");
  benchmark::AddCustomContext("rlimit_nofile", concbench::DescribeRlimit(RLIMIT_NOFILE));
  benchmark::AddCustomContext("rlimit_nproc", concbench::DescribeRlimit(RLIMIT_NPROC));
  benchmark::AddCustomContext("task_limits", concbench::DescribeTaskLimits());

  utsname u{};
  if (uname(&u) == 0) {
    benchmark::AddCustomContext("hostname", u.nodename);
    benchmark::AddCustomContext("kernel", std::string(u.sysname) + " " + u.release + " " + u.machine);
  }
}

}  // namespace

// --probe alone: the card, exit 0. It runs no benchmark, so a suite, an override or a Google
// Benchmark flag beside it would mean nothing: refused.
int Probe(const concbench::Options& opt, int argc, char** argv) {
  std::string other;
  if (opt.suite_given) other = "--suite";
  if (!opt.overrides.empty()) other = "--" + opt.overrides.begin()->first;
  for (int i = 1; i < argc && other.empty(); ++i) other = argv[i];
  if (!other.empty()) {
    std::cerr << "concbench: --probe measures the machine and runs no benchmark; it takes no other flag (got "
              << other << ")\n";
    return 2;
  }
  std::fputs(concbench::ProbeCard(concbench::ProbeMachine()).c_str(), stdout);
  return 0;
}

// --list_models, --list_workloads, --list_cells: the table as JSON, exit 0. Like --probe, it runs
// no benchmark and takes no other flag.
int List(const concbench::Options& opt, int argc, char** argv) {
  std::string other;
  if (opt.probe) other = "--probe";
  if (opt.suite_given) other = "--suite";
  if (!opt.overrides.empty()) other = "--" + opt.overrides.begin()->first;
  for (int i = 1; i < argc && other.empty(); ++i) other = argv[i];
  if (!other.empty()) {
    std::cerr << "concbench: --list_" << opt.list << " prints a table and runs no benchmark; it takes no other flag (got "
              << other << ")\n";
    return 2;
  }
  const std::string json = opt.list == "models"      ? concbench::ModelsJson()
                           : opt.list == "workloads" ? concbench::WorkloadsJson()
                                                     : concbench::CellsJson();
  std::fputs(json.c_str(), stdout);
  return 0;
}

int main(int argc, char** argv) {
  concbench::Options opt;
  if (auto err = concbench::ParseOwnFlags(&argc, argv, &opt)) {
    std::cerr << "concbench: " << *err << "\n";
    return 2;
  }
  if (!opt.list.empty() && opt.list != "planned") return List(opt, argc, argv);
  if (opt.probe) return Probe(opt, argc, argv);
  if (!CheckOutputWritable(argc, argv)) return 2;
  // Read before Initialize consumes them (their values were checked by ParseOwnFlags).
  const std::string format = BenchmarkFlag(argc, argv, "benchmark_format", "");
  const int64_t repetitions = std::stoll(BenchmarkFlag(argc, argv, "benchmark_repetitions", "1"));
  const double min_time_s = std::stod(BenchmarkFlag(argc, argv, "benchmark_min_time", "0.5"));
  const std::string out_path = BenchmarkFlag(argc, argv, "benchmark_out", "");
  const std::string out_format = BenchmarkFlag(argc, argv, "benchmark_out_format", "json");
  const bool listing = BenchmarkFlag(argc, argv, "benchmark_list_tests", "false") != "false";
  if (!opt.console_out.empty() && !CheckWritable("--console_out", opt.console_out)) return 2;
  std::unique_ptr<concbench::TraceFile> trace;
  if (!opt.trace.empty()) {
    if (auto err = concbench::TraceFile::CheckWritable(opt.trace)) {
      std::cerr << "concbench: " << *err << "\n";
      return 2;
    }
    if (auto err = concbench::FilterError(opt.trace_filter)) {
      std::cerr << "concbench: --trace_filter" << err->substr(err->find(':')) << "\n";
      return 2;
    }
    trace = std::make_unique<concbench::TraceFile>(opt.trace, opt.trace_filter);
    concbench::SetActiveTrace(trace.get());
  }
  benchmark::Initialize(&argc, argv, PrintHelp);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 2;
  // Read after Initialize, which takes it from argv or from $BENCHMARK_FILTER.
  const std::string filter = benchmark::GetBenchmarkFilter();
  if (auto err = concbench::FilterError(filter)) {
    std::cerr << "concbench: " << *err << "\n";
    return 2;
  }
  // Before any thread exists, so that SIGINT and SIGTERM reach only the watchdog.
  if (!listing) concbench::BlockStopSignals();

  RaiseDescriptorLimit();
  // Before any task runs or any worker is forked: they all read it.
  concbench::SetComputeSlowdownPercent(opt.inject_slowdown_pct);
  opt.min_time_s = min_time_s;
  opt.repetitions = repetitions;
  AddContext(opt);
  if (concbench::RegisterAllFamilies(opt) == 0) {
    std::cerr << "concbench: no benchmark registered for " << concbench::DescribeOptions(opt) << "\n";
    return 1;
  }
  // Mixed tasks ask for their compute in microseconds: which n that is here goes beside the numbers.
  if (concbench::UsedArgNames().count("cpu_us") && !listing) {
    char ns[32];
    std::snprintf(ns, sizeof ns, "%.4f", concbench::CpuIntensivoNsPerStep());
    benchmark::AddCustomContext("cpu_intensivo_ns_per_step", ns);
  }
  for (const auto& [key, values] : opt.overrides) {
    if (!concbench::UsedArgNames().count(key)) {
      std::cerr << "concbench: note: --" << key << " matched no family in suite "
                << concbench::SuiteName(opt.suite) << "\n";
    }
  }

  const std::vector<concbench::Planned> planned = concbench::SelectPlanned(concbench::PlannedBenchmarks(), filter);
  if (planned.empty()) return NoMatch(filter);
  if (opt.list == "planned") {
    std::string json = "{\"repetitions\": " + std::to_string(repetitions) + ", \"benchmarks\": [";
    for (size_t i = 0; i < planned.size(); ++i) {
      char seconds[96];
      std::snprintf(seconds, sizeof seconds, "%.6g, \"estimate_s\": %.6g, \"setup_s\": %.6g",
                    concbench::PlannedSeconds(planned[i], repetitions, min_time_s), planned[i].estimate_s,
                    planned[i].setup_s);
      json += std::string(i ? "," : "") + "\n  {\"name\": " + concbench::JsonString(planned[i].name) +
              ", \"iterations\": " + std::to_string(planned[i].iterations) + ", \"planned_s\": " + seconds + "}";
    }
    std::fputs((json + "\n]}\n").c_str(), stdout);
    return 0;
  }
  Display display = MakeDisplay(opt, format, planned, repetitions, min_time_s);
  ErrorTrackingReporter reporter(display.reporter());
  std::unique_ptr<concbench::ResultsFile> file;
  const bool probing = !opt.no_probe && !listing;
  if (!out_path.empty() && out_format == "json") {
    std::vector<std::string> names;
    for (const auto& p : planned) names.push_back(p.name);
    // The tables the scripts read names, order, colours and the notebook's cells from.
    concbench::ContextList tables = {{"concbench_models", concbench::ModelsJson()},
                                     {"concbench_workloads", concbench::WorkloadsJson()},
                                     {"concbench_cells", concbench::CellsJson()}};
    file = std::make_unique<concbench::ResultsFile>(
        out_path, std::move(names),
        [probing] { return probing ? concbench::ContextEntries(concbench::ProbeEnd(), "_end") : concbench::ContextList{}; },
        std::move(tables));
  }
  // Deadlines and interruptions (bench/watchdog.h): the results so far survive as a partial file.
  std::optional<concbench::Watchdog> watchdog;
  if (!listing) {
    try {
      watchdog.emplace(
          [&file, &out_path, &trace](const std::string& reason, const std::string& cut_short) {
            if (trace) trace->Stop(reason);
            if (!file) return;
            file->WritePartial(reason, cut_short);
            std::fprintf(stderr, "concbench: the results so far are in %s, marked partial\n", out_path.c_str());
          },
          [progress = display.progress.get()] {
            if (progress != nullptr) progress->Tick();
          });
    } catch (const std::system_error& e) {
      // No thread to spare (a lowered RLIMIT_NPROC): run without the watchdog, interruptible as usual.
      concbench::UnblockStopSignals();
      std::cerr << "concbench: no watchdog (" << e.what() << "): only the process pools enforce deadlines\n";
    }
  }
  // What the machine can deliver, before and after: in the context, beside the numbers.
  if (probing) {
    for (const auto& [k, v] : concbench::ContextEntries(concbench::ProbeMachine())) benchmark::AddCustomContext(k, v);
  }
  // The progress lines count repetitions from the runs the watchdog's board sees.
  concbench::SetRunObserver(display.progress.get());
  const size_t matched = file ? benchmark::RunSpecifiedBenchmarks(&reporter, file.get())
                              : benchmark::RunSpecifiedBenchmarks(&reporter);
  concbench::SetRunObserver(nullptr);
  watchdog.reset();
  benchmark::Shutdown();
  std::fflush(stdout);
  if (matched == 0) return NoMatch(filter);
  if (!reporter.failures().empty()) {
    std::cerr << "concbench: " << reporter.failures().size() << " benchmark(s) failed:\n";
    for (const auto& f : reporter.failures()) std::cerr << "  " << f << "\n";
    return 1;
  }
  if (trace && trace->failed()) {
    std::cerr << "concbench: the trace " << trace->path() << " could not be written\n";
    return 1;
  }
  return 0;
}
