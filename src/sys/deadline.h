// Deadlines for waits that sleep in poll(2): the one place a time limit becomes a poll timeout.
//
// A wait that must end (for a child, for a pipe) keeps a steady_clock deadline and hands poll
// the time left on each call. PollTimeoutMs rounds that time up, so poll never wakes before the
// deadline and a loop around it neither spins through the last fraction of a millisecond nor
// sleeps past the deadline by more than poll's own lateness. time_point::max() means no deadline.
//
//   const auto deadline = concbench::DeadlineAfter(std::chrono::steady_clock::now(), limit);
//   ::poll(fds, n, concbench::PollTimeoutMs(deadline, std::chrono::steady_clock::now()));
#pragma once

#include <chrono>
#include <string_view>

namespace concbench {

// Throws std::invalid_argument("<what> must be >= 0 ms (0: none), got -5") for a negative limit.
void CheckTimeLimit(std::chrono::milliseconds limit, std::string_view what);

// `limit` after `start`; a limit of 0 (none) is time_point::max(), and so is one too far away to
// represent. CheckTimeLimit's std::invalid_argument for a negative limit.
std::chrono::steady_clock::time_point DeadlineAfter(std::chrono::steady_clock::time_point start,
                                                    std::chrono::milliseconds limit);

// The timeout for poll(2) at `now` to wake at `deadline`: the time left rounded up to whole
// milliseconds, 0 once it has passed, -1 (wait without limit) for time_point::max(), at most
// about twelve days so it fits in an int.
int PollTimeoutMs(std::chrono::steady_clock::time_point deadline, std::chrono::steady_clock::time_point now);

}  // namespace concbench
