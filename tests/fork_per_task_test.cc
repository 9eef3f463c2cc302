#include "models/fork_per_task.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <unistd.h>

#include <chrono>
#include <stdexcept>
#include <string>
#include <vector>

#include "echo_test_support.h"
#include "measure/timer.h"
#include "models/frame.h"
#include "process_checks.h"
#include "sys/proc_stat.h"
#include "workload/echo_protocol.h"

namespace concbench {
namespace {

TEST(ForkPerTaskTest, ResultsInInputOrderAndEveryChildReaped) {
  const int fds = OpenFdCount();
  const std::vector<int64_t> in = {0, 1, 2, 3};
  IpcStats ipc;
  EXPECT_EQ(RunForkPerTask({{Compute(ComputeFn::kTareaNormal)}}, in, {}, &ipc),
            (std::vector<int64_t>{14998935, 14998965, 14998995, 14999025}));
  EXPECT_EQ(ipc.messages, 4);
  EXPECT_EQ(ipc.bytes, static_cast<int64_t>(4 * ResultFrameBytes(1, 0)));
  EXPECT_TRUE(RunForkPerTask({{Compute(ComputeFn::kIdentity)}}, {}).empty());
  EXPECT_TRUE(NoChildren());
  EXPECT_EQ(OpenFdCount(), fds);
}

TEST(ForkPerTaskTest, ChildThatAbortsIsReportedAndTheOthersReaped) {
  const int fds = OpenFdCount();
  const std::vector<int64_t> in = {0, 1, 2, 3, 4, 5};
  try {
    RunForkPerTask({{ComputeOn(ComputeFn::kAbortIf, 4)}}, in);
    ADD_FAILURE() << "RunForkPerTask returned although a child aborted";
  } catch (const WorkerDied& e) {
    EXPECT_EQ(e.worker(), 4);
    EXPECT_EQ(WTERMSIG(e.wait_status()), SIGABRT);
    EXPECT_NE(std::string(e.what()).find("the process of task 4"), std::string::npos) << e.what();
  }
  EXPECT_TRUE(NoChildren());
  EXPECT_EQ(OpenFdCount(), fds);
}

TEST(ForkPerTaskTest, ChildThatExitsBeforeSendingItsResultIsReported) {
  const std::vector<int64_t> in = {0, 1, 2};
  try {
    RunForkPerTask({{ComputeOn(ComputeFn::kExitIf, 1)}}, in);
    ADD_FAILURE() << "RunForkPerTask returned although a child exited";
  } catch (const WorkerDied& e) {
    EXPECT_EQ(e.worker(), 1);
    const std::string want = "RunForkPerTask: the process of task 1 (pid " + std::to_string(e.pid()) +
                             ") exited with status 3 before sending its result";
    EXPECT_EQ(std::string(e.what()), want);
  }
  EXPECT_TRUE(NoChildren());
}

TEST(ForkPerTaskTest, EndlessTasksAreReportedAsStalledAndEveryChildIsReaped) {
  const int fds = OpenFdCount();
  const std::vector<int64_t> in = {0, 1};
  Stopwatch w;
  try {
    RunForkPerTask({{Compute(ComputeFn::kSpinForever)}}, in, {}, nullptr, std::chrono::seconds(1));
    ADD_FAILURE() << "RunForkPerTask returned although its tasks never end";
  } catch (const WorkerStalled& e) {
    const std::string what = e.what();
    EXPECT_EQ(what.rfind("fork per task stalled: no result for 1.", 0), 0u) << what;
    EXPECT_NE(what.find("task " + std::to_string(e.worker()) + " (pid " + std::to_string(e.pid()) + ", running (R))"),
              std::string::npos)
        << what;
    EXPECT_NE(what.find("task 0 (pid "), std::string::npos) << what;
    EXPECT_NE(what.find("task 1 (pid "), std::string::npos) << what;
    EXPECT_NE(what.find("; every child killed and reaped"), std::string::npos) << what;
    EXPECT_EQ(ProcessState(e.pid()), "gone");
  }
  EXPECT_LT(w.ElapsedSeconds(), 15.0);
  EXPECT_TRUE(ChildrenOf(getpid()).empty());
  EXPECT_EQ(OpenFdCount(), fds);
  EXPECT_THROW(RunForkPerTask({{Compute(ComputeFn::kIdentity)}}, in, {}, nullptr, std::chrono::milliseconds(-1)),
               std::invalid_argument);
  // 0 is no limit: a result that takes 200 ms still counts.
  EXPECT_EQ(RunForkPerTask({{SleepStep(std::chrono::milliseconds(200))}}, in, {}, nullptr,
                           std::chrono::milliseconds(0)),
            (std::vector<int64_t>{1, 2}));
}

TEST(ForkPerTaskTest, ASpecAWorkerCannotRunIsRefusedBeforeForking) {
  const std::vector<int64_t> in = {1, 2};
  Step unknown = Compute(ComputeFn::kIdentity);
  unknown.fn = static_cast<ComputeFn>(99);
  try {
    RunForkPerTask({{unknown}}, in);
    ADD_FAILURE() << "no std::invalid_argument";
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(), "RunForkPerTask: step 0: unknown compute function 99");
  }
  EXPECT_THROW(RunForkPerTask({{SleepStep(std::chrono::milliseconds(-1))}}, in), std::invalid_argument);
  EXPECT_TRUE(NoChildren());
}

TEST(ForkPerTaskTest, EachChildRunsEveryStepWithTheTaskEnvItInherited) {
  FdLeakCheck fds;
  EchoFixture echo(3, 64, std::chrono::milliseconds(1));
  // trabajo(i) + the digest of what task i sends + (i + 1).
  const TaskSpec spec = {{Compute(ComputeFn::kTrabajo), EchoStep(std::chrono::milliseconds(1), 64),
                          SleepStep(std::chrono::milliseconds(1))}};
  const std::vector<int64_t> in = {0, 1, 2};
  IpcStats ipc;
  EXPECT_EQ(RunForkPerTask(spec, in, echo.env, &ipc),
            (std::vector<int64_t>{2398830 + EchoDigest(echo.payloads.payload(0)) + 1,
                                  2398875 + EchoDigest(echo.payloads.payload(1)) + 2,
                                  2398920 + EchoDigest(echo.payloads.payload(2)) + 3}));
  EXPECT_EQ(ipc.messages, 3);
  EXPECT_EQ(echo.server.requests_received(), 3);
  EXPECT_TRUE(NoChildren());
  EXPECT_EQ(echo.server.Stop(), "");
}

TEST(ForkPerTaskTest, AChildWhoseTaskThrowsIsReportedAndTheOthersReaped) {
  const int fds = OpenFdCount();
  const RefusedEchoFixture refused(2, 64);
  const std::vector<int64_t> in = {0, 1};
  try {
    RunForkPerTask({{EchoStep(std::chrono::milliseconds(0), 64)}}, in, refused.env);
    ADD_FAILURE() << "RunForkPerTask returned although every task threw";
  } catch (const WorkerError& e) {
    // The child's own words: which task, its input, and what it threw.
    const std::string what = e.what();
    EXPECT_NE(what.find("RunForkPerTask: the process of task "), std::string::npos) << what;
    EXPECT_NE(what.find("threw: echo 127.0.0.1:"), std::string::npos) << what;
    EXPECT_NE(what.find("refused"), std::string::npos) << what;
  }
  EXPECT_TRUE(NoChildren());
  EXPECT_EQ(OpenFdCount(), fds);
}

}  // namespace
}  // namespace concbench
