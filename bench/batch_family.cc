#include "batch_family.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <map>
#include <memory>
#include <numeric>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "echo_support.h"
#include "family.h"
#include "measure/ideal.h"
#include "measure/probe.h"
#include "models.h"
#include "models/gil.h"
#include "trace.h"
#include "workload/echo_server.h"
#include "workloads.h"

namespace concbench {
namespace {

constexpr double kWaitBudgetS = 0.5;     // seconds per benchmark repetition when tasks wait
constexpr double kComputeBudgetS = 0.1;  // when they only compute
// The smoke suite is a quick check, and the suite scripts/ab compares two builds with: its
// compute families time 0.1 s a repetition (20 ms of a two-thread batch wandered by 15–30 % on a
// 2-vCPU VM, too much to see a 10 % change in 20 pairs), and its calibrations are the shortest
// that give a median (three rounds), which pays for it.
constexpr double kSmokeComputeS = 0.1;

// How long a family calibrates: the compute's serial cost (Calibrate's rounds and least seconds)
// and the machine's capacity before each repetition (MeasureBatchCapacity's pairs of rounds),
// unless --no_machine_ideal.
struct Effort {
  int rounds = 3;
  double calibrate_min_s = 0.2;
  CapacityForOptions capacity;
  bool machine_ideal = true;
};
Effort EffortFor(const Options& o) {
  Effort e;
  if (o.suite == Suite::kSmoke) e = {.calibrate_min_s = 0.0, .capacity = {.min_pairs = 3, .max_pairs = 3}};
  e.machine_ideal = !o.no_machine_ideal;
  return e;
}
constexpr double kInf = std::numeric_limits<double>::infinity();

// What a batch's compute costs and gives, from a serial calibration (measure/ideal.h's
// Calibrate) of its compute steps alone. Calibrating takes tens of milliseconds and Google
// Benchmark calls a benchmark function several times while it sizes a run, so it is done once per
// process and cached by spec, inputs and GIL.
struct ComputeCost {
  std::vector<double> task_seconds;  // each task's compute, seconds (all 0 without compute)
  int64_t checksum = 0;              // Σ of the compute steps' results
};

std::string SpecKey(const TaskSpec& spec) {
  std::string key;
  for (const Step& s : spec.steps) key += DescribeStep(s) + ";";
  return key;
}

const ComputeCost& CachedComputeCost(const TaskSpec& spec, std::span<const int64_t> inputs, bool gil,
                                     const Effort& effort) {
  static std::map<std::tuple<std::string, std::vector<int64_t>, bool>, ComputeCost> cache;
  const TaskSpec compute = ComputeOnly(spec);
  auto key = std::make_tuple(SpecKey(compute), std::vector<int64_t>(inputs.begin(), inputs.end()), gil);
  auto it = cache.find(key);
  if (it != cache.end()) return it->second;
  ComputeCost cost;
  if (compute.steps.empty()) {
    cost.task_seconds.assign(inputs.size(), 0.0);
  } else {
    // Under the GIL the same sums are computed in slices with a checkpoint between them, on one
    // thread that never has to hand the lock over.
    Gil lock;
    const TaskEnv none;
    const TaskFn fn = gil ? TaskFn([&](int64_t x) { return RunTaskUnderGil(compute, x, none, lock); })
                          : TaskFn([&](int64_t x) { return RunTaskBlocking(compute, x, none); });
    const Calibration c = Calibrate(inputs, fn, effort.rounds, effort.calibrate_min_s);
    cost = {c.task_seconds, c.checksum};
  }
  return cache.emplace(std::move(key), std::move(cost)).first->second;
}

// Σ over tasks and wait steps of what the waits give (workload/blocking.h's WaitStepResult).
int64_t WaitChecksum(const TaskSpec& spec, std::span<const int64_t> inputs, const TaskEnv& env) {
  int64_t sum = 0;
  for (const Step& s : spec.steps) {
    if (s.kind == StepKind::kCompute) continue;
    for (const int64_t x : inputs) sum += WaitStepResult(s, x, env);
  }
  return sum;
}

// The echo server and payloads a spec's echo steps need (one delay and one size per spec).
struct EchoResources {
  std::unique_ptr<EchoServer> server;
  std::optional<EchoBatch> payloads;
};

TaskEnv MakeEnv(const TaskSpec& spec, int64_t tasks, int64_t concurrent, EchoResources* echo) {
  TaskEnv env;
  for (const Step& s : spec.steps) {
    if (s.kind != StepKind::kEcho || echo->server) continue;
    CheckDescriptors(concurrent, std::to_string(concurrent) + " concurrent connections");
    const auto delay = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::nanoseconds(s.arg));
    echo->server = std::make_unique<EchoServer>(EchoServerOptions{.delay = delay});
    echo->payloads.emplace(tasks, static_cast<size_t>(s.bytes));
    env = {.echo_server = echo->server->address(), .echo = &*echo->payloads,
           .echo_options = EchoClientOptionsFor(delay.count())};
  }
  return env;
}

// machine_ideal_s: the ideal with what the machine delivers right now, measured on this very
// batch's compute just before the timed loop (measure/probe.h's MeasureBatchCapacity: serial and
// parallel rounds, interleaved, a few tens of ms): the parallel capacity, and one core's speed
// (the calibrated task times are scaled to the serial time of those rounds). Both drift within
// minutes, so neither a start-of-run probe nor the cached calibration would do.
struct MachineNow {
  double ideal_s;
  double capacity;
};

// How many of the batch's first tasks the calibration runs: enough for one of its rounds (and at
// least one per thread), not the whole batch. A round that must run the whole batch lasts as long
// as the batch: 64 tasks of 10 ms made every repetition of the map's CPU-heavy cells pay 3.5 s of
// calibration (a first pass and three pairs of rounds), most of the default map's 16 minutes.
size_t CalibrationPrefix(const std::vector<double>& task_seconds, int threads, double round) {
  double sum = 0;
  size_t m = 0;
  while (m < task_seconds.size() && (sum < round || m < static_cast<size_t>(threads))) sum += task_seconds[m++];
  return m;
}

MachineNow MachineIdeal(const TaskSpec& spec, std::span<const int64_t> inputs, const ComputeCost& cost,
                        const BatchShape& shape, const CapacityForOptions& options) {
  const TaskSpec compute = ComputeOnly(spec);
  const TaskEnv none;
  const int threads = static_cast<int>(std::min<int64_t>(shape.cpu_slots, UsableCores()));
  const size_t m = CalibrationPrefix(cost.task_seconds, threads, options.round_seconds);
  const BatchCapacity now = MeasureBatchCapacity(
      inputs.first(m), [&](int64_t x) { return RunTaskBlocking(compute, x, none); }, threads, options);
  const double calibrated = std::accumulate(cost.task_seconds.begin(), cost.task_seconds.begin() + static_cast<ptrdiff_t>(m), 0.0);
  std::vector<double> task_seconds = cost.task_seconds;
  const double scale = calibrated > 0 && now.serial_seconds > 0 ? now.serial_seconds / calibrated : 1.0;
  for (double& t : task_seconds) t *= scale;
  return {BatchIdealSeconds(task_seconds, WaitSeconds(spec), LastWaitSeconds(spec), shape, now.capacity),
          now.capacity};
}

void RunBatchFamily(benchmark::State& state, const Args& args, const ModelInfo& model, const WorkloadInfo& workload,
                    const Effort& effort) {
  const TaskSpec spec = workload.spec(args);
  const std::vector<int64_t> inputs = workload.inputs(args);
  const auto tasks = static_cast<int64_t>(inputs.size());
  const BatchShape shape = model.shape(args);
  EchoResources echo;
  const TaskEnv env = MakeEnv(spec, tasks, shape.lanes > 0 ? std::min(shape.lanes, tasks) : tasks, &echo);

  const ComputeCost& cost = CachedComputeCost(spec, inputs, model.gil, effort);
  const int64_t expected = cost.checksum + WaitChecksum(spec, inputs, env);
  const bool computes = (StepKindsOf(spec) & StepKindBit(StepKind::kCompute)) != 0;
  const double ideal = BatchIdealSeconds(cost.task_seconds, WaitSeconds(spec), LastWaitSeconds(spec), shape, kInf);
  const std::optional<MachineNow> machine =
      computes && model.parallel && effort.machine_ideal
          ? std::optional<MachineNow>(MachineIdeal(spec, inputs, cost, shape, effort.capacity))
          : std::nullopt;

  const int64_t ipc_payload = OwnsArg(workload, "payload") ? 0 : args.Get("payload", 0);
  std::unique_ptr<BatchRunner> runner =
      model.make_runner({.args = args, .spec = spec, .inputs = inputs, .env = env, .ipc_payload = ipc_payload});
  if (model.warm_up) runner->WarmUp();
  const auto meter = TimeIterations(
      state,
      {.checksum = expected,
       .ideal_s = ideal,
       .machine_ideal_s = machine ? std::optional(machine->ideal_s) : std::nullopt,
       .machine_capacity = machine ? std::optional(machine->capacity) : std::nullopt,
       .items = tasks,
       .live_workers = runner->live_workers()},
      [&] { return Checksum(runner->Run(nullptr)); });
  if (meter) runner->AddCounters(state, *meter);
  // The traced iteration: one batch more after the last repetition, outside the timed loop.
  if (TraceFile* trace = ActiveTrace();
      trace != nullptr && meter && CurrentIsLastRepetition() && trace->Wants(CurrentBenchmark())) {
    TraceRecorder recorder(CurrentBenchmark(), model.task_tracks, spec, inputs);
    recorder.Begin();
    try {
      runner->Run(&recorder);
    } catch (const std::exception& e) {
      recorder.Error(e.what());
      Fail(state, std::string("the traced iteration failed: ") + e.what());
    }
    recorder.End();
    trace->Add(recorder, ideal);
  }
  runner.reset();  // a pool's workers are reaped, a loop closed, before the server stops
  if (echo.server) {
    if (const std::string err = echo.server->Stop(); !err.empty() && !state.error_occurred()) {
      Fail(state, "echo server did not stop cleanly: " + err);
      return;
    }
    // One request per task and nothing else: then the iteration's time per task is a request's.
    if (!meter || spec.steps.size() != 1) return;
    SetWallPerTask(state, *meter, "request_us", static_cast<double>(tasks), 1e-6);
    state.SetBytesProcessed(state.iterations() * tasks * static_cast<int64_t>(echo.payloads->payload_bytes()) * 2);
  }
}

// A request to the loopback echo server costs a round trip even with no server delay (about
// 60 µs here for a blocking client). Without it an echo of delay 0 was planned as nearly free:
// the sweep's sync/echo/delay_ms:0 got 1,000,000 iterations and ran past its 60 s deadline.
constexpr double kEchoRoundTripS = 60e-6;

// Seconds one iteration should take, only to size the run: the ideal of rough per-task costs
// (compute, and each echo's round trip) plus what the model adds.
Estimate EstimateFor(const ModelInfo& model, const WorkloadInfo& workload) {
  return [&model, &workload](const Args& a) {
    const TaskSpec spec = workload.spec(a);
    const int64_t tasks = static_cast<int64_t>(workload.inputs(a).size());
    const auto echoes = std::count_if(spec.steps.begin(), spec.steps.end(),
                                      [](const Step& s) { return s.kind == StepKind::kEcho; });
    const std::vector<double> cpu(static_cast<size_t>(tasks),
                                  workload.cpu_estimate_s(a) + kEchoRoundTripS * static_cast<double>(echoes));
    return BatchIdealSeconds(cpu, WaitSeconds(spec), LastWaitSeconds(spec), model.shape(a), kInf) +
           model.overhead_s(a, tasks);
  };
}

// A repetition's time outside its iterations: the warm-up batch, and the calibration of
// machine_ideal_s (MeasureBatchCapacity: at most its budget and a last pair of rounds of 10 ms
// and 5 ms, or its fewest pairs, after a first pass).
Estimate SetupFor(const ModelInfo& model, const WorkloadInfo& workload, const Effort& effort) {
  const CapacityForOptions& c = effort.capacity;
  const double calibration = std::min(c.budget_seconds + 1.5 * c.round_seconds, c.max_pairs * 1.5 * c.round_seconds) +
                             c.round_seconds;
  return [&model, &workload, calibration, on = effort.machine_ideal, iteration = EstimateFor(model, workload)](const Args& a) {
    const bool computes = (StepKindsOf(workload.spec(a)) & StepKindBit(StepKind::kCompute)) != 0;
    return (model.warm_up ? iteration(a) : 0.0) + (computes && model.parallel && on ? calibration : 0.0);
  };
}

}  // namespace

int RegisterBatchFamilies(const Options& o, std::string_view base) {
  int registered = 0;
  for (const ModelInfo& model : Models()) {
    if (ModelOfName(model.name).substr(0, model.name.find('.')) != base || model.make_runner == nullptr) continue;
    for (const WorkloadInfo& workload : Workloads()) {
      for (const ModelGrids& g : workload.models) {
        if (g.model != model.name) continue;
        const bool waits = (workload.steps & (StepKindBit(StepKind::kSleep) | StepKindBit(StepKind::kEcho))) != 0;
        const Effort effort = EffortFor(o);
        registered += RegisterFamily(
            o, {.name = std::string(model.name) + "/" + std::string(workload.name),
                .grids = g.grids,
                .body = [&model, &workload, effort](benchmark::State& s, const Args& a) {
                  RunBatchFamily(s, a, model, workload, effort);
                },
                .budget = {.seconds = waits ? kWaitBudgetS : kComputeBudgetS,
                           .estimate = EstimateFor(model, workload),
                           .setup = SetupFor(model, workload, effort),
                           .smoke_seconds = waits ? kSmokeSeconds : kSmokeComputeS}});
      }
    }
  }
  return registered;
}

}  // namespace concbench
