// The `async.processes` variant's executor: worker processes driven by a libuv event loop, so a
// batch's compute steps run in other processes while the loop keeps running its timers and
// sockets (asyncio's `loop.run_in_executor(ProcessPoolExecutor(), ...)`).
//
// The workers are a ProcessPool's own (models/pool_worker.h: the same frames, the same code in
// the child); what differs is who waits. Submit() sends one compute step of one task as a tasks
// frame to an idle worker, or queues it (first in, first out) until one is free; the loop
// watches the result pipe of every busy worker (uv_poll) and hands each result to its owner on
// the loop's thread. A worker holds one step at a time, so the next queued step goes to the first
// worker that finishes, as in ProcessPoolExecutor.
//
// Guarantees: a worker that dies, sends an error frame or a malformed frame is reported to the
// owner of the step it held (OnComputeFailed with WorkerDied or WorkerError, worded as a
// ProcessPool's), and the pool is broken: every worker is killed and reaped at once, and Submit
// throws std::logic_error from then on. A poll handle is active only while its worker is busy, so an
// idle pool keeps no loop running. The destructor closes the poll handles (running the loop once
// for their close callbacks), closes the pipes and reaps every worker, killing one still alive
// after a grace period. No child outlives the pool.
//
// Requirements: the loop's thread only; the loop outlives the pool.
//
//   UvLoop loop;
//   LoopProcessPool pool(loop, 2, {});
//   pool.Submit(ComputeOn(ComputeFn::kCpuIntensivo, 200'000), /*input=*/0, /*task=*/7, &owner);
//   uv_run(loop.get(), UV_RUN_DEFAULT);  // owner.OnComputeDone(7, 9600239) ran
#pragma once

#include <sys/types.h>
#include <uv.h>

#include <cstdint>
#include <deque>
#include <exception>
#include <memory>
#include <string>
#include <vector>

#include "models/pool_worker.h"
#include "models/worker.h"
#include "sys/uv_loop.h"
#include "workload/task_env.h"
#include "workload/task_spec.h"

namespace concbench {

// Who is told how a submitted step ended, on the loop's thread: its result, or the error that
// broke the pool.
class LoopComputeOwner {
 public:
  virtual ~LoopComputeOwner() = default;
  virtual void OnComputeDone(int64_t task, int64_t value) = 0;
  virtual void OnComputeFailed(std::exception_ptr error) = 0;
};

class LoopProcessPool {
 public:
  // Forks `workers` (≥ 1) workers, each with its own copy of `env`. std::invalid_argument for a
  // bad count; std::system_error when pipe or fork fails, after reaping the workers started.
  LoopProcessPool(UvLoop& loop, int workers, const TaskEnv& env);
  ~LoopProcessPool();

  LoopProcessPool(const LoopProcessPool&) = delete;
  LoopProcessPool& operator=(const LoopProcessPool&) = delete;

  // Runs compute step `step` of task `task` (input `input`) in a worker; the result goes to
  // `owner`, which must stay alive until then or until Abandon().
  // `step_index` is the step's position in its task (for the trace).
  void Submit(const Step& step, int64_t input, int64_t task, LoopComputeOwner* owner, size_t step_index = 0);

  // Forgets every queued step and the owners of the steps in flight: their results are read and
  // dropped. For a batch that stopped early; run the loop until idle() before it goes.
  void Abandon();
  bool idle() const;

  // While `sink` is set, each step's worker sends its spans (the step, timed by the worker) and the
  // parent adds its instants ("step sent", "result in"): the traced iteration.
  void SetTraceSink(std::vector<WorkerSpan>* sink) { trace_ = sink; }

  int size() const { return static_cast<int>(workers_.size()); }
  WorkerUsage worker_usage() const;
  IpcStats ipc() const { return ipc_; }

 private:
  struct Worker {
    ForkedWorker proc;
    uv_poll_t poll;
    bool poll_open = false;
    LoopProcessPool* pool = nullptr;
    std::vector<char> in;
    size_t in_len = 0;
    int64_t task = -1;  // the step in flight (its task), or -1 when idle
    uint16_t step = 0;  // its position in the task
    LoopComputeOwner* owner = nullptr;
    uint64_t cpu_ns = 0;
    uint64_t ctx_switches = 0;
  };
  struct Queued {
    TaskSpec step;  // one compute step
    int64_t input;
    int64_t task;
    LoopComputeOwner* owner;
    uint16_t step_index;
  };

  void Send(Worker& w, Queued q);
  static void OnReadable(uv_poll_t* poll, int status, int events);
  void Receive(Worker& w);
  // Reports `error` to the owner of the step `w` held, breaks the pool.
  void Fail(Worker& w, std::exception_ptr error);
  void CloseAndReap(std::chrono::steady_clock::time_point deadline);

  UvLoop& loop_;
  std::vector<std::unique_ptr<Worker>> workers_;  // stable addresses: libuv points into them
  std::deque<Queued> queue_;
  IpcStats ipc_;
  std::string broken_;
  std::vector<WorkerSpan>* trace_ = nullptr;
};

}  // namespace concbench
