// The notebook's CPU jobs as batches of tasks, shared by every model's CPU families.
//
//   job            workload name   inputs                      notebook
//   kCpuIntensivo  cpu             tasks × n (all equal)       section 4: [200_000] * 4
//   kTrabajo       trabajo         0, 1, ..., tasks-1          section 4.1: range(200)
//   kTareaNormal   tarea_normal    0, 1, ..., tasks-1          section 5.3: range(4)
//
//   CpuBatch b = MakeCpuBatch(CpuJob::kCpuIntensivo, /*tasks=*/4, /*n=*/200'000);
//   auto results = RunSync(b.inputs, b.task);  // four times 9600239
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "workload/task.h"

namespace concbench {

enum class CpuJob { kCpuIntensivo, kTrabajo, kTareaNormal };

inline constexpr CpuJob kAllCpuJobs[] = {CpuJob::kCpuIntensivo, CpuJob::kTrabajo,
                                         CpuJob::kTareaNormal};

// The workload part of a benchmark name: "cpu", "trabajo" or "tarea_normal".
std::string_view CpuJobWorkload(CpuJob job);

struct CpuBatch {
  std::vector<int64_t> inputs;
  TaskFn task;
};

// `n` is used by kCpuIntensivo only.
CpuBatch MakeCpuBatch(CpuJob job, int64_t tasks, int64_t n = 0);

}  // namespace concbench
