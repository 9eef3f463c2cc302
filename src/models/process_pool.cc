#include "models/process_pool.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <iostream>
#include <optional>
#include <system_error>

#include "models/frame.h"
#include "workload/cpu.h"
#include "workload/sleep.h"

namespace concbench {
namespace {

// Exit statuses of a worker that ends on its own for a reason other than a clean shutdown.
constexpr int kExitTruncated = 10;   // the task pipe ended in the middle of a frame
constexpr int kExitIo = 11;          // a read or write on a pipe failed
constexpr int kExitProtocol = 12;    // a malformed frame arrived (an error frame was sent)
constexpr int kExitException = 13;   // an exception (for example std::bad_alloc) in the child
constexpr int kExitTaskThrew = 14;   // the inherited function threw (an error frame was sent)
constexpr int kExitIfStatus = 3;     // TaskKind::kExitIf

constexpr size_t kReadChunk = 64 << 10;
constexpr auto kGracePeriod = std::chrono::seconds(1);
constexpr auto kReapTimeout = std::chrono::seconds(5);

[[noreturn]] void ThrowErrno(const std::string& what) {
  throw std::system_error(errno, std::generic_category(), what);
}

void IgnoreSigpipe() {
  struct sigaction old {};
  if (sigaction(SIGPIPE, nullptr, &old) == 0 && old.sa_handler == SIG_DFL) {
    struct sigaction ign {};
    ign.sa_handler = SIG_IGN;
    sigemptyset(&ign.sa_mask);
    sigaction(SIGPIPE, &ign, nullptr);
  }
}

// Whatever is buffered would otherwise be printed once by the parent and once by each child.
void FlushBeforeFork() {
  std::cout.flush();
  std::cerr.flush();
  std::clog.flush();
  std::fflush(nullptr);
}

void CloseFd(int& fd) {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

void SetNonBlocking(int fd, const char* which) {
  const int flags = fcntl(fd, F_GETFL);
  if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0) {
    ThrowErrno(std::string("fcntl(O_NONBLOCK) on ") + which);
  }
}

// Blocking write of everything; false on error (errno set).
bool WriteAll(int fd, const char* data, size_t size) {
  while (size > 0) {
    const ssize_t n = ::write(fd, data, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

struct SelfUsage {
  uint64_t cpu_ns = 0;
  uint64_t ctx_switches = 0;
};

SelfUsage TakeSelfUsage() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  auto ns = [](const timeval& tv) {
    return static_cast<uint64_t>(tv.tv_sec) * 1'000'000'000u + static_cast<uint64_t>(tv.tv_usec) * 1'000u;
  };
  return {ns(ru.ru_utime) + ns(ru.ru_stime), static_cast<uint64_t>(ru.ru_nvcsw + ru.ru_nivcsw)};
}

// ThreadSanitizer does not intercept pidfd_open, so it takes the new descriptor for whatever
// last had its number (a socket another thread accepted and closed, say) and reports closing it
// as a race. Under TSan the bounded wait polls waitpid instead.
#if defined(__SANITIZE_THREAD__)
#define CONCBENCH_NO_PIDFD 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define CONCBENCH_NO_PIDFD 1
#endif
#endif

int PidfdOpen(pid_t pid) {
#if defined(SYS_pidfd_open) && !defined(CONCBENCH_NO_PIDFD)
  return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
#else
  (void)pid;
  errno = ENOSYS;
  return -1;
#endif
}

// Waits at most `timeout` for child `pid` to end and reaps it. Returns its wait status, or
// nothing if it is still running at the deadline (or is not our child).
std::optional<int> ReapWithin(pid_t pid, std::chrono::milliseconds timeout) {
  using Clock = std::chrono::steady_clock;
  const auto deadline = Clock::now() + timeout;
  const int pidfd = PidfdOpen(pid);  // close-on-exec by definition
  std::optional<int> result;
  for (;;) {
    int status = 0;
    const pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) {
      result = status;
      break;
    }
    if (r < 0 && errno != EINTR) break;  // ECHILD: nothing to wait for
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() < 0) break;
    if (pidfd >= 0) {
      pollfd p{pidfd, POLLIN, 0};
      ::poll(&p, 1, static_cast<int>(left.count()) + 1);  // readable once the child has ended
    } else {
      blocking_sleep(std::min<std::chrono::nanoseconds>(left, std::chrono::milliseconds(1)));
    }
  }
  if (pidfd >= 0) ::close(pidfd);
  return result;
}

// SIGKILLs and reaps `pid`; returns its status, or nothing if it could not be reaped in time.
std::optional<int> KillAndReap(pid_t pid) {
  ::kill(pid, SIGKILL);
  auto st = ReapWithin(pid, kReapTimeout);
  if (!st) {
    std::fprintf(stderr, "concbench: child pid %d survived SIGKILL for %lld s and was not reaped\n",
                 static_cast<int>(pid), static_cast<long long>(kReapTimeout.count()));
  }
  return st;
}

// Reaps a child that is expected to end by itself; kills it after the grace period.
std::optional<int> ReapOrKill(pid_t pid) {
  if (auto st = ReapWithin(pid, kGracePeriod)) return st;
  return KillAndReap(pid);
}

// The worker's whole life: read tasks frames, run them, send results frames, until end-of-file.
// `inherited` is the worker's own copy of the pool's function, or null.
[[noreturn]] void WorkerMain(int task_fd, int result_fd, const TaskFn* inherited) {
  try {
    std::vector<char> in(kReadChunk);
    size_t len = 0;
    std::string out;
    TaskChunk chunk;
    std::vector<int64_t> values;
    for (;;) {
      const FrameSplit s = SplitFrame(std::string_view(in.data(), len));
      if (s.status == FrameStatus::kIncomplete) {
        if (in.size() < std::max(s.frame_bytes, len + 1)) in.resize(std::max(s.frame_bytes, len + kReadChunk));
        const ssize_t n = ::read(task_fd, in.data() + len, in.size() - len);
        if (n == 0) ::_exit(len == 0 ? 0 : kExitTruncated);
        if (n < 0) {
          if (errno == EINTR) continue;
          ::_exit(kExitIo);
        }
        len += static_cast<size_t>(n);
        continue;
      }
      std::string err;
      if (s.status == FrameStatus::kMalformed) {
        err = s.error;
      } else if (s.type != FrameType::kTasks) {
        err = "expected a tasks frame, got type " + std::to_string(static_cast<int>(s.type));
      } else if (auto e = DecodeTasks(s.content, &chunk)) {
        err = *e;
      } else if (!IsKnownTaskKind(chunk.kind)) {
        err = "unknown task kind " + std::to_string(chunk.kind);
      } else if (chunk.kind == static_cast<uint8_t>(TaskKind::kInherited) && inherited == nullptr) {
        err = "an inherited task for a pool built without an inherited function";
      }
      if (!err.empty()) {
        out.clear();
        AppendErrorFrame("worker pid " + std::to_string(::getpid()) + ": " + err, &out);
        WriteAll(result_fd, out.data(), out.size());
        ::_exit(kExitProtocol);
      }
      const TaskSpec spec{static_cast<TaskKind>(chunk.kind), chunk.param};
      values.clear();
      for (const FrameItem& it : chunk.items) {
        if (spec.kind != TaskKind::kInherited) {
          values.push_back(RunTask(spec, it.value));
          continue;
        }
        // The caller's code may fail like any client (a refused connection): its message goes
        // to the parent, which reports it, instead of a bare exit status.
        std::string thrown;
        try {
          values.push_back(RunTask(spec, it.value, inherited));
          continue;
        } catch (const std::exception& e) {
          thrown = e.what();
        } catch (...) {
          thrown = "an exception that is not a std::exception";
        }
        out.clear();
        AppendErrorFrame("task " + std::to_string(it.index) + " (input " + std::to_string(it.value) +
                             ") threw: " + thrown,
                         &out);
        WriteAll(result_fd, out.data(), out.size());
        ::_exit(kExitTaskThrew);
      }
      const SelfUsage u = TakeSelfUsage();
      out.clear();
      ResultFrameWriter w(&out, u.cpu_ns, u.ctx_switches);
      for (size_t i = 0; i < values.size(); ++i) w.Add(chunk.items[i].index, values[i], chunk.items[i].payload);
      w.Finish();
      if (!WriteAll(result_fd, out.data(), out.size())) ::_exit(kExitIo);
      std::memmove(in.data(), in.data() + s.frame_bytes, len - s.frame_bytes);
      len -= s.frame_bytes;
    }
  } catch (...) {
    ::_exit(kExitException);
  }
}

std::string WorkerName(int index, pid_t pid) {
  return "worker " + std::to_string(index) + " (pid " + std::to_string(pid) + ")";
}

}  // namespace

bool IsKnownTaskKind(uint8_t kind) {
  return kind >= static_cast<uint8_t>(TaskKind::kSleep) && kind <= static_cast<uint8_t>(TaskKind::kInherited);
}

std::string_view TaskKindName(TaskKind kind) {
  switch (kind) {
    case TaskKind::kSleep: return "sleep";
    case TaskKind::kCpuIntensivo: return "cpu_intensivo";
    case TaskKind::kTrabajo: return "trabajo";
    case TaskKind::kTareaNormal: return "tarea_normal";
    case TaskKind::kEcho: return "echo";
    case TaskKind::kAbortIf: return "abort_if";
    case TaskKind::kExitIf: return "exit_if";
    case TaskKind::kInherited: return "inherited";
  }
  return "unknown";
}

TaskSpec SleepSpec(std::chrono::nanoseconds d) { return {TaskKind::kSleep, d.count()}; }

TaskSpec CpuJobSpec(CpuJob job) {
  switch (job) {
    case CpuJob::kCpuIntensivo: return {TaskKind::kCpuIntensivo, 0};
    case CpuJob::kTrabajo: return {TaskKind::kTrabajo, 0};
    case CpuJob::kTareaNormal: return {TaskKind::kTareaNormal, 0};
  }
  throw std::invalid_argument("CpuJobSpec: unknown job");
}

int64_t RunTask(const TaskSpec& spec, int64_t input, const TaskFn* inherited) {
  switch (spec.kind) {
    case TaskKind::kSleep: return sleep_task(input, std::chrono::nanoseconds(spec.param));
    case TaskKind::kCpuIntensivo: return cpu_intensivo(input);
    case TaskKind::kTrabajo: return trabajo(input);
    case TaskKind::kTareaNormal: return tarea_normal(input);
    case TaskKind::kEcho: return input;
    case TaskKind::kAbortIf:
      if (input == spec.param) std::abort();
      return input;
    case TaskKind::kExitIf:
      if (input == spec.param) ::_exit(kExitIfStatus);
      return input;
    case TaskKind::kInherited:
      if (inherited == nullptr || !*inherited) throw std::invalid_argument("RunTask: kInherited without a function");
      return (*inherited)(input);
  }
  throw std::invalid_argument("RunTask: unknown task kind " + std::to_string(static_cast<int>(spec.kind)));
}

WorkerDied::WorkerDied(int worker, pid_t pid, int wait_status, const std::string& what)
    : std::runtime_error(what), worker_(worker), pid_(pid), wait_status_(wait_status) {}

// ---- ProcessPool ---------------------------------------------------------------------------

ProcessPool::ProcessPool(int workers, int queued_per_worker) { Start(workers, queued_per_worker); }

ProcessPool::ProcessPool(int workers, TaskFn inherited, int queued_per_worker) : inherited_(std::move(inherited)) {
  if (!inherited_) throw std::invalid_argument("ProcessPool: the inherited function is empty");
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
    for (int i = 0; i < workers; ++i) {
      int tp[2], rp[2];
      if (::pipe2(tp, O_CLOEXEC) != 0) ThrowErrno("ProcessPool: pipe2 (task pipe of worker " + std::to_string(i) + ")");
      if (::pipe2(rp, O_CLOEXEC) != 0) {
        const int e = errno;
        ::close(tp[0]), ::close(tp[1]);
        errno = e;
        ThrowErrno("ProcessPool: pipe2 (result pipe of worker " + std::to_string(i) + ")");
      }
      FlushBeforeFork();
      const pid_t pid = ::fork();
      if (pid < 0) {
        const int e = errno;
        ::close(tp[0]), ::close(tp[1]), ::close(rp[0]), ::close(rp[1]);
        errno = e;
        ThrowErrno("ProcessPool: fork (worker " + std::to_string(i) + " of " + std::to_string(workers) + ")");
      }
      if (pid == 0) {
        ::close(tp[1]);
        ::close(rp[0]);
        // The parent's ends of the earlier workers' pipes: holding a task pipe's write end would
        // keep that worker from ever seeing end-of-file.
        for (const Worker& w : workers_) {
          ::close(w.task_fd);
          ::close(w.result_fd);
        }
        WorkerMain(tp[0], rp[1], inherited_ ? &inherited_ : nullptr);
      }
      ::close(tp[0]);
      ::close(rp[1]);
      Worker w;
      w.pid = pid;
      w.task_fd = tp[1];
      w.result_fd = rp[0];
      workers_.push_back(std::move(w));
      SetNonBlocking(tp[1], "a task pipe");
      SetNonBlocking(rp[0], "a result pipe");
    }
  } catch (...) {
    Break("construction failed");
    throw;
  }
}

ProcessPool::~ProcessPool() { Shutdown(); }

pid_t ProcessPool::pid(int worker) const { return workers_.at(static_cast<size_t>(worker)).pid; }

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

void ProcessPool::Shutdown() {
  // Closing both ends first: an idle worker reads end-of-file, a worker blocked writing results
  // gets EPIPE; either way it exits by itself.
  for (Worker& w : workers_) {
    CloseFd(w.task_fd);
    CloseFd(w.result_fd);
  }
  for (Worker& w : workers_) {
    if (w.pid > 0) ReapOrKill(w.pid);
    w.pid = 0;
  }
  if (broken_reason_.empty()) broken_reason_ = "the pool was shut down";
}

void ProcessPool::Break(const std::string& reason) {
  for (Worker& w : workers_) {
    if (w.pid > 0) ::kill(w.pid, SIGKILL);
  }
  for (Worker& w : workers_) {
    CloseFd(w.task_fd);
    CloseFd(w.result_fd);
    if (w.pid > 0) KillAndReap(w.pid);
    w.pid = 0;
  }
  if (broken_reason_.empty()) broken_reason_ = reason;
}

void ProcessPool::WorkerGone(int index) {
  Worker& w = workers_[static_cast<size_t>(index)];
  const pid_t pid = w.pid;
  std::optional<int> st = ReapWithin(pid, kReapTimeout);
  if (!st) st = KillAndReap(pid);
  w.pid = 0;
  // A worker whose inherited task threw sent an error frame and exited; the parent may notice the
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

std::string ProcessPool::PendingErrorMessage(Worker& w) {
  if (w.result_fd < 0) return "";
  for (;;) {
    const FrameSplit s = SplitFrame(std::string_view(w.in.data(), w.in_len));
    if (s.status == FrameStatus::kMalformed) return "";
    if (s.status == FrameStatus::kComplete) {
      if (s.type == FrameType::kError) {
        std::string msg;
        return DecodeErrorMessage(s.content, &msg) ? "" : msg;
      }
      std::memmove(w.in.data(), w.in.data() + s.frame_bytes, w.in_len - s.frame_bytes);
      w.in_len -= s.frame_bytes;
      continue;
    }
    const size_t want = std::max(s.frame_bytes, w.in_len + kReadChunk);
    if (w.in.size() < want) w.in.resize(want);
    const ssize_t n = ::read(w.result_fd, w.in.data() + w.in_len, w.in.size() - w.in_len);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return "";  // end-of-file, empty, or an error: no error frame
    w.in_len += static_cast<size_t>(n);
  }
}

bool ProcessPool::FlushOut(Worker& w) {
  while (w.out_off < w.out.size()) {
    const ssize_t n = ::write(w.task_fd, w.out.data() + w.out_off, w.out.size() - w.out_off);
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
    const ssize_t n = ::read(w.result_fd, w.in.data() + w.in_len, w.in.size() - w.in_len);
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
  if (broken()) throw std::logic_error("ProcessPool::Map: the pool cannot be used: " + broken_reason_);
  if (chunksize < 1) throw std::invalid_argument("ProcessPool::Map: chunksize must be >= 1, got " + std::to_string(chunksize));
  if (!IsKnownTaskKind(static_cast<uint8_t>(spec.kind))) {
    throw std::invalid_argument("ProcessPool::Map: unknown task kind " + std::to_string(static_cast<int>(spec.kind)));
  }
  if (spec.kind == TaskKind::kInherited && !inherited_) {
    throw std::invalid_argument("ProcessPool::Map: kInherited on a pool built without an inherited function");
  }
  if (!payloads.empty() && payloads.size() != inputs.size()) {
    throw std::invalid_argument("ProcessPool::Map: " + std::to_string(payloads.size()) + " payloads for " +
                                std::to_string(inputs.size()) + " inputs");
  }
  const size_t n = inputs.size();
  const size_t chunk = static_cast<size_t>(std::min<int64_t>(chunksize, static_cast<int64_t>(std::max<size_t>(n, 1))));
  const size_t chunks = (n + chunk - 1) / chunk;
  if (!payloads.empty()) {
    for (size_t c = 0; c < chunks; ++c) {
      size_t bytes = 0;
      const size_t end = std::min(n, (c + 1) * chunk);
      for (size_t i = c * chunk; i < end; ++i) bytes += payloads[i].size();
      const size_t frame = ResultFrameBytes(end - c * chunk, bytes);
      if (frame - kFrameHeaderBytes > kMaxFrameBodyBytes) {
        throw std::length_error("ProcessPool::Map: chunk " + std::to_string(c) + " needs a frame of " +
                                std::to_string(frame) + " bytes, over the limit of " +
                                std::to_string(kMaxFrameBodyBytes) + "; use a smaller chunksize");
      }
    }
  } else if (ResultFrameBytes(chunk, 0) - kFrameHeaderBytes > kMaxFrameBodyBytes) {
    throw std::length_error("ProcessPool::Map: chunksize " + std::to_string(chunksize) + " exceeds the frame limit");
  }
  out->values.assign(n, 0);
  out->payloads.resize(payloads.empty() ? 0 : n);  // existing strings keep their buffers
  if (n == 0) return;

  try {
    size_t next = 0, done = 0;
    ResultChunk& results = scratch_;
    // Sends the next chunk to `w` if there is one and w has room for it.
    auto dispatch = [&](Worker& w) {
      if (next >= chunks || w.inflight.size() >= max_inflight_) return true;
      const size_t begin = next * chunk, end = std::min(n, begin + chunk);
      ++next;
      if (w.out_off == w.out.size()) {
        w.out.clear();
        w.out_off = 0;
      }
      const size_t before = w.out.size();
      TaskFrameWriter fw(&w.out, static_cast<uint8_t>(spec.kind), spec.param);
      for (size_t i = begin; i < end; ++i) {
        fw.Add(i, inputs[i], payloads.empty() ? std::string_view() : std::string_view(payloads[i]));
      }
      fw.Finish();
      w.inflight.emplace_back(begin, end);
      ipc_.bytes += static_cast<int64_t>(w.out.size() - before);
      ipc_.messages += 1;
      return FlushOut(w);
    };
    // Round by round, so the first chunks go one per worker before any worker gets a second.
    for (size_t round = 0; round < max_inflight_; ++round) {
      for (size_t i = 0; i < workers_.size(); ++i) {
        if (!dispatch(workers_[i])) WorkerGone(static_cast<int>(i));
      }
    }
    std::vector<pollfd> fds;
    std::vector<std::pair<size_t, bool>> owner;  // worker index, is the task pipe
    while (done < chunks) {
      fds.clear();
      owner.clear();
      for (size_t i = 0; i < workers_.size(); ++i) {
        Worker& w = workers_[i];
        fds.push_back({w.result_fd, POLLIN, 0});
        owner.emplace_back(i, false);
        if (w.out_off < w.out.size()) {
          fds.push_back({w.task_fd, POLLOUT, 0});
          owner.emplace_back(i, true);
        }
      }
      if (::poll(fds.data(), fds.size(), -1) < 0) {
        if (errno == EINTR) continue;
        ThrowErrno("ProcessPool: poll");
      }
      for (size_t k = 0; k < fds.size(); ++k) {
        if (fds[k].revents == 0) continue;
        const auto [i, is_task_pipe] = owner[k];
        Worker& w = workers_[i];
        if (is_task_pipe) {
          if (!FlushOut(w)) WorkerGone(static_cast<int>(i));
          continue;
        }
        const bool open = ReadAvailable(w);
        for (;;) {
          const FrameSplit s = SplitFrame(std::string_view(w.in.data(), w.in_len));
          if (s.status == FrameStatus::kIncomplete) break;
          std::string err;
          if (s.status == FrameStatus::kMalformed) {
            err = "sent a malformed frame: " + s.error;
          } else if (s.type == FrameType::kError) {
            std::string msg;
            err = DecodeErrorMessage(s.content, &msg) ? "sent a malformed error frame" : "reported: " + msg;
          } else if (s.type != FrameType::kResults) {
            err = "sent a frame of unexpected type " + std::to_string(static_cast<int>(s.type));
          } else if (w.inflight.empty()) {
            err = "sent results while idle";
          } else if (auto e = DecodeResults(s.content, &results)) {
            err = "sent a malformed frame: " + *e;
          } else if (results.items.size() != w.inflight.front().second - w.inflight.front().first) {
            err = "returned " + std::to_string(results.items.size()) + " results for a chunk of " +
                  std::to_string(w.inflight.front().second - w.inflight.front().first);
          }
          const size_t first = err.empty() ? w.inflight.front().first : 0;
          for (size_t j = 0; err.empty() && j < results.items.size(); ++j) {
            if (results.items[j].index != first + j) {
              err = "returned index " + std::to_string(results.items[j].index) + " where " +
                    std::to_string(first + j) + " was expected";
            }
          }
          if (!err.empty()) {
            const std::string what = "ProcessPool: " + WorkerName(static_cast<int>(i), w.pid) + " " + err;
            Break(what);
            throw WorkerError(what);
          }
          for (size_t j = 0; j < results.items.size(); ++j) {
            out->values[first + j] = results.items[j].value;
            // A swap, not a move: the old buffer goes back into the scratch chunk for the next
            // decode, so a warm pool allocates nothing per payload.
            if (!payloads.empty()) std::swap(out->payloads[first + j], results.items[j].payload);
          }
          w.cpu_ns = results.cpu_ns;
          w.ctx_switches = results.ctx_switches;
          ipc_.bytes += static_cast<int64_t>(s.frame_bytes);
          ipc_.messages += 1;
          std::memmove(w.in.data(), w.in.data() + s.frame_bytes, w.in_len - s.frame_bytes);
          w.in_len -= s.frame_bytes;
          w.inflight.pop_front();
          ++done;
          if (!dispatch(w)) WorkerGone(static_cast<int>(i));
        }
        if (!open) WorkerGone(static_cast<int>(i));
      }
    }
  } catch (const WorkerDied&) {
    throw;  // the pool is already broken
  } catch (const WorkerError&) {
    throw;
  } catch (const std::exception& e) {
    Break(std::string("a Map failed: ") + e.what());
    throw;
  }
}

// ---- one fork per task -----------------------------------------------------------------------

std::vector<int64_t> RunForkPerTask(const TaskSpec& spec, std::span<const int64_t> inputs, IpcStats* ipc) {
  if (!IsKnownTaskKind(static_cast<uint8_t>(spec.kind))) {
    throw std::invalid_argument("RunForkPerTask: unknown task kind " + std::to_string(static_cast<int>(spec.kind)));
  }
  if (spec.kind == TaskKind::kInherited) {
    throw std::invalid_argument("RunForkPerTask: kInherited needs a ProcessPool built with an inherited function");
  }
  IgnoreSigpipe();
  struct Child {
    pid_t pid = 0;
    int fd = -1;
    std::vector<char> in;
    size_t len = 0;
  };
  const size_t n = inputs.size();
  std::vector<Child> kids;
  kids.reserve(n);
  std::vector<int64_t> results(n, 0);
  IpcStats stats;
  try {
    for (size_t i = 0; i < n; ++i) {
      int p[2];
      if (::pipe2(p, O_CLOEXEC) != 0) ThrowErrno("RunForkPerTask: pipe2 (task " + std::to_string(i) + ")");
      FlushBeforeFork();
      const pid_t pid = ::fork();
      if (pid < 0) {
        const int e = errno;
        ::close(p[0]), ::close(p[1]);
        errno = e;
        ThrowErrno("RunForkPerTask: fork (task " + std::to_string(i) + " of " + std::to_string(n) + ")");
      }
      if (pid == 0) {
        ::close(p[0]);
        for (const Child& k : kids) ::close(k.fd);
        try {
          const int64_t value = RunTask(spec, inputs[i]);
          const SelfUsage u = TakeSelfUsage();
          std::string out;
          ResultFrameWriter w(&out, u.cpu_ns, u.ctx_switches);
          w.Add(i, value, {});
          w.Finish();
          ::_exit(WriteAll(p[1], out.data(), out.size()) ? 0 : kExitIo);
        } catch (...) {
          ::_exit(kExitException);
        }
      }
      ::close(p[1]);
      kids.push_back(Child{pid, p[0], {}, 0});
      SetNonBlocking(p[0], "a result pipe");
    }
    size_t remaining = n;
    std::vector<pollfd> fds;
    std::vector<size_t> owner;
    ResultChunk chunk;
    auto died = [&](size_t i, std::optional<int> st, const std::string& when) {
      const pid_t pid = kids[i].pid;
      kids[i].pid = 0;
      const std::string what = "RunForkPerTask: the process of task " + std::to_string(i) + " (pid " +
                               std::to_string(pid) + ") " +
                               (st ? DescribeWaitStatus(*st) : std::string("could not be reaped")) + when;
      throw WorkerDied(static_cast<int>(i), pid, st.value_or(-1), what);
    };
    while (remaining > 0) {
      fds.clear();
      owner.clear();
      for (size_t i = 0; i < n; ++i) {
        if (kids[i].fd >= 0) {
          fds.push_back({kids[i].fd, POLLIN, 0});
          owner.push_back(i);
        }
      }
      if (::poll(fds.data(), fds.size(), -1) < 0) {
        if (errno == EINTR) continue;
        ThrowErrno("RunForkPerTask: poll");
      }
      for (size_t k = 0; k < fds.size(); ++k) {
        if (fds[k].revents == 0) continue;
        const size_t i = owner[k];
        Child& c = kids[i];
        if (c.in.size() - c.len < 256) c.in.resize(c.len + 256);
        const ssize_t r = ::read(c.fd, c.in.data() + c.len, c.in.size() - c.len);
        if (r < 0) {
          if (errno == EINTR || errno == EAGAIN) continue;
          ThrowErrno("RunForkPerTask: read (task " + std::to_string(i) + ")");
        }
        if (r == 0) {
          auto st = ReapWithin(c.pid, kReapTimeout);
          if (!st) st = KillAndReap(c.pid);
          died(i, st, " before sending its result");
        }
        c.len += static_cast<size_t>(r);
        const FrameSplit s = SplitFrame(std::string_view(c.in.data(), c.len));
        if (s.status == FrameStatus::kIncomplete) continue;
        std::string err;
        if (s.status == FrameStatus::kMalformed) {
          err = s.error;
        } else if (s.type != FrameType::kResults || s.frame_bytes != c.len) {
          err = "unexpected frame";
        } else if (auto e = DecodeResults(s.content, &chunk)) {
          err = *e;
        } else if (chunk.items.size() != 1 || chunk.items[0].index != i) {
          err = "results for the wrong task";
        }
        if (!err.empty()) throw WorkerError("RunForkPerTask: task " + std::to_string(i) + ": " + err);
        results[i] = chunk.items[0].value;
        stats.bytes += static_cast<int64_t>(s.frame_bytes);
        stats.messages += 1;
        CloseFd(c.fd);
        --remaining;
      }
    }
    for (size_t i = 0; i < n; ++i) {
      auto st = ReapOrKill(kids[i].pid);
      if (!st || !WIFEXITED(*st) || WEXITSTATUS(*st) != 0) died(i, st, " after sending its result");
      kids[i].pid = 0;
    }
  } catch (...) {
    for (Child& c : kids) {
      if (c.pid > 0) ::kill(c.pid, SIGKILL);
    }
    for (Child& c : kids) {
      CloseFd(c.fd);
      if (c.pid > 0) KillAndReap(c.pid);
      c.pid = 0;
    }
    throw;
  }
  if (ipc != nullptr) *ipc = stats;
  return results;
}

// ---- the bare pipe baseline ----------------------------------------------------------------

namespace {

// Reads one u32-length-prefixed message into *msg (blocking, greedy). Returns false on
// end-of-file before a whole message; throws on a read error.
bool ReadMessage(int fd, std::string* buf, std::string* msg) {
  size_t len = 0;
  size_t need = 4;
  for (;;) {
    if (len >= 4) {
      uint32_t body = 0;
      std::memcpy(&body, buf->data(), 4);
      need = 4 + static_cast<size_t>(body);
      if (len >= need) break;
    }
    if (buf->size() < std::max(need, len + kReadChunk)) buf->resize(std::max(need, len + kReadChunk));
    const ssize_t n = ::read(fd, buf->data() + len, buf->size() - len);
    if (n == 0) return false;
    if (n < 0) {
      if (errno == EINTR) continue;
      ThrowErrno("BarePipeEcho: read");
    }
    len += static_cast<size_t>(n);
  }
  msg->assign(buf->data() + 4, need - 4);
  return true;
}

}  // namespace

BarePipeEcho::BarePipeEcho() {
  IgnoreSigpipe();
  int a[2], b[2];
  if (::pipe2(a, O_CLOEXEC) != 0) ThrowErrno("BarePipeEcho: pipe2");
  if (::pipe2(b, O_CLOEXEC) != 0) {
    const int e = errno;
    ::close(a[0]), ::close(a[1]);
    errno = e;
    ThrowErrno("BarePipeEcho: pipe2");
  }
  FlushBeforeFork();
  const pid_t pid = ::fork();
  if (pid < 0) {
    const int e = errno;
    ::close(a[0]), ::close(a[1]), ::close(b[0]), ::close(b[1]);
    errno = e;
    ThrowErrno("BarePipeEcho: fork");
  }
  if (pid == 0) {
    ::close(a[1]);
    ::close(b[0]);
    try {
      std::string buf, msg, out;
      while (ReadMessage(a[0], &buf, &msg)) {
        out.clear();
        const auto len = static_cast<uint32_t>(msg.size());
        out.append(reinterpret_cast<const char*>(&len), 4);
        out.append(msg);
        if (!WriteAll(b[1], out.data(), out.size())) ::_exit(kExitIo);
      }
      ::_exit(0);
    } catch (...) {
      ::_exit(kExitException);
    }
  }
  ::close(a[0]);
  ::close(b[1]);
  pid_ = pid;
  to_child_ = a[1];
  from_child_ = b[0];
}

BarePipeEcho::~BarePipeEcho() { Shutdown(); }

void BarePipeEcho::RoundTrip(std::string_view message, std::string* reply) {
  if (pid_ <= 0) throw std::logic_error("BarePipeEcho::RoundTrip after Shutdown");
  send_.clear();
  const auto len = static_cast<uint32_t>(message.size());
  send_.append(reinterpret_cast<const char*>(&len), 4);
  send_.append(message);
  if (!WriteAll(to_child_, send_.data(), send_.size())) ThrowErrno("BarePipeEcho: write");
  if (!ReadMessage(from_child_, &buf_, reply)) {
    throw std::runtime_error("BarePipeEcho: the echo child (pid " + std::to_string(pid_) + ") closed its pipe");
  }
  if (reply->size() != message.size()) {
    throw std::runtime_error("BarePipeEcho: sent " + std::to_string(message.size()) + " bytes, got " +
                             std::to_string(reply->size()) + " back");
  }
}

void BarePipeEcho::Shutdown() {
  CloseFd(to_child_);
  CloseFd(from_child_);
  if (pid_ > 0) ReapOrKill(pid_);
  pid_ = 0;
}

}  // namespace concbench
