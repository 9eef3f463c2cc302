// The one way concbench reports a failed system call: a std::system_error carrying errno.
//
// A failed call is reported with the call, what it was called on and the cause, so the message
// reads "ProcessPool: pipe2 (task pipe of worker 3): Too many open files". ThrowErrno reads errno
// at the moment it is called: call it right after the failing call, before anything that may
// change errno (a close, a destructor, a print). The exception's code() is the errno value, so a
// caller can still tell EMFILE from EAGAIN.
//
//   if (::pipe2(fds, O_CLOEXEC) != 0) concbench::ThrowErrno("BarePipeEcho: pipe2");
#pragma once

#include <string>

namespace concbench {

// Throws std::system_error(errno, std::generic_category(), what).
[[noreturn]] void ThrowErrno(const std::string& what);

// The same with an errno value saved earlier.
[[noreturn]] void ThrowErrno(int err, const std::string& what);

}  // namespace concbench
