// How fast this machine runs the notebook's cpu_intensivo loop, so that a mixed task's compute
// step can be asked for in microseconds (workload `mixed`'s cpu_us) rather than in loop steps.
//
// Measured once per process, on the calling thread, the first time it is asked for: a warm-up,
// then the median of 7 runs of about 2 ms. The median of a sustained run is what a batch of tasks
// sees (a short burst runs at boost clock); it is recorded in the results' context
// (cpu_intensivo_ns_per_step) so a reader knows which n stood for a microsecond.
//
//   int64_t n = concbench::CpuIntensivoStepsFor(1000);  // ~1 ms of cpu_intensivo here
#pragma once

#include <cstdint>

namespace concbench {

double CpuIntensivoNsPerStep();

// The n for which cpu_intensivo(n) takes about `microseconds` here (0 for 0).
int64_t CpuIntensivoStepsFor(double microseconds);

}  // namespace concbench
