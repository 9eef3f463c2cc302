// What this machine can deliver right now: a probe run before (and after) the benchmarks.
//
// concbench's `ideal_s` assumes min(workers, usable cores) perfect cores. A shared or virtual
// machine is rarely that: on the project's 2-vCPU VM two threads doing twice the work of one
// took anywhere from 1.04× to 2.00× less time than one thread over one afternoon, and one core's
// speed drifted by up to 70 % from one minute to the next. The probe measures, in a few seconds,
// the effective number of cores for CPU work (the *parallel capacity*), how noisy one core is,
// the costs every model pays (a cross-thread wake-up, a 1 ms sleep's overshoot, a fork), and
// reads what the system says about itself (load, SMT, governor, turbo, virtualisation). The
// result goes into the run's context (`machine_*` keys) and into a short card a person reads;
// `MachineIdealSeconds` turns the capacity into a `machine_ideal_s` counter.
//
// Every function measures on the calling thread and on threads it starts and joins itself; the
// threads it starts inherit the calling thread's CPU affinity, so `taskset -c 0` (or a
// sched_setaffinity of the calling thread) probes one CPU. Nothing is left running or unreaped
// when a function returns. No function prints. The measuring functions are meant to run outside
// any timed region; they load the CPUs they measure, so they must not run beside a benchmark.
//
//   const concbench::MachineProbe start = concbench::ProbeMachine();   // ≈ 1.5 s
//   std::fputs(concbench::ProbeCard(start).c_str(), stderr);
//   for (const auto& [k, v] : concbench::ContextEntries(start)) benchmark::AddCustomContext(k, v);
//   ... run the benchmarks ...
//   for (const auto& [k, v] : concbench::ContextEntries(concbench::ProbeEnd(), "_end")) ...
#pragma once

#include <cstdint>
#include <limits>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "workload/task.h"

namespace concbench {

// One probe's findings. A number that could not be measured or read is NaN; a text that could
// not be read is "unknown". A probe from ProbeEnd() (`full` false) holds only
// `parallel_capacity`, `noise_cv`, `core_ns_per_step`, `usable_cores` and `seconds`.
struct MachineProbe {
  static constexpr double kUnknown = std::numeric_limits<double>::quiet_NaN();

  bool full = true;              // false for ProbeEnd(): only capacity and noise were measured
  int usable_cores = 1;          // UsableCores() when probed
  int online_cpus = 1;           // CPUs online in the whole system (what the load is shared by)
  double parallel_capacity = kUnknown;   // ParallelCapacity(), in cores
  double noise_cv = kUnknown;            // NoiseCv(), sd / mean (0.031 = 3.1 %)
  // One core's speed: ns per cpu_intensivo step, the median of the same rounds as noise_cv
  // (lower is faster). Two runs whose figures differ ran on machines of different speed.
  double core_ns_per_step = kUnknown;
  double wakeup_us = kUnknown;           // WakeupRoundTripMicros()
  double sleep_overshoot_us = kUnknown;  // SleepOvershootMicros()
  double fork_us = kUnknown;             // ForkMicros(); NaN when fork failed
  double load = kUnknown;                // getloadavg's 1-minute value
  std::string smt = "unknown";           // "yes" when two usable CPUs are siblings of one core
  std::string governor = "unknown";      // scaling_governor of the usable CPUs ("a,b" if mixed)
  std::string turbo = "unknown";         // "on" or "off" (intel_pstate/no_turbo, cpufreq/boost)
  std::string virtualized = "unknown";   // "yes" or "no"
  std::string hypervisor;                // what says so ("hypervisor flag", "kvm", a DMI name)
  double seconds = 0;                    // how long the probe took
};

// ---- parallel capacity ------------------------------------------------------------------------

struct CapacityOptions {
  // Target duration of one thread's share of cpu_intensivo. A parallel round pays one wake-up of
  // each helper thread (it sleeps through the serial round before it): tens to hundreds of µs on
  // a VM's idle vCPU. With 2 ms shares that cost read as a capacity as low as 0.8 on two free
  // cores; from 10 ms it is a few percent, and 20 pairs still fit the budget. n is chosen from
  // the fastest of three warm-up runs, so a share takes at least this long.
  double share_seconds = 0.010;
  // No new round pair starts after this much time (warm-up and thread start included); at least
  // `min_pairs` and at most `max_pairs` pairs run.
  double budget_seconds = 0.6;
  int min_pairs = 3;
  int max_pairs = 200;
};

// Effective number of cores for CPU work: the time of N shares of cpu_intensivo(n) run one after
// another on the calling thread, divided by the time of the same N shares run at once by a team
// of N (the calling thread and N − 1 helpers, N = UsableCores()). Helpers are created before
// timing; a parallel round runs from the release to the end of the last share. Serial and
// parallel rounds alternate; the result is median(serial) ÷ median(parallel), clamped to
// (0, N]: a ratio above N is noise (a slowed serial round). ≈ 2.0 on two idle cores, ≈ 1.0 when
// another process keeps one of them busy; below 1 only when splitting really is slower than one
// thread (the card says so in those words); exactly 1.0 when N = 1 (no thread is started).
// Throws std::system_error if a thread cannot be created.
double ParallelCapacity(const CapacityOptions& options = {});

struct CapacityForOptions {
  int min_pairs = 3;             // a median needs three
  int max_pairs = 9;
  double budget_seconds = 0.15;  // no new pair starts after this much time
  // A serial round runs the batch as many times as it takes to last this long, like the probe's
  // rounds (CapacityOptions::share_seconds): in a round of 1 ms a helper's wake-up is a large part
  // of it, and a woken helper is favoured over a long-running neighbour for a moment, which a
  // steady batch is not (with one core kept busy, rounds of 1 ms read from 0.3 to 2.0).
  double round_seconds = 0.010;
};

// The same ratio on a benchmark's own work, right before its timed loop: the serial time of
// task(inputs[i]) for every i on the calling thread, divided by the time of the same work split
// over a team of min(threads, inputs.size()) (the calling thread and helpers). A round runs the
// batch `passes` times, enough for round_seconds (one pass, not counted, sizes it); in a parallel
// round each member runs passes ÷ members whole passes, an equal share as the probe's threads
// run (ParallelCapacity), and the round ends with the last share. Serial and parallel rounds
// alternate and their medians are compared. So it measures what the cores deliver to work split
// over them that must finish together: on a core shared with another busy process a share gets
// the scheduler's slices of several ms, which a batch of a few ms cannot wait for or take back.
// The batch's imbalance (3 equal tasks on 2 threads) is not in it: the ideal's Makespan term
// holds that (MachineIdealSeconds). The cost is about min_pairs × 2 × round_seconds. Clamped to
// (0, min(threads, tasks)]. threads == 1 or fewer than 2 tasks give 1.0 without running anything.
// Throws std::invalid_argument if threads < 1, std::logic_error if a task's results differ
// between a serial and a parallel round, and rethrows what a task throws (after joining its
// threads).
double CapacityFor(std::span<const int64_t> inputs, const TaskFn& task, int threads,
                   const CapacityForOptions& options = {});

// What CapacityFor measures, both halves: the capacity and the median serial time of the whole
// batch in the same rounds (with one thread, or one task, only serial rounds are run and the
// capacity is 1). A family's calibration can be minutes old; this serial time is of now.
struct BatchCapacity {
  double capacity = 1.0;
  double serial_seconds = 0;
};
BatchCapacity MeasureBatchCapacity(std::span<const int64_t> inputs, const TaskFn& task, int threads,
                                   const CapacityForOptions& options = {});

// The best time of the calibrated tasks on this machine's measured capacity instead of perfect
// cores. With k = min(workers, UsableCores()) and c = capacity:
//
//     max( Makespan(task_seconds, k, chunksize),  Σ task_seconds ÷ min(k, c) )
//
// The first term is the ideal on k perfect cores (no schedule beats it); the second says that c
// effective cores deliver at most c seconds of CPU work per second, and k workers can use at
// most k of them. So capacity 1.0 gives the serial total, capacity ≥ k gives Makespan, and in
// between the larger of the two. Throws std::invalid_argument if workers or chunksize < 1 or
// capacity is not > 0 (NaN included).
double MachineIdealSeconds(const std::vector<double>& task_seconds, int64_t workers,
                           int64_t chunksize, double capacity);

// ---- cpu_intensivo's speed -------------------------------------------------------------------

// How fast this machine runs the notebook's cpu_intensivo loop, so that a mixed task's compute
// step can be asked for in microseconds (workload `mixed`'s cpu_us) rather than in loop steps.
//
// Measured once per process, on the calling thread, the first time it is asked for: a warm-up,
// then the median of 7 runs of about 2 ms. The median of a sustained run is what a batch of tasks
// sees (a short burst runs at boost clock); it is recorded in the results' context
// (cpu_intensivo_ns_per_step) so a reader knows which n stood for a microsecond.
//
//   int64_t n = concbench::CpuIntensivoStepsFor(1000);  // ~1 ms of cpu_intensivo here
double CpuIntensivoNsPerStep();

// The n for which cpu_intensivo(n) takes about `microseconds` here (0 for 0).
int64_t CpuIntensivoStepsFor(double microseconds);

// ---- the other measurements --------------------------------------------------------------------

// Coefficient of variation (sample sd ÷ mean) of one fixed serial cpu_intensivo loop of about
// `round_seconds`, timed round after round for `budget_seconds` (at least 5 rounds).
double NoiseCv(double budget_seconds = 0.8, double round_seconds = 0.005);

// Median round trip, in µs, of a wake-up between two threads: the calling thread wakes a
// blocked thread, which wakes the calling thread, blocked in turn (mutex + condition
// variables). At most `round_trips` round trips or 0.2 s, after 10 untimed ones.
double WakeupRoundTripMicros(int round_trips = 200);

// Mean overshoot, in µs, of `sleeps` relative 1 ms clock_nanosleep(CLOCK_MONOTONIC) calls,
// each timed on the steady clock.
double SleepOvershootMicros(int sleeps = 50);

// Median µs of fork + _exit(0) in the child + waitpid in the parent, over `forks` forks.
// Standard streams are flushed first. NaN if fork fails (the children already forked are reaped).
double ForkMicros(int forks = 20);

// "yes" when two CPUs of the calling thread's affinity mask are SMT siblings of one core
// (/sys/devices/system/cpu/cpuN/topology/thread_siblings_list), "no" when none are, "unknown"
// when a list cannot be read.
std::string SmtSiblings();

// The CPUs of a sysfs CPU list ("0-3,8,10-11" gives 0 1 2 3 8 10 11). Empty on malformed text.
std::vector<int> ParseCpuList(std::string_view text);

// ---- the whole probe ------------------------------------------------------------------------------

// Everything above, in about 1.5 s (capacity 0.6 s, noise 0.8 s, the rest ≈ 0.1 s). The budgets
// bound when rounds start, not how long a round takes, so a loaded machine adds at most a
// round or two to each: well under 3 s.
MachineProbe ProbeMachine();

// Capacity, noise and one core's speed only, in about 0.8 s (half the budgets), for the end of
// a run: a figure that changed during the run says the machine changed under the benchmarks.
MachineProbe ProbeEnd();

// The run-context entries of a probe, each key followed by `suffix`:
// machine_parallel_capacity, machine_noise_cv, machine_core_ns_per_step, machine_smt,
// machine_wakeup_us, machine_sleep_overshoot_us, machine_fork_us, machine_load,
// machine_governor, machine_turbo, machine_virtualized, machine_usable_cores (only the first
// three for a ProbeEnd() probe, usually with suffix "_end"). Numbers are plain decimals
// (capacity and load to 2 places, µs to 1, the cv and ns per step to 4); what is unknown is
// "unknown".
std::vector<std::pair<std::string, std::string>> ContextEntries(const MachineProbe& probe,
                                                                std::string_view suffix = "");

// A card for a person, at most 15 lines of at most 80 columns, ending in a newline, with a
// plain-words warning line for each of: capacity below 80 % of the usable cores, noise above
// 5 %, a load above the online CPUs, SMT siblings among the usable CPUs, a virtual machine.
std::string ProbeCard(const MachineProbe& probe);

}  // namespace concbench
