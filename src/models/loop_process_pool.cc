#include "models/loop_process_pool.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <utility>

#include "models/frame.h"
#include "workload/blocking.h"
#include "sys/errno_error.h"
#include "sys/fork.h"
#include "sys/reaper.h"
#include "sys/wait_status.h"

namespace concbench {
namespace {

constexpr size_t kReadChunk = 4096;

std::string WorkerName(size_t index, pid_t pid) {
  return "worker " + std::to_string(index) + " (pid " + std::to_string(pid) + ")";
}

}  // namespace

LoopProcessPool::LoopProcessPool(UvLoop& loop, int workers, const TaskEnv& env) : loop_(loop) {
  if (workers < 1) throw std::invalid_argument("LoopProcessPool: workers must be >= 1, got " + std::to_string(workers));
  IgnoreSigpipe();
  try {
    for (int i = 0; i < workers; ++i) {
      std::vector<int> parent_fds;
      for (const auto& w : workers_) parent_fds.insert(parent_fds.end(), {w->proc.task_fd.get(), w->proc.result_fd.get()});
      auto w = std::make_unique<Worker>();
      w->pool = this;
      w->proc = ForkPoolWorker(i, workers, env, parent_fds);
      workers_.push_back(std::move(w));
      Worker& added = *workers_.back();
      UvCheck(uv_poll_init(loop_.get(), &added.poll, added.proc.result_fd.get()), "uv_poll_init");
      added.poll_open = true;
      added.poll.data = &added;
    }
  } catch (...) {
    CloseAndReap(std::chrono::steady_clock::time_point::min());
    throw;
  }
}

LoopProcessPool::~LoopProcessPool() { CloseAndReap(std::chrono::steady_clock::now() + kWorkerShutdownGrace); }

void LoopProcessPool::CloseAndReap(std::chrono::steady_clock::time_point deadline) {
  bool closing = false;
  for (auto& w : workers_) {
    if (!w->poll_open) continue;
    uv_close(reinterpret_cast<uv_handle_t*>(&w->poll), nullptr);
    w->poll_open = false;
    closing = true;
  }
  if (closing) uv_run(loop_.get(), UV_RUN_NOWAIT);  // the close callbacks: libuv lets go of the handles
  // Closing the task pipe ends an idle worker (end-of-file); a busy one gets EPIPE on its results.
  std::vector<pid_t> pids;
  for (auto& w : workers_) {
    w->proc.task_fd.Reset();
    w->proc.result_fd.Reset();
    if (w->proc.pid > 0) pids.push_back(std::exchange(w->proc.pid, 0));
  }
  ReapAll(pids, deadline);
}

void LoopProcessPool::Submit(const Step& step, int64_t input, int64_t task, LoopComputeOwner* owner,
                             size_t step_index) {
  if (!broken_.empty()) throw std::logic_error("LoopProcessPool: the pool cannot be used: " + broken_);
  Queued q{TaskSpec{{step}}, input, task, owner, static_cast<uint16_t>(step_index)};
  if (auto err = ValidateSpec(q.step)) throw std::invalid_argument("LoopProcessPool::Submit: " + *err);
  for (auto& w : workers_) {
    if (w->task < 0) {
      Send(*w, std::move(q));
      return;
    }
  }
  queue_.push_back(std::move(q));
}

void LoopProcessPool::Send(Worker& w, Queued q) {
  std::string out;
  TaskFrameWriter fw(&out, q.step, trace_ != nullptr ? kTraceFlag : 0);
  fw.Add(static_cast<uint64_t>(q.task), q.input, {});
  fw.Finish();
  // The worker is idle, so its pipe is empty and a frame this small goes in whole.
  const ssize_t n = ::write(w.proc.task_fd.get(), out.data(), out.size());
  if (n != static_cast<ssize_t>(out.size())) {
    ThrowErrno("LoopProcessPool: write to " + WorkerName(static_cast<size_t>(&w - workers_.front().get()), w.proc.pid));
  }
  ipc_.bytes += static_cast<int64_t>(out.size());
  ipc_.messages += 1;
  w.task = q.task;
  w.step = q.step_index;
  w.owner = q.owner;
  if (trace_ != nullptr) {
    const uint64_t now = MonotonicNs();
    trace_->push_back({w.proc.pid, {static_cast<uint64_t>(q.task), kTaskSpan, now, now}, "step sent"});
  }
  UvCheck(uv_poll_start(&w.poll, UV_READABLE | UV_DISCONNECT, OnReadable), "uv_poll_start");
}

void LoopProcessPool::OnReadable(uv_poll_t* poll, int status, int) {
  auto* w = static_cast<Worker*>(poll->data);
  LoopProcessPool* pool = w->pool;
  if (status < 0) {
    pool->Fail(*w, std::make_exception_ptr(UvError("uv_poll", status)));
    return;
  }
  try {
    pool->Receive(*w);
  } catch (...) {
    pool->Fail(*w, std::current_exception());
  }
}

void LoopProcessPool::Receive(Worker& w) {
  size_t index = 0;
  while (workers_[index].get() != &w) ++index;
  bool eof = false;
  for (;;) {
    if (w.in.size() - w.in_len < kReadChunk) w.in.resize(w.in_len + kReadChunk);
    const ssize_t n = ::read(w.proc.result_fd.get(), w.in.data() + w.in_len, w.in.size() - w.in_len);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    if (n < 0) ThrowErrno("LoopProcessPool: read from " + WorkerName(index, w.proc.pid));
    if (n == 0) {
      eof = true;  // the frames before it first: an error frame says more than the exit status
      break;
    }
    w.in_len += static_cast<size_t>(n);
  }
  for (;;) {
    const FrameSplit s = SplitFrame(std::string_view(w.in.data(), w.in_len));
    if (s.status == FrameStatus::kIncomplete && eof) {
      const pid_t pid = std::exchange(w.proc.pid, 0);
      const std::optional<int> st = ReapOrKill(pid, kWorkerExitTimeout);
      throw WorkerDied(static_cast<int>(index), pid, st.value_or(-1),
                       "LoopProcessPool: " + WorkerName(index, pid) + " " +
                           (st ? DescribeWaitStatus(*st) : std::string("closed its pipe but could not be reaped")) +
                           " while running task " + std::to_string(w.task));
    }
    if (s.status == FrameStatus::kIncomplete) return;
    const std::string who = "LoopProcessPool: " + WorkerName(index, w.proc.pid) + " ";
    if (s.status == FrameStatus::kMalformed) throw WorkerError(who + "sent a malformed frame: " + s.error);
    if (s.type == FrameType::kError) {
      std::string msg;
      throw WorkerError(who + (DecodeErrorMessage(s.content, &msg) ? "sent a malformed error frame" : "reported: " + msg));
    }
    if (s.type == FrameType::kTrace && trace_ != nullptr) {
      std::vector<TraceSpan> spans;
      if (auto e = DecodeTrace(s.content, &spans)) throw WorkerError(who + "sent a malformed frame: " + *e);
      // The worker ran one step of the task: its "task" span is that step's; keep the step's own.
      for (TraceSpan sp : spans) {
        if (sp.step == kTaskSpan) continue;
        sp.step = w.step;
        trace_->push_back({w.proc.pid, sp, nullptr});
      }
      std::memmove(w.in.data(), w.in.data() + s.frame_bytes, w.in_len - s.frame_bytes);
      w.in_len -= s.frame_bytes;
      continue;
    }
    ResultChunk r;
    if (s.type != FrameType::kResults) throw WorkerError(who + "sent a frame of unexpected type " + std::to_string(static_cast<int>(s.type)));
    if (auto e = DecodeResults(s.content, &r)) throw WorkerError(who + "sent a malformed frame: " + *e);
    if (w.task < 0 || r.items.size() != 1 || r.items[0].index != static_cast<uint64_t>(w.task)) {
      throw WorkerError(who + "sent results for a task it did not hold");
    }
    ipc_.bytes += static_cast<int64_t>(s.frame_bytes);
    ipc_.messages += 1;
    w.cpu_ns = r.cpu_ns;
    w.ctx_switches = r.ctx_switches;
    std::memmove(w.in.data(), w.in.data() + s.frame_bytes, w.in_len - s.frame_bytes);
    w.in_len -= s.frame_bytes;
    const int64_t task = std::exchange(w.task, -1);
    if (trace_ != nullptr) {
      const uint64_t now = MonotonicNs();
      trace_->push_back({w.proc.pid, {static_cast<uint64_t>(task), kTaskSpan, now, now}, "result in"});
    }
    LoopComputeOwner* owner = std::exchange(w.owner, nullptr);
    UvCheck(uv_poll_stop(&w.poll), "uv_poll_stop");
    // The next queued step goes to this worker before the owner hears of this one, which may
    // submit the task's next step (it then queues behind the steps already waiting).
    if (!queue_.empty()) {
      Queued next = std::move(queue_.front());
      queue_.pop_front();
      Send(w, std::move(next));
    }
    if (owner != nullptr) owner->OnComputeDone(task, r.items[0].value);
    return;
  }
}

void LoopProcessPool::Fail(Worker& w, std::exception_ptr error) {
  LoopComputeOwner* owner = std::exchange(w.owner, nullptr);
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& e) {
    if (broken_.empty()) broken_ = e.what();
  } catch (...) {
    if (broken_.empty()) broken_ = "an exception that is not a std::exception";
  }
  queue_.clear();
  // Inside a loop callback: the handles are only stopped here (the destructor closes them and the
  // pipes); the workers are killed and reaped at once.
  std::vector<pid_t> pids;
  for (auto& other : workers_) {
    other->task = -1;
    other->owner = nullptr;
    if (other->poll_open) uv_poll_stop(&other->poll);
    if (other->proc.pid > 0) pids.push_back(std::exchange(other->proc.pid, 0));
  }
  ReapAll(pids, std::chrono::steady_clock::time_point::min());  // a deadline past: kill at once
  if (owner != nullptr) owner->OnComputeFailed(error);
}

void LoopProcessPool::Abandon() {
  queue_.clear();
  for (auto& w : workers_) w->owner = nullptr;
}

bool LoopProcessPool::idle() const {
  if (!queue_.empty()) return false;
  for (const auto& w : workers_) {
    if (w->task >= 0) return false;
  }
  return true;
}

WorkerUsage LoopProcessPool::worker_usage() const {
  WorkerUsage u;
  uint64_t ns = 0;
  for (const auto& w : workers_) {
    ns += w->cpu_ns;
    u.ctx_switches += static_cast<int64_t>(w->ctx_switches);
  }
  u.cpu_seconds = static_cast<double>(ns) / 1e9;
  return u;
}

}  // namespace concbench
