#include "sys/unique_fd.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

#include "process_checks.h"

namespace concbench {
namespace {

// True when `fd` is not an open descriptor of this process.
bool IsClosed(int fd) {
  errno = 0;
  return fcntl(fd, F_GETFD) == -1 && errno == EBADF;
}

int OpenDevNull() { return open("/dev/null", O_RDONLY | O_CLOEXEC); }

TEST(UniqueFdTest, ClosesItsDescriptorWhenDestroyed) {
  const int before = OpenFdCount();
  int raw = -1;
  {
    UniqueFd fd(OpenDevNull());
    raw = fd.get();
    ASSERT_GE(raw, 0);
    EXPECT_TRUE(fd.valid());
    EXPECT_FALSE(IsClosed(raw));
    EXPECT_EQ(OpenFdCount(), before + 1);
  }
  EXPECT_TRUE(IsClosed(raw));
  EXPECT_EQ(OpenFdCount(), before);
}

TEST(UniqueFdTest, MoveAssignmentClosesTheDescriptorItReplaces) {
  UniqueFd a(OpenDevNull());
  UniqueFd b(OpenDevNull());
  const int a_raw = a.get(), b_raw = b.get();
  a = std::move(b);
  EXPECT_TRUE(IsClosed(a_raw));
  EXPECT_FALSE(IsClosed(b_raw));
  EXPECT_EQ(a.get(), b_raw);
  EXPECT_EQ(b.get(), -1);  // NOLINT(bugprone-use-after-move): a moved-from owner is empty
  a = UniqueFd();
  EXPECT_TRUE(IsClosed(b_raw));
}

TEST(UniqueFdTest, MoveConstructionTransfersOwnership) {
  UniqueFd a(OpenDevNull());
  const int raw = a.get();
  {
    UniqueFd b(std::move(a));
    EXPECT_EQ(b.get(), raw);
    EXPECT_FALSE(a.valid());  // NOLINT(bugprone-use-after-move)
  }
  EXPECT_TRUE(IsClosed(raw));
}

TEST(UniqueFdTest, ReleaseGivesUpOwnershipWithoutClosing) {
  int raw = -1;
  {
    UniqueFd fd(OpenDevNull());
    raw = fd.Release();
    EXPECT_EQ(fd.get(), -1);
  }
  EXPECT_FALSE(IsClosed(raw));
  close(raw);
}

TEST(UniqueFdTest, ResetClosesTheOldDescriptor) {
  UniqueFd fd(OpenDevNull());
  const int first = fd.get();
  fd.Reset(OpenDevNull());
  EXPECT_TRUE(IsClosed(first));
  EXPECT_TRUE(fd.valid());
  fd.Reset();
  EXPECT_FALSE(fd.valid());
}

TEST(UniqueFdTest, ClosingKeepsTheErrnoOfAnErrorBeingReported) {
  UniqueFd fd(OpenDevNull());
  close(fd.get());  // behind the owner's back, so its close fails (EBADF)
  errno = EMFILE;
  fd.Reset();
  EXPECT_EQ(errno, EMFILE);
}

TEST(UniqueFdTest, ANegativeDescriptorMakesAnEmptyOwner) {
  const UniqueFd failed_open(open("/nonexistent/concbench", O_RDONLY));
  EXPECT_FALSE(failed_open.valid());
  EXPECT_EQ(failed_open.get(), -1);
  const UniqueFd odd(-5);
  EXPECT_FALSE(odd.valid());
  EXPECT_EQ(odd.get(), -1);
}

}  // namespace
}  // namespace concbench
