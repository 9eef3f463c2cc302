#include "models/pool_worker.h"

#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <exception>
#include <string>
#include <vector>

#include "models/frame.h"
#include "models/worker.h"
#include "sys/errno_error.h"
#include "sys/fd_io.h"
#include "sys/fork.h"
#include "sys/pipe.h"
#include "workload/blocking.h"

namespace concbench {
namespace {

constexpr size_t kReadChunk = 64 << 10;

// Reports `message` to the parent in an error frame, then ends the worker with `status`.
[[noreturn]] void SendErrorAndExit(int result_fd, const std::string& message, int status) {
  std::string out;
  AppendErrorFrame(message, &out);
  WriteAll(result_fd, out);
  ::_exit(status);
}

// Why a tasks frame cannot be run, or "" (then it is decoded into *chunk).
std::string CheckTasksFrame(const FrameSplit& s, TaskChunk* chunk) {
  if (s.status == FrameStatus::kMalformed) return s.error;
  if (s.type != FrameType::kTasks) {
    return "expected a tasks frame, got type " + std::to_string(static_cast<int>(s.type));
  }
  if (auto e = DecodeTasks(s.content, chunk)) return *e;
  return "";
}


// Runs every task of the chunk into *values (and, when traced, its spans into *spans). A task
// may fail like any client (a refused connection): its message goes to the parent, which
// reports it, instead of a bare exit status.
void RunChunk(const TaskChunk& chunk, const TaskEnv& env, int result_fd, std::vector<int64_t>* values,
              std::vector<TraceSpan>* spans) {
  values->clear();
  spans->clear();
  SpanRecorder recorder(spans);
  TaskObserver* observer = (chunk.flags & kTraceFlag) != 0 ? &recorder : nullptr;
  for (const FrameItem& it : chunk.items) {
    std::string thrown;
    try {
      values->push_back(RunTaskBlocking(chunk.spec, it.value, env, observer, static_cast<int64_t>(it.index)));
      continue;
    } catch (const std::exception& e) {
      thrown = e.what();
    } catch (...) {
      thrown = "an exception that is not a std::exception";
    }
    SendErrorAndExit(result_fd,
                     "task " + std::to_string(it.index) + " (input " + std::to_string(it.value) + ") threw: " + thrown,
                     kWorkerExitTaskThrew);
  }
}

}  // namespace

SpanRecorder::SpanRecorder(std::vector<TraceSpan>* spans) : spans_(spans) {}
void SpanRecorder::TaskBegin(int64_t) { task_begin_ = MonotonicNs(); }
void SpanRecorder::TaskEnd(int64_t task) { Add(task, kTaskSpan, task_begin_); }
void SpanRecorder::StepBegin(int64_t, size_t) { step_begin_ = MonotonicNs(); }
void SpanRecorder::StepEnd(int64_t task, size_t step) { Add(task, static_cast<uint16_t>(step), step_begin_); }
void SpanRecorder::Add(int64_t task, uint16_t step, uint64_t begin) {
  spans_->push_back({static_cast<uint64_t>(task), step, begin, MonotonicNs()});
}

void RunPoolWorker(int task_fd, int result_fd, const TaskEnv& env) {
  try {
    // A fresh child's first connect (and the server's first accept of it) pays copy-on-write
    // faults, 5-10 ms here: paid once now, at start-up, not by the first task that waits on it.
    if (env.echo != nullptr) {
      try {
        EchoConnection::Connect(env.echo_server, env.echo_options).Close();
      } catch (const EchoError&) {
        // The task that needs the server reports it, with its own words.
      }
    }
    std::vector<char> in(kReadChunk);
    size_t len = 0;
    std::string out;
    TaskChunk chunk;
    std::vector<int64_t> values;
    std::vector<TraceSpan> spans;
    for (;;) {
      const FrameSplit s = SplitFrame(std::string_view(in.data(), len));
      if (s.status == FrameStatus::kIncomplete) {
        if (in.size() < std::max(s.frame_bytes, len + 1)) in.resize(std::max(s.frame_bytes, len + kReadChunk));
        const ssize_t n = ::read(task_fd, in.data() + len, in.size() - len);
        if (n == 0) ::_exit(len == 0 ? 0 : kWorkerExitTruncated);
        if (n < 0) {
          if (errno == EINTR) continue;
          ::_exit(kWorkerExitIo);
        }
        len += static_cast<size_t>(n);
        continue;
      }
      if (const std::string err = CheckTasksFrame(s, &chunk); !err.empty()) {
        SendErrorAndExit(result_fd, "worker pid " + std::to_string(::getpid()) + ": " + err, kWorkerExitProtocol);
      }
      RunChunk(chunk, env, result_fd, &values, &spans);
      out.clear();
      if ((chunk.flags & kTraceFlag) != 0) AppendTraceFrame(spans, &out);
      ResultFrameWriter w = StartResultsFrame(&out);
      for (size_t i = 0; i < values.size(); ++i) w.Add(chunk.items[i].index, values[i], chunk.items[i].payload);
      w.Finish();
      if (!WriteAll(result_fd, out)) ::_exit(kWorkerExitIo);
      std::memmove(in.data(), in.data() + s.frame_bytes, len - s.frame_bytes);
      len -= s.frame_bytes;
    }
  } catch (...) {
    ::_exit(kWorkerExitException);
  }
}

ForkedWorker ForkPoolWorker(int index, int workers, const TaskEnv& env, std::span<const int> parent_fds) {
  const std::string which = " of worker " + std::to_string(index) + ")";
  Pipe tasks = Pipe::Open("ProcessPool: pipe2 (task pipe" + which);
  Pipe results = Pipe::Open("ProcessPool: pipe2 (result pipe" + which);
  // Before the fork, so nothing can fail between the fork and the caller recording the child. The
  // flag belongs to the parent's ends (their own open file descriptions), which the child closes.
  SetNonBlocking(tasks.write_end.get(), "a task pipe");
  SetNonBlocking(results.read_end.get(), "a result pipe");
  FlushBeforeFork();
  const pid_t pid = ::fork();
  if (pid < 0) {
    ThrowErrno("ProcessPool: fork (worker " + std::to_string(index) + " of " + std::to_string(workers) + ")");
  }
  if (pid == 0) {
    tasks.write_end.Reset();
    results.read_end.Reset();
    // A worker never returns, so its copies of the owners are never destroyed.
    for (const int fd : parent_fds) ::close(fd);
    RunPoolWorker(tasks.read_end.get(), results.write_end.get(), env);
  }
  return {pid, std::move(tasks.write_end), std::move(results.read_end)};
}

}  // namespace concbench
