// A TaskObserver (workload/blocking.h) that records what a runner reports, for the tests of every
// runner (blocking_test.cc, async_test.cc, coro_runner_test.cc, gil_test.cc): which task and step
// began and ended, in what order, when, and on which thread. A hook lets a test act on an event
// (throw from it, hold a threadpool thread).
//
//   RecordingObserver seen;
//   RunOnLoop(loop, spec, TaskIndices(3), {}, {.observer = &seen});
//   ExpectEveryTaskAndStepSeen(seen, 3, spec.steps.size());
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "measure/timer.h"
#include "workload/blocking.h"

namespace concbench {

class RecordingObserver final : public TaskObserver {
 public:
  enum class Kind { kTaskBegin, kStepBegin, kStepEnd, kTaskEnd };
  struct Event {
    Kind kind;
    int64_t task;
    size_t step;  // 0 for a task's own begin and end
    double at_s;  // since the observer was built
    std::thread::id thread;
  };

  // Called after each event is recorded, on the thread that reported it; what it throws goes
  // back to the runner.
  std::function<void(const Event&)> hook;

  void TaskBegin(int64_t task) override { Add(Kind::kTaskBegin, task, 0); }
  void TaskEnd(int64_t task) override { Add(Kind::kTaskEnd, task, 0); }
  void StepBegin(int64_t task, size_t step) override { Add(Kind::kStepBegin, task, step); }
  void StepEnd(int64_t task, size_t step) override { Add(Kind::kStepEnd, task, step); }

  std::vector<Event> events() const {
    const std::lock_guard lock(mu_);
    return events_;
  }

  // What task `task` went through, in order: "begin", "step 0 begin", "step 0 end", ..., "end".
  std::vector<std::string> StoryOf(int64_t task) const {
    std::vector<std::string> story;
    for (const Event& e : events()) {
      if (e.task == task) story.push_back(Line(e));
    }
    return story;
  }

  // The tasks in the order they ended.
  std::vector<int64_t> EndOrder() const {
    std::vector<int64_t> order;
    for (const Event& e : events()) {
      if (e.kind == Kind::kTaskEnd) order.push_back(e.task);
    }
    return order;
  }

  // When the last event of `kind` for task `task` (and step `step`) was seen, or -1.
  double SeenAt(Kind kind, int64_t task, size_t step = 0) const {
    double at = -1;
    for (const Event& e : events()) {
      if (e.kind == kind && e.task == task && e.step == step) at = e.at_s;
    }
    return at;
  }

  static std::string Line(const Event& e) {
    switch (e.kind) {
      case Kind::kTaskBegin: return "begin";
      case Kind::kTaskEnd: return "end";
      case Kind::kStepBegin: return "step " + std::to_string(e.step) + " begin";
      case Kind::kStepEnd: return "step " + std::to_string(e.step) + " end";
    }
    return "?";
  }

 private:
  void Add(Kind kind, int64_t task, size_t step) {
    const Event e{kind, task, step, clock_.ElapsedSeconds(), std::this_thread::get_id()};
    {
      const std::lock_guard lock(mu_);
      events_.push_back(e);
    }
    if (hook) hook(e);
  }

  const Stopwatch clock_;
  mutable std::mutex mu_;
  std::vector<Event> events_;
};

// The story every runner tells of a task of `steps` steps that succeeds.
inline std::vector<std::string> CompleteStory(size_t steps) {
  std::vector<std::string> story = {"begin"};
  for (size_t k = 0; k < steps; ++k) {
    story.push_back("step " + std::to_string(k) + " begin");
    story.push_back("step " + std::to_string(k) + " end");
  }
  story.push_back("end");
  return story;
}

// Every task 0..tasks-1 was seen from its begin through each step to its end, once, in order,
// and no other task was seen.
inline void ExpectEveryTaskAndStepSeen(const RecordingObserver& seen, int64_t tasks, size_t steps) {
  for (int64_t t = 0; t < tasks; ++t) EXPECT_EQ(seen.StoryOf(t), CompleteStory(steps)) << "task " << t;
  EXPECT_EQ(seen.events().size(), static_cast<size_t>(tasks) * (2 * steps + 2));
}

}  // namespace concbench
