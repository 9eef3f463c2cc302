#include "sys/rlimit.h"

#include <sys/resource.h>

#include <fstream>

namespace concbench {
namespace {

std::string ReadFirstLine(const char* path) {
  std::ifstream in(path);
  std::string line;
  if (!in || !std::getline(in, line)) return "unknown";
  return line;
}

}  // namespace

std::string DescribeRlimit(int resource) {
  rlimit rl{};
  if (getrlimit(resource, &rl) != 0) return "unknown";
  auto v = [](rlim_t x) { return x == RLIM_INFINITY ? std::string("unlimited") : std::to_string(x); };
  return v(rl.rlim_cur) + "/" + v(rl.rlim_max);
}

std::string DescribeTaskLimits() {
  return "RLIMIT_NPROC=" + DescribeRlimit(RLIMIT_NPROC) + " RLIMIT_NOFILE=" + DescribeRlimit(RLIMIT_NOFILE) +
         " RLIMIT_STACK=" + DescribeRlimit(RLIMIT_STACK) +
         " threads-max=" + ReadFirstLine("/proc/sys/kernel/threads-max") +
         " pid_max=" + ReadFirstLine("/proc/sys/kernel/pid_max") +
         " max_map_count=" + ReadFirstLine("/proc/sys/vm/max_map_count");
}

}  // namespace concbench
