#include "sys/errno_error.h"

#include <cerrno>
#include <system_error>

namespace concbench {

void ThrowErrno(const std::string& what) { ThrowErrno(errno, what); }

void ThrowErrno(int err, const std::string& what) { throw std::system_error(err, std::generic_category(), what); }

}  // namespace concbench
