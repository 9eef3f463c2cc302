#include "models/async.h"

#include <algorithm>
#include <cstdlib>
#include <exception>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>

#include "models/echo_exchange.h"
#include "models/loop_process_pool.h"
#include "workload/sleep.h"

namespace concbench {
namespace {

constexpr uint64_t kNsPerMs = 1'000'000;
constexpr unsigned kMaxThreadpoolSize = 1024;  // libuv's MAX_THREADPOOL_SIZE
constexpr unsigned kDefaultThreadpoolSize = 4;

// One batch: every task's state, the handles it opened, and the first error. A task's state is
// its position i in every array: its result, its next step, its timer (when the spec waits on
// the loop or the waits block), its threadpool request (when compute is offloaded) and its echo
// exchange in flight. Everything is touched on the loop's thread only, except an offloaded step's
// result, which the threadpool thread writes while the task is suspended on it.
class Batch final : public EchoExchangeOwner, public LoopComputeOwner {
 public:
  Batch(uv_loop_t* loop, const TaskSpec& spec, std::span<const int64_t> inputs, const TaskEnv& env,
        const LoopOptions& options, int64_t* results)
      : loop_(loop), spec_(spec), inputs_(inputs), env_(env), opt_(options), results_(results),
        tasks_(static_cast<int64_t>(inputs.size())), pending_(tasks_), step_(inputs.size(), 0) {
    const unsigned kinds = StepKindsOf(spec);
    if ((kinds & StepKindBit(StepKind::kSleep)) != 0 || opt_.waits == LoopWaits::kBlocking) {
      timers_.reset(new uv_timer_t[inputs.size()]);  // default-initialised: libuv initialises them
    }
    if (spec.steps.size() > 1) deadlines_.assign(inputs.size(), 0);
    if ((kinds & StepKindBit(StepKind::kEcho)) != 0 && opt_.waits == LoopWaits::kOnLoop) {
      exchanges_.assign(inputs.size(), nullptr);
    }
    if ((kinds & StepKindBit(StepKind::kCompute)) != 0 && opt_.compute == LoopCompute::kThreadpool) {
      works_.reset(new uv_work_t[inputs.size()]);
    }
  }

  // Closes what is still open and waits for every offloaded step, so that libuv holds no pointer
  // into the batch once it is gone, also when the batch is unwinding from an exception.
  ~Batch() override {
    for (int64_t i = 0; i < timers_open_; ++i) uv_close(reinterpret_cast<uv_handle_t*>(&timers_[Index(i)]), nullptr);
    for (EchoExchange*& x : exchanges_) {
      if (x != nullptr) std::exchange(x, nullptr)->Cancel();
    }
    if (opt_.processes != nullptr) opt_.processes->Abandon();
    while (in_flight_ > 0 || (opt_.processes != nullptr && !opt_.processes->idle())) uv_run(loop_, UV_RUN_ONCE);
    uv_run(loop_, UV_RUN_NOWAIT);  // the close callbacks
  }

  Batch(const Batch&) = delete;
  Batch& operator=(const Batch&) = delete;

  void Run() {
    if (timers_) {
      for (int64_t i = 0; i < tasks_; ++i) {
        UvCheck(uv_timer_init(loop_, &timers_[Index(i)]), "uv_timer_init");
        timers_[Index(i)].data = this;
        ++timers_open_;
      }
    }
    // Every gathered task's first wait counts from this one reading of the clock, as a batch
    // started at one moment; a task's later waits count from when they begin.
    uv_update_time(loop_);
    start_ns_ = uv_hrtime();
    const int64_t first_batch = opt_.start == LoopStart::kGather ? tasks_ : std::min<int64_t>(tasks_, 1);
    next_start_ = first_batch;
    for (int64_t i = 0; i < first_batch && !error_; ++i) {
      if (opt_.waits == LoopWaits::kBlocking) {
        StartSoon(i);
      } else {
        Start(i, start_ns_);
      }
    }
    if (!error_ && opt_.on_started) opt_.on_started();
    if (!error_ && pending_ > 0) uv_run(loop_, UV_RUN_DEFAULT);
    if (error_) std::rethrow_exception(error_);
    if (pending_ > 0) {
      throw std::logic_error("RunOnLoop: the loop went idle with " + std::to_string(pending_) + " of " +
                             std::to_string(tasks_) + " tasks unfinished");
    }
  }

  int threads_used() const { return static_cast<int>(threads_.size()); }

  void OnEchoReply(int64_t task, int64_t digest) override {
    exchanges_[Index(task)] = nullptr;
    Guarded([&] {
      results_[task] += digest;
      FinishStep(task);
    });
  }

  void OnComputeDone(int64_t task, int64_t value) override {
    Guarded([&] {
      results_[task] += value;
      ++step_[Index(task)];  // the worker timed this step
      Advance(task, 0);
    });
  }

  void OnComputeFailed(std::exception_ptr error) override { Stop(std::move(error)); }

  void OnEchoFailure(int64_t task, EchoErrorKind kind, const std::string& what) override {
    exchanges_[Index(task)] = nullptr;
    Stop(std::make_exception_ptr(EchoError(kind, "echo " + FormatAddress(env_.echo_server) + ": task " +
                                                     std::to_string(task) + " of " + std::to_string(tasks_) + ": " +
                                                     what)));
  }

 private:
  static size_t Index(int64_t i) { return static_cast<size_t>(i); }

  // Callbacks are called from C, so nothing may propagate out of them: an error is kept, the loop
  // is stopped, and Run rethrows it.
  template <class F>
  void Guarded(F&& f) {
    try {
      f();
    } catch (...) {
      Stop(std::current_exception());
    }
  }

  void Stop(std::exception_ptr e) {
    if (!error_) error_ = std::move(e);
    uv_stop(loop_);
  }

  void Start(int64_t i, uint64_t now_ns) {
    if (opt_.observer != nullptr) opt_.observer->TaskBegin(i);
    Advance(i, now_ns);
  }

  // Starts task i from a zero-delay timer: its steps then run inside a loop callback.
  void StartSoon(int64_t i) {
    UvCheck(uv_timer_start(&timers_[Index(i)], OnStartTimer, 0, 0), "uv_timer_start");
  }

  // Runs task i's steps from its next one until one suspends it or none is left. `now_ns` is the
  // clock as last read (0: read it when a wait needs it).
  void Advance(int64_t i, uint64_t now_ns) {
    const int64_t input = inputs_[Index(i)];
    while (step_[Index(i)] < spec_.steps.size()) {
      const size_t k = step_[Index(i)];
      const Step& s = spec_.steps[k];
      // An offloaded step is seen where it runs: on the threadpool thread, or timed by the
      // worker process (LoopProcessPool's trace), not on the loop.
      if (s.kind == StepKind::kCompute && opt_.compute == LoopCompute::kThreadpool) {
        Offload(i);
        return;
      }
      if (s.kind == StepKind::kCompute && opt_.compute == LoopCompute::kProcesses) {
        opt_.processes->Submit(s, input, i, this, k);
        return;
      }
      if (opt_.observer != nullptr) opt_.observer->StepBegin(i, k);
      if (s.kind == StepKind::kCompute) {
        results_[i] += RunCompute(s, input);
        now_ns = 0;
      } else if (opt_.waits == LoopWaits::kBlocking) {
        results_[i] += RunStepBlocking(s, input, env_);
        now_ns = 0;
      } else if (s.kind == StepKind::kSleep) {
        ArmSleep(i, s, now_ns);
        return;
      } else {
        exchanges_[Index(i)] =
            EchoExchange::Start(loop_, env_.echo_server, env_.EchoPayload(input, s.bytes), i, this, opt_.close_with_reset);
        return;
      }
      EndStep(i, k);
    }
    Complete(i);
  }

  void EndStep(int64_t i, size_t k) {
    if (opt_.observer != nullptr) opt_.observer->StepEnd(i, k);
    ++step_[Index(i)];
  }

  // The step task i was suspended on has finished: on to the next.
  void FinishStep(int64_t i) {
    EndStep(i, step_[Index(i)]);
    Advance(i, 0);
  }

  void Complete(int64_t i) {
    --pending_;
    if (opt_.observer != nullptr) opt_.observer->TaskEnd(i);
    if (opt_.start == LoopStart::kSequential && next_start_ < tasks_) {
      const int64_t next = next_start_++;
      if (opt_.waits == LoopWaits::kBlocking) {
        StartSoon(next);
      } else {
        Start(next, 0);
      }
    }
  }

  uint64_t& DeadlineOf(int64_t i) { return deadlines_.empty() ? deadline_ : deadlines_[Index(i)]; }

  // Arms task i's timer for a sleep step, for its plain duration from a refreshed loop clock, as
  // a libuv program would (OnSleepTimer re-arms it for the rest when libuv's truncated
  // millisecond clock fires it early). From the start loop, `now_ns` is the batch's start and the
  // loop's clock was refreshed once for every task.
  void ArmSleep(int64_t i, const Step& s, uint64_t now_ns) {
    if (now_ns == 0) {
      uv_update_time(loop_);
      now_ns = uv_hrtime();
    }
    DeadlineOf(i) = now_ns + static_cast<uint64_t>(s.arg);
    const uint64_t ms = (static_cast<uint64_t>(s.arg) + kNsPerMs - 1) / kNsPerMs;
    UvCheck(uv_timer_start(&timers_[Index(i)], OnSleepTimer, ms, 0), "uv_timer_start");
  }

  static void OnSleepTimer(uv_timer_t* t) {
    auto* b = static_cast<Batch*>(t->data);
    const int64_t i = t - b->timers_.get();
    b->Guarded([&] {
      // libuv counts whole milliseconds of a truncated clock, so a timer can fire up to a
      // millisecond early: re-armed for the rest. The clock is read only when the last reading
      // is before the deadline, so a batch of timers due together reads it about once.
      const uint64_t deadline = b->DeadlineOf(i);
      if (deadline > b->now_ns_) {
        b->now_ns_ = uv_hrtime();
        if (deadline > b->now_ns_) {
          uv_update_time(b->loop_);
          UvCheck(uv_timer_start(t, OnSleepTimer, TimeoutUntil(b->loop_, deadline), 0), "uv_timer_start");
          return;
        }
      }
      b->results_[i] += SleepTaskResult(b->inputs_[Index(i)]);
      b->FinishStep(i);
    });
  }

  static void OnStartTimer(uv_timer_t* t) {
    auto* b = static_cast<Batch*>(t->data);
    b->Guarded([&] { b->Start(t - b->timers_.get(), 0); });
  }

  // ---- compute on libuv's threadpool ----

  void Offload(int64_t i) {
    uv_work_t* w = &works_[Index(i)];
    w->data = this;
    UvCheck(uv_queue_work(loop_, w, OffloadWork, OffloadDone), "uv_queue_work");
    ++in_flight_;
  }

  // On a threadpool thread, while task i is suspended on this step: nothing else touches its
  // result.
  static void OffloadWork(uv_work_t* w) {
    auto* b = static_cast<Batch*>(w->data);
    const int64_t i = w - b->works_.get();
    const size_t k = b->step_[Index(i)];
    try {
      if (b->opt_.observer != nullptr) b->opt_.observer->StepBegin(i, k);
      b->results_[i] += RunCompute(b->spec_.steps[k], b->inputs_[Index(i)]);
      if (b->opt_.observer != nullptr) b->opt_.observer->StepEnd(i, k);
    } catch (...) {
      const std::lock_guard lock(b->mu_);
      if (!b->work_error_) b->work_error_ = std::current_exception();
    }
    const std::lock_guard lock(b->mu_);
    const auto id = std::this_thread::get_id();
    if (std::find(b->threads_.begin(), b->threads_.end(), id) == b->threads_.end()) b->threads_.push_back(id);
  }

  // On the loop's thread once OffloadWork has returned.
  static void OffloadDone(uv_work_t* w, int status) {
    auto* b = static_cast<Batch*>(w->data);
    const int64_t i = w - b->works_.get();
    --b->in_flight_;
    if (status < 0) {
      b->Stop(std::make_exception_ptr(UvError("uv_queue_work", status)));
      return;
    }
    {
      const std::lock_guard lock(b->mu_);
      if (b->work_error_) {
        b->Stop(b->work_error_);
        return;
      }
    }
    if (b->error_) return;
    b->Guarded([&] {
      ++b->step_[Index(i)];  // the observer saw this step end on the threadpool thread
      b->Advance(i, 0);
    });
  }

  uv_loop_t* loop_;
  const TaskSpec& spec_;
  std::span<const int64_t> inputs_;
  const TaskEnv& env_;
  const LoopOptions& opt_;
  int64_t* results_;
  const int64_t tasks_;
  int64_t pending_;
  int64_t next_start_ = 0;
  std::vector<uint8_t> step_;  // each task's next step (kMaxSteps fits in a byte)
  std::unique_ptr<uv_timer_t[]> timers_;
  int64_t timers_open_ = 0;  // timers_[0, timers_open_) are initialised
  std::vector<uint64_t> deadlines_;  // each task's current sleep deadline, when a task has several steps
  uint64_t deadline_ = 0;            // the same for one-step tasks: they share it
  uint64_t start_ns_ = 0;
  uint64_t now_ns_ = 0;  // the clock as last read by a timer callback
  std::vector<EchoExchange*> exchanges_;
  std::unique_ptr<uv_work_t[]> works_;
  int64_t in_flight_ = 0;  // offloaded steps whose done callback has not run yet
  std::mutex mu_;          // guards work_error_ and threads_, written from threadpool threads
  std::exception_ptr work_error_;
  std::vector<std::thread::id> threads_;
  std::exception_ptr error_;
};

}  // namespace

std::vector<int64_t> RunOnLoop(UvLoop& loop, const TaskSpec& spec, std::span<const int64_t> inputs,
                               const TaskEnv& env, const LoopOptions& options, LoopStats* stats) {
  if (auto err = ValidateSpec(spec)) throw std::invalid_argument("RunOnLoop: " + *err);
  if (options.compute == LoopCompute::kProcesses && options.processes == nullptr) {
    throw std::invalid_argument("RunOnLoop: compute in processes without a LoopProcessPool");
  }
  std::vector<int64_t> results(inputs.size(), 0);
  if (inputs.empty()) return results;
  Batch batch(loop.get(), spec, inputs, env, options, results.data());
  batch.Run();
  if (stats != nullptr) stats->threads_used = batch.threads_used();
  return results;
}

int ThreadpoolSizeFor(const char* uv_threadpool_size) {
  unsigned n = kDefaultThreadpoolSize;
  if (uv_threadpool_size != nullptr) n = static_cast<unsigned>(std::atoi(uv_threadpool_size));
  if (n == 0) n = 1;
  if (n > kMaxThreadpoolSize) n = kMaxThreadpoolSize;
  return static_cast<int>(n);
}

int UvThreadpoolSize() {
  static const int size = ThreadpoolSizeFor(std::getenv("UV_THREADPOOL_SIZE"));
  return size;
}

}  // namespace concbench
