// BarePipeEcho: the floor for IPC cost (the `processes.bare_pipe` family). One child echoes
// length-prefixed messages over a pair of pipes, with nothing else: no frames, no decoding, and
// in the child blocking reads and writes. What a ProcessPool round trip costs above it is the
// pool's own overhead. The parent's ends are non-blocking and it waits in poll before each read
// (and when a write would block), as a ProcessPool's parent does: that one poll per round trip
// is the price of a bounded wait.
//
// The constructor forks the echo child (flushing output first; SIGPIPE is ignored as for a
// ProcessPool, so a dead child is an error, not a signal); Shutdown (or the destructor) closes
// the pipes, and the child, reading end-of-file, exits; it is killed if it has not within a
// second, and reaped by pid. A round trip that does not complete within the stall timeout (the
// child stopped or stuck) throws WorkerStalled naming the child, its pid and its state from
// /proc, after the child is killed and reaped; the echo is then shut down. Not thread-safe.
//
//   concbench::BarePipeEcho echo;
//   std::string reply;
//   echo.RoundTrip("hello", &reply);  // reply == "hello"
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <string_view>

#include "models/worker.h"

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
  // else, WorkerStalled if the round trip took longer than the stall timeout, and
  // std::logic_error after Shutdown or a stall.
  void RoundTrip(std::string_view message, std::string* reply);

  // The longest a round trip may take before it throws WorkerStalled; 0 means no limit.
  // kDefaultStallTimeout (60 s) until set. std::invalid_argument if negative.
  void SetStallTimeout(std::chrono::milliseconds timeout);
  std::chrono::milliseconds StallTimeout() const { return stall_timeout_; }

  pid_t pid() const { return pid_; }
  void Shutdown();

 private:
  // Kills and reaps the child (its state already read into the error) and throws `stalled`.
  [[noreturn]] void Stalled(const WorkerStalled& stalled);

  pid_t pid_ = 0;
  std::chrono::milliseconds stall_timeout_ = kDefaultStallTimeout;
  UniqueFd to_child_;
  UniqueFd from_child_;
  std::string send_;  // reused buffers: a round trip allocates nothing once warm
  std::string buf_;
};

}  // namespace concbench
