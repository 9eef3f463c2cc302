#include "sys/reaper.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <optional>
#include <vector>

#include "process_checks.h"

namespace concbench {
namespace {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// The exit status in a reaped child's wait status; -1 if it was not reaped or did not exit.
int ExitStatus(const std::optional<int>& st) { return st && WIFEXITED(*st) ? WEXITSTATUS(*st) : -1; }
// The signal that killed a reaped child; -1 if it was not reaped or was not killed.
int KillSignal(const std::optional<int>& st) { return st && WIFSIGNALED(*st) ? WTERMSIG(*st) : -1; }

// Forks a child that exits with `status`, or waits to be killed when status < 0.
pid_t ForkChild(int status) {
  std::fflush(nullptr);
  const pid_t pid = fork();
  if (pid == 0) {
    if (status < 0) {
      for (;;) pause();
    }
    _exit(status);
  }
  return pid;
}

TEST(ReaperTest, ReturnsTheStatusOfAChildThatExits) {
  EXPECT_EQ(ExitStatus(ReapWithin(ForkChild(3), std::chrono::seconds(10))), 3);
  EXPECT_TRUE(NoChildren());
}

TEST(ReaperTest, ReturnsNothingForAChildStillAliveAtTheDeadline) {
  const pid_t pid = ForkChild(-1);
  const auto start = Clock::now();
  EXPECT_FALSE(ReapWithin(pid, milliseconds(200)).has_value());
  const double waited = SecondsSince(start);
  EXPECT_GE(waited, 0.15);  // it did wait, about until the deadline
  EXPECT_LT(waited, 5.0);   // and no longer than that, however loaded the machine
  EXPECT_EQ(kill(pid, 0), 0);  // still there, not reaped
  KillAndReap(pid);
  EXPECT_TRUE(NoChildren());
}

TEST(ReaperTest, KillAndReapEndsAStoppedChild) {
  const pid_t pid = ForkChild(-1);
  ASSERT_EQ(kill(pid, SIGSTOP), 0);
  int stopped = 0;
  ASSERT_EQ(waitpid(pid, &stopped, WUNTRACED), pid);  // it really is stopped
  ASSERT_TRUE(WIFSTOPPED(stopped));
  EXPECT_EQ(KillSignal(KillAndReap(pid)), SIGKILL);
  EXPECT_TRUE(NoChildren());
}

TEST(ReaperTest, ReapOrKillWaitsForAChildThatEndsByItself) {
  EXPECT_EQ(ExitStatus(ReapOrKill(ForkChild(0), std::chrono::seconds(10))), 0);
  EXPECT_TRUE(NoChildren());
}

TEST(ReaperTest, ReapOrKillKillsAChildThatOutstaysItsGrace) {
  EXPECT_EQ(KillSignal(ReapOrKill(ForkChild(-1), milliseconds(100))), SIGKILL);
  EXPECT_TRUE(NoChildren());
}

TEST(ReaperTest, ReapAllReapsASetAndReportsTheFirstBadStatus) {
  const std::vector<pid_t> pids = {ForkChild(0), ForkChild(0), ForkChild(5), ForkChild(0), ForkChild(7)};
  const auto bad = ReapAll(pids, Clock::now() + std::chrono::seconds(10));
  ASSERT_TRUE(bad.has_value());
  EXPECT_EQ(bad->pid, pids[2]);
  EXPECT_EQ(ExitStatus(bad->wait_status), 5);
  EXPECT_TRUE(NoChildren());
}

TEST(ReaperTest, ReapAllOfChildrenThatAllExitCleanlyReportsNothing) {
  const std::vector<pid_t> pids = {ForkChild(0), ForkChild(0), ForkChild(0)};
  EXPECT_FALSE(ReapAll(pids, Clock::now() + std::chrono::seconds(10)).has_value());
  EXPECT_TRUE(NoChildren());
  EXPECT_FALSE(ReapAll({}, Clock::now()).has_value());
}

TEST(ReaperTest, ReapAllKillsTheChildrenStillAliveAtTheDeadline) {
  const std::vector<pid_t> pids = {ForkChild(0), ForkChild(-1), ForkChild(-1)};
  const auto start = Clock::now();
  const auto bad = ReapAll(pids, start + milliseconds(200));
  EXPECT_LT(SecondsSince(start), 5.0);
  ASSERT_TRUE(bad.has_value());
  EXPECT_EQ(bad->pid, pids[1]);
  EXPECT_EQ(KillSignal(bad->wait_status), SIGKILL);
  EXPECT_TRUE(NoChildren());
}

}  // namespace
}  // namespace concbench
