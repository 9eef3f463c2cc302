// Shared-state increments: the notebook's section 2.1 ("carrera y Lock") in four variants.
//
// `threads` threads each add 1 to one shared counter `increments` times; the expected total is
// threads × increments. The variants differ only in how an increment reaches the counter:
//
//   kRace    a relaxed atomic load, then a relaxed atomic store of the value + 1. Two threads
//            can read the same value and both store value + 1, so updates are lost exactly as
//            with Python's `contador += 1`, but with no data race in the C++ sense (no UB).
//   kMutex   a std::mutex held around a plain increment (the notebook's `with lock:`).
//   kAtomic  std::atomic::fetch_add, one indivisible read-modify-write per increment.
//   kLocal   each thread counts in a local variable and adds its total once at the end; the
//            shared counter is touched `threads` times instead of threads × increments times.
//
// All threads are started first and released together by a latch, so they contend for the
// counter from the first increment (the notebook's threads start one after another, which
// gives the first a head start). RunCounter is thread-safe: every call has its own counter.
//
//   CounterResult r = RunCounter(CounterMode::kRace, /*threads=*/2, /*increments=*/100'000);
//   r.expected;  // 200000
//   r.lost();    // expected − obtained: ≥ 0, and 0 for every variant but kRace
#pragma once

#include <cstdint>
#include <string_view>

namespace concbench {

enum class CounterMode { kRace, kMutex, kAtomic, kLocal };

inline constexpr CounterMode kAllCounterModes[] = {CounterMode::kRace, CounterMode::kMutex,
                                                   CounterMode::kAtomic, CounterMode::kLocal};

// "race", "mutex", "atomic" or "local": the variant part of a benchmark name.
std::string_view CounterVariant(CounterMode mode);

struct CounterResult {
  int64_t expected = 0;  // threads × increments
  int64_t obtained = 0;  // the counter's final value
  int64_t lost() const { return expected - obtained; }
};

// Runs the variant on `threads` new std::threads and joins them. threads and increments must be
// ≥ 1 (std::invalid_argument otherwise).
CounterResult RunCounter(CounterMode mode, int threads, int64_t increments);

}  // namespace concbench
