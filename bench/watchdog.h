// Deadlines for benchmark runs, and the watchdog that enforces them.
//
// Every run of a benchmark body (one repetition, or one of Google Benchmark's sizing rounds) has
// a deadline: --timeout_s when given (0: none), otherwise the larger of kDefaultDeadlineFloor and
// kDeadlineFactor × the run's planned time (RunDeadlineSeconds). The registry's guard brackets
// each run with BeginRun/EndRun and the timed-loop skeleton counts its iterations, so the
// watchdog always knows which benchmark is running, for how long, and how far it got.
//
// What enforces a deadline depends on the model:
// - a process pool, fork-per-task and the bare pipe take the run's deadline as their stall
//   timeout (RunStallTimeout): a silent worker is named, killed and reaped, that benchmark fails
//   and the run goes on;
// - threads and an event loop cannot be stopped from outside, so the watchdog thread, once a run
//   is kWatchdogGrace past its deadline, prints the benchmark, how long it ran and what was still
//   outstanding, has the results written so far saved as a partial file (that benchmark listed as
//   timed out), kills and reaps every child process and ends the process with kExitTimedOut.
//
// The same thread handles SIGINT and SIGTERM: BlockStopSignals must run in main before any other
// thread exists, so that those signals reach only the watchdog (sigtimedwait); it saves the
// partial results, kills and reaps the children and exits 128 + the signal's number.
//
//   BlockStopSignals();                        // first thing in main
//   Watchdog dog([&](const std::string& why, const std::string& cut_short) { file->WritePartial(why, cut_short); });
//   RunSpecifiedBenchmarks(...);
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <thread>

namespace concbench {

inline constexpr double kDefaultDeadlineFloor = 60;  // seconds
inline constexpr double kDeadlineFactor = 10;
// How long past its deadline the watchdog lets a run go on, so that a pool's own stall error
// (which names the worker) arrives first.
inline constexpr double kWatchdogGrace = 2;  // seconds

inline constexpr int kExitTimedOut = 3;

// The deadline of a run planned to take `planned_s`: `timeout_s` when given (0: none, returned
// as 0), else max(kDefaultDeadlineFloor, kDeadlineFactor × planned_s).
double RunDeadlineSeconds(double planned_s, std::optional<double> timeout_s);

// How the deadline was chosen, for the JSON context: {"concbench_deadline", ...} and
// {"concbench_deadline_source", ...}.
std::string DeadlineRule(std::optional<double> timeout_s);
std::string DeadlineSource(std::optional<double> timeout_s);

// The run in progress (called by the registry's guard and the timed-loop skeleton; thread-safe).
// `planned_iterations`: the run's iteration count (for an adaptive benchmark, the count Google
// Benchmark chose for this run).
void BeginRun(const std::string& name, double deadline_s, int64_t planned_iterations);
void EndRun();
void CountIteration();
// What a family can tell about its outstanding work (tasks started and completed, pending
// handles), called from the watchdog thread: it must only read atomics. Cleared by EndRun.
void SetOutstanding(std::function<std::string()> describe);
// The running benchmark's deadline as a stall timeout for process pools (0: none).
std::chrono::milliseconds RunStallTimeout();

// Told of every run as it begins and ends (the progress display counts repetitions with it).
// BeginRun and EndRun call it on the benchmark thread, after releasing the board's lock.
class RunObserver {
 public:
  virtual ~RunObserver() = default;
  virtual void RunBegan(const std::string& name) = 0;
  virtual void RunEnded(const std::string& name, int64_t iterations) = 0;
};
// Sets the observer (nullptr: none); it must outlive the runs, or be unset before it goes.
void SetRunObserver(RunObserver* observer);

// Blocks SIGINT and SIGTERM in the calling thread and every thread it creates later.
void BlockStopSignals();
// Undoes BlockStopSignals in the calling thread (when no watchdog could be started).
void UnblockStopSignals();

// The watchdog thread. `save_partial(reason, cut_short)` writes the partial results file
// (cut_short: the benchmark that did not finish, or ""). `tick`, if given, is called from the
// watchdog thread about once a second (the progress display's clock). The destructor stops the
// thread and unblocks the signals again, so that the rest of main can be interrupted as usual.
class Watchdog {
 public:
  using SavePartial = std::function<void(const std::string& reason, const std::string& cut_short)>;
  explicit Watchdog(SavePartial save_partial, std::function<void()> tick = {});
  ~Watchdog();
  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;

 private:
  void Loop();
  [[noreturn]] void Stop(const std::string& reason, const std::string& cut_short, int status);

  SavePartial save_partial_;
  std::function<void()> tick_;
  std::atomic<bool> done_{false};
  std::thread thread_;
};

// "pid 4242 stopped (T), pid 4243 sleeping (S)", or "none": this process's children.
std::string DescribeChildren();
// SIGKILLs every child of this process and reaps it.
void KillAndReapChildren();

}  // namespace concbench
