// What concbench's fork-based models share about their children: the errors that name one, the
// traffic through their pipes, what they report about themselves, and why one exits on its own.
//
// A worker is a forked child that runs tasks (workload/task_spec.h) for its parent and sends the
// results back through a pipe as frames (models/frame.h): a ProcessPool worker lives as long as
// its pool (models/process_pool.h), a per-task child for one task (models/fork_per_task.h). Both
// models report a child that died with WorkerDied and one that broke the protocol with
// WorkerError, and both count their traffic in IpcStats. They and BarePipeEcho
// (models/bare_pipe.h) report children that stay alive but send nothing for longer than a stall
// timeout with WorkerStalled. IpcStats and WorkerUsage are cumulative readings; the arithmetic
// gives what a stretch of work cost.
//
//   const concbench::IpcStats before = pool.ipc();
//   pool.Map(spec, inputs);
//   const concbench::IpcStats cost = pool.ipc() - before;
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "models/frame.h"
#include "workload/blocking.h"

namespace concbench {

// Traffic through the pipes as the parent saw it: frames (headers included) it wrote and read.
struct IpcStats {
  int64_t bytes = 0;
  int64_t messages = 0;
};

inline IpcStats operator-(const IpcStats& a, const IpcStats& b) { return {a.bytes - b.bytes, a.messages - b.messages}; }
inline IpcStats& operator+=(IpcStats& a, const IpcStats& b) { return a = {a.bytes + b.bytes, a.messages + b.messages}; }

// What the workers reported about themselves (the sum of each worker's latest cumulative
// getrusage figures); grows as results come back.
struct WorkerUsage {
  double cpu_seconds = 0;
  int64_t ctx_switches = 0;
};

inline WorkerUsage operator-(const WorkerUsage& a, const WorkerUsage& b) {
  return {a.cpu_seconds - b.cpu_seconds, a.ctx_switches - b.ctx_switches};
}
inline WorkerUsage& operator+=(WorkerUsage& a, const WorkerUsage& b) {
  return a = {a.cpu_seconds + b.cpu_seconds, a.ctx_switches + b.ctx_switches};
}

// A worker died while the model needed it. `worker` is the pool's worker index (or the task's
// index for one fork per task); wait_status is waitpid's status, -1 if it could not be reaped.
class WorkerDied : public std::runtime_error {
 public:
  WorkerDied(int worker, pid_t pid, int wait_status, const std::string& what);
  int worker() const { return worker_; }
  pid_t pid() const { return pid_; }
  int wait_status() const { return wait_status_; }

 private:
  int worker_;
  pid_t pid_;
  int wait_status_;
};

// A worker broke the protocol or reported an error (a malformed frame, results that do not
// match the chunk, a spec it cannot run, an exception its task threw).
class WorkerError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Children stayed alive but sent nothing for longer than the model's stall timeout: stopped
// (SIGSTOP), an endless task, a deadlock. The message names each silent child that held work,
// with its pid, its process state as /proc showed it just before it was killed, how long it had
// been silent and what it held. By the time it is thrown every child of the model has been
// killed and reaped. worker() and pid() are those of the child silent longest (named first):
// the pool's worker index, the task's index for one fork per task, 0 for the echo child.
class WorkerStalled : public std::runtime_error {
 public:
  WorkerStalled(int worker, pid_t pid, const std::string& what);
  int worker() const { return worker_; }
  pid_t pid() const { return pid_; }

 private:
  int worker_;
  pid_t pid_;
};

// How long a model waits without a single result before it throws WorkerStalled, unless told
// otherwise: generous, since a task may legitimately be long.
// What a traced batch learns of one worker process: a span it timed itself (`parent_event`
// null), or an instant the parent saw about it (`parent_event` names it: "chunk sent", "results
// in"; span.index is the chunk's first task, begin_ns == end_ns).
struct WorkerSpan {
  pid_t pid = 0;
  TraceSpan span;
  const char* parent_event = nullptr;
};

// Hands every span to `observer` (ProcessSpan), then clears them.
void ReportWorkerSpans(std::vector<WorkerSpan>* spans, TaskObserver* observer);

inline constexpr std::chrono::seconds kDefaultStallTimeout{60};

// One child a stall report names.
struct SilentChild {
  int worker = 0;    // its index, as WorkerStalled::worker()
  std::string name;  // "worker 1", "task 3", "the echo child"
  pid_t pid = 0;
  std::chrono::steady_clock::duration silent{};  // since its last result, or since it got work
  std::string holding;                           // "tasks [7, 8), [9, 10)", or "" for nothing to add
};

// The WorkerStalled for `children` (not empty), longest silent first:
// "<model> stalled: no <awaited> for 3.0 s; worker 1 (pid 4242, stopped (T)) silent 3.0 s holding
// tasks [7, 8); ...; <aftermath>". At most ten children are named, then how many more there were.
// It reads each child's state from /proc: call it before the children are killed.
WorkerStalled StallError(std::string_view model, std::string_view awaited,
                         std::chrono::steady_clock::duration silence, std::span<SilentChild> children,
                         std::string_view aftermath);

// Exit statuses of a worker that ends on its own for a reason other than a clean shutdown
// (exit status 0), as a WorkerDied message shows them: "exited with status 11".
inline constexpr int kWorkerExitTruncated = 10;  // the task pipe ended in the middle of a frame
inline constexpr int kWorkerExitIo = 11;         // a read or write on a pipe failed
inline constexpr int kWorkerExitProtocol = 12;   // a malformed frame arrived (an error frame was sent)
inline constexpr int kWorkerExitException = 13;  // an exception (for example std::bad_alloc) in the child
inline constexpr int kWorkerExitTaskThrew = 14;  // a task threw (an error frame was sent)

// How long a worker whose result pipe reached end-of-file (it is ending) gets to exit by itself
// before it is killed.
inline constexpr std::chrono::seconds kWorkerExitTimeout{5};
// How long a worker told to stop (its task pipe closed) gets to finish before it is killed.
inline constexpr std::chrono::seconds kWorkerShutdownGrace{1};

// Starts a results frame in *out that carries what the calling process (a worker) has used so
// far: its cumulative CPU time and context switches, read with measure/rusage.h.
ResultFrameWriter StartResultsFrame(std::string* out);

}  // namespace concbench
