// How a child ended, in words, from the status waitpid(2) stored.
//
// The text names the exit status or the signal by number, abbreviation and description, so an
// error message that embeds it says at once whether a child crashed, was killed or gave up:
// "exited with status 3", "killed by signal 9 (KILL: Killed)", "killed by signal 6 (ABRT:
// Aborted), core dumped"; any other status reads "ended with wait status N".
//
//   int status;
//   ::waitpid(pid, &status, 0);
//   throw std::runtime_error("worker " + std::to_string(pid) + " " + DescribeWaitStatus(status));
#pragma once

#include <string>

namespace concbench {

std::string DescribeWaitStatus(int status);

}  // namespace concbench
