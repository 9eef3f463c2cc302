#include "models/coro/spec_task.h"

#include <stdexcept>
#include <string>

#include "models/coro/gather.h"
#include "models/coro/notebook_tasks.h"
#include "models/coro/offload.h"
#include "models/coro/sleep.h"
#include "workload/sleep.h"

namespace concbench {

namespace {

Task<int64_t> OffloadedStep(UvLoop& loop, const Step& step, int64_t input, TaskObserver* observer, int64_t task,
                            size_t k) {
  co_return co_await OffloadAwaiter(loop, step, input, observer, task, k);  // seen on the threadpool thread
}

}  // namespace

Task<int64_t> SpecTask(const SpecBatch& b, int64_t input, int64_t task) {
  if (b.observer != nullptr) b.observer->TaskBegin(task);
  int64_t sum = 0;
  for (size_t k = 0; k < b.spec.steps.size(); ++k) {
    const Step& s = b.spec.steps[k];
    if (s.kind == StepKind::kCompute && b.compute == LoopCompute::kThreadpool) {
      sum += co_await OffloadedStep(b.loop, s, input, b.observer, task, k);
      continue;
    }
    if (b.observer != nullptr) b.observer->StepBegin(task, k);
    if (s.kind == StepKind::kCompute) {
      sum += RunCompute(s, input);
    } else if (s.kind == StepKind::kSleep) {
      co_await Sleep(b.loop, std::chrono::nanoseconds(s.arg));
      sum += SleepTaskResult(input);
    } else {
      b.env.EchoPayload(input, s.bytes);  // the size check, before connecting
      sum += co_await CoroEchoTask(b.loop, b.env.echo_server, *b.env.echo, input, b.close_with_reset);
    }
    if (b.observer != nullptr) b.observer->StepEnd(task, k);
  }
  if (b.observer != nullptr) b.observer->TaskEnd(task);
  co_return sum;
}

namespace {

Task<std::vector<int64_t>> OneAfterAnother(const SpecBatch& b, std::span<const int64_t> inputs) {
  std::vector<int64_t> results;
  results.reserve(inputs.size());
  for (size_t i = 0; i < inputs.size(); ++i) results.push_back(co_await SpecTask(b, inputs[i], static_cast<int64_t>(i)));
  co_return results;
}

}  // namespace

std::vector<int64_t> RunCoroutines(UvLoop& loop, const TaskSpec& spec, std::span<const int64_t> inputs,
                                   const TaskEnv& env, const CoroRunOptions& options) {
  if (auto err = ValidateSpec(spec)) throw std::invalid_argument("RunCoroutines: " + *err);
  if (inputs.empty()) return {};
  const RunOptions run{.timeout = options.timeout, .on_started = options.on_started};
  const SpecBatch batch{loop, spec, env, options.compute, options.observer, options.close_with_reset};
  if (options.start == LoopStart::kSequential) return RunUntilComplete(loop, OneAfterAnother(batch, inputs), run);
  std::vector<Task<int64_t>> tasks;
  tasks.reserve(inputs.size());
  for (size_t i = 0; i < inputs.size(); ++i) tasks.push_back(SpecTask(batch, inputs[i], static_cast<int64_t>(i)));
  return RunUntilComplete(loop, Gather(std::move(tasks)), run);
}

}  // namespace concbench
