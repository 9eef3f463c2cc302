// Test-only families that never finish, for the tests of deadlines and the watchdog
// (bench/watchdog.h). They exist only when the environment variable CONCBENCH_TEST_HANG names
// them (comma-separated), so no suite ever runs them by accident. They register in this order:
//
//   CONCBENCH_TEST_HANG=processes   test.hang/processes/tasks:T: T endless tasks in a 2-worker
//                                   process pool; the pool's stall timeout (the run's deadline)
//                                   names the workers, the benchmark fails and the run goes on
//   CONCBENCH_TEST_HANG=threads     test.hang/threads/tasks:T: T thread-pool tasks that block
//                                   forever; only the watchdog can end the run (exit status 3)
//   CONCBENCH_TEST_HANG=async       test.hang/async/tasks:T: a libuv loop with T repeating timers
//                                   that are never stopped, so the loop never returns
//
// Each reports what is outstanding to the watchdog (tasks started and completed, timers pending).
#include <uv.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <future>
#include <string>
#include <string_view>
#include <vector>

#include "family.h"
#include "models/process_pool.h"
#include "models/thread_pool/future.h"
#include "models/thread_pool/thread_pool.h"
#include "registry.h"
#include "sys/uv_loop.h"
#include "watchdog.h"

namespace concbench {
namespace {

void HangThreads(benchmark::State& state, const Args& args) {
  const int64_t tasks = args["tasks"];
  ThreadPool pool(2);
  static std::atomic<int64_t> started{0};
  started = 0;
  SetOutstanding([tasks] {
    return std::to_string(tasks) + " thread-pool task(s) submitted, " + std::to_string(started.load()) +
           " started, 0 completed";
  });
  std::promise<void> never;
  const std::shared_future<void> gate = never.get_future().share();
  TimeIterations(state, {.items = tasks}, [&] {
    std::vector<Future<int64_t>> futures;
    for (int64_t i = 0; i < tasks; ++i) {
      futures.push_back(pool.Submit([gate, i] {
        started.fetch_add(1);
        gate.wait();
        return i;
      }));
    }
    int64_t sum = 0;
    for (auto& f : futures) sum += f.Get();
    return sum;
  });
}

void HangAsync(benchmark::State& state, const Args& args) {
  const int64_t tasks = args["tasks"];
  static std::atomic<int64_t> fired{0};
  fired = 0;
  SetOutstanding([tasks] {
    return std::to_string(tasks) + " libuv timer(s) pending, fired " + std::to_string(fired.load()) +
           " times; the loop has not returned";
  });
  TimeIterations(state, {.items = tasks}, [&] {
    UvLoop loop;
    std::vector<uv_timer_t> timers(static_cast<size_t>(tasks));
    for (uv_timer_t& t : timers) {
      UvCheck(uv_timer_init(loop.get(), &t), "uv_timer_init");
      UvCheck(uv_timer_start(&t, [](uv_timer_t*) { fired.fetch_add(1); }, 10, 10), "uv_timer_start");
    }
    loop.Run();
    loop.Close();
    return int64_t{0};
  });
}

void HangProcesses(benchmark::State& state, const Args& args) {
  const int64_t tasks = args["tasks"];
  ProcessPool pool(2);
  pool.SetStallTimeout(RunStallTimeout());
  std::vector<int64_t> inputs(static_cast<size_t>(tasks), 0);
  TimeIterations(state, {.items = tasks}, [&] {
    return static_cast<int64_t>(pool.Map({{Compute(ComputeFn::kSpinForever)}}, inputs, 1).size());
  });
}

void RegisterTestHang(const Options& o) {
  const char* env = std::getenv("CONCBENCH_TEST_HANG");
  if (env == nullptr) return;
  const std::vector<std::pair<std::string_view, Body>> kinds = {
      {"processes", HangProcesses}, {"threads", HangThreads}, {"async", HangAsync}};
  // A comma-separated list, searched as ",a,b," (built with append: GCC 12 takes "," + a
  // temporary std::string for an overlapping copy, -Wrestrict, PR c++/105329).
  const std::string wanted = std::string(",").append(env).append(",");
  for (const auto& [kind, body] : kinds) {
    if (wanted.find(std::string(",").append(kind).append(",")) == std::string::npos) continue;
    const std::vector<Grid> one = {{{"tasks", {2}}}};
    RegisterFamily(o, {.name = "test.hang/" + std::string(kind),
                       .grids = {.notebook = one, .smoke = one, .sweep = one},
                       .body = body,
                       .budget = Fixed(0.001, [](const Args&) { return 0.001; })});
  }
}

const bool kRegistered = AddFamilyGroup("test", RegisterTestHang);

}  // namespace
}  // namespace concbench
