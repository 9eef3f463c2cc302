#include "sys/proc_stat.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <vector>

namespace concbench {
namespace {

// Forks a child that waits to be killed.
pid_t ForkPausingChild() {
  std::fflush(nullptr);
  const pid_t pid = fork();
  if (pid == 0) {
    for (;;) pause();
  }
  return pid;
}

// Stops `pid` and returns once waitpid has seen it stop.
void StopAndWait(pid_t pid) {
  ASSERT_EQ(kill(pid, SIGSTOP), 0);
  int st = 0;
  ASSERT_EQ(waitpid(pid, &st, WUNTRACED), pid);
  ASSERT_TRUE(WIFSTOPPED(st));
}

// Kills `pid` and returns once it is a zombie, not yet reaped.
void KillAndWaitUnreaped(pid_t pid) {
  ASSERT_EQ(kill(pid, SIGKILL), 0);
  siginfo_t info{};
  ASSERT_EQ(waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOWAIT), 0);
}

void Reap(pid_t pid) { ASSERT_EQ(waitpid(pid, nullptr, 0), pid); }

TEST(ProcStatTest, ThisProcessIsRunningWhileItReads) { EXPECT_EQ(ProcessState(getpid()), "running (R)"); }

TEST(ProcStatTest, AChildGoesFromSleepingToStoppedToZombieToGone) {
  const pid_t pid = ForkPausingChild();
  ASSERT_GT(pid, 0);
  StopAndWait(pid);
  EXPECT_EQ(ProcessState(pid), "stopped (T)");
  KillAndWaitUnreaped(pid);
  EXPECT_EQ(ProcessState(pid), "zombie (Z)");
  Reap(pid);
  EXPECT_EQ(ProcessState(pid), "gone");
}

TEST(ProcStatTest, NoProcessIsGone) {
  EXPECT_EQ(ProcessState(0), "gone");
  EXPECT_EQ(ProcessState(-1), "gone");
}

TEST(ProcStatTest, ACommandNameWithParenthesesAndAFakeStateIsSkipped) {
  // "/proc/N/stat" reads "N (a) R 1 (b) T <ppid> ...": a parser that stops at the first ')'
  // sees state R and parent 1.
  std::fflush(nullptr);
  const pid_t pid = fork();
  if (pid == 0) {
    prctl(PR_SET_NAME, "a) R 1 (b", 0, 0, 0);
    raise(SIGSTOP);  // stopped only once it has its name
    for (;;) pause();
  }
  ASSERT_GT(pid, 0);
  int st = 0;
  ASSERT_EQ(waitpid(pid, &st, WUNTRACED), pid);
  ASSERT_TRUE(WIFSTOPPED(st));
  EXPECT_EQ(ProcessState(pid), "stopped (T)");
  const std::vector<pid_t> kids = ChildrenOf(getpid());
  EXPECT_EQ(kids, std::vector<pid_t>{pid});
  KillAndWaitUnreaped(pid);
  Reap(pid);
}

TEST(ProcStatTest, ChildrenOfListsForkedChildrenZombiesIncludedUntilTheyAreReaped) {
  EXPECT_TRUE(ChildrenOf(getpid()).empty());
  std::vector<pid_t> pids;
  for (int i = 0; i < 3; ++i) pids.push_back(ForkPausingChild());
  EXPECT_EQ(ChildrenOf(getpid()), pids);  // forked in ascending order, absent a pid wrap-around
  EXPECT_TRUE(ChildrenOf(pids[0]).empty());
  KillAndWaitUnreaped(pids[1]);
  EXPECT_EQ(ChildrenOf(getpid()), pids);  // a zombie is still a child
  for (pid_t p : pids) kill(p, SIGKILL);
  for (pid_t p : pids) Reap(p);
  EXPECT_TRUE(ChildrenOf(getpid()).empty());
}

}  // namespace
}  // namespace concbench
