// Waiting for forked children by pid, always with a deadline: the one child reaper.
//
// Every wait here ends, at the child's end or at a deadline; a child that has not ended by then
// is left to the caller (ReapWithin) or killed with SIGKILL and reaped (the others), so no
// caller can hang on a child and no zombie is left behind. Children are reaped by pid, never
// with waitpid(-1), so a wait never takes a child that another part of the program waits for.
// A pid that is not (or no longer) a child of this process counts as reaped without a status,
// and is never sent a signal: its number may already belong to someone else.
//
// The wait sleeps in poll(2) on a pidfd, which wakes the moment the child ends. Where there is
// no pidfd (ThreadSanitizer, see reaper.cc; a kernel before 5.3; no descriptor left) it checks
// waitpid every millisecond instead: the same result, a millisecond later at most.
//
// Thread-safe in the sense of waitpid: two threads must not wait for the same pid.
//
//   if (auto st = concbench::ReapOrKill(pid, std::chrono::seconds(1)))
//     std::cerr << concbench::DescribeWaitStatus(*st);
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <span>

namespace concbench {

// How long a SIGKILLed child may take to be reaped before it is given up on (a child stuck in
// an uninterruptible kernel call dies only when that call returns).
inline constexpr std::chrono::seconds kKilledChildTimeout{5};

// Waits at most `timeout` for child `pid` to end and reaps it. Returns its wait status, or
// nothing if it is still running at the deadline (or is not a child of this process).
std::optional<int> ReapWithin(pid_t pid, std::chrono::milliseconds timeout);

// Sends SIGKILL to child `pid` and reaps it. Returns its wait status, or nothing if it could not
// be reaped within kKilledChildTimeout (then a line on stderr names it).
std::optional<int> KillAndReap(pid_t pid);

// Gives child `pid`, expected to end by itself, `grace` to do so, then KillAndReap.
std::optional<int> ReapOrKill(pid_t pid, std::chrono::milliseconds grace);

struct ChildStatus {
  pid_t pid = 0;
  std::optional<int> wait_status;  // nothing: it could not be reaped, even after SIGKILL
};

// Reaps every child in `pids`: waits until `deadline` for them to end by themselves, then sends
// SIGKILL to every one still alive at once and reaps those. Returns the first child, in `pids`
// order, that did not exit with status 0 (killed ones included), or nothing if every one did.
// A deadline already past kills at once whatever has not ended yet.
std::optional<ChildStatus> ReapAll(std::span<const pid_t> pids, std::chrono::steady_clock::time_point deadline);

}  // namespace concbench
