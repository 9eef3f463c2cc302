// The blocking client of the echo service (workload/echo_server.h): one TCP connection, one
// request/reply exchange at a time, on the calling thread.
//
// What it is for: the `sync`, `threads` and `processes` echo families, where each task blocks
// its thread (or process) on a socket the way the notebook's tasks block on time.sleep.
//
// What it guarantees:
//   - Nothing hangs: connect() is bounded by `connect_timeout` and every send and receive by
//     `io_timeout` (SO_SNDTIMEO / SO_RCVTIMEO; each wait is bounded, so a reply that trickles in
//     can take several io_timeouts, but a silent server takes one).
//   - SIGPIPE cannot kill the process: every send uses MSG_NOSIGNAL; a peer that went away is an
//     EchoError of kind kReset.
//   - Every failure is an EchoError whose kind() says what failed and whose what() names the
//     server address, the step and the system error, for example
//     "echo 127.0.0.1:40321: connect refused (ECONNREFUSED): nothing listens on that port" or
//     "echo 127.0.0.1:40321: server closed the connection after 4 + 524288 of 4 + 1048576 reply
//     bytes (short read)".
//   - Echo() checks the reply byte for byte against what was sent before it returns.
//   - The socket is closed by the destructor (or Close()), on every path, errors included.
//
// Not thread-safe: one connection is used by one thread at a time. Separate connections are
// independent.
//
//   auto conn = concbench::EchoConnection::Connect(server.address(), {});
//   int64_t digest = conn.Echo(payload);  // == EchoDigest(payload)
//   int64_t again = concbench::EchoOnce(server.address(), payload, {});  // own connection
#pragma once

#include <netinet/in.h>

#include <chrono>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

namespace concbench {

enum class EchoErrorKind {
  kRefused,      // connect: ECONNREFUSED, nothing listens on that port
  kUnreachable,  // connect: ENETUNREACH / EHOSTUNREACH / EADDRNOTAVAIL
  kTimeout,      // connect, send or receive did not finish within its timeout
  kReset,        // ECONNRESET / EPIPE: the server reset or closed the connection mid-exchange
  kShortRead,    // end-of-file before the whole reply arrived
  kProtocol,     // the reply's header announces a length other than the request's
  kMismatch,     // the reply has the right length but different bytes
  kSystem,       // any other failed system call (socket, setsockopt, EMFILE, ...)
};

const char* EchoErrorKindName(EchoErrorKind kind);

class EchoError : public std::runtime_error {
 public:
  EchoError(EchoErrorKind kind, const std::string& what) : std::runtime_error(what), kind_(kind) {}
  EchoErrorKind kind() const { return kind_; }

 private:
  EchoErrorKind kind_;
};

struct EchoClientOptions {
  std::chrono::milliseconds connect_timeout{5000};  // ≥ 1 ms
  std::chrono::milliseconds io_timeout{5000};       // per send or receive wait, ≥ 1 ms
  // Close with a TCP reset (SO_LINGER 0) instead of FIN once the exchanges are done. The side
  // that closes first keeps each connection in TIME_WAIT for 60 s; a sweep opens hundreds of
  // thousands of connections, and once the ephemeral port range fills with TIME_WAIT sockets
  // every connect() slows down (measured here: ~85k of them made a loopback connect cost ~0.4 ms),
  // which would charge one family for the connections of the families before it. The server
  // treats the reset after a complete exchange as a normal end of the connection.
  bool close_with_reset = true;
};

// "127.0.0.1:40321".
std::string FormatAddress(const sockaddr_in& address);

class EchoConnection {
 public:
  // Connects to `server`. Throws EchoError (kRefused, kUnreachable, kTimeout or kSystem).
  static EchoConnection Connect(const sockaddr_in& server, const EchoClientOptions& options = {});

  EchoConnection(EchoConnection&& other) noexcept;
  EchoConnection& operator=(EchoConnection&& other) noexcept;
  EchoConnection(const EchoConnection&) = delete;
  EchoConnection& operator=(const EchoConnection&) = delete;
  ~EchoConnection();

  // Sends `payload` as one request frame, reads the reply frame and checks it equals the
  // payload. Returns EchoDigest(reply). Throws EchoError; the connection must not be used after
  // an error (its stream position is unknown).
  int64_t Echo(std::span<const uint8_t> payload);

  // The two halves of Echo(), for tests that need to send without reading.
  void SendRequest(std::span<const uint8_t> payload);
  // Reads one reply frame whose header must announce `expected_length` bytes; returns the payload
  // (a view into this connection's buffer, valid until the next call).
  std::span<const uint8_t> ReceiveReply(size_t expected_length);

  int fd() const { return fd_; }
  bool is_open() const { return fd_ >= 0; }
  // Closes the socket (with a reset when options.close_with_reset, else FIN). Idempotent.
  void Close();

 private:
  EchoConnection(int fd, const sockaddr_in& peer, const EchoClientOptions& options)
      : fd_(fd), peer_(peer), options_(options) {}
  [[noreturn]] void Throw(EchoErrorKind kind, const std::string& what) const;

  int fd_ = -1;
  sockaddr_in peer_{};
  EchoClientOptions options_;
  std::vector<uint8_t> reply_;  // header + payload of the last reply
};

// One task of the non-keep-alive families: connect, Echo(payload), close. Returns the digest.
int64_t EchoOnce(const sockaddr_in& server, std::span<const uint8_t> payload,
                 const EchoClientOptions& options = {});

// Descriptors this process has open (the entries of /proc/self/fd, not counting the one used
// to read it), or -1 if /proc is not available. For leak checks.
int CountOpenFds();

}  // namespace concbench
