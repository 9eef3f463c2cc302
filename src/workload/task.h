// What one task is, for every model: a function from an int64 input to an int64 result.
//
// Results are summed into the checksum each family verifies, so a task that is lost, run twice
// or run on the wrong input changes the sum.
#pragma once

#include <cstdint>
#include <functional>
#include <numeric>
#include <vector>

namespace concbench {

using TaskFn = std::function<int64_t(int64_t)>;

// 0, 1, ..., tasks − 1: the inputs of a batch whose task i works on its own index.
inline std::vector<int64_t> TaskIndices(int64_t tasks) {
  std::vector<int64_t> v(static_cast<size_t>(tasks));
  std::iota(v.begin(), v.end(), 0);
  return v;
}

}  // namespace concbench
