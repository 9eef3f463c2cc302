#include "models/hold.h"

#include <poll.h>
#include <pthread.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <optional>
#include <system_error>
#include <vector>

#include "sys/fork.h"
#include "sys/pipe.h"
#include "sys/reaper.h"
#include "sys/rlimit.h"
#include "sys/wait_status.h"

namespace concbench {
namespace {

[[noreturn]] void ThrowLimit(const std::string& call, int err, int64_t started, int64_t wanted) {
  throw LimitError(call + " failed after " + std::to_string(started) + " of " +
                   std::to_string(wanted) + " tasks: " + std::strerror(err) + " (limits: " +
                   DescribeTaskLimits() + ")");
}

// Shared by the held threads: how many have arrived, and whether they may leave.
struct Gate {
  std::mutex mu;
  std::condition_variable cv;
  int64_t arrived = 0;
  bool released = false;
};

struct ThreadArg {
  Gate* gate;
  int64_t index;
  int64_t* result;
};

void* HeldThread(void* p) {
  auto* a = static_cast<ThreadArg*>(p);
  *a->result = a->index + 1;
  std::unique_lock lock(a->gate->mu);
  ++a->gate->arrived;
  a->gate->cv.notify_all();
  a->gate->cv.wait(lock, [&] { return a->gate->released; });
  return nullptr;
}

// Reaps every child by `deadline` (killing those still alive then) and says how the first one
// that did not exit with status 0 ended, or "" if all did.
std::string ReapChildren(std::span<const pid_t> pids, std::chrono::steady_clock::time_point deadline) {
  const std::optional<ChildStatus> bad = ReapAll(pids, deadline);
  if (!bad) return "";
  return "child " + std::to_string(bad->pid) + " " +
         (bad->wait_status ? DescribeWaitStatus(*bad->wait_status) : std::string("could not be reaped"));
}

}  // namespace

int64_t HoldThreads(int64_t tasks, int64_t stack_kib, const std::function<void()>& while_alive) {
  if (stack_kib < 16) throw std::invalid_argument("HoldThreads: stack_kib must be >= 16");
  if (tasks < 0) throw std::invalid_argument("HoldThreads: tasks must be >= 0");
  Gate gate;
  std::vector<int64_t> results(static_cast<size_t>(tasks), 0);
  std::vector<ThreadArg> args(static_cast<size_t>(tasks));
  std::vector<pthread_t> threads;
  threads.reserve(static_cast<size_t>(tasks));

  // Each thread gets a stack mapped here and unmapped after its join, with a guard page below
  // it, instead of glibc's: glibc keeps up to 40 MiB of finished threads' stacks cached and
  // resident, so a second batch of threads would reuse them and appear to cost nothing.
  const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  const size_t stack_bytes = (static_cast<size_t>(stack_kib) * 1024 + page - 1) / page * page;
  std::vector<std::pair<void*, size_t>> mappings;
  mappings.reserve(static_cast<size_t>(tasks));
  auto unmap_all = [&] {
    for (auto [p, n] : mappings) munmap(p, n);
    mappings.clear();
  };
  int err = 0;
  std::string failed_call = "pthread_create";
  for (int64_t i = 0; i < tasks; ++i) {
    void* map = mmap(nullptr, stack_bytes + page, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
    if (map == MAP_FAILED) {
      err = errno;
      failed_call = "mmap (a " + std::to_string(stack_kib) + " KiB thread stack)";
      break;
    }
    mappings.emplace_back(map, stack_bytes + page);
    mprotect(map, page, PROT_NONE);  // guard page: an overflow faults instead of corrupting
    pthread_attr_t attr;
    pthread_attr_init(&attr);
#if defined(__SANITIZE_THREAD__)
    // TSan's pthread_create refuses caller-provided stacks (EINVAL): let it allocate one.
    pthread_attr_setstacksize(&attr, stack_bytes);
#else
    pthread_attr_setstack(&attr, static_cast<char*>(map) + page, stack_bytes);
#endif
    args[static_cast<size_t>(i)] = {&gate, i, &results[static_cast<size_t>(i)]};
    pthread_t t;
    err = pthread_create(&t, &attr, HeldThread, &args[static_cast<size_t>(i)]);
    pthread_attr_destroy(&attr);
    if (err != 0) break;
    threads.push_back(t);
  }

  auto release_and_join = [&] {
    {
      std::lock_guard lock(gate.mu);
      gate.released = true;
    }
    gate.cv.notify_all();
    for (pthread_t t : threads) pthread_join(t, nullptr);
    threads.clear();
    unmap_all();
  };
  if (err != 0) {
    const auto started = static_cast<int64_t>(threads.size());
    release_and_join();
    ThrowLimit(failed_call, err, started, tasks);
  }
  {
    std::unique_lock lock(gate.mu);
    gate.cv.wait(lock, [&] { return gate.arrived == tasks; });
  }
  try {
    if (while_alive) while_alive();
  } catch (...) {
    release_and_join();
    throw;
  }
  release_and_join();
  int64_t sum = 0;
  for (int64_t r : results) sum += r;
  return sum;
}

int64_t HoldChildren(int64_t tasks, const std::function<void(std::span<const pid_t>)>& while_alive,
                     std::chrono::milliseconds timeout) {
  if (tasks < 0) throw std::invalid_argument("HoldChildren: tasks must be >= 0");
  Pipe results, release;
  try {
    results = Pipe::Open("HoldChildren: pipe2");
    release = Pipe::Open("HoldChildren: pipe2");
  } catch (const std::system_error& e) {
    ThrowLimit("pipe2", e.code().value(), 0, tasks);
  }
  std::vector<pid_t> pids;
  pids.reserve(static_cast<size_t>(tasks));
  FlushBeforeFork();

  // Releases every child (EOF on the release pipe), closes our ends and reaps by pid. Reaping
  // gets a deadline of its own, `timeout` plus what the forks took: with the deadline of the
  // forks, 10,000 children whose memory took long to read were killed at it, and with `timeout`
  // alone (20 ms) 500 released children under a sanitizer on a busy 2-vCPU machine could not
  // all exit in time; both were reported as "killed by signal 9". N exits cost about N forks.
  const auto forks_began = std::chrono::steady_clock::now();
  std::chrono::steady_clock::duration forks_took{};
  auto cleanup = [&] {
    release = Pipe();
    results = Pipe();
    return ReapChildren(pids, std::chrono::steady_clock::now() + timeout + forks_took);
  };
  auto fail = [&](const std::string& what) {
    const std::string how = cleanup();
    throw std::runtime_error(how.empty() ? what : what + "; " + how);
  };

  int fork_errno = 0;
  for (int64_t i = 0; i < tasks; ++i) {
    const pid_t pid = fork();
    if (pid < 0) {
      fork_errno = errno;
      break;
    }
    if (pid == 0) {
      // Child: only async-signal-safe calls from here on.
      results.read_end.Reset();
      release.write_end.Reset();
      const int64_t result = i + 1;
      // 8 bytes < PIPE_BUF: the write is atomic, results of different children never interleave.
      if (write(results.write_end.get(), &result, sizeof result) != sizeof result) _exit(2);
      char c;
      while (read(release.read_end.get(), &c, 1) < 0 && errno == EINTR) {
      }
      _exit(0);
    }
    pids.push_back(pid);
  }
  forks_took = std::chrono::steady_clock::now() - forks_began;
  results.write_end.Reset();
  release.read_end.Reset();
  if (fork_errno != 0) {
    cleanup();
    ThrowLimit("fork", fork_errno, static_cast<int64_t>(pids.size()), tasks);
  }

  // The children's reports are awaited for `timeout` from the last fork, not from the first: a
  // fork cannot hang, and 10,000 of them took 26 s of a 30 s deadline on a 2-vCPU VM (2.6 ms a
  // fork of this binary), so the wait failed with "only 0 of 10000 children reported".
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  int64_t sum = 0;
  int64_t received = 0;
  while (received < tasks) {
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      fail("HoldChildren: only " + std::to_string(received) + " of " + std::to_string(tasks) +
           " children reported within " + std::to_string(timeout.count()) + " ms");
    }
    pollfd p{results.read_end.get(), POLLIN, 0};
    const int r = poll(&p, 1, static_cast<int>(left.count()));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) fail(std::string("HoldChildren: poll: ") + std::strerror(errno));
    if (r == 0) continue;
    int64_t buf[512];
    const ssize_t n = read(results.read_end.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      fail("HoldChildren: children exited before reporting (" + std::to_string(received) + " of " +
           std::to_string(tasks) + " reported)");
    }
    if (n % static_cast<ssize_t>(sizeof(int64_t)) != 0) fail("HoldChildren: torn result record");
    for (ssize_t k = 0; k < n / static_cast<ssize_t>(sizeof(int64_t)); ++k) sum += buf[k];
    received += n / static_cast<ssize_t>(sizeof(int64_t));
  }
  try {
    if (while_alive) while_alive(pids);
  } catch (const std::exception& e) {
    fail(e.what());
  }
  const std::string how = cleanup();
  if (!how.empty()) throw std::runtime_error("HoldChildren: " + how);
  return sum;
}

}  // namespace concbench
