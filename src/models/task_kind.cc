#include "models/task_kind.h"

#include <unistd.h>

#include <cstdlib>
#include <stdexcept>
#include <string>

#include "workload/cpu.h"
#include "workload/sleep.h"

namespace concbench {
namespace {

constexpr int kExitIfStatus = 3;  // TaskKind::kExitIf

// TaskKind::kSpinForever. It burns CPU rather than sleeping, so a stall report reads "running",
// as it would for a real endless loop; the volatile store is a side effect, so the loop is not
// undefined behaviour the compiler could remove.
[[noreturn]] void SpinForever() {
  volatile uint64_t spins = 0;
  for (;;) spins = spins + 1;
}

}  // namespace

bool IsKnownTaskKind(uint8_t kind) {
  return kind >= static_cast<uint8_t>(TaskKind::kSleep) && kind <= static_cast<uint8_t>(TaskKind::kSpinForever);
}

std::string_view TaskKindName(TaskKind kind) {
  switch (kind) {
    case TaskKind::kSleep: return "sleep";
    case TaskKind::kCpuIntensivo: return "cpu_intensivo";
    case TaskKind::kTrabajo: return "trabajo";
    case TaskKind::kTareaNormal: return "tarea_normal";
    case TaskKind::kEcho: return "echo";
    case TaskKind::kAbortIf: return "abort_if";
    case TaskKind::kExitIf: return "exit_if";
    case TaskKind::kInherited: return "inherited";
    case TaskKind::kSpinForever: return "spin_forever";
  }
  return "unknown";
}

TaskSpec SleepSpec(std::chrono::nanoseconds d) { return {TaskKind::kSleep, d.count()}; }

TaskSpec CpuJobSpec(CpuJob job) {
  switch (job) {
    case CpuJob::kCpuIntensivo: return {TaskKind::kCpuIntensivo, 0};
    case CpuJob::kTrabajo: return {TaskKind::kTrabajo, 0};
    case CpuJob::kTareaNormal: return {TaskKind::kTareaNormal, 0};
  }
  throw std::invalid_argument("CpuJobSpec: unknown job");
}

int64_t RunTask(const TaskSpec& spec, int64_t input, const TaskFn* inherited) {
  switch (spec.kind) {
    case TaskKind::kSleep: return SleepTask(input, std::chrono::nanoseconds(spec.param));
    case TaskKind::kCpuIntensivo: return cpu_intensivo(input);
    case TaskKind::kTrabajo: return trabajo(input);
    case TaskKind::kTareaNormal: return tarea_normal(input);
    case TaskKind::kEcho: return input;
    case TaskKind::kAbortIf:
      if (input == spec.param) std::abort();
      return input;
    case TaskKind::kExitIf:
      if (input == spec.param) ::_exit(kExitIfStatus);
      return input;
    case TaskKind::kInherited:
      if (inherited == nullptr || !*inherited) throw std::invalid_argument("RunTask: kInherited without a function");
      return (*inherited)(input);
    case TaskKind::kSpinForever: SpinForever();
  }
  throw std::invalid_argument("RunTask: unknown task kind " + std::to_string(static_cast<int>(spec.kind)));
}

}  // namespace concbench
