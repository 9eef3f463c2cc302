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
#include <string>
#include <vector>

#include "counters.h"
#include "cpu_families.h"
#include "measure/ideal.h"
#include "models/bare_pipe.h"
#include "models/fork_per_task.h"
#include "models/process_pool.h"
#include "registry.h"
#include "workload/cpu_jobs.h"
#include "workload/sleep.h"

namespace concbench {
namespace {

using Bench = benchmark::internal::Benchmark;

double Iterations(const benchmark::State& state) {
  return state.iterations() > 0 ? static_cast<double>(state.iterations()) : 1.0;
}

void SetIpcCounters(benchmark::State& state, const IpcStats& ipc) {
  state.counters["ipc_bytes"] = static_cast<double>(ipc.bytes) / Iterations(state);
  state.counters["ipc_messages"] = static_cast<double>(ipc.messages) / Iterations(state);
}

// SetModelCounters, then cpu_util and ctx_switches with what live workers reported about
// themselves over the loop added, then the IPC counters.
void SetProcessCounters(benchmark::State& state, const Meter& meter, double ideal_s, int64_t checksum,
                        const IpcStats& ipc, const WorkerUsage& workers) {
  SetModelCounters(state, meter, ideal_s, checksum);
  const double wall = meter.wall_seconds();
  state.counters["cpu_util"] = wall > 0 ? (meter.usage().cpu_seconds() + workers.cpu_seconds) / wall : 0;
  state.counters["ctx_switches"] =
      static_cast<double>(meter.usage().context_switches() + workers.ctx_switches) / Iterations(state);
  SetIpcCounters(state, ipc);
}

std::vector<int64_t> Indices(int64_t tasks) {
  std::vector<int64_t> v(static_cast<size_t>(tasks));
  std::iota(v.begin(), v.end(), 0);
  return v;
}

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
  double ideal_s = 0;
  int64_t expected = 0;
  bool with_startup = false;
  int queued_per_worker = 1;  // ProcessPool's default: one chunk waiting behind the running one
};

// The one body of every pool family. Without start-up the pool is built before the timed loop and
// reused by every iteration; with start-up each iteration builds it, maps, and shuts it down.
void RunPool(benchmark::State& state, const PoolJob& job) {
  const std::vector<std::string> payloads = MakePayloads(job.inputs.size(), job.payload);
  std::unique_ptr<ProcessPool> pool;
  try {
    if (!job.with_startup) pool = std::make_unique<ProcessPool>(static_cast<int>(job.workers), job.queued_per_worker);
  } catch (const std::exception& e) {
    Fail(state, e.what());
    return;
  }
  const IpcStats ipc_before = pool ? pool->ipc() : IpcStats{};
  const WorkerUsage usage_before = pool ? pool->worker_usage() : WorkerUsage{};
  IpcStats ipc_reaped;  // traffic of pools built and shut down inside the loop
  int64_t mismatches = 0, wrong = 0;
  MapResult r;  // reused: payloads are deserialised into buffers the loop already owns
  Meter meter;
  meter.Start();
  for (auto _ : state) {
    try {
      std::unique_ptr<ProcessPool> local;
      ProcessPool* p = pool.get();
      if (job.with_startup) {
        local = std::make_unique<ProcessPool>(static_cast<int>(job.workers), job.queued_per_worker);
        p = local.get();
      }
      int64_t sum = 0;
      if (payloads.empty()) {
        sum = Checksum(p->Map(job.spec, job.inputs, job.chunksize));
      } else {
        p->MapWithPayloads(job.spec, job.inputs, payloads, job.chunksize, &r);
        sum = Checksum(r.values);
      }
      if (sum != job.expected) ++mismatches, wrong = sum;
      if (local) {
        local->Shutdown();
        ipc_reaped += local->ipc();
      }
    } catch (const std::exception& e) {
      Fail(state, e.what());
      break;
    }
  }
  meter.Stop();
  if (state.error_occurred()) return;
  // The last iteration's payloads, byte for byte (every iteration's checksum is verified).
  if (r.payloads != payloads) {
    Fail(state, "payloads came back altered (checked after the loop, last iteration)");
    return;
  }
  if (!VerifyChecksums(state, mismatches, wrong, job.expected)) return;
  IpcStats ipc = ipc_reaped;
  WorkerUsage workers;
  if (pool) {
    ipc += pool->ipc() - ipc_before;
    const WorkerUsage after = pool->worker_usage();
    workers.cpu_seconds = after.cpu_seconds - usage_before.cpu_seconds;
    workers.ctx_switches = after.ctx_switches - usage_before.ctx_switches;
  }
  SetProcessCounters(state, meter, job.ideal_s, job.expected, ipc, workers);
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(job.inputs.size()));
}

// Arguments: tasks, workers, sleep_ms, chunksize.
void PoolSleep(benchmark::State& state) {
  const int64_t tasks = state.range(0), workers = state.range(1), chunksize = state.range(3);
  const auto sleep = std::chrono::milliseconds(state.range(2));
  const std::vector<int64_t> inputs = Indices(tasks);
  int64_t expected = 0;
  for (int64_t i : inputs) expected += sleep_task_result(i);
  RunPool(state, {.spec = SleepSpec(sleep),
                  .inputs = inputs,
                  .workers = workers,
                  .chunksize = chunksize,
                  .ideal_s = UniformMakespan(tasks, std::chrono::duration<double>(sleep).count(), workers, chunksize),
                  .expected = expected});
}

// Arguments: cpu: tasks, workers, n, chunksize; trabajo: tasks, workers, chunksize, payload;
// tarea_normal: tasks, workers, chunksize.
void PoolCpu(benchmark::State& state, CpuJob job, bool with_startup) {
  const int64_t tasks = state.range(0), workers = state.range(1);
  const int64_t n = job == CpuJob::kCpuIntensivo ? state.range(2) : 0;
  const int64_t chunksize = job == CpuJob::kCpuIntensivo ? state.range(3) : state.range(2);
  const int64_t payload = job == CpuJob::kTrabajo ? state.range(3) : 0;
  const CpuBatch& batch = CachedCpuBatch(job, tasks, n);
  const Calibration& cal = CachedCalibration(job, tasks, n);
  const int64_t cores = std::min<int64_t>(workers, UsableCores());
  RunPool(state, {.spec = CpuJobSpec(job),
                  .inputs = batch.inputs,
                  .workers = workers,
                  .chunksize = chunksize,
                  .payload = payload,
                  .ideal_s = Makespan(cal.task_seconds, cores, chunksize),
                  .expected = cal.checksum,
                  .with_startup = with_startup});
}

// One fork per task. Arguments: sleep: tasks, sleep_ms; cpu: tasks, n; others: tasks.
void PerTask(benchmark::State& state, const TaskSpec& spec, std::span<const int64_t> inputs, double ideal_s,
             int64_t expected) {
  IpcStats ipc;
  int64_t mismatches = 0, wrong = 0;
  Meter meter;
  meter.Start();
  for (auto _ : state) {
    try {
      IpcStats one;
      const int64_t sum = Checksum(RunForkPerTask(spec, inputs, &one));
      ipc += one;
      if (sum != expected) ++mismatches, wrong = sum;
    } catch (const std::exception& e) {
      Fail(state, e.what());
      break;
    }
  }
  meter.Stop();
  if (state.error_occurred()) return;
  if (!VerifyChecksums(state, mismatches, wrong, expected)) return;
  SetProcessCounters(state, meter, ideal_s, expected, ipc, {});
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(inputs.size()));
}

void PerTaskSleep(benchmark::State& state) {
  const auto sleep = std::chrono::milliseconds(state.range(1));
  const std::vector<int64_t> inputs = Indices(state.range(0));
  int64_t expected = 0;
  for (int64_t i : inputs) expected += sleep_task_result(i);
  PerTask(state, SleepSpec(sleep), inputs, std::chrono::duration<double>(sleep).count(), expected);
}

void PerTaskCpu(benchmark::State& state, CpuJob job) {
  const int64_t n = job == CpuJob::kCpuIntensivo ? state.range(1) : 0;
  const CpuBatch& batch = CachedCpuBatch(job, state.range(0), n);
  const Calibration& cal = CachedCalibration(job, state.range(0), n);
  PerTask(state, CpuJobSpec(job), batch.inputs, Makespan(cal.task_seconds, UsableCores(), 1), cal.checksum);
}

// Argument: workers. Forks a pool and shuts it down (every worker reaped) per iteration.
void Startup(benchmark::State& state) {
  const int workers = static_cast<int>(state.range(0));
  Meter meter;
  meter.Start();
  for (auto _ : state) {
    try {
      ProcessPool pool(workers);
      pool.Shutdown();
    } catch (const std::exception& e) {
      Fail(state, e.what());
      break;
    }
  }
  meter.Stop();
  if (state.error_occurred()) return;
  const double wall = meter.wall_seconds();
  state.counters["cpu_util"] = wall > 0 ? meter.usage().cpu_seconds() / wall : 0;
  state.counters["ctx_switches"] = static_cast<double>(meter.usage().context_switches()) / Iterations(state);
  state.SetItemsProcessed(state.iterations() * workers);
}

// Arguments: tasks, workers, chunksize, payload. Echo tasks: the pool's IPC and nothing else,
// one chunk at a time per worker, so it compares with the bare pipe's round trip.
void PoolRoundTrip(benchmark::State& state) {
  const int64_t tasks = state.range(0), workers = state.range(1), chunksize = state.range(2);
  const std::vector<int64_t> inputs = Indices(tasks);
  const int64_t expected = tasks * (tasks - 1) / 2;
  RunPool(state, {.spec = {TaskKind::kEcho, 0},
                  .inputs = inputs,
                  .workers = workers,
                  .chunksize = chunksize,
                  .payload = state.range(3),
                  .ideal_s = 0,
                  .expected = expected,
                  // Nothing queued: each message waits for the previous answer, a true round trip.
                  .queued_per_worker = 0});
  if (state.error_occurred()) return;
  // With an ideal of 0, overhead_s is the whole measured time of an iteration; each worker
  // carries ceil(chunks / workers) round trips one after another.
  const int64_t chunks = (tasks + chunksize - 1) / chunksize;
  const double serial = static_cast<double>((chunks + workers - 1) / workers);
  state.counters["roundtrip_s"] = state.counters["overhead_s"] / serial;
  // ideal, overhead and efficiency mean nothing when the work is nothing.
  for (const char* k : {"ideal_s", "overhead_s", "efficiency"}) state.counters.erase(k);
}

// Argument: payload. One length-prefixed message there and back per iteration.
void BarePipe(benchmark::State& state) {
  const std::string message(static_cast<size_t>(state.range(0)), 'x');
  std::string reply;
  std::unique_ptr<BarePipeEcho> echo;
  try {
    echo = std::make_unique<BarePipeEcho>();
  } catch (const std::exception& e) {
    Fail(state, e.what());
    return;
  }
  Meter meter;
  meter.Start();
  for (auto _ : state) {
    try {
      echo->RoundTrip(message, &reply);
    } catch (const std::exception& e) {
      Fail(state, e.what());
      break;
    }
  }
  meter.Stop();
  if (state.error_occurred()) return;
  if (reply != message) {
    Fail(state, "the echo child sent back different bytes");
    return;
  }
  const double wall = meter.wall_seconds();
  state.counters["roundtrip_s"] = wall / Iterations(state);
  // The parent's side only: the echo child is alive through the loop and reaped after it.
  state.counters["cpu_util"] = wall > 0 ? meter.usage().cpu_seconds() / wall : 0;
  state.counters["ctx_switches"] = static_cast<double>(meter.usage().context_switches()) / Iterations(state);
  const int64_t frame = 4 + static_cast<int64_t>(message.size());
  SetIpcCounters(state, {2 * frame * static_cast<int64_t>(state.iterations()), 2 * static_cast<int64_t>(state.iterations())});
}

// ---- registration -----------------------------------------------------------------------------

// Run time is bounded with an iteration count (it shows as /iterations:N/ in the name, which the
// grammar accepts): a smoke run does a few iterations; the other suites do enough for about a
// quarter of a second per benchmark, from a rough cost estimate, so this model's notebook share
// stays near ten seconds. The estimates only size the runs; they never enter a counter.
constexpr double kBudgetS = 0.25;
constexpr double kMessageEstimateS = 30e-6;  // one chunk there and back, measured ~20 us here
constexpr double kForkEstimateS = 500e-6;    // fork + exit + reap of one child

// Serial seconds of one task, measured on the reference machine (sync families).
double TaskEstimateS(CpuJob job, int64_t n) {
  switch (job) {
    case CpuJob::kCpuIntensivo: return 1.75e-9 * static_cast<double>(n);
    case CpuJob::kTrabajo: return 75e-6;
    case CpuJob::kTareaNormal: return 500e-6;
  }
  return 1e-3;
}

Configure Bounded(const Options& o, std::function<double(std::span<const int64_t>)> estimate_s,
                  int64_t smoke_iterations = 3) {
  const bool smoke = o.suite == Suite::kSmoke;
  return [smoke, smoke_iterations, estimate_s = std::move(estimate_s)](Bench* b, std::span<const int64_t> a) {
    if (smoke) {
      b->Iterations(smoke_iterations);
    } else {
      BoundIterations(b, estimate_s(a), kBudgetS);
    }
  };
}

double Chunks(int64_t tasks, int64_t chunksize) { return static_cast<double>((tasks + chunksize - 1) / chunksize); }

// Pool families: tasks, workers, ..., chunksize at `chunk_arg`; `with_startup` adds the forks.
std::function<double(std::span<const int64_t>)> PoolEstimate(CpuJob job, size_t chunk_arg, bool with_startup) {
  return [=](std::span<const int64_t> a) {
    const int64_t tasks = a[0], workers = a[1];
    const double cores = static_cast<double>(std::min<int64_t>(workers, UsableCores()));
    const double n = job == CpuJob::kCpuIntensivo ? static_cast<double>(a[2]) : 0;
    const double payload = job == CpuJob::kTrabajo ? static_cast<double>(a[3]) : 0;
    return TaskEstimateS(job, static_cast<int64_t>(n)) * static_cast<double>(tasks) / cores +
           Chunks(tasks, a[chunk_arg]) * kMessageEstimateS / cores +
           2 * payload * static_cast<double>(tasks) / 1e9 +
           (with_startup ? kForkEstimateS * static_cast<double>(workers) : 0);
  };
}

// One fork per task, every child at once on the usable cores.
double PerTaskEstimate(CpuJob job, int64_t tasks, int64_t n) {
  return static_cast<double>(tasks) * (TaskEstimateS(job, n) / UsableCores() + kForkEstimateS);
}

void RegisterProcesses(const Options& o) {
  const bool smoke = o.suite == Suite::kSmoke;
  const int64_t cores = UsableCores();  // ProcessPoolExecutor's default size

  RegisterFamily(o, "processes/sleep",
                 {.notebook = {{{"tasks", {5}}, {"workers", {5}}, {"sleep_ms", {200}}, {"chunksize", {1}}}},
                  .smoke = {{{"tasks", {4}}, {"workers", {2}}, {"sleep_ms", {1}}, {"chunksize", {1, 3}}}},
                  .sweep = {{{"tasks", {16, 64}}, {"workers", {2, 8}}, {"sleep_ms", {1, 10}}, {"chunksize", {1, 4}}}}},
                 PoolSleep, [smoke](Bench* b, std::span<const int64_t> a) {
                   BoundIterations(b, UniformMakespan(a[0], static_cast<double>(a[2]) / 1e3, a[1], a[3]),
                                   smoke ? 0.02 : 0.5);
                 });

  for (const bool startup : {false, true}) {
    const std::string model = startup ? "processes.with_startup" : "processes";
    auto fn = [startup](CpuJob job) {
      return [job, startup](benchmark::State& s) { PoolCpu(s, job, startup); };
    };
    // Start-up variants: the notebook's own measurements (and one smoke row), not swept.
    RegisterFamily(o, model + "/cpu",
                   {.notebook = {{{"tasks", {4}}, {"workers", {cores}}, {"n", {200'000}}, {"chunksize", {1}}}},  // 4
                    .smoke = {{{"tasks", {2}}, {"workers", {2}}, {"n", {1'000}}, {"chunksize", {1}}}},
                    .sweep = startup ? std::vector<Grid>{}
                                     : std::vector<Grid>{{{"tasks", {4, 16}}, {"workers", {1, 2, 4}},
                                                          {"n", {200'000}}, {"chunksize", {1}}}}},
                   fn(CpuJob::kCpuIntensivo), Bounded(o, PoolEstimate(CpuJob::kCpuIntensivo, 3, startup)));
    RegisterFamily(o, model + "/trabajo",
                   {.notebook = {{{"tasks", {200}}, {"workers", {cores}}, {"chunksize", {1, 20}}, {"payload", {0}}}},  // 4.1
                    .smoke = startup ? std::vector<Grid>{}
                                     : std::vector<Grid>{{{"tasks", {3}}, {"workers", {2}}, {"chunksize", {1, 2}},
                                                          {"payload", {0, 16}}}},
                    .sweep = startup ? std::vector<Grid>{}
                                     : std::vector<Grid>{{{"tasks", {200}},
                                                          {"workers", {cores}},
                                                          {"chunksize", {1, 2, 5, 10, 20, 50, 100, 200}},
                                                          {"payload", {0, 64, 1024, 16384, 65536}}}}},
                   fn(CpuJob::kTrabajo), Bounded(o, PoolEstimate(CpuJob::kTrabajo, 2, startup)));
    RegisterFamily(o, model + "/tarea_normal",
                   {.notebook = {{{"tasks", {4}}, {"workers", {cores}}, {"chunksize", {1}}}},  // 5.3
                    .smoke = startup ? std::vector<Grid>{} : std::vector<Grid>{{{"tasks", {2}}, {"workers", {2}}, {"chunksize", {1}}}},
                    .sweep = startup ? std::vector<Grid>{}
                                     : std::vector<Grid>{{{"tasks", {4, 16}}, {"workers", {2}}, {"chunksize", {1, 4}}}}},
                   fn(CpuJob::kTareaNormal), Bounded(o, PoolEstimate(CpuJob::kTareaNormal, 2, startup)));
  }

  RegisterFamily(o, "processes.per_task/sleep",
                 {.notebook = {},
                  .smoke = {{{"tasks", {3}}, {"sleep_ms", {1}}}},
                  .sweep = {{{"tasks", {4, 64}}, {"sleep_ms", {10}}}}},
                 PerTaskSleep, [smoke](Bench* b, std::span<const int64_t> a) {
                   BoundIterations(b, static_cast<double>(a[1]) / 1e3 + 2e-4 * static_cast<double>(a[0]),
                                   smoke ? 0.02 : 0.5);
                 });
  RegisterFamily(o, "processes.per_task/cpu",
                 {.notebook = {{{"tasks", {4}}, {"n", {200'000}}}},
                  .smoke = {{{"tasks", {2}}, {"n", {1'000}}}},
                  .sweep = {{{"tasks", {4, 16}}, {"n", {200'000}}}}},
                 [](benchmark::State& s) { PerTaskCpu(s, CpuJob::kCpuIntensivo); },
                 Bounded(o, [](std::span<const int64_t> a) { return PerTaskEstimate(CpuJob::kCpuIntensivo, a[0], a[1]); }));
  RegisterFamily(o, "processes.per_task/trabajo",
                 {.notebook = {{{"tasks", {200}}}}, .smoke = {}, .sweep = {{{"tasks", {200}}}}},
                 [](benchmark::State& s) { PerTaskCpu(s, CpuJob::kTrabajo); },
                 Bounded(o, [](std::span<const int64_t> a) { return PerTaskEstimate(CpuJob::kTrabajo, a[0], 0); }));
  RegisterFamily(o, "processes.per_task/tarea_normal",
                 {.notebook = {{{"tasks", {4}}}}, .smoke = {}, .sweep = {{{"tasks", {4, 16}}}}},
                 [](benchmark::State& s) { PerTaskCpu(s, CpuJob::kTareaNormal); },
                 Bounded(o, [](std::span<const int64_t> a) { return PerTaskEstimate(CpuJob::kTareaNormal, a[0], 0); }));

  RegisterFamily(o, "processes/startup",
                 {.notebook = {{{"workers", {cores}}}},
                  .smoke = {{{"workers", {2}}}},
                  .sweep = {{{"workers", {1, 2, 4, 8, 16, 32}}}}},
                 Startup, Bounded(o, [](std::span<const int64_t> a) {
                   return kForkEstimateS * static_cast<double>(a[0]);
                 }));

  RegisterFamily(o, "processes/roundtrip",
                 {.notebook = {{{"tasks", {1000}}, {"workers", {1}}, {"chunksize", {1}}, {"payload", {0, 4096}}}},
                  .smoke = {{{"tasks", {20}}, {"workers", {1}}, {"chunksize", {1}}, {"payload", {0}}}},
                  .sweep = {{{"tasks", {1000}}, {"workers", {1}}, {"chunksize", {1, 10}},
                             {"payload", {0, 64, 1024, 16384, 65536}}}}},
                 PoolRoundTrip, Bounded(o, [](std::span<const int64_t> a) {
                   return Chunks(a[0], a[2]) * kMessageEstimateS + 2 * static_cast<double>(a[0] * a[3]) / 1e9;
                 }));
  RegisterFamily(o, "processes.bare_pipe/roundtrip",
                 {.notebook = {{{"payload", {0, 4096}}}},
                  .smoke = {{{"payload", {0}}}},
                  .sweep = {{{"payload", {0, 64, 1024, 16384, 65536}}}}},
                 BarePipe, Bounded(o, [](std::span<const int64_t> a) {
                   return kMessageEstimateS + 2 * static_cast<double>(a[0]) / 1e9;
                 }, 100));
}

const bool kRegistered = AddFamilyGroup("processes", RegisterProcesses);

}  // namespace
}  // namespace concbench
