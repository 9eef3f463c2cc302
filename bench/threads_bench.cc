// The `threads` families: concbench's ThreadPool, one std::thread per task, shared counters,
// and the GIL contrast (notebook sections 2, 2.1, 4 and 5.2).
//
//   threads/sleep/tasks:T/workers:W/sleep_ms:S               SubmitAll + completion order
//                                                            (section 2); ideal = makespan of
//                                                            T sleeps on W workers
//   threads/sleep/tasks:T/workers:W/sleep_ms:S/chunksize:C   map(chunksize) in input order
//                                                            (section 5.2 with C = 1)
//   threads.per_task/sleep/tasks:T/sleep_ms:S                one std::thread per task; ideal = S
//   threads/cpu/tasks:T/workers:W/n:N                        map of T × cpu_intensivo(N)
//                                                            (section 4); ideal = makespan of the
//                                                            calibrated tasks on min(W, cores)
//   threads/tarea_normal/tasks:T/workers:W                   map of tarea_normal(0..T-1)
//   threads/trabajo/tasks:T/workers:W/chunksize:C            map of trabajo(0..T-1)
//   threads.gil/cpu/..., threads.gil/tarea_normal/...        the same under an emulated CPython
//                                                            GIL (5 ms switch interval); ideal =
//                                                            the serial time of the tasks, since
//                                                            one thread computes at a time
//   threads/startup/workers:W                                construct + destroy a pool
//   threads/dispatch/tasks:T/workers:W                       map() of T empty tasks (each returns
//                                                            its input), chunksize 1
//   threads.submit/dispatch/tasks:T/workers:W                T × Submit(), then Get() every
//                                                            future (T = 1: the round trip)
//   threads.queue/dispatch/tasks:T/workers:W                 the same through a minimal
//                                                            mutex + condition-variable queue
//   threads.async/dispatch/tasks:T                           std::async(launch::async) per task
//   threads.per_task/dispatch/tasks:T                        a bare std::thread per task
//   threads.<race|mutex|atomic|local>/counter/threads:N/increments:K
//                                                            section 2.1; counter lost_updates
//
// Extra counters (bench/counters.h): ns_per_task (dispatch), gil_switches, lost_updates,
// ns_per_increment, us_per_worker (startup).
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <map>
#include <mutex>
#include <numeric>
#include <optional>
#include <span>
#include <string>
#include <system_error>
#include <thread>
#include <tuple>
#include <vector>

#include "cpu_families.h"
#include "family.h"
#include "measure/ideal.h"
#include "models/gil.h"
#include "models/hold.h"
#include "models/thread_pool/future.h"
#include "models/thread_pool/thread_pool.h"
#include "registry.h"
#include "sys/rlimit.h"
#include "workload/counter.h"
#include "workload/cpu_jobs.h"
#include "workload/sleep.h"

namespace concbench {
namespace {

// ---- sleep ------------------------------------------------------------------------------------

// Without a chunksize argument the batch goes through SubmitAll and is collected in completion
// order (section 2's as_completed); with one, through Map (section 5.2's ex.map).
void ThreadsSleep(benchmark::State& state, const Args& args) {
  const int64_t tasks = args["tasks"];
  const int64_t workers = args["workers"];
  const bool use_map = args.Has("chunksize");
  const int64_t chunksize = args.Get("chunksize", 1);
  const auto sleep = std::chrono::milliseconds(args["sleep_ms"]);
  const std::vector<int64_t> inputs = TaskIndices(tasks);
  const auto task = [sleep](int64_t i) { return SleepTask(i, sleep); };
  ThreadPool pool(static_cast<int>(workers));
  TimeIterations(state,
                 {.checksum = SleepBatchChecksum(tasks),
                  .ideal_s = UniformMakespan(tasks, args.Seconds("sleep_ms"), workers, chunksize),
                  .items = tasks},
                 [&] {
                   if (use_map) return Checksum(pool.Map(task, inputs, chunksize));
                   int64_t sum = 0;
                   auto done = pool.SubmitAll(task, inputs);
                   while (auto c = done.Next()) sum += c->result.Get();
                   return sum;
                 });
}

// Starts `count` std::threads running body(i) and joins them all. When the system refuses one,
// joins those started and throws LimitError naming the limits.
template <class Body>
void RunThreads(int64_t count, const Body& body) {
  std::vector<std::thread> threads;
  threads.reserve(static_cast<size_t>(count));
  std::string refused;
  for (int64_t i = 0; i < count && refused.empty(); ++i) {
    try {
      threads.emplace_back([body, i] { body(i); });  // by value: the threads outlive this call
    } catch (const std::system_error& e) {
      refused = "std::thread failed after " + std::to_string(i) + " of " + std::to_string(count) +
                " threads: " + e.what() + " (limits: " + DescribeTaskLimits() + ")";
    }
  }
  for (auto& t : threads) t.join();
  if (!refused.empty()) throw LimitError(refused);
}

// One std::thread per task, created and joined inside the loop.
void ThreadPerTaskSleep(benchmark::State& state, const Args& args) {
  const int64_t tasks = args["tasks"];
  const auto sleep = std::chrono::milliseconds(args["sleep_ms"]);
  std::vector<int64_t> results(static_cast<size_t>(tasks));
  TimeIterations(state,
                 {.checksum = SleepBatchChecksum(tasks),
                  .ideal_s = tasks > 0 ? args.Seconds("sleep_ms") : 0.0,
                  .items = tasks},
                 [&] {
                   RunThreads(tasks, [&results, sleep](int64_t i) {
                     results[static_cast<size_t>(i)] = SleepTask(i, sleep);
                   });
                   return Checksum(results);
                 });
}

// ---- cpu --------------------------------------------------------------------------------------

// The serial calibration of the GIL-emulating task: the same sums, computed in slices with a
// checkpoint between them, on one thread that never has to hand the lock over.
const Calibration& CachedGilCalibration(CpuJob job, int64_t tasks, int64_t n) {
  static std::map<std::tuple<CpuJob, int64_t, int64_t>, Calibration> cache;
  const auto key = std::tuple(job, tasks, n);
  auto it = cache.find(key);
  if (it == cache.end()) {
    Gil gil;
    const CpuBatch& batch = CachedCpuBatch(job, tasks, n);
    it = cache.emplace(key, Calibrate(batch.inputs, GilCpuTask(job, gil), 3, 0.2)).first;
  }
  return it->second;
}

// Arguments: tasks, workers, n (cpu), chunksize (trabajo).
void ThreadsCpu(benchmark::State& state, const Args& args, CpuJob job, bool gil_mode) {
  const CpuWork w = CpuWorkFor(job, args);
  const int64_t workers = args["workers"];
  const int64_t chunksize = args.Get("chunksize", 1);
  double ideal = Makespan(w.cal.task_seconds, std::min<int64_t>(workers, UsableCores()), chunksize);
  Gil gil;
  TaskFn task = w.batch.task;
  if (gil_mode) {
    // One thread computes at a time: the best the model can do is the serial time.
    const Calibration& gil_cal = CachedGilCalibration(job, args["tasks"], args.Get("n", 0));
    if (gil_cal.checksum != w.cal.checksum) {
      Fail(state, "GIL task checksum " + std::to_string(gil_cal.checksum) + " != " +
                      std::to_string(w.cal.checksum));
      return;
    }
    ideal = gil_cal.total_seconds;
    task = GilCpuTask(job, gil);
  }
  ThreadPool pool(static_cast<int>(workers));
  const int64_t switches_before = gil.switches();
  // Under the GIL one thread computes at a time: the machine's parallel capacity does not apply.
  const std::optional<double> machine_ideal =
      gil_mode ? std::nullopt : std::optional<double>(MachineIdealFor(w, workers, chunksize));
  const auto meter = TimeIterations(
      state, {.checksum = w.cal.checksum, .ideal_s = ideal, .machine_ideal_s = machine_ideal, .items = w.tasks()},
      [&] { return Checksum(pool.Map(task, w.batch.inputs, chunksize)); });
  if (meter && gil_mode) {
    SetCounter(state, "gil_switches",
               static_cast<double>(gil.switches() - switches_before) / static_cast<double>(state.iterations()));
  }
}

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
      case Dispatch::kThread: RunThreads(tasks, [](int64_t) {}); break;
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

// ---- registration -----------------------------------------------------------------------------

// Run-time estimates use rough per-unit costs of a 2-core x86 VM, which only need to be right
// within a few times for the run to stay short.
constexpr double kSleepBudget = 0.5;  // seconds of sleeping per benchmark
constexpr double kBudget = 0.1;       // seconds per benchmark repetition for the others

// The serial estimate spread over min(workers, cores) threads (all of it on one under the GIL).
double ParallelCpuEstimate(CpuJob job, const Args& a, bool gil) {
  const double parallel = gil ? 1.0 : static_cast<double>(std::min<int64_t>(a["workers"], UsableCores()));
  return SerialCpuEstimate(job, a) / parallel + 20e-6;
}

Family CpuFamily(const std::string& model, CpuJob job, bool gil, SuiteGrids grids) {
  return {.name = model + "/" + std::string(CpuJobWorkload(job)),
          .grids = std::move(grids),
          .body = [job, gil](benchmark::State& s, const Args& a) { ThreadsCpu(s, a, job, gil); },
          .budget = Fixed(kBudget, [job, gil](const Args& a) { return ParallelCpuEstimate(job, a, gil); })};
}

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
  // threads/sleep, collected in completion order: tasks, workers, sleep_ms.
  RegisterFamily(o, {.name = "threads/sleep",
                     .grids = {.notebook = {{{"tasks", {5}}, {"workers", {5}}, {"sleep_ms", {500}}}},  // section 2
                               .smoke = {{{"tasks", {3}}, {"workers", {2}}, {"sleep_ms", {1}}}},
                               .sweep = {{{"tasks", {1, 4, 16, 64, 256, 1024}}, {"workers", {64}}, {"sleep_ms", {1, 10}}},
                                         {{"tasks", {64}}, {"workers", {1, 2, 4, 8, 16, 32, 64}}, {"sleep_ms", {1, 10}}}}},
                     .body = ThreadsSleep,
                     .budget = Fixed(kSleepBudget, [](const Args& a) {
                       return UniformMakespan(a["tasks"], a.Seconds("sleep_ms"), a["workers"], 1);
                     })});
  // threads/sleep through map: tasks, workers, sleep_ms, chunksize.
  RegisterFamily(o, {.name = "threads/sleep",
                     .grids = {.notebook = {{{"tasks", {5}}, {"workers", {5}}, {"sleep_ms", {200}}, {"chunksize", {1}}}},  // 5.2
                               .smoke = {{{"tasks", {3}}, {"workers", {2}}, {"sleep_ms", {1}}, {"chunksize", {2}}}},
                               .sweep = {{{"tasks", {256}}, {"workers", {8}}, {"sleep_ms", {1}}, {"chunksize", {1, 4, 16, 64}}}}},
                     .body = ThreadsSleep,
                     .budget = Fixed(kSleepBudget, [](const Args& a) {
                       return UniformMakespan(a["tasks"], a.Seconds("sleep_ms"), a["workers"], a["chunksize"]);
                     })});
  RegisterFamily(o, {.name = "threads.per_task/sleep",
                     .grids = {.notebook = {{{"tasks", {5}}, {"sleep_ms", {500, 200}}}},
                               .smoke = {{{"tasks", {3}}, {"sleep_ms", {1}}}},
                               .sweep = {{{"tasks", {1, 16, 64, 256, 1024}}, {"sleep_ms", {1, 10}}}}},
                     .body = ThreadPerTaskSleep,
                     // Creating and joining a thread costs ~60 µs, which dominates 1,024 × 1 ms.
                     .budget = Fixed(kSleepBudget, [](const Args& a) {
                       return a.Seconds("sleep_ms") + 60e-6 * static_cast<double>(a["tasks"]);
                     })});

  // CPU: section 4's four cpu_intensivo(200000) on threads, then the GIL contrast.
  const SuiteGrids cpu_grids = {
      .notebook = {{{"tasks", {4}}, {"workers", {4}}, {"n", {200'000}}}},
      .smoke = {{{"tasks", {2}}, {"workers", {2}}, {"n", {1'000}}}},
      .sweep = {{{"tasks", {1, 2, 4, 8, 16}}, {"workers", {1, 2, 4, 8}}, {"n", {200'000}}}}};
  const SuiteGrids tarea_grids = {.notebook = {{{"tasks", {4}}, {"workers", {4}}}},
                                  .smoke = {{{"tasks", {2}}, {"workers", {2}}}},
                                  .sweep = {{{"tasks", {4, 16}}, {"workers", {1, 2, 4}}}}};
  for (const bool gil : {false, true}) {
    const std::string model = gil ? "threads.gil" : "threads";
    RegisterFamily(o, CpuFamily(model, CpuJob::kCpuIntensivo, gil, cpu_grids));
    RegisterFamily(o, CpuFamily(model, CpuJob::kTareaNormal, gil, tarea_grids));
  }
  RegisterFamily(o, CpuFamily("threads", CpuJob::kTrabajo, false,
                              {.notebook = {},
                               .smoke = {{{"tasks", {3}}, {"workers", {2}}, {"chunksize", {2}}}},
                               .sweep = {{{"tasks", {200}}, {"workers", {2, 4}}, {"chunksize", {1, 20}}}}}));

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
}

const bool kRegistered = AddFamilyGroup("threads", RegisterThreads);

}  // namespace
}  // namespace concbench
