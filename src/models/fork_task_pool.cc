#include "models/fork_task_pool.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/resource.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <exception>
#include <iostream>
#include <stdexcept>
#include <system_error>
#include <thread>
#include <utility>

namespace concbench {
namespace {

constexpr uint8_t kOk = 0;
constexpr uint8_t kError = 1;

bool ReadAll(int fd, void* p, size_t n) {
  auto* b = static_cast<char*>(p);
  while (n > 0) {
    const ssize_t r = read(fd, b, n);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    b += r;
    n -= static_cast<size_t>(r);
  }
  return true;
}

bool WriteAll(int fd, const void* p, size_t n) {
  const auto* b = static_cast<const char*>(p);
  while (n > 0) {
    const ssize_t w = write(fd, b, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    b += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

std::string DescribeStatus(int status) {
  if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) {
    const char* name = sigabbrev_np(WTERMSIG(status));
    return "killed by signal " + std::to_string(WTERMSIG(status)) + " (" + (name ? name : "?") + ")";
  }
  return "wait status " + std::to_string(status);
}

// Waits for `pid` up to `grace`, then kills it; returns its wait status.
int Reap(pid_t pid, std::chrono::milliseconds grace) {
  int status = 0;
  const auto deadline = std::chrono::steady_clock::now() + grace;
  while (true) {
    const pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) return status;
    if (r < 0 && errno != EINTR) return 0;  // not our child any more: nothing to reap
    if (std::chrono::steady_clock::now() >= deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  kill(pid, SIGKILL);
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return status;
}

void CloseFd(int* fd) {
  if (*fd >= 0) close(std::exchange(*fd, -1));
}

[[noreturn]] void ChildLoop(int task_fd, int result_fd, const TaskFn& task) {
  while (true) {
    int64_t input = 0;
    if (!ReadAll(task_fd, &input, sizeof input)) _exit(0);  // parent closed the pipe: done
    std::string error;
    int64_t value = 0;
    try {
      value = task(input);
    } catch (const std::exception& e) {
      error = e.what();
    } catch (...) {
      error = "unknown exception";
    }
    std::string reply;
    if (error.empty()) {
      rusage ru{};
      getrusage(RUSAGE_SELF, &ru);
      const uint64_t usage[2] = {
          static_cast<uint64_t>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1'000'000'000u +
              static_cast<uint64_t>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1'000u,
          static_cast<uint64_t>(ru.ru_nvcsw + ru.ru_nivcsw)};
      reply.push_back(static_cast<char>(kOk));
      reply.append(reinterpret_cast<const char*>(&value), sizeof value);
      reply.append(reinterpret_cast<const char*>(usage), sizeof usage);
    } else {
      const auto len = static_cast<uint32_t>(std::min<size_t>(error.size(), 64 * 1024));
      reply.push_back(static_cast<char>(kError));
      reply.append(reinterpret_cast<const char*>(&len), sizeof len);
      reply.append(error, 0, len);
    }
    if (!WriteAll(result_fd, reply.data(), reply.size())) _exit(1);
  }
}

}  // namespace

ForkTaskPool::ForkTaskPool(int workers, TaskFn task) : task_(std::move(task)) {
  if (workers < 1) throw std::invalid_argument("ForkTaskPool: workers must be >= 1, got " + std::to_string(workers));
  struct sigaction old {};
  if (sigaction(SIGPIPE, nullptr, &old) == 0 && old.sa_handler == SIG_DFL) signal(SIGPIPE, SIG_IGN);
  for (int w = 0; w < workers; ++w) {
    int to_child[2], from_child[2];
    if (pipe2(to_child, O_CLOEXEC) != 0) {
      const int err = errno;
      Shutdown();
      throw std::system_error(err, std::generic_category(), "ForkTaskPool: pipe2");
    }
    if (pipe2(from_child, O_CLOEXEC) != 0) {
      const int err = errno;
      close(to_child[0]);
      close(to_child[1]);
      Shutdown();
      throw std::system_error(err, std::generic_category(), "ForkTaskPool: pipe2");
    }
    std::fflush(nullptr);
    std::cout.flush();
    std::cerr.flush();
    const pid_t pid = fork();
    if (pid < 0) {
      const int err = errno;
      for (int fd : {to_child[0], to_child[1], from_child[0], from_child[1]}) close(fd);
      Shutdown();
      throw std::system_error(err, std::generic_category(), "ForkTaskPool: fork");
    }
    if (pid == 0) {
      // The child keeps only its own two pipe ends, so each worker sees end-of-file as soon as
      // the parent closes its task pipe.
      for (Worker& other : workers_) {
        close(other.task_fd);
        close(other.result_fd);
      }
      close(to_child[1]);
      close(from_child[0]);
      ChildLoop(to_child[0], from_child[1], task_);
    }
    close(to_child[0]);
    close(from_child[1]);
    workers_.push_back({pid, to_child[1], from_child[0]});
  }
}

ForkTaskPool::~ForkTaskPool() { Shutdown(); }

void ForkTaskPool::Shutdown() {
  for (Worker& w : workers_) CloseFd(&w.task_fd);
  for (Worker& w : workers_) {
    if (w.pid > 0) Reap(std::exchange(w.pid, 0), std::chrono::milliseconds(5000));
    CloseFd(&w.result_fd);
  }
  if (broken_.empty()) broken_ = "the pool was shut down";
}

void ForkTaskPool::Break(const std::string& why) {
  for (Worker& w : workers_) {
    if (w.pid > 0) kill(w.pid, SIGKILL);
  }
  for (Worker& w : workers_) {
    CloseFd(&w.task_fd);
    if (w.pid > 0) Reap(std::exchange(w.pid, 0), std::chrono::milliseconds(1000));
    CloseFd(&w.result_fd);
  }
  broken_ = why;
  throw std::runtime_error("ForkTaskPool: " + why);
}

std::vector<int64_t> ForkTaskPool::Map(std::span<const int64_t> inputs) {
  if (!broken_.empty()) throw std::logic_error("ForkTaskPool: unusable: " + broken_);
  const size_t n = inputs.size();
  std::vector<int64_t> results(n, 0);
  std::vector<long> running(workers_.size(), -1);  // input index per worker, -1 when idle
  size_t next = 0, outstanding = 0;
  std::string first_error;
  auto give = [&](size_t w) {
    if (!WriteAll(workers_[w].task_fd, &inputs[next], sizeof(int64_t))) {
      const int err = errno;
      Break("worker " + std::to_string(w) + " (pid " + std::to_string(workers_[w].pid) +
            ") does not take tasks: write: " + std::strerror(err));
    }
    running[w] = static_cast<long>(next++);
    ++outstanding;
  };
  for (size_t w = 0; w < workers_.size() && next < n; ++w) give(w);

  std::vector<pollfd> fds;
  std::vector<size_t> who;
  while (outstanding > 0) {
    fds.clear();
    who.clear();
    for (size_t w = 0; w < workers_.size(); ++w) {
      if (running[w] >= 0) {
        fds.push_back({workers_[w].result_fd, POLLIN, 0});
        who.push_back(w);
      }
    }
    if (poll(fds.data(), fds.size(), -1) < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      Break(std::string("poll: ") + std::strerror(err));
    }
    for (size_t k = 0; k < fds.size(); ++k) {
      if (fds[k].revents == 0) continue;
      const size_t w = who[k];
      const std::string name = "worker " + std::to_string(w) + " (pid " + std::to_string(workers_[w].pid) + ")";
      uint8_t status = 0;
      int64_t value = 0;
      uint64_t usage[2] = {0, 0};
      uint32_t len = 0;
      std::string message;
      const bool ok = ReadAll(workers_[w].result_fd, &status, 1) &&
                      (status == kOk ? ReadAll(workers_[w].result_fd, &value, sizeof value) &&
                                           ReadAll(workers_[w].result_fd, usage, sizeof usage)
                                     : ReadAll(workers_[w].result_fd, &len, sizeof len) &&
                                           (message.resize(len), ReadAll(workers_[w].result_fd, message.data(), len)));
      if (!ok) {
        const pid_t pid = std::exchange(workers_[w].pid, 0);
        Break(name + " died while running input " + std::to_string(inputs[static_cast<size_t>(running[w])]) +
              ": " + DescribeStatus(Reap(pid, std::chrono::milliseconds(1000))));
      }
      const auto index = static_cast<size_t>(running[w]);
      running[w] = -1;
      --outstanding;
      if (status == kOk) {
        results[index] = value;
        workers_[w].cpu_ns = usage[0];
        workers_[w].ctx_switches = usage[1];
      } else if (first_error.empty()) {
        first_error = name + ", input " + std::to_string(inputs[index]) + ": " + message;
      }
      if (next < n && first_error.empty()) give(w);
    }
  }
  if (!first_error.empty()) throw std::runtime_error(first_error);
  return results;
}

WorkerTotals ForkTaskPool::worker_totals() const {
  WorkerTotals t;
  for (const Worker& w : workers_) {
    t.cpu_seconds += static_cast<double>(w.cpu_ns) / 1e9;
    t.ctx_switches += static_cast<int64_t>(w.ctx_switches);
  }
  return t;
}

}  // namespace concbench
