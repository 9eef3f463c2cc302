// What /proc/<pid>/stat (proc(5)) says about a process: its scheduling state and its parent.
//
// For error messages and checks about children that a parent cannot ask waitpid about without
// reaping them: a stall report names each silent worker's state ("stopped (T)" says someone sent
// SIGSTOP, "running (R)" says an endless task), and a test or a watchdog lists what is left.
//
// Guarantees: the line is parsed from the last ')' on, so a command name (up to 15 bytes, chosen
// by the process itself with prctl(PR_SET_NAME)) that contains spaces, ')' or a fake state cannot
// be mistaken for the fields after it. A process that ends while it is being read is "gone" (or
// left out of ChildrenOf), never an error. Reading /proc/<pid>/stat needs no permission.
//
//   std::cerr << "worker " << pid << " is " << concbench::ProcessState(pid);  // "stopped (T)"
//   EXPECT_TRUE(concbench::ChildrenOf(getpid()).empty());  // nothing left behind
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace concbench {

// The state letter of process `pid` in words: "running (R)", "sleeping (S)", "disk sleep (D)",
// "stopped (T)", "tracing stop (t)", "zombie (Z)", "dead (X)", "idle (I)" (and the rarer
// "wakekill (K)", "waking (W)", "parked (P)"; "unknown (c)" for any other letter); "gone" if
// there is no such process (a reaped child); "unreadable: <cause>" if /proc could not be read.
std::string ProcessState(pid_t pid);

// The processes whose parent is `parent`, zombies included, in ascending pid order; empty if
// /proc cannot be read.
std::vector<pid_t> ChildrenOf(pid_t parent);

}  // namespace concbench
