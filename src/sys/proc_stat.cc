#include "sys/proc_stat.h"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string_view>

#include "sys/unique_fd.h"

namespace concbench {
namespace {

// The fields of a stat line that concbench reads: field 3 (state) and field 4 (ppid).
struct StatFields {
  char state = '?';
  pid_t ppid = 0;
};

// The line is "pid (comm) state ppid ...". comm may hold anything but a NUL, so only the last
// ')' ends it.
std::optional<StatFields> ParseStat(std::string_view line) {
  const size_t close = line.rfind(')');
  if (close == std::string_view::npos || close + 4 > line.size()) return std::nullopt;
  StatFields f;
  f.state = line[close + 2];
  const std::string rest(line.substr(close + 3));
  char* end = nullptr;
  const long ppid = std::strtol(rest.c_str(), &end, 10);
  if (end == rest.c_str()) return std::nullopt;
  f.ppid = static_cast<pid_t>(ppid);
  return f;
}

// Reads /proc/<pid>/stat. Nothing, with errno set, when it cannot be opened or read.
std::optional<std::string> ReadStat(pid_t pid) {
  const std::string path = "/proc/" + std::to_string(pid) + "/stat";
  const UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return std::nullopt;
  // comm is at most 15 bytes, so the whole line (52 numeric fields) fits easily.
  char buf[1024];
  ssize_t n;
  do {
    n = ::read(fd.get(), buf, sizeof buf);
  } while (n < 0 && errno == EINTR);
  if (n <= 0) {
    if (n == 0) errno = ESRCH;  // a process reaped between open and read
    return std::nullopt;
  }
  return std::string(buf, static_cast<size_t>(n));
}

const char* StateWord(char state) {
  switch (state) {
    case 'R': return "running";
    case 'S': return "sleeping";
    case 'D': return "disk sleep";
    case 'T': return "stopped";
    case 't': return "tracing stop";
    case 'Z': return "zombie";
    case 'X':
    case 'x': return "dead";
    case 'I': return "idle";
    case 'K': return "wakekill";
    case 'W': return "waking";
    case 'P': return "parked";
    default: return "unknown";
  }
}

}  // namespace

std::string ProcessState(pid_t pid) {
  if (pid <= 0) return "gone";  // /proc/0 does not exist; a negative pid names no process
  const std::optional<std::string> line = ReadStat(pid);
  if (!line) {
    if (errno == ENOENT || errno == ESRCH) return "gone";
    return std::string("unreadable: ") + std::strerror(errno);
  }
  const std::optional<StatFields> f = ParseStat(*line);
  if (!f) return "unreadable: a malformed /proc/" + std::to_string(pid) + "/stat";
  return std::string(StateWord(f->state)) + " (" + f->state + ")";
}

std::vector<pid_t> ChildrenOf(pid_t parent) {
  std::vector<pid_t> kids;
  DIR* proc = ::opendir("/proc");
  if (proc == nullptr) return kids;
  while (const dirent* e = ::readdir(proc)) {
    char* end = nullptr;
    const long pid = std::strtol(e->d_name, &end, 10);
    if (pid <= 0 || *end != '\0') continue;  // ".", "self", "sys", ...
    const std::optional<std::string> line = ReadStat(static_cast<pid_t>(pid));
    if (!line) continue;  // ended since the directory was read
    const std::optional<StatFields> f = ParseStat(*line);
    if (f && f->ppid == parent) kids.push_back(static_cast<pid_t>(pid));
  }
  ::closedir(proc);
  std::sort(kids.begin(), kids.end());
  return kids;
}

}  // namespace concbench
