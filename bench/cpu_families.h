// Shared pieces of every model's CPU families (cpu, trabajo, tarea_normal).
//
// A CPU family's expected checksum and ideal come from a serial calibration of the same batch.
// Calibrating takes tens of milliseconds and Google Benchmark calls a benchmark function several
// times while it sizes the iteration count, so the calibration of each batch is done once per
// process and cached.
//
//   const CpuBatch& batch = CachedCpuBatch(CpuJob::kTrabajo, 200);
//   const Calibration& cal = CachedCalibration(CpuJob::kTrabajo, 200);
//   double ideal = Makespan(cal.task_seconds, std::min<int64_t>(workers, UsableCores()), chunk);
#pragma once

#include <cstdint>

#include "measure/ideal.h"
#include "workload/cpu_jobs.h"

namespace concbench {

// `n` is only meaningful for CpuJob::kCpuIntensivo. Not thread-safe: call from benchmark
// functions (Google Benchmark runs them on the main thread).
const CpuBatch& CachedCpuBatch(CpuJob job, int64_t tasks, int64_t n = 0);
const Calibration& CachedCalibration(CpuJob job, int64_t tasks, int64_t n = 0);

}  // namespace concbench
