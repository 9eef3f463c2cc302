#include "models/pool_worker.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>

#include "echo_test_support.h"
#include "models/frame.h"
#include "models/worker.h"
#include "process_checks.h"
#include "sys/pipe.h"
#include "sys/reaper.h"
#include "workload/echo_client.h"

namespace concbench {
namespace {

using std::chrono::milliseconds;

// A worker forked for the test, and the parent's ends of its two pipes.
struct Worker {
  pid_t pid = 0;
  UniqueFd tasks;    // write end
  UniqueFd results;  // read end
};

Worker Fork(const TaskEnv& env = {}) {
  Pipe tasks = Pipe::Open("test: pipe2");
  Pipe results = Pipe::Open("test: pipe2");
  std::fflush(nullptr);
  const pid_t pid = fork();
  if (pid == 0) {
    tasks.write_end.Reset();
    results.read_end.Reset();
    RunPoolWorker(tasks.read_end.get(), results.write_end.get(), env);
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

// One task, input `input`, running `spec`; the frame is written whether a worker can run it or not.
std::string TasksFrame(const TaskSpec& spec, int64_t input, const std::string& payload = "", uint8_t flags = 0) {
  return EncodeTasks({flags, spec, {{0, input, payload}}});
}

const TaskSpec kIdentity = {{Compute(ComputeFn::kIdentity)}};

// The frames in `bytes`, in order, or a failure naming the first that does not decode.
std::vector<Frame> Frames(std::string_view bytes) {
  std::vector<Frame> frames;
  while (!bytes.empty()) {
    const FrameSplit s = SplitFrame(bytes);
    if (s.status != FrameStatus::kComplete) {
      ADD_FAILURE() << "not a whole frame: " << s.error;
      break;
    }
    Frame& f = frames.emplace_back();
    if (auto e = DecodeFrame(bytes.substr(0, s.frame_bytes), &f)) ADD_FAILURE() << *e;
    bytes.remove_prefix(s.frame_bytes);
  }
  return frames;
}

// The message of the one error frame in `bytes`, or why it is not that.
std::string ErrorMessage(const std::string& bytes) {
  Frame f;
  if (auto e = DecodeFrame(bytes, &f)) return "not one frame: " + *e;
  return f.type == FrameType::kError ? f.error : "not an error frame";
}

TEST(PoolWorkerTest, RunsEachChunkAndExitsCleanlyAtEndOfFile) {
  Worker w = Fork();
  const TaskChunk tarea_normal{0, {{Compute(ComputeFn::kTareaNormal)}}, {{0, 0, ""}, {1, 1, "ab"}}};
  // tarea_normal(i) + (i + 1) for a chunk of two tasks, then the identity on its own.
  const TaskChunk two_steps{
      0, {{Compute(ComputeFn::kTareaNormal), SleepStep(milliseconds(1))}}, {{4, 2, ""}, {5, 3, ""}}};
  const std::string got =
      SendAndClose(w, EncodeTasks(tarea_normal) + EncodeTasks(two_steps) + TasksFrame(kIdentity, -5, "xyz"));
  const std::vector<Frame> frames = Frames(got);
  ASSERT_EQ(frames.size(), 3u);
  for (const Frame& f : frames) EXPECT_EQ(f.type, FrameType::kResults);
  EXPECT_EQ(frames[0].results.items, (std::vector<FrameItem>{{0, 14998935, ""}, {1, 14998965, "ab"}}));
  EXPECT_EQ(frames[1].results.items, (std::vector<FrameItem>{{4, 14998998, ""}, {5, 14999029, ""}}));
  EXPECT_EQ(frames[2].results.items, (std::vector<FrameItem>{{0, -5, "xyz"}}));
  EXPECT_GT(frames[2].results.cpu_ns, 0u);  // the worker reports what it used
  EXPECT_EQ(ExitStatusOf(w), 0);
  EXPECT_TRUE(NoChildren());
}

TEST(PoolWorkerTest, AFrameItCannotRunGetsAnErrorFrameAndExitStatus12) {
  Worker w = Fork();
  Step unknown = Compute(ComputeFn::kIdentity);
  unknown.fn = static_cast<ComputeFn>(99);
  const std::string got = SendAndClose(w, TasksFrame({{unknown}}, 1));
  EXPECT_EQ(ErrorMessage(got),
            "worker pid " + std::to_string(w.pid) + ": tasks frame: step 0: unknown compute function 99");
  EXPECT_EQ(ExitStatusOf(w), kWorkerExitProtocol);
  EXPECT_EQ(kWorkerExitProtocol, 12);
  // Flags it does not know, and a frame of another type.
  Worker flags = Fork();
  EXPECT_EQ(ErrorMessage(SendAndClose(flags, TasksFrame(kIdentity, 1, "", 2))),
            "worker pid " + std::to_string(flags.pid) + ": tasks frame: unknown flags 2 at content offset 2");
  EXPECT_EQ(ExitStatusOf(flags), 12);
  Worker results = Fork();
  EXPECT_EQ(ErrorMessage(SendAndClose(results, EncodeResults({}))),
            "worker pid " + std::to_string(results.pid) + ": expected a tasks frame, got type 2");
  EXPECT_EQ(ExitStatusOf(results), 12);
}

TEST(PoolWorkerTest, EndOfFileInsideAFrameIsExitStatus10) {
  Worker w = Fork();
  EXPECT_EQ(SendAndClose(w, TasksFrame(kIdentity, 1).substr(0, 6)), "");
  EXPECT_EQ(ExitStatusOf(w), 10);
}

TEST(PoolWorkerTest, ATaskThatThrowsIsReportedWithItsMessageAndExitStatus14) {
  // Nothing listens where the echo step connects.
  const RefusedEchoFixture refused(8, 64);
  Worker w = Fork(refused.env);
  const std::string got =
      SendAndClose(w, TasksFrame({{Compute(ComputeFn::kIdentity), EchoStep(milliseconds(0), 64)}}, 7));
  EXPECT_EQ(ErrorMessage(got), "task 0 (input 7) threw: echo " + FormatAddress(refused.env.echo_server) +
                                   ": connect refused ECONNREFUSED (Connection refused): nothing listens on that port");
  EXPECT_EQ(ExitStatusOf(w), kWorkerExitTaskThrew);
  EXPECT_EQ(kWorkerExitTaskThrew, 14);
  // An echo step for a worker without payloads throws in the task, the same way.
  Worker bare = Fork();
  EXPECT_EQ(ErrorMessage(SendAndClose(bare, TasksFrame({{EchoStep(milliseconds(0), 64)}}, 7))),
            "task 0 (input 7) threw: an echo step without echo payloads in its TaskEnv");
  EXPECT_EQ(ExitStatusOf(bare), 14);
}

TEST(PoolWorkerTest, ATracedChunkSendsItsSpansBeforeItsResults) {
  Worker w = Fork();
  const TaskChunk chunk{
      kTraceFlag, {{Compute(ComputeFn::kIdentity), SleepStep(milliseconds(1))}}, {{3, 10, ""}, {4, 20, ""}}};
  const std::vector<Frame> frames = Frames(SendAndClose(w, EncodeTasks(chunk)));
  ASSERT_EQ(frames.size(), 2u);
  ASSERT_EQ(frames[0].type, FrameType::kTrace);
  EXPECT_EQ(frames[1].results.items, (std::vector<FrameItem>{{3, 21, ""}, {4, 41, ""}}));
  // Task 3's steps, task 3, task 4's steps, task 4: each span when it ends.
  std::vector<std::pair<uint64_t, uint16_t>> order;
  for (const TraceSpan& s : frames[0].trace) {
    order.emplace_back(s.index, s.step);
    EXPECT_LE(s.begin_ns, s.end_ns);
  }
  EXPECT_EQ(order, (std::vector<std::pair<uint64_t, uint16_t>>{
                       {3, 0}, {3, 1}, {3, kTaskSpan}, {4, 0}, {4, 1}, {4, kTaskSpan}}));
  EXPECT_EQ(ExitStatusOf(w), 0);
}

}  // namespace
}  // namespace concbench
