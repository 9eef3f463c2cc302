// Memory and scale: what one more concurrent task costs each model, read from the kernel.
//
//   sync/alloc/n:N                               notebook section 6: a vector of N int64 created and
//                                                released (mmap-backed); rss before / after / after release
//   threads.per_task/memory/tasks:T/stack_kib:K  T threads alive at once, each blocked
//   threads/memory/tasks:T/workers:W             T tasks submitted to a pool of W blocked workers:
//                                                T futures pending in the queue
//   processes.per_task/memory/tasks:T            T forked children alive at once, each blocked
//
// One iteration starts the T tasks, waits until all are alive, reads memory (timing paused),
// releases them and joins or reaps them, so real_time / T is the start-up plus completion time per
// task. Counters (per task, from the last iteration):
//   rss_kib            threads: resident memory of this process while the T tasks were alive,
//                      minus before
//   rss_kib_per_task   threads: rss_kib / T; children: mean RSS of one child (/proc/<pid>/smaps_rollup,
//                      pages shared copy-on-write with the parent counted in full)
//   vm_kib_per_task    threads: virtual size added per task (the reserved stack)
//   pss_kib_per_task   children: mean proportional set size of one child (shared pages divided
//                      among the processes sharing them: what a child really adds)
//   parent_rss_kib     children: change of the parent's own resident memory
//   checksum           Σ task results (index + 1), verified
#include <malloc.h>
#include <sys/mman.h>
#include <sys/types.h>

#include <future>
#include <numeric>
#include <string>
#include <vector>

#include "family.h"
#include "measure/memory.h"
#include "models/hold.h"
#include "models/thread_pool/future.h"
#include "models/thread_pool/thread_pool.h"
#include "registry.h"
#include "sys/rlimit.h"

namespace concbench {
namespace {

int64_t RssKib() { return ReadProcStatusKib("VmRSS").value_or(0); }
int64_t VmKib() { return ReadProcStatusKib("VmSize").value_or(0); }

// Memory straight from mmap and back to the kernel on release. With malloc, what "released"
// shows would depend on the allocator's history in this process (glibc raises its mmap threshold
// after the first large free and then keeps freed memory in the heap), not on the program.
template <typename T>
struct MmapAllocator {
  using value_type = T;
  MmapAllocator() = default;
  template <typename U>
  MmapAllocator(const MmapAllocator<U>&) {}
  T* allocate(size_t n) {
    void* p = mmap(nullptr, n * sizeof(T), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) throw std::bad_alloc();
    return static_cast<T*>(p);
  }
  void deallocate(T* p, size_t n) { munmap(p, n * sizeof(T)); }
  friend bool operator==(const MmapAllocator&, const MmapAllocator&) { return true; }
};

// Section 6: `data = [i for i in range(n)]`, then `del data`.
void SyncAlloc(benchmark::State& state, const Args& args) {
  const int64_t n = args["n"];
  int64_t before = 0, after = 0, released = 0;
  const auto meter = TimeIterations(state, {.checksum = n * (n - 1) / 2, .usage_counters = false}, [&] {
    state.PauseTiming();
    before = RssKib();
    state.ResumeTiming();
    std::vector<int64_t, MmapAllocator<int64_t>> data(static_cast<size_t>(n));
    std::iota(data.begin(), data.end(), 0);
    benchmark::DoNotOptimize(data.data());
    state.PauseTiming();
    after = RssKib();
    const int64_t sum = std::accumulate(data.begin(), data.end(), int64_t{0});
    state.ResumeTiming();
    data = {};
    data.shrink_to_fit();
    state.PauseTiming();
    released = RssKib();
    state.ResumeTiming();
    return sum;
  });
  if (!meter) return;
  SetCounter(state, "rss_before_kib", static_cast<double>(before));
  SetCounter(state, "rss_after_kib", static_cast<double>(after));
  SetCounter(state, "rss_released_kib", static_cast<double>(released));
  SetCounter(state, "rss_kib", static_cast<double>(after - before));
  SetCounter(state, "bytes_per_item", n > 0 ? static_cast<double>(after - before) * 1024 / static_cast<double>(n) : 0);
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

void RegisterMemory(const Options& o) {
  benchmark::AddCustomContext("task_limits", DescribeTaskLimits());
  // Thread creation costs tens of microseconds, a fork a few hundred: each family's time is
  // bounded at 0.15 s a repetition.
  constexpr double kBudgetS = 0.15;
  RegisterFamily(o, {.name = "sync/alloc",
                     .grids = {.notebook = {{{"n", {300'000}}}},  // section 6
                               .smoke = {{{"n", {1'000}}}},
                               .sweep = {{{"n", {300'000, 3'000'000, 30'000'000}}}}},
                     .body = SyncAlloc,
                     // Faulting in and zeroing pages: ~1 ns per element.
                     .budget = Adaptive([](const Args& a) { return 1e-9 * static_cast<double>(a["n"]); }),
                     .unit = benchmark::kMicrosecond});
  RegisterFamily(o, {.name = "threads.per_task/memory",
                     .grids = {.notebook = {{{"tasks", {100}}, {"stack_kib", {8192}}}},
                               .smoke = {{{"tasks", {4}}, {"stack_kib", {64}}}},
                               // 100,000 threads on small stacks, where the limits allow: each thread
                               // takes a pid (kernel.pid_max) and two memory maps (vm.max_map_count),
                               // so a stock Linux stops near 32,000 and the benchmark says which limit.
                               .sweep = {{{"tasks", {1, 10, 100, 1'000, 10'000}}, {"stack_kib", {64, 8192}}},
                                         {{"tasks", {100'000}}, {"stack_kib", {64}}}}},
                     .body = ThreadsPerTaskMemory,
                     .budget = Fixed(kBudgetS, [](const Args& a) { return static_cast<double>(a["tasks"]) * 50e-6; })});
  RegisterFamily(o, {.name = "threads/memory",
                     .grids = {.notebook = {},
                               .smoke = {{{"tasks", {10}}, {"workers", {2}}}},
                               .sweep = {{{"tasks", {1, 10, 100, 1'000, 10'000, 100'000}}, {"workers", {2}}}}},
                     .body = ThreadsPoolMemory,
                     .budget = Fixed(kBudgetS, [](const Args& a) { return static_cast<double>(a["tasks"]) * 2e-6 + 100e-6; })});
  RegisterFamily(o, {.name = "processes.per_task/memory",
                     .grids = {.notebook = {{{"tasks", {100}}}},
                               .smoke = {{{"tasks", {3}}}},
                               .sweep = {{{"tasks", {1, 10, 100, 1'000, 10'000}}}}},
                     .body = ProcessesPerTaskMemory,
                     .budget = Fixed(kBudgetS, [](const Args& a) { return static_cast<double>(a["tasks"]) * 300e-6; })});
}

const bool kRegistered = AddFamilyGroup("memory", RegisterMemory);

}  // namespace
}  // namespace concbench
