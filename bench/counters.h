// Every counter a concbench benchmark reports, defined once: its name, unit and meaning are in
// kCounters (bench/counters.cc), which the table in docs/counters.md lists word for word, in the
// same order (tests/counters_test.cc compares both names and meanings), and each is computed by
// exactly one function below.
//
// The model counters (ideal_s, overhead_s, efficiency, checksum, cpu_util, ctx_switches) are set
// by the family skeleton (bench/family.h) from a Meter; the others by the families that have them,
// from the meter the skeleton returns:
//
//   const auto meter = TimeIterations(state, {.checksum = SleepBatchChecksum(tasks), .items = tasks},
//                                     [&] { return CoroDispatch(tasks); });  // bench/family.h
//   if (meter) SetWallPerTask(state, *meter, "ns_per_task", static_cast<double>(tasks), 1e-9);
#pragma once

#include <benchmark/benchmark.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string_view>

#include "measure/rusage.h"
#include "measure/timer.h"
#include "models/process_pool.h"

namespace concbench {

struct CounterDef {
  std::string_view name;
  std::string_view meaning;
};

// Every counter name a benchmark may report (Google Benchmark's own items_per_second and
// bytes_per_second included), in docs/counters.md's order.
std::span<const CounterDef> Counters();
const CounterDef* FindCounter(std::string_view name);

// Sets counter `name`, which must be in Counters() (std::logic_error otherwise: an undocumented
// counter is a bug).
void SetCounter(benchmark::State& state, std::string_view name, double value);

// Reads what processes alive through the whole timed loop (a pool's workers) say about their own
// usage; getrusage counts children only once they are reaped, so these report themselves.
using LiveWorkers = std::function<WorkerUsage()>;

// Wall time and CPU usage over the timed loop: this process's threads, its reaped children and,
// if given, live workers. Start() and Stop() may bracket several regions; their costs add up.
class Meter {
 public:
  explicit Meter(LiveWorkers live = {}) : live_(std::move(live)) {}

  void Start();
  void Stop();

  double wall_seconds() const { return wall_s_; }
  double cpu_seconds() const { return usage_.cpu_seconds() + live_cpu_s_; }
  int64_t context_switches() const { return usage_.context_switches() + live_switches_; }

 private:
  LiveWorkers live_;
  Stopwatch watch_;
  RusageSample before_;
  WorkerUsage live_before_;
  double wall_s_ = 0;
  RusageDelta usage_;
  double live_cpu_s_ = 0;
  int64_t live_switches_ = 0;
  bool running_ = false;
};

// Wall seconds of one iteration of the timed loop.
double SecondsPerIteration(const benchmark::State& state, const Meter& meter);

// cpu_util and ctx_switches.
void SetUsageCounters(benchmark::State& state, const Meter& meter);

// ideal_s, overhead_s and efficiency, from `ideal_s` and the meter.
void SetIdealCounters(benchmark::State& state, const Meter& meter, double ideal_s);

// machine_ideal_s and machine_efficiency (machine_ideal_s / measured).
void SetMachineIdealCounters(benchmark::State& state, const Meter& meter, double machine_ideal_s);

// `name` = wall time of one iteration ÷ `tasks`, in units of `unit_s` seconds (ns_per_task,
// request_us, ns_per_increment, us_per_worker).
void SetWallPerTask(benchmark::State& state, const Meter& meter, std::string_view name, double tasks,
                    double unit_s);

// overhead_ns_per_task = (wall time of one iteration − ideal_s) ÷ tasks, in nanoseconds.
void SetOverheadPerTask(benchmark::State& state, const Meter& meter, double ideal_s, int64_t tasks);

// ipc_bytes and ipc_messages per iteration.
void SetIpcCounters(benchmark::State& state, const IpcStats& ipc);

// `name` = total ÷ tasks (0 tasks: 0): rss_kib_per_task, vm_kib_per_task, pss_kib_per_task.
void SetPerTask(benchmark::State& state, std::string_view name, double total, int64_t tasks);

// rss_kib = `growth_kib`, and rss_kib_per_task = rss_kib / tasks from 1,000 tasks on (a 4 KiB
// page is then at most 4 bytes per task); nothing when the growth could not be read.
void SetPendingMemory(benchmark::State& state, std::optional<int64_t> growth_kib, int64_t tasks);

// Fails the benchmark (SkipWithError) unless every iteration produced the expected checksum.
// `mismatches` counts iterations whose checksum differed and `wrong` is one such checksum.
// Returns true when all is well.
bool VerifyChecksums(benchmark::State& state, int64_t mismatches, int64_t wrong, int64_t expected);

// SkipWithError with `what`; returns false so callers can `return Fail(...)`.
bool Fail(benchmark::State& state, std::string_view what);

}  // namespace concbench
