#include "workload/blocking.h"

#include <gtest/gtest.h>

#include <chrono>
#include <stdexcept>
#include <string>
#include <vector>

#include "echo_test_support.h"
#include "measure/timer.h"
#include "observer_support.h"
#include "workload/echo_client.h"
#include "workload/echo_protocol.h"

namespace concbench {
namespace {

using std::chrono::milliseconds;

TEST(BlockingTest, ATasksResultIsTheSumOfItsSteps) {
  const TaskEnv env;
  // trabajo(7) + (7 + 1).
  EXPECT_EQ(RunTaskBlocking({{Compute(ComputeFn::kTrabajo), SleepStep(milliseconds(1))}}, 7, env), 2399153);
  // 959757 + 4 + 42 + 3: each step on the same input, whatever came before it.
  EXPECT_EQ(RunTaskBlocking({{ComputeOn(ComputeFn::kCpuIntensivo, 20'000), SleepStep(milliseconds(0)),
                              ComputeOn(ComputeFn::kIdentity, 42), Compute(ComputeFn::kIdentity)}},
                            3, env),
            959806);
  EXPECT_EQ(RunTaskBlocking({}, 3, env), 0);
}

TEST(BlockingTest, ASleepStepBlocksForAtLeastItsWait) {
  Stopwatch w;
  EXPECT_EQ(RunStepBlocking(SleepStep(milliseconds(20)), 41, {}), 42);
  EXPECT_GE(w.ElapsedSeconds(), 0.020);
  Stopwatch two;
  EXPECT_EQ(RunTaskBlocking({{SleepStep(milliseconds(10)), SleepStep(milliseconds(15))}}, 0, {}), 2);
  EXPECT_GE(two.ElapsedSeconds(), 0.025);
}

TEST(BlockingTest, AnEchoStepGivesTheDigestOfWhatItsTaskSent) {
  FdLeakCheck fds;
  EchoFixture echo(4, 64, milliseconds(10));
  const TaskSpec spec = {{EchoStep(milliseconds(10), 64)}};
  int64_t sum = 0;
  for (int64_t i = 0; i < 4; ++i) {
    Stopwatch w;
    const int64_t r = RunTaskBlocking(spec, i, echo.env);
    EXPECT_GE(w.ElapsedSeconds(), 0.010);  // the server's delay
    EXPECT_EQ(r, EchoDigest(echo.payloads.payload(i))) << "task " << i;
    // The same value without a request.
    EXPECT_EQ(WaitStepResult(spec.steps[0], i, echo.env), r);
    sum += r;
  }
  EXPECT_EQ(sum, echo.payloads.expected_checksum());
  EXPECT_EQ(echo.server.requests_received(), 4);
  // Mixed with compute and a sleep: 959757 + digest + (2 + 1).
  EXPECT_EQ(RunTaskBlocking({{ComputeOn(ComputeFn::kCpuIntensivo, 20'000), EchoStep(milliseconds(10), 64),
                              SleepStep(milliseconds(1))}},
                            2, echo.env),
            959757 + EchoDigest(echo.payloads.payload(2)) + 3);
  EXPECT_EQ(echo.server.Stop(), "");
}

TEST(BlockingTest, AnEchoStepThatCannotRunSaysWhy) {
  FdLeakCheck fds;
  const RefusedEchoFixture refused(2, 64);
  try {
    RunTaskBlocking({{EchoStep(milliseconds(1), 64)}}, 1, refused.env);
    ADD_FAILURE() << "no EchoError";
  } catch (const EchoError& e) {
    EXPECT_EQ(e.kind(), EchoErrorKind::kRefused);
    EXPECT_NE(std::string(e.what()).find("echo " + FormatAddress(refused.env.echo_server) + ": connect refused"),
              std::string::npos)
        << e.what();
  }
  // Without payloads, or with payloads of another size: a bug in the caller, named.
  try {
    RunStepBlocking(EchoStep(milliseconds(1), 64), 0, {});
    ADD_FAILURE() << "no std::logic_error";
  } catch (const std::logic_error& e) {
    EXPECT_STREQ(e.what(), "an echo step without echo payloads in its TaskEnv");
  }
  try {
    WaitStepResult(EchoStep(milliseconds(1), 32), 0, refused.env);
    ADD_FAILURE() << "no std::logic_error";
  } catch (const std::logic_error& e) {
    EXPECT_STREQ(e.what(), "an echo step of 32 bytes with payloads of 64");
  }
  EXPECT_EQ(WaitStepResult(SleepStep(milliseconds(100)), 9, {}), 10);
}

TEST(BlockingTest, AnUnknownStepKindIsRefused) {
  Step bad = SleepStep(milliseconds(1));
  bad.kind = static_cast<StepKind>(9);
  try {
    RunStepBlocking(bad, 0, {});
    ADD_FAILURE() << "no std::invalid_argument";
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(), "RunStepBlocking: unknown step kind 9");
  }
}

TEST(BlockingTest, TheObserverSeesTheTaskAndEveryStepInOrder) {
  RecordingObserver seen;
  const TaskSpec spec = {{Compute(ComputeFn::kIdentity), SleepStep(milliseconds(5)), Compute(ComputeFn::kIdentity)}};
  EXPECT_EQ(RunTaskBlocking(spec, 4, {}, &seen, /*task=*/7), 4 + 5 + 4);
  EXPECT_EQ(seen.StoryOf(7), CompleteStory(3));
  EXPECT_EQ(seen.events().size(), 8u);
  // The sleep lies between its own begin and end.
  const double slept = seen.SeenAt(RecordingObserver::Kind::kStepEnd, 7, 1) -
                       seen.SeenAt(RecordingObserver::Kind::kStepBegin, 7, 1);
  EXPECT_GE(slept, 0.005);
  // Every event on the calling thread.
  for (const auto& e : seen.events()) EXPECT_EQ(e.thread, std::this_thread::get_id());
}

TEST(BlockingTest, AStepThatThrowsEndsTheStoryAtItsBeginning) {
  const RefusedEchoFixture refused(1, 8);
  RecordingObserver seen;
  EXPECT_THROW(RunTaskBlocking({{Compute(ComputeFn::kIdentity), EchoStep(milliseconds(0), 8)}}, 0, refused.env,
                               &seen, 0),
               EchoError);
  EXPECT_EQ(seen.StoryOf(0), (std::vector<std::string>{"begin", "step 0 begin", "step 0 end", "step 1 begin"}));
}

}  // namespace
}  // namespace concbench
