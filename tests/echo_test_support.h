// Helpers for the tests of the echo clients (echo_test.cc, coro_test.cc): a port nothing
// listens on, and a check that a test leaves no descriptor open.
#pragma once

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sys/uv_loop.h"
#include "workload/echo_client.h"

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

}  // namespace concbench
