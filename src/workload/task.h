// What one task is, for every model: a function from an int64 input to an int64 result.
//
// Results are summed into the checksum each family verifies, so a task that is lost, run twice
// or run on the wrong input changes the sum.
#pragma once

#include <cstdint>
#include <functional>
#include <numeric>
#include <string>
#include <vector>

namespace concbench {

using TaskFn = std::function<int64_t(int64_t)>;

// 0, 1, ..., tasks − 1: the inputs of a batch whose task i works on its own index.
inline std::vector<int64_t> TaskIndices(int64_t tasks) {
  std::vector<int64_t> v(static_cast<size_t>(tasks));
  std::iota(v.begin(), v.end(), 0);
  return v;
}

// `tasks` payloads of `bytes` bytes each (none when bytes ≤ 0), neighbours different, so a
// payload delivered to the wrong task is noticed: what crosses a process boundary with a task.
inline std::vector<std::string> DistinctPayloads(size_t tasks, int64_t bytes) {
  std::vector<std::string> p;
  if (bytes <= 0) return p;
  p.reserve(tasks);
  for (size_t i = 0; i < tasks; ++i) p.emplace_back(static_cast<size_t>(bytes), static_cast<char>('a' + i % 26));
  return p;
}

}  // namespace concbench
