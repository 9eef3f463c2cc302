#include "watchdog.h"

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <vector>

#include "sys/proc_stat.h"
#include "sys/reaper.h"

namespace concbench {
namespace {

using Clock = std::chrono::steady_clock;

struct Board {
  std::mutex mu;  // guards everything but iterations
  bool active = false;
  std::string name;
  double deadline_s = 0;
  int64_t planned_iterations = 0;
  Clock::time_point started;
  std::function<std::string()> outstanding;
  std::atomic<int64_t> iterations{0};
};

Board& TheBoard() {
  static Board board;
  return board;
}

std::atomic<RunObserver*> the_observer{nullptr};

sigset_t StopSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  return set;
}

std::string Seconds(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, s < 10 ? "%.1f s" : "%.0f s", s);
  return buf;
}

}  // namespace

double RunDeadlineSeconds(double planned_s, std::optional<double> timeout_s) {
  if (timeout_s) return *timeout_s;
  return std::max(kDefaultDeadlineFloor, kDeadlineFactor * planned_s);
}

std::string DeadlineRule(std::optional<double> timeout_s) {
  if (!timeout_s) {
    return "the larger of " + Seconds(kDefaultDeadlineFloor) + " and " + std::to_string(int(kDeadlineFactor)) +
           " x each run's planned time";
  }
  if (*timeout_s == 0) return "none";
  char buf[48];
  std::snprintf(buf, sizeof buf, "%g s for every benchmark run", *timeout_s);
  return buf;
}

std::string DeadlineSource(std::optional<double> timeout_s) { return timeout_s ? "--timeout_s" : "default"; }

void BeginRun(const std::string& name, double deadline_s, int64_t planned_iterations) {
  Board& b = TheBoard();
  {
    std::lock_guard lock(b.mu);
    b.active = true;
    b.name = name;
    b.deadline_s = deadline_s;
    b.planned_iterations = planned_iterations;
    b.started = Clock::now();
    b.outstanding = nullptr;
    b.iterations.store(0, std::memory_order_relaxed);
  }
  if (RunObserver* o = the_observer.load()) o->RunBegan(name);
}

void EndRun() {
  Board& b = TheBoard();
  std::string name;
  int64_t iterations = 0;
  {
    std::lock_guard lock(b.mu);
    b.active = false;
    b.outstanding = nullptr;
    name = b.name;
    iterations = b.planned_iterations;
  }
  if (RunObserver* o = the_observer.load()) o->RunEnded(name, iterations);
}

void SetRunObserver(RunObserver* observer) { the_observer.store(observer); }

void CountIteration() { TheBoard().iterations.fetch_add(1, std::memory_order_relaxed); }

void SetOutstanding(std::function<std::string()> describe) {
  Board& b = TheBoard();
  std::lock_guard lock(b.mu);
  b.outstanding = std::move(describe);
}

std::chrono::milliseconds RunStallTimeout() {
  Board& b = TheBoard();
  std::lock_guard lock(b.mu);
  const double s = b.active ? b.deadline_s : kDefaultDeadlineFloor;
  return std::chrono::milliseconds(static_cast<int64_t>(std::ceil(s * 1e3)));
}

void BlockStopSignals() {
  const sigset_t set = StopSignals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

void UnblockStopSignals() {
  const sigset_t set = StopSignals();
  pthread_sigmask(SIG_UNBLOCK, &set, nullptr);
}

std::string DescribeChildren() {
  std::string out;
  for (const pid_t pid : ChildrenOf(getpid())) {
    out += (out.empty() ? "" : ", ") + std::string("pid ") + std::to_string(pid) + " " + ProcessState(pid);
  }
  return out.empty() ? "none" : out;
}

void KillAndReapChildren() {
  const std::vector<pid_t> children = ChildrenOf(getpid());
  ReapAll(children, Clock::now());  // a deadline already past: SIGKILL to all at once, then reap
}

Watchdog::Watchdog(SavePartial save_partial, std::function<void()> tick)
    : save_partial_(std::move(save_partial)), tick_(std::move(tick)) {
  thread_ = std::thread([this] { Loop(); });
}

Watchdog::~Watchdog() {
  done_.store(true);
  // The thread waits in sigtimedwait: a signal sent to it alone wakes it at once.
  pthread_kill(thread_.native_handle(), SIGTERM);
  thread_.join();
  UnblockStopSignals();
}

void Watchdog::Loop() {
  const sigset_t set = StopSignals();
  Board& b = TheBoard();
  while (!done_.load()) {
    if (tick_) tick_();
    // Wake at the running benchmark's deadline (plus grace), and at least once a second.
    double wait_s = 1.0;
    std::string overdue;
    double ran_s = 0, deadline_s = 0;
    {
      std::lock_guard lock(b.mu);
      if (b.active && b.deadline_s > 0) {
        ran_s = std::chrono::duration<double>(Clock::now() - b.started).count();
        deadline_s = b.deadline_s;
        const double left = deadline_s + kWatchdogGrace - ran_s;
        if (left <= 0) overdue = b.name;
        wait_s = std::clamp(left, 0.001, 1.0);
      }
    }
    if (!overdue.empty()) {
      char buf[64];
      std::snprintf(buf, sizeof buf, "%g s", deadline_s);
      Stop("timed out: " + overdue + " ran " + Seconds(ran_s) + ", past its deadline of " + buf, overdue,
           kExitTimedOut);
    }
    timespec ts{};
    ts.tv_sec = static_cast<time_t>(wait_s);
    ts.tv_nsec = static_cast<long>((wait_s - static_cast<double>(ts.tv_sec)) * 1e9);
    siginfo_t info{};
    const int sig = sigtimedwait(&set, &info, &ts);
    if (sig <= 0 || done_.load()) continue;
    std::string running;
    {
      std::lock_guard lock(b.mu);
      if (b.active) running = b.name;
    }
    Stop(std::string("interrupted by ") + (sig == SIGINT ? "SIGINT" : "SIGTERM") +
             (running.empty() ? "" : " during " + running),
         running, 128 + sig);
  }
}

void Watchdog::Stop(const std::string& reason, const std::string& cut_short, int status) {
  Board& b = TheBoard();
  std::string progress;
  {
    std::lock_guard lock(b.mu);
    if (b.active) {
      const int64_t done = b.iterations.load(std::memory_order_relaxed);
      progress = std::to_string(done) + " iteration(s) done" +
                 (b.planned_iterations > 0 ? " of " + std::to_string(b.planned_iterations) : "") +
                 ", the next one unfinished";
      if (b.outstanding) progress += "; " + b.outstanding();
    }
  }
  std::fprintf(stderr, "\nconcbench: %s\n", reason.c_str());
  if (!progress.empty()) std::fprintf(stderr, "concbench: outstanding: %s\n", progress.c_str());
  std::fprintf(stderr, "concbench: child processes: %s; killing and reaping them\n", DescribeChildren().c_str());
  try {
    save_partial_(reason, cut_short);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "concbench: could not save the partial results: %s\n", e.what());
  }
  KillAndReapChildren();
  std::fprintf(stderr, "concbench: exit status %d (%s)\n", status,
               status == kExitTimedOut ? "a benchmark passed its deadline" : "interrupted");
  // The benchmark thread may be stuck for good: end the process without unwinding it.
  std::fflush(stdout);
  _exit(status);
}

}  // namespace concbench
