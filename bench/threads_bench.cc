// The `threads` model's own families; the workloads every model runs (sleep, cpu, trabajo,
// tarea_normal, echo, on threads, threads.per_task and threads.gil) come from the tables
// (bench/workloads.h, bench/batch_family.h).
//
//   threads/startup/workers:W                    construct + destroy a pool
//   threads/dispatch/tasks:T/workers:W           map() of T empty tasks (each returns its input),
//                                                chunksize 1
//   threads.submit/dispatch/tasks:T/workers:W    T × Submit(), then Get() every future (T = 1: the
//                                                round trip)
//   threads.queue/dispatch/tasks:T/workers:W     the same through a minimal mutex + condition-
//                                                variable queue
//   threads.async/dispatch/tasks:T               std::async(launch::async) per task
//   threads.per_task/dispatch/tasks:T            a bare std::thread per task
//   threads.<race|mutex|atomic|local>/counter/threads:N/increments:K
//                                                section 2.1; counter lost_updates
//   threads.per_task/memory/tasks:T/stack_kib:K  T threads alive at once, each blocked
//   threads/memory/tasks:T/workers:W             T tasks submitted to a pool of W blocked workers:
//                                                T futures pending in the queue
//   threads.keepalive/echo/tasks:T/workers:W/delay_ms:D/payload:P
//                                                each worker on one connection kept open, taking
//                                                the next task from a shared counter
//
// Memory families: one iteration starts the T tasks, waits until all are alive, reads memory
// (timing paused), releases them and joins them, so real_time / T is the start-up plus completion
// time per task. rss_kib is the resident memory while the T tasks were alive minus before;
// rss_kib_per_task = rss_kib / T; vm_kib_per_task the virtual size added per task (the stack).
//
// Extra counters (bench/counters.h): ns_per_task (dispatch), lost_updates, ns_per_increment,
// us_per_worker (startup).
#include <malloc.h>

#include <atomic>
#include <cmath>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "echo_support.h"
#include "family.h"
#include "measure/ideal.h"
#include "measure/memory.h"
#include "models/hold.h"
#include "models/thread_per_task.h"
#include "models/thread_pool/future.h"
#include "models/thread_pool/thread_pool.h"
#include "registry.h"
#include "workload/counter.h"
#include "workload/echo_client.h"
#include "workload/echo_protocol.h"
#include "workload/echo_server.h"

namespace concbench {
namespace {

int64_t RssKib() { return ReadProcStatusKib("VmRSS").value_or(0); }
int64_t VmKib() { return ReadProcStatusKib("VmSize").value_or(0); }

// ---- startup and dispatch ---------------------------------------------------------------------

void ThreadsStartup(benchmark::State& state, const Args& args) {
  const int workers = static_cast<int>(args["workers"]);
  const auto meter = TimeIterations(state, {}, [&] {
    ThreadPool pool(workers);
    benchmark::DoNotOptimize(pool.workers());
    return int64_t{0};
  });
  if (meter) SetWallPerTask(state, *meter, "us_per_worker", workers, 1e-6);
}

// The baseline for the pool's dispatch cost: the least a mutex + condition-variable queue can do
// (std::function tasks, one notify per push, no futures, no results).
class MinimalQueue {
 public:
  explicit MinimalQueue(int workers) {
    for (int i = 0; i < workers; ++i) {
      threads_.emplace_back([this] {
        while (true) {
          std::function<void()> task;
          {
            std::unique_lock lock(mu_);
            cv_.wait(lock, [this] { return !queue_.empty() || stop_; });
            if (queue_.empty()) return;
            task = std::move(queue_.front());
            queue_.pop_front();
          }
          task();
        }
      });
    }
  }
  ~MinimalQueue() {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    for (auto& t : threads_) t.join();
  }
  void Push(std::function<void()> task) {
    {
      std::lock_guard lock(mu_);
      queue_.push_back(std::move(task));
    }
    cv_.notify_one();
  }

  // Pushes `tasks` empty tasks and waits until the last one has run. The last task to finish
  // wakes the producer; tasks capture one pointer, so std::function stores them without
  // allocating.
  void RunEmpty(int64_t tasks) {
    struct Completion {
      std::atomic<int64_t> remaining{0};
      std::mutex mu;
      std::condition_variable cv;
      bool done = false;  // guarded by mu
    } completion;
    Completion* c = &completion;
    c->remaining.store(tasks, std::memory_order_relaxed);
    for (int64_t i = 0; i < tasks; ++i) {
      Push([c] {
        if (c->remaining.fetch_sub(1, std::memory_order_acq_rel) == 1) {
          // Notified under the lock: the producer may destroy `c` as soon as it sees done.
          std::lock_guard lock(c->mu);
          c->done = true;
          c->cv.notify_one();
        }
      });
    }
    std::unique_lock lock(c->mu);
    c->cv.wait(lock, [c] { return c->done; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;
  bool stop_ = false;
  std::vector<std::thread> threads_;
};

enum class Dispatch { kMap, kSubmit, kQueue, kAsync, kThread };

// Arguments: tasks[, workers]. One iteration dispatches `tasks` empty tasks and waits for all of
// them (with tasks = 1, the submit → result round trip).
void ThreadsDispatch(benchmark::State& state, const Args& args, Dispatch how) {
  const int64_t tasks = args["tasks"];
  std::optional<ThreadPool> pool;
  std::optional<MinimalQueue> queue;
  if (how == Dispatch::kMap || how == Dispatch::kSubmit) pool.emplace(static_cast<int>(args["workers"]));
  if (how == Dispatch::kQueue) queue.emplace(static_cast<int>(args["workers"]));
  const std::vector<int64_t> inputs = how == Dispatch::kMap ? TaskIndices(tasks) : std::vector<int64_t>{};
  std::vector<Future<void>> futures;
  std::vector<std::future<void>> async_futures;
  futures.reserve(static_cast<size_t>(tasks));
  async_futures.reserve(static_cast<size_t>(tasks));
  const auto meter = TimeIterations(state, {.items = tasks}, [&] {
    switch (how) {
      case Dispatch::kMap: {
        // The task only hands its input back: the sum proves each ran once.
        const int64_t sum = Checksum(pool->Map([](int64_t i) { return i; }, inputs));
        if (sum != tasks * (tasks - 1) / 2) {
          throw std::logic_error("dispatch: map returned Σ " + std::to_string(sum) + ", expected " +
                                 std::to_string(tasks * (tasks - 1) / 2));
        }
        break;
      }
      case Dispatch::kSubmit:
        for (int64_t i = 0; i < tasks; ++i) futures.push_back(pool->Submit([] {}));
        for (auto& f : futures) f.Get();
        futures.clear();
        break;
      case Dispatch::kQueue: queue->RunEmpty(tasks); break;
      case Dispatch::kAsync:
        for (int64_t i = 0; i < tasks; ++i) async_futures.push_back(std::async(std::launch::async, [] {}));
        for (auto& f : async_futures) f.get();
        async_futures.clear();
        break;
      case Dispatch::kThread: RunThreadPerTask(tasks, [](int64_t) {}); break;
    }
    return int64_t{0};
  });
  if (meter) SetWallPerTask(state, *meter, "ns_per_task", static_cast<double>(tasks), 1e-9);
}

// ---- counter ----------------------------------------------------------------------------------

void ThreadsCounter(benchmark::State& state, const Args& args, CounterMode mode) {
  const int threads = static_cast<int>(args["threads"]);
  const int64_t increments = args["increments"];
  int64_t lost = 0;
  const auto meter = TimeIterations(state, {.items = threads * increments}, [&] {
    const CounterResult r = RunCounter(mode, threads, increments);
    // Only the race may lose updates, and no variant can count more than was added.
    if (r.obtained > r.expected || (mode != CounterMode::kRace && r.lost() != 0)) {
      throw std::logic_error("threads." + std::string(CounterVariant(mode)) + ": wrong total in iteration " +
                             std::to_string(state.iterations()) + ": obtained " + std::to_string(r.obtained) +
                             ", expected " + std::to_string(r.expected));
    }
    lost += r.lost();
    return int64_t{0};
  });
  if (!meter) return;
  SetCounter(state, "lost_updates", static_cast<double>(lost) / static_cast<double>(state.iterations()));
  SetWallPerTask(state, *meter, "ns_per_increment", static_cast<double>(threads * increments), 1e-9);
}

// What T tasks held alive at once return: Σ (index + 1).
Expect HeldExpect(int64_t tasks) {
  return {.checksum = tasks * (tasks + 1) / 2, .items = tasks, .usage_counters = false};
}

void ThreadsPerTaskMemory(benchmark::State& state, const Args& args) {
  const int64_t tasks = args["tasks"];
  int64_t rss = 0, vm = 0;
  const auto meter = TimeIterations(state, HeldExpect(tasks), [&] {
    state.PauseTiming();
    const int64_t rss0 = RssKib(), vm0 = VmKib();
    state.ResumeTiming();
    return HoldThreads(tasks, args["stack_kib"], [&] {
      state.PauseTiming();
      rss = RssKib() - rss0;
      vm = VmKib() - vm0;
      state.ResumeTiming();
    });
  });
  if (!meter) return;
  SetCounter(state, "rss_kib", static_cast<double>(rss));
  SetPerTask(state, "rss_kib_per_task", static_cast<double>(rss), tasks);
  SetPerTask(state, "vm_kib_per_task", static_cast<double>(vm), tasks);
}

// A baseline that counts only what the measured region allocates: free memory held by malloc
// from earlier iterations or families is handed back first (outside the timed region), so new
// allocations fault in fresh pages instead of reusing resident ones.
int64_t TrimmedRssKib() {
  malloc_trim(0);
  return RssKib();
}

void ThreadsPoolMemory(benchmark::State& state, const Args& args) {
  const int64_t tasks = args["tasks"];
  const int workers = static_cast<int>(args["workers"]);
  ThreadPool pool(workers);
  int64_t rss = 0;
  const auto meter = TimeIterations(state, HeldExpect(tasks), [&] {
    state.PauseTiming();
    const int64_t rss0 = TrimmedRssKib();
    state.ResumeTiming();
    std::promise<void> release;
    std::shared_future<void> released = release.get_future().share();
    std::vector<Future<int64_t>> blockers;
    for (int w = 0; w < workers; ++w) {
      blockers.push_back(pool.Submit([released] {
        released.wait();
        return int64_t{0};
      }));
    }
    std::vector<Future<int64_t>> pending;
    pending.reserve(static_cast<size_t>(tasks));
    for (int64_t i = 0; i < tasks; ++i) pending.push_back(pool.Submit([i] { return i + 1; }));
    state.PauseTiming();
    rss = RssKib() - rss0;
    state.ResumeTiming();
    release.set_value();
    int64_t sum = 0;
    for (auto& f : pending) sum += f.Get();
    for (auto& f : blockers) f.Get();
    return sum;
  });
  if (!meter) return;
  SetCounter(state, "rss_kib", static_cast<double>(rss));
  SetPerTask(state, "rss_kib_per_task", static_cast<double>(rss), tasks);
}

// ---- echo on connections kept open -----------------------------------------------------------

// One long task per worker, each on its own connection, taking the next task index from a shared
// counter: the pool's first-free-worker policy, without a connect per task.
void KeptOpenEcho(benchmark::State& state, const Args& args) {
  const int64_t tasks = args["tasks"], workers = args["workers"];
  const EchoBatch batch(tasks, static_cast<size_t>(args["payload"]));
  CheckDescriptors(workers, "workers:" + std::to_string(workers) + " connections");
  auto server = StartEchoServer(args["delay_ms"]);
  ThreadPool pool(static_cast<int>(workers));
  std::vector<EchoConnection> conns;
  for (int64_t w = 0; w < workers; ++w) conns.push_back(EchoConnection::Connect(server->address(), EchoClientOptionsFor(args["delay_ms"])));
  const std::vector<int64_t> worker_ids = TaskIndices(workers);
  const auto meter = TimeIterations(
      state, EchoExpect(batch, UniformMakespan(tasks, args.Seconds("delay_ms"), workers, 1)), [&]() -> int64_t {
        std::atomic<int64_t> next{0};
        return Checksum(pool.Map(
            [&](int64_t w) {
              int64_t sum = 0;
              for (int64_t i = next.fetch_add(1); i < tasks; i = next.fetch_add(1)) {
                sum += conns[static_cast<size_t>(w)].Echo(batch.payload(i));
              }
              return sum;
            },
            worker_ids, /*chunksize=*/1));
      });
  conns.clear();
  pool.Shutdown();
  FinishEcho(state, meter, batch, server.get());
}

// ---- registration -----------------------------------------------------------------------------

// Run-time estimates use rough per-unit costs of a 2-core x86 VM, which only need to be right
// within a few times for the run to stay short.
constexpr double kBudget = 0.1;  // seconds per benchmark repetition
constexpr double kMemoryBudgetS = 0.15;

// Per task: map ~150 ns, submit + std::future ~1.5 µs, queue ~200 ns, a thread ~80 µs; plus
// ~20 µs of wake-ups per batch.
Family DispatchFamily(const char* name, Dispatch how, SuiteGrids grids, double per_task_s) {
  return {.name = name,
          .grids = std::move(grids),
          .body = [how](benchmark::State& s, const Args& a) { ThreadsDispatch(s, a, how); },
          .budget = Fixed(kBudget, [per_task_s](const Args& a) {
            return 20e-6 + per_task_s * static_cast<double>(a["tasks"]);
          })};
}

void RegisterThreads(const Options& o) {
  // The notebook's counters (section 2.1), then the pool's own costs.
  for (const CounterMode mode : kAllCounterModes) {
    RegisterFamily(o, {.name = "threads." + std::string(CounterVariant(mode)) + "/counter",
                       .grids = {.notebook = {{{"threads", {2}}, {"increments", {100'000}}}},
                                 .smoke = {{{"threads", {2}}, {"increments", {1'000}}}},
                                 .sweep = {{{"threads", {1, 2, 4, 8, 16}}, {"increments", {100'000}}}}},
                       .body = [mode](benchmark::State& s, const Args& a) { ThreadsCounter(s, a, mode); },
                       // Contended increments cost ~15 ns each; starting a thread ~50 µs.
                       .budget = Fixed(kBudget, [](const Args& a) {
                         return static_cast<double>(a["threads"]) * (50e-6 + 15e-9 * static_cast<double>(a["increments"]));
                       })});
  }
  RegisterFamily(o, {.name = "threads/startup",
                     .grids = {.notebook = {{{"workers", {5}}}},
                               .smoke = {{{"workers", {2}}}},
                               .sweep = {{{"workers", {1, 2, 4, 8, 16, 32, 64}}}}},
                     .body = ThreadsStartup,
                     .budget = Fixed(kBudget, [](const Args& a) { return static_cast<double>(a["workers"]) * 100e-6; })});
  const SuiteGrids pooled = {.notebook = {{{"tasks", {1, 100'000}}, {"workers", {2}}}},
                             .smoke = {{{"tasks", {1, 100}}, {"workers", {2}}}},
                             .sweep = {{{"tasks", {1, 1'000, 100'000}}, {"workers", {1, 2, 4}}}}};
  const SuiteGrids unpooled = {.notebook = {{{"tasks", {1, 1'000}}}},
                               .smoke = {{{"tasks", {1, 10}}}},
                               .sweep = {{{"tasks", {1, 1'000}}}}};
  RegisterFamily(o, DispatchFamily("threads/dispatch", Dispatch::kMap, pooled, 150e-9));
  RegisterFamily(o, DispatchFamily("threads.submit/dispatch", Dispatch::kSubmit, pooled, 1.5e-6));
  RegisterFamily(o, DispatchFamily("threads.queue/dispatch", Dispatch::kQueue, pooled, 200e-9));
  RegisterFamily(o, DispatchFamily("threads.async/dispatch", Dispatch::kAsync, unpooled, 80e-6));
  RegisterFamily(o, DispatchFamily("threads.per_task/dispatch", Dispatch::kThread, unpooled, 80e-6));
  RegisterFamily(o, {.name = "threads.per_task/memory",
                     .grids = {.notebook = {{{"tasks", {100}}, {"stack_kib", {8192}}}},
                               .smoke = {{{"tasks", {4}}, {"stack_kib", {64}}}},
                               // 100,000 threads on small stacks, where the limits allow: each thread
                               // takes a pid (kernel.pid_max) and two memory maps (vm.max_map_count),
                               // so a stock Linux stops near 32,000 and the benchmark says which limit.
                               .sweep = {{{"tasks", {1, 10, 100, 1'000, 10'000}}, {"stack_kib", {64, 8192}}},
                                         {{"tasks", {100'000}}, {"stack_kib", {64}}}}},
                     .body = ThreadsPerTaskMemory,
                     .budget = Fixed(kMemoryBudgetS, [](const Args& a) { return static_cast<double>(a["tasks"]) * 50e-6; })});
  RegisterFamily(o, {.name = "threads/memory",
                     .grids = {.notebook = {},
                               .smoke = {{{"tasks", {10}}, {"workers", {2}}}},
                               .sweep = {{{"tasks", {1, 10, 100, 1'000, 10'000, 100'000}}, {"workers", {2}}}}},
                     .body = ThreadsPoolMemory,
                     .budget = Fixed(kMemoryBudgetS, [](const Args& a) { return static_cast<double>(a["tasks"]) * 2e-6 + 100e-6; })});
  RegisterFamily(o, {.name = "threads.keepalive/echo",
                     .grids = {.notebook = {{{"tasks", {5}}, {"workers", {5}}, {"delay_ms", {500}}, {"payload", {64}}}},
                               .smoke = {{{"tasks", {4}}, {"workers", {2}}, {"delay_ms", {1}}, {"payload", {64}}}},
                               .sweep = {{{"tasks", {1, 10, 100, 1000}}, {"workers", {8}}, {"delay_ms", {0, 1, 10}}, {"payload", {64}}},
                                         {{"tasks", {100}}, {"workers", {1, 4, 16, 64}}, {"delay_ms", {10}}, {"payload", {64}}},
                                         {{"tasks", {10}}, {"workers", {8}}, {"delay_ms", {0}}, {"payload", {64, 1024, 16384, 65536}}}}},
                     .body = KeptOpenEcho,
                     .budget = Fixed(0.5, [](const Args& a) {
                       const double tasks = static_cast<double>(a["tasks"]);
                       return std::ceil(tasks / static_cast<double>(a["workers"])) * a.Seconds("delay_ms") + tasks * 50e-6;
                     })});
}

const bool kRegistered = AddFamilyGroup("threads", RegisterThreads);

}  // namespace
}  // namespace concbench
