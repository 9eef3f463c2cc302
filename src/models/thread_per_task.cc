#include "models/thread_per_task.h"

#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include "models/hold.h"
#include "sys/rlimit.h"

namespace concbench {

void RunThreadPerTask(int64_t count, const std::function<void(int64_t)>& body) {
  std::vector<std::thread> threads;
  threads.reserve(static_cast<size_t>(count));
  std::string refused;
  for (int64_t i = 0; i < count && refused.empty(); ++i) {
    try {
      threads.emplace_back([&body, i] { body(i); });
    } catch (const std::system_error& e) {
      refused = "std::thread failed after " + std::to_string(i) + " of " + std::to_string(count) +
                " threads: " + e.what() + " (limits: " + DescribeTaskLimits() + ")";
    }
  }
  for (auto& t : threads) t.join();
  if (!refused.empty()) throw LimitError(refused);
}

}  // namespace concbench
