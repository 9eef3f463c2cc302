#include "workload/cpu_jobs.h"

#include <numeric>

#include "workload/cpu.h"

namespace concbench {

std::string_view CpuJobWorkload(CpuJob job) {
  switch (job) {
    case CpuJob::kCpuIntensivo: return "cpu";
    case CpuJob::kTrabajo: return "trabajo";
    case CpuJob::kTareaNormal: return "tarea_normal";
  }
  return "?";
}

CpuBatch MakeCpuBatch(CpuJob job, int64_t tasks, int64_t n) {
  CpuBatch b;
  b.inputs.resize(static_cast<size_t>(tasks));
  switch (job) {
    case CpuJob::kCpuIntensivo:
      std::fill(b.inputs.begin(), b.inputs.end(), n);
      b.task = cpu_intensivo;
      break;
    case CpuJob::kTrabajo:
      std::iota(b.inputs.begin(), b.inputs.end(), 0);
      b.task = trabajo;
      break;
    case CpuJob::kTareaNormal:
      std::iota(b.inputs.begin(), b.inputs.end(), 0);
      b.task = tarea_normal;
      break;
  }
  return b;
}

}  // namespace concbench
