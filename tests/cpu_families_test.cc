#include "cpu_families.h"

#include <gtest/gtest.h>

#include "workload/cpu.h"

namespace concbench {
namespace {

TEST(CpuFamiliesTest, ABatchIsKeyedByJobTasksAndOnlyForCpuIntensivoByN) {
  // n means nothing to trabajo: any n is the same batch.
  EXPECT_EQ(&CachedCpuBatch(CpuJob::kTrabajo, 3, 0), &CachedCpuBatch(CpuJob::kTrabajo, 3, 999));
  EXPECT_NE(&CachedCpuBatch(CpuJob::kTrabajo, 3), &CachedCpuBatch(CpuJob::kTrabajo, 4));
  EXPECT_NE(&CachedCpuBatch(CpuJob::kTrabajo, 3), &CachedCpuBatch(CpuJob::kTareaNormal, 3));
  // For cpu_intensivo n is the input of every task.
  const CpuBatch& a = CachedCpuBatch(CpuJob::kCpuIntensivo, 2, 10);
  const CpuBatch& b = CachedCpuBatch(CpuJob::kCpuIntensivo, 2, 20);
  EXPECT_NE(&a, &b);
  EXPECT_EQ(a.inputs, (std::vector<int64_t>{10, 10}));
  EXPECT_EQ(b.inputs, (std::vector<int64_t>{20, 20}));
}

TEST(CpuFamiliesTest, ACalibrationIsComputedOncePerBatch) {
  const Calibration& first = CachedCalibration(CpuJob::kTareaNormal, 2);
  EXPECT_EQ(&first, &CachedCalibration(CpuJob::kTareaNormal, 2, 5));
  EXPECT_EQ(first.checksum, 14998935 + 14998965);
}

TEST(CpuFamiliesTest, CpuWorkReadsTasksAndNByName) {
  const CpuWork w = CpuWorkFor(CpuJob::kCpuIntensivo, Args({"n", "workers", "tasks"}, {1000, 8, 3}));
  EXPECT_EQ(w.tasks(), 3);
  EXPECT_EQ(w.batch.inputs, (std::vector<int64_t>{1000, 1000, 1000}));
  EXPECT_EQ(w.cal.checksum, 3 * cpu_intensivo(1000));
  // trabajo has no n.
  EXPECT_EQ(CpuWorkFor(CpuJob::kTrabajo, Args({"tasks"}, {2})).cal.checksum, 2398830 + 2398875);
}

}  // namespace
}  // namespace concbench
