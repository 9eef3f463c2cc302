#include "workload/cpu.h"

#include <gtest/gtest.h>

#include "workload/cpu_jobs.h"

namespace concbench {
namespace {

// Expected values were printed by the notebook's own Python.
TEST(CpuTest, CpuIntensivoMatchesPython) {
  EXPECT_EQ(cpu_intensivo(200'000), 9600239);
  EXPECT_EQ(cpu_intensivo(0), 0);
  EXPECT_EQ(cpu_intensivo(-5), 0);
}

TEST(CpuTest, TrabajoMatchesPython) {
  EXPECT_EQ(trabajo(0), 2398830);
  EXPECT_EQ(trabajo(1), 2398875);
  EXPECT_EQ(trabajo(2), 2398920);
  EXPECT_EQ(trabajo(3), 2398965);
  EXPECT_EQ(trabajo(4), 2399010);
  int64_t total = 0;
  for (int64_t x = 0; x < 200; ++x) total += trabajo(x);
  EXPECT_EQ(total, 479993655);
}

TEST(CpuTest, TareaNormalMatchesPython) {
  EXPECT_EQ(tarea_normal(0), 14998935);
  EXPECT_EQ(tarea_normal(1), 14998965);
  EXPECT_EQ(tarea_normal(2), 14998995);
  EXPECT_EQ(tarea_normal(3), 14999025);
}

TEST(CpuTest, ModuloFollowsPythonSignRule) {
  EXPECT_EQ(py_mod(-1, 97), 96);
  EXPECT_EQ(py_mod(-97, 97), 0);
  EXPECT_EQ(py_mod(98, 97), 1);
  // trabajo(-50_000) in Python: every term (x+i) % 97 is non-negative.
  EXPECT_GT(trabajo(-50'000), 0);
}

TEST(CpuJobsTest, BatchesReproduceTheNotebookInputs) {
  CpuBatch a = MakeCpuBatch(CpuJob::kCpuIntensivo, 4, 200'000);
  EXPECT_EQ(a.inputs, (std::vector<int64_t>{200'000, 200'000, 200'000, 200'000}));
  EXPECT_EQ(a.task(a.inputs[0]), 9600239);
  CpuBatch t = MakeCpuBatch(CpuJob::kTareaNormal, 4);
  EXPECT_EQ(t.inputs, (std::vector<int64_t>{0, 1, 2, 3}));
  int64_t sum = 0;
  for (int64_t x : t.inputs) sum += t.task(x);
  EXPECT_EQ(sum, 59995920);  // section 5.3's four results
  EXPECT_EQ(CpuJobWorkload(CpuJob::kTrabajo), "trabajo");
}

}  // namespace
}  // namespace concbench
