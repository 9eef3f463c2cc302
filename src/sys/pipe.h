// Pipe is a pipe(2) whose two ends are owned: both close-on-exec, both closed when the Pipe (or
// the UniqueFd an end was moved into) goes away.
//
// Close-on-exec is set atomically at creation (pipe2 with O_CLOEXEC), so a child that execs,
// forked by any thread, never inherits an end it would hold open: a reader sees end-of-file as
// soon as the ends it should see close are closed. A forked child that does not exec still
// inherits every end; it closes those it must not hold (see models/process_pool.cc).
//
//   concbench::Pipe p = concbench::Pipe::Open("RunForkPerTask: pipe2 (task 3)");
//   // in the child: p.read_end.Reset(); write to p.write_end.get(); _exit
//   // in the parent: p.write_end.Reset(); read p.read_end.get() until end-of-file
#pragma once

#include <string>

#include "sys/unique_fd.h"

namespace concbench {

struct Pipe {
  UniqueFd read_end;
  UniqueFd write_end;

  // pipe2(O_CLOEXEC). Throws std::system_error(errno, what) on failure, so `what` names the
  // call and its purpose ("ProcessPool: pipe2 (task pipe of worker 3)").
  static Pipe Open(const std::string& what);
};

}  // namespace concbench
