#include "sys/wait_status.h"

#include <sys/wait.h>

#include <cstring>

namespace concbench {

std::string DescribeWaitStatus(int status) {
  if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) {
    const int sig = WTERMSIG(status);
    const char* abbrev = sigabbrev_np(sig);
    const char* desc = sigdescr_np(sig);
    std::string s = "killed by signal " + std::to_string(sig) + " (" + (abbrev ? abbrev : "?") + ": " +
                    (desc ? desc : "unknown") + ")";
    if (WCOREDUMP(status)) s += ", core dumped";
    return s;
  }
  return "ended with wait status " + std::to_string(status);
}

}  // namespace concbench
