// Holding T tasks alive at once, to measure what one more waiting task costs each model.
//
// HoldThreads starts T threads (one per task, `threads.per_task`), each on a stack of the given
// size mapped for it (and unmapped after its join, so no stack outlives its thread in a cache);
// each records its result (index + 1) and blocks until all T are alive. HoldChildren forks T children
// (`processes.per_task`); each writes its result to a pipe and blocks reading until released.
// While every task is alive, `while_alive` runs on the caller's thread — that is where memory is
// read. Then every task is released and joined or reaped by pid, and the sum of the results is
// returned (T(T+1)/2 when every task ran exactly once).
//
// When the system refuses another thread or process (ENOMEM from a stack's mmap, EAGAIN from
// pthread_create or fork, EMFILE from pipe), the tasks already started are released and joined or reaped, and LimitError names
// the call, the error and the limits in force (sys/rlimit.h); the process is left as it was. Every wait is
// bounded: the children's reports by `timeout` from the last fork, the reaping by `timeout` plus
// what the forks took from the release. A child that dies or never reports makes HoldChildren
// throw instead of hanging, after killing and reaping the rest. A child never returns into the caller's code: it
// ends with _exit. Standard streams are flushed before forking.
//
//   int64_t sum = HoldThreads(1000, 64, [&] { rss = ReadProcStatusKib("VmRSS"); });
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <span>
#include <stdexcept>
#include <string>

namespace concbench {

class LimitError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// stack_kib ≥ 16 (std::invalid_argument otherwise); tasks ≥ 0.
int64_t HoldThreads(int64_t tasks, int64_t stack_kib, const std::function<void()>& while_alive);

int64_t HoldChildren(int64_t tasks, const std::function<void(std::span<const pid_t>)>& while_alive,
                     std::chrono::milliseconds timeout = std::chrono::seconds(30));

}  // namespace concbench
