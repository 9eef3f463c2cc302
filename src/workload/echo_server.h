// The echo service of the `echo` workload: real I/O with a server-side delay.
//
// What it is for: giving every model the same real I/O to wait on. Each request is a frame of
// workload/echo_protocol.h (4-byte big-endian length, then the payload); the server answers it
// with the same frame `delay` after the request's last byte arrived. The delay is kept by one
// timerfd on the server's libuv loop (to the microsecond: a libuv timer would fire up to a
// millisecond off, see OnRequest), so the server itself never blocks: it serves any number of
// concurrent connections, and T requests arriving together are all answered one delay later.
//
// What it guarantees:
//   - The constructor starts a thread running a libuv loop with a TCP listener bound to
//     127.0.0.1 on an ephemeral port (port() says which, from uv_tcp_getsockname), and returns
//     only once the listener is accepting. If a libuv call fails, it throws std::runtime_error
//     naming the call and its error, after closing what it had opened and joining the thread.
//   - Replies leave a connection in the order its requests arrived (every request waits the same
//     delay). TCP_NODELAY is set on every accepted connection.
//   - A fault (EchoFault) can be injected for tests of the clients' error paths. Requests are
//     counted over the whole server; the first `fault_after` are answered normally and every
//     later one gets the fault.
//
// How it shuts down: Stop() (or the destructor) wakes the loop with uv_async_send; the loop thread
// closes the listener, every connection (a reply still waiting for its delay is dropped, a write
// in flight is cancelled) and the timer, runs until every close callback has run, and calls
// uv_loop_close; Stop() joins the thread and returns the empty string, or a description of what
// went wrong (for example uv_loop_close failing with EBUSY). No descriptor of the server outlives
// Stop().
//
// Thread safety: port(), address() and the counters may be read from any thread; Stop() must not
// be called concurrently with itself.
//
//   concbench::EchoServer server({.delay = std::chrono::milliseconds(10)});
//   auto conn = concbench::EchoConnection::Connect(server.address(), {});   // echo_client.h
//   ...
//   EXPECT_EQ(server.Stop(), "");
#pragma once

#include <netinet/in.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>

#include "sys/unique_fd.h"

namespace concbench {

enum class EchoFault {
  kNone,
  // Closes the connection with a TCP reset (SO_LINGER 0, then close: uv_tcp_close_reset) as soon
  // as the request has arrived: the client sees ECONNRESET.
  kReset,
  // Sends the reply's header and only the first half of its payload, then closes the connection
  // normally (FIN): the client sees end-of-file in the middle of the reply.
  kShortReply,
  // Never answers; the connection stays open until the server stops: the client must time out.
  kSilent,
};

const char* EchoFaultName(EchoFault fault);

struct EchoServerOptions {
  std::chrono::milliseconds delay{0};  // from a request's last byte to its reply
  EchoFault fault = EchoFault::kNone;
  int64_t fault_after = 0;  // requests answered normally before the fault applies
  int backlog = 4096;       // listen() backlog (the kernel caps it at net.core.somaxconn)
};

struct EchoServerState;  // the loop thread's state (echo_server.cc)

class EchoServer {
 public:
  explicit EchoServer(const EchoServerOptions& options = {});
  ~EchoServer();  // Stop(); an error is printed to stderr, never thrown

  EchoServer(const EchoServer&) = delete;
  EchoServer& operator=(const EchoServer&) = delete;

  uint16_t port() const;
  sockaddr_in address() const;  // 127.0.0.1:port()
  const EchoServerOptions& options() const;

  // Connections accepted and requests received (complete frames) since the start.
  int64_t connections_accepted() const;
  int64_t requests_received() const;
  // Replies whose last byte was handed to the kernel.
  int64_t replies_sent() const;
  // Connections open right now (accepted and not yet closed).
  int64_t connections_open() const;

  // Stops the loop, closes every handle, closes the loop and joins the thread. Idempotent: a
  // second call returns the first call's result.
  std::string Stop();

 private:
  std::unique_ptr<EchoServerState> impl_;
};

// The bare baseline for the echo families: one loopback TCP connection to a plain thread that
// reads each request frame with blocking recv() and writes it back (after `delay`, with a
// blocking sleep) — no event loop, no timers, no connect per request. What one request/reply
// crossing loopback costs at best, measured in the same run as the models.
//
// The constructor listens on 127.0.0.1 (ephemeral port) and starts the thread, which accepts
// exactly one connection and serves it until the client closes it. The destructor wakes the
// thread wherever it waits (shutdown(2) on its sockets), joins it and closes every descriptor.
// Throws std::system_error if a socket call fails.
//
//   concbench::BlockingEchoPeer peer;
//   auto conn = concbench::EchoConnection::Connect(peer.address(), {});
//   conn.Echo(payload);
class BlockingEchoPeer {
 public:
  explicit BlockingEchoPeer(std::chrono::milliseconds delay = std::chrono::milliseconds(0));
  ~BlockingEchoPeer();

  BlockingEchoPeer(const BlockingEchoPeer&) = delete;
  BlockingEchoPeer& operator=(const BlockingEchoPeer&) = delete;

  sockaddr_in address() const { return address_; }

 private:
  void Serve();

  std::chrono::milliseconds delay_;
  UniqueFd listen_fd_;
  std::atomic<int> conn_fd_{-1};
  std::atomic<bool> stopping_{false};
  sockaddr_in address_{};
  std::thread thread_;
};

}  // namespace concbench
