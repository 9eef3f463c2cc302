#include "models.h"

#include <algorithm>
#include <exception>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>

#include "measure/memory.h"
#include "models/async.h"
#include "models/coro/frames.h"
#include "models/coro/spec_task.h"
#include "models/fork_per_task.h"
#include "models/gil.h"
#include "models/loop_process_pool.h"
#include "models/hold.h"
#include "models/process_pool.h"
#include "models/thread_per_task.h"
#include "models/thread_pool/thread_pool.h"
#include "named.h"
#include "results_file.h"
#include "watchdog.h"
#include "workload/task.h"

namespace concbench {
namespace {

constexpr unsigned kComputeAndWaits =
    StepKindBit(StepKind::kCompute) | StepKindBit(StepKind::kSleep) | StepKindBit(StepKind::kEcho);

// Rough per-unit costs of a 2-core x86 VM, only to size runs.
constexpr double kWakeupS = 20e-6;          // a pool's threads waking for a batch
constexpr double kThreadStartS = 60e-6;     // creating and joining one std::thread
constexpr double kTimerS = 1e-6;            // one timer or coroutine on the loop, generously
constexpr double kMessageS = 30e-6;         // one chunk to a worker process and its results back
constexpr double kForkS = 500e-6;           // fork + exit + reap of one child

int64_t Workers(const Args& a) { return a["workers"]; }
int64_t CoresFor(int64_t workers) { return std::min<int64_t>(workers, UsableCores()); }
int64_t Chunksize(const Args& a) { return a.Get("chunksize", 1); }
int64_t LoopPool() { return std::min<int64_t>(UvThreadpoolSize(), UsableCores()); }

// ---- shapes: how each model runs a batch, for its ideal ----

BatchShape Serial(const Args&) { return {.lanes = 1, .cpu_slots = 1}; }
BatchShape Pool(const Args& a) { return {.lanes = Workers(a), .cpu_slots = CoresFor(Workers(a)), .chunksize = Chunksize(a)}; }
BatchShape PoolUnderGil(const Args& a) { return {.lanes = Workers(a), .cpu_slots = 1, .chunksize = Chunksize(a)}; }
BatchShape EveryTaskAtOnce(const Args&) { return {.lanes = 0, .cpu_slots = UsableCores()}; }
BatchShape LoopInline(const Args&) { return {.lanes = 0, .cpu_slots = 1}; }
BatchShape LoopOffload(const Args&) { return {.lanes = 0, .cpu_slots = LoopPool()}; }
BatchShape LoopProcesses(const Args& a) { return {.lanes = 0, .cpu_slots = CoresFor(Workers(a))}; }

// ---- overheads, to size runs ----

double None(const Args&, int64_t) { return 0; }
double Wakeups(const Args&, int64_t) { return kWakeupS; }
double ThreadPerTask(const Args&, int64_t tasks) { return kThreadStartS * static_cast<double>(tasks); }
double Timers(const Args&, int64_t tasks) { return kTimerS * static_cast<double>(tasks); }
double Messages(const Args& a, int64_t tasks) {
  const double chunks = static_cast<double>((tasks + Chunksize(a) - 1) / Chunksize(a));
  const double cores = static_cast<double>(CoresFor(Workers(a)));
  return chunks * kMessageS / cores + 2 * static_cast<double>(a.Get("payload", 0) * tasks) / 1e9;
}
double MessagesAndForks(const Args& a, int64_t tasks) {
  return Messages(a, tasks) + kForkS * static_cast<double>(Workers(a));
}
double ForkPerTask(const Args&, int64_t tasks) { return kForkS * static_cast<double>(tasks); }

// ---- runners ----

// In a traced batch, a pool's workers report their spans (and the pool its instants of them);
// they reach the observer when the batch ends, also when it throws: the tasks seen so far.
class TracedWorkers {
 public:
  template <class Pool>
  TracedWorkers(Pool* pool, TaskObserver* observer) : observer_(observer) {
    if (pool == nullptr || observer == nullptr) return;
    pool->SetTraceSink(&spans_);
    detach_ = [pool] { pool->SetTraceSink(nullptr); };
  }
  ~TracedWorkers() {
    if (!detach_) return;
    detach_();
    ReportWorkerSpans(&spans_, observer_);
  }
  TracedWorkers(const TracedWorkers&) = delete;
  TracedWorkers& operator=(const TracedWorkers&) = delete;

 private:
  TaskObserver* observer_;
  std::vector<WorkerSpan> spans_;
  std::function<void()> detach_;
};

// Runs task i on its input, in a blocking model's thread or process.
struct Blocking {
  const TaskSpec& spec;
  std::span<const int64_t> inputs;
  const TaskEnv& env;
  int64_t operator()(int64_t i, TaskObserver* observer) const {
    return RunTaskBlocking(spec, inputs[static_cast<size_t>(i)], env, observer, i);
  }
};

class SyncRunner final : public BatchRunner {
 public:
  explicit SyncRunner(const RunnerSetup& s) : run_{s.spec, s.inputs, s.env} {}
  std::vector<int64_t> Run(TaskObserver* observer) override {
    std::vector<int64_t> out(run_.inputs.size());
    for (size_t i = 0; i < out.size(); ++i) out[i] = run_(static_cast<int64_t>(i), observer);
    return out;
  }

 private:
  Blocking run_;
};

// concbench's ThreadPool. Without a chunksize argument the batch goes through SubmitAll and is
// collected in completion order (section 2's as_completed); with one, through Map (section
// 5.2's ex.map). Under the GIL (threads.gil), each task runs as a Python thread would.
class ThreadsRunner final : public BatchRunner {
 public:
  ThreadsRunner(const RunnerSetup& s, bool gil)
      : run_{s.spec, s.inputs, s.env}, positions_(TaskIndices(static_cast<int64_t>(s.inputs.size()))),
        use_map_(s.args.Has("chunksize")), chunksize_(Chunksize(s.args)), gil_mode_(gil),
        pool_(static_cast<int>(Workers(s.args))) {}

  std::vector<int64_t> Run(TaskObserver* observer) override {
    auto task = [this, observer](int64_t i) {
      if (!gil_mode_) return run_(i, observer);
      return RunTaskUnderGil(run_.spec, run_.inputs[static_cast<size_t>(i)], run_.env, gil_, observer, i);
    };
    if (use_map_) return pool_.Map(task, positions_, chunksize_);
    std::vector<int64_t> out(positions_.size());
    auto done = pool_.SubmitAll(task, positions_);
    while (auto c = done.Next()) out[c->index] = c->result.Get();
    return out;
  }

  void WarmUp() override {
    Run(nullptr);
    switches_before_ = gil_.switches();
  }

  void AddCounters(benchmark::State& state, const Meter&) override {
    if (!gil_mode_) return;
    SetCounter(state, "gil_switches",
               static_cast<double>(gil_.switches() - switches_before_) / static_cast<double>(state.iterations()));
  }

 private:
  Blocking run_;
  std::vector<int64_t> positions_;
  bool use_map_;
  int64_t chunksize_;
  bool gil_mode_;
  Gil gil_;
  int64_t switches_before_ = 0;
  ThreadPool pool_;  // last: its threads stop before the rest goes
};

class ThreadPerTaskRunner final : public BatchRunner {
 public:
  explicit ThreadPerTaskRunner(const RunnerSetup& s) : run_{s.spec, s.inputs, s.env} {}
  std::vector<int64_t> Run(TaskObserver* observer) override {
    std::vector<int64_t> out(run_.inputs.size());
    std::mutex mu;
    std::exception_ptr error;
    RunThreadPerTask(static_cast<int64_t>(out.size()), [&](int64_t i) {
      try {
        out[static_cast<size_t>(i)] = run_(i, observer);
      } catch (...) {
        const std::lock_guard lock(mu);
        if (!error) error = std::current_exception();
      }
    });
    if (error) std::rethrow_exception(error);
    return out;
  }

 private:
  Blocking run_;
};

// A spec of sleeps only, every sleep 0: the same pending tasks, without the wait.
std::optional<TaskSpec> ZeroWaitSleeps(const TaskSpec& spec) {
  TaskSpec zero = spec;
  for (Step& s : zero.steps) {
    if (s.kind != StepKind::kSleep) return std::nullopt;
    s.arg = 0;
  }
  return zero;
}

// The event loop: callbacks (models/async.h) or coroutines (models/coro/spec_task.h), gathered or one
// after another, waits on the loop or blocking it, compute inline or on libuv's threadpool.
class LoopRunner final : public BatchRunner {
 public:
  LoopRunner(const RunnerSetup& s, bool coroutines, LoopStart start, LoopWaits waits, LoopCompute compute)
      : s_(s), coroutines_(coroutines), start_(start), waits_(waits), compute_(compute) {
    if (compute == LoopCompute::kThreadpool) CheckThreadpoolCanStart();
    if (compute == LoopCompute::kProcesses) processes_ = std::make_unique<LoopProcessPool>(loop_, static_cast<int>(Workers(s.args)), s.env);
    // A gathered batch of sleeps reports what its pending timers (or coroutines) hold, from one
    // batch run with zero waits before the timed loop: the wait does not change what is pending.
    if (start == LoopStart::kGather && waits == LoopWaits::kOnLoop) {
      if (const auto zero = ZeroWaitSleeps(s.spec)) {
        pending_kib_ = PeakGrowthKib([&](const std::function<void()>& at_peak) { RunBatch(*zero, nullptr, at_peak); });
        timers_only_ = true;
      }
    }
    if (coroutines) {
      // Calling a coroutine allocates its frame and runs nothing (tasks are lazy).
      const SpecBatch batch{loop_, s.spec, s.env, compute};
      const Task<int64_t> one = SpecTask(batch, 0, 0);
      frame_bytes_ = CoroFrames().last_frame_bytes;
    }
  }

  void WarmUp() override {
    RunBatch(s_.spec, nullptr, {});
    if (processes_) ipc_before_ = processes_->ipc();
  }

  ~LoopRunner() override {
    processes_.reset();  // its poll handles close on the loop before the loop does
    loop_.Close();
  }

  LiveWorkers live_workers() override {
    if (!processes_) return {};
    return [this] { return processes_->worker_usage(); };
  }

  std::vector<int64_t> Run(TaskObserver* observer) override { return RunBatch(s_.spec, observer, {}); }

  void AddCounters(benchmark::State& state, const Meter& meter) override {
    if (coroutines_) SetCounter(state, "frame_bytes", static_cast<double>(frame_bytes_));
    if (compute_ == LoopCompute::kThreadpool && !coroutines_) {  // RunOnLoop counts the threads it used
      SetCounter(state, "pool_threads", UvThreadpoolSize());
      SetCounter(state, "threads_used", threads_used_);
    }
    if (processes_) SetIpcCounters(state, processes_->ipc() - ipc_before_);
    if (timers_only_) {
      const auto tasks = static_cast<int64_t>(s_.inputs.size());
      SetOverheadPerTask(state, meter, WaitSeconds(s_.spec), tasks);
      SetPendingMemory(state, pending_kib_, tasks);
    }
  }

 private:
  std::vector<int64_t> RunBatch(const TaskSpec& spec, TaskObserver* observer, std::function<void()> on_started) {
    if (coroutines_) {
      // The whole batch is bounded: a wait longer than the longest step plus 30 s is a fault.
      const auto timeout = std::chrono::milliseconds(30'000 + static_cast<int64_t>(WaitSeconds(spec) * 1e3));
      return RunCoroutines(loop_, spec, s_.inputs, s_.env,
                           {.start = start_, .compute = compute_, .timeout = timeout,
                            .on_started = std::move(on_started), .observer = observer});
    }
    LoopStats stats;
    const TracedWorkers traced(processes_.get(), observer);
    auto r = RunOnLoop(loop_, spec, s_.inputs, s_.env,
                       {.start = start_, .waits = waits_, .compute = compute_, .processes = processes_.get(),
                        .on_started = std::move(on_started), .observer = observer},
                       &stats);
    threads_used_ = std::max(threads_used_, stats.threads_used);
    return r;
  }

  // libuv starts its threadpool on the first uv_queue_work and calls abort() if a thread is
  // refused. Check, once, that this many threads can exist side by side, and fail this benchmark
  // with the reason instead of losing the whole run.
  static void CheckThreadpoolCanStart() {
    static bool can_start = false;
    if (can_start) return;
    try {
      HoldThreads(UvThreadpoolSize(), 64, nullptr);
    } catch (const LimitError& e) {
      throw LimitError("libuv's threadpool of " + std::to_string(UvThreadpoolSize()) +
                       " threads cannot start (libuv would abort the process): " + e.what());
    }
    can_start = true;
  }

  const RunnerSetup s_;
  bool coroutines_;
  LoopStart start_;
  LoopWaits waits_;
  LoopCompute compute_;
  UvLoop loop_;
  std::unique_ptr<LoopProcessPool> processes_;  // after loop_: goes first
  IpcStats ipc_before_;                            // the pool's messages before the timed loop
  bool timers_only_ = false;
  std::optional<int64_t> pending_kib_;
  int64_t frame_bytes_ = 0;
  int threads_used_ = 0;
};

// concbench's ProcessPool, built before the timed loop and reused by every iteration (its live
// workers' usage goes into cpu_util), or built, used and shut down inside every iteration, as the
// notebook's `with ProcessPoolExecutor()` (processes.with_startup; its workers are then reaped
// children).
class ProcessesRunner final : public BatchRunner {
 public:
  ProcessesRunner(const RunnerSetup& s, bool with_startup)
      : s_(s), workers_(static_cast<int>(Workers(s.args))), chunksize_(Chunksize(s.args)),
        payloads_(DistinctPayloads(s.inputs.size(), s.ipc_payload)),
        // Echo tasks get their next task only when they are free, as in the ideal; the others keep
        // one chunk queued behind the running one, like ProcessPoolExecutor's call queue.
        queued_((StepKindsOf(s.spec) & StepKindBit(StepKind::kEcho)) != 0 ? 0 : 1),
        with_startup_(with_startup) {
    if (!with_startup) pool_ = MakePool();
  }

  std::vector<int64_t> Run(TaskObserver* observer) override {
    std::unique_ptr<ProcessPool> local;
    ProcessPool* p = pool_.get();
    if (with_startup_) {
      const uint64_t t0 = observer != nullptr ? MonotonicNs() : 0;
      local = MakePool();
      p = local.get();
      if (observer != nullptr) observer->ModelEvent("start the pool: fork " + std::to_string(workers_) + " workers", t0, MonotonicNs());
    }
    const TracedWorkers traced(p, observer);
    const IpcStats before = p->ipc();
    std::vector<int64_t> values;
    if (payloads_.empty()) {
      values = p->Map(s_.spec, s_.inputs, chunksize_);
    } else {
      p->MapWithPayloads(s_.spec, s_.inputs, payloads_, chunksize_, &mapped_);
      values = mapped_.values;
    }
    if (local) {
      const uint64_t t0 = observer != nullptr ? MonotonicNs() : 0;
      local->Shutdown();
      if (observer != nullptr) observer->ModelEvent("shut the pool down", t0, MonotonicNs());
    }
    ipc_ += p->ipc() - before;
    return values;
  }

  void WarmUp() override {
    Run(nullptr);
    ipc_ = {};
  }

  LiveWorkers live_workers() override {
    if (!pool_) return {};
    return [this] { return pool_->worker_usage(); };
  }

  void AddCounters(benchmark::State& state, const Meter&) override {
    // The last iteration's payloads, byte for byte (every iteration's checksum is verified).
    if (mapped_.payloads != payloads_) throw std::runtime_error("payloads came back altered (checked after the loop, last iteration)");
    SetIpcCounters(state, ipc_);
  }

 private:
  std::unique_ptr<ProcessPool> MakePool() const {
    auto pool = std::make_unique<ProcessPool>(workers_, s_.env, queued_);
    pool->SetStallTimeout(RunStallTimeout());  // a silent worker is named before the watchdog fires
    return pool;
  }

  const RunnerSetup s_;
  int workers_;
  int64_t chunksize_;
  std::vector<std::string> payloads_;
  int queued_;
  bool with_startup_;
  std::unique_ptr<ProcessPool> pool_;
  MapResult mapped_;  // reused: payloads are deserialised into buffers the loop already owns
  IpcStats ipc_;
};

class ForkPerTaskRunner final : public BatchRunner {
 public:
  explicit ForkPerTaskRunner(const RunnerSetup& s) : s_(s) {}
  std::vector<int64_t> Run(TaskObserver* observer) override {
    IpcStats one;
    std::vector<WorkerSpan> spans;
    auto r = RunForkPerTask(s_.spec, s_.inputs, s_.env, &one, RunStallTimeout(), observer != nullptr ? &spans : nullptr);
    if (observer != nullptr) ReportWorkerSpans(&spans, observer);
    ipc_ += one;
    return r;
  }
  void AddCounters(benchmark::State& state, const Meter&) override { SetIpcCounters(state, ipc_); }

 private:
  const RunnerSetup s_;
  IpcStats ipc_;
};

template <class R, auto... Options>
std::unique_ptr<BatchRunner> Make(const RunnerSetup& s) {
  return std::make_unique<R>(s, Options...);
}

// A row of an event-loop model: its shape follows from how it starts tasks, waits and computes.
template <bool kCoroutines, LoopStart kStart, LoopWaits kWaits, LoopCompute kCompute>
constexpr ModelInfo LoopModel(std::string_view name, std::string_view summary, std::string_view python) {
  constexpr bool one_at_a_time = kStart == LoopStart::kSequential || kWaits == LoopWaits::kBlocking;
  constexpr auto shape = one_at_a_time                         ? Serial
                         : kCompute == LoopCompute::kInline     ? LoopInline
                         : kCompute == LoopCompute::kThreadpool ? LoopOffload
                                                                : LoopProcesses;
  return {name, summary, python, kComputeAndWaits, shape, /*parallel=*/kCompute != LoopCompute::kInline,
          /*gil=*/false, /*task_tracks=*/true, kCompute == LoopCompute::kProcesses ? Messages : Timers,
          Make<LoopRunner, kCoroutines, kStart, kWaits, kCompute>, /*warm_up=*/kCompute != LoopCompute::kInline};
}

// The table. Python twins are the notebook's own code run live (scripts/notebook_python.py).
const ModelInfo kModels[] = {
    {"sync", "every task in the calling thread, one after another (section 1)", "python.sync", kComputeAndWaits,
     Serial, false, false, false, None, Make<SyncRunner>},
    {"sync.keepalive", "sync over one connection kept open for every request", "", 0},
    {"sync.bare", "sync against a minimal blocking peer: the floor of one request", "", 0},
    {"threads", "concbench's thread pool: submit, map(chunksize), as_completed (sections 2, 4, 5.2)", "python.threads",
     kComputeAndWaits, Pool, true, false, false, Wakeups, Make<ThreadsRunner, false>, true},
    {"threads.per_task", "one std::thread per task, created and joined in every batch", "", kComputeAndWaits,
     EveryTaskAtOnce, true, false, false, ThreadPerTask, Make<ThreadPerTaskRunner>},
    {"threads.gil", "the thread pool under an emulated CPython GIL: one thread computes at a time",
     "python.threads", kComputeAndWaits, PoolUnderGil, false, true, false, Wakeups, Make<ThreadsRunner, true>, true},
    {"threads.keepalive", "threads, each worker on one connection kept open", "", 0},
    {"threads.submit", "Submit() and a future per task: the pool's dispatch cost", "", 0},
    {"threads.queue", "a minimal mutex + condition-variable queue: the floor of dispatch", "", 0},
    {"threads.async", "std::async(launch::async) per task", "", 0},
    {"threads.race", "two threads incrementing a shared counter without a lock (section 2.1)", "python.threads.race", 0},
    {"threads.mutex", "the same under a mutex (section 2.1)", "python.threads.mutex", 0},
    {"threads.atomic", "the same with an atomic increment", "", 0},
    {"threads.local", "each thread counts alone, then the counts are added", "", 0},
    LoopModel<false, LoopStart::kGather, LoopWaits::kOnLoop, LoopCompute::kInline>(
        "async", "a libuv event loop: tasks gathered, waits as timers and sockets, compute inline (section 3)", "python.async"),
    LoopModel<false, LoopStart::kSequential, LoopWaits::kOnLoop, LoopCompute::kInline>(
        "async.sequential", "the loop awaiting one task after another (sections 3.1, 5.1)", "python.async.sequential"),
    LoopModel<false, LoopStart::kGather, LoopWaits::kBlocking, LoopCompute::kInline>(
        "async.blocking", "tasks on the loop that block it while they wait (time.sleep inside async def)", ""),
    LoopModel<false, LoopStart::kGather, LoopWaits::kOnLoop, LoopCompute::kThreadpool>(
        "async.offload", "the loop with compute on libuv's threadpool (run_in_executor)", "python.async.offload"),
    LoopModel<false, LoopStart::kGather, LoopWaits::kOnLoop, LoopCompute::kProcesses>(
        "async.processes", "the loop with compute in worker processes (run_in_executor with a process pool)",
        "python.async.processes"),
    {"async.bare", "the gathered timers written directly against libuv: the floor a timer costs", "", 0},
    {"async.keepalive", "async over connections kept open", "", 0},
    LoopModel<true, LoopStart::kGather, LoopWaits::kOnLoop, LoopCompute::kInline>(
        "async.coro", "C++20 coroutines on the same loop: co_await Sleep, Gather (section 3's async def)", "python.async"),
    LoopModel<true, LoopStart::kSequential, LoopWaits::kOnLoop, LoopCompute::kInline>(
        "async.coro.sequential", "coroutines awaited one after another (section 3.1)", "python.async.sequential"),
    LoopModel<true, LoopStart::kGather, LoopWaits::kOnLoop, LoopCompute::kThreadpool>(
        "async.coro.offload", "coroutines awaiting compute on libuv's threadpool", ""),
    {"processes", "concbench's fork-based worker pool over pipes, warm (sections 4, 4.1, 5.3)", "python.processes",
     kComputeAndWaits,
     Pool, true, false, false, Messages, Make<ProcessesRunner, false>, true},
    {"processes.with_startup", "the pool built and shut down in every batch (`with ProcessPoolExecutor()`)",
     "python.processes.with_startup", kComputeAndWaits, Pool, true, false, false, MessagesAndForks,
     Make<ProcessesRunner, true>},
    {"processes.per_task", "one fork per task, no reuse", "", kComputeAndWaits, EveryTaskAtOnce, true, false, false,
     ForkPerTask, Make<ForkPerTaskRunner>},
    {"processes.bare_pipe", "one message over two bare pipes: the floor of the pool's IPC", "", 0},
};

}  // namespace

std::span<const ModelInfo> Models() { return kModels; }

const ModelInfo* FindModel(std::string_view name) { return FindNamed(Models(), name); }

std::string_view ModelOfName(std::string_view name) { return name.substr(0, name.find('/')); }

std::string ModelsJson() {
  std::string out = "{\"models\": [";
  for (const ModelInfo& m : kModels) {
    const size_t dot = m.name.find('.');
    const std::string base(m.name.substr(0, dot));
    const std::string variant(dot == std::string_view::npos ? std::string_view() : m.name.substr(dot + 1));
    if (&m != kModels) out += ",";
    out += "\n  {\"name\": " + JsonString(std::string(m.name)) + ", \"base\": " + JsonString(base) +
           ", \"variant\": " + JsonString(variant) + ", \"summary\": " + JsonString(std::string(m.summary)) +
           ", \"python\": " + (m.python.empty() ? std::string("null") : JsonString(std::string(m.python))) +
           ", \"steps\": " + JsonStrings(StepKindNames(m.steps)) + "}";
  }
  return out + "\n]}\n";
}

}  // namespace concbench
