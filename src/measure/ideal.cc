#include "measure/ideal.h"

#include <sched.h>

#include <algorithm>
#include <functional>
#include <numeric>
#include <queue>
#include <stdexcept>
#include <string>

#include "measure/timer.h"

namespace concbench {

Calibration Calibrate(std::span<const int64_t> inputs, const TaskFn& task, int min_rounds,
                      double min_seconds) {
  if (min_rounds < 1) throw std::invalid_argument("Calibrate: min_rounds must be >= 1");
  constexpr int kMaxRounds = 10'000;
  Calibration c;
  c.results.resize(inputs.size());
  std::vector<std::vector<double>> times(inputs.size());
  Stopwatch total;
  for (int r = 0; r < kMaxRounds && (r < min_rounds || total.ElapsedSeconds() < min_seconds); ++r) {
    for (size_t i = 0; i < inputs.size(); ++i) {
      Stopwatch w;
      const int64_t v = task(inputs[i]);
      times[i].push_back(w.ElapsedSeconds());
      if (r == 0) {
        c.results[i] = v;
      } else if (v != c.results[i]) {
        throw std::logic_error("Calibrate: task " + std::to_string(i) + " is not deterministic");
      }
    }
    if (inputs.empty()) break;
  }
  c.task_seconds.resize(inputs.size());
  for (size_t i = 0; i < inputs.size(); ++i) {
    auto& t = times[i];
    std::nth_element(t.begin(), t.begin() + static_cast<std::ptrdiff_t>(t.size() / 2), t.end());
    c.task_seconds[i] = t[t.size() / 2];
  }
  c.checksum = Checksum(c.results);
  c.total_seconds = std::accumulate(c.task_seconds.begin(), c.task_seconds.end(), 0.0);
  return c;
}

double Makespan(std::span<const double> task_seconds, int64_t workers, int64_t chunksize) {
  if (workers < 1) throw std::invalid_argument("Makespan: workers must be >= 1");
  if (chunksize < 1) throw std::invalid_argument("Makespan: chunksize must be >= 1");
  // Min-heap of the times at which each worker becomes free.
  std::priority_queue<double, std::vector<double>, std::greater<>> free_at;
  for (int64_t w = 0; w < workers && w < static_cast<int64_t>(task_seconds.size()); ++w) {
    free_at.push(0.0);
  }
  double end = 0;
  for (size_t i = 0; i < task_seconds.size(); i += static_cast<size_t>(chunksize)) {
    const size_t stop = std::min(task_seconds.size(), i + static_cast<size_t>(chunksize));
    const double chunk = std::accumulate(task_seconds.begin() + static_cast<std::ptrdiff_t>(i),
                                         task_seconds.begin() + static_cast<std::ptrdiff_t>(stop), 0.0);
    const double start = free_at.top();
    free_at.pop();
    free_at.push(start + chunk);
    end = std::max(end, start + chunk);
  }
  return end;
}

double UniformMakespan(int64_t tasks, double seconds, int64_t workers, int64_t chunksize) {
  std::vector<double> t(static_cast<size_t>(std::max<int64_t>(tasks, 0)), seconds);
  return Makespan(t, workers, chunksize);
}

double BatchIdealSeconds(std::span<const double> cpu_seconds, double wait_seconds, double last_wait_seconds,
                         const BatchShape& shape, double capacity) {
  if (shape.lanes < 0 || shape.cpu_slots < 1 || shape.chunksize < 1) {
    throw std::invalid_argument("BatchIdealSeconds: lanes " + std::to_string(shape.lanes) + ", cpu_slots " +
                                std::to_string(shape.cpu_slots) + ", chunksize " + std::to_string(shape.chunksize));
  }
  if (!(capacity > 0)) throw std::invalid_argument("BatchIdealSeconds: capacity must be > 0");
  const double cpu_total = std::accumulate(cpu_seconds.begin(), cpu_seconds.end(), 0.0);
  const double cores = std::min(static_cast<double>(shape.cpu_slots), capacity);
  if (wait_seconds <= 0) return std::max(Makespan(cpu_seconds, shape.cpu_slots, shape.chunksize), cpu_total / cores);
  std::vector<double> whole(cpu_seconds.begin(), cpu_seconds.end());
  for (double& t : whole) t += wait_seconds;
  const int64_t lanes = shape.lanes > 0 ? shape.lanes : std::max<int64_t>(1, static_cast<int64_t>(whole.size()));
  return std::max(Makespan(whole, lanes, shape.chunksize), cpu_total / cores + last_wait_seconds);
}

int UsableCores() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) != 0) return 1;
  return std::max(1, CPU_COUNT(&set));
}

int64_t Checksum(std::span<const int64_t> values) {
  return std::accumulate(values.begin(), values.end(), int64_t{0});
}

}  // namespace concbench
