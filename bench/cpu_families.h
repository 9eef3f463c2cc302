// Shared pieces of every model's CPU families (cpu, trabajo, tarea_normal).
//
// A CPU family's expected checksum and ideal come from a serial calibration of the same batch.
// Calibrating takes tens of milliseconds and Google Benchmark calls a benchmark function several
// times while it sizes the iteration count, so the calibration of each batch is done once per
// process and cached. A batch is keyed by its job, its tasks and, for cpu_intensivo only, n.
//
//   const CpuWork w = CpuWorkFor(CpuJob::kTrabajo, args);  // reads tasks (and n for cpu)
//   double ideal = Makespan(w.cal.task_seconds, std::min<int64_t>(workers, UsableCores()), chunk);
#pragma once

#include <cstdint>

#include "measure/ideal.h"
#include "registry.h"
#include "workload/cpu_jobs.h"

namespace concbench {

// `n` is only meaningful for CpuJob::kCpuIntensivo. Not thread-safe: call from benchmark
// functions (Google Benchmark runs them on the main thread).
const CpuBatch& CachedCpuBatch(CpuJob job, int64_t tasks, int64_t n = 0);
const Calibration& CachedCalibration(CpuJob job, int64_t tasks, int64_t n = 0);

struct CpuWork {
  const CpuBatch& batch;
  const Calibration& cal;
  int64_t tasks() const { return static_cast<int64_t>(batch.inputs.size()); }
};

// The batch and calibration of a CPU family's arguments: `tasks`, and `n` for kCpuIntensivo.
CpuWork CpuWorkFor(CpuJob job, const Args& args);

// machine_ideal_s of a CPU batch on `workers` workers fed `chunksize` tasks at a time: its ideal
// computed with what the machine delivers right now, measured on this very batch just before the
// timed loop (measure/probe.h's MeasureBatchCapacity: serial and parallel rounds, interleaved, a
// few tens of ms): the parallel capacity, and one core's speed (the calibrated task times are
// scaled to the serial time of those rounds). Both drift within minutes, so neither a
// start-of-run probe nor the cached calibration would do.
double MachineIdealFor(const CpuWork& w, int64_t workers, int64_t chunksize);

// Rough serial seconds of a CPU family's batch, for sizing runs only: ~1.3 ns per cpu_intensivo
// step and ~2.8 ns per trabajo (50,000 steps) or tarea_normal (300,000 steps) step on the
// reference 2-core x86 VM.
double SerialCpuEstimate(CpuJob job, const Args& args);

}  // namespace concbench
