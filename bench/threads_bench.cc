// The `threads` families: concbench's ThreadPool, one std::thread per task, shared counters,
// and the GIL contrast (notebook sections 2, 2.1, 4 and 5.2).
//
//   threads/sleep/tasks:T/workers:W/sleep_ms:S               submit_all + completion order
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
//   threads.submit/dispatch/tasks:T/workers:W                T × submit(), then get() every
//                                                            future (T = 1: the round trip)
//   threads.queue/dispatch/tasks:T/workers:W                 the same through a minimal
//                                                            mutex + condition-variable queue
//   threads.async/dispatch/tasks:T                           std::async(launch::async) per task
//   threads.per_task/dispatch/tasks:T                        a bare std::thread per task
//   threads.<race|mutex|atomic|local>/counter/threads:N/increments:K
//                                                            section 2.1; counter lost_updates
//
// Extra counters: ns_per_task (dispatch: wall time / tasks), gil_switches (hand-overs of the
// GIL per iteration), lost_updates (expected − obtained, mean per iteration), ns_per_increment,
// us_per_worker (startup wall time / workers).
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

#include "counters.h"
#include "cpu_families.h"
#include "measure/ideal.h"
#include "models/gil.h"
#include "models/hold.h"
#include "models/thread_pool.h"
#include "registry.h"
#include "sys/rlimit.h"
#include "workload/counter.h"
#include "workload/cpu_jobs.h"
#include "workload/sleep.h"

namespace concbench {
namespace {

using Bench = benchmark::internal::Benchmark;

// Per-iteration process usage, for families outside the model-counter set.
void SetUsageCounters(benchmark::State& state, const Meter& meter) {
  const double iterations = state.iterations() > 0 ? static_cast<double>(state.iterations()) : 1.0;
  state.counters["cpu_util"] =
      meter.wall_seconds() > 0 ? meter.usage().cpu_seconds() / meter.wall_seconds() : 0;
  state.counters["ctx_switches"] = static_cast<double>(meter.usage().context_switches()) / iterations;
}

std::vector<int64_t> Indices(int64_t n) {
  std::vector<int64_t> v(static_cast<size_t>(n));
  std::iota(v.begin(), v.end(), 0);
  return v;
}


double Seconds(std::chrono::nanoseconds d) { return std::chrono::duration<double>(d).count(); }

// ---- sleep ------------------------------------------------------------------------------------

// Arguments: tasks, workers, sleep_ms[, chunksize]. Without chunksize the batch goes through
// submit_all and is collected in completion order (section 2's as_completed); with it, through
// map (section 5.2's ex.map).
void ThreadsSleep(benchmark::State& state, bool use_map) {
  const int64_t tasks = state.range(0);
  const int workers = static_cast<int>(state.range(1));
  const auto sleep = std::chrono::milliseconds(state.range(2));
  const int64_t chunksize = use_map ? state.range(3) : 1;
  const std::vector<int64_t> inputs = Indices(tasks);
  const int64_t expected = sleep_batch_checksum(tasks);
  const auto task = [sleep](int64_t i) { return sleep_task(i, sleep); };

  ThreadPool pool(workers);
  int64_t mismatches = 0, wrong = 0;
  Meter meter;
  meter.Start();
  for (auto _ : state) {
    int64_t sum = 0;
    if (use_map) {
      sum = Checksum(pool.map(task, inputs, chunksize));
    } else {
      auto done = pool.submit_all(task, inputs);
      while (auto c = done.next()) sum += c->result.get();
    }
    if (sum != expected) ++mismatches, wrong = sum;
  }
  meter.Stop();
  if (!VerifyChecksums(state, mismatches, wrong, expected)) return;
  SetModelCounters(state, meter, UniformMakespan(tasks, Seconds(sleep), workers, chunksize), expected);
  state.SetItemsProcessed(state.iterations() * tasks);
}

// Starts `count` std::threads running body(i) into `threads`. When the system refuses one, stops
// there and returns why (the caller joins those started); returns "" when all started.
template <class Body>
std::string StartThreads(std::vector<std::thread>& threads, int64_t count, const Body& body) {
  for (int64_t i = 0; i < count; ++i) {
    try {
      threads.emplace_back([body, i] { body(i); });  // by value: the threads outlive this call
    } catch (const std::system_error& e) {
      return "std::thread failed after " + std::to_string(i) + " of " + std::to_string(count) +
             " threads: " + e.what() + " (limits: " + DescribeTaskLimits() + ")";
    }
  }
  return "";
}

// Arguments: tasks, sleep_ms. One std::thread per task, created and joined inside the loop.
void PerTaskSleep(benchmark::State& state) {
  const int64_t tasks = state.range(0);
  const auto sleep = std::chrono::milliseconds(state.range(1));
  const int64_t expected = sleep_batch_checksum(tasks);
  std::vector<int64_t> results(static_cast<size_t>(tasks));
  std::vector<std::thread> threads;
  threads.reserve(static_cast<size_t>(tasks));

  int64_t mismatches = 0, wrong = 0;
  Meter meter;
  meter.Start();
  for (auto _ : state) {
    const std::string refused = StartThreads(threads, tasks, [&results, sleep](int64_t i) {
      results[static_cast<size_t>(i)] = sleep_task(i, sleep);
    });
    for (auto& t : threads) t.join();
    threads.clear();
    if (!refused.empty()) {
      Fail(state, refused);
      break;
    }
    const int64_t sum = Checksum(results);
    if (sum != expected) ++mismatches, wrong = sum;
  }
  meter.Stop();
  if (state.error_occurred() || !VerifyChecksums(state, mismatches, wrong, expected)) return;
  SetModelCounters(state, meter, tasks > 0 ? Seconds(sleep) : 0.0, expected);
  state.SetItemsProcessed(state.iterations() * tasks);
}

// ---- cpu --------------------------------------------------------------------------------------

struct CpuArgs {
  int64_t tasks, workers, n, chunksize;
};

// Arguments by job: cpu (tasks, workers, n), tarea_normal (tasks, workers),
// trabajo (tasks, workers, chunksize).
CpuArgs ReadCpuArgs(const benchmark::State& state, CpuJob job) {
  switch (job) {
    case CpuJob::kCpuIntensivo: return {state.range(0), state.range(1), state.range(2), 1};
    case CpuJob::kTareaNormal: return {state.range(0), state.range(1), 0, 1};
    case CpuJob::kTrabajo: return {state.range(0), state.range(1), 0, state.range(2)};
  }
  return {};
}

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

void ThreadsCpu(benchmark::State& state, CpuJob job, bool gil_mode) {
  const CpuArgs a = ReadCpuArgs(state, job);
  const CpuBatch& batch = CachedCpuBatch(job, a.tasks, a.n);
  const Calibration& cal = CachedCalibration(job, a.tasks, a.n);
  double ideal = Makespan(cal.task_seconds, std::min<int64_t>(a.workers, UsableCores()), a.chunksize);
  Gil gil;
  TaskFn task = batch.task;
  if (gil_mode) {
    // One thread computes at a time: the best the model can do is the serial time.
    const Calibration& gil_cal = CachedGilCalibration(job, a.tasks, a.n);
    if (gil_cal.checksum != cal.checksum) {
      Fail(state, "GIL task checksum " + std::to_string(gil_cal.checksum) + " != " +
                      std::to_string(cal.checksum));
      return;
    }
    ideal = gil_cal.total_seconds;
    task = GilCpuTask(job, gil);
  }

  ThreadPool pool(static_cast<int>(a.workers));
  const int64_t switches_before = gil.switches();
  int64_t mismatches = 0, wrong = 0;
  Meter meter;
  meter.Start();
  for (auto _ : state) {
    const int64_t sum = Checksum(pool.map(task, batch.inputs, a.chunksize));
    if (sum != cal.checksum) ++mismatches, wrong = sum;
  }
  meter.Stop();
  if (!VerifyChecksums(state, mismatches, wrong, cal.checksum)) return;
  SetModelCounters(state, meter, ideal, cal.checksum);
  if (gil_mode) {
    state.counters["gil_switches"] = static_cast<double>(gil.switches() - switches_before) /
                                     static_cast<double>(std::max<int64_t>(state.iterations(), 1));
  }
  state.SetItemsProcessed(state.iterations() * a.tasks);
}

// ---- startup and dispatch ---------------------------------------------------------------------

void ThreadsStartup(benchmark::State& state) {
  const int workers = static_cast<int>(state.range(0));
  Meter meter;
  meter.Start();
  for (auto _ : state) {
    ThreadPool pool(workers);
    benchmark::DoNotOptimize(pool.workers());
  }
  meter.Stop();
  SetUsageCounters(state, meter);
  state.counters["us_per_worker"] = meter.wall_seconds() * 1e6 /
                                    static_cast<double>(std::max<int64_t>(state.iterations(), 1) * workers);
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

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;
  bool stop_ = false;
  std::vector<std::thread> threads_;
};

enum class Dispatch { kMap, kSubmit, kQueue, kAsync, kThread };

// Arguments: tasks[, workers]. One iteration dispatches `tasks` empty tasks and waits for all of
// them; ns_per_task = wall time / tasks (with tasks = 1, the submit → result round trip).
void ThreadsDispatch(benchmark::State& state, Dispatch how) {
  const int64_t tasks = state.range(0);
  const bool pooled = how == Dispatch::kMap || how == Dispatch::kSubmit || how == Dispatch::kQueue;
  const int workers = pooled ? static_cast<int>(state.range(1)) : 0;
  std::optional<ThreadPool> pool;
  std::optional<MinimalQueue> queue;
  if (how == Dispatch::kMap || how == Dispatch::kSubmit) pool.emplace(workers);
  if (how == Dispatch::kQueue) queue.emplace(workers);
  const std::vector<int64_t> inputs = how == Dispatch::kMap ? Indices(tasks) : std::vector<int64_t>{};
  const int64_t expected_sum = tasks * (tasks - 1) / 2;
  std::vector<std::future<void>> futures;
  std::vector<std::thread> threads;
  futures.reserve(static_cast<size_t>(tasks));
  threads.reserve(static_cast<size_t>(tasks));
  // Queue baseline completion: the last task to finish wakes the producer. Tasks capture one
  // pointer to it, so std::function stores them without allocating.
  struct Completion {
    std::atomic<int64_t> remaining{0};
    std::mutex mu;
    std::condition_variable cv;
    bool done = false;  // guarded by mu
  } completion;
  int64_t completed = 0;

  Meter meter;
  meter.Start();
  for (auto _ : state) {
    switch (how) {
      case Dispatch::kMap: {
        // The task only hands its input back: the checksum proves each ran once, in order.
        const std::vector<int64_t> out = pool->map([](int64_t i) { return i; }, inputs);
        if (Checksum(out) == expected_sum) completed += tasks;
        break;
      }
      case Dispatch::kSubmit:
        for (int64_t i = 0; i < tasks; ++i) futures.push_back(pool->submit([] {}));
        for (auto& f : futures) f.get();
        futures.clear();
        completed += tasks;
        break;
      case Dispatch::kQueue: {
        Completion* c = &completion;
        c->remaining.store(tasks, std::memory_order_relaxed);
        {
          std::lock_guard lock(c->mu);
          c->done = false;
        }
        for (int64_t i = 0; i < tasks; ++i) {
          queue->Push([c] {
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
        completed += tasks;
        break;
      }
      case Dispatch::kAsync:
        for (int64_t i = 0; i < tasks; ++i) futures.push_back(std::async(std::launch::async, [] {}));
        for (auto& f : futures) f.get();
        futures.clear();
        completed += tasks;
        break;
      case Dispatch::kThread: {
        const std::string refused = StartThreads(threads, tasks, [](int64_t) {});
        for (auto& t : threads) t.join();
        threads.clear();
        if (!refused.empty()) {
          Fail(state, refused);
          break;
        }
        completed += tasks;
        break;
      }
    }
    if (state.error_occurred()) break;
  }
  meter.Stop();
  if (state.error_occurred()) return;
  if (completed != state.iterations() * tasks) {
    Fail(state, "dispatch completed " + std::to_string(completed) + " tasks, expected " +
                    std::to_string(state.iterations() * tasks));
    return;
  }
  SetUsageCounters(state, meter);
  state.counters["ns_per_task"] =
      meter.wall_seconds() * 1e9 / static_cast<double>(std::max<int64_t>(completed, 1));
  state.SetItemsProcessed(completed);
}

// ---- counter ----------------------------------------------------------------------------------

// Arguments: threads, increments.
void ThreadsCounter(benchmark::State& state, CounterMode mode) {
  const int threads = static_cast<int>(state.range(0));
  const int64_t increments = state.range(1);
  int64_t lost = 0, bad = 0;
  CounterResult last;
  Meter meter;
  meter.Start();
  for (auto _ : state) {
    last = RunCounter(mode, threads, increments);
    lost += last.lost();
    // Only the race may lose updates, and no variant can count more than was added.
    if (last.obtained > last.expected || (mode != CounterMode::kRace && last.lost() != 0)) ++bad;
  }
  meter.Stop();
  if (bad != 0) {
    Fail(state, "threads." + std::string(CounterVariant(mode)) + ": " + std::to_string(bad) +
                    " iterations with a wrong total; last obtained " + std::to_string(last.obtained) +
                    ", expected " + std::to_string(last.expected));
    return;
  }
  const double iterations = static_cast<double>(std::max<int64_t>(state.iterations(), 1));
  SetUsageCounters(state, meter);
  state.counters["lost_updates"] = static_cast<double>(lost) / iterations;
  state.counters["ns_per_increment"] =
      meter.wall_seconds() * 1e9 / (iterations * static_cast<double>(last.expected));
  state.SetItemsProcessed(state.iterations() * threads * increments);
}

// ---- registration -----------------------------------------------------------------------------

// Every family bounds its own run time with a fixed iteration count computed from what one
// iteration should take (BoundIterations; the count shows as /iterations:N/ in the name, which
// the grammar accepts, whereas a MinTime would add "min_time:0.500"). Sleep-bound families know
// their time exactly; the others use rough per-unit costs of a 2-core x86 VM, which only need to
// be right within a few times for the run to stay short. Smoke runs get a fiftieth of a second.
using Expected = std::function<double(std::span<const int64_t>)>;

Configure Budget(const Options& o, double budget_s, Expected expected_s) {
  const double budget = o.suite == Suite::kSmoke ? 0.02 : budget_s;
  return [budget, expected_s = std::move(expected_s)](Bench* b, std::span<const int64_t> a) {
    BoundIterations(b, expected_s(a), budget);
  };
}

constexpr double kSleepBudget = 0.5;  // seconds of sleeping per benchmark
constexpr double kBudget = 0.25;      // seconds per benchmark for the others

// cpu_intensivo: ~1.3 ns per iteration; trabajo: 50,000 and tarea_normal: 300,000 iterations of
// ~2.8 ns; spread over min(workers, cores) threads (all of it on one under the GIL).
double ExpectedCpu(double iterations_per_task, int64_t tasks, int64_t workers, bool gil) {
  const double parallel = gil ? 1.0 : static_cast<double>(std::min<int64_t>(workers, UsableCores()));
  return 1e-9 * iterations_per_task * static_cast<double>(tasks) / parallel + 20e-6;
}

void RegisterThreads(const Options& o) {
  // threads/sleep, collected in completion order: tasks, workers, sleep_ms.
  RegisterFamily(o, "threads/sleep",
                 {.notebook = {{{"tasks", {5}}, {"workers", {5}}, {"sleep_ms", {500}}}},  // section 2
                  .smoke = {{{"tasks", {3}}, {"workers", {2}}, {"sleep_ms", {1}}}},
                  .sweep = {{{"tasks", {1, 4, 16, 64, 256, 1024}}, {"workers", {64}}, {"sleep_ms", {1, 10}}},
                            {{"tasks", {64}}, {"workers", {1, 2, 4, 8, 16, 32, 64}}, {"sleep_ms", {1, 10}}}}},
                 [](benchmark::State& s) { ThreadsSleep(s, /*use_map=*/false); },
                 Budget(o, kSleepBudget, [](auto a) { return UniformMakespan(a[0], a[2] / 1e3, a[1], 1); }));
  // threads/sleep through map: tasks, workers, sleep_ms, chunksize.
  RegisterFamily(o, "threads/sleep",
                 {.notebook = {{{"tasks", {5}}, {"workers", {5}}, {"sleep_ms", {200}}, {"chunksize", {1}}}},  // 5.2
                  .smoke = {{{"tasks", {3}}, {"workers", {2}}, {"sleep_ms", {1}}, {"chunksize", {2}}}},
                  .sweep = {{{"tasks", {256}}, {"workers", {8}}, {"sleep_ms", {1}}, {"chunksize", {1, 4, 16, 64}}}}},
                 [](benchmark::State& s) { ThreadsSleep(s, /*use_map=*/true); },
                 Budget(o, kSleepBudget, [](auto a) { return UniformMakespan(a[0], a[2] / 1e3, a[1], a[3]); }));
  RegisterFamily(o, "threads.per_task/sleep",
                 {.notebook = {{{"tasks", {5}}, {"sleep_ms", {500, 200}}}},
                  .smoke = {{{"tasks", {3}}, {"sleep_ms", {1}}}},
                  .sweep = {{{"tasks", {1, 16, 64, 256, 1024}}, {"sleep_ms", {1, 10}}}}},
                 PerTaskSleep,
                 // Creating and joining a thread costs ~60 µs, which dominates 1,024 × 1 ms.
                 Budget(o, kSleepBudget, [](auto a) { return a[1] / 1e3 + 60e-6 * a[0]; }));

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
    RegisterFamily(o, model + "/cpu", cpu_grids,
                   [gil](benchmark::State& s) { ThreadsCpu(s, CpuJob::kCpuIntensivo, gil); },
                   Budget(o, kBudget, [gil](auto a) {
                     return ExpectedCpu(1.3 * static_cast<double>(a[2]), a[0], a[1], gil);
                   }));
    RegisterFamily(o, model + "/tarea_normal", tarea_grids,
                   [gil](benchmark::State& s) { ThreadsCpu(s, CpuJob::kTareaNormal, gil); },
                   Budget(o, kBudget, [gil](auto a) { return ExpectedCpu(2.8 * 300'000, a[0], a[1], gil); }));
  }
  RegisterFamily(o, "threads/trabajo",
                 {.notebook = {},
                  .smoke = {{{"tasks", {3}}, {"workers", {2}}, {"chunksize", {2}}}},
                  .sweep = {{{"tasks", {200}}, {"workers", {2, 4}}, {"chunksize", {1, 20}}}}},
                 [](benchmark::State& s) { ThreadsCpu(s, CpuJob::kTrabajo, false); },
                 Budget(o, kBudget, [](auto a) { return ExpectedCpu(2.8 * 50'000, a[0], a[1], false); }));

  // The notebook's counters (section 2.1), then the pool's own costs.
  for (const CounterMode mode : kAllCounterModes) {
    RegisterFamily(o, "threads." + std::string(CounterVariant(mode)) + "/counter",
                   {.notebook = {{{"threads", {2}}, {"increments", {100'000}}}},
                    .smoke = {{{"threads", {2}}, {"increments", {1'000}}}},
                    .sweep = {{{"threads", {1, 2, 4, 8, 16}}, {"increments", {100'000}}}}},
                   [mode](benchmark::State& s) { ThreadsCounter(s, mode); },
                   // Contended increments cost ~15 ns each; starting a thread ~50 µs.
                   Budget(o, kBudget, [](auto a) { return a[0] * (50e-6 + 15e-9 * a[1]); }));
  }
  RegisterFamily(o, "threads/startup",
                 {.notebook = {{{"workers", {5}}}},
                  .smoke = {{{"workers", {2}}}},
                  .sweep = {{{"workers", {1, 2, 4, 8, 16, 32, 64}}}}},
                 ThreadsStartup, Budget(o, kBudget, [](auto a) { return a[0] * 100e-6; }));
  const SuiteGrids pooled = {.notebook = {{{"tasks", {1, 100'000}}, {"workers", {2}}}},
                             .smoke = {{{"tasks", {1, 100}}, {"workers", {2}}}},
                             .sweep = {{{"tasks", {1, 1'000, 100'000}}, {"workers", {1, 2, 4}}}}};
  const SuiteGrids unpooled = {.notebook = {{{"tasks", {1, 1'000}}}},
                               .smoke = {{{"tasks", {1, 10}}}},
                               .sweep = {{{"tasks", {1, 1'000}}}}};
  // Per task: map ~150 ns, submit + std::future ~1.5 µs, queue ~200 ns, a thread ~80 µs; plus
  // ~20 µs of wake-ups per batch.
  const auto per_task = [&o](double seconds) {
    return Budget(o, kBudget, [seconds](auto a) { return 20e-6 + seconds * static_cast<double>(a[0]); });
  };
  RegisterFamily(o, "threads/dispatch", pooled,
                 [](benchmark::State& s) { ThreadsDispatch(s, Dispatch::kMap); }, per_task(150e-9));
  RegisterFamily(o, "threads.submit/dispatch", pooled,
                 [](benchmark::State& s) { ThreadsDispatch(s, Dispatch::kSubmit); }, per_task(1.5e-6));
  RegisterFamily(o, "threads.queue/dispatch", pooled,
                 [](benchmark::State& s) { ThreadsDispatch(s, Dispatch::kQueue); }, per_task(200e-9));
  RegisterFamily(o, "threads.async/dispatch", unpooled,
                 [](benchmark::State& s) { ThreadsDispatch(s, Dispatch::kAsync); }, per_task(80e-6));
  RegisterFamily(o, "threads.per_task/dispatch", unpooled,
                 [](benchmark::State& s) { ThreadsDispatch(s, Dispatch::kThread); }, per_task(80e-6));
}

const bool kRegistered = AddFamilyGroup("threads", RegisterThreads);

}  // namespace
}  // namespace concbench
