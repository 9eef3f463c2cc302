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

#include "workload/sleep.h"

namespace concbench {
namespace {

constexpr uint64_t kNsPerMs = 1'000'000;
constexpr unsigned kMaxThreadpoolSize = 1024;  // libuv's MAX_THREADPOOL_SIZE
constexpr unsigned kDefaultThreadpoolSize = 4;

void CheckArgs(const char* fn, int64_t tasks, std::chrono::milliseconds wait) {
  if (tasks < 0)
    throw std::invalid_argument(std::string(fn) + ": tasks must be >= 0, got " +
                                std::to_string(tasks));
  if (wait.count() < 0) {
    throw std::invalid_argument(std::string(fn) + ": wait must be >= 0 ms, got " +
                                std::to_string(wait.count()));
  }
}

uint64_t WaitNs(std::chrono::milliseconds wait) {
  return static_cast<uint64_t>(wait.count()) * kNsPerMs;
}

// The timer handles of one batch. The destructor closes every handle that was initialised and
// runs the loop once (UV_RUN_NOWAIT never blocks) so that libuv has finished with them before
// their memory is freed, also when the batch is unwinding from an exception.
class TimerSet {
 public:
  TimerSet(uv_loop_t* loop, int64_t n)
      : loop_(loop), timers_(new uv_timer_t[static_cast<size_t>(n)]) {}
  ~TimerSet() {
    for (int64_t i = 0; i < initialised_; ++i) {
      uv_close(reinterpret_cast<uv_handle_t*>(&timers_[static_cast<size_t>(i)]), nullptr);
    }
    if (initialised_ > 0) uv_run(loop_, UV_RUN_NOWAIT);
  }
  TimerSet(const TimerSet&) = delete;
  TimerSet& operator=(const TimerSet&) = delete;

  // Initialises the next handle (handles are initialised in index order) with `data`.
  uv_timer_t* InitNext(void* data) {
    uv_timer_t* t = &timers_[static_cast<size_t>(initialised_)];
    UvCheck(uv_timer_init(loop_, t), "uv_timer_init");
    ++initialised_;
    t->data = data;
    return t;
  }
  const uv_timer_t* begin() const { return timers_.get(); }

 private:
  uv_loop_t* loop_;
  std::unique_ptr<uv_timer_t[]> timers_;  // default-initialised: libuv initialises what it uses
  int64_t initialised_ = 0;
};

// State shared by the callbacks of one timer batch; every handle's `data` points here and a
// task's index is its handle's position in the set.
struct TimerBatch {
  TimerBatch(uv_loop_t* l, const uv_timer_t* f, int64_t* r, const AsyncHooks* h, int64_t p)
      : loop(l), first(f), results(r), hooks(h), pending(p) {}

  uv_loop_t* loop;
  const uv_timer_t* first;
  int64_t* results;
  const AsyncHooks* hooks;
  int64_t pending;
  uint64_t start_ns = 0;  // uv_hrtime() when the batch's waits began
  // Gathered waits of one duration share one deadline; once a callback has seen it pass, the
  // others need not read the clock again.
  uint64_t deadline_ns = 0;
  bool deadline_passed = false;
  // Gathered waits of different durations: task i's deadline is start_ns + waits[i].
  const std::chrono::milliseconds* waits = nullptr;
  // Sequential: the next task's index, the task count and each task's wait.
  int64_t next = 0;
  int64_t tasks = 0;
  uint64_t wait_ns = 0;
  // Blocking: how long each callback blocks the loop.
  std::chrono::milliseconds block{0};
  std::exception_ptr error;
};

// Callbacks are called from C, so nothing may propagate out of them: an error is kept, the loop
// is stopped, and the caller rethrows it.
void Stop(TimerBatch* b, std::exception_ptr e) {
  if (!b->error) b->error = std::move(e);
  uv_stop(b->loop);
}

// Arms `t` to fire no earlier than `deadline_ns`. The loop's cached clock is refreshed first: in
// a callback it still holds the time the current loop iteration began.
void ArmUntil(TimerBatch* b, uv_timer_t* t, uv_timer_cb cb, uint64_t deadline_ns) {
  uv_update_time(b->loop);
  const int rc = uv_timer_start(t, cb, TimeoutUntil(b->loop, deadline_ns), 0);
  if (rc < 0) Stop(b, std::make_exception_ptr(UvError("uv_timer_start", rc)));
}

// libuv counts whole milliseconds of a truncated clock, so a timer armed for S ms can fire up to
// a millisecond before S ms have passed (e.g. when a millisecond boundary falls between arming and
// polling). Returns true when `deadline_ns` has passed; otherwise re-arms `t` for the rest.
bool WaitIsOver(TimerBatch* b, uv_timer_t* t, uv_timer_cb cb, uint64_t deadline_ns) {
  if (uv_hrtime() >= deadline_ns) return true;
  ArmUntil(b, t, cb, deadline_ns);
  return false;
}

// Records task i's result and tells the hook.
void Complete(TimerBatch* b, int64_t i) {
  b->results[i] = SleepTaskResult(i);
  --b->pending;
  if (b->hooks->on_done) {
    try {
      b->hooks->on_done(i);
    } catch (...) {
      Stop(b, std::current_exception());
    }
  }
}

void OnGatherTimer(uv_timer_t* t) {
  auto* b = static_cast<TimerBatch*>(t->data);
  if (!b->deadline_passed) {
    if (!WaitIsOver(b, t, OnGatherTimer, b->deadline_ns)) return;
    b->deadline_passed = true;
  }
  Complete(b, t - b->first);
}

void OnGatherWaitsTimer(uv_timer_t* t) {
  auto* b = static_cast<TimerBatch*>(t->data);
  const int64_t i = t - b->first;
  const uint64_t deadline = b->start_ns + static_cast<uint64_t>(b->waits[i].count()) * kNsPerMs;
  if (!WaitIsOver(b, t, OnGatherWaitsTimer, deadline)) return;
  Complete(b, i);
}

void OnBlockingTimer(uv_timer_t* t) {
  auto* b = static_cast<TimerBatch*>(t->data);
  BlockingSleep(b->block);
  Complete(b, t - b->first);
}

void OnSequentialTimer(uv_timer_t* t) {
  auto* b = static_cast<TimerBatch*>(t->data);
  if (!WaitIsOver(b, t, OnSequentialTimer, b->deadline_ns)) return;
  Complete(b, b->next++);
  if (b->error || b->next == b->tasks) return;
  // The next wait starts now, as `await asyncio.sleep` in a loop starts when the previous one
  // has returned. Armed for its plain duration from a refreshed clock (in a callback the cached
  // one still holds the time the loop iteration began); WaitIsOver catches an early firing.
  uv_update_time(b->loop);
  b->deadline_ns = uv_hrtime() + b->wait_ns;
  const int rc = uv_timer_start(t, OnSequentialTimer, b->wait_ns / kNsPerMs, 0);
  if (rc < 0) Stop(b, std::make_exception_ptr(UvError("uv_timer_start", rc)));
}

// Runs the loop until the batch is done and reports how it ended.
void RunBatch(UvLoop& loop, TimerBatch& b, const char* fn) {
  loop.Run();
  if (b.error) std::rethrow_exception(b.error);
  if (b.pending != 0) {
    throw std::logic_error(std::string(fn) + ": the loop went idle with " +
                           std::to_string(b.pending) + " task(s) pending");
  }
}

void CallOnArmed(const AsyncHooks& hooks) {
  if (hooks.on_armed) hooks.on_armed();
}

}  // namespace

std::vector<int64_t> AsyncGather(UvLoop& loop, int64_t tasks, std::chrono::milliseconds wait,
                                 const AsyncHooks& hooks) {
  CheckArgs("AsyncGather", tasks, wait);
  std::vector<int64_t> results(static_cast<size_t>(tasks));
  if (tasks == 0) return results;
  TimerSet set(loop.get(), tasks);
  TimerBatch b(loop.get(), set.begin(), results.data(), &hooks, tasks);
  // Every wait starts at the same instant: one deadline, one timeout (libuv fires equal deadlines
  // in arming order).
  loop.UpdateTime();
  b.start_ns = uv_hrtime();
  b.deadline_ns = b.start_ns + WaitNs(wait);
  b.deadline_passed = wait.count() == 0;
  const auto timeout = static_cast<uint64_t>(wait.count());
  for (int64_t i = 0; i < tasks; ++i) {
    UvCheck(uv_timer_start(set.InitNext(&b), OnGatherTimer, timeout, 0), "uv_timer_start");
  }
  CallOnArmed(hooks);
  RunBatch(loop, b, "AsyncGather");
  return results;
}

std::vector<int64_t> AsyncGather(UvLoop& loop, std::span<const std::chrono::milliseconds> waits,
                                 const AsyncHooks& hooks) {
  for (const auto w : waits) CheckArgs("AsyncGather", 0, w);
  const auto tasks = static_cast<int64_t>(waits.size());
  std::vector<int64_t> results(waits.size());
  if (tasks == 0) return results;
  TimerSet set(loop.get(), tasks);
  TimerBatch b(loop.get(), set.begin(), results.data(), &hooks, tasks);
  b.waits = waits.data();
  loop.UpdateTime();
  b.start_ns = uv_hrtime();
  for (const auto w : waits) {
    UvCheck(
        uv_timer_start(set.InitNext(&b), OnGatherWaitsTimer, static_cast<uint64_t>(w.count()), 0),
        "uv_timer_start");
  }
  CallOnArmed(hooks);
  RunBatch(loop, b, "AsyncGather");
  return results;
}

std::vector<int64_t> AsyncSequential(UvLoop& loop, int64_t tasks, std::chrono::milliseconds wait,
                                     const AsyncHooks& hooks) {
  CheckArgs("AsyncSequential", tasks, wait);
  std::vector<int64_t> results(static_cast<size_t>(tasks));
  if (tasks == 0) return results;
  TimerSet set(loop.get(), 1);
  TimerBatch b(loop.get(), set.begin(), results.data(), &hooks, tasks);
  b.tasks = tasks;
  b.wait_ns = WaitNs(wait);
  uv_timer_t* t = set.InitNext(&b);
  loop.UpdateTime();
  b.start_ns = uv_hrtime();
  b.deadline_ns = b.start_ns + b.wait_ns;
  UvCheck(uv_timer_start(t, OnSequentialTimer, static_cast<uint64_t>(wait.count()), 0),
          "uv_timer_start");
  CallOnArmed(hooks);
  RunBatch(loop, b, "AsyncSequential");
  return results;
}

std::vector<int64_t> AsyncBlocking(UvLoop& loop, int64_t tasks, std::chrono::milliseconds wait,
                                   const AsyncHooks& hooks) {
  CheckArgs("AsyncBlocking", tasks, wait);
  std::vector<int64_t> results(static_cast<size_t>(tasks));
  if (tasks == 0) return results;
  TimerSet set(loop.get(), tasks);
  TimerBatch b(loop.get(), set.begin(), results.data(), &hooks, tasks);
  b.block = wait;
  loop.UpdateTime();
  for (int64_t i = 0; i < tasks; ++i) {
    UvCheck(uv_timer_start(set.InitNext(&b), OnBlockingTimer, 0, 0), "uv_timer_start");
  }
  CallOnArmed(hooks);
  RunBatch(loop, b, "AsyncBlocking");
  return results;
}

namespace {

// One uv_work_t per task; `data` points here and the task index is the request's position.
struct OffloadBatch {
  OffloadBatch(std::span<const int64_t> in, const TaskFn* t, const uv_work_t* f, int64_t* r,
               std::thread::id* w)
      : inputs(in), task(t), first(f), results(r), workers(w) {}

  std::span<const int64_t> inputs;
  const TaskFn* task;
  const uv_work_t* first;
  int64_t* results;
  std::thread::id* workers;
  int64_t in_flight = 0;  // queued requests whose after-work callback has not run yet
  std::mutex mu;          // guards `error`, written from threadpool threads
  std::exception_ptr error;
};

// Runs on a threadpool thread.
void OffloadWork(uv_work_t* req) {
  auto* b = static_cast<OffloadBatch*>(req->data);
  const auto i = static_cast<size_t>(req - b->first);
  b->workers[i] = std::this_thread::get_id();
  try {
    b->results[i] = (*b->task)(b->inputs[i]);
  } catch (...) {
    const std::lock_guard<std::mutex> lock(b->mu);
    if (!b->error) b->error = std::current_exception();
  }
}

// Runs on the loop thread once OffloadWork has returned.
void OffloadDone(uv_work_t* req, int status) {
  auto* b = static_cast<OffloadBatch*>(req->data);
  --b->in_flight;
  if (status < 0) {
    const std::lock_guard<std::mutex> lock(b->mu);
    if (!b->error) b->error = std::make_exception_ptr(UvError("uv_queue_work", status));
  }
}

// Waits, on the loop, for every request already queued: libuv writes into them until their
// after-work callback has run, so the batch must not be freed before, even when unwinding.
class InFlightGuard {
 public:
  InFlightGuard(UvLoop& loop, const OffloadBatch& b) : loop_(loop), b_(b) {}
  ~InFlightGuard() {
    while (b_.in_flight > 0) loop_.Run();
  }
  InFlightGuard(const InFlightGuard&) = delete;
  InFlightGuard& operator=(const InFlightGuard&) = delete;

 private:
  UvLoop& loop_;
  const OffloadBatch& b_;
};

}  // namespace

OffloadResult AsyncOffload(UvLoop& loop, std::span<const int64_t> inputs, const TaskFn& task) {
  OffloadResult out;
  out.results.assign(inputs.size(), 0);
  if (inputs.empty()) return out;
  std::vector<uv_work_t> reqs(inputs.size());
  std::vector<std::thread::id> workers(inputs.size());
  OffloadBatch b(inputs, &task, reqs.data(), out.results.data(), workers.data());
  {
    const InFlightGuard guard(loop, b);
    for (uv_work_t& r : reqs) {
      r.data = &b;
      UvCheck(uv_queue_work(loop.get(), &r, OffloadWork, OffloadDone), "uv_queue_work");
      ++b.in_flight;
    }
    loop.Run();
  }
  {
    const std::lock_guard<std::mutex> lock(b.mu);
    if (b.error) std::rethrow_exception(b.error);
  }
  std::sort(workers.begin(), workers.end());
  out.threads_used =
      static_cast<int>(std::unique(workers.begin(), workers.end()) - workers.begin());
  return out;
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
