// The `processes` model's own families; the workloads every model runs (sleep, cpu, trabajo,
// tarea_normal, echo, on processes, processes.with_startup and processes.per_task) come from the
// tables (bench/workloads.h, bench/batch_family.h).
//
//   processes/startup/workers:W                                    fork W workers and reap them
//   processes/roundtrip/tasks:T/workers:1/chunksize:C/payload:P   the pool with a task that does
//                                                                  nothing: the IPC cost alone
//   processes.bare_pipe/roundtrip/payload:P                        one message there and back over
//                                                                  two bare pipes, the floor
//   processes.per_task/memory/tasks:T                              T forked children alive at once,
//                                                                  each blocked
//
// Extra counters (per iteration unless said otherwise):
//   ipc_bytes     bytes of frames the parent wrote and read (headers, spec, items and payloads)
//   ipc_messages  frames the parent wrote and read (one each way per chunk)
//   roundtrip_s   wall time of one request/response message pair (roundtrip families)
//   rss_kib_per_task, pss_kib_per_task, parent_rss_kib   memory: the mean RSS and PSS of one child
//                 (/proc/<pid>/smaps_rollup; PSS divides pages shared copy-on-write among their
//                 sharers), and the change of the parent's own resident memory
#include <algorithm>
#include <memory>
#include <numeric>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "family.h"
#include "measure/ideal.h"
#include "measure/memory.h"
#include "models/bare_pipe.h"
#include "models/hold.h"
#include "models/process_pool.h"
#include "registry.h"
#include "watchdog.h"
#include "workload/task.h"

namespace concbench {
namespace {

int64_t RssKib() { return ReadProcStatusKib("VmRSS").value_or(0); }

// Forks a pool and shuts it down (every worker reaped) per iteration.
void Startup(benchmark::State& state, const Args& args) {
  const int workers = static_cast<int>(args["workers"]);
  TimeIterations(state, {.items = workers}, [&] {
    ProcessPool pool(workers);
    pool.Shutdown();
    return int64_t{0};
  });
}

// Tasks that hand their input back: the pool's IPC and nothing else, one chunk at a time per
// worker, so it compares with the bare pipe's round trip. There is no ideal: the work is nothing.
void PoolRoundTrip(benchmark::State& state, const Args& args) {
  const int64_t tasks = args["tasks"], workers = args["workers"], chunksize = args["chunksize"];
  const std::vector<int64_t> inputs = TaskIndices(tasks);
  const std::vector<std::string> payloads = DistinctPayloads(inputs.size(), args["payload"]);
  const TaskSpec identity = {{Compute(ComputeFn::kIdentity)}};
  // Nothing queued: each message waits for the previous answer.
  ProcessPool pool(static_cast<int>(workers), /*queued_per_worker=*/0);
  pool.SetStallTimeout(RunStallTimeout());
  MapResult r;
  const auto meter = TimeIterations(
      state, {.checksum = tasks * (tasks - 1) / 2, .items = tasks, .live_workers = [&pool] { return pool.worker_usage(); }},
      [&] {
        pool.MapWithPayloads(identity, inputs, payloads, chunksize, &r);
        return Checksum(r.values);
      });
  if (!meter) return;
  if (r.payloads != payloads) {
    Fail(state, "payloads came back altered (checked after the loop, last iteration)");
    return;
  }
  SetIpcCounters(state, pool.ipc());
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

// What T tasks held alive at once return: Σ (index + 1).
Expect HeldExpect(int64_t tasks) {
  return {.checksum = tasks * (tasks + 1) / 2, .items = tasks, .usage_counters = false};
}

void ProcessesPerTaskMemory(benchmark::State& state, const Args& args) {
  const int64_t tasks = args["tasks"];
  int64_t rss = 0, pss_total = 0, child_rss_total = 0;
  const auto meter = TimeIterations(state, HeldExpect(tasks), [&] {
    state.PauseTiming();
    const int64_t rss0 = RssKib();
    state.ResumeTiming();
    return HoldChildren(tasks, [&](std::span<const pid_t> pids) {
      state.PauseTiming();
      rss = RssKib() - rss0;
      pss_total = child_rss_total = 0;
      for (pid_t p : pids) {
        const auto pss = ReadSmapsRollupKib("Pss", p);
        const auto crss = ReadSmapsRollupKib("Rss", p);
        if (!pss || !crss) throw std::runtime_error("cannot read /proc/" + std::to_string(p) + "/smaps_rollup");
        pss_total += *pss;
        child_rss_total += *crss;
      }
      state.ResumeTiming();
    });
  });
  if (!meter) return;
  SetCounter(state, "parent_rss_kib", static_cast<double>(rss));
  SetPerTask(state, "rss_kib_per_task", static_cast<double>(child_rss_total), tasks);
  SetPerTask(state, "pss_kib_per_task", static_cast<double>(pss_total), tasks);
}

// ---- registration -----------------------------------------------------------------------------

// A benchmark repetition gets about a tenth of a second, from a rough cost estimate. The
// estimates only size the runs; they never enter a counter.
constexpr double kBudgetS = 0.1;
constexpr double kMessageEstimateS = 30e-6;  // one chunk there and back, measured ~20 us here
constexpr double kForkEstimateS = 500e-6;    // fork + exit + reap of one child

double Chunks(int64_t tasks, int64_t chunksize) { return static_cast<double>((tasks + chunksize - 1) / chunksize); }

void RegisterProcesses(const Options& o) {
  const int64_t cores = UsableCores();  // ProcessPoolExecutor's default size
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
  RegisterFamily(o, {.name = "processes.per_task/memory",
                     .grids = {.notebook = {{{"tasks", {100}}}},
                               .smoke = {{{"tasks", {3}}}},
                               .sweep = {{{"tasks", {1, 10, 100, 1'000, 10'000}}}}},
                     .body = ProcessesPerTaskMemory,
                     // A child costs about 4 ms of wall time on the 2-vCPU VM: forking this binary,
                     // its exit and reaping (2.1-2.6 ms in the probe), and reading two smaps_rollup
                     // files while timing is paused. At 300 µs the sweep planned this family as 4 s
                     // and it took 50 s, all at the end of the sweep's time left.
                     .budget = Fixed(0.15, [](const Args& a) { return static_cast<double>(a["tasks"]) * 4e-3; })});
}

const bool kRegistered = AddFamilyGroup("processes", RegisterProcesses);

}  // namespace
}  // namespace concbench
