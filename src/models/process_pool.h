// The `processes` model: a fork-based worker pool fed over pipes, ProcessPoolExecutor-like
// (notebook sections 4, 4.1 and 5.3), plus one-fork-per-task and a bare pipe round trip to
// compare it with.
//
// ProcessPool forks W workers when it is built. Map() cuts the inputs into chunks of `chunksize`
// consecutive tasks, sends each chunk as one tasks frame (models/frame.h) to a worker, and
// gives the next chunk to the first worker whose results come back (poll on the result pipes),
// which balances the load the way ProcessPoolExecutor does. Like ProcessPoolExecutor's call queue
// (which keeps work ready for its workers), each worker may hold `queued_per_worker` chunks (1 by
// default) waiting in its pipe behind the one it runs, so a worker that finishes a chunk starts
// the next at once instead of waiting for the parent to wake up, read and answer; with 0 a worker
// gets its next chunk only once its results are back (a pure request/response). Results are tagged with their index
// and returned in input order. A child cannot receive a lambda, so a task is named by a TaskKind
// that every worker knows (sleep, the notebook's CPU functions, an echo, and two crash kinds for
// tests), or is TaskKind::kInherited: the function the pool was built with, which every worker
// inherited when it was forked (fork copies the address space, so only the input and the result
// cross the pipes; bench/echo_bench.cc runs its TCP echo client this way). A payload of N bytes
// per task really crosses the pipes both ways: it is copied into the tasks frame, decoded by the
// worker, copied into the results frame and decoded by the parent.
//
// Requirements: build the pool, and call RunForkPerTask, from a process whose other threads (if
// any) hold no locks the child needs; the child uses only malloc, read, write, getrusage and the
// workload functions, never stdio or benchmark code. The pool is not thread-safe: one thread
// calls Map at a time.
//
// An inherited function must be fork-safe: it runs in a child of a possibly multi-threaded parent
// in which only the forking thread survived, so it may use what the rules above allow plus plain
// system calls (sockets, as workload/echo_client.h does), but no thread, no lock another thread
// of the parent may have held, no stdio. What it captures by reference is the child's copy, as
// it was at fork time: it must outlive the pool in the parent, and later changes in the parent
// are not seen. State it keeps (through a captured std::shared_ptr, say) is per worker and lives
// as long as the worker, so a worker can open a connection on its first task and reuse it for
// every later one (keep-alive). If it throws, the worker sends the exception's what() in an error
// frame and exits: Map throws WorkerError naming the worker, the task and the message, and the
// pool is broken like for any other worker error.
//
// Guarantees:
// - stdout and stderr (C and C++ streams) are flushed before every fork, so nothing is printed
//   twice; a child never returns into the caller's code: it ends with _exit.
// - SIGPIPE cannot kill the caller: the first pool (or RunForkPerTask / BarePipeEcho) sets SIGPIPE
//   to SIG_IGN for the process if it was SIG_DFL, and a write to a dead worker is an EPIPE error.
// - Every pipe end is close-on-exec, and each child closes the pipe ends of the workers forked
//   before it, so a worker sees end-of-file as soon as the parent closes its task pipe.
// - Crash safety: a worker that dies (signal, abort, _exit) is detected by end-of-file on its
//   result pipe plus waitpid; Map throws WorkerDied naming the worker, its pid and how it died.
//   The other workers are killed and reaped; the pool is then broken and Map throws
//   std::logic_error. Every wait for a child is bounded (pidfd + poll with a deadline, SIGKILL
//   when a grace period expires), so no zombie and no descriptor is left behind.
// - A malformed frame or an error frame from a worker throws WorkerError and breaks the pool the
//   same way.
//
// Limitation: a worker that stays alive but stops making progress (SIGSTOP, an endless task)
// blocks Map: Map waits for results without a deadline because a task may legitimately be long.
//
// Shutdown (or the destructor) closes the task pipes; idle workers read end-of-file and _exit(0);
// a worker still busy after a one-second grace period is killed. Every worker is reaped by pid.
//
//   concbench::ProcessPool pool(2);
//   std::vector<int64_t> in = {0, 1, 2, 3};
//   auto out = pool.Map({concbench::TaskKind::kTareaNormal}, in, /*chunksize=*/1);
//   // out == {14998935, 14998965, 14998995, 14999025}
//   concbench::ProcessPool echo(4, [&](int64_t i) { return EchoOnce(addr, batch.payload(i)); });
//   auto digests = echo.Map(concbench::InheritedSpec(), batch.inputs());
#pragma once

#include <sys/types.h>

#include <chrono>
#include <deque>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "models/frame.h"
#include "sys/wait_status.h"  // DescribeWaitStatus, for callers that report a WorkerDied
#include "workload/cpu_jobs.h"
#include "workload/task.h"

namespace concbench {

// The tasks a worker knows. Values travel in frames: never renumber them.
enum class TaskKind : uint8_t {
  kSleep = 1,         // sleep_task(input, param ns): sleeps, returns input + 1
  kCpuIntensivo = 2,  // cpu_intensivo(input)
  kTrabajo = 3,       // trabajo(input)
  kTareaNormal = 4,   // tarea_normal(input)
  kEcho = 5,          // returns input at once: only the IPC is left
  kAbortIf = 6,       // for crash tests: abort() when input == param, else returns input
  kExitIf = 7,        // for crash tests: _exit(3) when input == param, else returns input
  kInherited = 8,     // the pool's inherited function (ProcessPool(workers, inherited)); param unused
};

bool IsKnownTaskKind(uint8_t kind);
std::string_view TaskKindName(TaskKind kind);

struct TaskSpec {
  TaskKind kind = TaskKind::kEcho;
  int64_t param = 0;  // kSleep: nanoseconds; k*If: the input that crashes
};

TaskSpec SleepSpec(std::chrono::nanoseconds d);
TaskSpec CpuJobSpec(CpuJob job);
inline TaskSpec InheritedSpec() { return {TaskKind::kInherited, 0}; }

// Runs one task in the calling process, exactly as a worker does (a crash kind crashes the
// caller: only children call it with those). kInherited calls *inherited, and throws
// std::invalid_argument when there is none.
int64_t RunTask(const TaskSpec& spec, int64_t input, const TaskFn* inherited = nullptr);

// Traffic through the pipes as the parent saw it: frames (headers included) it wrote and read.
struct IpcStats {
  int64_t bytes = 0;
  int64_t messages = 0;
};

// What the workers reported about themselves (the sum of each worker's latest cumulative
// getrusage(RUSAGE_SELF) figures); grows as results come back.
struct WorkerUsage {
  double cpu_seconds = 0;
  int64_t ctx_switches = 0;
};

// A worker died while the pool needed it.
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
// match the chunk, an unknown task kind).
class WorkerError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct MapResult {
  std::vector<int64_t> values;        // in input order
  std::vector<std::string> payloads;  // in input order, as echoed back by the workers
};

class ProcessPool {
 public:
  // Forks `workers` (≥ 1) workers; `queued_per_worker` (≥ 0) is how many chunks may wait in a
  // worker's pipe behind the one it runs (std::invalid_argument otherwise). Throws
  // std::system_error when pipe or fork fails, after reaping the workers already started.
  explicit ProcessPool(int workers, int queued_per_worker = 1);
  // The same, and every worker can also run `inherited` (non-empty, else std::invalid_argument)
  // as TaskKind::kInherited; see "An inherited function" above for what it may do.
  ProcessPool(int workers, TaskFn inherited, int queued_per_worker = 1);
  ~ProcessPool();

  ProcessPool(const ProcessPool&) = delete;
  ProcessPool& operator=(const ProcessPool&) = delete;

  int size() const { return static_cast<int>(workers_.size()); }
  // The pid of worker `i` (0 once it has been reaped).
  pid_t pid(int worker) const;

  // Runs `spec` on every input, `chunksize` (≥ 1) consecutive inputs per message, and returns
  // the results in input order. Zero inputs send nothing. Throws std::invalid_argument for a bad
  // argument (kInherited on a pool built without a function is one), std::length_error if a
  // chunk's frame would exceed kMaxFrameBodyBytes (checked before anything is sent),
  // WorkerDied / WorkerError / std::system_error as described above, and std::logic_error once
  // the pool is broken or shut down.
  std::vector<int64_t> Map(const TaskSpec& spec, std::span<const int64_t> inputs, int64_t chunksize = 1);

  // The same with a payload per task (`payloads` empty, or one per input) that each worker
  // echoes back with the result.
  MapResult MapWithPayloads(const TaskSpec& spec, std::span<const int64_t> inputs,
                            std::span<const std::string> payloads, int64_t chunksize);
  // The same into *out, reusing its buffers: a caller that maps again and again with the same
  // MapResult deserialises every payload into memory it already owns instead of fresh pages.
  void MapWithPayloads(const TaskSpec& spec, std::span<const int64_t> inputs,
                       std::span<const std::string> payloads, int64_t chunksize, MapResult* out);

  IpcStats ipc() const { return ipc_; }
  WorkerUsage worker_usage() const;
  bool broken() const { return !broken_reason_.empty(); }

  // Closes the task pipes and reaps every worker (bounded: a worker still alive after the grace
  // period is killed). Idempotent; the destructor calls it.
  void Shutdown();

 private:
  struct Worker {
    pid_t pid = 0;
    int task_fd = -1;    // parent's write end, non-blocking
    int result_fd = -1;  // parent's read end, non-blocking
    std::string out;     // the frame being sent
    size_t out_off = 0;
    std::vector<char> in;  // bytes received, in[0, in_len)
    size_t in_len = 0;
    // Chunks sent and not yet answered, oldest (the one running) first: [begin, end) of inputs.
    std::deque<std::pair<size_t, size_t>> inflight;
    uint64_t cpu_ns = 0;
    uint64_t ctx_switches = 0;
  };

  // Forks the workers (the body of both constructors).
  void Start(int workers, int queued_per_worker);
  void MapImpl(const TaskSpec& spec, std::span<const int64_t> inputs,
               std::span<const std::string> payloads, int64_t chunksize, MapResult* out);
  // Writes as much of w.out as the pipe takes; returns false on EPIPE (the worker is gone).
  bool FlushOut(Worker& w);
  // Reads what is available; returns false on end-of-file (after storing what came before it).
  bool ReadAvailable(Worker& w);
  [[noreturn]] void WorkerGone(int index);
  // The message of an error frame the (dead) worker left in its result pipe, or "".
  std::string PendingErrorMessage(Worker& w);
  // Kills (SIGKILL) and reaps every live worker and closes every descriptor; `reason` says why
  // the pool may no longer be used.
  void Break(const std::string& reason);

  // Each worker runs its own copy of this, made by fork.
  TaskFn inherited_;
  std::vector<Worker> workers_;
  size_t max_inflight_ = 2;
  ResultChunk scratch_;  // decoded results frame, reused so payload buffers are recycled
  IpcStats ipc_;
  std::string broken_reason_;
};

// One fork per task, no reuse (processes.per_task): every task gets its own child, all running
// at once; each child computes its task on the input it inherited and writes one results frame
// back through its own pipe. The results come back in input order; every child is reaped before
// this returns. A child that dies throws WorkerDied (worker = the task's index) after the other
// children are killed and reaped. `ipc`, if given, receives the traffic. kInherited is refused
// (std::invalid_argument): there is no pool function to inherit.
std::vector<int64_t> RunForkPerTask(const TaskSpec& spec, std::span<const int64_t> inputs,
                                    IpcStats* ipc = nullptr);

// The bare baseline for IPC cost: one child that echoes length-prefixed messages over a pair of
// blocking pipes, with nothing else (no frames, no poll, no decoding). RoundTrip sends `message`
// and waits for it to come back.
class BarePipeEcho {
 public:
  BarePipeEcho();   // forks the echo child; std::system_error on failure
  ~BarePipeEcho();  // Shutdown()

  BarePipeEcho(const BarePipeEcho&) = delete;
  BarePipeEcho& operator=(const BarePipeEcho&) = delete;

  // Throws std::system_error on a failed read or write and std::runtime_error if the child
  // closed its end or echoed something else.
  void RoundTrip(std::string_view message, std::string* reply);
  pid_t pid() const { return pid_; }
  void Shutdown();

 private:
  pid_t pid_ = 0;
  int to_child_ = -1;
  int from_child_ = -1;
  std::string send_;  // reused buffers: a round trip allocates nothing once warm
  std::string buf_;
};

}  // namespace concbench
