#include "sys/fd_io.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <string>
#include <system_error>
#include <thread>

#include "sys/fork.h"
#include "sys/pipe.h"

namespace concbench {
namespace {

// Reads everything from `fd` until end-of-file.
std::string ReadToEnd(int fd) {
  std::string all;
  char buf[4096];
  for (;;) {
    const ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return all;
    all.append(buf, static_cast<size_t>(n));
  }
}

// A pipe that holds one page only, so a large write takes many partial writes.
Pipe SmallPipe() {
  Pipe p = Pipe::Open("test: pipe2");
  fcntl(p.write_end.get(), F_SETPIPE_SZ, 4096);
  return p;
}

std::string Pattern(size_t bytes) {
  std::string s(bytes, '\0');
  for (size_t i = 0; i < bytes; ++i) s[i] = static_cast<char>('a' + i % 23);
  return s;
}

TEST(FdIoTest, WriteAllWritesEverythingThroughASmallPipe) {
  Pipe p = SmallPipe();
  const std::string data = Pattern(1 << 20);  // 256 times what the pipe holds
  std::string got;
  std::thread reader([&] { got = ReadToEnd(p.read_end.get()); });
  EXPECT_TRUE(WriteAll(p.write_end.get(), data));
  p.write_end.Reset();
  reader.join();
  EXPECT_EQ(got.size(), data.size());
  EXPECT_TRUE(got == data);
}

std::atomic<int> interrupts{0};
void CountInterrupt(int) { interrupts.fetch_add(1); }

TEST(FdIoTest, WriteAllCarriesOnAfterASignalInterruptsIt) {
  // A handler installed without SA_RESTART makes a write blocked on a full pipe return early
  // (EINTR, or the bytes it had written).
  struct sigaction sa {}, old {};
  sa.sa_handler = CountInterrupt;
  sigemptyset(&sa.sa_mask);
  ASSERT_EQ(sigaction(SIGUSR1, &sa, &old), 0);
  Pipe p = SmallPipe();
  const std::string data = Pattern(256 << 10);
  const pthread_t writer = pthread_self();
  std::string got;
  std::thread reader([&] {
    for (int i = 0; i < 5; ++i) {  // while the writer is blocked on the full pipe
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      pthread_kill(writer, SIGUSR1);
    }
    got = ReadToEnd(p.read_end.get());
  });
  EXPECT_TRUE(WriteAll(p.write_end.get(), data));
  p.write_end.Reset();
  reader.join();
  sigaction(SIGUSR1, &old, nullptr);
  EXPECT_GE(interrupts.load(), 1);
  EXPECT_TRUE(got == data);
}

TEST(FdIoTest, WriteAllReportsEpipeWhenTheReaderIsGone) {
  IgnoreSigpipe();
  Pipe p = Pipe::Open("test: pipe2");
  p.read_end.Reset();
  errno = 0;
  EXPECT_FALSE(WriteAll(p.write_end.get(), "lost"));
  EXPECT_EQ(errno, EPIPE);
}

TEST(FdIoTest, SetNonBlockingMakesAnEmptyReadReturnAtOnce) {
  Pipe p = Pipe::Open("test: pipe2");
  SetNonBlocking(p.read_end.get(), "a test pipe");
  EXPECT_NE(fcntl(p.read_end.get(), F_GETFL) & O_NONBLOCK, 0);
  char c;
  errno = 0;
  EXPECT_EQ(read(p.read_end.get(), &c, 1), -1);
  EXPECT_EQ(errno, EAGAIN);
}

TEST(FdIoTest, SetNonBlockingOnABadDescriptorNamesIt) {
  try {
    SetNonBlocking(-1, "a result pipe");
    FAIL() << "no exception";
  } catch (const std::system_error& e) {
    EXPECT_EQ(std::string(e.what()), "fcntl(O_NONBLOCK) on a result pipe: Bad file descriptor");
  }
}

}  // namespace
}  // namespace concbench
