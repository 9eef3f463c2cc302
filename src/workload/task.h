// What one task is, for every model: a function from an int64 input to an int64 result.
//
// Results are summed into the checksum each family verifies, so a task that is lost, run twice
// or run on the wrong input changes the sum.
#pragma once

#include <cstdint>
#include <functional>

namespace concbench {

using TaskFn = std::function<int64_t(int64_t)>;

}  // namespace concbench
