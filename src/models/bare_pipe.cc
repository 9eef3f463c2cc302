#include "models/bare_pipe.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <stdexcept>

#include "models/worker.h"
#include "sys/errno_error.h"
#include "sys/fd_io.h"
#include "sys/fork.h"
#include "sys/pipe.h"
#include "sys/reaper.h"

namespace concbench {
namespace {

constexpr size_t kReadChunk = 64 << 10;

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

// Appends `message` with its u32 length in front.
void AppendMessage(std::string_view message, std::string* out) {
  const auto len = static_cast<uint32_t>(message.size());
  out->append(reinterpret_cast<const char*>(&len), 4);
  out->append(message);
}

[[noreturn]] void EchoMain(int in_fd, int out_fd) {
  try {
    std::string buf, msg, out;
    while (ReadMessage(in_fd, &buf, &msg)) {
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
}  // the child's ends close here

BarePipeEcho::~BarePipeEcho() { Shutdown(); }

void BarePipeEcho::RoundTrip(std::string_view message, std::string* reply) {
  if (pid_ <= 0) throw std::logic_error("BarePipeEcho::RoundTrip after Shutdown");
  send_.clear();
  AppendMessage(message, &send_);
  if (!WriteAll(to_child_.get(), send_)) ThrowErrno("BarePipeEcho: write");
  if (!ReadMessage(from_child_.get(), &buf_, reply)) {
    throw std::runtime_error("BarePipeEcho: the echo child (pid " + std::to_string(pid_) + ") closed its pipe");
  }
  if (reply->size() != message.size()) {
    throw std::runtime_error("BarePipeEcho: sent " + std::to_string(message.size()) + " bytes, got " +
                             std::to_string(reply->size()) + " back");
  }
}

void BarePipeEcho::Shutdown() {
  to_child_.Reset();
  from_child_.Reset();
  if (pid_ > 0) ReapOrKill(pid_, kWorkerShutdownGrace);
  pid_ = 0;
}

}  // namespace concbench
