// Wall-clock timing on the steady clock: a stopwatch and the notebook's `time_block`.
//
// TimeBlock is a scope guard. On destruction it either prints `[label] time: 0.101 s` to the
// stream it was given, or stores the elapsed seconds into the double it was given. It never
// throws from its destructor.
//
//   { concbench::TimeBlock t("pausa de 0.1s", std::cout); BlockingSleep(100ms); }
//   double s; { concbench::TimeBlock t(&s); work(); }  // s holds the duration
#pragma once

#include <chrono>
#include <iosfwd>
#include <string>

namespace concbench {

// Measures elapsed wall time since construction or the last Reset().
class Stopwatch {
 public:
  using Clock = std::chrono::steady_clock;

  Stopwatch() : start_(Clock::now()) {}
  void Reset() { start_ = Clock::now(); }
  Clock::duration Elapsed() const { return Clock::now() - start_; }
  double ElapsedSeconds() const { return std::chrono::duration<double>(Elapsed()).count(); }

 private:
  Clock::time_point start_;
};

// Formats a duration the way the notebook prints it: "[label] time: 0.101 s".
std::string FormatTimeBlock(const std::string& label, double seconds);

class TimeBlock {
 public:
  // Prints the elapsed time, labelled, to `out` when the scope ends.
  TimeBlock(std::string label, std::ostream& out);
  // Stores the elapsed seconds into `*seconds` when the scope ends.
  explicit TimeBlock(double* seconds);
  ~TimeBlock();

  TimeBlock(const TimeBlock&) = delete;
  TimeBlock& operator=(const TimeBlock&) = delete;

 private:
  std::string label_;
  std::ostream* out_ = nullptr;
  double* seconds_ = nullptr;
  Stopwatch watch_;
};

}  // namespace concbench
