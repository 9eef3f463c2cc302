// The `echo` families: real I/O. Every task is one request/reply over loopback TCP with the echo
// server (workload/echo_server.h), which answers each request `delay_ms` after it arrived, with a
// libuv timer, so the server never limits concurrency. The server starts in setup, outside the
// timed loop, one per benchmark, and is stopped (every handle closed, thread joined) at the end.
//
//   sync/echo/tasks:T/delay_ms:D/payload:P             T requests one after another, each on a
//                                                      new connection; ideal = T·D
//   sync.keepalive/echo/tasks:T/delay_ms:D/payload:P   the same over one connection opened in
//                                                      setup; ideal = T·D
//   threads/echo/tasks:T/workers:W/delay_ms:D/payload:P   the T tasks on a W-thread pool
//                                                      (models/thread_pool.h), each on a new
//                                                      blocking connection; ideal = ⌈T/W⌉·D
//   threads.keepalive/echo/...                         each of the W workers keeps one connection
//                                                      (opened in setup) and takes tasks from a
//                                                      shared counter; ideal = ⌈T/W⌉·D
//   async/echo/tasks:T/delay_ms:D/payload:P            T libuv connections all in flight at once
//                                                      on one loop (models/async_echo.h); ideal = D
//   async.keepalive/echo/tasks:T/delay_ms:D/payload:P  the same over T connections opened in
//                                                      setup and kept; ideal = D
//   processes/echo/tasks:T/workers:W/delay_ms:D/payload:P   the T tasks on W worker processes
//                                                      forked in setup (models/process_pool.h, the
//                                                      client inherited as TaskKind::kInherited, one
//                                                      task per worker at a time), each connecting
//                                                      on its own; ideal = ⌈T/W⌉·D
//   sync.bare/echo/tasks:T/delay_ms:D/payload:P        T round trips, one after another, on a
//                                                      kept-open blocking socket to a plain
//                                                      blocking thread (no libuv): the floor of a
//                                                      loopback round trip; ideal = T·D
//
// Counters: the model counters of bench/counters.h (checksum = Σ over tasks of length + Σ bytes
// of the reply, after each reply was compared byte for byte with its request), plus
//   request_us   measured wall time per iteration / tasks, microseconds: what one request cost
//                the model, all waiting included (at delay_ms:0, the per-request overhead).
// A failed connect, a reset, a short read, a timeout or a wrong reply ends the benchmark with
// the client's error message (workload/echo_client.h).
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "counters.h"
#include "measure/ideal.h"
#include "models/async_echo.h"
#include "models/process_pool.h"
#include "models/thread_pool.h"
#include "registry.h"
#include "workload/echo_client.h"
#include "workload/echo_protocol.h"
#include "workload/echo_server.h"

namespace concbench {
namespace {

using std::chrono::milliseconds;

// Client timeouts: generous next to any delay the suites use, short enough that a fault ends a
// run in seconds rather than hanging it.
EchoClientOptions ClientOptions(int64_t delay_ms) {
  return {.connect_timeout = milliseconds(5'000), .io_timeout = milliseconds(delay_ms + 10'000)};
}

double Seconds(int64_t delay_ms) { return static_cast<double>(delay_ms) / 1e3; }

// Descriptors one batch of T concurrent connections needs in this process: T client sockets, T
// server sockets, and room for everything else already open.
int64_t DescriptorsNeeded(int64_t concurrent) { return 2 * concurrent + 64; }

int64_t DescriptorLimit() {
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY) return INT64_MAX;
  return static_cast<int64_t>(rl.rlim_cur);
}

// The largest of the sweep's async task counts that fits the descriptor limit (main.cpp has
// raised the soft limit to the hard one before families register).
int64_t LargestAsyncTasks() {
  for (const int64_t t : {10'000, 8'000, 5'000, 2'000}) {
    if (DescriptorsNeeded(t) <= DescriptorLimit()) return t;
  }
  return 1'000;
}

struct Run {
  int64_t mismatches = 0;
  int64_t wrong = 0;
};

// The timed loop shared by every family: `iteration` returns one iteration's checksum or throws.
// Returns false (the benchmark already failed) on an exception or a checksum mismatch.
template <class F>
bool TimedLoop(benchmark::State& state, const EchoBatch& batch, Meter* meter, F&& iteration) {
  Run run;
  meter->Start();
  try {
    for (auto _ : state) {
      const int64_t sum = iteration();
      if (sum != batch.expected_checksum()) ++run.mismatches, run.wrong = sum;
    }
  } catch (const std::exception& e) {
    meter->Stop();
    return Fail(state, e.what());
  }
  meter->Stop();
  return VerifyChecksums(state, run.mismatches, run.wrong, batch.expected_checksum());
}

bool Finish(benchmark::State& state, const Meter& meter, const EchoBatch& batch, double ideal_s,
            EchoServer* server) {
  if (server != nullptr) {
    if (const std::string err = server->Stop(); !err.empty()) {
      return Fail(state, "echo server did not stop cleanly: " + err);
    }
  }
  SetModelCounters(state, meter, ideal_s, batch.expected_checksum());
  const double iterations = static_cast<double>(std::max<benchmark::IterationCount>(1, state.iterations()));
  state.counters["request_us"] =
      batch.tasks() > 0 ? meter.wall_seconds() / iterations / static_cast<double>(batch.tasks()) * 1e6 : 0;
  state.SetItemsProcessed(state.iterations() * batch.tasks());
  state.SetBytesProcessed(state.iterations() * batch.tasks() * static_cast<int64_t>(batch.payload_bytes()) * 2);
  return true;
}

// Starts the server for one benchmark; fails the benchmark and returns nothing if it cannot.
std::unique_ptr<EchoServer> StartServer(benchmark::State& state, int64_t delay_ms) {
  try {
    return std::make_unique<EchoServer>(EchoServerOptions{.delay = milliseconds(delay_ms)});
  } catch (const std::exception& e) {
    Fail(state, e.what());
    return nullptr;
  }
}

// Arguments: tasks, delay_ms, payload.
void SyncEcho(benchmark::State& state, bool keepalive) {
  const int64_t tasks = state.range(0), delay_ms = state.range(1);
  const EchoBatch batch(tasks, static_cast<size_t>(state.range(2)));
  auto server = StartServer(state, delay_ms);
  if (!server) return;
  const sockaddr_in addr = server->address();
  const EchoClientOptions copts = ClientOptions(delay_ms);
  std::optional<EchoConnection> conn;
  if (keepalive) {
    try {
      conn.emplace(EchoConnection::Connect(addr, copts));
    } catch (const std::exception& e) {
      Fail(state, e.what());
      return;
    }
  }
  Meter meter;
  const bool ok = TimedLoop(state, batch, &meter, [&] {
    int64_t sum = 0;
    for (int64_t i = 0; i < tasks; ++i) {
      sum += keepalive ? conn->Echo(batch.payload(i)) : EchoOnce(addr, batch.payload(i), copts);
    }
    return sum;
  });
  if (!ok) return;
  conn.reset();
  Finish(state, meter, batch, static_cast<double>(tasks) * Seconds(delay_ms), server.get());
}

// Arguments: tasks, workers, delay_ms, payload.
void ThreadsEcho(benchmark::State& state, bool keepalive) {
  const int64_t tasks = state.range(0), workers = state.range(1), delay_ms = state.range(2);
  const EchoBatch batch(tasks, static_cast<size_t>(state.range(3)));
  if (DescriptorsNeeded(workers) > DescriptorLimit()) {
    Fail(state, "workers:" + std::to_string(workers) + " needs about " +
                    std::to_string(DescriptorsNeeded(workers)) + " descriptors; RLIMIT_NOFILE is " +
                    std::to_string(DescriptorLimit()));
    return;
  }
  auto server = StartServer(state, delay_ms);
  if (!server) return;
  const sockaddr_in addr = server->address();
  const EchoClientOptions copts = ClientOptions(delay_ms);
  std::optional<ThreadPool> pool;
  try {
    pool.emplace(static_cast<int>(workers));
  } catch (const std::exception& e) {
    Fail(state, std::string("thread pool: ") + e.what());
    return;
  }
  std::vector<EchoConnection> conns;
  std::vector<int64_t> worker_ids(static_cast<size_t>(workers));
  for (int64_t w = 0; w < workers; ++w) worker_ids[static_cast<size_t>(w)] = w;
  if (keepalive) {
    try {
      for (int64_t w = 0; w < workers; ++w) conns.push_back(EchoConnection::Connect(addr, copts));
    } catch (const std::exception& e) {
      Fail(state, e.what());
      return;
    }
  }
  Meter meter;
  const bool ok = TimedLoop(state, batch, &meter, [&]() -> int64_t {
    if (!keepalive) {
      return Checksum(pool->map([&](int64_t i) { return EchoOnce(addr, batch.payload(i), copts); },
                               batch.inputs(), /*chunksize=*/1));
    }
    // One long task per worker, each on its own connection, taking the next task index from a
    // shared counter: the pool's first-free-worker policy, without a connect per task.
    std::atomic<int64_t> next{0};
    return Checksum(pool->map(
        [&](int64_t w) {
          int64_t sum = 0;
          for (int64_t i = next.fetch_add(1); i < tasks; i = next.fetch_add(1)) {
            sum += conns[static_cast<size_t>(w)].Echo(batch.payload(i));
          }
          return sum;
        },
        worker_ids, /*chunksize=*/1));
  });
  if (!ok) return;
  conns.clear();
  pool->shutdown();
  Finish(state, meter, batch, UniformMakespan(tasks, Seconds(delay_ms), workers, 1), server.get());
}

// Arguments: tasks, delay_ms, payload.
void AsyncEcho(benchmark::State& state) {
  const int64_t tasks = state.range(0), delay_ms = state.range(1);
  const EchoBatch batch(tasks, static_cast<size_t>(state.range(2)));
  if (DescriptorsNeeded(tasks) > DescriptorLimit()) {
    Fail(state, "tasks:" + std::to_string(tasks) + " concurrent connections need about " +
                    std::to_string(DescriptorsNeeded(tasks)) +
                    " descriptors (client and server side); RLIMIT_NOFILE is " +
                    std::to_string(DescriptorLimit()));
    return;
  }
  auto server = StartServer(state, delay_ms);
  if (!server) return;
  const sockaddr_in addr = server->address();
  const AsyncEchoOptions aopts{.timeout = milliseconds(delay_ms + 30'000)};
  std::optional<AsyncEchoClient> client;
  try {
    client.emplace();
  } catch (const std::exception& e) {
    Fail(state, e.what());
    return;
  }
  Meter meter;
  const bool ok = TimedLoop(state, batch, &meter, [&] { return Checksum(client->Run(addr, batch, aopts)); });
  if (!ok) return;
  client.reset();
  Finish(state, meter, batch, tasks > 0 ? Seconds(delay_ms) : 0.0, server.get());
}

// Arguments: tasks, delay_ms, payload. T connections opened in setup, one request on each per
// iteration, all at once.
void AsyncKeepaliveEcho(benchmark::State& state) {
  const int64_t tasks = state.range(0), delay_ms = state.range(1);
  const EchoBatch batch(tasks, static_cast<size_t>(state.range(2)));
  if (DescriptorsNeeded(tasks) > DescriptorLimit()) {
    Fail(state, "tasks:" + std::to_string(tasks) + " open connections need about " +
                    std::to_string(DescriptorsNeeded(tasks)) + " descriptors; RLIMIT_NOFILE is " +
                    std::to_string(DescriptorLimit()));
    return;
  }
  auto server = StartServer(state, delay_ms);
  if (!server) return;
  const AsyncEchoOptions aopts{.timeout = milliseconds(delay_ms + 30'000)};
  std::optional<AsyncEchoClient> client;
  try {
    client.emplace();
    client->Connect(server->address(), tasks, aopts);
  } catch (const std::exception& e) {
    Fail(state, e.what());
    return;
  }
  Meter meter;
  const bool ok =
      TimedLoop(state, batch, &meter, [&] { return Checksum(client->RunOnOpenConnections(batch, aopts)); });
  if (!ok) return;
  client.reset();
  Finish(state, meter, batch, tasks > 0 ? Seconds(delay_ms) : 0.0, server.get());
}

// Arguments: tasks, workers, delay_ms, payload.
void ProcessesEcho(benchmark::State& state) {
  const int64_t tasks = state.range(0), workers = state.range(1), delay_ms = state.range(2);
  const EchoBatch batch(tasks, static_cast<size_t>(state.range(3)));
  auto server = StartServer(state, delay_ms);
  if (!server) return;
  const sockaddr_in addr = server->address();
  const EchoClientOptions copts = ClientOptions(delay_ms);
  std::optional<ProcessPool> pool;
  try {
    // Each worker inherits the address, the payloads and the client; it connects on its own.
    // queued_per_worker 0: a worker gets its next task only when it is free, as in the ideal.
    pool.emplace(static_cast<int>(workers),
                 [addr, &batch, copts](int64_t i) { return EchoOnce(addr, batch.payload(i), copts); },
                 /*queued_per_worker=*/0);
  } catch (const std::exception& e) {
    Fail(state, std::string("process pool: ") + e.what());
    return;
  }
  const WorkerUsage before = pool->worker_usage();
  Meter meter;
  const bool ok = TimedLoop(state, batch, &meter,
                            [&] { return Checksum(pool->Map(InheritedSpec(), batch.inputs(), /*chunksize=*/1)); });
  if (!ok) return;
  const WorkerUsage after = pool->worker_usage();
  pool.reset();
  if (!Finish(state, meter, batch, UniformMakespan(tasks, Seconds(delay_ms), workers, 1), server.get())) return;
  // Live workers are not reaped children: add what they reported about themselves.
  const double iterations = static_cast<double>(std::max<benchmark::IterationCount>(1, state.iterations()));
  if (meter.wall_seconds() > 0) {
    state.counters["cpu_util"] =
        (meter.usage().cpu_seconds() + after.cpu_seconds - before.cpu_seconds) / meter.wall_seconds();
  }
  state.counters["ctx_switches"] =
      static_cast<double>(meter.usage().context_switches() + after.ctx_switches - before.ctx_switches) / iterations;
}

// Arguments: tasks, delay_ms, payload.
void BareEcho(benchmark::State& state) {
  const int64_t tasks = state.range(0), delay_ms = state.range(1);
  const EchoBatch batch(tasks, static_cast<size_t>(state.range(2)));
  std::optional<BlockingEchoPeer> peer;
  std::optional<EchoConnection> conn;
  try {
    peer.emplace(milliseconds(delay_ms));
    conn.emplace(EchoConnection::Connect(peer->address(), ClientOptions(delay_ms)));
  } catch (const std::exception& e) {
    Fail(state, e.what());
    return;
  }
  Meter meter;
  const bool ok = TimedLoop(state, batch, &meter, [&] {
    int64_t sum = 0;
    for (int64_t i = 0; i < tasks; ++i) sum += conn->Echo(batch.payload(i));
    return sum;
  });
  if (!ok) return;
  conn.reset();
  peer.reset();
  Finish(state, meter, batch, static_cast<double>(tasks) * Seconds(delay_ms), nullptr);
}

// What one iteration should cost, for BoundIterations: the ideal plus a per-request allowance
// (connect + round trip on a busy 2-core machine).
constexpr double kRequestAllowanceS = 100e-6;

void RegisterEcho(const Options& o) {
  const double budget = o.suite == Suite::kSmoke ? 0.05 : o.suite == Suite::kSweep ? 0.3 : 0.5;
  auto bound = [budget](benchmark::internal::Benchmark* b, double expected_s) {
    BoundIterations(b, expected_s, budget);
  };
  const int64_t big = LargestAsyncTasks();

  // The notebook's sleep runs are 5 tasks of 500 ms (sections 1, 2, 3); its echo twins use a
  // 500 ms server delay and a small payload.
  const SuiteGrids sync_grids{
      .notebook = {{{"tasks", {5}}, {"delay_ms", {500}}, {"payload", {64}}}},
      .smoke = {{{"tasks", {2}}, {"delay_ms", {1}}, {"payload", {64}}}},
      .sweep = {{{"tasks", {1, 10, 100, 1000}}, {"delay_ms", {0, 1}}, {"payload", {64}}},
                {{"tasks", {1, 10, 100}}, {"delay_ms", {10}}, {"payload", {64}}},
                {{"tasks", {10}}, {"delay_ms", {0}}, {"payload", {64, 1024, 16384, 65536}}}},
  };
  auto sync_bound = [bound](auto* b, std::span<const int64_t> a) {
    bound(b, static_cast<double>(a[0]) * (Seconds(a[1]) + kRequestAllowanceS));
  };
  RegisterFamily(o, "sync/echo", sync_grids, [](benchmark::State& s) { SyncEcho(s, false); }, sync_bound);
  RegisterFamily(o, "sync.keepalive/echo", sync_grids, [](benchmark::State& s) { SyncEcho(s, true); },
                 sync_bound);

  const SuiteGrids keepalive_grids{
      .notebook = {{{"tasks", {5}}, {"workers", {5}}, {"delay_ms", {500}}, {"payload", {64}}}},
      .smoke = {{{"tasks", {4}}, {"workers", {2}}, {"delay_ms", {1}}, {"payload", {64}}}},
      .sweep = {{{"tasks", {1, 10, 100, 1000}}, {"workers", {8}}, {"delay_ms", {0, 1, 10}}, {"payload", {64}}},
                {{"tasks", {100}}, {"workers", {1, 4, 16, 64}}, {"delay_ms", {10}}, {"payload", {64}}},
                {{"tasks", {10}}, {"workers", {8}}, {"delay_ms", {0}}, {"payload", {64, 1024, 16384, 65536}}}},
  };
  SuiteGrids threads_grids = keepalive_grids;
  // The comparison point for async's 1,000 × 100 ms: the same on 8 threads takes about
  // 125 delays (12.5 s), so it runs once, in the sweep only.
  threads_grids.sweep.push_back({{"tasks", {1000}}, {"workers", {8}}, {"delay_ms", {100}}, {"payload", {64}}});
  auto threads_bound = [bound](auto* b, std::span<const int64_t> a) {
    const double rounds = std::ceil(static_cast<double>(a[0]) / static_cast<double>(a[1]));
    bound(b, rounds * Seconds(a[2]) + static_cast<double>(a[0]) * kRequestAllowanceS / 2);
  };
  RegisterFamily(o, "threads/echo", threads_grids, [](benchmark::State& s) { ThreadsEcho(s, false); },
                 threads_bound);
  RegisterFamily(o, "threads.keepalive/echo", keepalive_grids,
                 [](benchmark::State& s) { ThreadsEcho(s, true); }, threads_bound);

  const SuiteGrids async_grids{
      .notebook = {{{"tasks", {5}}, {"delay_ms", {500}}, {"payload", {64}}}},
      .smoke = {{{"tasks", {4}}, {"delay_ms", {1}}, {"payload", {64}}}},
      .sweep = {{{"tasks", {1, 10, 100, 1000, big}}, {"delay_ms", {0, 1, 10}}, {"payload", {64}}},
                {{"tasks", {10}}, {"delay_ms", {0}}, {"payload", {64, 1024, 16384, 65536}}},
                // The target: 1,000 concurrent echoes of 100 ms in under 1.5 delays.
                {{"tasks", {1000}}, {"delay_ms", {100}}, {"payload", {64}}}},
  };
  RegisterFamily(
      o, "async/echo", async_grids,
      AsyncEcho, [bound](auto* b, std::span<const int64_t> a) {
        bound(b, Seconds(a[1]) + static_cast<double>(a[0]) * kRequestAllowanceS / 2);
      });

  RegisterFamily(
      o, "async.keepalive/echo", async_grids,
      AsyncKeepaliveEcho, [bound](auto* b, std::span<const int64_t> a) {
        bound(b, Seconds(a[1]) + static_cast<double>(a[0]) * kRequestAllowanceS / 4);
      });

  RegisterFamily(
      o, "processes/echo",
      {.notebook = {{{"tasks", {5}}, {"workers", {5}}, {"delay_ms", {500}}, {"payload", {64}}}},
       .smoke = {{{"tasks", {4}}, {"workers", {2}}, {"delay_ms", {1}}, {"payload", {64}}}},
       .sweep = {{{"tasks", {1, 10, 100, 1000}}, {"workers", {8}}, {"delay_ms", {0, 1, 10}}, {"payload", {64}}},
                 {{"tasks", {100}}, {"workers", {1, 4, 16}}, {"delay_ms", {10}}, {"payload", {64}}},
                 {{"tasks", {10}}, {"workers", {8}}, {"delay_ms", {0}}, {"payload", {64, 1024, 16384, 65536}}}}},
      ProcessesEcho, threads_bound);

  RegisterFamily(o, "sync.bare/echo",
                 {.notebook = {},
                  .smoke = {{{"tasks", {2}}, {"delay_ms", {1}}, {"payload", {64}}}},
                  .sweep = {{{"tasks", {1, 1000}}, {"delay_ms", {0}}, {"payload", {64}}},
                            {{"tasks", {10}}, {"delay_ms", {0}}, {"payload", {64, 1024, 16384, 65536}}}}},
                 BareEcho, [bound](auto* b, std::span<const int64_t> a) {
                   bound(b, static_cast<double>(a[0]) * (Seconds(a[1]) + kRequestAllowanceS / 2));
                 });
}

const bool kRegistered = AddFamilyGroup("echo", RegisterEcho);

}  // namespace
}  // namespace concbench
