#include "sys/fork.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <string>

#include "process_checks.h"
#include "sys/pipe.h"

namespace concbench {
namespace {

void Handler(int) {}

// SIGPIPE's disposition after IgnoreSigpipe when it was `before`, read in a child: the
// disposition is process-wide and never undone.
bool IgnoreSigpipeLeaves(sighandler_t before, sighandler_t expected) {
  return RunInChild([&] {
           signal(SIGPIPE, before);
           IgnoreSigpipe();
           struct sigaction now {};
           sigaction(SIGPIPE, nullptr, &now);
           return now.sa_handler == expected ? 0 : 1;
         }) == 0;
}

TEST(ForkTest, IgnoreSigpipeIgnoresADefaultSigpipe) { EXPECT_TRUE(IgnoreSigpipeLeaves(SIG_DFL, SIG_IGN)); }

TEST(ForkTest, IgnoreSigpipeKeepsAHandlerTheProgramInstalled) { EXPECT_TRUE(IgnoreSigpipeLeaves(Handler, Handler)); }

TEST(ForkTest, FlushBeforeForkEmptiesTheCAndCppStreams) {
  const int rc = RunInChild([] {
    // stdout into a pipe is fully buffered: nothing reaches the pipe until a flush.
    Pipe p = Pipe::Open("test: pipe2");
    if (dup2(p.write_end.get(), STDOUT_FILENO) < 0) return 10;
    std::setvbuf(stdout, nullptr, _IOFBF, 1 << 16);
    std::ios::sync_with_stdio(false);  // so std::cout keeps a buffer of its own
    std::printf("from C, ");
    std::cout << "from C++";
    fcntl(p.read_end.get(), F_SETFL, O_NONBLOCK);
    char buf[64];
    if (read(p.read_end.get(), buf, sizeof buf) != -1) return 11;  // still buffered
    FlushBeforeFork();
    const ssize_t n = read(p.read_end.get(), buf, sizeof buf);
    if (n <= 0) return 12;
    const std::string got(buf, static_cast<size_t>(n));
    // Both buffers reached the pipe, in whichever order the streams were flushed.
    if (got.size() != 16 || got.find("from C, ") == std::string::npos || got.find("from C++") == std::string::npos) {
      std::fprintf(stderr, "read back: '%s'\n", got.c_str());
      return 13;
    }
    return 0;
  });
  EXPECT_EQ(rc, 0);
}

}  // namespace
}  // namespace concbench
