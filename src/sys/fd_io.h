// Two descriptor idioms every forked child and its parent use: a descriptor switched to
// non-blocking, and a blocking write of a whole buffer.
//
// WriteAll retries after EINTR (a signal handler that does not use SA_RESTART interrupts a write
// to a full pipe) and after a short write (a pipe takes at most its free space, 64 KiB by
// default), so the caller either wrote everything or has the cause in errno. It is
// async-signal-safe, so a forked child of a multi-threaded parent may call it.
//
//   if (!concbench::WriteAll(fd, frame)) ::_exit(kExitIo);
//   concbench::SetNonBlocking(fd, "a result pipe");  // then poll before every read
#pragma once

#include <string_view>

namespace concbench {

// Sets O_NONBLOCK. Throws std::system_error "fcntl(O_NONBLOCK) on <which>: <cause>".
void SetNonBlocking(int fd, std::string_view which);

// Writes all of `data` to a blocking descriptor. Returns false on an error (errno says which;
// EPIPE when the reader is gone and SIGPIPE is ignored, see sys/fork.h).
bool WriteAll(int fd, std::string_view data);

}  // namespace concbench
