// The tasks a forked worker knows by name: a child cannot receive a lambda, so a task that
// crosses a process boundary is a TaskKind plus one parameter, and every child can run it.
//
// The kinds are sleep, the notebook's CPU functions, an echo that only costs the IPC, two crash
// kinds and an endless one for fault tests, and kInherited: the function a ProcessPool was built with, which every
// worker inherited when it was forked (models/process_pool.h). RunTask runs a spec on one input,
// in the calling process, exactly as a worker does, so a model and its tests agree on what a
// kind computes.
//
// Guarantees: the numeric values travel in frames (models/frame.h) and are never renumbered;
// IsKnownTaskKind accepts exactly the values below.
//
//   const concbench::TaskSpec spec = concbench::SleepSpec(std::chrono::milliseconds(100));
//   concbench::RunTask(spec, 41);  // sleeps 100 ms, returns 42
//   auto out = pool.Map(concbench::CpuJobSpec(CpuJob::kTrabajo), inputs);
#pragma once

#include <chrono>
#include <cstdint>
#include <string_view>

#include "workload/cpu_jobs.h"
#include "workload/task.h"

namespace concbench {

enum class TaskKind : uint8_t {
  kSleep = 1,         // SleepTask(input, param ns): sleeps, returns input + 1
  kCpuIntensivo = 2,  // cpu_intensivo(input)
  kTrabajo = 3,       // trabajo(input)
  kTareaNormal = 4,   // tarea_normal(input)
  kEcho = 5,          // returns input at once: only the IPC is left
  kAbortIf = 6,       // for crash tests: abort() when input == param, else returns input
  kExitIf = 7,        // for crash tests: _exit(3) when input == param, else returns input
  kInherited = 8,     // the pool's inherited function (ProcessPool(workers, inherited)); param unused
  kSpinForever = 9,   // for tests of stall detection: never returns, spinning on the CPU (state R)
};

bool IsKnownTaskKind(uint8_t kind);
// "sleep", "cpu_intensivo", ..., "inherited"; "unknown" for a value outside the enum.
std::string_view TaskKindName(TaskKind kind);

struct TaskSpec {
  TaskKind kind = TaskKind::kEcho;
  int64_t param = 0;  // kSleep: nanoseconds; k*If: the input that crashes
};

TaskSpec SleepSpec(std::chrono::nanoseconds d);
TaskSpec CpuJobSpec(CpuJob job);
inline TaskSpec InheritedSpec() { return {TaskKind::kInherited, 0}; }

// Runs one task in the calling process, exactly as a worker does (a crash kind crashes the
// caller, kSpinForever never returns: only children call it with those). kInherited calls *inherited, and throws
// std::invalid_argument when there is none; so does an unknown kind.
int64_t RunTask(const TaskSpec& spec, int64_t input, const TaskFn* inherited = nullptr);

}  // namespace concbench
