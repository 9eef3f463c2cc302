#include "models/task_kind.h"

#include <gtest/gtest.h>

#include <chrono>
#include <stdexcept>

namespace concbench {
namespace {

TEST(TaskKindTest, EachKindComputesWhatItsNameSays) {
  EXPECT_EQ(RunTask({TaskKind::kCpuIntensivo}, 200'000), 9600239);
  EXPECT_EQ(RunTask({TaskKind::kTrabajo}, 1), 2398875);
  EXPECT_EQ(RunTask({TaskKind::kTareaNormal}, 0), 14998935);
  EXPECT_EQ(RunTask({TaskKind::kEcho}, -7), -7);
  EXPECT_EQ(RunTask(SleepSpec(std::chrono::milliseconds(1)), 41), 42);
  // A crash kind only crashes on its own input.
  EXPECT_EQ(RunTask({TaskKind::kAbortIf, 5}, 4), 4);
  EXPECT_EQ(RunTask({TaskKind::kExitIf, 5}, 6), 6);
}

TEST(TaskKindTest, AnInheritedTaskRunsTheFunctionItIsGiven) {
  const TaskFn twice = [](int64_t i) { return 2 * i; };
  EXPECT_EQ(RunTask(InheritedSpec(), 21, &twice), 42);
  EXPECT_THROW(RunTask(InheritedSpec(), 1), std::invalid_argument);
  const TaskFn empty;
  EXPECT_THROW(RunTask(InheritedSpec(), 1, &empty), std::invalid_argument);
}

TEST(TaskKindTest, AnUnknownKindIsRefused) {
  EXPECT_THROW(RunTask({static_cast<TaskKind>(99)}, 1), std::invalid_argument);
  EXPECT_FALSE(IsKnownTaskKind(0));
  EXPECT_TRUE(IsKnownTaskKind(1));
  EXPECT_TRUE(IsKnownTaskKind(8));
  EXPECT_TRUE(IsKnownTaskKind(9));
  EXPECT_FALSE(IsKnownTaskKind(10));
}

TEST(TaskKindTest, KindsHaveTheirWireValuesAndNames) {
  EXPECT_EQ(static_cast<int>(TaskKind::kSleep), 1);
  EXPECT_EQ(static_cast<int>(TaskKind::kInherited), 8);
  EXPECT_EQ(static_cast<int>(TaskKind::kSpinForever), 9);
  EXPECT_EQ(TaskKindName(TaskKind::kSleep), "sleep");
  EXPECT_EQ(TaskKindName(TaskKind::kTareaNormal), "tarea_normal");
  EXPECT_EQ(TaskKindName(TaskKind::kInherited), "inherited");
  EXPECT_EQ(TaskKindName(TaskKind::kSpinForever), "spin_forever");
  EXPECT_EQ(TaskKindName(static_cast<TaskKind>(99)), "unknown");
}

TEST(TaskKindTest, SpecsCarryTheirParameter) {
  const TaskSpec sleep = SleepSpec(std::chrono::milliseconds(3));
  EXPECT_EQ(sleep.kind, TaskKind::kSleep);
  EXPECT_EQ(sleep.param, 3'000'000);
  EXPECT_EQ(CpuJobSpec(CpuJob::kCpuIntensivo).kind, TaskKind::kCpuIntensivo);
  EXPECT_EQ(CpuJobSpec(CpuJob::kTrabajo).kind, TaskKind::kTrabajo);
  EXPECT_EQ(CpuJobSpec(CpuJob::kTareaNormal).kind, TaskKind::kTareaNormal);
  EXPECT_EQ(InheritedSpec().kind, TaskKind::kInherited);
}

}  // namespace
}  // namespace concbench
