#include "workload/counter.h"

#include <atomic>
#include <latch>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace concbench {
namespace {

// One increment loop per mode. `counter` is shared by all threads of a run.
void Increment(CounterMode mode, std::atomic<int64_t>& counter, int64_t& guarded, std::mutex& mu,
               int64_t increments) {
  switch (mode) {
    case CounterMode::kRace:
      for (int64_t k = 0; k < increments; ++k) {
        // Read, then write back read + 1: another thread's store in between is overwritten.
        counter.store(counter.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
      }
      break;
    case CounterMode::kMutex:
      for (int64_t k = 0; k < increments; ++k) {
        std::lock_guard lock(mu);
        ++guarded;
      }
      break;
    case CounterMode::kAtomic:
      for (int64_t k = 0; k < increments; ++k) counter.fetch_add(1, std::memory_order_relaxed);
      break;
    case CounterMode::kLocal: {
      // volatile keeps one add per increment, as in the other variants, instead of letting the
      // compiler replace the loop by `local = increments`.
      volatile int64_t local = 0;
      for (int64_t k = 0; k < increments; ++k) local = local + 1;
      counter.fetch_add(local, std::memory_order_relaxed);
      break;
    }
  }
}

}  // namespace

std::string_view CounterVariant(CounterMode mode) {
  switch (mode) {
    case CounterMode::kRace: return "race";
    case CounterMode::kMutex: return "mutex";
    case CounterMode::kAtomic: return "atomic";
    case CounterMode::kLocal: return "local";
  }
  return "?";
}

CounterResult RunCounter(CounterMode mode, int threads, int64_t increments) {
  if (threads < 1) {
    throw std::invalid_argument("RunCounter: threads must be >= 1, got " + std::to_string(threads));
  }
  if (increments < 1) {
    throw std::invalid_argument("RunCounter: increments must be >= 1, got " +
                                std::to_string(increments));
  }
  std::atomic<int64_t> counter{0};
  int64_t guarded = 0;  // the kMutex counter, guarded by mu
  std::mutex mu;
  std::latch start(threads);
  std::vector<std::jthread> pool;
  pool.reserve(static_cast<size_t>(threads));
  int started = 0;
  try {
    for (; started < threads; ++started) {
      pool.emplace_back([&] {
        start.arrive_and_wait();
        Increment(mode, counter, guarded, mu, increments);
      });
    }
  } catch (...) {
    // Release the threads already waiting so the jthreads can be joined, then report the error.
    start.count_down(threads - started);
    throw;
  }
  for (auto& t : pool) t.join();
  CounterResult r;
  r.expected = static_cast<int64_t>(threads) * increments;
  r.obtained = mode == CounterMode::kMutex ? guarded : counter.load();
  return r;
}

}  // namespace concbench
