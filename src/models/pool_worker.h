// The life of a ProcessPool worker, in the child the pool forked: read tasks frames from the
// task pipe, run each chunk, send back one results frame per chunk, until end-of-file.
//
// It is the other end of models/process_pool.cc's protocol (frames: models/frame.h). Every
// results frame carries the worker's own CPU time and context switches so far. A worker never
// returns into the code that forked it; it ends with _exit:
// - 0 at end-of-file between frames (the pool closed the task pipe: a clean shutdown);
// - kWorkerExitTruncated at end-of-file inside a frame, kWorkerExitIo when a read or write fails,
//   kWorkerExitException on an exception of its own (models/worker.h);
// - kWorkerExitProtocol after an error frame "worker pid N: <why>" for a frame it cannot run
//   (malformed, not a tasks frame, a spec ValidateSpec refuses);
// - kWorkerExitTaskThrew after an error frame "task I (input V) threw: <what()>" when a task
//   throws (a refused echo connection, say).
//
// A worker whose env has an echo server connects to it once at start-up and closes: the first
// connect after a fork is slow (copy-on-write faults), and that cost belongs to the pool's
// start-up, not to the first task.
//
// Requirements: call it only in a freshly forked child. The parent may have had other threads,
// so it uses only malloc, read, write, getrusage and the task functions, never stdio or a lock.
//
//   if (::fork() == 0) concbench::RunPoolWorker(task_read_end, result_write_end, env);
#pragma once

#include <sys/types.h>

#include <span>

#include <vector>

#include "models/frame.h"
#include "sys/unique_fd.h"
#include "workload/blocking.h"
#include "workload/task_env.h"

namespace concbench {

// The parent's side of one forked worker: its pid and its two pipe ends, both non-blocking.
struct ForkedWorker {
  pid_t pid = 0;
  UniqueFd task_fd;    // the parent writes tasks frames here
  UniqueFd result_fd;  // and reads results (and error, trace) frames here
};

// Forks worker `index` of `workers` running RunPoolWorker with its own copy of `env`. The child
// first closes `parent_fds` (the parent's ends of the earlier workers' pipes: holding a task
// pipe's write end would keep that worker from ever seeing end-of-file). Output is flushed before
// the fork. Throws std::system_error naming the call when pipe2 or fork fails (nothing is left
// open then).
ForkedWorker ForkPoolWorker(int index, int workers, const TaskEnv& env, std::span<const int> parent_fds);

// Records one task's spans in a child (the trace frame's content): the whole task and each step,
// timed on CLOCK_MONOTONIC. One task at a time, on one thread.
class SpanRecorder final : public TaskObserver {
 public:
  explicit SpanRecorder(std::vector<TraceSpan>* spans);
  void TaskBegin(int64_t task) override;
  void TaskEnd(int64_t task) override;
  void StepBegin(int64_t task, size_t step) override;
  void StepEnd(int64_t task, size_t step) override;

 private:
  void Add(int64_t task, uint16_t step, uint64_t begin);
  std::vector<TraceSpan>* spans_;
  uint64_t task_begin_ = 0;
  uint64_t step_begin_ = 0;
};

// `env` is the worker's own copy of the pool's TaskEnv (what its echo steps need).
[[noreturn]] void RunPoolWorker(int task_fd, int result_fd, const TaskEnv& env);

}  // namespace concbench
