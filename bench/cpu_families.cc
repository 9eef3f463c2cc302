#include "cpu_families.h"

#include <algorithm>
#include <map>
#include <tuple>

#include "measure/probe.h"

namespace concbench {
namespace {

using Key = std::tuple<CpuJob, int64_t, int64_t>;

Key MakeKey(CpuJob job, int64_t tasks, int64_t n) {
  return {job, tasks, job == CpuJob::kCpuIntensivo ? n : 0};
}

}  // namespace

const CpuBatch& CachedCpuBatch(CpuJob job, int64_t tasks, int64_t n) {
  static std::map<Key, CpuBatch> cache;
  const Key key = MakeKey(job, tasks, n);
  auto it = cache.find(key);
  if (it == cache.end()) it = cache.emplace(key, MakeCpuBatch(job, tasks, n)).first;
  return it->second;
}

const Calibration& CachedCalibration(CpuJob job, int64_t tasks, int64_t n) {
  static std::map<Key, Calibration> cache;
  const Key key = MakeKey(job, tasks, n);
  auto it = cache.find(key);
  if (it == cache.end()) {
    const CpuBatch& b = CachedCpuBatch(job, tasks, n);
    it = cache.emplace(key, Calibrate(b.inputs, b.task, 3, 0.2)).first;
  }
  return it->second;
}

CpuWork CpuWorkFor(CpuJob job, const Args& args) {
  const int64_t n = job == CpuJob::kCpuIntensivo ? args["n"] : 0;
  return {CachedCpuBatch(job, args["tasks"], n), CachedCalibration(job, args["tasks"], n)};
}

double MachineIdealFor(const CpuWork& w, int64_t workers, int64_t chunksize) {
  const int threads = static_cast<int>(std::min<int64_t>(workers, UsableCores()));
  const BatchCapacity now = MeasureBatchCapacity(w.batch.inputs, w.batch.task, threads);
  // The calibration's task times, scaled to the core's speed now: on a shared VM one core's
  // speed drifts by tens of percent within minutes, and the calibration is cached per process.
  std::vector<double> task_seconds = w.cal.task_seconds;
  const double scale = w.cal.total_seconds > 0 && now.serial_seconds > 0 ? now.serial_seconds / w.cal.total_seconds : 1.0;
  for (double& t : task_seconds) t *= scale;
  return MachineIdealSeconds(task_seconds, workers, chunksize, now.capacity);
}

double SerialCpuEstimate(CpuJob job, const Args& a) {
  const double per_task = job == CpuJob::kCpuIntensivo ? 1.3 * static_cast<double>(a["n"])
                          : job == CpuJob::kTrabajo    ? 2.8 * 50'000
                                                       : 2.8 * 300'000;
  return 1e-9 * per_task * static_cast<double>(a["tasks"]);
}

}  // namespace concbench
