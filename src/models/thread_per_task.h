// One std::thread per task, no reuse (the `threads.per_task` variant): what a pool saves.
//
// RunThreadPerTask starts `count` threads at once, thread i running body(i), and joins them all
// before it returns. When the system refuses a thread (EAGAIN from pthread_create: RLIMIT_NPROC,
// memory for stacks), the threads already started are joined and LimitError (models/hold.h)
// names the count reached and the limits in force; the process is left as it was.
//
//   std::vector<int64_t> r(5);
//   RunThreadPerTask(5, [&](int64_t i) { r[i] = SleepTask(i, 500ms); });  // ~0.5 s
#pragma once

#include <cstdint>
#include <functional>

namespace concbench {

// `body` must outlive the call; an exception from it terminates the process (as from any
// std::thread), so bodies catch their own.
void RunThreadPerTask(int64_t count, const std::function<void(int64_t)>& body);

}  // namespace concbench
