#include "models/sync.h"

namespace concbench {

std::vector<int64_t> RunSync(std::span<const int64_t> inputs, const TaskFn& task) {
  std::vector<int64_t> results;
  results.reserve(inputs.size());
  for (const int64_t x : inputs) results.push_back(task(x));
  return results;
}

}  // namespace concbench
