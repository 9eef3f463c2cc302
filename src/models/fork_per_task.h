// One fork per task, no reuse (the `processes.per_task` variant): every task gets a child of its
// own, all running at once, which is what a process pool saves.
//
// Each child runs its task's TaskSpec (workload/blocking.h) on the input it inherited and writes one results frame
// (models/frame.h) back through a pipe of its own; the results come back in input order. The
// guarantees are a ProcessPool's (models/process_pool.h): output is flushed before every fork,
// SIGPIPE cannot kill the caller, a child ends with _exit, and every child is reaped by pid
// before RunForkPerTask returns or throws. A child that dies throws WorkerDied (worker = the
// task's index) naming the task, its pid and how it ended, after the other children are killed
// and reaped; a child whose task throws sends the exception's message and the call throws WorkerError naming
// the task and that message; a child that sends something else than its result throws WorkerError. When no
// result arrives from any child for `stall_timeout` (a child stopped, an endless task), it throws
// WorkerStalled naming each child still without a result, its pid and its state from /proc,
// after every child is killed and reaped. Every other wait on a child is bounded by sys/reaper.h.
//
// Requirements: as for a ProcessPool, the calling process's other threads (if any) hold no lock
// a child needs. Each child inherits `env` (what echo steps need) as it is at fork time.
//
//   concbench::IpcStats ipc;
//   auto out = concbench::RunForkPerTask({{concbench::Compute(concbench::ComputeFn::kTareaNormal)}}, inputs, {}, &ipc);
#pragma once

#include <chrono>
#include <cstdint>
#include <span>
#include <vector>

#include "models/worker.h"
#include "workload/task_env.h"
#include "workload/task_spec.h"

namespace concbench {

// `ipc`, if given, receives the traffic. `stall_timeout` is the longest wait for the next result
// (0: no limit; std::invalid_argument if negative). Throws std::invalid_argument for a spec
// ValidateSpec refuses, std::system_error when pipe or fork fails.
// `trace`, if given, receives each child's spans (its task and steps, timed by the child) and its
// fork as a parent instant ("forked").
std::vector<int64_t> RunForkPerTask(const TaskSpec& spec, std::span<const int64_t> inputs,
                                    const TaskEnv& env = {}, IpcStats* ipc = nullptr,
                                    std::chrono::milliseconds stall_timeout = kDefaultStallTimeout,
                                    std::vector<WorkerSpan>* trace = nullptr);

}  // namespace concbench
