#include "models/bare_pipe.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <stdexcept>
#include <string>

#include "measure/timer.h"
#include "models/worker.h"
#include "process_checks.h"
#include "sys/proc_stat.h"

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

TEST(BarePipeEchoTest, AStoppedChildIsReportedAsStalledAndReaped) {
  // "hello" waits for the reply; 1 MiB already waits to be written (a pipe takes 64 KiB).
  for (const std::string& m : {std::string("hello"), std::string(1 << 20, 'x')}) {
    const int fds = OpenFdCount();
    BarePipeEcho echo;
    EXPECT_EQ(echo.StallTimeout(), std::chrono::seconds(60));
    echo.SetStallTimeout(std::chrono::seconds(1));
    const pid_t pid = echo.pid();
    ASSERT_EQ(kill(pid, SIGSTOP), 0);
    int st = 0;
    ASSERT_EQ(waitpid(pid, &st, WUNTRACED), pid);  // stopped before the round trip starts
    std::string reply;
    Stopwatch w;
    try {
      echo.RoundTrip(m, &reply);
      ADD_FAILURE() << "RoundTrip returned although the child was stopped";
    } catch (const WorkerStalled& e) {
      EXPECT_EQ(e.pid(), pid);
      const std::string want = "bare pipe echo stalled: no reply for 1.";
      EXPECT_EQ(std::string(e.what()).rfind(want, 0), 0u) << e.what();
      EXPECT_NE(std::string(e.what()).find("the echo child (pid " + std::to_string(pid) + ", stopped (T)) silent 1."),
                std::string::npos)
          << e.what();
    }
    EXPECT_LT(w.ElapsedSeconds(), 15.0);
    EXPECT_EQ(echo.pid(), 0);
    EXPECT_TRUE(ChildrenOf(getpid()).empty());
    EXPECT_EQ(OpenFdCount(), fds);
    EXPECT_THROW(echo.RoundTrip("late", &reply), std::logic_error);
    EXPECT_THROW(echo.SetStallTimeout(std::chrono::milliseconds(-1)), std::invalid_argument);
  }
}

}  // namespace
}  // namespace concbench
