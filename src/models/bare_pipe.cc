#include "models/bare_pipe.h"

#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <optional>
#include <stdexcept>
#include <utility>
#include <vector>

#include "sys/deadline.h"
#include "sys/errno_error.h"
#include "sys/fd_io.h"
#include "sys/fork.h"
#include "sys/pipe.h"
#include "sys/reaper.h"

namespace concbench {
namespace {

using Clock = std::chrono::steady_clock;

constexpr size_t kReadChunk = 64 << 10;

// Waits until non-blocking `fd` is ready for `events` (or has hung up); false once `deadline`
// has passed with it still not ready.
bool WaitReady(int fd, short events, Clock::time_point deadline) {
  for (;;) {
    pollfd p{fd, events, 0};
    const int r = ::poll(&p, 1, PollTimeoutMs(deadline, Clock::now()));
    if (r > 0) return true;
    if (r == 0 && Clock::now() >= deadline) return false;
    if (r < 0 && errno != EINTR) ThrowErrno("BarePipeEcho: poll");
  }
}

// Writes all of `data` to non-blocking `fd`, waiting while the pipe is full. False at the
// deadline; throws on an error (EPIPE: the child is gone).
bool WriteBefore(int fd, std::string_view data, Clock::time_point deadline) {
  size_t off = 0;
  while (off < data.size()) {
    const ssize_t n = ::write(fd, data.data() + off, data.size() - off);
    if (n >= 0) {
      off += static_cast<size_t>(n);
      continue;
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) ThrowErrno("BarePipeEcho: write");
    if (!WaitReady(fd, POLLOUT, deadline)) return false;
  }
  return true;
}

enum class Read { kMessage, kEnd, kTimedOut };

// Reads one u32-length-prefixed message into *msg (greedy): kEnd on end-of-file before a whole
// message; throws on a read error. Without a deadline `fd` is blocking (the child's side); with
// one it is non-blocking and every read first waits for it in poll, kTimedOut at the deadline.
Read ReadMessage(int fd, std::optional<Clock::time_point> deadline, std::string* buf, std::string* msg) {
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
    if (deadline && !WaitReady(fd, POLLIN, *deadline)) return Read::kTimedOut;
    const ssize_t n = ::read(fd, buf->data() + len, buf->size() - len);
    if (n == 0) return Read::kEnd;
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      ThrowErrno("BarePipeEcho: read");
    }
    len += static_cast<size_t>(n);
  }
  msg->assign(buf->data() + 4, need - 4);
  return Read::kMessage;
}

// Appends `message` with its u32 length in front.
void AppendMessage(std::string_view message, std::string* out) {
  const auto len = static_cast<uint32_t>(message.size());
  out->append(reinterpret_cast<const char*>(&len), 4);
  out->append(message);
}

[[noreturn]] void EchoMain(int in_fd, int out_fd) {
  try {
    std::string buf, msg, out;
    while (ReadMessage(in_fd, std::nullopt, &buf, &msg) == Read::kMessage) {
      out.clear();
      AppendMessage(msg, &out);
      if (!WriteAll(out_fd, out)) ::_exit(kWorkerExitIo);
    }
    ::_exit(0);
  } catch (...) {
    ::_exit(kWorkerExitException);
  }
}

}  // namespace

BarePipeEcho::BarePipeEcho() {
  IgnoreSigpipe();
  Pipe to = Pipe::Open("BarePipeEcho: pipe2");
  Pipe from = Pipe::Open("BarePipeEcho: pipe2");
  FlushBeforeFork();
  const pid_t pid = ::fork();
  if (pid < 0) ThrowErrno("BarePipeEcho: fork");
  if (pid == 0) {
    to.write_end.Reset();
    from.read_end.Reset();
    EchoMain(to.read_end.get(), from.write_end.get());
  }
  pid_ = pid;
  to_child_ = std::move(to.write_end);
  from_child_ = std::move(from.read_end);
  SetNonBlocking(to_child_.get(), "the echo pipe to the child");
  SetNonBlocking(from_child_.get(), "the echo pipe from the child");
}  // the child's ends close here

BarePipeEcho::~BarePipeEcho() { Shutdown(); }

void BarePipeEcho::SetStallTimeout(std::chrono::milliseconds timeout) {
  CheckTimeLimit(timeout, "BarePipeEcho::SetStallTimeout: the timeout");
  stall_timeout_ = timeout;
}

void BarePipeEcho::RoundTrip(std::string_view message, std::string* reply) {
  if (pid_ <= 0) throw std::logic_error("BarePipeEcho::RoundTrip after Shutdown or a stall");
  send_.clear();
  AppendMessage(message, &send_);
  const Clock::time_point start = Clock::now();
  const Clock::time_point deadline = DeadlineAfter(start, stall_timeout_);
  const auto stalled = [&] {
    const Clock::duration silent = Clock::now() - start;
    std::vector<SilentChild> child = {{.worker = 0, .name = "the echo child", .pid = pid_, .silent = silent}};
    Stalled(StallError("bare pipe echo", "reply", silent, child, "the child killed and reaped"));
  };
  if (!WriteBefore(to_child_.get(), send_, deadline)) stalled();
  const Read r = ReadMessage(from_child_.get(), deadline, &buf_, reply);
  if (r == Read::kTimedOut) stalled();
  if (r == Read::kEnd) {
    throw std::runtime_error("BarePipeEcho: the echo child (pid " + std::to_string(pid_) + ") closed its pipe");
  }
  if (reply->size() != message.size()) {
    throw std::runtime_error("BarePipeEcho: sent " + std::to_string(message.size()) + " bytes, got " +
                             std::to_string(reply->size()) + " back");
  }
}

void BarePipeEcho::Stalled(const WorkerStalled& stalled) {
  to_child_.Reset();
  from_child_.Reset();
  KillAndReap(std::exchange(pid_, 0));
  throw stalled;
}

void BarePipeEcho::Shutdown() {
  to_child_.Reset();
  from_child_.Reset();
  if (pid_ > 0) ReapOrKill(pid_, kWorkerShutdownGrace);
  pid_ = 0;
}

}  // namespace concbench
