#include "workload/task_spec.h"

#include <gtest/gtest.h>
#include <time.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <iterator>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "process_checks.h"
#include "workload/cpu.h"
#include "workload/echo_protocol.h"

namespace concbench {
namespace {

using std::chrono::milliseconds;

// A step no builder makes: the fields a frame could carry.
Step RawStep(uint8_t kind, uint8_t fn, uint8_t operand, int64_t arg, int64_t bytes = 0) {
  return {static_cast<StepKind>(kind), static_cast<ComputeFn>(fn), static_cast<Operand>(operand), arg, bytes};
}

TEST(TaskSpecTest, EnumsKeepTheirWireValues) {
  const std::pair<int, int> wire[] = {
      {static_cast<int>(StepKind::kCompute), 1},     {static_cast<int>(StepKind::kSleep), 2},
      {static_cast<int>(StepKind::kEcho), 3},        {static_cast<int>(ComputeFn::kCpuIntensivo), 1},
      {static_cast<int>(ComputeFn::kTrabajo), 2},    {static_cast<int>(ComputeFn::kTareaNormal), 3},
      {static_cast<int>(ComputeFn::kIdentity), 4},   {static_cast<int>(ComputeFn::kAbortIf), 5},
      {static_cast<int>(ComputeFn::kExitIf), 6},     {static_cast<int>(ComputeFn::kSpinForever), 7},
      {static_cast<int>(Operand::kInput), 0},        {static_cast<int>(Operand::kArg), 1},
  };
  for (size_t i = 0; i < std::size(wire); ++i) EXPECT_EQ(wire[i].first, wire[i].second) << "entry " << i;
  EXPECT_EQ(kMaxSteps, 255u);
}

TEST(TaskSpecTest, BuildersFillTheFieldsTheirKindUses) {
  EXPECT_EQ(Compute(ComputeFn::kTrabajo), RawStep(1, 2, 0, 0));
  EXPECT_EQ(ComputeOn(ComputeFn::kCpuIntensivo, 20'000), RawStep(1, 1, 1, 20'000));
  EXPECT_EQ(SleepStep(milliseconds(3)), RawStep(2, 4, 0, 3'000'000));
  EXPECT_EQ(EchoStep(milliseconds(500), 64), RawStep(3, 4, 0, 500'000'000, 64));
}

TEST(TaskSpecTest, ValidateSpecAcceptsEverySpecTheBuildersMake) {
  EXPECT_EQ(ValidateSpec({}), std::nullopt);
  const TaskSpec all = {{Compute(ComputeFn::kCpuIntensivo), ComputeOn(ComputeFn::kTrabajo, -3),
                         Compute(ComputeFn::kTareaNormal), Compute(ComputeFn::kIdentity),
                         ComputeOn(ComputeFn::kAbortIf, 5), ComputeOn(ComputeFn::kExitIf, 5),
                         Compute(ComputeFn::kSpinForever), SleepStep(milliseconds(0)), SleepStep(milliseconds(10)),
                         EchoStep(milliseconds(0), 0), EchoStep(milliseconds(500), kEchoMaxPayload)}};
  EXPECT_EQ(ValidateSpec(all), std::nullopt);
  EXPECT_EQ(ValidateSpec({std::vector<Step>(kMaxSteps, SleepStep(milliseconds(0)))}), std::nullopt);
}

TEST(TaskSpecTest, ValidateSpecRefusesWhatAWorkerCannotRunAndSaysWhy) {
  EXPECT_EQ(ValidateSpec({std::vector<Step>(256, Compute(ComputeFn::kIdentity))}), "a task has 256 steps, at most 255");
  EXPECT_EQ(ValidateSpec({{RawStep(0, 4, 0, 0)}}), "step 0: unknown step kind 0");
  EXPECT_EQ(ValidateSpec({{SleepStep(milliseconds(1)), RawStep(4, 4, 0, 0)}}), "step 1: unknown step kind 4");
  EXPECT_EQ(ValidateSpec({{RawStep(1, 0, 0, 0)}}), "step 0: unknown compute function 0");
  EXPECT_EQ(ValidateSpec({{Compute(ComputeFn::kTrabajo), RawStep(1, 8, 0, 0)}}), "step 1: unknown compute function 8");
  EXPECT_EQ(ValidateSpec({{RawStep(1, 1, 2, 0)}}), "step 0: unknown operand 2");
  EXPECT_EQ(ValidateSpec({{SleepStep(milliseconds(-1))}}), "step 0: a sleep of -1000000 ns");
  EXPECT_EQ(ValidateSpec({{EchoStep(milliseconds(-5), 64)}}), "step 0: an echo delay of -5000000 ns");
  EXPECT_EQ(ValidateSpec({{EchoStep(milliseconds(1), -1)}}), "step 0: an echo payload of -1 bytes (0 to 67108864)");
  EXPECT_EQ(ValidateSpec({{EchoStep(milliseconds(1), int64_t{kEchoMaxPayload} + 1)}}),
            "step 0: an echo payload of 67108865 bytes (0 to 67108864)");
  // A wait step's compute fields mean nothing and are not checked.
  EXPECT_EQ(ValidateSpec({{RawStep(2, 99, 7, 1)}}), std::nullopt);
}

// Expected values were printed by the notebook's own Python.
TEST(TaskSpecTest, RunComputeGivesTheNotebooksValues) {
  EXPECT_EQ(RunCompute(Compute(ComputeFn::kCpuIntensivo), 200'000), 9600239);
  EXPECT_EQ(RunCompute(Compute(ComputeFn::kTrabajo), 0), 2398830);
  EXPECT_EQ(RunCompute(Compute(ComputeFn::kTrabajo), 1), 2398875);
  EXPECT_EQ(RunCompute(Compute(ComputeFn::kTareaNormal), 0), 14998935);
  EXPECT_EQ(RunCompute(Compute(ComputeFn::kTareaNormal), 7), 14999145);
  EXPECT_EQ(RunCompute(Compute(ComputeFn::kIdentity), -7), -7);
}

TEST(TaskSpecTest, TheOperandIsTheInputOrTheStepsOwnArgument) {
  // The input is ignored when the step carries its operand.
  EXPECT_EQ(RunCompute(ComputeOn(ComputeFn::kCpuIntensivo, 200'000), 7), 9600239);
  EXPECT_EQ(RunCompute(ComputeOn(ComputeFn::kCpuIntensivo, 20'000), 0), 959757);
  EXPECT_EQ(RunCompute(ComputeOn(ComputeFn::kTrabajo, 7), 0), 2399145);
  EXPECT_EQ(RunCompute(ComputeOn(ComputeFn::kIdentity, 42), 1), 42);
  EXPECT_EQ(OperandOf(ComputeOn(ComputeFn::kIdentity, 42), 1), 42);
  EXPECT_EQ(OperandOf(Compute(ComputeFn::kIdentity), 1), 1);
}

TEST(TaskSpecTest, FaultFunctionsOnlyFailOnTheirOwnInput) {
  EXPECT_EQ(RunCompute(ComputeOn(ComputeFn::kAbortIf, 5), 4), 4);
  EXPECT_EQ(RunCompute(ComputeOn(ComputeFn::kExitIf, 5), 6), 6);
  // On their input they end the process: in a child of its own.
  EXPECT_EQ(RunInChild([] { return static_cast<int>(RunCompute(ComputeOn(ComputeFn::kExitIf, 5), 5)); }), 3);
  EXPECT_EQ(RunInChild([] { return static_cast<int>(RunCompute(ComputeOn(ComputeFn::kAbortIf, 5), 5)); }),
            128 + SIGABRT);
  EXPECT_THROW(RunCompute(RawStep(1, 99, 0, 0), 1), std::invalid_argument);
}

TEST(TaskSpecTest, SlicedComputeIsBitExactAndCallsTheCheckpointBetweenSlices) {
  struct Case {
    Step step;
    int64_t input;
    int64_t slice;
    int64_t want;
    int checkpoints;
  };
  const Case cases[] = {
      {Compute(ComputeFn::kCpuIntensivo), 200'000, 1024, 9600239, 196},
      {Compute(ComputeFn::kCpuIntensivo), 1'000'001, 1024, 47999911, 977},  // not a multiple of the slice
      {Compute(ComputeFn::kCpuIntensivo), 10'000, 1, 479772, 10'000},
      {Compute(ComputeFn::kCpuIntensivo), 10'000, 20'000, 479772, 1},
      {Compute(ComputeFn::kCpuIntensivo), 0, 1024, 0, 0},
      {ComputeOn(ComputeFn::kCpuIntensivo, 20'000), 3, 1000, 959757, 20},
      {Compute(ComputeFn::kTrabajo), 0, 1024, 2398830, 49},
      {Compute(ComputeFn::kTrabajo), -123, 7, 2400182, 7143},  // a negative shift: Python's modulo sign
      {Compute(ComputeFn::kTareaNormal), 7, 1024, 14999145, 293},
      {Compute(ComputeFn::kIdentity), 9, 1024, 9, 0},
  };
  for (const Case& c : cases) {
    int calls = 0;
    EXPECT_EQ(RunComputeSliced(c.step, c.input, c.slice, [&calls] { ++calls; }), c.want) << DescribeStep(c.step);
    EXPECT_EQ(calls, c.checkpoints) << DescribeStep(c.step) << " slice " << c.slice;
    EXPECT_EQ(RunCompute(c.step, c.input), c.want) << DescribeStep(c.step);
  }
}

TEST(TaskSpecTest, KindsNamesAndDescriptions) {
  EXPECT_EQ(StepKindName(StepKind::kCompute), "compute");
  EXPECT_EQ(StepKindName(StepKind::kSleep), "sleep");
  EXPECT_EQ(StepKindName(StepKind::kEcho), "echo");
  EXPECT_EQ(StepKindName(static_cast<StepKind>(9)), "unknown");
  EXPECT_EQ(ComputeFnName(ComputeFn::kCpuIntensivo), "cpu_intensivo");
  EXPECT_EQ(ComputeFnName(ComputeFn::kTrabajo), "trabajo");
  EXPECT_EQ(ComputeFnName(ComputeFn::kTareaNormal), "tarea_normal");
  EXPECT_EQ(ComputeFnName(ComputeFn::kIdentity), "identity");
  EXPECT_EQ(ComputeFnName(ComputeFn::kAbortIf), "abort_if");
  EXPECT_EQ(ComputeFnName(ComputeFn::kExitIf), "exit_if");
  EXPECT_EQ(ComputeFnName(ComputeFn::kSpinForever), "spin_forever");
  EXPECT_EQ(ComputeFnName(static_cast<ComputeFn>(0)), "unknown");
  EXPECT_EQ(DescribeStep(Compute(ComputeFn::kCpuIntensivo)), "cpu_intensivo(input)");
  EXPECT_EQ(DescribeStep(ComputeOn(ComputeFn::kCpuIntensivo, 20'000)), "cpu_intensivo(20000)");
  EXPECT_EQ(DescribeStep(SleepStep(milliseconds(10))), "sleep 10 ms");
  EXPECT_EQ(DescribeStep(SleepStep(std::chrono::microseconds(1500))), "sleep 1.5 ms");
  EXPECT_EQ(DescribeStep(EchoStep(milliseconds(500), 64)), "echo 64 B, 500 ms delay");
  EXPECT_EQ(DescribeStep(RawStep(9, 0, 0, 0)), "unknown step");
}

TEST(TaskSpecTest, StepKindsOfIsTheSetOfKindsASpecUses) {
  EXPECT_EQ(StepKindBit(StepKind::kCompute), 2u);
  EXPECT_EQ(StepKindBit(StepKind::kSleep), 4u);
  EXPECT_EQ(StepKindBit(StepKind::kEcho), 8u);
  EXPECT_EQ(StepKindsOf({}), 0u);
  EXPECT_EQ(StepKindsOf({{Compute(ComputeFn::kTrabajo), SleepStep(milliseconds(1)), Compute(ComputeFn::kIdentity)}}),
            6u);
  EXPECT_EQ(StepKindsOf({{EchoStep(milliseconds(1), 64)}}), 8u);
  EXPECT_EQ(StepKindNames(14), (std::vector<std::string_view>{"compute", "sleep", "echo"}));
  EXPECT_EQ(StepKindNames(8), (std::vector<std::string_view>{"echo"}));
  EXPECT_TRUE(StepKindNames(0).empty());
}

TEST(TaskSpecTest, WaitsAndComputeAreToldApart) {
  const TaskSpec mixed = {{ComputeOn(ComputeFn::kCpuIntensivo, 20'000), SleepStep(milliseconds(10)),
                           Compute(ComputeFn::kTrabajo), EchoStep(milliseconds(500), 64)}};
  EXPECT_DOUBLE_EQ(WaitSeconds(mixed), 0.51);
  EXPECT_DOUBLE_EQ(LastWaitSeconds(mixed), 0.5);
  EXPECT_EQ(ComputeOnly(mixed),
            (TaskSpec{{ComputeOn(ComputeFn::kCpuIntensivo, 20'000), Compute(ComputeFn::kTrabajo)}}));
  // Neither waits nor sleeps: 959757 + trabajo(0).
  EXPECT_EQ(RunComputePart(mixed, 0), 959757 + 2398830);

  const TaskSpec ends_computing = {{SleepStep(milliseconds(10)), Compute(ComputeFn::kIdentity)}};
  EXPECT_DOUBLE_EQ(WaitSeconds(ends_computing), 0.01);
  EXPECT_EQ(LastWaitSeconds(ends_computing), 0.0);
  EXPECT_EQ(LastWaitSeconds({}), 0.0);
  EXPECT_EQ(WaitSeconds({}), 0.0);
  EXPECT_TRUE(ComputeOnly({{SleepStep(milliseconds(1))}}).steps.empty());
}

double ThreadCpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

// The least CPU time of three runs of `step` on `input`.
double LeastCpuSeconds(const Step& step, int64_t input) {
  double least = 1e9;
  for (int i = 0; i < 3; ++i) {
    const double before = ThreadCpuSeconds();
    EXPECT_EQ(RunCompute(step, input), 47999911);
    least = std::min(least, ThreadCpuSeconds() - before);
  }
  return least;
}

TEST(TaskSpecTest, AnInjectedSlowdownAddsWorkButNeverChangesAResult) {
  EXPECT_EQ(ComputeSlowdownPercent(), 0.0);
  const Step cpu = Compute(ComputeFn::kCpuIntensivo);
  const double plain = LeastCpuSeconds(cpu, 1'000'001);
  SetComputeSlowdownPercent(1000);
  EXPECT_EQ(ComputeSlowdownPercent(), 1000.0);
  // Eleven times the work: "more than three times the CPU" holds on any machine.
  const double slowed = LeastCpuSeconds(cpu, 1'000'001);
  EXPECT_EQ(RunCompute(Compute(ComputeFn::kTrabajo), 0), 2398830);
  EXPECT_EQ(RunCompute(Compute(ComputeFn::kTareaNormal), 0), 14998935);
  EXPECT_EQ(RunCompute(ComputeOn(ComputeFn::kCpuIntensivo, 20'000), 0), 959757);
  EXPECT_EQ(RunComputeSliced(Compute(ComputeFn::kTrabajo), 1, 1024, [] {}), 2398875);
  EXPECT_EQ(RunComputePart({{Compute(ComputeFn::kTareaNormal), SleepStep(milliseconds(1))}}, 7), 14999145);
  SetComputeSlowdownPercent(0);
  EXPECT_GT(slowed, 3 * plain) << "plain " << plain << " s, slowed " << slowed << " s";
  // Out of range: refused, and the value in force stays.
  EXPECT_THROW(SetComputeSlowdownPercent(-1), std::invalid_argument);
  EXPECT_THROW(SetComputeSlowdownPercent(1001), std::invalid_argument);
  EXPECT_EQ(ComputeSlowdownPercent(), 0.0);
}

}  // namespace
}  // namespace concbench
