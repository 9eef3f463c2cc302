#include "counters.h"

#include <string>

namespace concbench {

void Meter::Start() {
  running_ = true;
  before_ = RusageSample::Take();
  watch_.Reset();
}

void Meter::Stop() {
  if (!running_) return;
  wall_s_ += watch_.ElapsedSeconds();
  usage_ += RusageSample::Take() - before_;
  running_ = false;
}

void SetModelCounters(benchmark::State& state, const Meter& meter, double ideal_s, int64_t checksum) {
  const double iterations = state.iterations() > 0 ? static_cast<double>(state.iterations()) : 1.0;
  const double measured = meter.wall_seconds() / iterations;
  state.counters["ideal_s"] = ideal_s;
  state.counters["overhead_s"] = measured - ideal_s;
  state.counters["efficiency"] = measured > 0 ? ideal_s / measured : 0;
  state.counters["checksum"] = static_cast<double>(checksum);
  state.counters["cpu_util"] =
      meter.wall_seconds() > 0 ? meter.usage().cpu_seconds() / meter.wall_seconds() : 0;
  state.counters["ctx_switches"] = static_cast<double>(meter.usage().context_switches()) / iterations;
}

bool VerifyChecksums(benchmark::State& state, int64_t mismatches, int64_t wrong, int64_t expected) {
  if (mismatches == 0) return true;
  return Fail(state, "checksum mismatch in " + std::to_string(mismatches) + " of " +
                         std::to_string(state.iterations()) + " iterations: got " +
                         std::to_string(wrong) + ", expected " + std::to_string(expected));
}

bool Fail(benchmark::State& state, std::string_view what) {
  state.SkipWithError(std::string(what).c_str());
  return false;
}

}  // namespace concbench
