// Finding a row by name in one of concbench's tables (models, workloads, counters).
#pragma once

#include <span>
#include <string_view>

namespace concbench {

// The row of `rows` whose `name` is `name`, or nullptr.
template <class Row>
const Row* FindNamed(std::span<const Row> rows, std::string_view name) {
  for (const Row& r : rows) {
    if (r.name == name) return &r;
  }
  return nullptr;
}

}  // namespace concbench
