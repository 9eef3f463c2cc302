// echo_floor: how close to its delay can a loopback echo request be on this machine, with no
// concbench code at all? A tool to rerun by hand on a quiet machine, not a ctest test (its numbers
// are the machine's, not a property of the code):
//
//   build/release/tests/echo_floor [--readings=5] [--tasks=5] [--delay_ms=500] [--spin_us=0]
//
// The notebook's echo cell, bare: `tasks` requests of 64 bytes, each a fresh TCP connection to a
// loopback server (connect, send, receive the echo, close), made one after another ("one after
// another", like sync/echo: ideal tasks × delay) and all at once from `tasks` threads released
// together ("all at once", like threads/echo: ideal one delay). The server gives every connection
// a thread that replies exactly `delay_ms` after the request arrived: clock_nanosleep to that
// absolute CLOCK_MONOTONIC time, the last `spin_us` microseconds spun instead. Prints each
// reading's time ÷ ideal, as concbench's echo cells report it (their `efficiency` inverted).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <barrier>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

namespace {

constexpr size_t kPayload = 64;

int64_t NowNs() {
  timespec t{};
  clock_gettime(CLOCK_MONOTONIC, &t);
  return static_cast<int64_t>(t.tv_sec) * 1'000'000'000 + t.tv_nsec;
}

void SleepUntilNs(int64_t ns) {
  const timespec t{.tv_sec = static_cast<time_t>(ns / 1'000'000'000), .tv_nsec = static_cast<long>(ns % 1'000'000'000)};
  while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &t, nullptr) != 0) {
  }
}

void NoDelay(int fd) {
  const int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

[[noreturn]] void Die(const char* what) {
  std::perror(what);
  std::exit(1);
}

struct Server {
  int listener = -1;
  int port = 0;
  int64_t delay_ns = 0;
  int64_t spin_ns = 0;
  std::atomic<bool> stopping{false};

  void Start() {
    listener = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{.sin_family = AF_INET, .sin_port = 0, .sin_addr = {.s_addr = htonl(INADDR_LOOPBACK)}, .sin_zero = {}};
    socklen_t len = sizeof a;
    if (listener < 0 || bind(listener, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || listen(listener, 128) != 0 ||
        getsockname(listener, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
      Die("echo_floor: server");
    }
    port = ntohs(a.sin_port);
    std::thread([this] { Accept(); }).detach();
  }

  void Accept() {
    for (;;) {
      const int fd = accept(listener, nullptr, nullptr);
      if (fd < 0) return;
      NoDelay(fd);
      std::thread([this, fd] { Serve(fd); }).detach();
    }
  }

  // Replies `delay_ns` after the whole request arrived, then waits for the client to close.
  void Serve(int fd) const {
    char buf[kPayload];
    if (recv(fd, buf, sizeof buf, MSG_WAITALL) == static_cast<ssize_t>(sizeof buf)) {
      const int64_t deadline = NowNs() + delay_ns;
      SleepUntilNs(deadline - spin_ns);
      while (NowNs() < deadline) {
      }
      send(fd, buf, sizeof buf, MSG_NOSIGNAL);
      recv(fd, buf, 1, 0);
    }
    close(fd);
  }
};

void Request(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) Die("echo_floor: socket");
  NoDelay(fd);
  const sockaddr_in a{.sin_family = AF_INET, .sin_port = htons(static_cast<uint16_t>(port)),
                      .sin_addr = {.s_addr = htonl(INADDR_LOOPBACK)}, .sin_zero = {}};
  if (connect(fd, reinterpret_cast<const sockaddr*>(&a), sizeof a) != 0) Die("echo_floor: connect");
  char buf[kPayload] = {1};
  if (send(fd, buf, sizeof buf, MSG_NOSIGNAL) != static_cast<ssize_t>(sizeof buf) ||
      recv(fd, buf, sizeof buf, MSG_WAITALL) != static_cast<ssize_t>(sizeof buf)) {
    Die("echo_floor: echo");
  }
  close(fd);
}

// The time of `tasks` requests one after another, in ns.
int64_t OneAfterAnother(int tasks, int port) {
  const int64_t start = NowNs();
  for (int i = 0; i < tasks; ++i) Request(port);
  return NowNs() - start;
}

// The time of `tasks` requests made at once by threads started beforehand and released together.
int64_t AllAtOnce(int tasks, int port) {
  std::barrier go(tasks + 1);
  std::vector<std::thread> threads;
  for (int i = 0; i < tasks; ++i) {
    threads.emplace_back([&] {
      go.arrive_and_wait();
      Request(port);
    });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // all of them waiting
  const int64_t start = NowNs();
  go.arrive_and_wait();
  for (std::thread& t : threads) t.join();
  return NowNs() - start;
}

bool Flag(const char* arg, const char* name, int* out) {
  const size_t n = std::strlen(name);
  if (std::strncmp(arg, name, n) != 0 || arg[n] != '=') return false;
  char* end = nullptr;
  const long v = std::strtol(arg + n + 1, &end, 10);
  if (*end != '\0' || v < 0 || v > 1'000'000) {
    std::fprintf(stderr, "echo_floor: %s needs a whole number from 0 to 1000000\n", name);
    std::exit(2);
  }
  *out = static_cast<int>(v);
  return true;
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  int readings = 5;
  int tasks = 5;
  int delay_ms = 500;
  int spin_us = 0;
  for (int i = 1; i < argc; ++i) {
    if (!Flag(argv[i], "--readings", &readings) && !Flag(argv[i], "--tasks", &tasks) &&
        !Flag(argv[i], "--delay_ms", &delay_ms) && !Flag(argv[i], "--spin_us", &spin_us)) {
      std::fprintf(stderr, "usage: echo_floor [--readings=5] [--tasks=5] [--delay_ms=500] [--spin_us=0]\n");
      return 2;
    }
  }
  if (readings < 1 || tasks < 1 || delay_ms < 1) {
    std::fprintf(stderr, "echo_floor: --readings, --tasks and --delay_ms must be at least 1\n");
    return 2;
  }
  Server server;
  server.delay_ns = static_cast<int64_t>(delay_ms) * 1'000'000;
  server.spin_ns = std::min<int64_t>(static_cast<int64_t>(spin_us) * 1'000, server.delay_ns);
  server.Start();
  const double delay = static_cast<double>(server.delay_ns);
  std::vector<double> serial;
  std::vector<double> at_once;
  std::printf("%d requests of %d ms, bare loopback TCP (server spins its last %d us): time / ideal\n", tasks, delay_ms,
              spin_us);
  for (int r = 0; r < readings; ++r) {
    serial.push_back(static_cast<double>(OneAfterAnother(tasks, server.port)) / (tasks * delay));
    at_once.push_back(static_cast<double>(AllAtOnce(tasks, server.port)) / delay);
    std::printf("reading %d: one after another %.4f, all at once %.4f\n", r + 1, serial.back(), at_once.back());
    std::fflush(stdout);
  }
  std::printf("median: one after another %.4f, all at once %.4f\n", Median(serial), Median(at_once));
  return 0;
}
