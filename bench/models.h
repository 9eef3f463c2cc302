// The table of models: every model and variant concbench measures, in the order the notebook
// introduces them, with what it is, its Python twin in the notebook, and which step kinds of a
// TaskSpec (workload/task_spec.h) it can run. It is the one list of models: the binary exports it
// (`concbench --list_models`, and the results' context key `concbench_models`), and the scripts
// take names, order, colours and labels from there.
//
// A model that runs TaskSpecs also has a batch runner here: one object built before the timed
// loop (a pool forked, a loop opened) that runs one batch per iteration with the model's own
// mechanism. Every workload of bench/workloads.h runs through it, so a new workload needs no code
// here, and a new model is a runner and a row.
//
//   const ModelInfo* m = FindModel("threads.gil");
//   auto runner = m->make_runner({.args = args, .spec = spec, .env = env, .gil_calibrated = ...});
//   std::vector<int64_t> results = runner->Run(positions, nullptr);
#pragma once

#include <benchmark/benchmark.h>

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "counters.h"
#include "measure/ideal.h"
#include "registry.h"
#include "workload/blocking.h"
#include "workload/task_env.h"
#include "workload/task_spec.h"

namespace concbench {

// One model's way of running a batch, built outside the timed loop and used by every iteration.
class BatchRunner {
 public:
  virtual ~BatchRunner() = default;
  // Runs task i = inputs[i] for every i; the results in input order. `observer` (the traced
  // iteration) sees every task and step, or is null.
  virtual std::vector<int64_t> Run(TaskObserver* observer) = 0;
  // One untimed batch before the timed loop, for a model that keeps the threads or processes it
  // started (ModelInfo::warm_up); the runner's counters start after it. The first batch on fresh
  // workers pays what later ones do not: a forked worker's copy-on-write faults, the first
  // touches of stacks and buffers. In the notebook's one-batch echo and sleep cells that was
  // 2–6 ms (processes/echo read 1.0096 of its ideal before, 1.0025 after).
  virtual void WarmUp() {}
  // Usage of processes alive through the whole timed loop (a pool's workers), for cpu_util.
  virtual LiveWorkers live_workers() { return {}; }
  // The counters only this model has, after a successful timed loop.
  virtual void AddCounters(benchmark::State& /*state*/, const Meter& /*meter*/) {}
};

// What a runner is built from. Everything it points to outlives the runner.
struct RunnerSetup {
  const Args& args;
  const TaskSpec& spec;
  std::span<const int64_t> inputs;
  const TaskEnv& env;
  // Bytes each task carries to a worker process and back (the `payload` argument of a workload
  // that has no payload of its own), or 0.
  int64_t ipc_payload = 0;
};

struct ModelInfo {
  std::string_view name;     // "threads.gil"
  std::string_view summary;  // one line
  std::string_view python;   // the notebook's twin ("python.threads"), or "" for none
  unsigned steps = 0;        // step kinds (StepKindBit) its runner runs; 0: no runner, own families only
  // How it runs a batch of these arguments (lanes, CPU slots, chunks), for the ideal.
  BatchShape (*shape)(const Args& args) = nullptr;
  // Its compute can use several cores: machine_ideal_s is reported (against the capacity the
  // machine delivers on the batch's compute just before the timed loop).
  bool parallel = false;
  // Compute under the emulated GIL: its ideal uses the GIL's own (sliced) calibration.
  bool gil = false;
  // Tasks interleave on one thread (an event loop): the trace gives each task a lane of its own.
  bool task_tracks = false;
  // Rough seconds the model adds to one batch of these arguments (starting threads or processes,
  // messages, timers), only to size runs.
  double (*overhead_s)(const Args& args, int64_t tasks) = nullptr;
  std::unique_ptr<BatchRunner> (*make_runner)(const RunnerSetup& setup) = nullptr;
  // It keeps threads or processes it started (a pool): one untimed batch warms them before the
  // timed loop (BatchRunner::WarmUp).
  bool warm_up = false;
};

// Every model, in the notebook's order.
std::span<const ModelInfo> Models();
// The row of `name`, or nullptr.
const ModelInfo* FindModel(std::string_view name);
// The model part of a benchmark or family name ("threads.gil/cpu/..." -> "threads.gil").
std::string_view ModelOfName(std::string_view name);
// The table as JSON: {"models": [{"name", "summary", "python", "steps": ["compute", ...],
// "base": "threads", "variant": "gil"}, ...]}.
std::string ModelsJson();

}  // namespace concbench
