#include "sys/unique_fd.h"

#include <unistd.h>

#include <cerrno>
#include <utility>

namespace concbench {

UniqueFd& UniqueFd::operator=(UniqueFd&& other) noexcept {
  if (this != &other) Reset(other.Release());
  return *this;
}

int UniqueFd::Release() noexcept { return std::exchange(fd_, -1); }

void UniqueFd::Reset(int fd) noexcept {
  const int old = std::exchange(fd_, fd < 0 ? -1 : fd);
  if (old < 0) return;
  // A destructor that runs while an error is being reported must not replace its cause.
  const int saved = errno;
  ::close(old);
  errno = saved;
}

}  // namespace concbench
