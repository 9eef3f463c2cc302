#include "workloads.h"

#include <algorithm>
#include <chrono>
#include <optional>

#include "echo_support.h"
#include "measure/probe.h"
#include "measure/ideal.h"
#include "named.h"
#include "results_file.h"
#include "workload/task.h"

namespace concbench {
namespace {

using std::chrono::milliseconds;

// Rough serial costs on the reference 2-core x86 VM, only to size runs: ~1.3 ns per cpu_intensivo
// step, ~2.8 ns per trabajo (50,000 steps) or tarea_normal (300,000 steps) step.
constexpr double kCpuIntensivoStepS = 1.3e-9;
constexpr double kShiftedModStepS = 2.8e-9;
constexpr int64_t kMixedEchoPayload = 64;  // bytes per echo request of a mixed task

std::vector<int64_t> Indices(const Args& a) { return TaskIndices(a["tasks"]); }
std::vector<int64_t> EveryN(const Args& a) { return std::vector<int64_t>(static_cast<size_t>(a["tasks"]), a["n"]); }
double NoCpu(const Args&) { return 0; }

// ---- the rows' specs ----

TaskSpec SleepSpec(const Args& a) { return {{SleepStep(milliseconds(a["sleep_ms"]))}}; }
TaskSpec CpuSpec(const Args&) { return {{Compute(ComputeFn::kCpuIntensivo)}}; }
TaskSpec TrabajoSpec(const Args&) { return {{Compute(ComputeFn::kTrabajo)}}; }
TaskSpec TareaNormalSpec(const Args&) { return {{Compute(ComputeFn::kTareaNormal)}}; }
TaskSpec EchoSpec(const Args& a) { return {{EchoStep(milliseconds(a["delay_ms"]), a["payload"])}}; }

// A mixed task: `steps` rounds of cpu_intensivo for cpu_us microseconds (n calibrated once per
// run, measure/probe.h), then a wait of io_ms: a sleep, or an echo request whose reply the
// server holds io_ms.
TaskSpec MixedSpec(const Args& a, bool echo) {
  const int64_t n = CpuIntensivoStepsFor(static_cast<double>(a["cpu_us"]));
  TaskSpec spec;
  for (int64_t r = 0; r < a["steps"]; ++r) {
    spec.steps.push_back(ComputeOn(ComputeFn::kCpuIntensivo, n));
    spec.steps.push_back(echo ? EchoStep(milliseconds(a["io_ms"]), kMixedEchoPayload) : SleepStep(milliseconds(a["io_ms"])));
  }
  return spec;
}
TaskSpec MixedSleepSpec(const Args& a) { return MixedSpec(a, false); }
TaskSpec MixedEchoSpec(const Args& a) { return MixedSpec(a, true); }
double MixedEstimate(const Args& a) { return static_cast<double>(a["cpu_us"] * a["steps"]) / 1e6; }

double CpuEstimate(const Args& a) { return kCpuIntensivoStepS * static_cast<double>(a["n"]); }
double TrabajoEstimate(const Args&) { return kShiftedModStepS * 50'000; }
double TareaNormalEstimate(const Args&) { return kShiftedModStepS * 300'000; }

// ProcessPoolExecutor()'s default size; the notebook's process cells use it.
int64_t Cores() { return UsableCores(); }

std::vector<WorkloadInfo> MakeTable() {
  const int64_t cores = Cores();
  // The scale axis: up to a million concurrent waits, with sleep_ms:0 isolating what a timer
  // costs (pkolaczk's "1 million concurrent tasks" comparison of memory per task).
  const Grid scale = {{"tasks", {1'000, 10'000, 100'000, 1'000'000}}, {"sleep_ms", {0, 100}}};
  const SuiteGrids gathered_sleep = {.notebook = {},
                                     .smoke = {{{"tasks", {2, 1'000}}, {"sleep_ms", {1}}}},
                                     .sweep = {{{"tasks", {1, 4, 16, 64}}, {"sleep_ms", {1, 10}}}, scale}};
  // Section 3.1 is 5 × 0.3 s (a cell); section 5.1 reruns the same function (its label says
  // 5 × 0.2 s, its code sleeps 0.3 s), so 200 ms shows what the label meant.
  const SuiteGrids sequential_sleep = {.notebook = {{{"tasks", {5}}, {"sleep_ms", {200}}}},
                                       .smoke = {{{"tasks", {2}}, {"sleep_ms", {1}}}},
                                       .sweep = {{{"tasks", {1, 4, 16, 64}}, {"sleep_ms", {1, 10}}}}};
  // Section 4's cell grown until the winner has changed and stayed changed.
  const std::vector<int64_t> crossover_n = {1'000, 3'000, 10'000, 30'000, 100'000, 200'000, 300'000,
                                            1'000'000, 3'000'000, 10'000'000, 30'000'000, 100'000'000};
  // The smoke suite's CPU families are CPU-bound (a task of cpu_intensivo(10,000,000) is about
  // 10 ms; 20 × trabajo and 8 × tarea_normal a few ms): a comparison's positive control
  // (--inject_slowdown, scripts/ab) must show on them, and with tasks of a few µs a pool's
  // messages were 99 % of the time (processes/cpu of n 1,000: 0.4 % of compute). At n 1,000,000
  // (1 ms a task) a two-thread batch's hand-offs and wake-ups were still 30 % of threads/cpu, so
  // an injected 10 % moved it by 6 % under 16 % of noise a repetition. For the same reason the
  // thread pool's trabajo is the notebook's 200 tasks in chunks of 20 (~1 ms each): 20 tasks in
  // chunks of 2 (~0.1 ms) wandered by 28 % from one pair of processes to the next.
  const SuiteGrids cpu_serial = {.notebook = {},
                                 .smoke = {{{"tasks", {2}}, {"n", {10'000'000}}}},
                                 .sweep = {{{"tasks", {1, 2, 4, 8, 16}}, {"n", {200'000}}}},
                                 .crossover = {{{"tasks", {4}}, {"n", crossover_n}}}};
  const SuiteGrids cpu_threads = {.notebook = {},
                                  .smoke = {{{"tasks", {2}}, {"workers", {2}}, {"n", {10'000'000}}}},
                                  .sweep = {{{"tasks", {1, 2, 4, 8, 16}}, {"workers", {1, 2, 4, 8}}, {"n", {200'000}}}},
                                  .crossover = {{{"tasks", {4}}, {"workers", {4}}, {"n", crossover_n}}}};
  const Grid crossover_pool = {{"tasks", {4}}, {"workers", {cores}}, {"n", crossover_n}, {"chunksize", {1}}};
  // Section 4.1's chunksize 1 against 20 as the batch grows: one chunk of 20 leaves a worker idle,
  // many chunks save messages.
  const Grid crossover_chunks = {{"tasks", {2, 5, 10, 20, 40, 100, 200, 500, 1000, 2000}}, {"workers", {cores}},
                                 {"chunksize", {1, 20}}, {"payload", {0}}};
  // The decision map (scripts/map): CPU share × waiting time, 64 tasks of one step. Pools meant
  // for waiting (threads) get 64 workers, pools meant for computing (processes) the usable cores,
  // as ThreadPoolExecutor(64) and ProcessPoolExecutor() would.
  const std::vector<int64_t> map_cpu_us = {0, 10, 100, 1'000, 10'000};
  const std::vector<int64_t> map_io_ms = {0, 1, 10, 100};
  auto mixed = [&](std::optional<int64_t> workers, bool chunked) {
    Grid smoke = {{"tasks", {4}}, {"cpu_us", {100}}, {"io_ms", {1}}, {"steps", {2}}};
    Grid map = {{"tasks", {64}}, {"cpu_us", map_cpu_us}, {"io_ms", map_io_ms}, {"steps", {1}}};
    if (workers) {
      smoke.insert(smoke.begin() + 1, Axis{"workers", {2}});
      map.insert(map.begin() + 1, Axis{"workers", {*workers}});
    }
    if (chunked) {
      smoke.push_back({"chunksize", {1}});
      map.push_back({"chunksize", {1}});
    }
    return SuiteGrids{.notebook = {}, .smoke = {smoke}, .sweep = {}, .map = {map}};
  };
  const std::vector<ModelGrids> mixed_models = {
      {"sync", mixed(std::nullopt, false)},        {"threads", mixed(64, false)},
      {"threads.gil", mixed(64, false)},            {"processes", mixed(cores, true)},
      {"async", mixed(std::nullopt, false)},        {"async.offload", mixed(std::nullopt, false)},
      {"async.processes", mixed(cores, false)},     {"async.coro", mixed(std::nullopt, false)},
      {"async.coro.offload", mixed(std::nullopt, false)},
  };
  const SuiteGrids tarea_threads = {.notebook = {{{"tasks", {4}}, {"workers", {4}}}},
                                    .smoke = {{{"tasks", {8}}, {"workers", {2}}}},
                                    .sweep = {{{"tasks", {4, 16}}, {"workers", {1, 2, 4}}}}};
  // Kept-open connections and the bare peer are families of their own models' files.
  const SuiteGrids echo_serial{
      .notebook = {{{"tasks", {5}}, {"delay_ms", {500}}, {"payload", {64}}}},
      .smoke = {{{"tasks", {2}}, {"delay_ms", {1}}, {"payload", {64}}}},
      .sweep = {{{"tasks", {1, 10, 100, 1000}}, {"delay_ms", {0, 1}}, {"payload", {64}}},
                {{"tasks", {1, 10, 100}}, {"delay_ms", {10}}, {"payload", {64}}},
                {{"tasks", {10}}, {"delay_ms", {0}}, {"payload", {64, 1024, 16384, 65536}}}},
  };
  SuiteGrids echo_threads{
      .notebook = {{{"tasks", {5}}, {"workers", {5}}, {"delay_ms", {500}}, {"payload", {64}}}},
      .smoke = {{{"tasks", {4}}, {"workers", {2}}, {"delay_ms", {1}}, {"payload", {64}}}},
      .sweep = {{{"tasks", {1, 10, 100, 1000}}, {"workers", {8}}, {"delay_ms", {0, 1, 10}}, {"payload", {64}}},
                {{"tasks", {100}}, {"workers", {1, 4, 16, 64}}, {"delay_ms", {10}}, {"payload", {64}}},
                {{"tasks", {10}}, {"workers", {8}}, {"delay_ms", {0}}, {"payload", {64, 1024, 16384, 65536}}},
                // The comparison point for async's 1,000 × 100 ms: about 125 delays (12.5 s) on 8
                // threads, so it runs once, in the sweep only.
                {{"tasks", {1000}}, {"workers", {8}}, {"delay_ms", {100}}, {"payload", {64}}}},
  };
  const SuiteGrids echo_loop{
      .notebook = {{{"tasks", {5}}, {"delay_ms", {500}}, {"payload", {64}}}},
      .smoke = {{{"tasks", {4}}, {"delay_ms", {1}}, {"payload", {64}}}},
      .sweep = {{{"tasks", {1, 10, 100, 1000, LargestConcurrentConnections()}}, {"delay_ms", {0, 1, 10}}, {"payload", {64}}},
                {{"tasks", {10}}, {"delay_ms", {0}}, {"payload", {64, 1024, 16384, 65536}}},
                // 1,000 concurrent echoes of 100 ms should take under 1.5 delays.
                {{"tasks", {1000}}, {"delay_ms", {100}}, {"payload", {64}}}},
  };

  return {
      {"sleep", "one wait: time.sleep(sleep_ms), or a timer on the loop (sections 0-3, 5.1, 5.2)",
       StepKindBit(StepKind::kSleep), {"sleep_ms"}, SleepSpec, Indices, NoCpu,
       {
           {"sync", {.notebook = {},
                     .smoke = {{{"tasks", {2}}, {"sleep_ms", {1}}}},
                     .sweep = {{{"tasks", {1, 4, 16, 64}}, {"sleep_ms", {1, 10}}}}}},
           // Collected in completion order (section 2's as_completed).
           {"threads", {.notebook = {},
                        .smoke = {{{"tasks", {3}}, {"workers", {2}}, {"sleep_ms", {1}}}},
                        .sweep = {{{"tasks", {1, 4, 16, 64, 256, 1024}}, {"workers", {64}}, {"sleep_ms", {1, 10}}},
                                  {{"tasks", {64}}, {"workers", {1, 2, 4, 8, 16, 32, 64}}, {"sleep_ms", {1, 10}}}}}},
           // Through map(chunksize) in input order (section 5.2's ex.map).
           {"threads", {.notebook = {},
                        .smoke = {{{"tasks", {3}}, {"workers", {2}}, {"sleep_ms", {1}}, {"chunksize", {2}}}},
                        .sweep = {{{"tasks", {256}}, {"workers", {8}}, {"sleep_ms", {1}}, {"chunksize", {1, 4, 16, 64}}}}}},
           {"threads.per_task", {.notebook = {{{"tasks", {5}}, {"sleep_ms", {500, 200}}}},
                                 .smoke = {{{"tasks", {3}}, {"sleep_ms", {1}}}},
                                 .sweep = {{{"tasks", {1, 16, 64, 256, 1024}}, {"sleep_ms", {1, 10}}}}}},
           {"async", gathered_sleep},
           {"async.sequential", sequential_sleep},
           // Section 3's advice, measured: the same 5 × 0.5 s as section 3 with a blocking call inside.
           {"async.blocking", {.notebook = {{{"tasks", {5}}, {"sleep_ms", {500}}}},
                               .smoke = {{{"tasks", {2}}, {"sleep_ms", {1}}}},
                               .sweep = {{{"tasks", {1, 4, 16}}, {"sleep_ms", {1, 10}}}}}},
           {"async.coro", gathered_sleep},
           {"async.coro.sequential", sequential_sleep},
           {"processes", {.notebook = {{{"tasks", {5}}, {"workers", {5}}, {"sleep_ms", {200}}, {"chunksize", {1}}}},
                          .smoke = {{{"tasks", {4}}, {"workers", {2}}, {"sleep_ms", {1}}, {"chunksize", {1, 3}}}},
                          .sweep = {{{"tasks", {16, 64}}, {"workers", {2, 8}}, {"sleep_ms", {1, 10}}, {"chunksize", {1, 4}}}}}},
           {"processes.per_task", {.notebook = {},
                                   .smoke = {{{"tasks", {3}}, {"sleep_ms", {1}}}},
                                   .sweep = {{{"tasks", {4, 64}}, {"sleep_ms", {10}}}}}},
       }},
      {"cpu", "cpu_intensivo(n) on every task (section 4)",
       StepKindBit(StepKind::kCompute), {"n"}, CpuSpec, EveryN, CpuEstimate,
       {
           {"sync", cpu_serial},
           {"threads", cpu_threads},
           {"threads.gil", cpu_threads},
           {"async.offload", {.notebook = {{{"tasks", {4}}, {"n", {200'000}}}}, .smoke = cpu_serial.smoke, .sweep = cpu_serial.sweep}},
           {"processes", {.notebook = {{{"tasks", {4}}, {"workers", {cores}}, {"n", {200'000}}, {"chunksize", {1}}}},
                          .smoke = {{{"tasks", {2}}, {"workers", {2}}, {"n", {10'000'000}}, {"chunksize", {1}}}},
                          .sweep = {{{"tasks", {4, 16}}, {"workers", {1, 2, 4}}, {"n", {200'000}}, {"chunksize", {1}}}},
                          .crossover = {crossover_pool}}},
           {"processes.with_startup", {.notebook = {},
                                       .smoke = {{{"tasks", {2}}, {"workers", {2}}, {"n", {1'000}}, {"chunksize", {1}}}},
                                       .sweep = {},
                                       .crossover = {crossover_pool}}},
           {"processes.per_task", {.notebook = {{{"tasks", {4}}, {"n", {200'000}}}},
                                   .smoke = {{{"tasks", {2}}, {"n", {1'000}}}},
                                   .sweep = {{{"tasks", {4, 16}}, {"n", {200'000}}}}}},
       }},
      {"trabajo", "trabajo(i) for task i (section 4.1)",
       StepKindBit(StepKind::kCompute), {}, TrabajoSpec, Indices, TrabajoEstimate,
       {
           {"sync", {.notebook = {}, .smoke = {{{"tasks", {20}}}}, .sweep = {{{"tasks", {200}}}},
                     .crossover = {{crossover_chunks.front()}}}},
           {"threads", {.notebook = {},
                        .smoke = {{{"tasks", {200}}, {"workers", {2}}, {"chunksize", {20}}}},
                        .sweep = {{{"tasks", {200}}, {"workers", {2, 4}}, {"chunksize", {1, 20}}}}}},
           {"async.offload", {.notebook = {{{"tasks", {200}}}}, .smoke = {{{"tasks", {20}}}}, .sweep = {{{"tasks", {200}}}}}},
           {"processes", {.notebook = {{{"tasks", {200}}, {"workers", {cores}}, {"chunksize", {1, 20}}, {"payload", {0}}}},
                          .smoke = {{{"tasks", {20}}, {"workers", {2}}, {"chunksize", {1, 2}}, {"payload", {0, 16}}}},
                          .sweep = {{{"tasks", {200}},
                                     {"workers", {cores}},
                                     {"chunksize", {1, 2, 5, 10, 20, 50, 100, 200}},
                                     {"payload", {0, 64, 1024, 16384, 65536}}}},
                          .crossover = {crossover_chunks}}},
           {"processes.with_startup", {.crossover = {crossover_chunks}}},
           {"processes.per_task", {.notebook = {{{"tasks", {200}}}}, .smoke = {}, .sweep = {{{"tasks", {200}}}}}},
       }},
      {"tarea_normal", "tarea_normal(i) for task i (section 5.3)",
       StepKindBit(StepKind::kCompute), {}, TareaNormalSpec, Indices, TareaNormalEstimate,
       {
           {"sync", {.notebook = {}, .smoke = {{{"tasks", {8}}}}, .sweep = {{{"tasks", {4, 16}}}}}},
           {"threads", tarea_threads},
           {"threads.gil", tarea_threads},
           {"async.offload", {.notebook = {{{"tasks", {4}}}}, .smoke = {{{"tasks", {8}}}}, .sweep = {{{"tasks", {4, 16}}}}}},
           {"processes", {.notebook = {{{"tasks", {4}}, {"workers", {cores}}, {"chunksize", {1}}}},
                          .smoke = {{{"tasks", {8}}, {"workers", {2}}, {"chunksize", {1}}}},
                          .sweep = {{{"tasks", {4, 16}}, {"workers", {2}}, {"chunksize", {1, 4}}}}}},
           {"processes.with_startup", {}},
           {"processes.per_task", {.notebook = {{{"tasks", {4}}}}, .smoke = {}, .sweep = {{{"tasks", {4, 16}}}}}},
       }},
      {"echo", "one request to the loopback echo server, which replies delay_ms after it arrived",
       StepKindBit(StepKind::kEcho), {"delay_ms", "payload"}, EchoSpec, Indices, NoCpu,
       {
           {"sync", echo_serial},
           {"threads", echo_threads},
           {"async", echo_loop},
           {"async.coro", echo_loop},
           {"processes", {.notebook = {{{"tasks", {5}}, {"workers", {5}}, {"delay_ms", {500}}, {"payload", {64}}}},
                          .smoke = {{{"tasks", {4}}, {"workers", {2}}, {"delay_ms", {1}}, {"payload", {64}}}},
                          .sweep = {{{"tasks", {1, 10, 100, 1000}}, {"workers", {8}}, {"delay_ms", {0, 1, 10}}, {"payload", {64}}},
                                    {{"tasks", {100}}, {"workers", {1, 4, 16}}, {"delay_ms", {10}}, {"payload", {64}}},
                                    {{"tasks", {10}}, {"workers", {8}}, {"delay_ms", {0}}, {"payload", {64, 1024, 16384, 65536}}}}}},
       }},
      {"mixed", "steps rounds of cpu_intensivo for cpu_us, then a sleep of io_ms: real tasks mix both",
       StepKindBit(StepKind::kCompute) | StepKindBit(StepKind::kSleep), {"cpu_us", "io_ms", "steps"}, MixedSleepSpec, Indices, MixedEstimate,
       mixed_models},
      {"mixed_echo", "the same with each wait an echo request the loopback server holds io_ms",
       StepKindBit(StepKind::kCompute) | StepKindBit(StepKind::kEcho), {"cpu_us", "io_ms", "steps"}, MixedEchoSpec, Indices, MixedEstimate,
       mixed_models},
  };
}

}  // namespace

std::span<const WorkloadInfo> Workloads() {
  static const std::vector<WorkloadInfo> table = MakeTable();
  return table;
}

const WorkloadInfo* FindWorkload(std::string_view name) { return FindNamed(Workloads(), name); }

std::string WorkloadsJson() {
  std::string out = "{\"workloads\": [";
  for (const WorkloadInfo& w : Workloads()) {
    std::vector<std::string_view> models;
    for (const ModelGrids& m : w.models) {
      if (std::find(models.begin(), models.end(), m.model) == models.end()) models.push_back(m.model);
    }
    if (&w != Workloads().data()) out += ",";
    out += "\n  {\"name\": " + JsonString(std::string(w.name)) + ", \"summary\": " + JsonString(std::string(w.summary)) +
           ", \"args\": " + JsonStrings(w.args) + ", \"steps\": " + JsonStrings(StepKindNames(w.steps)) +
           ", \"models\": " + JsonStrings(models) + "}";
  }
  return out + "\n]}\n";
}

bool OwnsArg(const WorkloadInfo& w, std::string_view name) {
  for (std::string_view a : w.args) {
    if (a == name) return true;
  }
  return false;
}

}  // namespace concbench
