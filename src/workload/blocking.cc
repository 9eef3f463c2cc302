#include "workload/blocking.h"

#include <time.h>

#include <stdexcept>
#include <string>

#include "workload/sleep.h"

namespace concbench {

uint64_t MonotonicNs() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000u + static_cast<uint64_t>(ts.tv_nsec);
}

std::span<const uint8_t> TaskEnv::EchoPayload(int64_t input, int64_t step_bytes) const {
  if (echo == nullptr) throw std::logic_error("an echo step without echo payloads in its TaskEnv");
  if (static_cast<int64_t>(echo->payload_bytes()) != step_bytes) {
    throw std::logic_error("an echo step of " + std::to_string(step_bytes) + " bytes with payloads of " +
                           std::to_string(echo->payload_bytes()));
  }
  return echo->payload(input);
}

int64_t WaitStepResult(const Step& step, int64_t input, const TaskEnv& env) {
  if (step.kind == StepKind::kEcho) return EchoDigest(env.EchoPayload(input, step.bytes));
  return SleepTaskResult(input);
}

int64_t RunStepBlocking(const Step& step, int64_t input, const TaskEnv& env) {
  switch (step.kind) {
    case StepKind::kCompute: return RunCompute(step, input);
    case StepKind::kSleep: return SleepTask(input, std::chrono::nanoseconds(step.arg));
    case StepKind::kEcho: return EchoOnce(env.echo_server, env.EchoPayload(input, step.bytes), env.echo_options);
  }
  throw std::invalid_argument("RunStepBlocking: unknown step kind " + std::to_string(static_cast<int>(step.kind)));
}

int64_t RunTaskBlocking(const TaskSpec& spec, int64_t input, const TaskEnv& env, TaskObserver* observer,
                        int64_t task) {
  int64_t sum = 0;
  if (observer == nullptr) {
    for (const Step& s : spec.steps) sum += RunStepBlocking(s, input, env);
    return sum;
  }
  observer->TaskBegin(task);
  for (size_t i = 0; i < spec.steps.size(); ++i) {
    observer->StepBegin(task, i);
    sum += RunStepBlocking(spec.steps[i], input, env);
    observer->StepEnd(task, i);
  }
  observer->TaskEnd(task);
  return sum;
}

}  // namespace concbench
