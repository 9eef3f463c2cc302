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
  const double capacity = CapacityFor(w.batch.inputs, w.batch.task, threads);
  return MachineIdealSeconds(w.cal.task_seconds, workers, chunksize, capacity);
}

double SerialCpuEstimate(CpuJob job, const Args& a) {
  const double per_task = job == CpuJob::kCpuIntensivo ? 1.3 * static_cast<double>(a["n"])
                          : job == CpuJob::kTrabajo    ? 2.8 * 50'000
                                                       : 2.8 * 300'000;
  return 1e-9 * per_task * static_cast<double>(a["tasks"]);
}

}  // namespace concbench
