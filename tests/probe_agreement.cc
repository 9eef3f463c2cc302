// probe_agreement: does the machine probe's parallel capacity agree with a bare measurement of
// the same thing? A tool to rerun by hand on a quiet machine, not a ctest test (its numbers are
// the machine's, not a property of the code):
//
//   build/release/tests/probe_agreement [--readings=10] [--idle_s=5] [--idle_every=2]
//                                       [--share_ms=X] [--hog]
//
// Each reading, taken alternately: the bare split — 4 × cpu_intensivo(2,000,000) serially, then
// split 2 + 2 over two fresh std::threads, the median ratio of 40 interleaved rounds — then the
// probe's ParallelCapacity() (measure/probe.h, with --share_ms to try another share) and the
// per-batch calibration every CPU family runs before its timed loop (MeasureBatchCapacity on
// 4 × cpu_intensivo(200,000) over 2 threads). Every `idle_every`-th reading first idles
// `idle_s` seconds, as a run started after a pause would. --hog keeps one CPU busy with a spinning
// child pinned to CPU 0 for the whole run (the busy-core case). Prints one line per reading and
// how many probe readings were within ±15 % of the bare split.
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "measure/probe.h"
#include "measure/timer.h"
#include "workload/cpu.h"

namespace {

using concbench::Stopwatch;

double Median(std::vector<double> v) {
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(v.size() / 2), v.end());
  return v[v.size() / 2];
}

// 4 × cpu_intensivo(2,000,000): serially, then 2 + 2 on two fresh threads; median of the ratios.
double BareSplit(int rounds = 40) {
  constexpr int64_t kN = 2'000'000;
  volatile int64_t sink = 0;
  std::vector<double> ratio;
  for (int r = 0; r < rounds; ++r) {
    Stopwatch serial;
    for (int i = 0; i < 4; ++i) sink = sink + concbench::cpu_intensivo(kN);
    const double s = serial.ElapsedSeconds();
    Stopwatch split;
    int64_t a = 0, b = 0;
    std::thread t1([&a] { a = concbench::cpu_intensivo(kN) + concbench::cpu_intensivo(kN); });
    std::thread t2([&b] { b = concbench::cpu_intensivo(kN) + concbench::cpu_intensivo(kN); });
    t1.join();
    t2.join();
    sink = sink + a + b;
    ratio.push_back(s / split.ElapsedSeconds());
  }
  return Median(ratio);
}

double BatchCalibration() {
  const std::vector<int64_t> inputs(4, 200'000);
  return concbench::MeasureBatchCapacity(inputs, concbench::cpu_intensivo, 2).capacity;
}

// A child spinning on CPU 0 until killed.
pid_t StartHog() {
  const pid_t pid = ::fork();
  if (pid == 0) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(0, &set);
    sched_setaffinity(0, sizeof set, &set);
    volatile uint64_t spins = 0;
    for (;;) spins = spins + 1;
  }
  return pid;
}

double Flag(int argc, char** argv, const char* name, double fallback) {
  const std::string prefix = std::string("--") + name + "=";
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], prefix.c_str(), prefix.size()) == 0) return std::atof(argv[i] + prefix.size());
  }
  return fallback;
}

bool Has(int argc, char** argv, const char* name) {
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], name) == 0) return true;
  }
  return false;
}

}  // namespace

int main(int argc, char** argv) {
  const int readings = static_cast<int>(Flag(argc, argv, "readings", 10));
  const double idle_s = Flag(argc, argv, "idle_s", 5);
  const int idle_every = std::max(1, static_cast<int>(Flag(argc, argv, "idle_every", 2)));
  concbench::CapacityOptions options;
  options.share_seconds = Flag(argc, argv, "share_ms", options.share_seconds * 1e3) / 1e3;
  const pid_t hog = Has(argc, argv, "--hog") ? StartHog() : 0;
  std::printf("reading  idle  bare_split  probe  batch_calibration  probe/bare\n");
  int agree = 0;
  for (int r = 0; r < readings; ++r) {
    const bool idle = r % idle_every == 0 && idle_s > 0;
    if (idle) std::this_thread::sleep_for(std::chrono::duration<double>(idle_s));
    const double bare = BareSplit();
    const double probe = concbench::ParallelCapacity(options);
    const double batch = BatchCalibration();
    const double rel = probe / bare;
    agree += rel >= 0.85 && rel <= 1.15;
    std::printf("%7d  %4s  %10.2f  %5.2f  %17.2f  %10.2f\n", r + 1, idle ? "yes" : "no", bare, probe, batch, rel);
    std::fflush(stdout);
  }
  if (hog > 0) {
    ::kill(hog, SIGKILL);
    ::waitpid(hog, nullptr, 0);
  }
  std::printf("probe within ±15%% of the bare split: %d of %d\n", agree, readings);
  return 0;
}
