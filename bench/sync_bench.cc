// The `sync` families: every task in the calling thread, one after another (notebook section 1,
// and the serial baseline of sections 4, 4.1 and 5.3).
//
//   sync/sleep/tasks:T/sleep_ms:S          T blocking sleeps; ideal = T·S
//   sync/cpu/tasks:T/n:N                   T × cpu_intensivo(N); ideal = Σ calibrated task times
//   sync/trabajo/tasks:T                   trabajo(0..T-1)
//   sync/tarea_normal/tasks:T              tarea_normal(0..T-1)
#include <chrono>
#include <numeric>
#include <vector>

#include "counters.h"
#include "cpu_families.h"
#include "measure/ideal.h"
#include "models/sync.h"
#include "registry.h"
#include "workload/cpu_jobs.h"
#include "workload/sleep.h"

namespace concbench {
namespace {

void SyncSleep(benchmark::State& state) {
  const int64_t tasks = state.range(0);
  const auto sleep = std::chrono::milliseconds(state.range(1));
  std::vector<int64_t> inputs(static_cast<size_t>(tasks));
  std::iota(inputs.begin(), inputs.end(), 0);
  const int64_t expected = sleep_batch_checksum(tasks);
  const TaskFn task = [sleep](int64_t i) { return sleep_task(i, sleep); };

  int64_t mismatches = 0, wrong = 0;
  Meter meter;
  meter.Start();
  for (auto _ : state) {
    const int64_t sum = Checksum(RunSync(inputs, task));
    if (sum != expected) ++mismatches, wrong = sum;
  }
  meter.Stop();
  if (!VerifyChecksums(state, mismatches, wrong, expected)) return;
  SetModelCounters(state, meter, static_cast<double>(tasks) * std::chrono::duration<double>(sleep).count(),
                   expected);
  state.SetItemsProcessed(state.iterations() * tasks);
}

// Arguments: tasks, then n for the cpu job.
void SyncCpu(benchmark::State& state, CpuJob job) {
  const int64_t n = job == CpuJob::kCpuIntensivo ? state.range(1) : 0;
  const CpuBatch& batch = CachedCpuBatch(job, state.range(0), n);
  const Calibration& cal = CachedCalibration(job, state.range(0), n);

  int64_t mismatches = 0, wrong = 0;
  Meter meter;
  meter.Start();
  for (auto _ : state) {
    const int64_t sum = Checksum(RunSync(batch.inputs, batch.task));
    if (sum != cal.checksum) ++mismatches, wrong = sum;
  }
  meter.Stop();
  if (!VerifyChecksums(state, mismatches, wrong, cal.checksum)) return;
  SetModelCounters(state, meter, cal.total_seconds, cal.checksum);
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(batch.inputs.size()));
}

void RegisterSync(const Options& o) {
  RegisterFamily(o, "sync/sleep",
                 {.notebook = {{{"tasks", {5}}, {"sleep_ms", {500}}}},  // section 1
                  .smoke = {{{"tasks", {2}}, {"sleep_ms", {1}}}},
                  .sweep = {{{"tasks", {1, 4, 16, 64}}, {"sleep_ms", {1, 10}}}}},
                 SyncSleep, [](auto* b, std::span<const int64_t> a) {
                   BoundIterations(b, static_cast<double>(a[0] * a[1]) / 1e3);
                 });
  RegisterFamily(o, "sync/cpu",
                 {.notebook = {{{"tasks", {4}}, {"n", {200'000}}}},  // section 4's baseline
                  .smoke = {{{"tasks", {2}}, {"n", {1'000}}}},
                  .sweep = {{{"tasks", {1, 2, 4, 8, 16}}, {"n", {200'000}}}}},
                 [](benchmark::State& s) { SyncCpu(s, CpuJob::kCpuIntensivo); });
  RegisterFamily(o, "sync/trabajo",
                 {.notebook = {{{"tasks", {200}}}},  // section 4.1's baseline
                  .smoke = {{{"tasks", {3}}}},
                  .sweep = {{{"tasks", {200}}}}},
                 [](benchmark::State& s) { SyncCpu(s, CpuJob::kTrabajo); });
  RegisterFamily(o, "sync/tarea_normal",
                 {.notebook = {{{"tasks", {4}}}},  // section 5.3's baseline
                  .smoke = {{{"tasks", {2}}}},
                  .sweep = {{{"tasks", {4, 16}}}}},
                 [](benchmark::State& s) { SyncCpu(s, CpuJob::kTareaNormal); });
}

const bool kRegistered = AddFamilyGroup("sync", RegisterSync);

}  // namespace
}  // namespace concbench
