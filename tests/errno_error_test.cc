#include "sys/errno_error.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <system_error>

namespace concbench {
namespace {

TEST(ErrnoErrorTest, ThrowsTheCurrentErrnoWithTheCallInFront) {
  try {
    if (close(-1) != 0) ThrowErrno("ProcessPool: close (fd -1)");
    FAIL() << "close(-1) succeeded";
  } catch (const std::system_error& e) {
    EXPECT_EQ(e.code().value(), EBADF);
    EXPECT_EQ(e.code().category(), std::generic_category());
    EXPECT_EQ(std::string(e.what()), "ProcessPool: close (fd -1): Bad file descriptor");
  }
}

TEST(ErrnoErrorTest, ThrowsAnErrnoSavedEarlier) {
  errno = 0;
  try {
    ThrowErrno(EAGAIN, "fork (worker 3 of 4)");
  } catch (const std::system_error& e) {
    EXPECT_EQ(e.code().value(), EAGAIN);
    EXPECT_EQ(std::string(e.what()), "fork (worker 3 of 4): Resource temporarily unavailable");
  }
}

}  // namespace
}  // namespace concbench
