#include "time_left.h"

#include <algorithm>

namespace concbench {

TimeLeft::TimeLeft(const std::vector<Planned>& planned, int64_t repetitions, double min_time_s)
    : repetitions_(std::max<int64_t>(repetitions, 1)) {
  for (const Planned& p : planned) {
    const double one = PlannedSeconds(p, 1, min_time_s);
    progress_[p.name].repetition_s = one;
    planned_s_ += one * static_cast<double>(repetitions_);
  }
}

int64_t TimeLeft::repetitions_planned() const { return static_cast<int64_t>(progress_.size()) * repetitions_; }

void TimeLeft::Credit(Progress& p, int64_t done) {
  done = std::min(done, repetitions_);
  if (done <= p.done) return;
  done_s_ += static_cast<double>(done - p.done) * p.repetition_s;
  repetitions_done_ += done - p.done;
  p.done = done;
}

void TimeLeft::RunBegan(const std::string& name, double at_s) {
  if (!progress_.count(name)) return;
  running_ = name;
  running_since_s_ = at_s;
}

void TimeLeft::RunEnded(const std::string& name, int64_t iterations, double /*at_s*/) {
  const auto it = progress_.find(name);
  if (it == progress_.end()) return;
  Progress& p = it->second;
  if (iterations > p.most_iterations) {  // a first run, or a longer sizing round
    p.most_iterations = iterations;
    p.runs_at_most = 0;
  }
  if (iterations == p.most_iterations) ++p.runs_at_most;
  Credit(p, p.runs_at_most);
  if (running_ == name) running_.clear();
}

void TimeLeft::Finished(const std::string& name) {
  const auto it = progress_.find(name);
  if (it != progress_.end()) Credit(it->second, repetitions_);
}

std::optional<double> TimeLeft::SecondsLeft(double now_s) const {
  if (done_s_ <= 0) return std::nullopt;
  const bool in_flight = !running_.empty();
  const double settled_s = in_flight ? running_since_s_ : now_s;
  const double pace = settled_s / done_s_;
  double current_s = 0;  // the plan of the repetition in flight, when it is not done yet
  if (in_flight) {
    const Progress& p = progress_.at(running_);
    if (p.done < repetitions_) current_s = p.repetition_s;
  }
  const double rest = std::max(0.0, planned_s_ - done_s_ - current_s);
  return pace * rest + std::max(0.0, pace * current_s - (now_s - settled_s));
}

}  // namespace concbench
