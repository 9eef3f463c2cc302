// CPU time and context switches of this process and of its reaped children, from getrusage.
//
// A sample reads RUSAGE_SELF (every thread of the process) and RUSAGE_CHILDREN (children that
// have been waited for; a child still running is not counted until it is reaped). The
// difference of two samples is what a measured region cost. Every family derives its
// `cpu_util` and `ctx_switches` counters from such a delta.
//
//   auto before = concbench::RusageSample::Take();
//   work();
//   auto d = concbench::RusageSample::Take() - before;
//   double util = d.cpu_seconds() / wall_seconds;
#pragma once

#include <cstdint>

namespace concbench {

struct RusageDelta {
  double self_user_s = 0;
  double self_system_s = 0;
  double children_user_s = 0;
  double children_system_s = 0;
  int64_t voluntary_switches = 0;    // ru_nvcsw, self + children
  int64_t involuntary_switches = 0;  // ru_nivcsw, self + children

  double cpu_seconds() const {
    return self_user_s + self_system_s + children_user_s + children_system_s;
  }
  int64_t context_switches() const { return voluntary_switches + involuntary_switches; }

  RusageDelta& operator+=(const RusageDelta& o);
};

struct RusageSample {
  RusageDelta totals;  // cumulative since process start

  static RusageSample Take();
};

RusageDelta operator-(const RusageSample& after, const RusageSample& before);

}  // namespace concbench
