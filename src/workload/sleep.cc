#include "workload/sleep.h"

#include <cerrno>
#include <ctime>

namespace concbench {

void BlockingSleep(std::chrono::nanoseconds d) {
  if (d.count() <= 0) return;
  timespec deadline{};
  clock_gettime(CLOCK_MONOTONIC, &deadline);
  const int64_t ns = deadline.tv_nsec + d.count() % 1'000'000'000;
  deadline.tv_sec += static_cast<time_t>(d.count() / 1'000'000'000 + ns / 1'000'000'000);
  deadline.tv_nsec = static_cast<long>(ns % 1'000'000'000);
  // clock_nanosleep returns the error number instead of setting errno; EINTR restarts the same
  // absolute deadline.
  while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &deadline, nullptr) == EINTR) {
  }
}

int64_t SleepTask(int64_t index, std::chrono::nanoseconds d) {
  BlockingSleep(d);
  return SleepTaskResult(index);
}

}  // namespace concbench
