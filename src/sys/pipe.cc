#include "sys/pipe.h"

#include <fcntl.h>
#include <unistd.h>

#include "sys/errno_error.h"

namespace concbench {

Pipe Pipe::Open(const std::string& what) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) ThrowErrno(what);
  return Pipe{UniqueFd(fds[0]), UniqueFd(fds[1])};
}

}  // namespace concbench
