// The notebook's CPU-bound task functions, bit-exact with its Python.
//
// Every model runs these same functions, so models are compared on identical work. Inputs are
// 64-bit and the modulo follows Python's sign rule (the result has the divisor's sign), so any
// input gives the value CPython prints. The functions are pure and thread-safe; callers that
// benchmark them pass runtime inputs and keep the result alive (benchmark::DoNotOptimize) so the
// compiler cannot fold the work away.
//
//   int64_t a = concbench::cpu_intensivo(200'000);  // 9600239
//   int64_t b = concbench::trabajo(0);              // 2398830
//   int64_t c = concbench::tarea_normal(0);         // 14998935
#pragma once

#include <cstdint>

namespace concbench {

// Σ (i·i) mod 97 for 0 ≤ i < n (notebook section 4). n ≤ 0 gives 0.
int64_t cpu_intensivo(int64_t n);

// Σ (x+i) mod 97 for 0 ≤ i < 50,000 (notebook section 4.1).
int64_t trabajo(int64_t x);

// Σ (x+i) mod 101 for 0 ≤ i < 300,000 (notebook section 5.3).
int64_t tarea_normal(int64_t x);

// The first `count` steps of trabajo(x) and tarea_normal(x): Σ (x+i) mod 97 (mod 101) for
// 0 ≤ i < count, one modulo per step as the notebook writes it, compiled as trabajo and
// tarea_normal are (a constant modulus), so a step costs the same here as there (the injected
// slowdown runs these: a runtime modulus made its steps twice as slow).
int64_t trabajo_steps(int64_t x, int64_t count);
int64_t tarea_normal_steps(int64_t x, int64_t count);

// Python's `a % m` for m > 0: always in [0, m).
constexpr int64_t py_mod(int64_t a, int64_t m) {
  const int64_t r = a % m;
  return r < 0 ? r + m : r;
}

}  // namespace concbench
