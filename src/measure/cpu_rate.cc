#include "measure/cpu_rate.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "measure/timer.h"
#include "workload/cpu.h"

namespace concbench {
namespace {

double Measure() {
  constexpr int64_t kWarmupSteps = 200'000;
  volatile int64_t sink = cpu_intensivo(kWarmupSteps);
  Stopwatch probe;
  sink = cpu_intensivo(kWarmupSteps);
  const double probe_ns = std::max(probe.ElapsedSeconds() * 1e9 / kWarmupSteps, 0.1);
  const auto steps = static_cast<int64_t>(2e6 / probe_ns);  // ~2 ms a run
  std::vector<double> ns;
  for (int i = 0; i < 7; ++i) {
    Stopwatch w;
    sink = cpu_intensivo(steps);
    ns.push_back(w.ElapsedSeconds() * 1e9 / static_cast<double>(steps));
  }
  (void)sink;
  std::nth_element(ns.begin(), ns.begin() + 3, ns.end());
  return ns[3];
}

}  // namespace

double CpuIntensivoNsPerStep() {
  static const double ns = Measure();
  return ns;
}

int64_t CpuIntensivoStepsFor(double microseconds) {
  if (microseconds <= 0) return 0;
  return std::max<int64_t>(1, std::llround(microseconds * 1e3 / CpuIntensivoNsPerStep()));
}

}  // namespace concbench
