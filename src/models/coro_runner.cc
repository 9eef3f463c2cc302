#include "models/coro_runner.h"

#include <stdexcept>

#include "workload/sleep.h"
#include <string>

namespace concbench {

struct OffloadAwaiter::Request {
  uv_work_t work;
  Step step;
  int64_t input = 0;
  TaskObserver* observer = nullptr;
  int64_t task = 0;
  size_t k = 0;
  int64_t result = 0;
  std::exception_ptr error;
  OffloadAwaiter* awaiter = nullptr;  // null once the awaiter is gone: the request is orphaned
  std::coroutine_handle<> waiter;

  static void Work(uv_work_t* w) {
    auto* r = static_cast<Request*>(w->data);
    try {
      if (r->observer != nullptr) r->observer->StepBegin(r->task, r->k);
      r->result = RunCompute(r->step, r->input);
      if (r->observer != nullptr) r->observer->StepEnd(r->task, r->k);
    } catch (...) {
      r->error = std::current_exception();
    }
  }

  // On the loop's thread: hands the result to the awaiter and resumes its coroutine, or, when the
  // awaiter is gone (its run was abandoned), only frees the request.
  static void Done(uv_work_t* w, int status) {
    auto* r = static_cast<Request*>(w->data);
    OffloadAwaiter* a = r->awaiter;
    if (a == nullptr) {
      delete r;
      return;
    }
    a->request_ = nullptr;
    a->result_ = r->result;
    a->error_ = status < 0 ? std::make_exception_ptr(UvError("uv_queue_work", status)) : r->error;
    const std::coroutine_handle<> waiter = r->waiter;
    delete r;
    coro_detail::Resume(waiter);
  }
};

OffloadAwaiter::~OffloadAwaiter() {
  if (request_ == nullptr) return;
  // Abandoned while in flight: a request not yet started is cancelled (its done callback still
  // runs, with UV_ECANCELED); a running one finishes; either way the callback frees it.
  request_->awaiter = nullptr;
  uv_cancel(reinterpret_cast<uv_req_t*>(&request_->work));
}

void OffloadAwaiter::await_suspend(std::coroutine_handle<> waiter) {
  auto* r = new Request{.work = {}, .step = step_, .input = input_, .observer = observer_, .task = task_, .k = k_,
                        .awaiter = this, .waiter = waiter};
  r->work.data = r;
  if (int rc = uv_queue_work(loop_.get(), &r->work, Request::Work, Request::Done); rc != 0) {
    delete r;
    throw UvError("uv_queue_work", rc);
  }
  request_ = r;
}

int64_t OffloadAwaiter::await_resume() {
  if (error_) std::rethrow_exception(error_);
  return result_;
}

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
