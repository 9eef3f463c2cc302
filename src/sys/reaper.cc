#include "sys/reaper.h"

#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <vector>

#include "sys/deadline.h"
#include "sys/unique_fd.h"

// ThreadSanitizer does not intercept pidfd_open, so it takes the new descriptor for whatever
// last had its number (a socket another thread accepted and closed, say) and reports closing it
// as a race. Under TSan the bounded wait polls waitpid instead.
#if defined(__SANITIZE_THREAD__)
#define CONCBENCH_NO_PIDFD 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define CONCBENCH_NO_PIDFD 1
#endif
#endif

namespace concbench {
namespace {

using Clock = std::chrono::steady_clock;

enum class Wait { kReaped, kRunning, kNotAChild };

UniqueFd PidfdOpen(pid_t pid) {
#if defined(SYS_pidfd_open) && !defined(CONCBENCH_NO_PIDFD)
  return UniqueFd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));  // close-on-exec by definition
#else
  (void)pid;
  return UniqueFd();
#endif
}

// Waits until `deadline` for child `pid` to end; reaps it into *status when it does.
Wait WaitUntil(pid_t pid, Clock::time_point deadline, int* status) {
  if (pid <= 0) return Wait::kNotAChild;  // waitpid would take any child (or the group's)
  UniqueFd pidfd;
  bool opened = false;
  for (;;) {
    const pid_t r = ::waitpid(pid, status, WNOHANG);
    if (r == pid) return Wait::kReaped;
    if (r < 0 && errno != EINTR) return Wait::kNotAChild;  // ECHILD
    const Clock::time_point now = Clock::now();
    if (now >= deadline) return Wait::kRunning;
    if (!opened) {  // not before the first waitpid: a child that has ended needs no descriptor
      pidfd = PidfdOpen(pid);
      opened = true;
    }
    if (pidfd.valid()) {
      pollfd p{pidfd.get(), POLLIN, 0};
      ::poll(&p, 1, PollTimeoutMs(deadline, now));  // readable once it has ended
    } else {
      ::poll(nullptr, 0, 1);
    }
  }
}

// Reaps a child SIGKILL was sent to, by `deadline`; says so on stderr when it cannot.
std::optional<int> ReapKilled(pid_t pid, Clock::time_point deadline) {
  int status = 0;
  switch (WaitUntil(pid, deadline, &status)) {
    case Wait::kReaped: return status;
    case Wait::kNotAChild: return std::nullopt;
    case Wait::kRunning: break;
  }
  std::fprintf(stderr, "concbench: child pid %d survived SIGKILL for %lld s and was not reaped\n",
               static_cast<int>(pid), static_cast<long long>(kKilledChildTimeout.count()));
  return std::nullopt;
}

bool ExitedCleanly(const std::optional<int>& status) {
  return status && WIFEXITED(*status) && WEXITSTATUS(*status) == 0;
}

}  // namespace

std::optional<int> ReapWithin(pid_t pid, std::chrono::milliseconds timeout) {
  int status = 0;
  if (WaitUntil(pid, Clock::now() + timeout, &status) == Wait::kReaped) return status;
  return std::nullopt;
}

std::optional<int> KillAndReap(pid_t pid) {
  if (pid <= 0) return std::nullopt;  // kill(0) or kill(-1) would hit far more than a child
  ::kill(pid, SIGKILL);
  return ReapKilled(pid, Clock::now() + kKilledChildTimeout);
}

std::optional<int> ReapOrKill(pid_t pid, std::chrono::milliseconds grace) {
  if (auto status = ReapWithin(pid, grace)) return status;
  return KillAndReap(pid);
}

std::optional<ChildStatus> ReapAll(std::span<const pid_t> pids, Clock::time_point deadline) {
  const size_t n = pids.size();
  std::vector<std::optional<int>> status(n);
  std::vector<bool> alive(n, false);  // still running at the deadline: to be killed
  // One after another against the same deadline: once it has passed, each wait only looks.
  for (size_t i = 0; i < n; ++i) {
    int st = 0;
    const Wait w = WaitUntil(pids[i], deadline, &st);
    if (w == Wait::kReaped) status[i] = st;
    alive[i] = w == Wait::kRunning;
  }
  // Every survivor is killed before any is waited for, so they die in parallel.
  for (size_t i = 0; i < n; ++i) {
    if (alive[i]) ::kill(pids[i], SIGKILL);
  }
  const Clock::time_point kill_deadline = Clock::now() + kKilledChildTimeout;
  for (size_t i = 0; i < n; ++i) {
    if (alive[i]) status[i] = ReapKilled(pids[i], kill_deadline);
  }
  for (size_t i = 0; i < n; ++i) {
    if (!ExitedCleanly(status[i]) && (status[i] || alive[i])) return ChildStatus{pids[i], status[i]};
  }
  return std::nullopt;
}

}  // namespace concbench
