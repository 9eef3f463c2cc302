#include "sys/rlimit.h"

#include <gtest/gtest.h>
#include <sys/resource.h>

#include <fstream>
#include <string>

#include "process_checks.h"

namespace concbench {
namespace {

TEST(RlimitTest, DescribesSoftAndHardLimits) {
  const int rc = RunInChild([] {
    const rlimit rl{100, 200};
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0) return 10;
    return DescribeRlimit(RLIMIT_NOFILE) == "100/200" ? 0 : 11;
  });
  EXPECT_EQ(rc, 0);
}

TEST(RlimitTest, DescribesAnInfiniteLimitAsUnlimited) {
  const int rc = RunInChild([] {
    const rlimit rl{RLIM_INFINITY, RLIM_INFINITY};
    if (setrlimit(RLIMIT_CPU, &rl) != 0) return 10;
    return DescribeRlimit(RLIMIT_CPU) == "unlimited/unlimited" ? 0 : 11;
  });
  EXPECT_EQ(rc, 0);
}

TEST(RlimitTest, AResourceThatDoesNotExistIsUnknown) { EXPECT_EQ(DescribeRlimit(9999), "unknown"); }

TEST(RlimitTest, TaskLimitsNameEveryLimitThatCapsThreadsAndProcesses) {
  const int rc = RunInChild([] {
    const rlimit rl{100, 200};
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0) return 10;
    const std::string s = DescribeTaskLimits();
    std::string pid_max;
    std::getline(std::ifstream("/proc/sys/kernel/pid_max"), pid_max);
    if (s.rfind("RLIMIT_NPROC=", 0) != 0) return 11;
    if (s.find(" RLIMIT_NOFILE=100/200 ") == std::string::npos) return 12;
    if (s.find(" RLIMIT_STACK=") == std::string::npos) return 13;
    if (s.find(" threads-max=") == std::string::npos) return 14;
    if (s.find(" pid_max=" + pid_max + " ") == std::string::npos) return 15;
    if (s.find(" max_map_count=") == std::string::npos) return 16;
    return 0;
  });
  EXPECT_EQ(rc, 0);
}

}  // namespace
}  // namespace concbench
