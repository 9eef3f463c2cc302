// The table of workloads: what one task does, as a TaskSpec (workload/task_spec.h) built from a
// benchmark's arguments, its inputs, a rough cost to size runs, and the grids each model runs it
// on in the smoke and sweep suites (the notebook suite's come from the table of cells,
// bench/cells.h). Every (workload, model) pair with grids is one family, `<model>/<workload>`,
// whose body is the one batch family (bench/batch_family.h): the model's runner runs the spec.
//
// A new workload is a row here: a spec, inputs, a cost, grids. No model changes.
//
//   const WorkloadInfo* w = FindWorkload("sleep");
//   TaskSpec spec = w->spec(args);                 // {{SleepStep(args.sleep_ms)}}
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "registry.h"
#include "workload/task_spec.h"

namespace concbench {

struct ModelGrids {
  std::string_view model;
  SuiteGrids grids;  // notebook: rows beyond the notebook's cells (the cells are added to them)
};

struct WorkloadInfo {
  std::string_view name;
  std::string_view summary;
  unsigned steps = 0;  // the step kinds its spec uses (StepKindBit)
  // The arguments the workload reads (the others are the model's: workers, chunksize, payload).
  std::vector<std::string_view> args;
  TaskSpec (*spec)(const Args& args) = nullptr;
  std::vector<int64_t> (*inputs)(const Args& args) = nullptr;
  // Rough CPU seconds of one task on the reference 2-core VM, only to size runs.
  double (*cpu_estimate_s)(const Args& args) = nullptr;
  std::vector<ModelGrids> models;
};

// Every workload, in the notebook's order.
std::span<const WorkloadInfo> Workloads();
const WorkloadInfo* FindWorkload(std::string_view name);

// Whether `name` is one of the workload's own arguments.
bool OwnsArg(const WorkloadInfo& w, std::string_view name);

// The table as JSON: {"workloads": [{"name", "summary", "args": [...], "steps": ["sleep"],
// "models": [...]}]}, where "steps" are the kinds of step its spec uses.
std::string WorkloadsJson();

}  // namespace concbench
