#include "models/process_pool.h"

#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <exception>
#include <optional>
#include <stdexcept>

#include "models/pool_worker.h"
#include "sys/deadline.h"
#include "sys/errno_error.h"
#include "sys/fd_io.h"
#include "sys/fork.h"
#include "sys/pipe.h"
#include "sys/reaper.h"
#include "sys/wait_status.h"
#include "workload/blocking.h"

namespace concbench {
namespace {

using Clock = std::chrono::steady_clock;

constexpr size_t kReadChunk = 64 << 10;

// Drops the first `bytes` of the bytes received so far, in[0, *len).
void DropFront(std::vector<char>& in, size_t* len, size_t bytes) {
  std::memmove(in.data(), in.data() + bytes, *len - bytes);
  *len -= bytes;
}

std::string WorkerName(int index, pid_t pid) {
  return "worker " + std::to_string(index) + " (pid " + std::to_string(pid) + ")";
}

// "task [7, 8)" or "tasks [7, 8), [9, 12)": the chunks a worker holds, the running one first.
std::string ChunksText(const std::deque<std::pair<size_t, size_t>>& chunks) {
  const bool one = chunks.size() == 1 && chunks[0].second - chunks[0].first == 1;
  std::string s = one ? "task " : "tasks ";
  for (size_t k = 0; k < chunks.size(); ++k) {
    // Appended piece by piece: GCC 12 gives a false -Wrestrict for "[" + std::to_string(...).
    s.append(k > 0 ? ", [" : "[").append(std::to_string(chunks[k].first));
    s.append(", ").append(std::to_string(chunks[k].second)).append(")");
  }
  return s;
}

}  // namespace

// Results are tagged with their index, so chunks may come back in any order and each lands in
// its place; the workers hold at most max_inflight_ chunks each, the rest wait for the first
// worker whose results come back, which balances the load the way ProcessPoolExecutor does.
struct ProcessPool::MapRun {
  const TaskSpec& spec;
  std::span<const int64_t> inputs;
  std::span<const std::string> payloads;
  MapResult* out;
  size_t chunk = 1;   // inputs per chunk (the last may have fewer)
  size_t chunks = 0;  // chunks in all
  size_t next = 0;    // the next chunk to send
  size_t done = 0;    // chunks whose results are in
  Clock::time_point now = Clock::now();  // the clock as last read (after the last poll)
  Clock::time_point last_result = now;   // when the last results frame (from any worker) came in
  std::vector<pollfd> fds = {};
  std::vector<std::pair<size_t, bool>> owner = {};  // of fds[k]: worker index, is the task pipe
};

ProcessPool::ProcessPool(int workers, int queued_per_worker) { Start(workers, queued_per_worker); }

ProcessPool::ProcessPool(int workers, TaskEnv env, int queued_per_worker) : env_(env) {
  Start(workers, queued_per_worker);
}

void ProcessPool::Start(int workers, int queued_per_worker) {
  if (workers < 1) throw std::invalid_argument("ProcessPool: workers must be >= 1, got " + std::to_string(workers));
  if (queued_per_worker < 0) {
    throw std::invalid_argument("ProcessPool: queued_per_worker must be >= 0, got " + std::to_string(queued_per_worker));
  }
  max_inflight_ = static_cast<size_t>(queued_per_worker) + 1;
  IgnoreSigpipe();
  workers_.reserve(static_cast<size_t>(workers));  // no reallocation between fork and push_back
  try {
    for (int i = 0; i < workers; ++i) StartWorker(i, workers);
  } catch (...) {
    Break("construction failed");
    throw;
  }
}

void ProcessPool::StartWorker(int index, int workers) {
  std::vector<int> parent_fds;
  for (const Worker& w : workers_) parent_fds.insert(parent_fds.end(), {w.task_fd.get(), w.result_fd.get()});
  ForkedWorker f = ForkPoolWorker(index, workers, env_, parent_fds);
  Worker& w = workers_.emplace_back();
  w.pid = f.pid;
  w.task_fd = std::move(f.task_fd);
  w.result_fd = std::move(f.result_fd);
}

ProcessPool::~ProcessPool() { Shutdown(); }

pid_t ProcessPool::pid(int worker) const { return workers_.at(static_cast<size_t>(worker)).pid; }

void ProcessPool::SetStallTimeout(std::chrono::milliseconds timeout) {
  CheckTimeLimit(timeout, "ProcessPool::SetStallTimeout: the timeout");
  stall_timeout_ = timeout;
}

WorkerUsage ProcessPool::worker_usage() const {
  WorkerUsage u;
  uint64_t ns = 0;
  for (const Worker& w : workers_) {
    ns += w.cpu_ns;
    u.ctx_switches += static_cast<int64_t>(w.ctx_switches);
  }
  u.cpu_seconds = static_cast<double>(ns) / 1e9;
  return u;
}

void ProcessPool::CloseAndReap(std::chrono::steady_clock::time_point deadline) {
  // Closing both ends first: an idle worker reads end-of-file, a worker blocked writing results
  // gets EPIPE; either way it exits by itself.
  std::vector<pid_t> pids;
  for (Worker& w : workers_) {
    w.task_fd.Reset();
    w.result_fd.Reset();
    if (w.pid > 0) pids.push_back(std::exchange(w.pid, 0));
  }
  ReapAll(pids, deadline);
}

void ProcessPool::Shutdown() {
  CloseAndReap(std::chrono::steady_clock::now() + kWorkerShutdownGrace);
  if (broken_reason_.empty()) broken_reason_ = "the pool was shut down";
}

void ProcessPool::Break(const std::string& reason) {
  CloseAndReap(std::chrono::steady_clock::time_point::min());  // a deadline past: kill at once
  if (broken_reason_.empty()) broken_reason_ = reason;
}

void ProcessPool::WorkerGone(int index) {
  Worker& w = workers_[static_cast<size_t>(index)];
  const pid_t pid = std::exchange(w.pid, 0);
  const std::optional<int> st = ReapOrKill(pid, kWorkerExitTimeout);
  // A worker whose task threw sent an error frame and exited; the parent may notice the
  // exit first (EPIPE on its next chunk). The message says more than the exit status.
  if (const std::string reported = PendingErrorMessage(w); !reported.empty()) {
    const std::string what = "ProcessPool: " + WorkerName(index, pid) + " reported: " + reported;
    Break(what);
    throw WorkerError(what);
  }
  std::string what = "ProcessPool: " + WorkerName(index, pid) + " " +
                     (st ? DescribeWaitStatus(*st) : std::string("closed its pipe but could not be reaped"));
  what += !w.inflight.empty() ? " while running tasks [" + std::to_string(w.inflight.front().first) + ", " +
                                     std::to_string(w.inflight.front().second) + ")"
                               : std::string(" while idle");
  Break(what);
  throw WorkerDied(index, pid, st.value_or(-1), what);
}

void ProcessPool::Stalled(const MapRun& run) {
  std::vector<SilentChild> silent;
  for (size_t i = 0; i < workers_.size(); ++i) {
    const Worker& w = workers_[i];
    if (w.inflight.empty()) continue;
    silent.push_back({.worker = static_cast<int>(i), .name = "worker " + std::to_string(i), .pid = w.pid,
                      .silent = run.now - w.silent_since, .holding = ChunksText(w.inflight)});
  }
  // The states are read (in StallError) before Break kills the workers.
  const WorkerStalled e =
      StallError("process pool", "result", run.now - run.last_result, silent, "every worker killed and reaped");
  Break(e.what());
  throw e;
}

std::string ProcessPool::PendingErrorMessage(Worker& w) {
  if (!w.result_fd.valid()) return "";
  for (;;) {
    const FrameSplit s = SplitFrame(std::string_view(w.in.data(), w.in_len));
    if (s.status == FrameStatus::kMalformed) return "";
    if (s.status == FrameStatus::kComplete) {
      if (s.type == FrameType::kError) {
        std::string msg;
        return DecodeErrorMessage(s.content, &msg) ? "" : msg;
      }
      DropFront(w.in, &w.in_len, s.frame_bytes);
      continue;
    }
    const size_t want = std::max(s.frame_bytes, w.in_len + kReadChunk);
    if (w.in.size() < want) w.in.resize(want);
    const ssize_t n = ::read(w.result_fd.get(), w.in.data() + w.in_len, w.in.size() - w.in_len);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return "";  // end-of-file, empty, or an error: no error frame
    w.in_len += static_cast<size_t>(n);
  }
}

bool ProcessPool::FlushOut(Worker& w) {
  while (w.out_off < w.out.size()) {
    const ssize_t n = ::write(w.task_fd.get(), w.out.data() + w.out_off, w.out.size() - w.out_off);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return true;  // poll for POLLOUT
      if (errno == EPIPE) return false;
      ThrowErrno("ProcessPool: write to worker (pid " + std::to_string(w.pid) + ")");
    }
    w.out_off += static_cast<size_t>(n);
  }
  return true;
}

bool ProcessPool::ReadAvailable(Worker& w) {
  // Reads until the frame being received is complete or the pipe is empty: a large frame then
  // costs one poll per pipe-full, not one per page the worker managed to write.
  for (;;) {
    const FrameSplit s = SplitFrame(std::string_view(w.in.data(), w.in_len));
    if (s.status != FrameStatus::kIncomplete) return true;
    const size_t want = std::max(s.frame_bytes, w.in_len + kReadChunk);
    if (w.in.size() < want) w.in.resize(std::max(w.in.size() * 2, want));
    const ssize_t n = ::read(w.result_fd.get(), w.in.data() + w.in_len, w.in.size() - w.in_len);
    if (n > 0) {
      w.in_len += static_cast<size_t>(n);
      continue;
    }
    if (n == 0) return false;
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return true;
    ThrowErrno("ProcessPool: read from worker (pid " + std::to_string(w.pid) + ")");
  }
}

std::vector<int64_t> ProcessPool::Map(const TaskSpec& spec, std::span<const int64_t> inputs, int64_t chunksize) {
  MapResult r;
  MapImpl(spec, inputs, {}, chunksize, &r);
  return std::move(r.values);
}

MapResult ProcessPool::MapWithPayloads(const TaskSpec& spec, std::span<const int64_t> inputs,
                                       std::span<const std::string> payloads, int64_t chunksize) {
  MapResult r;
  MapImpl(spec, inputs, payloads, chunksize, &r);
  return r;
}

void ProcessPool::MapWithPayloads(const TaskSpec& spec, std::span<const int64_t> inputs,
                                  std::span<const std::string> payloads, int64_t chunksize, MapResult* out) {
  MapImpl(spec, inputs, payloads, chunksize, out);
}

void ProcessPool::MapImpl(const TaskSpec& spec, std::span<const int64_t> inputs,
                          std::span<const std::string> payloads, int64_t chunksize, MapResult* out) {
  // Arguments are checked before anything is sent, so a bad call leaves the pool usable.
  CheckMapArguments(spec, inputs, payloads, chunksize);
  const size_t n = inputs.size();
  MapRun run{.spec = spec, .inputs = inputs, .payloads = payloads, .out = out};
  run.chunk = static_cast<size_t>(std::min<int64_t>(chunksize, static_cast<int64_t>(std::max<size_t>(n, 1))));
  run.chunks = (n + run.chunk - 1) / run.chunk;
  CheckFrameLimits(run, chunksize);
  out->values.assign(n, 0);
  out->payloads.resize(payloads.empty() ? 0 : n);  // existing strings keep their buffers
  if (n == 0) return;
  try {
    // Round by round, so the first chunks go one per worker before any worker gets a second.
    for (size_t round = 0; round < max_inflight_; ++round) {
      for (size_t i = 0; i < workers_.size(); ++i) {
        if (!Dispatch(workers_[i], run)) WorkerGone(static_cast<int>(i));
      }
    }
    while (run.done < run.chunks) PollOnce(run);
  } catch (const WorkerDied&) {
    throw;  // the pool is already broken
  } catch (const WorkerError&) {
    throw;
  } catch (const WorkerStalled&) {
    throw;
  } catch (const std::exception& e) {
    Break(std::string("a Map failed: ") + e.what());
    throw;
  }
}

void ProcessPool::CheckMapArguments(const TaskSpec& spec, std::span<const int64_t> inputs,
                                    std::span<const std::string> payloads, int64_t chunksize) const {
  if (broken()) throw std::logic_error("ProcessPool::Map: the pool cannot be used: " + broken_reason_);
  if (chunksize < 1) throw std::invalid_argument("ProcessPool::Map: chunksize must be >= 1, got " + std::to_string(chunksize));
  if (auto err = ValidateSpec(spec)) throw std::invalid_argument("ProcessPool::Map: " + *err);
  if (!payloads.empty() && payloads.size() != inputs.size()) {
    throw std::invalid_argument("ProcessPool::Map: " + std::to_string(payloads.size()) + " payloads for " +
                                std::to_string(inputs.size()) + " inputs");
  }
}

void ProcessPool::CheckFrameLimits(const MapRun& run, int64_t chunksize) {
  if (run.payloads.empty()) {
    if (ResultFrameBytes(run.chunk, 0) - kFrameHeaderBytes > kMaxFrameBodyBytes) {
      throw std::length_error("ProcessPool::Map: chunksize " + std::to_string(chunksize) + " exceeds the frame limit");
    }
    return;
  }
  for (size_t c = 0; c < run.chunks; ++c) {
    size_t bytes = 0;
    const size_t end = std::min(run.inputs.size(), (c + 1) * run.chunk);
    for (size_t i = c * run.chunk; i < end; ++i) bytes += run.payloads[i].size();
    const size_t frame = ResultFrameBytes(end - c * run.chunk, bytes);
    if (frame - kFrameHeaderBytes > kMaxFrameBodyBytes) {
      throw std::length_error("ProcessPool::Map: chunk " + std::to_string(c) + " needs a frame of " +
                              std::to_string(frame) + " bytes, over the limit of " +
                              std::to_string(kMaxFrameBodyBytes) + "; use a smaller chunksize");
    }
  }
}

bool ProcessPool::Dispatch(Worker& w, MapRun& run) {
  if (run.next >= run.chunks || w.inflight.size() >= max_inflight_) return true;
  const size_t begin = run.next * run.chunk, end = std::min(run.inputs.size(), begin + run.chunk);
  ++run.next;
  if (w.inflight.empty()) w.silent_since = run.now;
  if (w.out_off == w.out.size()) {
    w.out.clear();
    w.out_off = 0;
  }
  const size_t before = w.out.size();
  TaskFrameWriter fw(&w.out, run.spec, trace_ != nullptr ? kTraceFlag : 0);
  for (size_t i = begin; i < end; ++i) {
    fw.Add(i, run.inputs[i], run.payloads.empty() ? std::string_view() : std::string_view(run.payloads[i]));
  }
  fw.Finish();
  w.inflight.emplace_back(begin, end);
  if (trace_ != nullptr) {
    const uint64_t now = MonotonicNs();
    trace_->push_back({w.pid, {begin, kTaskSpan, now, now}, "chunk sent"});
  }
  ipc_.bytes += static_cast<int64_t>(w.out.size() - before);
  ipc_.messages += 1;
  return FlushOut(w);
}

void ProcessPool::PollOnce(MapRun& run) {
  run.fds.clear();
  run.owner.clear();
  for (size_t i = 0; i < workers_.size(); ++i) {
    Worker& w = workers_[i];
    run.fds.push_back({w.result_fd.get(), POLLIN, 0});
    run.owner.emplace_back(i, false);
    if (w.out_off < w.out.size()) {
      run.fds.push_back({w.task_fd.get(), POLLOUT, 0});
      run.owner.emplace_back(i, true);
    }
  }
  // Checked before every poll, whatever woke the last one: only a results frame moves the
  // deadline, so a trickle of partial frames or writable task pipes cannot postpone it.
  const Clock::time_point deadline = DeadlineAfter(run.last_result, stall_timeout_);
  run.now = Clock::now();
  if (run.now >= deadline) Stalled(run);
  const int ready = ::poll(run.fds.data(), run.fds.size(), PollTimeoutMs(deadline, run.now));
  run.now = Clock::now();
  if (ready < 0) {
    if (errno == EINTR) return;
    ThrowErrno("ProcessPool: poll");
  }
  for (size_t k = 0; k < run.fds.size(); ++k) {
    if (run.fds[k].revents == 0) continue;
    const auto [i, is_task_pipe] = run.owner[k];
    if (!is_task_pipe) {
      ReceiveResults(i, run);
    } else if (!FlushOut(workers_[i])) {
      WorkerGone(static_cast<int>(i));
    }
  }
}

void ProcessPool::ReceiveResults(size_t i, MapRun& run) {
  Worker& w = workers_[i];
  const bool open = ReadAvailable(w);
  for (;;) {
    const FrameSplit s = SplitFrame(std::string_view(w.in.data(), w.in_len));
    if (s.status == FrameStatus::kIncomplete) break;
    if (s.status == FrameStatus::kComplete && s.type == FrameType::kTrace && trace_ != nullptr) {
      if (auto e = DecodeTrace(s.content, &trace_scratch_)) {
        const std::string what = "ProcessPool: " + WorkerName(static_cast<int>(i), w.pid) + " sent a malformed frame: " + *e;
        Break(what);
        throw WorkerError(what);
      }
      for (const TraceSpan& sp : trace_scratch_) trace_->push_back({w.pid, sp, nullptr});
      DropFront(w.in, &w.in_len, s.frame_bytes);
      continue;
    }
    if (const std::string err = CheckResultFrame(w, s); !err.empty()) {
      const std::string what = "ProcessPool: " + WorkerName(static_cast<int>(i), w.pid) + " " + err;
      Break(what);
      throw WorkerError(what);
    }
    StoreResults(w, s.frame_bytes, run);
    if (!Dispatch(w, run)) WorkerGone(static_cast<int>(i));
  }
  if (!open) WorkerGone(static_cast<int>(i));
}

std::string ProcessPool::CheckResultFrame(const Worker& w, const FrameSplit& s) {
  if (s.status == FrameStatus::kMalformed) return "sent a malformed frame: " + s.error;
  if (s.type == FrameType::kError) {
    std::string msg;
    return DecodeErrorMessage(s.content, &msg) ? "sent a malformed error frame" : "reported: " + msg;
  }
  if (s.type != FrameType::kResults) {
    return "sent a frame of unexpected type " + std::to_string(static_cast<int>(s.type));
  }
  if (w.inflight.empty()) return "sent results while idle";
  if (auto e = DecodeResults(s.content, &scratch_)) return "sent a malformed frame: " + *e;
  const auto [first, end] = w.inflight.front();
  if (scratch_.items.size() != end - first) {
    return "returned " + std::to_string(scratch_.items.size()) + " results for a chunk of " +
           std::to_string(end - first);
  }
  for (size_t j = 0; j < scratch_.items.size(); ++j) {
    if (scratch_.items[j].index != first + j) {
      return "returned index " + std::to_string(scratch_.items[j].index) + " where " + std::to_string(first + j) +
             " was expected";
    }
  }
  return "";
}

void ProcessPool::StoreResults(Worker& w, size_t frame_bytes, MapRun& run) {
  const size_t first = w.inflight.front().first;
  if (trace_ != nullptr) {
    const uint64_t now = MonotonicNs();
    trace_->push_back({w.pid, {first, kTaskSpan, now, now}, "results in"});
  }
  for (size_t j = 0; j < scratch_.items.size(); ++j) {
    run.out->values[first + j] = scratch_.items[j].value;
    // A swap, not a move: the old buffer goes back into the scratch chunk for the next decode,
    // so a warm pool allocates nothing per payload.
    if (!run.payloads.empty()) std::swap(run.out->payloads[first + j], scratch_.items[j].payload);
  }
  w.cpu_ns = scratch_.cpu_ns;
  w.ctx_switches = scratch_.ctx_switches;
  ipc_.bytes += static_cast<int64_t>(frame_bytes);
  ipc_.messages += 1;
  DropFront(w.in, &w.in_len, frame_bytes);
  w.inflight.pop_front();
  w.silent_since = run.now;
  run.last_result = run.now;
  ++run.done;
}

}  // namespace concbench
