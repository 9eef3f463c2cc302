#include "sys/pipe.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <system_error>
#include <vector>

#include "process_checks.h"

namespace concbench {
namespace {

bool IsCloseOnExec(int fd) { return (fcntl(fd, F_GETFD) & FD_CLOEXEC) != 0; }

TEST(PipeTest, BothEndsAreCloseOnExec) {
  const Pipe p = Pipe::Open("test: pipe2");
  ASSERT_TRUE(p.read_end.valid());
  ASSERT_TRUE(p.write_end.valid());
  EXPECT_TRUE(IsCloseOnExec(p.read_end.get()));
  EXPECT_TRUE(IsCloseOnExec(p.write_end.get()));
}

TEST(PipeTest, WhatIsWrittenComesOutAndClosingTheWriteEndIsEndOfFile) {
  const int fds = OpenFdCount();
  {
    Pipe p = Pipe::Open("test: pipe2");
    EXPECT_EQ(OpenFdCount(), fds + 2);
    ASSERT_EQ(write(p.write_end.get(), "ping", 4), 4);
    p.write_end.Reset();
    char buf[8];
    EXPECT_EQ(read(p.read_end.get(), buf, sizeof buf), 4);
    EXPECT_EQ(std::string(buf, 4), "ping");
    EXPECT_EQ(read(p.read_end.get(), buf, sizeof buf), 0);
  }
  EXPECT_EQ(OpenFdCount(), fds);
}

TEST(PipeTest, FailureThrowsSystemErrorWithTheCallAndTheCause) {
  const int rc = RunInChild([] {
    // One descriptor left where a pipe needs two: pipe2 fails with EMFILE.
    const rlimit rl{256, 256};
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0) return 10;
    std::vector<int> filler;
    for (int fd; (fd = open("/dev/null", O_RDONLY)) >= 0;) filler.push_back(fd);
    if (errno != EMFILE || filler.empty()) return 14;
    close(filler.back());
    filler.pop_back();
    try {
      const Pipe p = Pipe::Open("BarePipeEcho: pipe2");
      return 11;
    } catch (const std::system_error& e) {
      // Descriptors back first: UBSan's checks of `e` open a pipe of their own.
      for (int fd : filler) close(fd);
      if (e.code().value() != EMFILE) return 12;
      if (std::string(e.what()) != "BarePipeEcho: pipe2: Too many open files") return 13;
    }
    return 0;
  });
  EXPECT_EQ(rc, 0);
}

}  // namespace
}  // namespace concbench
