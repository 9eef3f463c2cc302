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
//   async.coro/sleep/tasks:T/sleep_ms:S        the same T waits as C++20 coroutines gathered
//                                              (models/coro.h: `co_await Sleep`, Gather); ideal = S
//   async.coro.sequential/sleep/...            coroutines awaited one after another; ideal = T·S
//   async.coro/dispatch/tasks:T                T coroutines that never suspend, created, run and
//                                              destroyed: the cost of one coroutine (ns_per_task)
//
// Extra counters:
//   overhead_ns_per_task  (measured − ideal) per task, ns (async/sleep, async.bare/sleep):
//                   with sleep_ms:0 the whole cost of arming, firing and closing one timer
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

#include "cpu_families.h"
#include "family.h"
#include "measure/ideal.h"
#include "measure/memory.h"
#include "models/async.h"
#include "models/coro/frames.h"
#include "models/coro/notebook_tasks.h"
#include "models/coro/run.h"
#include "models/coro/task.h"
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

void SetMemoryCounters(benchmark::State& state, int64_t tasks, const std::optional<PendingMemory>& m) {
  if (!m) return;
  SetCounter(state, "rss_kib", static_cast<double>(m->growth_kib));
  if (tasks >= kMinTasksForPerTaskMemory) SetPerTask(state, "rss_kib_per_task", static_cast<double>(m->growth_kib), tasks);
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

// The timed loop of a timer family: `run(wait)` runs one batch of `tasks` waits of `wait` on
// `loop`. A gathered batch also reports what its pending timers hold, from one batch run with a
// zero wait before the loop, and what the model adds per task.
void TimerFamily(benchmark::State& state, UvLoop& loop, int64_t tasks, milliseconds wait, bool gathered,
                 const std::function<int64_t(milliseconds, const std::function<void()>*)>& run) {
  const double wait_s = std::chrono::duration<double>(wait).count();
  const double ideal_s = gathered ? wait_s : static_cast<double>(tasks) * wait_s;
  std::optional<PendingMemory> memory;
  if (gathered) {
    memory = MeasurePending([&](const std::function<void()>& on_armed) { run(milliseconds(0), &on_armed); });
  }
  const auto meter = TimeIterations(
      state, {.checksum = SleepBatchChecksum(tasks), .ideal_s = ideal_s, .items = tasks},
      [&] { return run(wait, nullptr); });
  loop.Close();
  if (!meter || !gathered) return;
  SetOverheadPerTask(state, *meter, ideal_s, tasks);
  SetMemoryCounters(state, tasks, memory);
}

void AsyncSleep(benchmark::State& state, const Args& args, SleepVariant variant) {
  UvLoop loop;
  TimerFamily(state, loop, args["tasks"], milliseconds(args["sleep_ms"]), variant == SleepVariant::kGather,
              [&](milliseconds wait, const std::function<void()>* on_armed) {
                const AsyncHooks hooks{.on_armed = on_armed ? *on_armed : std::function<void()>(), .on_done = {}};
                return Checksum(RunSleepVariant(variant, loop, args["tasks"], wait, hooks));
              });
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

void BareSleep(benchmark::State& state, const Args& args) {
  UvLoop loop;
  TimerFamily(state, loop, args["tasks"], milliseconds(args["sleep_ms"]), /*gathered=*/true,
              [&](milliseconds wait, const std::function<void()>* on_armed) {
                return BareGather(loop.get(), args["tasks"], static_cast<uint64_t>(wait.count()), on_armed);
              });
}

// ---- coroutines (async.coro) ----------------------------------------------------------------

// The size of one sleeping task's coroutine frame (CoroSleepTask), as its promise allocates it:
// calling the coroutine allocates the frame and runs nothing (tasks are lazy).
int64_t SleepTaskFrameBytes(UvLoop& loop) {
  const Task<int64_t> one = CoroSleepTask(loop, 0, std::chrono::nanoseconds(0));
  return CoroFrames().last_frame_bytes;
}

// The notebook's `async def` + `await asyncio.sleep` on the same loop, as C++20 coroutines
// (models/coro.h): gathered (§3) or awaited one after another (§3.1, §5.1). frame_bytes is the
// size of one task's coroutine frame as the promise allocated it.
void CoroSleep(benchmark::State& state, const Args& args, bool gathered) {
  UvLoop loop;
  TimerFamily(state, loop, args["tasks"], milliseconds(args["sleep_ms"]), gathered,
              [&](milliseconds wait, const std::function<void()>* on_armed) {
                const RunOptions options{.on_started = on_armed ? *on_armed : std::function<void()>()};
                return Checksum(gathered ? CoroGather(loop, args["tasks"], wait, options)
                                         : CoroSequential(loop, args["tasks"], wait, options));
              });
  if (!state.error_occurred()) SetCounter(state, "frame_bytes", static_cast<double>(SleepTaskFrameBytes(loop)));
}

// What one coroutine costs when it never suspends: created, started, finished and destroyed.
void CoroDispatchFamily(benchmark::State& state, const Args& args) {
  const int64_t tasks = args["tasks"];
  const auto meter = TimeIterations(state, {.checksum = SleepBatchChecksum(tasks), .items = tasks},
                                    [&] { return CoroDispatch(tasks); });
  if (!meter) return;
  SetWallPerTask(state, *meter, "ns_per_task", static_cast<double>(tasks), 1e-9);
  SetCounter(state, "frame_bytes", static_cast<double>(CoroFrames().last_frame_bytes));
}

// ---- CPU offload ------------------------------------------------------------------------------

void AsyncCpu(benchmark::State& state, const Args& args, CpuJob job) {
  const CpuWork w = CpuWorkFor(job, args);
  const int pool = UvThreadpoolSize();
  const double ideal_s = Makespan(w.cal.task_seconds, std::min(pool, UsableCores()), 1);

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

  UvLoop loop;
  int threads_used = 0;
  const double machine_ideal = MachineIdealFor(w, std::min(pool, UsableCores()), 1);
  const auto meter = TimeIterations(
      state, {.checksum = w.cal.checksum, .ideal_s = ideal_s, .machine_ideal_s = machine_ideal, .items = w.tasks()}, [&] {
    const OffloadResult r = AsyncOffload(loop, w.batch.inputs, w.batch.task);
    threads_used = std::max(threads_used, r.threads_used);
    return Checksum(r.results);
  });
  loop.Close();
  if (!meter) return;
  SetCounter(state, "pool_threads", pool);
  SetCounter(state, "threads_used", threads_used);
}

// ---- start-up ---------------------------------------------------------------------------------

void AsyncStartup(benchmark::State& state, const Args&) {
  TimeIterations(state, {.items = 1, .usage_counters = false}, [] {
    UvLoop loop;
    loop.Run();
    loop.Close();
    return int64_t{0};
  });
}

// ---- registration -----------------------------------------------------------------------------

void RegisterAsync(const Options& o) {
  // A timer family gets about half a second; a timer costs a few hundred ns, estimated
  // generously (kTimerCostEstimateS) so the estimate errs towards fewer iterations.
  constexpr double kBudgetS = 0.5;
  const Budget gathered = Fixed(kBudgetS, [](const Args& a) {
    return a.Seconds("sleep_ms") + static_cast<double>(a["tasks"]) * kTimerCostEstimateS;
  });
  const Budget serial = Fixed(kBudgetS, [](const Args& a) {
    return static_cast<double>(a["tasks"] * a["sleep_ms"]) / 1e3 + static_cast<double>(a["tasks"]) * kTimerCostEstimateS;
  });
  auto sleep_family = [](SleepVariant v) {
    return [v](benchmark::State& s, const Args& a) { AsyncSleep(s, a, v); };
  };
  // CPU offload: the serial estimate on min(pool threads, cores).
  auto cpu_family = [](CpuJob job, SuiteGrids grids) {
    return Family{.name = "async/" + std::string(CpuJobWorkload(job)),
                  .grids = std::move(grids),
                  .body = [job](benchmark::State& s, const Args& a) { AsyncCpu(s, a, job); },
                  .budget = Adaptive([job](const Args& a) {
                    return SerialCpuEstimate(job, a) / std::min(UvThreadpoolSize(), UsableCores());
                  })};
  };

  // The scale axis: up to a million concurrent waits, with sleep_ms:0 isolating what a timer
  // costs (pkolaczk's "1 million concurrent tasks" comparison of memory per task).
  const Grid scale = {{"tasks", {1'000, 10'000, 100'000, 1'000'000}}, {"sleep_ms", {0, 100}}};
  RegisterFamily(o, {.name = "async/sleep",
                     .grids = {.notebook = {{{"tasks", {5}}, {"sleep_ms", {500}}}},  // section 3
                               .smoke = {{{"tasks", {2, 1'000}}, {"sleep_ms", {1}}}},
                               .sweep = {{{"tasks", {1, 4, 16, 64}}, {"sleep_ms", {1, 10}}}, scale}},
                     .body = sleep_family(SleepVariant::kGather),
                     .budget = gathered});
  RegisterFamily(o, {.name = "async.bare/sleep",
                     .grids = {.notebook = {}, .smoke = {{{"tasks", {2, 1'000}}, {"sleep_ms", {1}}}}, .sweep = {scale}},
                     .body = BareSleep,
                     .budget = gathered});
  // Section 3.1 is 5 × 0.3 s; section 5.1 reruns the same function (its label says 5 × 0.2 s,
  // its code sleeps 0.3 s and it measured 1.505 s), so 300 ms reproduces both and 200 ms shows
  // what the label meant.
  RegisterFamily(o, {.name = "async.sequential/sleep",
                     .grids = {.notebook = {{{"tasks", {5}}, {"sleep_ms", {300}}}, {{"tasks", {5}}, {"sleep_ms", {200}}}},
                               .smoke = {{{"tasks", {2}}, {"sleep_ms", {1}}}},
                               .sweep = {{{"tasks", {1, 4, 16, 64}}, {"sleep_ms", {1, 10}}}}},
                     .body = sleep_family(SleepVariant::kSequential),
                     .budget = serial});
  // Section 3's advice, measured: the same 5 × 0.5 s as section 3 with a blocking call inside.
  RegisterFamily(o, {.name = "async.blocking/sleep",
                     .grids = {.notebook = {{{"tasks", {5}}, {"sleep_ms", {500}}}},
                               .smoke = {{{"tasks", {2}}, {"sleep_ms", {1}}}},
                               .sweep = {{{"tasks", {1, 4, 16}}, {"sleep_ms", {1, 10}}}}},
                     .body = sleep_family(SleepVariant::kBlocking),
                     .budget = serial});
  // The same cells on coroutines: `async def` / `await` / `gather` as in the notebook's code.
  RegisterFamily(o, {.name = "async.coro/sleep",
                     .grids = {.notebook = {{{"tasks", {5}}, {"sleep_ms", {500}}}},  // section 3
                               .smoke = {{{"tasks", {2, 1'000}}, {"sleep_ms", {1}}}},
                               .sweep = {{{"tasks", {1, 4, 16, 64}}, {"sleep_ms", {1, 10}}}, scale}},
                     .body = [](benchmark::State& s, const Args& a) { CoroSleep(s, a, /*gathered=*/true); },
                     .budget = gathered});
  RegisterFamily(o, {.name = "async.coro.sequential/sleep",
                     .grids = {.notebook = {{{"tasks", {5}}, {"sleep_ms", {300}}}, {{"tasks", {5}}, {"sleep_ms", {200}}}},
                               .smoke = {{{"tasks", {2}}, {"sleep_ms", {1}}}},
                               .sweep = {{{"tasks", {1, 4, 16, 64}}, {"sleep_ms", {1, 10}}}}},
                     .body = [](benchmark::State& s, const Args& a) { CoroSleep(s, a, /*gathered=*/false); },
                     .budget = serial});
  RegisterFamily(o, {.name = "async.coro/dispatch",
                     .grids = {.notebook = {{{"tasks", {100'000}}}},
                               .smoke = {{{"tasks", {100}}}},
                               .sweep = {{{"tasks", {1, 1'000, 100'000, 1'000'000}}}}},
                     .body = CoroDispatchFamily,
                     // A coroutine that does not suspend costs tens of nanoseconds.
                     .budget = Fixed(0.1, [](const Args& a) { return 1e-6 + 100e-9 * static_cast<double>(a["tasks"]); })});
  // The CPU jobs use the other models' arguments (sections 4, 4.1 and 5.3), for comparison.
  RegisterFamily(o, cpu_family(CpuJob::kCpuIntensivo, {.notebook = {{{"tasks", {4}}, {"n", {200'000}}}},
                                                       .smoke = {{{"tasks", {2}}, {"n", {1'000}}}},
                                                       .sweep = {{{"tasks", {1, 2, 4, 8, 16}}, {"n", {200'000}}}}}));
  RegisterFamily(o, cpu_family(CpuJob::kTrabajo, {.notebook = {{{"tasks", {200}}}},
                                                  .smoke = {{{"tasks", {3}}}},
                                                  .sweep = {{{"tasks", {200}}}}}));
  RegisterFamily(o, cpu_family(CpuJob::kTareaNormal, {.notebook = {{{"tasks", {4}}}},
                                                      .smoke = {{{"tasks", {2}}}},
                                                      .sweep = {{{"tasks", {4, 16}}}}}));
  RegisterFamily(o, {.name = "async/startup",
                     .grids = {.notebook = {{}}, .smoke = {{}}, .sweep = {{}}},
                     .body = AsyncStartup,
                     .budget = Adaptive([](const Args&) { return 20e-6; }),
                     .unit = benchmark::kMicrosecond});
}

const bool kRegistered = AddFamilyGroup("async", RegisterAsync);

}  // namespace
}  // namespace concbench
