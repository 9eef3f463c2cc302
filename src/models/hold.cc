#include "models/hold.h"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <mutex>
#include <vector>

#include "measure/timer.h"

namespace concbench {
namespace {

std::string ReadFirstLine(const char* path) {
  std::ifstream in(path);
  std::string line;
  if (!in || !std::getline(in, line)) return "unknown";
  return line;
}

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

void CloseFd(int& fd) {
  if (fd >= 0) close(fd);
  fd = -1;
}

// Reaps every pid, killing those still alive at the deadline; never blocks past it by more than
// the time SIGKILL takes to act. Returns how the first child that did not exit with status 0
// ended, or "" if all did.
std::string ReapAll(const std::vector<pid_t>& children, const Stopwatch& clock, double deadline_s) {
  std::vector<pid_t> pids = children;
  std::string first_bad;
  bool killed = false;
  while (!pids.empty()) {
    for (size_t i = 0; i < pids.size();) {
      int status = 0;
      const pid_t r = waitpid(pids[i], &status, WNOHANG);
      if (r == pids[i] || (r < 0 && errno == ECHILD)) {
        if (r == pids[i] && first_bad.empty() && !(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
          first_bad = "child " + std::to_string(r) +
                      (WIFSIGNALED(status) ? " was killed by signal " + std::to_string(WTERMSIG(status))
                                           : " exited with status " + std::to_string(WEXITSTATUS(status)));
        }
        pids[i] = pids.back();
        pids.pop_back();
      } else {
        ++i;
      }
    }
    if (pids.empty()) break;
    if (!killed && clock.ElapsedSeconds() > deadline_s) {
      for (pid_t p : pids) kill(p, SIGKILL);
      killed = true;
    }
    // Released children exit within microseconds; a short pause keeps this loop cheap.
    usleep(killed ? 1000 : 100);
  }
  return first_bad;
}

}  // namespace

std::string DescribeRlimit(int resource) {
  rlimit rl{};
  if (getrlimit(resource, &rl) != 0) return "unknown";
  auto v = [](rlim_t x) { return x == RLIM_INFINITY ? std::string("unlimited") : std::to_string(x); };
  return v(rl.rlim_cur) + "/" + v(rl.rlim_max);
}

std::string DescribeTaskLimits() {
  return "RLIMIT_NPROC=" + DescribeRlimit(RLIMIT_NPROC) + " RLIMIT_NOFILE=" + DescribeRlimit(RLIMIT_NOFILE) +
         " RLIMIT_STACK=" + DescribeRlimit(RLIMIT_STACK) +
         " threads-max=" + ReadFirstLine("/proc/sys/kernel/threads-max") +
         " pid_max=" + ReadFirstLine("/proc/sys/kernel/pid_max") +
         " max_map_count=" + ReadFirstLine("/proc/sys/vm/max_map_count");
}

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
  Stopwatch clock;
  const double deadline_s = std::chrono::duration<double>(timeout).count();
  int results_pipe[2] = {-1, -1};
  int release_pipe[2] = {-1, -1};
  if (pipe2(results_pipe, O_CLOEXEC) != 0) ThrowLimit("pipe2", errno, 0, tasks);
  if (pipe2(release_pipe, O_CLOEXEC) != 0) {
    const int e = errno;
    CloseFd(results_pipe[0]);
    CloseFd(results_pipe[1]);
    ThrowLimit("pipe2", e, 0, tasks);
  }
  std::vector<pid_t> pids;
  pids.reserve(static_cast<size_t>(tasks));
  std::fflush(nullptr);

  // Releases every child (EOF on the release pipe), closes our ends and reaps by pid.
  auto cleanup = [&] {
    CloseFd(release_pipe[1]);
    CloseFd(release_pipe[0]);
    CloseFd(results_pipe[0]);
    CloseFd(results_pipe[1]);
    return ReapAll(pids, clock, deadline_s);
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
      close(results_pipe[0]);
      close(release_pipe[1]);
      const int64_t result = i + 1;
      // 8 bytes < PIPE_BUF: the write is atomic, results of different children never interleave.
      if (write(results_pipe[1], &result, sizeof result) != sizeof result) _exit(2);
      char c;
      while (read(release_pipe[0], &c, 1) < 0 && errno == EINTR) {
      }
      _exit(0);
    }
    pids.push_back(pid);
  }
  CloseFd(results_pipe[1]);
  CloseFd(release_pipe[0]);
  if (fork_errno != 0) {
    cleanup();
    ThrowLimit("fork", fork_errno, static_cast<int64_t>(pids.size()), tasks);
  }

  int64_t sum = 0;
  int64_t received = 0;
  while (received < tasks) {
    const double left_s = deadline_s - clock.ElapsedSeconds();
    if (left_s <= 0) {
      fail("HoldChildren: only " + std::to_string(received) + " of " + std::to_string(tasks) +
           " children reported within " + std::to_string(timeout.count()) + " ms");
    }
    pollfd p{results_pipe[0], POLLIN, 0};
    const int r = poll(&p, 1, static_cast<int>(left_s * 1000) + 1);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) fail(std::string("HoldChildren: poll: ") + std::strerror(errno));
    if (r == 0) continue;
    int64_t buf[512];
    const ssize_t n = read(results_pipe[0], buf, sizeof buf);
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
