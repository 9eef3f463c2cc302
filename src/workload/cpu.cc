#include "workload/cpu.h"

namespace concbench {

int64_t shifted_mod_sum(int64_t x, int64_t count, int64_t m) {
  int64_t total = 0;
  for (int64_t i = 0; i < count; ++i) total += py_mod(x + i, m);
  return total;
}

int64_t cpu_intensivo(int64_t n) {
  int64_t s = 0;
  // i < 3.04e9 keeps i*i inside int64; the notebook's n is 200,000.
  for (int64_t i = 0; i < n; ++i) s += (i * i) % 97;
  return s;
}

int64_t trabajo(int64_t x) { return shifted_mod_sum(x, 50'000, 97); }

int64_t tarea_normal(int64_t x) { return shifted_mod_sum(x, 300'000, 101); }

}  // namespace concbench
