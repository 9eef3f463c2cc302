// Helpers for the tests of the echo clients and of the runners' echo steps (echo_test.cc,
// coro_test.cc, blocking_test.cc, async_test.cc, coro_runner_test.cc, echo_exchange_test.cc): a
// port nothing listens on, a check that a test leaves no descriptor open, and a server with the
// payloads of a batch and the TaskEnv that points at both.
#pragma once

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>

#include "sys/uv_loop.h"
#include "workload/echo_client.h"
#include "workload/echo_protocol.h"
#include "workload/echo_server.h"
#include "workload/task_env.h"

namespace concbench {

// A TCP socket bound to an ephemeral port of 127.0.0.1, whose address it stores in `address`.
inline int BindLoopback(sockaddr_in& address) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  address = sockaddr_in{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof address;
  EXPECT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  EXPECT_EQ(getsockname(fd, reinterpret_cast<sockaddr*>(&address), &len), 0);
  return fd;
}

// A port on 127.0.0.1 with nothing listening: bound, then closed.
inline sockaddr_in ClosedPort() {
  sockaddr_in a;
  close(BindLoopback(a));
  return a;
}

// libuv opens a pipe for its signal handling the first time any loop is initialised and keeps it
// for the life of the process; open one loop before counting so that pipe is not a "leak".
inline int CountOpenFdsAfterLibuvInit() {
  static const bool initialised = [] {
    UvLoop loop;
    loop.Close();
    return true;
  }();
  (void)initialised;
  return CountOpenFds();
}

// Checks that the descriptors open at construction are open again at destruction. A libuv loop
// holds one more descriptor from its first TCP handle until uv_loop_close (the /dev/null it keeps
// in reserve for EMFILE), so a loop a test opens must be closed before the check runs: declare
// the check first.
class FdLeakCheck {
 public:
  FdLeakCheck() : before_(CountOpenFdsAfterLibuvInit()) {}
  ~FdLeakCheck() { EXPECT_EQ(CountOpenFds(), before_) << "descriptor leak"; }

 private:
  int before_;
};

// An echo server replying `delay` after each request, the payloads of a batch of `tasks` tasks
// of `bytes` bytes, and the TaskEnv an echo step of that size runs with.
//
//   EchoFixture echo(/*tasks=*/4, /*bytes=*/64, 10ms);
//   RunTaskBlocking({{EchoStep(10ms, 64)}}, 3, echo.env);  // EchoDigest(echo.payloads.payload(3))
struct EchoFixture {
  EchoFixture(int64_t tasks, int64_t bytes, std::chrono::milliseconds delay = std::chrono::milliseconds(0))
      : server({.delay = delay}), payloads(tasks, static_cast<size_t>(bytes)),
        env{.echo_server = server.address(), .echo = &payloads} {}

  EchoServer server;
  EchoBatch payloads;
  TaskEnv env;
};

// The same payloads and a port where nothing listens: every echo step is refused.
struct RefusedEchoFixture {
  RefusedEchoFixture(int64_t tasks, int64_t bytes)
      : payloads(tasks, static_cast<size_t>(bytes)), env{.echo_server = ClosedPort(), .echo = &payloads} {}

  EchoBatch payloads;
  TaskEnv env;
};

}  // namespace concbench
