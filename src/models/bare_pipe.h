// BarePipeEcho: the floor for IPC cost (the `processes.bare_pipe` family). One child echoes
// length-prefixed messages over a pair of blocking pipes, with nothing else: no frames, no poll,
// no decoding. What a ProcessPool round trip costs above it is the pool's own overhead.
//
// The constructor forks the echo child (flushing output first; SIGPIPE is ignored as for a
// ProcessPool, so a dead child is an error, not a signal); Shutdown (or the destructor) closes
// the pipes, and the child, reading end-of-file, exits; it is killed if it has not within a
// second, and reaped by pid. Not thread-safe.
//
//   concbench::BarePipeEcho echo;
//   std::string reply;
//   echo.RoundTrip("hello", &reply);  // reply == "hello"
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>

#include "sys/unique_fd.h"

namespace concbench {

class BarePipeEcho {
 public:
  BarePipeEcho();   // forks the echo child; std::system_error on failure
  ~BarePipeEcho();  // Shutdown()

  BarePipeEcho(const BarePipeEcho&) = delete;
  BarePipeEcho& operator=(const BarePipeEcho&) = delete;

  // Sends `message` and waits for it to come back into *reply. Throws std::system_error on a
  // failed read or write, std::runtime_error if the child closed its end or echoed something
  // else, and std::logic_error after Shutdown.
  void RoundTrip(std::string_view message, std::string* reply);
  pid_t pid() const { return pid_; }
  void Shutdown();

 private:
  pid_t pid_ = 0;
  UniqueFd to_child_;
  UniqueFd from_child_;
  std::string send_;  // reused buffers: a round trip allocates nothing once warm
  std::string buf_;
};

}  // namespace concbench
