// The `async` families: tasks on one libuv event loop in the benchmark thread (notebook sections
// 3, 3.1 and 5.1), plus a bare-libuv baseline measured in the same run.
//
//   async/sleep/tasks:T/sleep_ms:S             T timers armed at once (asyncio.gather); ideal = S
//   async.sequential/sleep/tasks:T/sleep_ms:S  each timer armed from the previous callback
//                                              (await in a loop); ideal = T·S
//   async.blocking/sleep/tasks:T/sleep_ms:S    T tasks started at once, each blocking the loop
//                                              for S inside its callback; ideal = T·S (what
//                                              blocking leaves possible; compare with async/sleep)
//   async.bare/sleep/tasks:T/sleep_ms:S        the same T timers as async/sleep written directly
//                                              against libuv (static callback, no hooks, no
//                                              results vector): the floor a timer costs
//   async/cpu/tasks:T/n:N, async/trabajo/tasks:T, async/tarea_normal/tasks:T
//                                              CPU tasks offloaded with uv_queue_work to libuv's
//                                              threadpool; ideal = makespan on
//                                              min(pool threads, usable cores) workers
//   async/startup                              uv_loop_init + close of an empty loop
//
// Extra counters:
//   ns_per_task     (measured − ideal) per task, ns (async/sleep, async.bare/sleep): with
//                   sleep_ms:0 the whole cost of arming, firing and closing one timer
//   rss_kib         VmRSS growth from before the batch to every timer pending, KiB
//                   (async/sleep, async.bare/sleep), as in the memory families
//   rss_kib_per_task  rss_kib / tasks; only for tasks ≥ 1,000 (a 4 KiB page is then at most
//                   4 bytes per task)
//   pool_threads    libuv's threadpool size (UV_THREADPOOL_SIZE, read once per process)
//   threads_used    distinct threadpool threads that ran at least one task (max over iterations)
#include <uv.h>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include <algorithm>
#include <chrono>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "counters.h"
#include "cpu_families.h"
#include "measure/ideal.h"
#include "measure/memory.h"
#include "models/async.h"
#include "models/hold.h"
#include "sys/uv_loop.h"
#include "registry.h"
#include "workload/cpu_jobs.h"
#include "workload/sleep.h"

namespace concbench {
namespace {

using std::chrono::milliseconds;

// Per-task cost assumed when bounding the iterations of a timer family (a generous over-estimate
// of the few hundred ns a timer costs, so that the bound errs towards fewer iterations).
constexpr double kTimerCostEstimateS = 1e-6;
// From this many tasks on, one 4 KiB page is at most 4 bytes per task: rss_kib_per_task is reported.
constexpr int64_t kMinTasksForPerTaskMemory = 1000;


// ---- memory of pending timers -------------------------------------------------------------

struct PendingMemory {
  int64_t growth_kib = 0;  // VmRSS growth from before the batch to all pending
};

// Gives freed heap memory back to the kernel, so that the next batch's memory shows up as RSS
// growth instead of reusing pages a previous batch left resident.
void TrimHeap() {
#if defined(__GLIBC__)
  malloc_trim(0);
#endif
}

// Runs one batch outside the timed loop, through `run(on_armed)`, and reads VmRSS before it
// and in its on_armed hook, when every task is pending. The wait does not change what a pending
// timer holds, so callers run the batch with a zero wait.
std::optional<PendingMemory> MeasurePending(
    const std::function<void(const std::function<void()>&)>& run) {
  TrimHeap();
  const auto before = ReadProcStatusKib("VmRSS");
  std::optional<int64_t> armed;
  run([&] { armed = ReadProcStatusKib("VmRSS"); });
  if (!before || !armed) return std::nullopt;
  return PendingMemory{std::max<int64_t>(0, *armed - *before)};
}

void SetMemoryCounters(benchmark::State& state, int64_t tasks,
                       const std::optional<PendingMemory>& m) {
  if (!m) return;
  state.counters["rss_kib"] = static_cast<double>(m->growth_kib);
  if (tasks >= kMinTasksForPerTaskMemory) {
    state.counters["rss_kib_per_task"] =
        static_cast<double>(m->growth_kib) / static_cast<double>(tasks);
  }
}

void SetPerTaskOverhead(benchmark::State& state, const Meter& meter, double ideal_s,
                        int64_t tasks) {
  const double per_iteration = meter.wall_seconds() / static_cast<double>(state.iterations());
  state.counters["ns_per_task"] = (per_iteration - ideal_s) / static_cast<double>(tasks) * 1e9;
}

// ---- the model's sleep families -------------------------------------------------------------

enum class SleepVariant { kGather, kSequential, kBlocking };

std::vector<int64_t> RunSleepVariant(SleepVariant v, UvLoop& loop, int64_t tasks, milliseconds wait,
                                     const AsyncHooks& hooks = {}) {
  switch (v) {
    case SleepVariant::kGather: return AsyncGather(loop, tasks, wait, hooks);
    case SleepVariant::kSequential: return AsyncSequential(loop, tasks, wait, hooks);
    case SleepVariant::kBlocking: return AsyncBlocking(loop, tasks, wait, hooks);
  }
  throw std::logic_error("RunSleepVariant: unknown variant");
}

// Arguments: tasks, sleep_ms.
void AsyncSleep(benchmark::State& state, SleepVariant variant) {
  const int64_t tasks = state.range(0);
  const milliseconds wait(state.range(1));
  const int64_t expected = sleep_batch_checksum(tasks);
  const double wait_s = std::chrono::duration<double>(wait).count();
  const double ideal_s =
      variant == SleepVariant::kGather ? wait_s : static_cast<double>(tasks) * wait_s;

  try {
    UvLoop loop;
    std::optional<PendingMemory> memory;
    if (variant == SleepVariant::kGather) {
      memory = MeasurePending([&](const std::function<void()>& on_armed) {
        AsyncGather(loop, tasks, milliseconds(0), AsyncHooks{.on_armed = on_armed, .on_done = {}});
      });
    }
    int64_t mismatches = 0, wrong = 0;
    Meter meter;
    meter.Start();
    for (auto _ : state) {
      const int64_t sum = Checksum(RunSleepVariant(variant, loop, tasks, wait));
      if (sum != expected) ++mismatches, wrong = sum;
    }
    meter.Stop();
    loop.Close();
    if (!VerifyChecksums(state, mismatches, wrong, expected)) return;
    SetModelCounters(state, meter, ideal_s, expected);
    if (variant == SleepVariant::kGather) {
      SetPerTaskOverhead(state, meter, ideal_s, tasks);
      SetMemoryCounters(state, tasks, memory);
    }
    state.SetItemsProcessed(state.iterations() * tasks);
  } catch (const std::exception& e) {
    Fail(state, e.what());
  }
}

// ---- the bare-libuv baseline ----------------------------------------------------------------

struct BareBatch {
  const uv_timer_t* first;
  int64_t sum;
};

void BareOnTimer(uv_timer_t* t) {
  auto* b = static_cast<BareBatch*>(t->data);
  b->sum += (t - b->first) + 1;
}

// What a C programmer would write: allocate the handles, init and start each with a static
// callback, run, close each, run once more for the closes, free. Returns Σ (index + 1) over the
// timers that fired; throws UvError on a failed call (after closing what was opened).
int64_t BareGather(uv_loop_t* loop, int64_t tasks, uint64_t wait_ms,
                   const std::function<void()>* on_armed) {
  std::unique_ptr<uv_timer_t[]> timers(new uv_timer_t[static_cast<size_t>(tasks)]);
  BareBatch b{timers.get(), 0};
  int64_t opened = 0;
  auto close_all = [&] {
    for (int64_t i = 0; i < opened; ++i)
      uv_close(reinterpret_cast<uv_handle_t*>(&timers[static_cast<size_t>(i)]), nullptr);
    uv_run(loop, UV_RUN_NOWAIT);
  };
  uv_update_time(loop);
  for (int64_t i = 0; i < tasks; ++i) {
    uv_timer_t* t = &timers[static_cast<size_t>(i)];
    int rc = uv_timer_init(loop, t);
    if (rc == 0) {
      ++opened;
      t->data = &b;
      rc = uv_timer_start(t, BareOnTimer, wait_ms, 0);
      if (rc < 0) {
        close_all();
        throw UvError("uv_timer_start", rc);
      }
    } else {
      close_all();
      throw UvError("uv_timer_init", rc);
    }
  }
  if (on_armed != nullptr) (*on_armed)();
  uv_run(loop, UV_RUN_DEFAULT);
  close_all();
  return b.sum;
}

// Arguments: tasks, sleep_ms.
void BareSleep(benchmark::State& state) {
  const int64_t tasks = state.range(0);
  const auto wait_ms = static_cast<uint64_t>(state.range(1));
  const int64_t expected = sleep_batch_checksum(tasks);
  const double ideal_s = static_cast<double>(wait_ms) / 1e3;

  try {
    UvLoop loop;
    const auto memory = MeasurePending([&](const std::function<void()>& on_armed) {
      BareGather(loop.get(), tasks, 0, &on_armed);
    });
    int64_t mismatches = 0, wrong = 0;
    Meter meter;
    meter.Start();
    for (auto _ : state) {
      const int64_t sum = BareGather(loop.get(), tasks, wait_ms, nullptr);
      if (sum != expected) ++mismatches, wrong = sum;
    }
    meter.Stop();
    loop.Close();
    if (!VerifyChecksums(state, mismatches, wrong, expected)) return;
    SetModelCounters(state, meter, ideal_s, expected);
    SetPerTaskOverhead(state, meter, ideal_s, tasks);
    SetMemoryCounters(state, tasks, memory);
    state.SetItemsProcessed(state.iterations() * tasks);
  } catch (const std::exception& e) {
    Fail(state, e.what());
  }
}

// ---- CPU offload ------------------------------------------------------------------------------

// Arguments: tasks, then n for the cpu job.
void AsyncCpu(benchmark::State& state, CpuJob job) {
  const int64_t n = job == CpuJob::kCpuIntensivo ? state.range(1) : 0;
  const CpuBatch& batch = CachedCpuBatch(job, state.range(0), n);
  const Calibration& cal = CachedCalibration(job, state.range(0), n);
  const int pool = UvThreadpoolSize();
  const double ideal_s = Makespan(cal.task_seconds, std::min(pool, UsableCores()), 1);

  // libuv starts its threadpool on the first uv_queue_work and calls abort() if a thread is
  // refused. Check, once, that this many threads can exist side by side, and fail this benchmark
  // with the reason instead of losing the whole run.
  static bool pool_can_start = false;
  if (!pool_can_start) {
    try {
      HoldThreads(pool, 64, nullptr);
      pool_can_start = true;
    } catch (const LimitError& e) {
      Fail(state, "libuv's threadpool of " + std::to_string(pool) +
                      " threads cannot start (libuv would abort the process): " + e.what());
      return;
    }
  }

  try {
    UvLoop loop;
    int64_t mismatches = 0, wrong = 0;
    int threads_used = 0;
    Meter meter;
    meter.Start();
    for (auto _ : state) {
      const OffloadResult r = AsyncOffload(loop, batch.inputs, batch.task);
      const int64_t sum = Checksum(r.results);
      if (sum != cal.checksum) ++mismatches, wrong = sum;
      threads_used = std::max(threads_used, r.threads_used);
    }
    meter.Stop();
    loop.Close();
    if (!VerifyChecksums(state, mismatches, wrong, cal.checksum)) return;
    SetModelCounters(state, meter, ideal_s, cal.checksum);
    state.counters["pool_threads"] = pool;
    state.counters["threads_used"] = threads_used;
    state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(batch.inputs.size()));
  } catch (const std::exception& e) {
    Fail(state, e.what());
  }
}

// ---- start-up ---------------------------------------------------------------------------------

void AsyncStartup(benchmark::State& state) {
  try {
    for (auto _ : state) {
      UvLoop loop;
      loop.Run();
      loop.Close();
    }
    state.SetItemsProcessed(state.iterations());
  } catch (const std::exception& e) {
    Fail(state, e.what());
  }
}

// ---- registration -----------------------------------------------------------------------------

void RegisterAsync(const Options& o) {
  // Smoke runs every family briefly; the other suites give a sleep family about 0.5 s.
  const bool smoke = o.suite == Suite::kSmoke;
  const double budget_s = smoke ? 0.05 : 0.5;
  auto bound_gather = [budget_s](auto* b, std::span<const int64_t> a) {
    BoundIterations(
        b, static_cast<double>(a[1]) / 1e3 + static_cast<double>(a[0]) * kTimerCostEstimateS,
        budget_s);
  };
  auto bound_serial = [budget_s](auto* b, std::span<const int64_t> a) {
    BoundIterations(
        b, static_cast<double>(a[0] * a[1]) / 1e3 + static_cast<double>(a[0]) * kTimerCostEstimateS,
        budget_s);
  };
  // Smoke gives the unbounded families a fixed, small iteration count (MinTime would put
  // "/min_time:" into the name, outside the schema's grammar).
  auto brief = [smoke](auto* b, std::span<const int64_t>) {
    if (smoke) b->Iterations(10);
  };

  // The scale axis: up to 100,000 concurrent waits, with sleep_ms:0 isolating what a timer costs.
  const Grid scale = {{"tasks", {1'000, 10'000, 100'000}}, {"sleep_ms", {0, 100}}};
  RegisterFamily(
      o, "async/sleep",
      {.notebook = {{{"tasks", {5}}, {"sleep_ms", {500}}}},  // section 3
       .smoke = {{{"tasks", {2, 1'000}}, {"sleep_ms", {1}}}},
       .sweep = {{{"tasks", {1, 4, 16, 64}}, {"sleep_ms", {1, 10}}}, scale}},
      [](benchmark::State& s) { AsyncSleep(s, SleepVariant::kGather); }, bound_gather);
  RegisterFamily(
      o, "async.bare/sleep",
      {.notebook = {}, .smoke = {{{"tasks", {2, 1'000}}, {"sleep_ms", {1}}}}, .sweep = {scale}},
      BareSleep, bound_gather);
  // Section 3.1 is 5 × 0.3 s; section 5.1 reruns the same function (its label says 5 × 0.2 s,
  // its code sleeps 0.3 s and it measured 1.505 s), so 300 ms reproduces both and 200 ms shows
  // what the label meant.
  RegisterFamily(
      o, "async.sequential/sleep",
      {.notebook = {{{"tasks", {5}}, {"sleep_ms", {300}}}, {{"tasks", {5}}, {"sleep_ms", {200}}}},
       .smoke = {{{"tasks", {2}}, {"sleep_ms", {1}}}},
       .sweep = {{{"tasks", {1, 4, 16, 64}}, {"sleep_ms", {1, 10}}}}},
      [](benchmark::State& s) { AsyncSleep(s, SleepVariant::kSequential); }, bound_serial);
  // Section 3's advice, measured: the same 5 × 0.5 s as section 3 with a blocking call inside.
  RegisterFamily(
      o, "async.blocking/sleep",
      {.notebook = {{{"tasks", {5}}, {"sleep_ms", {500}}}},
       .smoke = {{{"tasks", {2}}, {"sleep_ms", {1}}}},
       .sweep = {{{"tasks", {1, 4, 16}}, {"sleep_ms", {1, 10}}}}},
      [](benchmark::State& s) { AsyncSleep(s, SleepVariant::kBlocking); }, bound_serial);
  // The CPU jobs use the other models' arguments (sections 4, 4.1 and 5.3), for comparison.
  RegisterFamily(
      o, "async/cpu",
      {.notebook = {{{"tasks", {4}}, {"n", {200'000}}}},
       .smoke = {{{"tasks", {2}}, {"n", {1'000}}}},
       .sweep = {{{"tasks", {1, 2, 4, 8, 16}}, {"n", {200'000}}}}},
      [](benchmark::State& s) { AsyncCpu(s, CpuJob::kCpuIntensivo); }, brief);
  RegisterFamily(
      o, "async/trabajo",
      {.notebook = {{{"tasks", {200}}}},
       .smoke = {{{"tasks", {3}}}},
       .sweep = {{{"tasks", {200}}}}},
      [](benchmark::State& s) { AsyncCpu(s, CpuJob::kTrabajo); }, brief);
  RegisterFamily(
      o, "async/tarea_normal",
      {.notebook = {{{"tasks", {4}}}},
       .smoke = {{{"tasks", {2}}}},
       .sweep = {{{"tasks", {4, 16}}}}},
      [](benchmark::State& s) { AsyncCpu(s, CpuJob::kTareaNormal); }, brief);
  RegisterFamily(o, "async/startup", {.notebook = {{}}, .smoke = {{}}, .sweep = {{}}}, AsyncStartup,
                 [brief](auto* b, std::span<const int64_t> a) {
                   b->Unit(benchmark::kMicrosecond);
                   brief(b, a);
                 });
}

const bool kRegistered = AddFamilyGroup("async", RegisterAsync);

}  // namespace
}  // namespace concbench
