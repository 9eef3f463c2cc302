// A fork-based worker pool whose workers run a task function they inherited at fork time: the
// `processes` model for tasks that cannot be named by a models/process_pool.h TaskKind, such as
// the echo workload's blocking TCP client (each worker process connects on its own).
//
// Why it exists: ProcessPool (models/process_pool.h) only runs the TaskKinds it knows, and none
// of them is a TCP echo. A child forked after the task function was built already holds it
// (fork copies the address space), so a pool built with the function needs no serialisation
// beyond the int64 input and result. When ProcessPool gains such a constructor (for example
// `ProcessPool(int workers, TaskFn inherited)` with a TaskKind::kInherited), this file can go.
//
// What it guarantees:
//   - The constructor forks `workers` (≥ 1) children (stdout/stderr flushed first). Each child
//     reads an 8-byte input from its task pipe, runs task(input) and writes the result back; it
//     ends with _exit when its task pipe closes, and never returns into the caller's code.
//   - Map() hands each input to the first free worker (chunksize 1, like ProcessPoolExecutor)
//     and returns the results in input order. A task's exception reaches the parent as its
//     what() text: Map() lets the other running tasks finish, then throws std::runtime_error
//     "worker W (pid P), input I: <what>". The pool stays usable after that.
//   - Each result carries the worker's own cumulative CPU time and context switches
//     (worker_totals()).
//   - A worker that dies is reported as std::runtime_error naming it and how it died; the pool
//     is then broken (every later Map() throws std::logic_error).
//   - SIGPIPE is set to SIG_IGN if it was SIG_DFL, so a dead worker is an EPIPE, not a signal.
//   - Shutdown() (the destructor) closes the task pipes and reaps every worker by pid, killing
//     one still alive after a 5-second grace period. No descriptor or zombie is left behind.
//
// Requirements: build it from a thread that holds no lock a child needs (the task runs in the
// child with only the forking thread alive); the task must not use threads or stdio. Not
// thread-safe: one thread calls Map() at a time.
//
//   concbench::ForkTaskPool pool(4, [&](int64_t i) { return EchoOnce(addr, batch.payload(i)); });
//   std::vector<int64_t> digests = pool.Map(batch.inputs());
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "workload/task.h"

namespace concbench {

struct WorkerTotals {
  double cpu_seconds = 0;
  int64_t ctx_switches = 0;
};

class ForkTaskPool {
 public:
  ForkTaskPool(int workers, TaskFn task);  // std::system_error if pipe or fork fails
  ~ForkTaskPool();

  ForkTaskPool(const ForkTaskPool&) = delete;
  ForkTaskPool& operator=(const ForkTaskPool&) = delete;

  int size() const { return static_cast<int>(workers_.size()); }
  pid_t pid(int worker) const { return workers_[static_cast<size_t>(worker)].pid; }

  std::vector<int64_t> Map(std::span<const int64_t> inputs);

  // What the workers reported about themselves with their latest result: the sum of each
  // worker's cumulative getrusage(RUSAGE_SELF) CPU time and context switches. Live workers are not
  // reaped children, so RUSAGE_CHILDREN cannot see them; the difference of two readings is what
  // the workers cost in between.
  WorkerTotals worker_totals() const;

  // Closes the task pipes and reaps the workers. Idempotent.
  void Shutdown();

 private:
  struct Worker {
    pid_t pid = 0;
    int task_fd = -1;    // parent writes inputs
    int result_fd = -1;  // parent reads results
    uint64_t cpu_ns = 0;        // latest cumulative CPU time reported
    uint64_t ctx_switches = 0;  // latest cumulative context switches reported
  };

  [[noreturn]] void Break(const std::string& why);

  TaskFn task_;
  std::vector<Worker> workers_;
  std::string broken_;
};

}  // namespace concbench
