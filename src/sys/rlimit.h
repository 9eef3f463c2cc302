// The limits that decide how many threads, processes and descriptors this process may create,
// as text for error messages and for the benchmark context.
//
// A refused fork, pthread_create or pipe says "Resource temporarily unavailable" or "Too many
// open files" and nothing about which limit was hit; an error that carries these descriptions
// lets the reader see it (a lowered RLIMIT_NPROC, a small pid_max) without reproducing the run.
//
//   throw LimitError("fork failed: " + std::string(std::strerror(err)) + " (limits: " +
//                    concbench::DescribeTaskLimits() + ")");
#pragma once

#include <string>

namespace concbench {

// "soft/hard" of one getrlimit resource ("unlimited" for RLIM_INFINITY, "unknown" on failure).
std::string DescribeRlimit(int resource);

// "RLIMIT_NPROC=96365/96365 RLIMIT_NOFILE=1024/524288 RLIMIT_STACK=8388608/unlimited
// threads-max=192731 pid_max=32768 max_map_count=65530"; a /proc value that cannot be read is
// "unknown".
std::string DescribeTaskLimits();

}  // namespace concbench
