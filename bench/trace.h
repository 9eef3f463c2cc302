// The traced iteration (--trace=PATH): after a benchmark's last timed repetition, its runner runs
// one more batch, untimed, with a TraceRecorder as its TaskObserver (workload/blocking.h), and the
// trace file gets every task's and every step's start and end on the lane that ran it, in the
// Chrome Trace Event Format that Perfetto UI and chrome://tracing open. The timed results are
// the same with and without --trace: the recorder sees only that extra batch.
//
// The format: {"traceEvents": [...], "displayTimeUnit": "ms", "otherData": {...}}, complete
// events ("ph": "X", "ts" and "dur" in microseconds from the file's first traced batch), instants
// ("ph": "i", "s": "t"), and "process_name" / "thread_name" metadata ("ph": "M", no ts). Each
// traced benchmark is one process (pid 1, 2, ... in run order, named after the benchmark); its
// lanes are threads: the calling thread, each pool thread (its kernel tid), each worker process
// (its pid), and, for an event loop, one lane per task, since callbacks and coroutines of many
// tasks interleave on one thread. Every tid fits in 32 bits. Events carry args: the benchmark,
// the task's index and input, the step and what it does.
//
// The size is bounded: past `max_events` per benchmark only the first tasks are kept, and both
// the trace (otherData and a "tasks left out" instant) and stderr say how many were left out.
// The file is rewritten whole, atomically, after every traced benchmark, so it is valid JSON at
// every moment; a batch that throws (a worker that died or stalled) leaves its events so far
// and an "error" instant; a watchdog stop adds a "run stopped" instant.
//
//   TraceRecorder rec("threads/sleep/...", /*task_tracks=*/false, tasks, steps);
//   runner->Run(&rec);
//   trace.Add(rec, spec, inputs, ideal_s);
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "filter.h"
#include "workload/blocking.h"
#include "workload/task_spec.h"

namespace concbench {

inline constexpr size_t kMaxTraceEventsPerBenchmark = 100'000;

class TraceRecorder final : public TaskObserver {
 public:
  // `task_tracks`: tasks interleave on the thread that begins them (an event loop), so each gets
  // a lane of its own there. Keeps the first tasks whose events fit in `max_events`.
  TraceRecorder(std::string benchmark, bool task_tracks, const TaskSpec& spec, std::span<const int64_t> inputs,
                size_t max_events = kMaxTraceEventsPerBenchmark);

  void TaskBegin(int64_t task) override;
  void TaskEnd(int64_t task) override;
  void StepBegin(int64_t task, size_t step) override;
  void StepEnd(int64_t task, size_t step) override;
  void ModelEvent(std::string_view name, uint64_t begin_ns, uint64_t end_ns) override;
  void ProcessSpan(int pid, int64_t task, int step, uint64_t begin_ns, uint64_t end_ns, std::string_view name) override;

  void Begin();  // the batch starts (before Run)
  void End();    // the batch ended
  void Error(const std::string& what);

  const std::string& benchmark() const { return benchmark_; }
  size_t tasks_left_out() const;

 private:
  friend class TraceFile;
  struct Event {
    std::string name;
    char ph;  // 'X' or 'i'
    int64_t tid;
    uint64_t begin_ns;
    uint64_t end_ns;
    int64_t task;  // -1: none
    int step;      // -1: the whole task or none
  };
  struct Lane {
    int64_t tid;
    std::string name;
  };
  int64_t ThreadLane();
  int64_t LaneOf(int64_t task);
  void Add(Event e);
  bool Kept(int64_t task) const { return task < kept_tasks_; }

  const std::string benchmark_;
  const bool task_tracks_;
  const TaskSpec spec_;
  const std::vector<int64_t> inputs_;
  int64_t kept_tasks_ = 0;
  size_t max_events_;
  size_t dropped_ = 0;  // events past max_events_ (model events: GIL hand-overs, chunks)
  mutable std::mutex mu_;
  std::vector<Event> events_;
  std::vector<Lane> lanes_;
  std::vector<uint64_t> task_begin_;
  std::vector<uint64_t> step_begin_;   // per task: its current step's start (steps of a task are sequential)
  std::vector<int64_t> begun_on_;      // per task: the thread (kernel tid) it began on
  uint64_t begin_ns_ = 0;
  uint64_t end_ns_ = 0;
  std::string error_;
};

class TraceFile {
 public:
  // Why `path` cannot be written (its folder missing or not writable), or nothing.
  static std::optional<std::string> CheckWritable(const std::string& path);

  // `filter` (a --benchmark_filter-style regular expression, "" for all) chooses the benchmarks
  // traced; std::invalid_argument for an invalid one.
  explicit TraceFile(std::string path, const std::string& filter = "");

  // Whether the benchmark named `name` (its full name) is to be traced.
  bool Wants(const std::string& name) const { return filter_.Matches(name); }

  // Adds a recorded benchmark (its ideal in seconds goes into its args) and rewrites the file.
  void Add(const TraceRecorder& recorder, double ideal_s);
  // A watchdog stop or an interruption: adds a "run stopped" instant and rewrites the file.
  void Stop(const std::string& reason);

  const std::string& path() const { return path_; }
  // Whether a write of the file failed (said once on stderr; the run then exits 1).
  bool failed() const { return failed_; }

 private:
  void WriteLocked();

  std::string path_;
  BenchmarkFilter filter_;
  std::mutex mu_;
  std::vector<std::string> processes_;  // each traced benchmark's events, serialised
  std::vector<std::string> left_out_;   // "benchmark: N tasks left out"
  std::optional<uint64_t> t0_ns_;
  std::string stopped_;
  bool failed_ = false;
};

// The run's trace file, or null without --trace.
TraceFile* ActiveTrace();
void SetActiveTrace(TraceFile* trace);

}  // namespace concbench
