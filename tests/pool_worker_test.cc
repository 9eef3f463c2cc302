#include "models/pool_worker.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>

#include "models/frame.h"
#include "models/task_kind.h"
#include "models/worker.h"
#include "process_checks.h"
#include "sys/pipe.h"
#include "sys/reaper.h"

namespace concbench {
namespace {

// A worker forked for the test, and the parent's ends of its two pipes.
struct Worker {
  pid_t pid = 0;
  UniqueFd tasks;    // write end
  UniqueFd results;  // read end
};

Worker Fork(const TaskFn* inherited = nullptr) {
  Pipe tasks = Pipe::Open("test: pipe2");
  Pipe results = Pipe::Open("test: pipe2");
  std::fflush(nullptr);
  const pid_t pid = fork();
  if (pid == 0) {
    tasks.write_end.Reset();
    results.read_end.Reset();
    RunPoolWorker(tasks.read_end.get(), results.write_end.get(), inherited);
  }
  return {pid, std::move(tasks.write_end), std::move(results.read_end)};
}

// Sends `bytes`, closes the task pipe, and returns everything the worker sent until it exited.
std::string SendAndClose(Worker& w, const std::string& bytes) {
  EXPECT_EQ(write(w.tasks.get(), bytes.data(), bytes.size()), static_cast<ssize_t>(bytes.size()));
  w.tasks.Reset();
  std::string got;
  char buf[4096];
  for (ssize_t n; (n = read(w.results.get(), buf, sizeof buf)) != 0;) {
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;
    got.append(buf, static_cast<size_t>(n));
  }
  return got;
}

int ExitStatusOf(const Worker& w) {
  const std::optional<int> st = ReapWithin(w.pid, std::chrono::seconds(30));
  return st && WIFEXITED(*st) ? WEXITSTATUS(*st) : -1;
}

std::string TasksFrame(TaskKind kind, int64_t input, const std::string& payload = "") {
  return EncodeTasks({static_cast<uint8_t>(kind), 0, {{0, input, payload}}});
}

// The message of the one error frame in `bytes`, or why it is not that.
std::string ErrorMessage(const std::string& bytes) {
  Frame f;
  if (auto e = DecodeFrame(bytes, &f)) return "not one frame: " + *e;
  return f.type == FrameType::kError ? f.error : "not an error frame";
}

TEST(PoolWorkerTest, RunsEachChunkAndExitsCleanlyAtEndOfFile) {
  Worker w = Fork();
  const TaskChunk tarea_normal{static_cast<uint8_t>(TaskKind::kTareaNormal), 0, {{0, 0, ""}, {1, 1, "ab"}}};
  const std::string two_chunks = EncodeTasks(tarea_normal) + TasksFrame(TaskKind::kEcho, -5, "xyz");
  const std::string got = SendAndClose(w, two_chunks);
  const FrameSplit first = SplitFrame(got);
  ASSERT_EQ(first.status, FrameStatus::kComplete);
  Frame a, b;
  ASSERT_FALSE(DecodeFrame(got.substr(0, first.frame_bytes), &a).has_value());
  ASSERT_FALSE(DecodeFrame(got.substr(first.frame_bytes), &b).has_value());
  EXPECT_EQ(a.results.items, (std::vector<FrameItem>{{0, 14998935, ""}, {1, 14998965, "ab"}}));
  EXPECT_EQ(b.results.items, (std::vector<FrameItem>{{0, -5, "xyz"}}));
  EXPECT_GT(b.results.cpu_ns, 0u);  // the worker reports what it used
  EXPECT_EQ(ExitStatusOf(w), 0);
  EXPECT_TRUE(NoChildren());
}

TEST(PoolWorkerTest, AFrameItCannotRunGetsAnErrorFrameAndExitStatus12) {
  Worker w = Fork();
  const std::string got = SendAndClose(w, EncodeTasks({99, 0, {{0, 1, ""}}}));
  EXPECT_EQ(ErrorMessage(got), "worker pid " + std::to_string(w.pid) + ": unknown task kind 99");
  EXPECT_EQ(ExitStatusOf(w), kWorkerExitProtocol);
  EXPECT_EQ(kWorkerExitProtocol, 12);
}

TEST(PoolWorkerTest, EndOfFileInsideAFrameIsExitStatus10) {
  Worker w = Fork();
  EXPECT_EQ(SendAndClose(w, TasksFrame(TaskKind::kEcho, 1).substr(0, 6)), "");
  EXPECT_EQ(ExitStatusOf(w), 10);
}

TEST(PoolWorkerTest, AnInheritedFunctionThatThrowsIsReportedWithItsMessage) {
  const TaskFn boom = [](int64_t) -> int64_t { throw std::runtime_error("no route to input 7"); };
  Worker w = Fork(&boom);
  const std::string got = SendAndClose(w, TasksFrame(TaskKind::kInherited, 7));
  EXPECT_EQ(ErrorMessage(got), "task 0 (input 7) threw: no route to input 7");
  EXPECT_EQ(ExitStatusOf(w), 14);
}

TEST(PoolWorkerTest, AnInheritedTaskWithoutAFunctionIsAProtocolError) {
  Worker w = Fork();
  const std::string got = SendAndClose(w, TasksFrame(TaskKind::kInherited, 7));
  EXPECT_EQ(ErrorMessage(got),
            "worker pid " + std::to_string(w.pid) + ": an inherited task for a pool built without an inherited function");
  EXPECT_EQ(ExitStatusOf(w), 12);
}

}  // namespace
}  // namespace concbench
