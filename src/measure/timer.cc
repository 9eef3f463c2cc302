#include "measure/timer.h"

#include <cstdio>
#include <ostream>

namespace concbench {

std::string FormatTimeBlock(const std::string& label, double seconds) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.3f", seconds);
  return "[" + label + "] time: " + buf + " s";
}

TimeBlock::TimeBlock(std::string label, std::ostream& out) : label_(std::move(label)), out_(&out) {}

TimeBlock::TimeBlock(double* seconds) : seconds_(seconds) {}

TimeBlock::~TimeBlock() {
  const double s = watch_.ElapsedSeconds();
  if (seconds_ != nullptr) *seconds_ = s;
  if (out_ != nullptr) *out_ << FormatTimeBlock(label_, s) << '\n';
}

}  // namespace concbench
