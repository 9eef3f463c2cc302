#include "sys/wait_status.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>

namespace concbench {
namespace {

TEST(WaitStatusTest, DescribesAnExitStatus) {
  EXPECT_EQ(DescribeWaitStatus(3 << 8), "exited with status 3");
  EXPECT_EQ(DescribeWaitStatus(0), "exited with status 0");
}

TEST(WaitStatusTest, DescribesASignalByNumberAbbreviationAndDescription) {
  EXPECT_EQ(DescribeWaitStatus(SIGKILL), "killed by signal 9 (KILL: Killed)");
  EXPECT_EQ(DescribeWaitStatus(SIGABRT | 0x80), "killed by signal 6 (ABRT: Aborted), core dumped");
}

TEST(WaitStatusTest, DescribesAnyOtherStatusByItsNumber) {
  // 0x137f: stopped by SIGSTOP (waitpid with WUNTRACED), neither an exit nor a death.
  EXPECT_EQ(DescribeWaitStatus(0x137f), "ended with wait status 4991");
}

TEST(WaitStatusTest, DescribesWhatWaitpidReallyReturned) {
  std::fflush(nullptr);
  const pid_t pid = fork();
  if (pid == 0) _exit(3);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  EXPECT_EQ(DescribeWaitStatus(status), "exited with status 3");
}

}  // namespace
}  // namespace concbench
