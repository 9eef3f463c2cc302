#include "workload/cpu.h"

namespace concbench {

namespace {
template <int64_t M>
int64_t ShiftedModSum(int64_t x, int64_t count) {
  int64_t total = 0;
  for (int64_t i = 0; i < count; ++i) total += py_mod(x + i, M);
  return total;
}
}  // namespace

int64_t trabajo_steps(int64_t x, int64_t count) { return ShiftedModSum<97>(x, count); }

int64_t tarea_normal_steps(int64_t x, int64_t count) { return ShiftedModSum<101>(x, count); }

int64_t cpu_intensivo(int64_t n) {
  int64_t s = 0;
  // i < 3.04e9 keeps i*i inside int64; the notebook's n is 200,000.
  for (int64_t i = 0; i < n; ++i) s += (i * i) % 97;
  return s;
}

int64_t trabajo(int64_t x) { return trabajo_steps(x, 50'000); }

int64_t tarea_normal(int64_t x) { return tarea_normal_steps(x, 300'000); }

}  // namespace concbench
