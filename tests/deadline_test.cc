#include "sys/deadline.h"

#include <gtest/gtest.h>

#include <chrono>
#include <stdexcept>

namespace concbench {
namespace {

using std::chrono::milliseconds;
using std::chrono::nanoseconds;
using Clock = std::chrono::steady_clock;

TEST(DeadlineTest, ALimitOfZeroOrOneTooFarAwayIsNoDeadline) {
  const Clock::time_point t0 = Clock::now();
  EXPECT_EQ(DeadlineAfter(t0, milliseconds(0)), Clock::time_point::max());
  EXPECT_EQ(DeadlineAfter(t0, milliseconds::max()), Clock::time_point::max());
  EXPECT_EQ(DeadlineAfter(t0, milliseconds(1500)), t0 + milliseconds(1500));
  EXPECT_THROW(DeadlineAfter(t0, milliseconds(-1)), std::invalid_argument);
}

TEST(DeadlineTest, ANegativeLimitIsRefusedByName) {
  try {
    CheckTimeLimit(milliseconds(-5), "--timeout_s");
    ADD_FAILURE() << "a negative limit was accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(), "--timeout_s must be >= 0 ms (0: none), got -5");
  }
  CheckTimeLimit(milliseconds(0), "zero");
}

TEST(DeadlineTest, PollTimeoutIsTheTimeLeftRoundedUp) {
  const Clock::time_point t0 = Clock::now();
  EXPECT_EQ(PollTimeoutMs(t0 + milliseconds(3), t0), 3);
  EXPECT_EQ(PollTimeoutMs(t0 + nanoseconds(2'000'001), t0), 3);  // never wakes early
  EXPECT_EQ(PollTimeoutMs(t0 + nanoseconds(1), t0), 1);
  EXPECT_EQ(PollTimeoutMs(t0, t0), 0);
  EXPECT_EQ(PollTimeoutMs(t0, t0 + milliseconds(5)), 0);
  EXPECT_EQ(PollTimeoutMs(Clock::time_point::max(), t0), -1);
  EXPECT_EQ(PollTimeoutMs(t0 + std::chrono::hours(24 * 365), t0), 1 << 30);
}

}  // namespace
}  // namespace concbench
