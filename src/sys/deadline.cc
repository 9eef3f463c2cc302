#include "sys/deadline.h"

#include <algorithm>
#include <cstdint>
#include <stdexcept>
#include <string>

namespace concbench {

using Clock = std::chrono::steady_clock;

void CheckTimeLimit(std::chrono::milliseconds limit, std::string_view what) {
  if (limit.count() < 0) {
    throw std::invalid_argument(std::string(what) + " must be >= 0 ms (0: none), got " + std::to_string(limit.count()));
  }
}

Clock::time_point DeadlineAfter(Clock::time_point start, std::chrono::milliseconds limit) {
  CheckTimeLimit(limit, "a time limit");
  if (limit.count() == 0 || limit >= std::chrono::floor<std::chrono::milliseconds>(Clock::time_point::max() - start)) {
    return Clock::time_point::max();
  }
  return start + limit;
}

int PollTimeoutMs(Clock::time_point deadline, Clock::time_point now) {
  if (deadline == Clock::time_point::max()) return -1;
  if (now >= deadline) return 0;
  const int64_t left = std::chrono::ceil<std::chrono::milliseconds>(deadline - now).count();
  return static_cast<int>(std::min<int64_t>(left, 1 << 30));
}

}  // namespace concbench
