#include "workload/echo_client.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "workload/echo_protocol.h"

namespace concbench {
namespace {

// "ECONNREFUSED (Connection refused)".
std::string ErrnoText(int err) {
  const char* name = strerrorname_np(err);
  return std::string(name ? name : "errno " + std::to_string(err)) + " (" + std::strerror(err) + ")";
}

timeval ToTimeval(std::chrono::milliseconds ms) {
  const int64_t v = std::max<int64_t>(1, ms.count());
  return timeval{static_cast<time_t>(v / 1000), static_cast<suseconds_t>((v % 1000) * 1000)};
}

std::string Bytes(size_t have, size_t want) {
  // Reply progress as "header + payload" so a reader sees which part was cut.
  const size_t h = std::min(have, kEchoHeaderBytes);
  return std::to_string(h) + " + " + std::to_string(have - h) + " of " +
         std::to_string(kEchoHeaderBytes) + " + " + std::to_string(want - kEchoHeaderBytes);
}

}  // namespace

const char* EchoErrorKindName(EchoErrorKind kind) {
  switch (kind) {
    case EchoErrorKind::kRefused: return "refused";
    case EchoErrorKind::kUnreachable: return "unreachable";
    case EchoErrorKind::kTimeout: return "timeout";
    case EchoErrorKind::kReset: return "reset";
    case EchoErrorKind::kShortRead: return "short read";
    case EchoErrorKind::kProtocol: return "protocol";
    case EchoErrorKind::kMismatch: return "mismatch";
    case EchoErrorKind::kSystem: return "system";
  }
  return "?";
}

std::string FormatAddress(const sockaddr_in& a) {
  char ip[INET_ADDRSTRLEN] = "?";
  inet_ntop(AF_INET, &a.sin_addr, ip, sizeof ip);
  return std::string(ip) + ":" + std::to_string(ntohs(a.sin_port));
}

EchoConnection EchoConnection::Connect(const sockaddr_in& server, const EchoClientOptions& options) {
  const std::string who = "echo " + FormatAddress(server) + ": ";
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    const int err = errno;
    throw EchoError(EchoErrorKind::kSystem, who + "socket(AF_INET, SOCK_STREAM) failed: " + ErrnoText(err));
  }
  // From here on the connection object owns fd and closes it on every path.
  EchoConnection c(fd, server, options);
  auto set = [&](int level, int name, const void* v, socklen_t len, const char* what) {
    if (setsockopt(fd, level, name, v, len) != 0) {
      const int err = errno;
      c.Throw(EchoErrorKind::kSystem, std::string("setsockopt(") + what + ") failed: " + ErrnoText(err));
    }
  };
  // Linux bounds a blocking connect() by SO_SNDTIMEO (it then fails with EINPROGRESS).
  const timeval ct = ToTimeval(options.connect_timeout);
  set(SOL_SOCKET, SO_SNDTIMEO, &ct, sizeof ct, "SO_SNDTIMEO");
  int rc;
  do {
    rc = connect(fd, reinterpret_cast<const sockaddr*>(&server), sizeof server);
  } while (rc != 0 && errno == EINTR);
  if (rc != 0) {
    const int err = errno;
    switch (err) {
      case ECONNREFUSED:
        c.Throw(EchoErrorKind::kRefused, "connect refused " + ErrnoText(err) + ": nothing listens on that port");
      case ENETUNREACH:
      case EHOSTUNREACH:
      case EADDRNOTAVAIL:
        c.Throw(EchoErrorKind::kUnreachable, "connect failed, server unreachable: " + ErrnoText(err));
      case EINPROGRESS:
      case EAGAIN:
      case ETIMEDOUT:
        c.Throw(EchoErrorKind::kTimeout, "connect timed out after " +
                                             std::to_string(options.connect_timeout.count()) +
                                             " ms (server unreachable or not accepting)");
      default: c.Throw(EchoErrorKind::kSystem, "connect failed: " + ErrnoText(err));
    }
  }
  const timeval io = ToTimeval(options.io_timeout);
  set(SOL_SOCKET, SO_SNDTIMEO, &io, sizeof io, "SO_SNDTIMEO");
  set(SOL_SOCKET, SO_RCVTIMEO, &io, sizeof io, "SO_RCVTIMEO");
  const int one = 1;
  set(IPPROTO_TCP, TCP_NODELAY, &one, sizeof one, "TCP_NODELAY");
  return c;
}

EchoConnection::EchoConnection(EchoConnection&& o) noexcept
    : fd_(std::exchange(o.fd_, -1)), peer_(o.peer_), options_(o.options_), reply_(std::move(o.reply_)) {}

EchoConnection& EchoConnection::operator=(EchoConnection&& o) noexcept {
  if (this != &o) {
    Close();
    fd_ = std::exchange(o.fd_, -1);
    peer_ = o.peer_;
    options_ = o.options_;
    reply_ = std::move(o.reply_);
  }
  return *this;
}

EchoConnection::~EchoConnection() { Close(); }

void EchoConnection::Close() {
  if (fd_ < 0) return;
  if (options_.close_with_reset) {
    const linger abort{.l_onoff = 1, .l_linger = 0};
    setsockopt(fd_, SOL_SOCKET, SO_LINGER, &abort, sizeof abort);  // best effort: FIN otherwise
  }
  ::close(std::exchange(fd_, -1));
}

void EchoConnection::Throw(EchoErrorKind kind, const std::string& what) const {
  throw EchoError(kind, "echo " + FormatAddress(peer_) + ": " + what);
}

void EchoConnection::SendRequest(std::span<const uint8_t> payload) {
  if (fd_ < 0) Throw(EchoErrorKind::kSystem, "send on a closed connection");
  if (payload.size() > kEchoMaxPayload) {
    Throw(EchoErrorKind::kProtocol, "payload of " + std::to_string(payload.size()) +
                                        " bytes exceeds the protocol's limit");
  }
  uint8_t header[kEchoHeaderBytes];
  EncodeEchoHeader(static_cast<uint32_t>(payload.size()), header);
  const size_t total = kEchoHeaderBytes + payload.size();
  size_t sent = 0;
  while (sent < total) {
    iovec iov[2];
    int n = 0;
    if (sent < kEchoHeaderBytes) iov[n++] = {header + sent, kEchoHeaderBytes - sent};
    const size_t poff = sent > kEchoHeaderBytes ? sent - kEchoHeaderBytes : 0;
    if (payload.size() > poff) {
      iov[n++] = {const_cast<uint8_t*>(payload.data()) + poff, payload.size() - poff};
    }
    msghdr msg{};
    msg.msg_iov = iov;
    msg.msg_iovlen = static_cast<size_t>(n);
    const ssize_t w = sendmsg(fd_, &msg, MSG_NOSIGNAL);
    if (w < 0) {
      const int err = errno;
      if (err == EINTR) continue;
      const std::string where = " after " + std::to_string(sent) + " of " + std::to_string(total) + " request bytes";
      if (err == EAGAIN || err == EWOULDBLOCK) {
        Throw(EchoErrorKind::kTimeout, "send timed out after " + std::to_string(options_.io_timeout.count()) +
                                           " ms" + where + " (server not reading)");
      }
      if (err == ECONNRESET || err == EPIPE) {
        Throw(EchoErrorKind::kReset, "connection reset by the server while sending " + ErrnoText(err) + where);
      }
      Throw(EchoErrorKind::kSystem, "send failed: " + ErrnoText(err) + where);
    }
    sent += static_cast<size_t>(w);
  }
}

std::span<const uint8_t> EchoConnection::ReceiveReply(size_t expected_length) {
  if (fd_ < 0) Throw(EchoErrorKind::kSystem, "receive on a closed connection");
  const size_t want = kEchoHeaderBytes + expected_length;
  reply_.resize(want);
  size_t have = 0;
  bool header_checked = false;
  while (have < want) {
    // Until the header is checked, take what is there; then wait for the rest in one call.
    const int flags = header_checked ? MSG_WAITALL : 0;
    const ssize_t r = recv(fd_, reply_.data() + have, want - have, flags);
    if (r < 0) {
      const int err = errno;
      if (err == EINTR) continue;
      if (err == EAGAIN || err == EWOULDBLOCK) {
        Throw(EchoErrorKind::kTimeout, "no reply within " + std::to_string(options_.io_timeout.count()) +
                                           " ms (received " + Bytes(have, want) + " reply bytes)");
      }
      if (err == ECONNRESET || err == EPIPE) {
        Throw(EchoErrorKind::kReset, "connection reset by the server " + ErrnoText(err) + " after " +
                                         Bytes(have, want) + " reply bytes");
      }
      Throw(EchoErrorKind::kSystem, "recv failed: " + ErrnoText(err) + " after " + Bytes(have, want) + " reply bytes");
    }
    if (r == 0) {
      Throw(EchoErrorKind::kShortRead,
            "server closed the connection after " + Bytes(have, want) + " reply bytes (short read)");
    }
    have += static_cast<size_t>(r);
    if (!header_checked && have >= kEchoHeaderBytes) {
      const uint32_t announced = DecodeEchoHeader(reply_.data());
      if (announced != expected_length) {
        Throw(EchoErrorKind::kProtocol, "reply announces " + std::to_string(announced) +
                                            " bytes, the request had " + std::to_string(expected_length));
      }
      header_checked = true;
    }
  }
  return std::span<const uint8_t>(reply_).subspan(kEchoHeaderBytes);
}

int64_t EchoConnection::Echo(std::span<const uint8_t> payload) {
  SendRequest(payload);
  const std::span<const uint8_t> reply = ReceiveReply(payload.size());
  if (!std::equal(reply.begin(), reply.end(), payload.begin())) {
    const auto diff = std::mismatch(reply.begin(), reply.end(), payload.begin());
    Throw(EchoErrorKind::kMismatch, "reply differs from the request at byte " +
                                        std::to_string(diff.first - reply.begin()) + " of " +
                                        std::to_string(payload.size()));
  }
  return EchoDigest(reply);
}

int64_t EchoOnce(const sockaddr_in& server, std::span<const uint8_t> payload, const EchoClientOptions& options) {
  EchoConnection c = EchoConnection::Connect(server, options);
  return c.Echo(payload);
}

int CountOpenFds() {
  DIR* d = opendir("/proc/self/fd");
  if (d == nullptr) return -1;
  int n = 0;
  while (const dirent* e = readdir(d)) {
    if (e->d_name[0] != '.') ++n;
  }
  closedir(d);
  return n - 1;  // the directory stream's own descriptor
}

}  // namespace concbench
