#include "models/bare_pipe.h"

#include <gtest/gtest.h>
#include <signal.h>

#include <cerrno>
#include <stdexcept>
#include <string>

#include "process_checks.h"

namespace concbench {
namespace {

TEST(BarePipeEchoTest, EchoesMessagesOfAnySize) {
  const int fds = OpenFdCount();
  {
    BarePipeEcho echo;
    std::string reply;
    // 100 KiB is over a pipe's 64 KiB buffer: the message crosses in several writes and reads.
    for (const std::string& m : {std::string(), std::string("hello"), std::string(100 << 10, 'z')}) {
      echo.RoundTrip(m, &reply);
      EXPECT_EQ(reply, m);
    }
  }
  EXPECT_TRUE(NoChildren());
  EXPECT_EQ(OpenFdCount(), fds);
}

TEST(BarePipeEchoTest, ShutdownReapsTheChildAndEndsTheRoundTrips) {
  BarePipeEcho echo;
  const pid_t pid = echo.pid();
  ASSERT_GT(pid, 0);
  echo.Shutdown();
  EXPECT_EQ(echo.pid(), 0);
  EXPECT_TRUE(NoChildren());
  errno = 0;
  EXPECT_EQ(kill(pid, 0), -1);  // reaped, not a zombie
  std::string reply;
  EXPECT_THROW(echo.RoundTrip("late", &reply), std::logic_error);
  echo.Shutdown();  // idempotent
}

TEST(BarePipeEchoTest, AChildThatDiedIsAnErrorNotASignal) {
  BarePipeEcho echo;
  kill(echo.pid(), SIGKILL);
  std::string reply;
  // Either the write fails with EPIPE (SIGPIPE is ignored) or the read sees end-of-file.
  EXPECT_ANY_THROW(echo.RoundTrip(std::string(1 << 20, 'x'), &reply));
  echo.Shutdown();
  EXPECT_TRUE(NoChildren());
}

}  // namespace
}  // namespace concbench
