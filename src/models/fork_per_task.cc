#include "models/fork_per_task.h"

#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>

#include "models/frame.h"
#include "models/pool_worker.h"
#include "workload/blocking.h"
#include "sys/deadline.h"
#include "sys/errno_error.h"
#include "sys/fd_io.h"
#include "sys/fork.h"
#include "sys/pipe.h"
#include "sys/reaper.h"
#include "sys/unique_fd.h"
#include "sys/wait_status.h"

namespace concbench {
namespace {

using Clock = std::chrono::steady_clock;

struct Child {
  pid_t pid = 0;  // 0 once reaped
  Clock::time_point forked{};
  UniqueFd fd;    // the read end of its result pipe, non-blocking; closed once the result is in
  std::vector<char> in;
  size_t len = 0;
};

// Forks the child of task `i` into *kids; the child runs the task, sends one results frame and
// exits. The child is recorded before anything else can fail, so it is always reaped.
void ForkTask(const TaskSpec& spec, const TaskEnv& env, std::span<const int64_t> inputs, size_t i,
              std::vector<Child>* kids, bool traced) {
  Pipe p = Pipe::Open("RunForkPerTask: pipe2 (task " + std::to_string(i) + ")");
  FlushBeforeFork();
  const pid_t pid = ::fork();
  if (pid < 0) {
    ThrowErrno("RunForkPerTask: fork (task " + std::to_string(i) + " of " + std::to_string(inputs.size()) + ")");
  }
  if (pid == 0) {
    p.read_end.Reset();
    // The earlier children's result pipes; the child never returns, so its copies of the owners
    // are never destroyed.
    for (const Child& k : *kids) ::close(k.fd.get());
    std::string thrown;
    try {
      std::vector<TraceSpan> spans;
      SpanRecorder recorder(&spans);
      const int64_t value = RunTaskBlocking(spec, inputs[i], env, traced ? &recorder : nullptr, static_cast<int64_t>(i));
      std::string out;
      if (traced) AppendTraceFrame(spans, &out);
      ResultFrameWriter w = StartResultsFrame(&out);
      w.Add(i, value, {});
      w.Finish();
      ::_exit(WriteAll(p.write_end.get(), out) ? 0 : kWorkerExitIo);
    } catch (const std::exception& e) {
      thrown = e.what();
    } catch (...) {
      thrown = "an exception that is not a std::exception";
    }
    // As a pool worker does: the task's own words, then its exit status.
    std::string out;
    AppendErrorFrame("task " + std::to_string(i) + " (input " + std::to_string(inputs[i]) + ") threw: " + thrown, &out);
    WriteAll(p.write_end.get(), out);
    ::_exit(kWorkerExitTaskThrew);
  }
  Child& c = kids->emplace_back();
  c.pid = pid;
  c.forked = Clock::now();
  c.fd = std::move(p.read_end);
  SetNonBlocking(c.fd.get(), "a result pipe");
}

[[noreturn]] void ChildDied(Child& c, size_t i, std::optional<int> st, const std::string& when) {
  const pid_t pid = std::exchange(c.pid, 0);
  const std::string what = "RunForkPerTask: the process of task " + std::to_string(i) + " (pid " +
                           std::to_string(pid) + ") " +
                           (st ? DescribeWaitStatus(*st) : std::string("could not be reaped")) + when;
  throw WorkerDied(static_cast<int>(i), pid, st.value_or(-1), what);
}

// Reads what child `i` sent; returns true once its whole result is in (its pipe is then closed).
bool ReadResult(Child& c, size_t i, ResultChunk* chunk, int64_t* result, IpcStats* stats,
                std::vector<WorkerSpan>* trace) {
  if (c.in.size() - c.len < 256) c.in.resize(c.len + 256);
  const ssize_t r = ::read(c.fd.get(), c.in.data() + c.len, c.in.size() - c.len);
  if (r < 0) {
    if (errno == EINTR || errno == EAGAIN) return false;
    ThrowErrno("RunForkPerTask: read (task " + std::to_string(i) + ")");
  }
  if (r == 0) ChildDied(c, i, ReapOrKill(c.pid, kWorkerExitTimeout), " before sending its result");
  c.len += static_cast<size_t>(r);
  FrameSplit s = SplitFrame(std::string_view(c.in.data(), c.len));
  // A traced child sends its spans first, in a trace frame of their own.
  std::vector<TraceSpan> spans;
  if (trace != nullptr && s.status == FrameStatus::kComplete && s.type == FrameType::kTrace) {
    if (auto e = DecodeTrace(s.content, &spans)) throw WorkerError("RunForkPerTask: task " + std::to_string(i) + ": " + *e);
    for (const TraceSpan& sp : spans) trace->push_back({c.pid, sp, nullptr});
    c.in.erase(c.in.begin(), c.in.begin() + static_cast<std::ptrdiff_t>(s.frame_bytes));
    c.len -= s.frame_bytes;
    s = SplitFrame(std::string_view(c.in.data(), c.len));
  }
  if (s.status == FrameStatus::kIncomplete) return false;
  if (s.status == FrameStatus::kComplete && s.type == FrameType::kError) {
    std::string message;
    if (auto e = DecodeErrorMessage(s.content, &message)) message = "a malformed error frame: " + *e;
    const pid_t pid = std::exchange(c.pid, 0);
    ReapOrKill(pid, kWorkerExitTimeout);
    throw WorkerError("RunForkPerTask: the process of task " + std::to_string(i) + " (pid " + std::to_string(pid) +
                      ") reported: " + message);
  }
  std::string err;
  if (s.status == FrameStatus::kMalformed) {
    err = s.error;
  } else if (s.type != FrameType::kResults || s.frame_bytes != c.len) {
    err = "unexpected frame";
  } else if (auto e = DecodeResults(s.content, chunk)) {
    err = *e;
  } else if (chunk->items.size() != 1 || chunk->items[0].index != i) {
    err = "results for the wrong task";
  }
  if (!err.empty()) throw WorkerError("RunForkPerTask: task " + std::to_string(i) + ": " + err);
  *result = chunk->items[0].value;
  stats->bytes += static_cast<int64_t>(s.frame_bytes);
  stats->messages += 1;
  c.fd.Reset();
  return true;
}

// Names every child still without a result and throws WorkerStalled (the caller kills them).
[[noreturn]] void Stalled(const std::vector<Child>& kids, Clock::time_point last_result, Clock::time_point now) {
  std::vector<SilentChild> silent;
  for (size_t i = 0; i < kids.size(); ++i) {
    if (!kids[i].fd.valid()) continue;
    silent.push_back({.worker = static_cast<int>(i), .name = "task " + std::to_string(i), .pid = kids[i].pid,
                      .silent = now - kids[i].forked});
  }
  throw StallError("fork per task", "result", now - last_result, silent, "every child killed and reaped");
}

// Waits for every child's result, in whatever order they come, at most `stall_timeout` (0: no
// limit) for each next one.
void CollectResults(std::vector<Child>& kids, std::chrono::milliseconds stall_timeout,
                    std::vector<int64_t>* results, IpcStats* stats, std::vector<WorkerSpan>* trace) {
  size_t remaining = kids.size();
  std::vector<pollfd> fds;
  std::vector<size_t> owner;
  ResultChunk chunk;
  Clock::time_point last_result = Clock::now();
  while (remaining > 0) {
    const Clock::time_point deadline = DeadlineAfter(last_result, stall_timeout);
    const Clock::time_point now = Clock::now();
    if (now >= deadline) Stalled(kids, last_result, now);
    fds.clear();
    owner.clear();
    for (size_t i = 0; i < kids.size(); ++i) {
      if (kids[i].fd.valid()) {
        fds.push_back({kids[i].fd.get(), POLLIN, 0});
        owner.push_back(i);
      }
    }
    if (::poll(fds.data(), fds.size(), PollTimeoutMs(deadline, now)) < 0) {
      if (errno == EINTR) continue;
      ThrowErrno("RunForkPerTask: poll");
    }
    for (size_t k = 0; k < fds.size(); ++k) {
      const size_t i = owner[k];
      if (fds[k].revents != 0 && ReadResult(kids[i], i, &chunk, &(*results)[i], stats, trace)) {
        --remaining;
        last_result = Clock::now();
      }
    }
  }
}

}  // namespace

std::vector<int64_t> RunForkPerTask(const TaskSpec& spec, std::span<const int64_t> inputs, const TaskEnv& env,
                                    IpcStats* ipc, std::chrono::milliseconds stall_timeout,
                                    std::vector<WorkerSpan>* trace) {
  if (auto err = ValidateSpec(spec)) throw std::invalid_argument("RunForkPerTask: " + *err);
  CheckTimeLimit(stall_timeout, "RunForkPerTask: stall_timeout");
  IgnoreSigpipe();
  const size_t n = inputs.size();
  std::vector<Child> kids;
  kids.reserve(n);
  std::vector<int64_t> results(n, 0);
  IpcStats stats;
  try {
    for (size_t i = 0; i < n; ++i) {
      ForkTask(spec, env, inputs, i, &kids, trace != nullptr);
      if (trace != nullptr) {
        const uint64_t now = MonotonicNs();
        trace->push_back({kids.back().pid, {i, kTaskSpan, now, now}, "forked"});
      }
    }
    CollectResults(kids, stall_timeout, &results, &stats, trace);
    for (size_t i = 0; i < n; ++i) {
      const std::optional<int> st = ReapOrKill(kids[i].pid, kWorkerShutdownGrace);
      if (!st || !WIFEXITED(*st) || WEXITSTATUS(*st) != 0) ChildDied(kids[i], i, st, " after sending its result");
      kids[i].pid = 0;
    }
  } catch (...) {
    std::vector<pid_t> pids;
    for (Child& c : kids) {
      c.fd.Reset();
      if (c.pid > 0) pids.push_back(std::exchange(c.pid, 0));
    }
    ReapAll(pids, std::chrono::steady_clock::time_point::min());  // a deadline past: kill at once
    throw;
  }
  if (ipc != nullptr) *ipc = stats;
  return results;
}

}  // namespace concbench
