// The `sync` model: every task runs in the calling thread, one after another, each starting only
// when the previous one has returned (notebook section 1).
//
// It is the baseline every other model is compared with: no threads, no loop, no processes.
// Results come back in input order. An exception thrown by a task propagates to the caller and
// the remaining tasks do not run.
//
//   std::vector<int64_t> in = {0, 1, 2};
//   auto out = concbench::RunSync(in, [](int64_t x) { return concbench::trabajo(x); });
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "workload/task.h"

namespace concbench {

std::vector<int64_t> RunSync(std::span<const int64_t> inputs, const TaskFn& task);

}  // namespace concbench
