// concbench: the benchmark binary. Parses its own flags (suite and grid overrides), registers the
// families for that suite, records the run context in the JSON, runs Google Benchmark, and exits
// non-zero when a flag is invalid, no benchmark matched, or any benchmark reported an error
// (Google Benchmark's own main exits 0 even then).
#include <benchmark/benchmark.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <unistd.h>
#include <uv.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "concbench/version.h"
#include "measure/ideal.h"
#include "options.h"
#include "registry.h"
#include "sys/rlimit.h"

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

// Google Benchmark only finds out that --benchmark_out cannot be written when it opens the file,
// and then says "invalid file name". Say why, before anything runs.
bool CheckOutputWritable(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const std::string prefix = "--benchmark_out=";
    if (arg.rfind(prefix, 0) != 0) continue;
    const std::string path = arg.substr(prefix.size());
    const size_t slash = path.rfind('/');
    const std::string dir = slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
    if (access(dir.c_str(), W_OK) != 0) {
      std::cerr << "concbench: --benchmark_out: cannot write '" << path << "': " << dir << ": "
                << std::strerror(errno) << "\n";
      return false;
    }
  }
  return true;
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
  benchmark::AddCustomContext("libuv_version", uv_version_string());
  benchmark::AddCustomContext("usable_cores", std::to_string(concbench::UsableCores()));
  const char* pool = std::getenv("UV_THREADPOOL_SIZE");
  benchmark::AddCustomContext("uv_threadpool_size", pool ? pool : "default (4)");
  benchmark::AddCustomContext("rlimit_nofile", concbench::DescribeRlimit(RLIMIT_NOFILE));
  benchmark::AddCustomContext("rlimit_nproc", concbench::DescribeRlimit(RLIMIT_NPROC));
  utsname u{};
  if (uname(&u) == 0) {
    benchmark::AddCustomContext("hostname", u.nodename);
    benchmark::AddCustomContext("kernel", std::string(u.sysname) + " " + u.release + " " + u.machine);
  }
}

}  // namespace

int main(int argc, char** argv) {
  concbench::Options opt;
  if (auto err = concbench::ParseOwnFlags(&argc, argv, &opt)) {
    std::cerr << "concbench: " << *err << "\n";
    return 2;
  }
  if (!CheckOutputWritable(argc, argv)) return 2;
  benchmark::Initialize(&argc, argv, PrintHelp);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 2;

  RaiseDescriptorLimit();
  AddContext(opt);
  if (concbench::RegisterAllFamilies(opt) == 0) {
    std::cerr << "concbench: no benchmark registered for " << concbench::DescribeOptions(opt) << "\n";
    return 1;
  }
  for (const auto& [key, values] : opt.overrides) {
    if (!concbench::UsedArgNames().count(key)) {
      std::cerr << "concbench: note: --" << key << " matched no family in suite "
                << concbench::SuiteName(opt.suite) << "\n";
    }
  }

  ErrorTrackingReporter reporter(benchmark::CreateDefaultDisplayReporter());
  const size_t matched = benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();
  std::fflush(stdout);
  if (matched == 0) {
    std::cerr << "concbench: no benchmark matched --benchmark_filter='" << benchmark::GetBenchmarkFilter()
              << "'\n";
    return 1;
  }
  if (!reporter.failures().empty()) {
    std::cerr << "concbench: " << reporter.failures().size() << " benchmark(s) failed:\n";
    for (const auto& f : reporter.failures()) std::cerr << "  " << f << "\n";
    return 1;
  }
  return 0;
}
