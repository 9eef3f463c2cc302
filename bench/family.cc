#include "family.h"

namespace concbench {

void ReportExpected(benchmark::State& state, const Meter& meter, const Expect& expect) {
  if (expect.ideal_s) SetIdealCounters(state, meter, *expect.ideal_s);
  if (expect.machine_ideal_s) SetMachineIdealCounters(state, meter, *expect.machine_ideal_s);
  if (expect.machine_capacity) SetCounter(state, "machine_capacity", *expect.machine_capacity);
  if (expect.checksum) SetCounter(state, "checksum", static_cast<double>(*expect.checksum));
  if (expect.usage_counters) SetUsageCounters(state, meter);
  if (expect.items > 0) state.SetItemsProcessed(state.iterations() * expect.items);
}

}  // namespace concbench
