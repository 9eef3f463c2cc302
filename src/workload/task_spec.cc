#include "workload/task_spec.h"

#include <unistd.h>

#include <atomic>
#include <cmath>
#include <cstdlib>
#include <stdexcept>

#include "workload/echo_protocol.h"

namespace concbench {
namespace {

constexpr int kExitIfStatus = 3;  // ComputeFn::kExitIf

// Written before any task runs (main, before forking), read by every thread and child after.
std::atomic<double> g_slowdown_percent{0.0};

// ComputeFn::kSpinForever. It burns CPU rather than sleeping, so a stall report reads "running",
// as it would for a real endless loop; the volatile store is a side effect, so the loop is not
// undefined behaviour the compiler could remove.
[[noreturn]] void SpinForever() {
  volatile uint64_t spins = 0;
  for (;;) spins = spins + 1;
}

bool IsKnownKind(StepKind k) { return k == StepKind::kCompute || k == StepKind::kSleep || k == StepKind::kEcho; }

bool IsKnownFn(ComputeFn f) {
  return static_cast<uint8_t>(f) >= static_cast<uint8_t>(ComputeFn::kCpuIntensivo) &&
         static_cast<uint8_t>(f) <= static_cast<uint8_t>(ComputeFn::kSpinForever);
}

}  // namespace

Step Compute(ComputeFn fn) { return {.kind = StepKind::kCompute, .fn = fn, .operand = Operand::kInput}; }

Step ComputeOn(ComputeFn fn, int64_t operand) {
  return {.kind = StepKind::kCompute, .fn = fn, .operand = Operand::kArg, .arg = operand};
}

Step SleepStep(std::chrono::nanoseconds wait) { return {.kind = StepKind::kSleep, .arg = wait.count()}; }

Step EchoStep(std::chrono::nanoseconds server_delay, int64_t payload_bytes) {
  return {.kind = StepKind::kEcho, .arg = server_delay.count(), .bytes = payload_bytes};
}

std::optional<std::string> ValidateSpec(const TaskSpec& spec) {
  if (spec.steps.size() > kMaxSteps) {
    return "a task has " + std::to_string(spec.steps.size()) + " steps, at most " + std::to_string(kMaxSteps);
  }
  for (size_t i = 0; i < spec.steps.size(); ++i) {
    const Step& s = spec.steps[i];
    const std::string where = "step " + std::to_string(i) + ": ";
    if (!IsKnownKind(s.kind)) return where + "unknown step kind " + std::to_string(static_cast<int>(s.kind));
    switch (s.kind) {
      case StepKind::kCompute:
        if (!IsKnownFn(s.fn)) return where + "unknown compute function " + std::to_string(static_cast<int>(s.fn));
        if (s.operand != Operand::kInput && s.operand != Operand::kArg) {
          return where + "unknown operand " + std::to_string(static_cast<int>(s.operand));
        }
        break;
      case StepKind::kSleep:
        if (s.arg < 0) return where + "a sleep of " + std::to_string(s.arg) + " ns";
        break;
      case StepKind::kEcho:
        if (s.arg < 0) return where + "an echo delay of " + std::to_string(s.arg) + " ns";
        if (s.bytes < 0 || s.bytes > static_cast<int64_t>(kEchoMaxPayload)) {
          return where + "an echo payload of " + std::to_string(s.bytes) + " bytes (0 to " +
                 std::to_string(kEchoMaxPayload) + ")";
        }
        break;
    }
  }
  return std::nullopt;
}

std::string_view StepKindName(StepKind kind) {
  switch (kind) {
    case StepKind::kCompute: return "compute";
    case StepKind::kSleep: return "sleep";
    case StepKind::kEcho: return "echo";
  }
  return "unknown";
}

std::string_view ComputeFnName(ComputeFn fn) {
  switch (fn) {
    case ComputeFn::kCpuIntensivo: return "cpu_intensivo";
    case ComputeFn::kTrabajo: return "trabajo";
    case ComputeFn::kTareaNormal: return "tarea_normal";
    case ComputeFn::kIdentity: return "identity";
    case ComputeFn::kAbortIf: return "abort_if";
    case ComputeFn::kExitIf: return "exit_if";
    case ComputeFn::kSpinForever: return "spin_forever";
  }
  return "unknown";
}

namespace {
std::string Milliseconds(int64_t ns) {
  const double ms = static_cast<double>(ns) / 1e6;
  char buf[32];
  std::snprintf(buf, sizeof buf, ms == std::floor(ms) ? "%.0f ms" : "%.3g ms", ms);
  return buf;
}
}  // namespace

std::string DescribeStep(const Step& s) {
  switch (s.kind) {
    case StepKind::kCompute:
      return std::string(ComputeFnName(s.fn)) + "(" + (s.operand == Operand::kArg ? std::to_string(s.arg) : "input") + ")";
    case StepKind::kSleep: return "sleep " + Milliseconds(s.arg);
    case StepKind::kEcho: return "echo " + std::to_string(s.bytes) + " B, " + Milliseconds(s.arg) + " delay";
  }
  return "unknown step";
}

unsigned StepKindsOf(const TaskSpec& spec) {
  unsigned bits = 0;
  for (const Step& s : spec.steps) bits |= StepKindBit(s.kind);
  return bits;
}

std::vector<std::string_view> StepKindNames(unsigned kinds) {
  std::vector<std::string_view> names;
  for (const StepKind k : {StepKind::kCompute, StepKind::kSleep, StepKind::kEcho}) {
    if ((kinds & StepKindBit(k)) != 0) names.push_back(StepKindName(k));
  }
  return names;
}

TaskSpec ComputeOnly(const TaskSpec& spec) {
  TaskSpec out;
  for (const Step& s : spec.steps) {
    if (s.kind == StepKind::kCompute) out.steps.push_back(s);
  }
  return out;
}

double WaitSeconds(const TaskSpec& spec) {
  double s = 0;
  for (const Step& step : spec.steps) {
    if (step.kind != StepKind::kCompute) s += static_cast<double>(step.arg) / 1e9;
  }
  return s;
}

double LastWaitSeconds(const TaskSpec& spec) {
  if (spec.steps.empty() || spec.steps.back().kind == StepKind::kCompute) return 0;
  return static_cast<double>(spec.steps.back().arg) / 1e9;
}

int64_t RunCompute(const Step& step, int64_t input) {
  const int64_t x = OperandOf(step, input);
  int64_t r = 0;
  switch (step.fn) {
    case ComputeFn::kCpuIntensivo: r = cpu_intensivo(x); break;
    case ComputeFn::kTrabajo: r = trabajo(x); break;
    case ComputeFn::kTareaNormal: r = tarea_normal(x); break;
    case ComputeFn::kIdentity: return x;
    case ComputeFn::kAbortIf:
      if (input == step.arg) std::abort();
      return input;
    case ComputeFn::kExitIf:
      if (input == step.arg) ::_exit(kExitIfStatus);
      return input;
    case ComputeFn::kSpinForever: SpinForever();
    default: throw std::invalid_argument("RunCompute: unknown compute function " + std::to_string(static_cast<int>(step.fn)));
  }
  spec_detail::InjectedSlowdown(step, input);
  return r;
}

void SetComputeSlowdownPercent(double percent) {
  if (!(percent >= 0 && percent <= 1000)) {
    throw std::invalid_argument("SetComputeSlowdownPercent: " + std::to_string(percent) + " is not in [0, 1000]");
  }
  g_slowdown_percent.store(percent, std::memory_order_relaxed);
}

double ComputeSlowdownPercent() { return g_slowdown_percent.load(std::memory_order_relaxed); }

void spec_detail::InjectedSlowdown(const Step& step, int64_t input) {
  const double pct = g_slowdown_percent.load(std::memory_order_relaxed);
  if (pct <= 0) return;
  const int64_t x = OperandOf(step, input);
  auto part = [pct](int64_t count) { return static_cast<int64_t>(std::llround(static_cast<double>(count) * pct / 100)); };
  volatile int64_t sink = 0;
  switch (step.fn) {
    case ComputeFn::kCpuIntensivo: sink = cpu_intensivo(part(x)); break;
    case ComputeFn::kTrabajo: sink = trabajo_steps(x, part(50'000)); break;
    case ComputeFn::kTareaNormal: sink = tarea_normal_steps(x, part(300'000)); break;
    default: break;
  }
  (void)sink;
}

int64_t RunComputePart(const TaskSpec& spec, int64_t input) {
  int64_t sum = 0;
  for (const Step& s : spec.steps) {
    if (s.kind == StepKind::kCompute) sum += RunCompute(s, input);
  }
  return sum;
}

}  // namespace concbench
