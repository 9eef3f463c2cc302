#include "measure/probe.h"

#include <sched.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <exception>
#include <fstream>
#include <functional>
#include <iostream>
#include <mutex>
#include <numeric>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "measure/ideal.h"
#include "measure/timer.h"
#include "sys/fork.h"
#include "workload/cpu.h"

namespace concbench {
namespace {

using Clock = std::chrono::steady_clock;

double Median(std::vector<double> v) {
  if (v.empty()) return MachineProbe::kUnknown;
  const auto mid = v.begin() + static_cast<std::ptrdiff_t>(v.size() / 2);
  std::nth_element(v.begin(), mid, v.end());
  if (v.size() % 2 == 1) return *mid;
  return (*mid + *std::max_element(v.begin(), mid)) / 2;
}

// cpu_intensivo's n for a run of about `seconds` at the fastest speed of three warm-up runs (the
// fastest, so that a run takes at least `seconds` when the core is slower).
int64_t IterationsFor(double seconds) {
  constexpr int64_t kWarmup = 100'000;
  double fastest = 1e9;
  for (int i = 0; i < 3; ++i) {
    Stopwatch w;
    cpu_intensivo(kWarmup);
    fastest = std::min(fastest, w.ElapsedSeconds());
  }
  const double per_iteration = std::max(fastest, 1e-9) / kWarmup;
  return std::max<int64_t>(kWarmup, static_cast<int64_t>(std::ceil(seconds / per_iteration)));
}

// A team of N: the calling thread and N − 1 helpers, so that N threads split the work on N
// cores. Run(body) runs body(0) on the caller and body(i) on helper i, and returns the time from
// the release to the last body's end. Between runs the helpers block on a condition variable;
// they are created (and, in the destructor, joined) outside any timed part.
class Team {
 public:
  explicit Team(int size) {
    helpers_.reserve(static_cast<size_t>(std::max(size - 1, 0)));
    try {
      for (int i = 1; i < size; ++i) helpers_.emplace_back([this, i] { Loop(i); });
    } catch (...) {
      Stop();
      throw;
    }
  }
  ~Team() { Stop(); }
  Team(const Team&) = delete;
  Team& operator=(const Team&) = delete;

  // Seconds from the release to the end of the last body. Rethrows the first exception a body
  // threw, once every body has returned.
  double Run(const std::function<void(int)>& body) {
    std::unique_lock lock(mu_);
    body_ = &body;
    remaining_ = static_cast<int>(helpers_.size());
    error_ = nullptr;
    ++generation_;
    const Clock::time_point start = Clock::now();
    last_end_ = start;
    lock.unlock();
    go_.notify_all();
    Finish(0);
    lock.lock();
    done_.wait(lock, [this] { return remaining_ == 0; });
    body_ = nullptr;
    if (error_) std::rethrow_exception(error_);
    return std::chrono::duration<double>(last_end_ - start).count();
  }

 private:
  // Runs the body as member `index`, then records its end and its exception under mu_.
  void Finish(int index) {
    std::exception_ptr error;
    try {
      (*body_)(index);  // body_ is set before the release and cleared after the last Finish
    } catch (...) {
      error = std::current_exception();
    }
    const Clock::time_point end = Clock::now();
    std::lock_guard lock(mu_);
    last_end_ = std::max(last_end_, end);
    if (error && !error_) error_ = error;
  }

  void Loop(int index) {
    uint64_t seen = 0;
    for (;;) {
      {
        std::unique_lock lock(mu_);
        go_.wait(lock, [&] { return stop_ || generation_ != seen; });
        if (stop_) return;
        seen = generation_;
      }
      Finish(index);
      std::lock_guard lock(mu_);
      if (--remaining_ == 0) done_.notify_one();
    }
  }

  void Stop() {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    go_.notify_all();
    for (auto& t : helpers_) t.join();
    helpers_.clear();
  }

  std::mutex mu_;
  std::condition_variable go_;    // the helpers wait here for a new generation or stop_
  std::condition_variable done_;  // Run() waits here for remaining_ == 0
  const std::function<void(int)>* body_ = nullptr;
  uint64_t generation_ = 0;
  int remaining_ = 0;
  bool stop_ = false;
  Clock::time_point last_end_;
  std::exception_ptr error_;
  std::vector<std::thread> helpers_;
};

// Whether another pair of rounds should start.
bool MorePairs(int done, int min_pairs, int max_pairs, const Stopwatch& since, double budget) {
  return done < std::max(min_pairs, 1) ||
         (done < max_pairs && since.ElapsedSeconds() < budget);
}

std::string ReadFirstLine(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  if (!in || !std::getline(in, line)) return "";
  while (!line.empty() && (line.back() == ' ' || line.back() == '\t' || line.back() == '\r')) {
    line.pop_back();
  }
  return line;
}

std::vector<int> AffinityCpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  std::vector<int> cpus;
  if (sched_getaffinity(0, sizeof set, &set) != 0) return cpus;
  for (int c = 0; c < CPU_SETSIZE; ++c) {
    if (CPU_ISSET(c, &set)) cpus.push_back(c);
  }
  return cpus;
}

std::string CpuPath(int cpu, const char* leaf) {
  return "/sys/devices/system/cpu/cpu" + std::to_string(cpu) + "/" + leaf;
}

std::string Governor(const std::vector<int>& cpus) {
  std::vector<std::string> seen;
  for (int c : cpus) {
    const std::string g = ReadFirstLine(CpuPath(c, "cpufreq/scaling_governor"));
    if (!g.empty() && std::find(seen.begin(), seen.end(), g) == seen.end()) seen.push_back(g);
  }
  if (seen.empty()) return "unknown";
  std::string out = seen[0];
  for (size_t i = 1; i < seen.size(); ++i) out += "," + seen[i];
  return out;
}

std::string Turbo() {
  const std::string no_turbo = ReadFirstLine("/sys/devices/system/cpu/intel_pstate/no_turbo");
  if (no_turbo == "0") return "on";
  if (no_turbo == "1") return "off";
  const std::string boost = ReadFirstLine("/sys/devices/system/cpu/cpufreq/boost");
  if (boost == "1") return "on";
  if (boost == "0") return "off";
  return "unknown";
}

// Sets p->virtualized and p->hypervisor from the cpu flags, /sys/hypervisor and DMI.
void ReadVirtualization(MachineProbe* p) {
  std::vector<std::string> why;
  bool has_flags_line = false;
  bool flagged = false;
  {
    std::ifstream in("/proc/cpuinfo");
    std::string line;
    while (std::getline(in, line)) {
      if (line.rfind("flags", 0) != 0) continue;
      has_flags_line = true;
      std::istringstream words(line.substr(line.find(':') + 1));  // npos + 1: the whole line
      std::string w;
      while (words >> w) flagged = flagged || w == "hypervisor";
      break;
    }
  }
  if (flagged) why.push_back("cpu flag 'hypervisor'");
  const std::string type = ReadFirstLine("/sys/hypervisor/type");
  if (!type.empty()) why.push_back(type);
  if (flagged || !type.empty()) {
    p->virtualized = "yes";
    for (const char* leaf : {"sys_vendor", "product_name"}) {
      const std::string dmi = ReadFirstLine(std::string("/sys/class/dmi/id/") + leaf);
      if (!dmi.empty()) why.push_back(dmi);
    }
  } else if (has_flags_line) {
    p->virtualized = "no";  // x86 sets the flag under every hypervisor that announces itself
  }
  for (size_t i = 0; i < why.size(); ++i) p->hypervisor += (i ? "; " : "") + why[i];
}

double LoadAverage() {
  double load[1];
  return getloadavg(load, 1) == 1 ? load[0] : MachineProbe::kUnknown;
}

// Whatever is buffered would otherwise be printed once by the parent and once by each child.
std::string Fixed(double v, int decimals) {
  if (!std::isfinite(v)) return "unknown";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

// Cuts `s` to `columns` code points (a UTF-8 continuation byte takes no column).
std::string FitColumns(std::string s, size_t columns) {
  size_t seen = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) == 0x80) continue;
    if (++seen > columns) {
      s.resize(i);
      break;
    }
  }
  return s;
}

}  // namespace

double ParallelCapacity(const CapacityOptions& o) {
  const int n_threads = UsableCores();
  if (n_threads <= 1) return 1.0;
  const Stopwatch since;
  const int64_t n = IterationsFor(o.share_seconds);
  std::vector<int64_t> results(static_cast<size_t>(n_threads));
  const std::function<void(int)> share = [&](int i) {
    results[static_cast<size_t>(i)] = cpu_intensivo(n);
  };
  Team team(n_threads);
  std::vector<double> serial, parallel;
  for (int pair = 0; MorePairs(pair, o.min_pairs, o.max_pairs, since, o.budget_seconds); ++pair) {
    const Stopwatch w;
    for (int i = 0; i < n_threads; ++i) share(i);
    serial.push_back(w.ElapsedSeconds());
    parallel.push_back(team.Run(share));
  }
  return std::min<double>(n_threads, Median(serial) / Median(parallel));
}

double CapacityFor(std::span<const int64_t> inputs, const TaskFn& task, int threads,
                   const CapacityForOptions& o) {
  const int used = static_cast<int>(std::min<size_t>(static_cast<size_t>(std::max(threads, 0)), inputs.size()));
  if (threads >= 1 && used <= 1) return 1.0;
  return MeasureBatchCapacity(inputs, task, threads, o).capacity;
}

BatchCapacity MeasureBatchCapacity(std::span<const int64_t> inputs, const TaskFn& task, int threads,
                                   const CapacityForOptions& o) {
  if (threads < 1) {
    throw std::invalid_argument("CapacityFor: threads must be >= 1, got " + std::to_string(threads));
  }
  const int used = static_cast<int>(std::min<size_t>(static_cast<size_t>(threads), inputs.size()));
  const Stopwatch since;
  const size_t size = inputs.size();
  if (size == 0) return {1.0, 0.0};
  std::vector<int64_t> serial_out(size);
  // One pass, not counted, sizes the rounds: `passes` times the batch makes a round of at least
  // round_seconds.
  const Stopwatch first;
  for (size_t i = 0; i < size; ++i) serial_out[i] = task(inputs[i]);
  const double pass_seconds = first.ElapsedSeconds();
  const auto passes = static_cast<size_t>(std::clamp(
      std::ceil(o.round_seconds / std::max(pass_seconds, 1e-9)), 1.0, 1e6));
  const auto serial_round = [&] {
    const Stopwatch w;
    for (size_t p = 0; p < passes; ++p) {
      for (size_t i = 0; i < size; ++i) serial_out[i] = task(inputs[i]);
    }
    return w.ElapsedSeconds();
  };
  if (used <= 1) {  // nothing to split: the serial time alone
    std::vector<double> serial;
    for (int round = 0; MorePairs(round, o.min_pairs, o.max_pairs, since, o.budget_seconds); ++round) {
      serial.push_back(serial_round());
    }
    return {1.0, Median(serial) / static_cast<double>(passes)};
  }
  // The parallel round: every member of the team runs `passes` ÷ used whole passes of the batch
  // (passes rounded up to a multiple of used), as the probe's threads run equal shares.
  const size_t per_member = (passes + static_cast<size_t>(used) - 1) / static_cast<size_t>(used);
  std::vector<std::vector<int64_t>> parallel_out(static_cast<size_t>(used), std::vector<int64_t>(size));
  const std::function<void(int)> run_share = [&](int member) {
    std::vector<int64_t>& out = parallel_out[static_cast<size_t>(member)];
    for (size_t p = 0; p < per_member; ++p) {
      for (size_t i = 0; i < size; ++i) out[i] = task(inputs[i]);
    }
  };
  Team team(used);
  std::vector<double> serial, parallel;
  for (int pair = 0; MorePairs(pair, o.min_pairs, o.max_pairs, since, o.budget_seconds); ++pair) {
    serial.push_back(serial_round());
    parallel.push_back(team.Run(run_share));
    for (const std::vector<int64_t>& out : parallel_out) {
      if (out != serial_out) {
        throw std::logic_error("CapacityFor: a task gave different results on the team's threads");
      }
    }
  }
  const double serial_seconds = Median(serial) / static_cast<double>(passes);
  // The serial round ran `passes` passes; the team ran per_member × used of them.
  const double ratio = serial_seconds * static_cast<double>(per_member * static_cast<size_t>(used)) /
                       Median(parallel);
  if (!(ratio > 0)) return {1.0, serial_seconds};  // tasks too short for the clock: nothing to compare
  return {std::min(ratio, static_cast<double>(used)), serial_seconds};
}

double MachineIdealSeconds(const std::vector<double>& task_seconds, int64_t workers,
                           int64_t chunksize, double capacity) {
  if (!(capacity > 0)) {
    throw std::invalid_argument("MachineIdealSeconds: capacity must be > 0, got " +
                                Fixed(capacity, 3));
  }
  if (workers < 1) throw std::invalid_argument("MachineIdealSeconds: workers must be >= 1");
  const int64_t k = std::min<int64_t>(workers, UsableCores());
  return BatchIdealSeconds(task_seconds, 0, 0, {.lanes = k, .cpu_slots = k, .chunksize = chunksize}, capacity);
}

namespace {

struct CoreRounds {
  double cv = MachineProbe::kUnknown;
  double ns_per_step = MachineProbe::kUnknown;
};

// One fixed serial cpu_intensivo loop of about `round_seconds`, timed round after round for
// `budget_seconds` (at least 5 rounds): how much the rounds vary, and how fast the median one ran.
CoreRounds TimeCoreRounds(double budget_seconds, double round_seconds) {
  const Stopwatch since;
  const int64_t n = IterationsFor(round_seconds);
  std::vector<double> t;
  while (t.size() < 5 || since.ElapsedSeconds() < budget_seconds) {
    const Stopwatch w;
    cpu_intensivo(n);
    t.push_back(w.ElapsedSeconds());
  }
  const double mean = std::accumulate(t.begin(), t.end(), 0.0) / static_cast<double>(t.size());
  double sq = 0;
  for (double x : t) sq += (x - mean) * (x - mean);
  return {.cv = std::sqrt(sq / static_cast<double>(t.size() - 1)) / mean,
          .ns_per_step = Median(t) * 1e9 / static_cast<double>(n)};
}

}  // namespace

double NoiseCv(double budget_seconds, double round_seconds) {
  return TimeCoreRounds(budget_seconds, round_seconds).cv;
}

double WakeupRoundTripMicros(int round_trips) {
  std::mutex mu;
  std::condition_variable to_b, to_a;
  bool b_turn = false;
  bool stop = false;
  std::thread b([&] {
    std::unique_lock lock(mu);
    for (;;) {
      to_b.wait(lock, [&] { return b_turn || stop; });
      if (stop) return;
      b_turn = false;
      lock.unlock();
      to_a.notify_one();
      lock.lock();
    }
  });
  const auto round_trip = [&] {
    {
      std::lock_guard lock(mu);
      b_turn = true;
    }
    to_b.notify_one();
    std::unique_lock lock(mu);
    to_a.wait(lock, [&] { return !b_turn; });
  };
  for (int i = 0; i < 10; ++i) round_trip();
  std::vector<double> us;
  const Stopwatch since;
  for (int i = 0; i < round_trips && since.ElapsedSeconds() < 0.2; ++i) {
    const Stopwatch w;
    round_trip();
    us.push_back(w.ElapsedSeconds() * 1e6);
  }
  {
    std::lock_guard lock(mu);
    stop = true;
  }
  to_b.notify_one();
  b.join();
  return Median(us);
}

double SleepOvershootMicros(int sleeps) {
  double total_us = 0;
  for (int i = 0; i < sleeps; ++i) {
    timespec want{0, 1'000'000};
    timespec left{};
    const Stopwatch w;
    int rc;
    while ((rc = clock_nanosleep(CLOCK_MONOTONIC, 0, &want, &left)) == EINTR) want = left;
    if (rc != 0) return MachineProbe::kUnknown;
    total_us += w.ElapsedSeconds() * 1e6 - 1000.0;
  }
  return sleeps > 0 ? total_us / sleeps : MachineProbe::kUnknown;
}

double ForkMicros(int forks) {
  FlushBeforeFork();
  std::vector<double> us;
  for (int i = 0; i < forks; ++i) {
    const Stopwatch w;
    const pid_t pid = fork();
    if (pid < 0) return MachineProbe::kUnknown;
    if (pid == 0) _exit(0);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    us.push_back(w.ElapsedSeconds() * 1e6);
  }
  return Median(us);
}

std::vector<int> ParseCpuList(std::string_view text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.remove_suffix(1);
  std::vector<int> cpus;
  const auto number = [](std::string_view s, int* out) {
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
    return ec == std::errc() && end == s.data() + s.size() && *out >= 0;
  };
  while (!text.empty()) {
    const size_t comma = text.find(',');
    const std::string_view item = text.substr(0, comma);
    const size_t dash = item.find('-');
    int first = 0, last = 0;
    if (!number(item.substr(0, dash), &first)) return {};
    if (dash == std::string_view::npos) {
      last = first;
    } else if (!number(item.substr(dash + 1), &last) || last < first) {
      return {};
    }
    for (int c = first; c <= last; ++c) cpus.push_back(c);
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
    if (text.empty()) return {};  // a trailing comma
  }
  return cpus;
}

std::string SmtSiblings() {
  const std::vector<int> cpus = AffinityCpus();
  if (cpus.empty()) return "unknown";
  bool unreadable = false;
  for (int c : cpus) {
    const std::vector<int> siblings =
        ParseCpuList(ReadFirstLine(CpuPath(c, "topology/thread_siblings_list")));
    if (siblings.empty()) {
      unreadable = true;
      continue;
    }
    for (int s : siblings) {
      if (s != c && std::binary_search(cpus.begin(), cpus.end(), s)) return "yes";
    }
  }
  return unreadable ? "unknown" : "no";
}

MachineProbe ProbeMachine() {
  const Stopwatch since;
  MachineProbe p;
  // The load first, before the probe's own work adds to it.
  p.load = LoadAverage();
  p.usable_cores = UsableCores();
  p.online_cpus = std::max(1, static_cast<int>(sysconf(_SC_NPROCESSORS_ONLN)));
  p.smt = SmtSiblings();
  p.governor = Governor(AffinityCpus());
  p.turbo = Turbo();
  ReadVirtualization(&p);
  p.wakeup_us = WakeupRoundTripMicros();
  p.sleep_overshoot_us = SleepOvershootMicros();
  p.fork_us = ForkMicros();
  p.parallel_capacity = ParallelCapacity();
  const CoreRounds core = TimeCoreRounds(0.8, 0.005);  // NoiseCv()'s defaults
  p.noise_cv = core.cv;
  p.core_ns_per_step = core.ns_per_step;
  p.seconds = since.ElapsedSeconds();
  return p;
}

MachineProbe ProbeEnd() {
  const Stopwatch since;
  MachineProbe p;
  p.full = false;
  p.usable_cores = UsableCores();
  p.parallel_capacity = ParallelCapacity({.budget_seconds = 0.3});
  const CoreRounds core = TimeCoreRounds(0.4, 0.005);
  p.noise_cv = core.cv;
  p.core_ns_per_step = core.ns_per_step;
  p.seconds = since.ElapsedSeconds();
  return p;
}

std::vector<std::pair<std::string, std::string>> ContextEntries(const MachineProbe& p,
                                                                std::string_view suffix) {
  std::vector<std::pair<std::string, std::string>> out;
  const auto add = [&](const char* key, std::string value) {
    out.emplace_back(std::string(key) + std::string(suffix), std::move(value));
  };
  add("machine_parallel_capacity", Fixed(p.parallel_capacity, 2));
  add("machine_noise_cv", Fixed(p.noise_cv, 4));
  add("machine_core_ns_per_step", Fixed(p.core_ns_per_step, 4));
  if (!p.full) return out;
  add("machine_smt", p.smt);
  add("machine_wakeup_us", Fixed(p.wakeup_us, 1));
  add("machine_sleep_overshoot_us", Fixed(p.sleep_overshoot_us, 1));
  add("machine_fork_us", Fixed(p.fork_us, 1));
  add("machine_load", Fixed(p.load, 2));
  add("machine_governor", p.governor);
  add("machine_turbo", p.turbo);
  add("machine_virtualized", p.virtualized);
  add("machine_usable_cores", std::to_string(p.usable_cores));
  return out;
}

std::string ProbeCard(const MachineProbe& p) {
  std::vector<std::string> lines;
  const auto row = [&](const char* label, const std::string& value) {
    std::string l = std::string("  ") + label;
    l.resize(std::max<size_t>(l.size() + 1, 22), ' ');
    lines.push_back(l + value);
  };
  lines.push_back(std::string(p.full ? "machine probe" : "machine probe at the end") + ", " +
                  Fixed(p.seconds, 1) + " s (what this machine gave just now)");
  const std::string cores = std::to_string(p.usable_cores);
  const bool one = p.usable_cores == 1;
  row("parallel capacity",
      Fixed(p.parallel_capacity, 2) + " of " + cores + (one ? " usable core" : " usable cores") + " (CPU work)");
  row("noise (cv)", Fixed(p.noise_cv * 100, 1) + " % (one core, rounds of 5 ms)");
  if (p.full) {
    row("wake-up round trip", Fixed(p.wakeup_us, 1) + " µs between two threads");
    row("sleep overshoot", Fixed(p.sleep_overshoot_us, 1) + " µs on a 1 ms sleep");
    row("fork + wait", Fixed(p.fork_us, 0) + " µs");
    row("load (1 min)", Fixed(p.load, 2) + " on " + std::to_string(p.online_cpus) + " online CPUs");
    row("SMT siblings", p.smt);
    row("governor, turbo", p.governor + ", " + p.turbo);
    row("virtualised", p.virtualized + (p.hypervisor.empty() ? "" : " (" + p.hypervisor + ")"));
  }
  if (p.usable_cores > 1 && p.parallel_capacity < 1) {
    lines.push_back("  warning: splitting CPU work over " + cores + " threads was " +
                    Fixed(1 / p.parallel_capacity, 2) + "× slower than one");
  } else if (p.parallel_capacity < 0.8 * p.usable_cores) {
    lines.push_back("  warning: only " + Fixed(p.parallel_capacity, 2) + " of " + cores +
                    (one ? " core is" : " cores are") + " free for CPU work; parallel runs slow down");
  }
  if (p.noise_cv > 0.05) {
    lines.push_back("  warning: one core's speed varies by " + Fixed(p.noise_cv * 100, 1) +
                    " % between rounds; use repetitions");
  }
  if (p.full && p.load > p.online_cpus) {
    lines.push_back("  warning: load " + Fixed(p.load, 2) + " is above the " +
                    std::to_string(p.online_cpus) + " CPUs: other work is running here");
  }
  if (p.full && p.smt == "yes") {
    lines.push_back("  warning: some usable CPUs are two halves of one core (SMT)");
  }
  if (p.full && p.virtualized == "yes") {
    lines.push_back("  warning: a virtual machine: the host may lend these CPUs to others");
  }
  std::string card;
  for (const auto& l : lines) card += FitColumns(l, 80) + "\n";
  return card;
}

namespace {

double MeasureNsPerStep() {
  constexpr int64_t kWarmupSteps = 200'000;
  volatile int64_t sink = cpu_intensivo(kWarmupSteps);
  Stopwatch probe;
  sink = cpu_intensivo(kWarmupSteps);
  const double probe_ns = std::max(probe.ElapsedSeconds() * 1e9 / kWarmupSteps, 0.1);
  const auto steps = static_cast<int64_t>(2e6 / probe_ns);  // ~2 ms a run
  std::vector<double> ns;
  for (int i = 0; i < 7; ++i) {
    Stopwatch w;
    sink = cpu_intensivo(steps);
    ns.push_back(w.ElapsedSeconds() * 1e9 / static_cast<double>(steps));
  }
  (void)sink;
  std::nth_element(ns.begin(), ns.begin() + 3, ns.end());
  return ns[3];
}

}  // namespace

double CpuIntensivoNsPerStep() {
  static const double ns = MeasureNsPerStep();
  return ns;
}

int64_t CpuIntensivoStepsFor(double microseconds) {
  if (microseconds <= 0) return 0;
  return std::max<int64_t>(1, std::llround(microseconds * 1e3 / CpuIntensivoNsPerStep()));
}

}  // namespace concbench
