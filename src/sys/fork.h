// What a process does before it forks children that talk to it over pipes.
//
// FlushBeforeFork empties the C and C++ standard streams: a child starts with a copy of every
// buffer, so whatever was still buffered would be printed once by the parent and once more by
// each child that ever flushes (or exits through exit() instead of _exit()).
//
// IgnoreSigpipe makes a write to a pipe whose reader died fail with EPIPE instead of killing the
// writer: a parent must survive a worker that crashed, and report it. It changes SIGPIPE only
// when it is still SIG_DFL, so a program (or a test harness) that installed its own handler
// keeps it. It is process-wide and is never undone.
//
//   concbench::IgnoreSigpipe();
//   concbench::FlushBeforeFork();
//   const pid_t pid = ::fork();
#pragma once

namespace concbench {

void FlushBeforeFork();

void IgnoreSigpipe();

}  // namespace concbench
