#include "models/process_pool.h"

#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <map>
#include <numeric>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "echo_test_support.h"
#include "measure/timer.h"
#include "models/frame.h"
#include "process_checks.h"
#include "sys/proc_stat.h"
#include "workload/echo_protocol.h"

namespace concbench {
namespace {

using std::chrono::milliseconds;

bool ProcessExists(pid_t pid) { return kill(pid, 0) == 0 || errno != ESRCH; }

std::vector<int64_t> Range(int64_t from, int64_t to) {
  std::vector<int64_t> v(static_cast<size_t>(to - from));
  std::iota(v.begin(), v.end(), from);
  return v;
}

// The notebook's functions on each task's input, and the identity: only the IPC is left.
const TaskSpec kTareaNormal = {{Compute(ComputeFn::kTareaNormal)}};
const TaskSpec kTrabajo = {{Compute(ComputeFn::kTrabajo)}};
const TaskSpec kIdentity = {{Compute(ComputeFn::kIdentity)}};

TEST(ProcessPoolTest, TareaNormalGivesTheNotebooksResults) {
  ProcessPool pool(2);
  const std::vector<int64_t> in = {0, 1, 2, 3};
  const auto out = pool.Map(kTareaNormal, in, 1);
  EXPECT_EQ(out, (std::vector<int64_t>{14998935, 14998965, 14998995, 14999025}));
  EXPECT_EQ(std::accumulate(out.begin(), out.end(), int64_t{0}), 59995920);
}

TEST(ProcessPoolTest, ResultsComeBackInInputOrderForEveryChunksize) {
  const std::vector<int64_t> in = Range(100, 110);  // 10 tasks
  for (int queued : {0, 1, 3}) {
    ProcessPool p(3, queued);
    // 1; 3 does not divide 10; 25 is larger than the batch.
    for (int64_t chunksize : {1, 3, 10, 25}) {
      EXPECT_EQ(p.Map(kIdentity, in, chunksize), in) << chunksize << " queued " << queued;
      EXPECT_EQ(p.Map(kTrabajo, Range(0, 5), chunksize),
                (std::vector<int64_t>{2398830, 2398875, 2398920, 2398965, 2399010}));
    }
  }
  ProcessPool pool(3);
  const std::vector<int64_t> trabajo_in = {0, 1, 2, 3, 4};
  EXPECT_EQ(pool.Map(kTrabajo, trabajo_in, 2),
            (std::vector<int64_t>{2398830, 2398875, 2398920, 2398965, 2399010}));
  const std::vector<int64_t> sleep_in = Range(0, 7);
  const auto slept = pool.Map({{SleepStep(milliseconds(1))}}, sleep_in, 3);
  EXPECT_EQ(slept, Range(1, 8));
}

TEST(ProcessPoolTest, ZeroTasksSendNothing) {
  ProcessPool pool(2);
  EXPECT_TRUE(pool.Map(kIdentity, {}, 1).empty());
  EXPECT_EQ(pool.ipc().messages, 0);
  EXPECT_EQ(pool.ipc().bytes, 0);
}

TEST(ProcessPoolTest, MoreWorkersThanTasks) {
  ProcessPool pool(6);
  const std::vector<int64_t> in = {7, 8};
  EXPECT_EQ(pool.Map(kIdentity, in, 1), in);
  EXPECT_EQ(pool.Map(kIdentity, in, 1), in);  // idle workers stay healthy
}

TEST(ProcessPoolTest, PayloadsTravelBothWaysAndAreCounted) {
  ProcessPool pool(2);
  const std::vector<int64_t> in = {0, 1, 2, 3, 4};
  // 200 KiB is over a pipe's 64 KiB buffer: the frames cross in several writes and reads.
  const std::vector<std::string> payloads = {"", "a", std::string(200 << 10, 'b'), std::string(3, '\0'), "xyz"};
  const MapResult r = pool.MapWithPayloads(kIdentity, in, payloads, 2);
  EXPECT_EQ(r.values, in);
  EXPECT_EQ(r.payloads, payloads);
  // Chunks {0,1} {2,3} {4}: one tasks and one results frame each.
  const size_t expected = TaskFrameBytes(2, 1) + ResultFrameBytes(2, 1) + TaskFrameBytes(2, (200 << 10) + 3) +
                          ResultFrameBytes(2, (200 << 10) + 3) + TaskFrameBytes(1, 3) + ResultFrameBytes(1, 3);
  EXPECT_EQ(pool.ipc().messages, 6);
  EXPECT_EQ(pool.ipc().bytes, static_cast<int64_t>(expected));
}

TEST(ProcessPoolTest, WorkersRunInParallel) {
  ProcessPool pool(4);
  const std::vector<int64_t> in = Range(0, 4);
  Stopwatch w;
  EXPECT_EQ(pool.Map({{SleepStep(milliseconds(500))}}, in, 1), Range(1, 5));
  // Four concurrent 500 ms sleeps on four workers take less than three sleeps (one after
  // another they take four): a second of slack for forks' wake-ups on a loaded machine.
  EXPECT_LT(w.ElapsedSeconds(), 1.5);
}

TEST(ProcessPoolTest, WorkersReportTheirOwnCpuTime) {
  ProcessPool pool(2);
  const WorkerUsage before = pool.worker_usage();
  const std::vector<int64_t> in = Range(0, 8);
  pool.Map(kTareaNormal, in, 1);
  EXPECT_GT(pool.worker_usage().cpu_seconds, before.cpu_seconds);
}

TEST(ProcessPoolTest, BadArgumentsLeaveThePoolUsable) {
  EXPECT_THROW(ProcessPool(0), std::invalid_argument);
  EXPECT_THROW(ProcessPool(1, -1), std::invalid_argument);
  ProcessPool pool(2);
  const std::vector<int64_t> in = {1, 2};
  EXPECT_THROW(pool.Map(kIdentity, in, 0), std::invalid_argument);
  Step unknown = Compute(ComputeFn::kIdentity);
  unknown.fn = static_cast<ComputeFn>(99);
  try {
    pool.Map({{unknown}}, in, 1);
    ADD_FAILURE() << "no std::invalid_argument";
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(), "ProcessPool::Map: step 0: unknown compute function 99");
  }
  EXPECT_THROW(pool.Map({std::vector<Step>(kMaxSteps + 1, Compute(ComputeFn::kIdentity))}, in, 1),
               std::invalid_argument);
  const std::vector<std::string> one = {"x"};
  EXPECT_THROW(pool.MapWithPayloads(kIdentity, in, one, 1), std::invalid_argument);
  // Two 33 MiB payloads in one chunk exceed the 64 MiB frame limit: refused before sending.
  const std::vector<std::string> big = {std::string(33 << 20, 'p'), std::string(33 << 20, 'q')};
  EXPECT_THROW(pool.MapWithPayloads(kIdentity, in, big, 2), std::length_error);
  EXPECT_FALSE(pool.broken());
  EXPECT_EQ(pool.Map(kIdentity, in, 1), in);
}

TEST(ProcessPoolTest, EachWorkerHoldsOnlyItsOwnPipes) {
  // A worker that kept the parent's ends of the workers forked before it would hold their task
  // pipes open, and they would not see end-of-file when the pool closes them. Forked one after
  // another from the same parent, every worker must hold the same descriptors: its own two pipe
  // ends and what it inherited from the test.
  ProcessPool pool(4);
  // One task each (the first chunks go one per worker), so every worker is past its start.
  EXPECT_EQ(pool.Map(kIdentity, Range(0, 4), 1), Range(0, 4));
  const int first = OpenFdCount(pool.pid(0));
  ASSERT_GT(first, 0);
  for (int i = 1; i < pool.size(); ++i) EXPECT_EQ(OpenFdCount(pool.pid(i)), first) << "worker " << i;
}

TEST(ProcessPoolTest, ShutdownReapsEveryWorker) {
  const int fds = OpenFdCount();
  std::vector<pid_t> pids;
  {
    ProcessPool pool(4);
    for (int i = 0; i < pool.size(); ++i) pids.push_back(pool.pid(i));
    const std::vector<int64_t> in = Range(0, 8);
    pool.Map(kIdentity, in, 1);
    Stopwatch w;
    pool.Shutdown();
    // Bounded even if a worker had to wait out the one-second grace and be killed.
    EXPECT_LT(w.ElapsedSeconds(), 10.0);
    EXPECT_THROW(pool.Map(kIdentity, in, 1), std::logic_error);
    pool.Shutdown();  // idempotent
  }
  EXPECT_TRUE(NoChildren());
  for (pid_t p : pids) EXPECT_FALSE(ProcessExists(p)) << p;
  EXPECT_EQ(OpenFdCount(), fds);
}

// The worker that died is one of the pool's, named with its own pid.
void ExpectWorkerAmong(const WorkerDied& e, const std::vector<pid_t>& pids) {
  ASSERT_GE(e.worker(), 0);
  ASSERT_LT(e.worker(), static_cast<int>(pids.size()));
  EXPECT_EQ(e.pid(), pids[static_cast<size_t>(e.worker())]);
}

// A thread that sends `sig` to `pid` a tenth of a second from now (while a Map is running).
std::thread SignalSoon(pid_t pid, int sig) {
  return std::thread([pid, sig] {
    std::this_thread::sleep_for(milliseconds(100));
    kill(pid, sig);
  });
}

TEST(ProcessPoolTest, WorkerKilledMidMapIsReportedAndEverythingIsCleanedUp) {
  const int fds = OpenFdCount();
  {
    ProcessPool pool(2);
    const pid_t victim = pool.pid(1);
    const pid_t other = pool.pid(0);
    // 20 sleeps of 30 s on 2 workers: worker 1 is still in its first task, [1, 2), whenever
    // the killer comes.
    const std::vector<int64_t> in = Range(0, 20);
    std::thread killer = SignalSoon(victim, SIGKILL);
    Stopwatch w;
    try {
      pool.Map({{SleepStep(std::chrono::seconds(30))}}, in, 1);
      ADD_FAILURE() << "Map returned although a worker was killed";
    } catch (const WorkerDied& e) {
      EXPECT_EQ(e.worker(), 1);
      EXPECT_EQ(e.pid(), victim);
      EXPECT_TRUE(WIFSIGNALED(e.wait_status()));
      EXPECT_EQ(WTERMSIG(e.wait_status()), SIGKILL);
      const std::string what = e.what();
      EXPECT_NE(what.find("worker 1 (pid " + std::to_string(victim) + ") killed by signal 9 (KILL: Killed)"),
                std::string::npos)
          << what;
      EXPECT_NE(what.find("while running tasks [1, 2)"), std::string::npos) << what;
    }
    killer.join();
    // Reported as soon as it happened, not after the first task (30 s), let alone all of them.
    EXPECT_LT(w.ElapsedSeconds(), 15.0);
    EXPECT_TRUE(pool.broken());
    EXPECT_THROW(pool.Map(kIdentity, in, 1), std::logic_error);
    // The pool already reaped everyone, before its destructor.
    EXPECT_TRUE(NoChildren());
    EXPECT_FALSE(ProcessExists(other));
    EXPECT_EQ(OpenFdCount(), fds);
  }
  EXPECT_TRUE(NoChildren());
  EXPECT_EQ(OpenFdCount(), fds);
}

TEST(ProcessPoolTest, WorkerHitBySigsegvMidMapIsReported) {
  const int fds = OpenFdCount();
  {
    ProcessPool pool(2);
    const pid_t victim = pool.pid(0);
    const std::vector<int64_t> in = Range(0, 20);
    std::thread killer = SignalSoon(victim, SIGSEGV);
    Stopwatch w;
    try {
      pool.Map({{SleepStep(std::chrono::seconds(30))}}, in, 1);  // cannot end before the signal
      ADD_FAILURE() << "Map returned although a worker was hit by SIGSEGV";
    } catch (const WorkerDied& e) {
      EXPECT_EQ(e.pid(), victim);
      // Without a sanitizer the signal kills the worker; a sanitizer runtime in the child turns
      // it into a report and then an exit status or an abort, depending on its options.
      const std::string what = e.what();
      EXPECT_NE(what.find("(pid " + std::to_string(victim) + ")"), std::string::npos) << what;
#if !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
      EXPECT_NE(what.find("killed by signal 11"), std::string::npos) << what;
#endif
    }
    killer.join();
    EXPECT_LT(w.ElapsedSeconds(), 15.0);
    EXPECT_TRUE(NoChildren());
  }
  EXPECT_TRUE(NoChildren());
  EXPECT_EQ(OpenFdCount(), fds);
}

TEST(ProcessPoolTest, WorkerThatAbortsIsReported) {
  const int fds = OpenFdCount();
  {
    ProcessPool pool(2);
    const std::vector<pid_t> pids = {pool.pid(0), pool.pid(1)};
    const std::vector<int64_t> in = Range(0, 10);
    Stopwatch w;
    try {
      pool.Map({{ComputeOn(ComputeFn::kAbortIf, 5)}}, in, 1);
      ADD_FAILURE() << "Map returned although a worker aborted";
    } catch (const WorkerDied& e) {
      ExpectWorkerAmong(e, pids);
      EXPECT_TRUE(WIFSIGNALED(e.wait_status()));
      EXPECT_EQ(WTERMSIG(e.wait_status()), SIGABRT);
      EXPECT_NE(std::string(e.what()).find("killed by signal 6 (ABRT: Aborted)"), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("while running tasks [5, 6)"), std::string::npos) << e.what();
    }
    EXPECT_LT(w.ElapsedSeconds(), 5.0);
    EXPECT_TRUE(NoChildren());
    EXPECT_EQ(OpenFdCount(), fds);
  }
  EXPECT_TRUE(NoChildren());
}

TEST(ProcessPoolTest, WorkerThatExitsIsReported) {
  const int fds = OpenFdCount();
  {
    ProcessPool pool(3);
    const std::vector<int64_t> in = Range(0, 30);
    try {
      pool.Map({{ComputeOn(ComputeFn::kExitIf, 17)}}, in, 4);  // task 17 is in chunk [16, 20)
      ADD_FAILURE() << "Map returned although a worker exited";
    } catch (const WorkerDied& e) {
      EXPECT_TRUE(WIFEXITED(e.wait_status()));
      EXPECT_EQ(WEXITSTATUS(e.wait_status()), 3);
      EXPECT_NE(std::string(e.what()).find("exited with status 3 while running tasks [16, 20)"), std::string::npos)
          << e.what();
    }
  }
  EXPECT_TRUE(NoChildren());
  EXPECT_EQ(OpenFdCount(), fds);
}

TEST(ProcessPoolTest, WorkerThatDiesWhileIdleIsReportedByTheNextMap) {
  ProcessPool pool(2);
  const std::vector<int64_t> in = {1, 2, 3};
  EXPECT_EQ(pool.Map(kIdentity, in, 1), in);
  const pid_t victim = pool.pid(0);
  kill(victim, SIGKILL);
  try {
    // However the chunks fall, worker 0 is found dead: by end-of-file on its result pipe, or
    // by EPIPE when its next chunk is written.
    pool.Map(kIdentity, in, 1);
    ADD_FAILURE() << "Map succeeded with a dead worker";
  } catch (const WorkerDied& e) {
    EXPECT_EQ(e.pid(), victim);
    EXPECT_EQ(WTERMSIG(e.wait_status()), SIGKILL);
  }
  EXPECT_TRUE(NoChildren());
}

// ---- stalls: a worker alive but silent ------------------------------------------------------

// What every stall test checks after WorkerStalled: everyone reaped, the pool broken.
void ExpectStalledPoolCleanedUp(ProcessPool& pool, const std::vector<pid_t>& pids) {
  EXPECT_TRUE(ChildrenOf(getpid()).empty());
  for (pid_t p : pids) EXPECT_EQ(ProcessState(p), "gone") << p;
  EXPECT_TRUE(pool.broken());
  const std::vector<int64_t> in = {1};
  EXPECT_THROW(pool.Map(kIdentity, in, 1), std::logic_error);
}

TEST(ProcessPoolStallTest, TheTimeoutIsSixtySecondsUntilSetAndNeverNegative) {
  ProcessPool pool(1);
  EXPECT_EQ(pool.StallTimeout(), std::chrono::seconds(60));
  pool.SetStallTimeout(milliseconds(1500));
  EXPECT_EQ(pool.StallTimeout(), milliseconds(1500));
  EXPECT_THROW(pool.SetStallTimeout(milliseconds(-1)), std::invalid_argument);
  EXPECT_EQ(pool.StallTimeout(), milliseconds(1500));
}

TEST(ProcessPoolStallTest, StoppedWorkerIsReportedWithItsStateAndEveryWorkerIsReaped) {
  const int fds = OpenFdCount();
  ProcessPool pool(2);
  pool.SetStallTimeout(std::chrono::seconds(1));
  const std::vector<pid_t> pids = {pool.pid(0), pool.pid(1)};
  // 30 s sleeps, one queued behind each: worker 0 holds [0, 1) and [2, 3), worker 1 [1, 2) and
  // [3, 4), and nothing comes back before the timeout. Worker 1 is stopped meanwhile.
  const std::vector<int64_t> in = Range(0, 8);
  std::thread stopper = SignalSoon(pids[1], SIGSTOP);
  Stopwatch w;
  try {
    pool.Map({{SleepStep(std::chrono::seconds(30))}}, in, 1);
    ADD_FAILURE() << "Map returned although a worker was stopped";
  } catch (const WorkerStalled& e) {
    const std::string what = e.what();
    EXPECT_EQ(what.rfind("process pool stalled: no result for 1.", 0), 0u) << what;
    EXPECT_NE(what.find("worker 1 (pid " + std::to_string(pids[1]) + ", stopped (T)) silent 1."), std::string::npos)
        << what;
    EXPECT_NE(what.find("holding tasks [1, 2), [3, 4)"), std::string::npos) << what;
    EXPECT_NE(what.find("worker 0 (pid " + std::to_string(pids[0]) + ", sleeping (S)) silent 1."), std::string::npos)
        << what;
    EXPECT_NE(what.find("holding tasks [0, 1), [2, 3)"), std::string::npos) << what;
    EXPECT_NE(what.find("; every worker killed and reaped"), std::string::npos) << what;
  }
  stopper.join();
  // The timeout and a wide grace for a loaded machine, far below the first task's 30 s.
  EXPECT_LT(w.ElapsedSeconds(), 15.0);
  ExpectStalledPoolCleanedUp(pool, pids);
  EXPECT_EQ(OpenFdCount(), fds);
}

TEST(ProcessPoolStallTest, EndlessTaskIsReportedAsRunning) {
  ProcessPool pool(2);
  pool.SetStallTimeout(std::chrono::seconds(1));
  const std::vector<pid_t> pids = {pool.pid(0), pool.pid(1)};
  // Two chunks of three, one per worker, and each worker spins in the first task of its chunk.
  const std::vector<int64_t> in = Range(0, 6);
  Stopwatch w;
  try {
    pool.Map({{Compute(ComputeFn::kSpinForever)}}, in, 3);
    ADD_FAILURE() << "Map returned although its tasks never end";
  } catch (const WorkerStalled& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("(pid " + std::to_string(pids[0]) + ", running (R))"), std::string::npos) << what;
    EXPECT_NE(what.find("(pid " + std::to_string(pids[1]) + ", running (R))"), std::string::npos) << what;
    EXPECT_NE(what.find("holding tasks [0, 3)"), std::string::npos) << what;
    EXPECT_NE(what.find("holding tasks [3, 6)"), std::string::npos) << what;
  }
  EXPECT_LT(w.ElapsedSeconds(), 15.0);
  ExpectStalledPoolCleanedUp(pool, pids);
}

TEST(ProcessPoolStallTest, ATimeoutOfZeroMeansNoLimit) {
  ProcessPool pool(2);
  pool.SetStallTimeout(milliseconds(0));
  EXPECT_EQ(pool.StallTimeout(), milliseconds(0));
  // Every result takes 50 ms: a zero taken literally would stall at the first wait.
  const std::vector<int64_t> in = Range(0, 6);
  EXPECT_EQ(pool.Map({{SleepStep(milliseconds(50))}}, in, 1), Range(1, 7));
  EXPECT_FALSE(pool.broken());
}

TEST(ProcessPoolStallTest, SilenceCountsFromTheLastResultNotFromTheStartOfMap) {
  ProcessPool pool(1);
  pool.SetStallTimeout(std::chrono::seconds(1));
  // Six 400 ms tasks on one worker: 2.4 s in all, more than twice the timeout, but a result
  // comes back every 400 ms.
  const std::vector<int64_t> in = Range(0, 6);
  Stopwatch w;
  EXPECT_EQ(pool.Map({{SleepStep(milliseconds(400))}}, in, 1), Range(1, 7));
  EXPECT_GT(w.ElapsedSeconds(), 2.0);
  EXPECT_FALSE(pool.broken());
  EXPECT_EQ(pool.Map(kIdentity, in, 1), in);  // and the next Map starts its own count
}

// ---- what the workers inherited: the TaskEnv of echo steps, and failures inside a task -------

TEST(ProcessPoolEnvTest, WorkersRunEchoStepsWithTheTaskEnvTheyInheritedAtFork) {
  FdLeakCheck fds;
  EchoFixture echo(7, 64, milliseconds(1));
  const std::vector<int64_t> in = {6, 0, 3, 3, 5, 1, 4};
  std::vector<int64_t> want;
  for (int64_t i : in) want.push_back(EchoDigest(echo.payloads.payload(i)));
  for (int queued : {0, 1}) {
    ProcessPool pool(3, echo.env, queued);
    for (int64_t chunksize : {1, 3, 25}) {
      EXPECT_EQ(pool.Map({{EchoStep(milliseconds(1), 64)}}, in, chunksize), want) << chunksize << " queued " << queued;
    }
    // Compute steps run on the same workers, alone or with an echo: trabajo(i) + the digest.
    EXPECT_EQ(pool.Map(kTrabajo, Range(0, 2), 1), (std::vector<int64_t>{2398830, 2398875}));
    EXPECT_EQ(pool.Map({{Compute(ComputeFn::kTrabajo), EchoStep(milliseconds(1), 64)}}, Range(0, 2), 1),
              (std::vector<int64_t>{2398830 + EchoDigest(echo.payloads.payload(0)),
                                    2398875 + EchoDigest(echo.payloads.payload(1))}));
  }
  EXPECT_TRUE(NoChildren());
  EXPECT_EQ(echo.server.requests_received(), 2 * (3 * 7 + 2));
  EXPECT_EQ(echo.server.Stop(), "");
}

TEST(ProcessPoolEnvTest, IpcAndWorkerCpuAreCountedForATaskOfSeveralSteps) {
  ProcessPool pool(2);
  // tarea_normal(i) + (i + 1).
  const TaskSpec spec = {{Compute(ComputeFn::kTareaNormal), SleepStep(milliseconds(0))}};
  EXPECT_EQ(pool.Map(spec, Range(0, 5), 2), (std::vector<int64_t>{14998936, 14998967, 14998998, 14999029, 14999060}));
  // Chunks {0,1} {2,3} {4}: one tasks frame (the spec's two steps in each) and one results frame.
  EXPECT_EQ(pool.ipc().messages, 6);
  EXPECT_EQ(pool.ipc().bytes, static_cast<int64_t>(2 * (TaskFrameBytes(2, 0, 2) + ResultFrameBytes(2, 0)) +
                                                   TaskFrameBytes(1, 0, 2) + ResultFrameBytes(1, 0)));
  EXPECT_GT(pool.worker_usage().cpu_seconds, 0.0);
}

TEST(ProcessPoolEnvTest, WorkerThatDiesInALaterStepOfALaterMapIsReported) {
  const int fds = OpenFdCount();
  {
    // The exit comes after a compute step and a sleep of the same task.
    const TaskSpec spec = {
        {Compute(ComputeFn::kIdentity), SleepStep(milliseconds(1)), ComputeOn(ComputeFn::kExitIf, 5)}};
    ProcessPool pool(2);
    const std::vector<pid_t> pids = {pool.pid(0), pool.pid(1)};
    Stopwatch w;
    try {
      EXPECT_EQ(pool.Map(spec, Range(0, 3), 1), (std::vector<int64_t>{1, 4, 7}));  // i + (i + 1) + i: no crash yet
      pool.Map(spec, Range(0, 10), 2);  // task 5 is in chunk [4, 6)
      ADD_FAILURE() << "Map returned although a worker exited";
    } catch (const WorkerDied& e) {
      ExpectWorkerAmong(e, pids);
      EXPECT_TRUE(WIFEXITED(e.wait_status()));
      EXPECT_EQ(WEXITSTATUS(e.wait_status()), 3);
      EXPECT_NE(std::string(e.what()).find("exited with status 3 while running tasks [4, 6)"), std::string::npos)
          << e.what();
    }
    EXPECT_LT(w.ElapsedSeconds(), 5.0);
    EXPECT_TRUE(pool.broken());
    EXPECT_THROW(pool.Map(spec, Range(0, 2), 1), std::logic_error);
    EXPECT_TRUE(NoChildren());
    EXPECT_EQ(OpenFdCount(), fds);
  }
  EXPECT_TRUE(NoChildren());
  EXPECT_EQ(OpenFdCount(), fds);
}

TEST(ProcessPoolEnvTest, ATaskThatThrowsIsReportedWithItsMessage) {
  const int fds = OpenFdCount();
  {
    // Nothing listens where the echo steps connect: the first task a worker runs throws EchoError,
    // the worker sends an error frame and exits with kWorkerExitTaskThrew.
    const RefusedEchoFixture refused(8, 64);
    ProcessPool pool(2, refused.env);
    Stopwatch w;
    try {
      pool.Map({{Compute(ComputeFn::kIdentity), EchoStep(milliseconds(0), 64)}}, Range(0, 8), 1);
      ADD_FAILURE() << "Map returned although a task threw";
    } catch (const WorkerError& e) {
      const std::string what = e.what();
      EXPECT_NE(what.find("ProcessPool: worker "), std::string::npos) << what;
      // Task 0 or task 1, whichever worker reports first.
      const std::string cause = " threw: echo " + FormatAddress(refused.env.echo_server) +
                                ": connect refused ECONNREFUSED (Connection refused): nothing listens on that port";
      EXPECT_TRUE(what.find("task 0 (input 0)" + cause) != std::string::npos ||
                  what.find("task 1 (input 1)" + cause) != std::string::npos)
          << what;
    }
    EXPECT_LT(w.ElapsedSeconds(), 5.0);
    EXPECT_TRUE(pool.broken());
    EXPECT_TRUE(NoChildren());
    // An echo step on a pool built without payloads fails the same way, in the worker.
    ProcessPool bare(1);
    try {
      bare.Map({{EchoStep(milliseconds(0), 64)}}, Range(3, 4), 1);
      ADD_FAILURE() << "Map returned although a task threw";
    } catch (const WorkerError& e) {
      EXPECT_NE(std::string(e.what()).find("task 0 (input 3) threw: an echo step without echo payloads in its TaskEnv"),
                std::string::npos)
          << e.what();
    }
  }
  EXPECT_TRUE(NoChildren());
  EXPECT_EQ(OpenFdCount(), fds);
}

TEST(ProcessPoolEnvTest, MisuseIsRefusedBeforeAnythingIsSent) {
  EXPECT_THROW(ProcessPool(0, TaskEnv{}), std::invalid_argument);
  EXPECT_THROW(ProcessPool(1, TaskEnv{}, -1), std::invalid_argument);
  EXPECT_TRUE(NoChildren());
  ProcessPool pool(2, TaskEnv{});
  const std::vector<int64_t> in = {1, 2};
  try {
    pool.Map({{Compute(ComputeFn::kIdentity), SleepStep(milliseconds(-1))}}, in, 1);
    ADD_FAILURE() << "no std::invalid_argument";
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(), "ProcessPool::Map: step 1: a sleep of -1000000 ns");
  }
  EXPECT_THROW(pool.Map({{EchoStep(milliseconds(1), -1)}}, in, 1), std::invalid_argument);
  EXPECT_FALSE(pool.broken());
  EXPECT_EQ(pool.ipc().messages, 0);
  EXPECT_EQ(pool.Map(kIdentity, in, 1), in);
}

// ---- tracing: spans from the workers, on the clock every process shares ----------------------

// Read here with clock_gettime, not with the library's own helper.
uint64_t ClockMonotonicNs() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000u + static_cast<uint64_t>(ts.tv_nsec);
}

TEST(ProcessPoolTraceTest, EachTaskSendsOneSpanAndOnePerStepFromItsWorker) {
  ProcessPool pool(2);
  std::vector<WorkerSpan> sink;
  pool.SetTraceSink(&sink);
  const TaskSpec spec = {{Compute(ComputeFn::kIdentity), SleepStep(milliseconds(2))}};
  const uint64_t before = ClockMonotonicNs();
  EXPECT_EQ(pool.Map(spec, Range(0, 6), 2), (std::vector<int64_t>{1, 3, 5, 7, 9, 11}));
  const uint64_t after = ClockMonotonicNs();
  // The workers' own spans; the parent's instants about them (parent_event) are its business.
  auto worker_spans = [&sink] {
    std::vector<WorkerSpan> own;
    for (const WorkerSpan& s : sink) {
      if (s.parent_event == nullptr) own.push_back(s);
    }
    return own;
  };
  const std::vector<WorkerSpan> spans = worker_spans();
  ASSERT_EQ(spans.size(), 18u);
  std::map<uint64_t, std::map<uint16_t, WorkerSpan>> by_task;  // task -> step -> span
  for (const WorkerSpan& s : spans) {
    EXPECT_TRUE(s.pid == pool.pid(0) || s.pid == pool.pid(1)) << s.pid;
    EXPECT_LE(before, s.span.begin_ns);
    EXPECT_LE(s.span.begin_ns, s.span.end_ns);
    EXPECT_LE(s.span.end_ns, after);
    EXPECT_TRUE(by_task[s.span.index].emplace(s.span.step, s).second) << "task " << s.span.index << " step "
                                                                      << s.span.step << " twice";
  }
  ASSERT_EQ(by_task.size(), 6u);
  for (const auto& [task, steps] : by_task) {
    ASSERT_EQ(steps.size(), 3u) << "task " << task;
    const WorkerSpan& whole = steps.at(kTaskSpan);
    const WorkerSpan& compute = steps.at(0);
    const WorkerSpan& sleep = steps.at(1);
    // One worker ran the task: its steps in order, inside the task's span.
    EXPECT_EQ(compute.pid, whole.pid);
    EXPECT_EQ(sleep.pid, whole.pid);
    EXPECT_LE(whole.span.begin_ns, compute.span.begin_ns);
    EXPECT_LE(compute.span.end_ns, sleep.span.begin_ns);
    EXPECT_LE(sleep.span.end_ns, whole.span.end_ns);
    EXPECT_GE(sleep.span.end_ns - sleep.span.begin_ns, 2'000'000u) << "task " << task;
  }
  // Tasks of one chunk ([0, 2), [2, 4), [4, 6)) ran on one worker.
  for (uint64_t t = 0; t < 6; t += 2) EXPECT_EQ(by_task[t].at(kTaskSpan).pid, by_task[t + 1].at(kTaskSpan).pid);
  // Without a sink, nothing more is traced.
  const size_t traced = sink.size();
  pool.SetTraceSink(nullptr);
  EXPECT_EQ(pool.Map(spec, Range(0, 2), 1), (std::vector<int64_t>{1, 3}));
  EXPECT_EQ(sink.size(), traced);
}

}  // namespace
}  // namespace concbench
