// Gather: asyncio.gather for Tasks (models/coro/task.h). It starts every task at once, waits for
// all of them and gives their results in input order.
//
//   std::vector<Task<int64_t>> tasks;  // TareaIo: co_await Sleep(loop, 500ms); co_return i + 1;
//   for (int64_t i = 0; i < 5; ++i) tasks.push_back(TareaIo(loop, i));
//   std::vector<int64_t> results = RunUntilComplete(loop, Gather(std::move(tasks)));  // ~0.5 s: 1..5
//
// What it guarantees: the tasks start in input order from Gather's own await, each running to its
// first suspension, so all of them are pending at once; Gather's task resumes its awaiter once the
// last one has finished, and the results come in input order whatever order the tasks finished
// in. Gather arms nothing itself, so it needs no loop: each task names its own.
//
// Errors. Gather waits for every task, also after one has thrown (nothing is cancelled), and then
// rethrows the exception of the first task in input order that threw; the other tasks' exceptions
// are dropped. (asyncio.gather raises the first exception in time at once and leaves the other
// tasks running.) An empty or already-run task in `tasks` throws std::invalid_argument when the
// gather is awaited.
//
// What it costs: Gather keeps one Task handle per task and reads the results out of the finished
// frames, with no std::function or shared state per task.
#pragma once

#include <coroutine>
#include <cstddef>
#include <exception>
#include <type_traits>
#include <vector>

#include "models/coro/task.h"

namespace concbench {
namespace coro_detail {

// Throws std::invalid_argument naming `fn` unless every task is valid and not yet run.
template <class T>
void CheckStartable(const char* fn, const std::vector<Task<T>>& tasks);
void ThrowNotStartable(const char* fn, std::size_t index);

template <class T>
void CheckStartable(const char* fn, const std::vector<Task<T>>& tasks) {
  for (std::size_t i = 0; i < tasks.size(); ++i) {
    if (!tasks[i].valid() || tasks[i].done()) ThrowNotStartable(fn, i);
  }
}

// Starts every task in input order from its own await_suspend and resumes the awaiting coroutine
// once all have finished. `pending_` counts the starting loop as one more task, so a task that
// finishes while the others are still being started never resumes the awaiter early.
template <class T>
class GatherAwaiter : public Completion {
 public:
  explicit GatherAwaiter(std::vector<Task<T>>& tasks) noexcept
      : Completion{&OnTaskDone}, tasks_(tasks) {}
  bool await_ready() const noexcept { return tasks_.empty(); }
  bool await_suspend(std::coroutine_handle<> waiter) noexcept {
    waiter_ = waiter;
    pending_ = tasks_.size() + 1;
    for (Task<T>& t : tasks_) {
      const auto h = TaskAccess::handle(t);
      h.promise().set_completion(this);
      Resume(h);
    }
    return --pending_ != 0;  // false: every task finished while starting; go on at once
  }
  void await_resume() const noexcept {}

 private:
  static std::coroutine_handle<> OnTaskDone(Completion* self) noexcept {
    auto* g = static_cast<GatherAwaiter*>(self);
    return --g->pending_ == 0 ? g->waiter_ : std::coroutine_handle<>();
  }
  std::vector<Task<T>>& tasks_;
  std::size_t pending_ = 0;
  std::coroutine_handle<> waiter_;
};

template <class T>
void RethrowFirstError(const std::vector<Task<T>>& tasks) {
  for (const Task<T>& t : tasks) {
    if (auto e = TaskAccess::handle(t).promise().error()) std::rethrow_exception(e);
  }
}

}  // namespace coro_detail

// asyncio.gather: starts every task at once (in input order, each running to its first
// suspension), waits for all of them and returns their results in input order, whatever order
// they finished in. If any threw, rethrows the first in input order once all have finished (see
// Errors above). An empty or already-run task in `tasks` throws std::invalid_argument when the
// gather is awaited. Gather arms nothing itself, so it needs no loop: each task names its own.
template <class T>
  requires(!std::is_void_v<T>)
Task<std::vector<T>> Gather(std::vector<Task<T>> tasks) {
  coro_detail::CheckStartable("Gather", tasks);
  co_await coro_detail::GatherAwaiter<T>(tasks);
  coro_detail::RethrowFirstError(tasks);
  std::vector<T> results;
  results.reserve(tasks.size());
  for (Task<T>& t : tasks) results.push_back(coro_detail::TaskAccess::handle(t).promise().TakeResult());
  co_return results;
}

Task<void> Gather(std::vector<Task<void>> tasks);

}  // namespace concbench
