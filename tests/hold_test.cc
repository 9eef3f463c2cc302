#include "models/hold.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <functional>
#include <string>

#include "measure/memory.h"
#include "measure/timer.h"
#include "process_checks.h"

namespace concbench {
namespace {

TEST(HoldTest, ThreadsAreAllAliveAtOnceAndEveryResultCounts) {
  int64_t alive_threads = 0, vm_during = 0;
  const int64_t vm_before = *ReadProcStatusKib("VmSize");
  const int64_t threads_before = *ReadProcStatusKib("Threads");
  const int64_t sum = HoldThreads(50, 1024, [&] {
    alive_threads = *ReadProcStatusKib("Threads");
    vm_during = *ReadProcStatusKib("VmSize");
  });
  EXPECT_EQ(sum, 50 * 51 / 2);
  EXPECT_GE(alive_threads, threads_before + 50);
  EXPECT_GE(vm_during - vm_before, 50 * 1024);  // every thread reserved its 1 MiB stack
#if defined(__SANITIZE_THREAD__)
  // TSan starts a background thread of its own the first time a thread is created.
  EXPECT_LE(*ReadProcStatusKib("Threads"), threads_before + 1);
#else
  EXPECT_EQ(*ReadProcStatusKib("Threads"), threads_before);  // all joined
#endif
}

TEST(HoldTest, ZeroTasksIsANoOp) {
  EXPECT_EQ(HoldThreads(0, 64, nullptr), 0);
  EXPECT_EQ(HoldChildren(0, nullptr), 0);
  EXPECT_THROW(HoldThreads(1, 8, nullptr), std::invalid_argument);
}

TEST(HoldTest, ThreadLimitIsReportedAndEverythingIsJoined) {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  GTEST_SKIP() << "sanitizer runtimes reserve terabytes of address space: RLIMIT_AS cannot be lowered";
#endif
  const int rc = RunInChild([] {
    // Leave room for 64 MiB of stacks only: the 100th 1 MiB thread cannot be created.
    const int64_t vm = *ReadProcStatusKib("VmSize");
    rlimit rl{static_cast<rlim_t>((vm + 64 * 1024) * 1024), static_cast<rlim_t>((vm + 64 * 1024) * 1024)};
    if (setrlimit(RLIMIT_AS, &rl) != 0) return 10;
    try {
      HoldThreads(1000, 1024, nullptr);
      return 11;  // the limit was not hit
    } catch (const LimitError& e) {
      const std::string what = e.what();
      // The stack's mmap or pthread_create itself is refused, depending on where the limit bites.
      if (what.find(" failed after ") == std::string::npos) return 12;
      if (what.find("RLIMIT_NPROC=") == std::string::npos) return 13;
    }
    if (*ReadProcStatusKib("Threads") != 1) return 14;  // nothing leaked
    return HoldThreads(3, 64, nullptr) == 6 ? 0 : 15;  // and the process is still healthy
  });
  EXPECT_EQ(rc, 0);
}

TEST(HoldTest, ChildrenAreAllAliveAtOnceAndReapedAfterwards) {
  const int fds = OpenFdCount();
  int64_t pss_read = 0;
  size_t seen = 0;
  const int64_t sum = HoldChildren(20, [&](std::span<const pid_t> pids) {
    seen = pids.size();
    for (pid_t p : pids) {
      ASSERT_EQ(kill(p, 0), 0);  // alive
      pss_read += ReadSmapsRollupKib("Pss", p).has_value();
    }
  });
  EXPECT_EQ(sum, 20 * 21 / 2);
  EXPECT_EQ(seen, 20u);
  EXPECT_EQ(pss_read, 20);
  EXPECT_TRUE(NoChildren());
  EXPECT_EQ(OpenFdCount(), fds);
}

TEST(HoldTest, AChildKilledWhileAliveIsReportedWithinBoundedTime) {
  const int fds = OpenFdCount();
  Stopwatch w;
  try {
    HoldChildren(5, [](std::span<const pid_t> pids) {
      kill(pids[2], SIGKILL);
    }, std::chrono::seconds(10));
    FAIL() << "the killed child was not reported";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("killed by signal 9"), std::string::npos) << e.what();
  }
  EXPECT_LT(w.ElapsedSeconds(), 10.0);
  EXPECT_TRUE(NoChildren());
  EXPECT_EQ(OpenFdCount(), fds);
}

TEST(HoldTest, TheReportsAreAwaitedFromTheLastForkNotTheFirst) {
  // Forking 1,000 children takes longer than 100 ms; every report still arrives within 100 ms of
  // the last fork (the first ones are in the pipe already), so the batch succeeds. The children
  // are then released and reaped; under a sanitizer on a busy machine 1,000 exits take longer
  // than 100 ms too, and they are not killed for it.
  const Stopwatch w;
  EXPECT_EQ(HoldChildren(1000, nullptr, std::chrono::milliseconds(100)), 1000 * 1001 / 2);
  if (w.ElapsedSeconds() < 0.1) GTEST_SKIP() << "1,000 forks took under 100 ms: nothing shown";
  EXPECT_TRUE(NoChildren());
}

TEST(HoldTest, ForkLimitIsReportedAndEveryChildIsReaped) {
  const int rc = RunInChild([] {
    if (const int failed = LimitProcessesOfThisUser(8)) return failed;
    const int fds = OpenFdCount();
    try {
      HoldChildren(200, nullptr);
      return 22;
    } catch (const LimitError& e) {
      if (std::string(e.what()).find("fork failed after") == std::string::npos) return 23;
    }
    if (!NoChildren()) return 24;
    if (OpenFdCount() != fds) return 25;
    return 0;
  });
  EXPECT_EQ(rc, 0);
}

}  // namespace
}  // namespace concbench
