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

#include "cpu_families.h"
#include "family.h"
#include "models/sync.h"
#include "registry.h"
#include "workload/cpu_jobs.h"
#include "workload/sleep.h"

namespace concbench {
namespace {

void SyncSleep(benchmark::State& state, const Args& args) {
  const int64_t tasks = args["tasks"];
  const auto sleep = std::chrono::milliseconds(args["sleep_ms"]);
  const std::vector<int64_t> inputs = TaskIndices(tasks);
  const TaskFn task = [sleep](int64_t i) { return SleepTask(i, sleep); };
  TimeIterations(state,
                 {.checksum = SleepBatchChecksum(tasks),
                  .ideal_s = static_cast<double>(tasks) * std::chrono::duration<double>(sleep).count(),
                  .items = tasks},
                 [&] { return Checksum(RunSync(inputs, task)); });
}

void SyncCpu(benchmark::State& state, const Args& args, CpuJob job) {
  const CpuWork w = CpuWorkFor(job, args);
  TimeIterations(state, {.checksum = w.cal.checksum, .ideal_s = w.cal.total_seconds, .items = w.tasks()},
                 [&] { return Checksum(RunSync(w.batch.inputs, w.batch.task)); });
}

Family CpuFamily(const char* name, CpuJob job, SuiteGrids grids) {
  return {.name = name,
          .grids = std::move(grids),
          .body = [job](benchmark::State& s, const Args& a) { SyncCpu(s, a, job); },
          .budget = Adaptive([job](const Args& a) { return SerialCpuEstimate(job, a); })};
}

void RegisterSync(const Options& o) {
  RegisterFamily(o, {.name = "sync/sleep",
                     // Section 1, and section 0's "pausa de 0.1s".
                     .grids = {.notebook = {{{"tasks", {5}}, {"sleep_ms", {500}}}, {{"tasks", {1}}, {"sleep_ms", {100}}}},
                               .smoke = {{{"tasks", {2}}, {"sleep_ms", {1}}}},
                               .sweep = {{{"tasks", {1, 4, 16, 64}}, {"sleep_ms", {1, 10}}}}},
                     .body = SyncSleep,
                     .budget = Fixed(0.5, [](const Args& a) {
                       return static_cast<double>(a["tasks"] * a["sleep_ms"]) / 1e3;
                     })});
  RegisterFamily(o, CpuFamily("sync/cpu", CpuJob::kCpuIntensivo,
                              {.notebook = {{{"tasks", {4}}, {"n", {200'000}}}},  // section 4's baseline
                               .smoke = {{{"tasks", {2}}, {"n", {1'000}}}},
                               .sweep = {{{"tasks", {1, 2, 4, 8, 16}}, {"n", {200'000}}}}}));
  RegisterFamily(o, CpuFamily("sync/trabajo", CpuJob::kTrabajo,
                              {.notebook = {{{"tasks", {200}}}},  // section 4.1's baseline
                               .smoke = {{{"tasks", {3}}}},
                               .sweep = {{{"tasks", {200}}}}}));
  RegisterFamily(o, CpuFamily("sync/tarea_normal", CpuJob::kTareaNormal,
                              {.notebook = {{{"tasks", {4}}}},  // section 5.3's baseline
                               .smoke = {{{"tasks", {2}}}},
                               .sweep = {{{"tasks", {4, 16}}}}}));
}

const bool kRegistered = AddFamilyGroup("sync", RegisterSync);

}  // namespace
}  // namespace concbench
