#include "time_left.h"

#include <algorithm>

namespace concbench {

TimeLeft::TimeLeft(const std::vector<Planned>& planned, int64_t repetitions, double min_time_s)
    : repetitions_(std::max<int64_t>(repetitions, 1)) {
  for (const Planned& p : planned) {
    const double one = PlannedSeconds(p, 1, min_time_s);
    progress_[p.name].planned_s = one;
    planned_s_ += one * static_cast<double>(repetitions_);
  }
}

int64_t TimeLeft::repetitions_planned() const { return static_cast<int64_t>(progress_.size()) * repetitions_; }

void TimeLeft::Credit(Progress& p, int64_t done) {
  done = std::min(done, repetitions_);
  if (done <= p.done) return;
  repetitions_done_ += done - p.done;
  p.done = done;
}

void TimeLeft::RunBegan(const std::string& name, double at_s) {
  if (!progress_.count(name)) return;
  running_ = name;
  running_since_s_ = at_s;
}

void TimeLeft::RunEnded(const std::string& name, int64_t iterations, double at_s) {
  const auto it = progress_.find(name);
  if (it == progress_.end()) return;
  Progress& p = it->second;
  const double took = running_ == name ? std::max(0.0, at_s - running_since_s_) : 0.0;
  running_.clear();
  p.measured_s += took;
  in_runs_s_ += took;
  if (iterations > p.most_iterations) {  // a first run, or a longer sizing round
    p.most_iterations = iterations;
    p.runs_at_most = 0;
    p.at_most_s = 0;
  }
  if (iterations == p.most_iterations) {
    ++p.runs_at_most;
    p.at_most_s += took;
  }
  Credit(p, p.runs_at_most);
}

void TimeLeft::Finished(const std::string& name) {
  const auto it = progress_.find(name);
  if (it != progress_.end()) Credit(it->second, repetitions_);
}

double TimeLeft::Estimate(const Progress& p, double excess) const {
  if (p.runs_at_most > 0) return p.at_most_s / static_cast<double>(p.runs_at_most);
  return std::max(0.0, p.planned_s + excess);
}

std::optional<double> TimeLeft::SecondsLeft(double now_s) const {
  double excess = 0;
  int measured = 0;
  for (const auto& [name, p] : progress_) {
    if (p.done == 0 || p.runs_at_most == 0) continue;
    excess += p.measured_s / static_cast<double>(p.done) - p.planned_s;
    ++measured;
  }
  if (measured == 0 || in_runs_s_ <= 0) return std::nullopt;
  excess /= measured;
  double left = 0;
  for (const auto& [name, p] : progress_) {
    left += static_cast<double>(repetitions_ - p.done) * Estimate(p, excess);
  }
  const bool in_flight = !running_.empty();
  if (in_flight) {
    const Progress& p = progress_.at(running_);
    if (p.done < repetitions_) left -= std::min(now_s - running_since_s_, Estimate(p, excess));
  }
  // The time between runs (Google Benchmark's own work, the reports), in proportion.
  const double settled_s = in_flight ? running_since_s_ : now_s;
  return std::max(0.0, left) * std::max(1.0, settled_s / in_runs_s_);
}

}  // namespace concbench
