// What one task does, written once for every model: an ordered list of steps.
//
// A step either computes (one of the notebook's CPU functions, on the task's input or on a
// fixed operand) or waits (a sleep, or one request to the loopback echo server, whose reply
// leaves the server a fixed delay after the request arrived). Every model runs the same
// TaskSpec with its own mechanism: a blocking model blocks its thread or process on a wait
// (workload/blocking.h), an event loop turns it into a timer or a socket operation and runs the
// compute inline or offloaded (models/). So a new workload is a TaskSpec and its inputs, never
// new code in a model.
//
// Results. A task's result is the sum of its steps' results, so a task lost, run twice or run on
// the wrong input changes the batch's checksum:
//   compute  fn(operand)  (the operand is the task's input, or the step's own `arg`)
//   sleep    input + 1    (SleepTaskResult: T tasks on inputs 0..T-1 sum to T(T+1)/2)
//   echo     EchoDigest of the payload task `input` sends (workload/echo_protocol.h)
//
// Guarantees: ValidateSpec accepts exactly the specs a forked worker can run; the numeric values
// of the enums travel in frames (models/frame.h) and are never renumbered.
//
//   TaskSpec mixed = {{ComputeOn(ComputeFn::kCpuIntensivo, 20'000), SleepStep(10ms)}};
//   TaskSpec cpu = {{Compute(ComputeFn::kCpuIntensivo)}};   // inputs: n, n, n, ...
//   int64_t r = RunCompute(cpu.steps[0], 200'000);          // 9600239
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "workload/cpu.h"

namespace concbench {

enum class StepKind : uint8_t { kCompute = 1, kSleep = 2, kEcho = 3 };

enum class ComputeFn : uint8_t {
  kCpuIntensivo = 1,  // cpu_intensivo(operand), section 4
  kTrabajo = 2,       // trabajo(operand), section 4.1
  kTareaNormal = 3,   // tarea_normal(operand), section 5.3
  kIdentity = 4,      // the operand itself, at once: only the model's own cost is left
  // For fault tests only: abort() or _exit(3) when the input equals `arg` (else the input), and
  // a task that spins on the CPU forever.
  kAbortIf = 5,
  kExitIf = 6,
  kSpinForever = 7,
};

// What a compute step's function is applied to.
enum class Operand : uint8_t { kInput = 0, kArg = 1 };

struct Step {
  StepKind kind = StepKind::kCompute;
  ComputeFn fn = ComputeFn::kIdentity;  // kCompute
  Operand operand = Operand::kInput;    // kCompute
  // kCompute: the operand when `operand` is kArg (the crashing input for kAbortIf / kExitIf);
  // kSleep: the wait in nanoseconds; kEcho: the server's delay in nanoseconds (the server is
  // started with it; the step does not send it).
  int64_t arg = 0;
  int64_t bytes = 0;  // kEcho: payload bytes of the request (and of the reply)

  bool operator==(const Step&) const = default;
};

struct TaskSpec {
  std::vector<Step> steps;

  bool operator==(const TaskSpec&) const = default;
};

// At most this many steps in one task: a frame carries the spec in a byte-counted list.
inline constexpr size_t kMaxSteps = 255;

// Builders.
Step Compute(ComputeFn fn);                      // fn(the task's input)
Step ComputeOn(ComputeFn fn, int64_t operand);   // fn(operand), whatever the input
Step SleepStep(std::chrono::nanoseconds wait);
Step EchoStep(std::chrono::nanoseconds server_delay, int64_t payload_bytes);

// Why `spec` cannot run (an unknown kind or function, a negative wait or size, too many steps),
// or nothing. Every model checks a spec with this before running it.
std::optional<std::string> ValidateSpec(const TaskSpec& spec);

// "compute", "sleep", "echo"; "cpu_intensivo", "trabajo", ..., "spin_forever". Unknown values
// give "unknown".
std::string_view StepKindName(StepKind kind);
std::string_view ComputeFnName(ComputeFn fn);
// "cpu_intensivo(input)", "cpu_intensivo(20000)", "sleep 10 ms", "echo 64 B, 500 ms delay".
std::string DescribeStep(const Step& step);

// The step kinds a spec uses, as a bit set of 1 << StepKind.
unsigned StepKindsOf(const TaskSpec& spec);
inline constexpr unsigned StepKindBit(StepKind k) { return 1u << static_cast<unsigned>(k); }

// The names of the kinds in a StepKindsOf bit set, in enum order ("compute", "sleep", "echo").
std::vector<std::string_view> StepKindNames(unsigned kinds);

// The same spec with its wait steps left out: what a task computes (for calibration).
TaskSpec ComputeOnly(const TaskSpec& spec);

// The wall time the waits of one task take at least: Σ sleeps and echo delays, in seconds.
double WaitSeconds(const TaskSpec& spec);
// Whether the last step is a wait, and how long it lasts at least (0 otherwise).
double LastWaitSeconds(const TaskSpec& spec);

// The operand of a compute step for a task whose input is `input`.
inline int64_t OperandOf(const Step& s, int64_t input) { return s.operand == Operand::kArg ? s.arg : input; }

// Runs one compute step in the calling thread and gives its result. kAbortIf / kExitIf end the
// process on their input and kSpinForever never returns: only forked children run those.
int64_t RunCompute(const Step& step, int64_t input);

// The same, calling checkpoint() between slices of about `slice` loop iterations (an emulated
// interpreter's eval breaker: models/gil.h). Bit-exact with RunCompute.
template <class Checkpoint>
int64_t RunComputeSliced(const Step& step, int64_t input, int64_t slice, Checkpoint&& checkpoint);

// A positive control for comparisons (--inject_slowdown): every compute step afterwards does
// `percent` % more work of its own kind (the extra result is discarded), in every model and
// every process forked afterwards. 0 (the default) adds nothing; 0 <= percent <= 1000
// (std::invalid_argument otherwise). Set it before any task runs.
void SetComputeSlowdownPercent(double percent);
double ComputeSlowdownPercent();

// Σ of the compute steps' results of one task (what the task computes, without its waits), run
// in the calling thread: the work the calibration times.
int64_t RunComputePart(const TaskSpec& spec, int64_t input);

// ---- implementation -------------------------------------------------------------------------

namespace spec_detail {
// The extra work SetComputeSlowdownPercent asks of one compute step (nothing when it is 0).
void InjectedSlowdown(const Step& step, int64_t input);
template <class Term, class Checkpoint>
int64_t SlicedSum(int64_t count, int64_t slice, Term term, Checkpoint& checkpoint) {
  int64_t s = 0;
  for (int64_t lo = 0; lo < count; lo += slice) {
    const int64_t hi = count - lo < slice ? count : lo + slice;
    for (int64_t i = lo; i < hi; ++i) s += term(i);
    checkpoint();
  }
  return s;
}
}  // namespace spec_detail

template <class Checkpoint>
int64_t RunComputeSliced(const Step& step, int64_t input, int64_t slice, Checkpoint&& checkpoint) {
  const int64_t x = OperandOf(step, input);
  // The step's own loop (share 1), or the extra SetComputeSlowdownPercent asks for (its share of
  // the same loop), in slices either way.
  auto run = [&](double share) -> std::optional<int64_t> {
    auto part = [share](int64_t n) { return static_cast<int64_t>(static_cast<double>(n) * share + 0.5); };
    switch (step.fn) {
      case ComputeFn::kCpuIntensivo:
        return spec_detail::SlicedSum(part(x), slice, [](int64_t i) { return (i * i) % 97; }, checkpoint);
      case ComputeFn::kTrabajo:
        return spec_detail::SlicedSum(part(50'000), slice, [x](int64_t i) { return py_mod(x + i, 97); }, checkpoint);
      case ComputeFn::kTareaNormal:
        return spec_detail::SlicedSum(part(300'000), slice, [x](int64_t i) { return py_mod(x + i, 101); }, checkpoint);
      default:
        return std::nullopt;
    }
  };
  const std::optional<int64_t> r = run(1.0);
  if (!r) return RunCompute(step, input);
  if (const double pct = ComputeSlowdownPercent(); pct > 0) {
    volatile int64_t sink = run(pct / 100).value_or(0);
    (void)sink;
  }
  return *r;
}

}  // namespace concbench
