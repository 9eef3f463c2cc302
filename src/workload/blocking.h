// Running a TaskSpec (workload/task_spec.h) the blocking way, in the calling thread: a compute
// step computes, a sleep blocks the thread (BlockingSleep), an echo step connects, sends and
// blocks on the reply (EchoOnce). This is how sync, threads, threads.per_task, processes and
// their variants run every workload; only the event loop has a runner of its own.
//
// An observer, when given, sees every task and step begin and end on the calling thread (the
// traced iteration, bench/trace.h); without one the cost is a null test per step.
//
//   TaskEnv env;
//   int64_t r = RunTaskBlocking({{Compute(ComputeFn::kTrabajo), SleepStep(1ms)}}, 7, env);
//   // r == trabajo(7) + 8
#pragma once

#include <cstdint>
#include <string_view>

#include "workload/task_env.h"
#include "workload/task_spec.h"

namespace concbench {

// Hooks around what a runner executes; `task` is the task's position in its batch. Called on the
// thread (or in the process) that runs the task. The traced iteration (bench/trace.h) records
// them; the last two carry what a model sees of its own mechanism, times on CLOCK_MONOTONIC
// (MonotonicNs), and have empty defaults.
class TaskObserver {
 public:
  virtual ~TaskObserver() = default;
  virtual void TaskBegin(int64_t task) = 0;
  virtual void TaskEnd(int64_t task) = 0;
  virtual void StepBegin(int64_t task, size_t step) = 0;
  virtual void StepEnd(int64_t task, size_t step) = 0;
  // A model's own event on the calling thread: pool start-up, a GIL hand-over, a chunk sent
  // (begin_ns == end_ns for an instant).
  virtual void ModelEvent(std::string_view /*name*/, uint64_t /*begin_ns*/, uint64_t /*end_ns*/) {}
  // What another process reported: task `task`'s whole run (step < 0) or its step `step`, run by
  // process `pid` (a pool's worker), or an instant of the parent's about that worker (`name`).
  virtual void ProcessSpan(int /*pid*/, int64_t /*task*/, int /*step*/, uint64_t /*begin_ns*/, uint64_t /*end_ns*/,
                           std::string_view /*name*/ = {}) {}
};

// CLOCK_MONOTONIC in nanoseconds: one clock every process of the machine shares.
uint64_t MonotonicNs();

// The result of a wait step without waiting (a sleep's input + 1, an echo's payload digest).
int64_t WaitStepResult(const Step& step, int64_t input, const TaskEnv& env);

// Runs one step in the calling thread, blocking on a wait. Throws what the step throws (an
// EchoError for a failed request).
int64_t RunStepBlocking(const Step& step, int64_t input, const TaskEnv& env);

// Runs every step of `spec` in order for the task at position `task` with input `input`, and
// gives the sum of the step results.
int64_t RunTaskBlocking(const TaskSpec& spec, int64_t input, const TaskEnv& env,
                        TaskObserver* observer = nullptr, int64_t task = 0);

}  // namespace concbench
