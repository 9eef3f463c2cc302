// The `processes` families: concbench's fork-based worker pool (notebook sections 4, 4.1 and 5.3),
// one fork per task, the pool's start-up on its own, and the IPC cost against a bare pipe.
//
//   processes/sleep/tasks:T/workers:W/sleep_ms:S/chunksize:C       blocking sleeps in the workers;
//                                                                  ideal = makespan of the chunks
//   processes/cpu/tasks:T/workers:W/n:N/chunksize:C               T × cpu_intensivo(N) (section 4)
//   processes/trabajo/tasks:T/workers:W/chunksize:C/payload:P     trabajo(0..T-1), P bytes per task
//                                                                  each way (section 4.1)
//   processes/tarea_normal/tasks:T/workers:W/chunksize:C          tarea_normal(0..T-1) (section 5.3)
//   processes.with_startup/<cpu|trabajo|tarea_normal>/...          the same, building and shutting
//                                                                  down the pool inside every
//                                                                  iteration, as the notebook's
//                                                                  `with ProcessPoolExecutor()` did
//   processes.per_task/<sleep|cpu|trabajo|tarea_normal>/...        one fork per task, no reuse
//   processes/startup/workers:W                                    fork W workers and reap them
//   processes/roundtrip/tasks:T/workers:1/chunksize:C/payload:P   the pool with a task that does
//                                                                  nothing: the IPC cost alone
//   processes.bare_pipe/roundtrip/payload:P                        one message there and back over
//                                                                  two bare pipes, the floor
//
// CPU ideal = Makespan of the calibrated task times on min(W, usable cores) workers with the
// family's chunksize; sleep ideal = the same with every task S long on W workers.
//
// Extra counters (per iteration unless said otherwise):
//   ipc_bytes     bytes of frames the parent wrote and read (headers, items and payloads)
//   ipc_messages  frames the parent wrote and read (one each way per chunk)
//   roundtrip_s   wall time of one request/response message pair (roundtrip families)
// cpu_util counts the workers too: a pool's workers live through the whole timed loop, so
// RUSAGE_CHILDREN (which counts reaped children only) cannot see them; each worker reports its
// own cumulative getrusage(RUSAGE_SELF) CPU time and context switches in every results frame, and
// the difference over the loop is added to the parent's. The CPU a worker spends after its last
// report of the loop (writing that frame) is the only part missed. Families whose children are
// reaped inside the loop (with_startup, per_task, startup) use RUSAGE_CHILDREN alone.
#include <algorithm>
#include <chrono>
#include <functional>
#include <memory>
#include <numeric>
#include <optional>
#include <string>
#include <vector>

#include "cpu_families.h"
#include "family.h"
#include "measure/ideal.h"
#include "models/bare_pipe.h"
#include "models/fork_per_task.h"
#include "models/process_pool.h"
#include "registry.h"
#include "watchdog.h"
#include "workload/cpu_jobs.h"
#include "workload/sleep.h"

namespace concbench {
namespace {

// Distinct bytes per task, so a payload delivered to the wrong task is noticed.
std::vector<std::string> MakePayloads(size_t tasks, int64_t bytes) {
  std::vector<std::string> p;
  if (bytes <= 0) return p;
  p.reserve(tasks);
  for (size_t i = 0; i < tasks; ++i) p.emplace_back(static_cast<size_t>(bytes), static_cast<char>('a' + i % 26));
  return p;
}

struct PoolJob {
  TaskSpec spec;
  std::span<const int64_t> inputs;
  int64_t workers = 1;
  int64_t chunksize = 1;
  int64_t payload = 0;
  std::optional<double> ideal_s;
  std::optional<double> machine_ideal_s;
  int64_t expected = 0;
  bool with_startup = false;
  int queued_per_worker = 1;  // ProcessPool's default: one chunk waiting behind the running one
};

// The one body of every pool family. Without start-up the pool is built before the timed loop and
// reused by every iteration, and its live workers' usage is added to cpu_util; with start-up each
// iteration builds it, maps, and shuts it down (its workers are then reaped children).
std::optional<Meter> RunPool(benchmark::State& state, const PoolJob& job) {
  const std::vector<std::string> payloads = MakePayloads(job.inputs.size(), job.payload);
  std::unique_ptr<ProcessPool> pool;
  if (!job.with_startup) {
    pool = std::make_unique<ProcessPool>(static_cast<int>(job.workers), job.queued_per_worker);
    pool->SetStallTimeout(RunStallTimeout());  // a silent worker is named before the watchdog fires
  }
  IpcStats ipc;
  MapResult r;  // reused: payloads are deserialised into buffers the loop already owns
  const auto meter = TimeIterations(
      state,
      {.checksum = job.expected,
       .ideal_s = job.ideal_s,
       .machine_ideal_s = job.machine_ideal_s,
       .items = static_cast<int64_t>(job.inputs.size()),
       .live_workers = pool ? LiveWorkers([&pool] { return pool->worker_usage(); }) : LiveWorkers()},
      [&] {
        std::unique_ptr<ProcessPool> local;
        ProcessPool* p = pool.get();
        if (job.with_startup) {
          local = std::make_unique<ProcessPool>(static_cast<int>(job.workers), job.queued_per_worker);
          local->SetStallTimeout(RunStallTimeout());
          p = local.get();
        }
        const IpcStats before = p->ipc();
        int64_t sum = 0;
        if (payloads.empty()) {
          sum = Checksum(p->Map(job.spec, job.inputs, job.chunksize));
        } else {
          p->MapWithPayloads(job.spec, job.inputs, payloads, job.chunksize, &r);
          sum = Checksum(r.values);
        }
        if (local) local->Shutdown();
        ipc += p->ipc() - before;
        return sum;
      });
  if (!meter) return std::nullopt;
  // The last iteration's payloads, byte for byte (every iteration's checksum is verified).
  if (r.payloads != payloads) {
    Fail(state, "payloads came back altered (checked after the loop, last iteration)");
    return std::nullopt;
  }
  SetIpcCounters(state, ipc);
  return meter;
}

void PoolSleep(benchmark::State& state, const Args& args) {
  const int64_t tasks = args["tasks"], workers = args["workers"], chunksize = args["chunksize"];
  const std::vector<int64_t> inputs = TaskIndices(tasks);
  RunPool(state, {.spec = SleepSpec(std::chrono::milliseconds(args["sleep_ms"])),
                  .inputs = inputs,
                  .workers = workers,
                  .chunksize = chunksize,
                  .ideal_s = UniformMakespan(tasks, args.Seconds("sleep_ms"), workers, chunksize),
                  .expected = SleepBatchChecksum(tasks)});
}

// Arguments: tasks, workers, chunksize, n (cpu), payload (trabajo).
void PoolCpu(benchmark::State& state, const Args& args, CpuJob job, bool with_startup) {
  const CpuWork w = CpuWorkFor(job, args);
  const int64_t workers = args["workers"], chunksize = args["chunksize"];
  RunPool(state, {.spec = CpuJobSpec(job),
                  .inputs = w.batch.inputs,
                  .workers = workers,
                  .chunksize = chunksize,
                  .payload = args.Get("payload", 0),
                  .ideal_s = Makespan(w.cal.task_seconds, std::min<int64_t>(workers, UsableCores()), chunksize),
                  .machine_ideal_s = MachineIdealFor(w, workers, chunksize),
                  .expected = w.cal.checksum,
                  .with_startup = with_startup});
}

// One fork per task.
void ForkPerTask(benchmark::State& state, const TaskSpec& spec, std::span<const int64_t> inputs, double ideal_s,
             int64_t expected, std::optional<double> machine_ideal_s = std::nullopt) {
  IpcStats ipc;
  const auto meter = TimeIterations(
      state,
      {.checksum = expected, .ideal_s = ideal_s, .machine_ideal_s = machine_ideal_s,
       .items = static_cast<int64_t>(inputs.size())},
      [&] {
        IpcStats one;
        const int64_t sum = Checksum(RunForkPerTask(spec, inputs, &one, RunStallTimeout()));
        ipc += one;
        return sum;
      });
  if (meter) SetIpcCounters(state, ipc);
}

void ForkPerTaskSleep(benchmark::State& state, const Args& args) {
  const std::vector<int64_t> inputs = TaskIndices(args["tasks"]);
  ForkPerTask(state, SleepSpec(std::chrono::milliseconds(args["sleep_ms"])), inputs, args.Seconds("sleep_ms"),
          SleepBatchChecksum(args["tasks"]));
}

void ForkPerTaskCpu(benchmark::State& state, const Args& args, CpuJob job) {
  const CpuWork w = CpuWorkFor(job, args);
  ForkPerTask(state, CpuJobSpec(job), w.batch.inputs, Makespan(w.cal.task_seconds, UsableCores(), 1), w.cal.checksum,
              MachineIdealFor(w, UsableCores(), 1));
}

// Forks a pool and shuts it down (every worker reaped) per iteration.
void Startup(benchmark::State& state, const Args& args) {
  const int workers = static_cast<int>(args["workers"]);
  TimeIterations(state, {.items = workers}, [&] {
    ProcessPool pool(workers);
    pool.Shutdown();
    return int64_t{0};
  });
}

// Echo tasks: the pool's IPC and nothing else, one chunk at a time per worker, so it compares with
// the bare pipe's round trip. There is no ideal: the work is nothing.
void PoolRoundTrip(benchmark::State& state, const Args& args) {
  const int64_t tasks = args["tasks"], workers = args["workers"], chunksize = args["chunksize"];
  const std::vector<int64_t> inputs = TaskIndices(tasks);
  const auto meter = RunPool(state, {.spec = {TaskKind::kEcho, 0},
                                     .inputs = inputs,
                                     .workers = workers,
                                     .chunksize = chunksize,
                                     .payload = args["payload"],
                                     .expected = tasks * (tasks - 1) / 2,
                                     // Nothing queued: each message waits for the previous answer.
                                     .queued_per_worker = 0});
  if (!meter) return;
  // Each worker carries ceil(chunks / workers) round trips one after another.
  const int64_t chunks = (tasks + chunksize - 1) / chunksize;
  SetWallPerTask(state, *meter, "roundtrip_s", static_cast<double>((chunks + workers - 1) / workers), 1.0);
}

// One length-prefixed message there and back per iteration.
void BarePipe(benchmark::State& state, const Args& args) {
  const std::string message(static_cast<size_t>(args["payload"]), 'x');
  std::string reply;
  BarePipeEcho echo;
  echo.SetStallTimeout(RunStallTimeout());
  // The parent's side only: the echo child is alive through the loop and reaped after it.
  const auto meter = TimeIterations(state, {}, [&] {
    echo.RoundTrip(message, &reply);
    return int64_t{0};
  });
  if (!meter) return;
  if (reply != message) {
    Fail(state, "the echo child sent back different bytes");
    return;
  }
  SetWallPerTask(state, *meter, "roundtrip_s", 1, 1.0);
  const auto n = static_cast<int64_t>(state.iterations());
  SetIpcCounters(state, {2 * (4 + static_cast<int64_t>(message.size())) * n, 2 * n});
}

// ---- registration -----------------------------------------------------------------------------

// A benchmark repetition gets about a tenth of a second, from a rough cost estimate: with the
// five repetitions scripts/run asks for, this model stays near half a minute. The estimates
// only size the runs; they never enter a counter.
constexpr double kBudgetS = 0.1;
constexpr double kSleepBudgetS = 0.5;
constexpr double kMessageEstimateS = 30e-6;  // one chunk there and back, measured ~20 us here
constexpr double kForkEstimateS = 500e-6;    // fork + exit + reap of one child

// Serial seconds of one task, measured on the reference machine (sync families).
double TaskEstimateS(CpuJob job, const Args& a) {
  switch (job) {
    case CpuJob::kCpuIntensivo: return 1.75e-9 * static_cast<double>(a["n"]);
    case CpuJob::kTrabajo: return 75e-6;
    case CpuJob::kTareaNormal: return 500e-6;
  }
  return 1e-3;
}

double Chunks(int64_t tasks, int64_t chunksize) { return static_cast<double>((tasks + chunksize - 1) / chunksize); }

// A pool family: the tasks and their messages spread over min(workers, cores), payloads copied
// both ways, plus the forks when the pool starts inside the iteration.
Estimate PoolEstimate(CpuJob job, bool with_startup) {
  return [=](const Args& a) {
    const int64_t tasks = a["tasks"], workers = a["workers"];
    const double cores = static_cast<double>(std::min<int64_t>(workers, UsableCores()));
    const double payload = static_cast<double>(a.Get("payload", 0));
    return TaskEstimateS(job, a) * static_cast<double>(tasks) / cores +
           Chunks(tasks, a["chunksize"]) * kMessageEstimateS / cores + 2 * payload * static_cast<double>(tasks) / 1e9 +
           (with_startup ? kForkEstimateS * static_cast<double>(workers) : 0);
  };
}

// One fork per task, every child at once on the usable cores.
Estimate PerTaskEstimate(CpuJob job) {
  return [job](const Args& a) {
    return static_cast<double>(a["tasks"]) * (TaskEstimateS(job, a) / UsableCores() + kForkEstimateS);
  };
}

void RegisterProcesses(const Options& o) {
  const int64_t cores = UsableCores();  // ProcessPoolExecutor's default size
  auto none_if = [](bool cond, std::vector<Grid> g) { return cond ? std::vector<Grid>{} : g; };

  RegisterFamily(o, {.name = "processes/sleep",
                     .grids = {.notebook = {{{"tasks", {5}}, {"workers", {5}}, {"sleep_ms", {200}}, {"chunksize", {1}}}},
                               .smoke = {{{"tasks", {4}}, {"workers", {2}}, {"sleep_ms", {1}}, {"chunksize", {1, 3}}}},
                               .sweep = {{{"tasks", {16, 64}}, {"workers", {2, 8}}, {"sleep_ms", {1, 10}}, {"chunksize", {1, 4}}}}},
                     .body = PoolSleep,
                     .budget = Fixed(kSleepBudgetS, [](const Args& a) {
                       return UniformMakespan(a["tasks"], a.Seconds("sleep_ms"), a["workers"], a["chunksize"]);
                     })});

  for (const bool startup : {false, true}) {
    const std::string model = startup ? "processes.with_startup" : "processes";
    auto family = [&](CpuJob job, SuiteGrids grids) {
      return Family{.name = model + "/" + std::string(CpuJobWorkload(job)),
                    .grids = std::move(grids),
                    .body = [job, startup](benchmark::State& s, const Args& a) { PoolCpu(s, a, job, startup); },
                    .budget = Fixed(kBudgetS, PoolEstimate(job, startup))};
    };
    // Start-up variants: the notebook's own measurements (and one smoke row), not swept.
    RegisterFamily(o, family(CpuJob::kCpuIntensivo,
                             {.notebook = {{{"tasks", {4}}, {"workers", {cores}}, {"n", {200'000}}, {"chunksize", {1}}}},  // 4
                              .smoke = {{{"tasks", {2}}, {"workers", {2}}, {"n", {1'000}}, {"chunksize", {1}}}},
                              .sweep = none_if(startup, {{{"tasks", {4, 16}}, {"workers", {1, 2, 4}},
                                                          {"n", {200'000}}, {"chunksize", {1}}}})}));
    RegisterFamily(o, family(CpuJob::kTrabajo,
                             {.notebook = {{{"tasks", {200}}, {"workers", {cores}}, {"chunksize", {1, 20}}, {"payload", {0}}}},  // 4.1
                              .smoke = none_if(startup, {{{"tasks", {3}}, {"workers", {2}}, {"chunksize", {1, 2}},
                                                          {"payload", {0, 16}}}}),
                              .sweep = none_if(startup, {{{"tasks", {200}},
                                                          {"workers", {cores}},
                                                          {"chunksize", {1, 2, 5, 10, 20, 50, 100, 200}},
                                                          {"payload", {0, 64, 1024, 16384, 65536}}}})}));
    RegisterFamily(o, family(CpuJob::kTareaNormal,
                             {.notebook = {{{"tasks", {4}}, {"workers", {cores}}, {"chunksize", {1}}}},  // 5.3
                              .smoke = none_if(startup, {{{"tasks", {2}}, {"workers", {2}}, {"chunksize", {1}}}}),
                              .sweep = none_if(startup, {{{"tasks", {4, 16}}, {"workers", {2}}, {"chunksize", {1, 4}}}})}));
  }

  RegisterFamily(o, {.name = "processes.per_task/sleep",
                     .grids = {.notebook = {},
                               .smoke = {{{"tasks", {3}}, {"sleep_ms", {1}}}},
                               .sweep = {{{"tasks", {4, 64}}, {"sleep_ms", {10}}}}},
                     .body = ForkPerTaskSleep,
                     .budget = Fixed(kSleepBudgetS, [](const Args& a) {
                       return a.Seconds("sleep_ms") + 2e-4 * static_cast<double>(a["tasks"]);
                     })});
  auto per_task = [](CpuJob job, SuiteGrids grids) {
    return Family{.name = "processes.per_task/" + std::string(CpuJobWorkload(job)),
                  .grids = std::move(grids),
                  .body = [job](benchmark::State& s, const Args& a) { ForkPerTaskCpu(s, a, job); },
                  .budget = Fixed(kBudgetS, PerTaskEstimate(job))};
  };
  RegisterFamily(o, per_task(CpuJob::kCpuIntensivo, {.notebook = {{{"tasks", {4}}, {"n", {200'000}}}},
                                                     .smoke = {{{"tasks", {2}}, {"n", {1'000}}}},
                                                     .sweep = {{{"tasks", {4, 16}}, {"n", {200'000}}}}}));
  RegisterFamily(o, per_task(CpuJob::kTrabajo, {.notebook = {{{"tasks", {200}}}}, .smoke = {}, .sweep = {{{"tasks", {200}}}}}));
  RegisterFamily(o, per_task(CpuJob::kTareaNormal, {.notebook = {{{"tasks", {4}}}}, .smoke = {}, .sweep = {{{"tasks", {4, 16}}}}}));

  RegisterFamily(o, {.name = "processes/startup",
                     .grids = {.notebook = {{{"workers", {cores}}}},
                               .smoke = {{{"workers", {2}}}},
                               .sweep = {{{"workers", {1, 2, 4, 8, 16, 32}}}}},
                     .body = Startup,
                     .budget = Fixed(kBudgetS, [](const Args& a) { return kForkEstimateS * static_cast<double>(a["workers"]); })});

  RegisterFamily(o, {.name = "processes/roundtrip",
                     .grids = {.notebook = {{{"tasks", {1000}}, {"workers", {1}}, {"chunksize", {1}}, {"payload", {0, 4096}}}},
                               .smoke = {{{"tasks", {20}}, {"workers", {1}}, {"chunksize", {1}}, {"payload", {0}}}},
                               .sweep = {{{"tasks", {1000}}, {"workers", {1}}, {"chunksize", {1, 10}},
                                          {"payload", {0, 64, 1024, 16384, 65536}}}}},
                     .body = PoolRoundTrip,
                     .budget = Fixed(kBudgetS, [](const Args& a) {
                       return Chunks(a["tasks"], a["chunksize"]) * kMessageEstimateS +
                              2 * static_cast<double>(a["tasks"] * a["payload"]) / 1e9;
                     })});
  RegisterFamily(o, {.name = "processes.bare_pipe/roundtrip",
                     .grids = {.notebook = {{{"payload", {0, 4096}}}},
                               .smoke = {{{"payload", {0}}}},
                               .sweep = {{{"payload", {0, 64, 1024, 16384, 65536}}}}},
                     .body = BarePipe,
                     .budget = Fixed(kBudgetS, [](const Args& a) {
                       return kMessageEstimateS + 2 * static_cast<double>(a["payload"]) / 1e9;
                     })});
}

const bool kRegistered = AddFamilyGroup("processes", RegisterProcesses);

}  // namespace
}  // namespace concbench
