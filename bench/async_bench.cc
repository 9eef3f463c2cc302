// The `async` model's own families; the workloads every model runs (sleep, cpu, trabajo,
// tarea_normal, echo, on async, async.sequential, async.blocking, async.offload and the
// coroutine variants) come from the tables (bench/workloads.h, bench/batch_family.h).
//
//   async.bare/sleep/tasks:T/sleep_ms:S        the same T timers as async/sleep written directly
//                                              against libuv (static callback, no hooks, no
//                                              results vector): the floor a timer costs
//   async/startup                              uv_loop_init + close of an empty loop
//   async.coro/dispatch/tasks:T                T coroutines that never suspend, created, run and
//                                              destroyed: the cost of one coroutine (ns_per_task)
//   async.keepalive/echo/tasks:T/delay_ms:D/payload:P
//                                              T connections opened before the timed loop, one
//                                              request on each per iteration, all at once
//
// Extra counters:
//   overhead_ns_per_task  (measured − ideal) per task, ns (async.bare/sleep): with sleep_ms:0 the
//                   whole cost of arming, firing and closing one timer
//   rss_kib         VmRSS growth from before the batch to every timer pending, KiB
//   rss_kib_per_task  rss_kib / tasks; only for tasks ≥ 1,000 (a 4 KiB page is then at most
//                   4 bytes per task)
#include <uv.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "echo_support.h"
#include "family.h"
#include "measure/ideal.h"
#include "measure/memory.h"
#include "models/async_echo.h"
#include "models/coro/frames.h"
#include "models/coro/notebook_tasks.h"
#include "registry.h"
#include "sys/uv_loop.h"
#include "workload/echo_protocol.h"
#include "workload/sleep.h"

namespace concbench {
namespace {

using std::chrono::milliseconds;

// Per-task cost assumed when bounding the iterations of a timer family (a generous over-estimate
// of the few hundred ns a timer costs, so that the bound errs towards fewer iterations).
constexpr double kTimerCostEstimateS = 1e-6;

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
  const int64_t tasks = args["tasks"];
  const auto wait_ms = static_cast<uint64_t>(args["sleep_ms"]);
  const double ideal_s = args.Seconds("sleep_ms");
  UvLoop loop;
  // What the pending timers hold, from one batch run with a zero wait before the loop: the wait
  // does not change what a pending timer holds.
  const auto memory = PeakGrowthKib([&](const std::function<void()>& on_armed) { BareGather(loop.get(), tasks, 0, &on_armed); });
  const auto meter = TimeIterations(state, {.checksum = SleepBatchChecksum(tasks), .ideal_s = ideal_s, .items = tasks},
                                    [&] { return BareGather(loop.get(), tasks, wait_ms, nullptr); });
  loop.Close();
  if (!meter) return;
  SetOverheadPerTask(state, *meter, ideal_s, tasks);
  SetPendingMemory(state, memory, tasks);
}

// ---- coroutines ------------------------------------------------------------------------------

// What one coroutine costs when it never suspends: created, started, finished and destroyed.
void CoroDispatchFamily(benchmark::State& state, const Args& args) {
  const int64_t tasks = args["tasks"];
  const auto meter = TimeIterations(state, {.checksum = SleepBatchChecksum(tasks), .items = tasks},
                                    [&] { return CoroDispatch(tasks); });
  if (!meter) return;
  SetWallPerTask(state, *meter, "ns_per_task", static_cast<double>(tasks), 1e-9);
  SetCounter(state, "frame_bytes", static_cast<double>(CoroFrames().last_frame_bytes));
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

// ---- echo on connections kept open -----------------------------------------------------------

void KeptOpenEcho(benchmark::State& state, const Args& args) {
  const int64_t tasks = args["tasks"];
  const EchoBatch batch(tasks, static_cast<size_t>(args["payload"]));
  CheckDescriptors(tasks, "tasks:" + std::to_string(tasks) + " open connections");
  auto server = StartEchoServer(args["delay_ms"]);
  const AsyncEchoOptions aopts{.timeout = milliseconds(args["delay_ms"] + 30'000)};
  std::optional<AsyncEchoClient> client;
  client.emplace();
  client->Connect(server->address(), tasks, aopts);
  const auto meter = TimeIterations(state, EchoExpect(batch, tasks > 0 ? args.Seconds("delay_ms") : 0.0),
                                    [&] { return Checksum(client->RunOnOpenConnections(batch, aopts)); });
  client.reset();
  FinishEcho(state, meter, batch, server.get());
}

// ---- registration -----------------------------------------------------------------------------

void RegisterAsync(const Options& o) {
  // A timer family gets about half a second; a timer costs a few hundred ns, estimated
  // generously (kTimerCostEstimateS) so the estimate errs towards fewer iterations.
  constexpr double kBudgetS = 0.5;
  const Grid scale = {{"tasks", {1'000, 10'000, 100'000, 1'000'000}}, {"sleep_ms", {0, 100}}};
  RegisterFamily(o, {.name = "async.bare/sleep",
                     .grids = {.notebook = {}, .smoke = {{{"tasks", {2, 1'000}}, {"sleep_ms", {1}}}}, .sweep = {scale}},
                     .body = BareSleep,
                     .budget = Fixed(kBudgetS, [](const Args& a) {
                       return a.Seconds("sleep_ms") + static_cast<double>(a["tasks"]) * kTimerCostEstimateS;
                     })});
  RegisterFamily(o, {.name = "async.coro/dispatch",
                     .grids = {.notebook = {{{"tasks", {100'000}}}},
                               .smoke = {{{"tasks", {100}}}},
                               .sweep = {{{"tasks", {1, 1'000, 100'000, 1'000'000}}}}},
                     .body = CoroDispatchFamily,
                     // A coroutine that does not suspend costs tens of nanoseconds.
                     .budget = Fixed(0.1, [](const Args& a) { return 1e-6 + 100e-9 * static_cast<double>(a["tasks"]); })});
  RegisterFamily(o, {.name = "async/startup",
                     .grids = {.notebook = {{}}, .smoke = {{}}, .sweep = {{}}},
                     .body = AsyncStartup,
                     .budget = Adaptive([](const Args&) { return 20e-6; }),
                     .unit = benchmark::kMicrosecond});
  RegisterFamily(o, {.name = "async.keepalive/echo",
                     .grids = {.notebook = {{{"tasks", {5}}, {"delay_ms", {500}}, {"payload", {64}}}},
                               .smoke = {{{"tasks", {4}}, {"delay_ms", {1}}, {"payload", {64}}}},
                               .sweep = {{{"tasks", {1, 10, 100, 1000, LargestConcurrentConnections()}}, {"delay_ms", {0, 1, 10}}, {"payload", {64}}},
                                         {{"tasks", {10}}, {"delay_ms", {0}}, {"payload", {64, 1024, 16384, 65536}}},
                                         {{"tasks", {1000}}, {"delay_ms", {100}}, {"payload", {64}}}}},
                     .body = KeptOpenEcho,
                     .budget = Fixed(kBudgetS, [](const Args& a) {
                       return a.Seconds("delay_ms") + static_cast<double>(a["tasks"]) * 25e-6;
                     })});
}

const bool kRegistered = AddFamilyGroup("async", RegisterAsync);

}  // namespace
}  // namespace concbench
