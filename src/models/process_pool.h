// ProcessPool: a fork-based pool of worker processes fed over pipes, ProcessPoolExecutor-like
// (the `processes` model, notebook sections 4, 4.1 and 5.3).
//
// The constructor forks the workers. Map() runs one TaskSpec (workload/task_spec.h) on every
// input, `chunksize` consecutive inputs per message, hands the next chunk to the first worker
// whose results come back, and returns the results in input order. Only the spec, the inputs, the
// results and the payloads cross the pipes; what a spec's echo steps need (the server, the
// payloads) is the TaskEnv the pool was built with, which every worker inherited when it was
// forked.
//
// Requirements: build the pool from a process whose other threads (if any) hold no locks a
// child needs. Not thread-safe: one thread calls Map at a time.
//
// Guarantees:
// - stdout and stderr (C and C++ streams) are flushed before every fork, so nothing is printed
//   twice; a worker never returns into the caller's code: it ends with _exit.
// - SIGPIPE cannot kill the caller (sys/fork.h's IgnoreSigpipe): a write to a dead worker is an
//   EPIPE error.
// - A worker that dies (signal, abort, _exit) is reported at once: Map throws WorkerDied naming
//   the worker, its pid, how it died and the tasks it held. A malformed frame or an error frame
//   throws WorkerError. Either way the other workers are killed and reaped, and the pool is
//   broken: Map throws std::logic_error from then on.
// - A pool that stalls is reported too: when tasks are outstanding and no results frame arrives
//   from any worker for the stall timeout (SetStallTimeout; 60 s unless set), Map throws
//   WorkerStalled naming each worker that holds tasks, its pid, its state from /proc ("stopped
//   (T)" after a SIGSTOP, "running (R)" for an endless task), how long it has been silent and the
//   tasks it holds. Every worker is then killed (SIGKILL ends a stopped one too) and reaped, and
//   the pool is broken as after a death. Silence counts from the last results frame, not from
//   the start of Map, so a long Map of tasks each shorter than the timeout never stalls.
// - Every wait for a worker is bounded (sys/reaper.h), so no zombie and no descriptor is left.
//
// Shutdown (or the destructor) closes the task pipes; idle workers read end-of-file and exit; a
// worker still busy after a one-second grace period is killed. Every worker is reaped by pid.
//
//   concbench::ProcessPool pool(2);
//   std::vector<int64_t> in = {0, 1, 2, 3};
//   auto out = pool.Map({{concbench::Compute(concbench::ComputeFn::kTareaNormal)}}, in, /*chunksize=*/1);
//   // out == {14998935, 14998965, 14998995, 14999025}
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <deque>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "models/frame.h"
#include "models/worker.h"
#include "sys/unique_fd.h"
#include "workload/task_env.h"
#include "workload/task_spec.h"

namespace concbench {

struct MapResult {
  std::vector<int64_t> values;        // in input order
  std::vector<std::string> payloads;  // in input order, as echoed back by the workers
};

class ProcessPool {
 public:
  // Forks `workers` (≥ 1) workers. Each worker may hold `queued_per_worker` (≥ 0) chunks waiting
  // in its pipe behind the one it runs, like ProcessPoolExecutor's call queue, so a worker that
  // finishes a chunk starts the next at once instead of waiting for the parent to wake up, read
  // and answer; with 0 a worker gets its next chunk only once its results are back (a pure
  // request/response). std::invalid_argument for a bad count; std::system_error when pipe or
  // fork fails, after reaping the workers already started.
  explicit ProcessPool(int workers, int queued_per_worker = 1);

  // The same, with the TaskEnv the specs' echo steps use (the server's address and the
  // payloads). fork copies the address space, so each worker has its own copy of `env` and of
  // what it points to as they were at fork time: build the pool after the env is complete, and
  // keep what it points to alive in the parent as long as the pool.
  //
  //   concbench::ProcessPool pool(4, concbench::TaskEnv{.echo_server = addr, .echo = &payloads});
  //   auto digests = pool.Map({{concbench::EchoStep(500ms, 64)}}, payloads.inputs());
  ProcessPool(int workers, TaskEnv env, int queued_per_worker = 1);
  ~ProcessPool();

  ProcessPool(const ProcessPool&) = delete;
  ProcessPool& operator=(const ProcessPool&) = delete;

  int size() const { return static_cast<int>(workers_.size()); }
  // The pid of worker `i` (0 once it has been reaped).
  pid_t pid(int worker) const;

  // Runs `spec` on every input, `chunksize` (≥ 1) consecutive inputs per message, and returns
  // the results in input order. Zero inputs send nothing. Throws std::invalid_argument for a bad
  // argument (a spec ValidateSpec refuses is one), std::length_error if a
  // chunk's frame would exceed kMaxFrameBodyBytes (checked before anything is sent),
  // WorkerDied / WorkerError / std::system_error as described above, and std::logic_error once
  // the pool is broken or shut down.
  std::vector<int64_t> Map(const TaskSpec& spec, std::span<const int64_t> inputs, int64_t chunksize = 1);

  // The same with a payload per task (`payloads` empty, or one per input) that each worker
  // echoes back with the result. The bytes really cross the pipes both ways: copied into the
  // tasks frame, decoded by the worker, copied into the results frame, decoded by the parent.
  MapResult MapWithPayloads(const TaskSpec& spec, std::span<const int64_t> inputs,
                            std::span<const std::string> payloads, int64_t chunksize);
  // The same into *out, reusing its buffers: a caller that maps again and again with the same
  // MapResult deserialises every payload into memory it already owns instead of fresh pages.
  void MapWithPayloads(const TaskSpec& spec, std::span<const int64_t> inputs,
                       std::span<const std::string> payloads, int64_t chunksize, MapResult* out);

  // How long Map may go without a single results frame while tasks are outstanding before it
  // throws WorkerStalled; 0 means no limit. kDefaultStallTimeout (60 s) until set. Choose it
  // above the longest chunk a worker may legitimately run. std::invalid_argument if negative.
  void SetStallTimeout(std::chrono::milliseconds timeout);
  std::chrono::milliseconds StallTimeout() const { return stall_timeout_; }

  // While `sink` is set (not null), every chunk asks its worker for a trace frame, and each span
  // it reports lands in *sink with the worker's pid, beside the parent's own instants of that
  // worker ("chunk sent", "results in"): the traced iteration (bench/trace.h).
  void SetTraceSink(std::vector<WorkerSpan>* sink) { trace_ = sink; }

  IpcStats ipc() const { return ipc_; }
  WorkerUsage worker_usage() const;
  bool broken() const { return !broken_reason_.empty(); }

  // Closes the task pipes and reaps every worker (bounded: a worker still alive after the grace
  // period is killed). Idempotent; the destructor calls it.
  void Shutdown();

 private:
  struct Worker {
    pid_t pid = 0;
    UniqueFd task_fd;    // parent's write end, non-blocking
    UniqueFd result_fd;  // parent's read end, non-blocking
    std::string out;     // the frame being sent
    size_t out_off = 0;
    std::vector<char> in;  // bytes received, in[0, in_len)
    size_t in_len = 0;
    // Chunks sent and not yet answered, oldest (the one running) first: [begin, end) of inputs.
    std::deque<std::pair<size_t, size_t>> inflight;
    // Since its last results frame, or since it got work while it had none: what it has been
    // silent since, if it stalls.
    std::chrono::steady_clock::time_point silent_since{};
    uint64_t cpu_ns = 0;
    uint64_t ctx_switches = 0;
  };
  struct MapRun;  // the state of one Map call (process_pool.cc)

  // Forks the workers (the body of both constructors), one StartWorker each.
  void Start(int workers, int queued_per_worker);
  void StartWorker(int index, int workers);

  void MapImpl(const TaskSpec& spec, std::span<const int64_t> inputs,
               std::span<const std::string> payloads, int64_t chunksize, MapResult* out);
  // The steps of a Map, in order.
  void CheckMapArguments(const TaskSpec& spec, std::span<const int64_t> inputs,
                         std::span<const std::string> payloads, int64_t chunksize) const;
  static void CheckFrameLimits(const MapRun& run, int64_t chunksize);
  // Queues the next chunk for `w` if there is one and w has room; false if w is gone (EPIPE).
  bool Dispatch(Worker& w, MapRun& run);
  // Waits for any pipe to be ready and serves every one that is.
  void PollOnce(MapRun& run);
  // Reads what worker `i` sent and handles every whole frame in it.
  void ReceiveResults(size_t i, MapRun& run);
  // Why a frame from `w` is not the results of its oldest chunk, or "" if it is (then decoded
  // into scratch_).
  std::string CheckResultFrame(const Worker& w, const FrameSplit& s);
  // Stores the decoded results (scratch_) of w's oldest chunk and drops its frame.
  void StoreResults(Worker& w, size_t frame_bytes, MapRun& run);

  // Writes as much of w.out as the pipe takes; returns false on EPIPE (the worker is gone).
  bool FlushOut(Worker& w);
  // Reads what is available; returns false on end-of-file (after storing what came before it).
  bool ReadAvailable(Worker& w);
  [[noreturn]] void WorkerGone(int index);
  // Names every worker that holds tasks, then breaks the pool and throws WorkerStalled.
  [[noreturn]] void Stalled(const MapRun& run);
  // The message of an error frame the (dead) worker left in its result pipe, or "".
  std::string PendingErrorMessage(Worker& w);
  // Closes every pipe and reaps every worker, killing those still alive at `deadline`.
  void CloseAndReap(std::chrono::steady_clock::time_point deadline);
  // Kills (SIGKILL) and reaps every live worker and closes every descriptor; `reason` says why
  // the pool may no longer be used.
  void Break(const std::string& reason);

  // Each worker has its own copy of this, made by fork.
  TaskEnv env_;
  std::vector<WorkerSpan>* trace_ = nullptr;
  std::vector<TraceSpan> trace_scratch_;
  std::vector<Worker> workers_;
  size_t max_inflight_ = 2;
  std::chrono::milliseconds stall_timeout_ = kDefaultStallTimeout;
  ResultChunk scratch_;  // decoded results frame, reused so payload buffers are recycled
  IpcStats ipc_;
  std::string broken_reason_;
};

}  // namespace concbench
