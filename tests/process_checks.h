// What a fault test checks was left behind, a way to run a check in a process of its own, and a
// process limit for such a child.
#pragma once

#include <dirent.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <functional>

namespace concbench {

// Descriptors open in this process (or in process `pid`), not counting the one that reads the
// directory; -1 if /proc cannot be read.
inline int OpenFdCount(pid_t pid = 0) {
  char path[64];
  std::snprintf(path, sizeof path, pid > 0 ? "/proc/%d/fd" : "/proc/self/fd", static_cast<int>(pid));
  DIR* d = opendir(path);
  if (d == nullptr) return -1;
  int n = 0;
  while (dirent* e = readdir(d)) n += e->d_name[0] != '.';
  closedir(d);
  return pid > 0 ? n : n - 1;
}

// True when this process has no child at all, running or zombie.
inline bool NoChildren() {
  errno = 0;
  return waitpid(-1, nullptr, WNOHANG) == -1 && errno == ECHILD;
}

// Runs `body` in a forked child (so limits, signal dispositions or stdout can be changed without
// touching the test process) and returns its exit status; the child exits with what body
// returns, 0 when every check passed.
inline int RunInChild(const std::function<int()>& body) {
  std::fflush(nullptr);
  const pid_t pid = fork();
  if (pid == 0) _exit(body());
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// In a child of RunInChild: lowers RLIMIT_NPROC to `processes`, first becoming an unprivileged
// user when root (the limit does not bind root). The limit counts every process and thread of
// that user, so where exactly it bites may vary. Returns 0, or a non-zero status saying what failed.
inline int LimitProcessesOfThisUser(rlim_t processes) {
  if (geteuid() == 0 && (setgid(65534) != 0 || setuid(65534) != 0)) return 20;
  rlimit rl{};
  getrlimit(RLIMIT_NPROC, &rl);
  rl.rlim_cur = processes;
  return setrlimit(RLIMIT_NPROC, &rl) == 0 ? 0 : 21;
}

}  // namespace concbench
