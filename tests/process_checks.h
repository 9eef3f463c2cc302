// What a fault test checks was left behind, and a way to run a check in a process of its own.
#pragma once

#include <dirent.h>
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

}  // namespace concbench
