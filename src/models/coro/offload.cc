#include "models/coro/offload.h"

#include "models/coro/task.h"

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

}  // namespace concbench
