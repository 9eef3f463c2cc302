#include "counters.h"

#include <algorithm>
#include <stdexcept>
#include <string>

#include "named.h"

namespace concbench {
namespace {

constexpr CounterDef kCounters[] = {
    {"ideal_s", "the best wall time one iteration of this model could take for these arguments on ideal cores, in "
                "seconds: T·S for sync sleeps, the makespan of the tasks (or chunks) on the workers for pools, one "
                "sleep for gathered timers. For CPU work the task times come from a serial calibration of the same "
                "batch, and parallel models can use at most the usable cores."},
    {"overhead_s", "measured wall time per iteration − ideal_s, in seconds."},
    {"efficiency", "ideal_s / measured wall time per iteration; 1.0 means the model reached its ideal."},
    {"machine_ideal_s", "ideal_s computed with the parallel capacity the machine delivered on the same batch just "
                        "before the timed loop, in seconds: what the model could reach on the cores as they were at "
                        "that moment (CPU-parallel families)."},
    {"machine_efficiency", "machine_ideal_s / measured wall time per iteration: the model against what the machine "
                           "could give at that moment."},
    {"machine_capacity", "the parallel capacity machine_ideal_s used, in cores: the time of the batch's compute "
                         "(its first tasks, enough for 10 ms) serially ÷ its time split in equal shares over "
                         "min(workers, usable cores) threads, measured just before the timed loop (CPU-parallel "
                         "families)."},
    {"checksum", "Σ of the task results of one iteration, checked against the expected value after timing; a "
                 "mismatch ends the benchmark with an error."},
    {"cpu_util", "CPU seconds (user + system: every thread of the process, its reaped children and a live pool's "
                 "workers, which report their own usage) / wall seconds, over the timed loop; 1.0 = one core busy."},
    {"ctx_switches", "voluntary + involuntary context switches per iteration (process, children, live workers)."},
    {"items_per_second", "tasks completed per second of wall time."},
    {"bytes_per_second", "payload bytes sent and received per second of wall time (echo)."},
    {"ns_per_task", "wall time of one iteration ÷ tasks, in nanoseconds: the whole cost of one dispatched task "
                    "(dispatch; with tasks:1, the submit → result round trip)."},
    {"overhead_ns_per_task", "(wall time of one iteration − ideal_s) ÷ tasks, in nanoseconds: what the model adds "
                             "per task (gathered timers; at sleep_ms:0, the whole cost of arming, firing and closing "
                             "one timer)."},
    {"request_us", "wall time of one iteration ÷ tasks, in microseconds: one echo request, waiting included (at "
                   "delay_ms:0, the per-request overhead)."},
    {"ns_per_increment", "wall time of one iteration ÷ (threads × increments), in nanoseconds (counter)."},
    {"us_per_worker", "wall time of one pool start-up ÷ workers, in microseconds (threads/startup)."},
    {"roundtrip_s", "wall time of one request/response message pair between two processes, in seconds (roundtrip)."},
    {"ipc_bytes", "bytes of frames the parent wrote and read per iteration: headers, task specs, items and "
                  "payloads (processes)."},
    {"ipc_messages", "frames the parent wrote and read per iteration: a pool's one each way per chunk, a forked "
                     "child's one results frame, async.processes' one each way per compute step (processes)."},
    {"lost_updates", "expected − obtained value of the shared counter, mean per iteration (counter; only race can "
                     "lose any)."},
    {"gil_switches", "hand-overs of the emulated GIL per iteration (threads.gil)."},
    {"frame_bytes", "the size of one task's coroutine frame, as its promise's operator new was asked for it, in "
                    "bytes (async.coro)."},
    {"pool_threads", "libuv's threadpool size (UV_THREADPOOL_SIZE, read once per process, default 4; async CPU "
                     "offload)."},
    {"threads_used", "threadpool threads that ran at least one task, max over iterations (async CPU offload)."},
    {"rss_kib", "resident memory growth while the tasks were alive, or while the list existed (alloc), in KiB."},
    {"rss_kib_per_task", "rss_kib ÷ tasks, in KiB (for pending timers and coroutines only from 1,000 tasks on); "
                         "for held children, the mean RSS of one child."},
    {"vm_kib_per_task", "virtual memory added per held thread (its reserved stack), in KiB."},
    {"pss_kib_per_task", "mean proportional set size of one held child, in KiB: its shared pages divided among "
                         "their sharers, what a child really adds."},
    {"parent_rss_kib", "change of the parent's own resident memory while its children were held, in KiB."},
    {"rss_before_kib", "resident memory before the list was built, in KiB (alloc)."},
    {"rss_after_kib", "resident memory with the list built, in KiB (alloc)."},
    {"rss_released_kib", "resident memory after the list was released, in KiB (alloc)."},
    {"bytes_per_item", "rss_kib × 1024 ÷ n: resident bytes per list element (alloc)."},
};

double Iterations(const benchmark::State& state) {
  return state.iterations() > 0 ? static_cast<double>(state.iterations()) : 1.0;
}

}  // namespace

std::span<const CounterDef> Counters() { return kCounters; }

const CounterDef* FindCounter(std::string_view name) { return FindNamed(Counters(), name); }

void SetCounter(benchmark::State& state, std::string_view name, double value) {
  if (FindCounter(name) == nullptr) throw std::logic_error("undocumented counter " + std::string(name));
  state.counters[std::string(name)] = value;
}

void Meter::Start() {
  running_ = true;
  if (live_) live_before_ = live_();
  before_ = RusageSample::Take();
  watch_.Reset();
}

void Meter::Stop() {
  if (!running_) return;
  wall_s_ += watch_.ElapsedSeconds();
  usage_ += RusageSample::Take() - before_;
  if (live_) {
    const WorkerUsage after = live_();
    live_cpu_s_ += after.cpu_seconds - live_before_.cpu_seconds;
    live_switches_ += after.ctx_switches - live_before_.ctx_switches;
  }
  running_ = false;
}

double SecondsPerIteration(const benchmark::State& state, const Meter& meter) {
  return meter.wall_seconds() / Iterations(state);
}

void SetUsageCounters(benchmark::State& state, const Meter& meter) {
  const double wall = meter.wall_seconds();
  SetCounter(state, "cpu_util", wall > 0 ? meter.cpu_seconds() / wall : 0);
  SetCounter(state, "ctx_switches", static_cast<double>(meter.context_switches()) / Iterations(state));
}

void SetIdealCounters(benchmark::State& state, const Meter& meter, double ideal_s) {
  const double measured = SecondsPerIteration(state, meter);
  SetCounter(state, "ideal_s", ideal_s);
  SetCounter(state, "overhead_s", measured - ideal_s);
  SetCounter(state, "efficiency", measured > 0 ? ideal_s / measured : 0);
}

void SetMachineIdealCounters(benchmark::State& state, const Meter& meter, double machine_ideal_s) {
  const double measured = SecondsPerIteration(state, meter);
  SetCounter(state, "machine_ideal_s", machine_ideal_s);
  SetCounter(state, "machine_efficiency", measured > 0 ? machine_ideal_s / measured : 0);
}

void SetWallPerTask(benchmark::State& state, const Meter& meter, std::string_view name, double tasks,
                    double unit_s) {
  SetCounter(state, name, tasks > 0 ? SecondsPerIteration(state, meter) / tasks / unit_s : 0);
}

void SetOverheadPerTask(benchmark::State& state, const Meter& meter, double ideal_s, int64_t tasks) {
  SetCounter(state, "overhead_ns_per_task",
             tasks > 0 ? (SecondsPerIteration(state, meter) - ideal_s) / static_cast<double>(tasks) * 1e9 : 0);
}

void SetIpcCounters(benchmark::State& state, const IpcStats& ipc) {
  SetCounter(state, "ipc_bytes", static_cast<double>(ipc.bytes) / Iterations(state));
  SetCounter(state, "ipc_messages", static_cast<double>(ipc.messages) / Iterations(state));
}

void SetPerTask(benchmark::State& state, std::string_view name, double total, int64_t tasks) {
  SetCounter(state, name, tasks > 0 ? total / static_cast<double>(tasks) : 0);
}

void SetPendingMemory(benchmark::State& state, std::optional<int64_t> growth_kib, int64_t tasks) {
  constexpr int64_t kMinTasksForPerTaskMemory = 1000;
  if (!growth_kib) return;
  SetCounter(state, "rss_kib", static_cast<double>(*growth_kib));
  if (tasks >= kMinTasksForPerTaskMemory) SetPerTask(state, "rss_kib_per_task", static_cast<double>(*growth_kib), tasks);
}

bool VerifyChecksums(benchmark::State& state, int64_t mismatches, int64_t wrong, int64_t expected) {
  if (mismatches == 0) return true;
  return Fail(state, "checksum mismatch in " + std::to_string(mismatches) + " of " +
                         std::to_string(state.iterations()) + " iterations: got " +
                         std::to_string(wrong) + ", expected " + std::to_string(expected));
}

bool Fail(benchmark::State& state, std::string_view what) {
  state.SkipWithError(std::string(what).c_str());
  return false;
}

}  // namespace concbench
