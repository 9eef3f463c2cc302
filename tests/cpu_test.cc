#include "workload/cpu.h"

#include <gtest/gtest.h>

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

TEST(CpuTest, TrabajoAndTareaNormalAreShiftedModSums) {
  EXPECT_EQ(trabajo_steps(0, 50'000), 2398830);
  EXPECT_EQ(tarea_normal_steps(3, 300'000), 14999025);
  EXPECT_EQ(trabajo_steps(5, 0), 0);
  EXPECT_EQ(trabajo_steps(-1, 2), 96 + 0);
  EXPECT_EQ(tarea_normal_steps(-1, 2), 100 + 0);
}

}  // namespace
}  // namespace concbench
