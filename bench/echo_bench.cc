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
//   async.coro/echo/tasks:T/delay_ms:D/payload:P       the same as async/echo, each connection one
//                                                      coroutine (models/coro.h); ideal = D
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

#include "family.h"
#include "measure/ideal.h"
#include "models/async_echo.h"
#include "models/coro.h"
#include "models/hold.h"
#include "models/process_pool.h"
#include "models/thread_pool.h"
#include "registry.h"
#include "watchdog.h"
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

// What every echo family promises: the batch's checksum each iteration, one request per task.
Expect EchoExpect(const EchoBatch& batch, double ideal_s, LiveWorkers live = {}) {
  return {.checksum = batch.expected_checksum(), .ideal_s = ideal_s, .items = batch.tasks(), .live_workers = std::move(live)};
}

// After the timed loop and the clients' cleanup: the server must stop cleanly, then request_us
// and the bytes processed.
void FinishEcho(benchmark::State& state, const std::optional<Meter>& meter, const EchoBatch& batch,
                EchoServer* server) {
  if (server != nullptr) {
    if (const std::string err = server->Stop(); !err.empty() && !state.error_occurred()) {
      Fail(state, "echo server did not stop cleanly: " + err);
      return;
    }
  }
  if (!meter) return;
  SetWallPerTask(state, *meter, "request_us", static_cast<double>(batch.tasks()), 1e-6);
  state.SetBytesProcessed(state.iterations() * batch.tasks() * static_cast<int64_t>(batch.payload_bytes()) * 2);
}

std::unique_ptr<EchoServer> StartServer(const Args& args) {
  return std::make_unique<EchoServer>(EchoServerOptions{.delay = milliseconds(args["delay_ms"])});
}

// Fails with what `concurrent` connections need when the descriptor limit cannot hold them.
void CheckDescriptors(int64_t concurrent, const std::string& what) {
  if (DescriptorsNeeded(concurrent) <= DescriptorLimit()) return;
  throw LimitError(what + " need about " + std::to_string(DescriptorsNeeded(concurrent)) +
                   " descriptors (client and server side); RLIMIT_NOFILE is " + std::to_string(DescriptorLimit()));
}

// Arguments: tasks, delay_ms, payload.
void SyncEcho(benchmark::State& state, const Args& args, bool keepalive) {
  const int64_t tasks = args["tasks"];
  const EchoBatch batch(tasks, static_cast<size_t>(args["payload"]));
  auto server = StartServer(args);
  const sockaddr_in addr = server->address();
  const EchoClientOptions copts = ClientOptions(args["delay_ms"]);
  std::optional<EchoConnection> conn;
  if (keepalive) conn.emplace(EchoConnection::Connect(addr, copts));
  const auto meter = TimeIterations(state, EchoExpect(batch, static_cast<double>(tasks) * args.Seconds("delay_ms")), [&] {
    int64_t sum = 0;
    for (int64_t i = 0; i < tasks; ++i) {
      sum += keepalive ? conn->Echo(batch.payload(i)) : EchoOnce(addr, batch.payload(i), copts);
    }
    return sum;
  });
  conn.reset();
  FinishEcho(state, meter, batch, server.get());
}

// Arguments: tasks, workers, delay_ms, payload.
void ThreadsEcho(benchmark::State& state, const Args& args, bool keepalive) {
  const int64_t tasks = args["tasks"], workers = args["workers"];
  const EchoBatch batch(tasks, static_cast<size_t>(args["payload"]));
  CheckDescriptors(workers, "workers:" + std::to_string(workers) + " connections");
  auto server = StartServer(args);
  const sockaddr_in addr = server->address();
  const EchoClientOptions copts = ClientOptions(args["delay_ms"]);
  ThreadPool pool(static_cast<int>(workers));
  std::vector<EchoConnection> conns;
  std::vector<int64_t> worker_ids(static_cast<size_t>(workers));
  for (int64_t w = 0; w < workers; ++w) worker_ids[static_cast<size_t>(w)] = w;
  if (keepalive) {
    for (int64_t w = 0; w < workers; ++w) conns.push_back(EchoConnection::Connect(addr, copts));
  }
  const auto meter = TimeIterations(
      state, EchoExpect(batch, UniformMakespan(tasks, args.Seconds("delay_ms"), workers, 1)), [&]() -> int64_t {
        if (!keepalive) {
          return Checksum(pool.Map([&](int64_t i) { return EchoOnce(addr, batch.payload(i), copts); },
                                   batch.inputs(), /*chunksize=*/1));
        }
        // One long task per worker, each on its own connection, taking the next task index from a
        // shared counter: the pool's first-free-worker policy, without a connect per task.
        std::atomic<int64_t> next{0};
        return Checksum(pool.Map(
            [&](int64_t w) {
              int64_t sum = 0;
              for (int64_t i = next.fetch_add(1); i < tasks; i = next.fetch_add(1)) {
                sum += conns[static_cast<size_t>(w)].Echo(batch.payload(i));
              }
              return sum;
            },
            worker_ids, /*chunksize=*/1));
      });
  conns.clear();
  pool.Shutdown();
  FinishEcho(state, meter, batch, server.get());
}

// Arguments: tasks, delay_ms, payload. T connections all in flight at once; with keepalive they
// are opened in setup, one request on each per iteration.
void AsyncEcho(benchmark::State& state, const Args& args, bool keepalive) {
  const int64_t tasks = args["tasks"];
  const EchoBatch batch(tasks, static_cast<size_t>(args["payload"]));
  CheckDescriptors(tasks, "tasks:" + std::to_string(tasks) + (keepalive ? " open" : " concurrent") + " connections");
  auto server = StartServer(args);
  const sockaddr_in addr = server->address();
  const AsyncEchoOptions aopts{.timeout = milliseconds(args["delay_ms"] + 30'000)};
  std::optional<AsyncEchoClient> client;
  client.emplace();
  if (keepalive) client->Connect(addr, tasks, aopts);
  const auto meter = TimeIterations(state, EchoExpect(batch, tasks > 0 ? args.Seconds("delay_ms") : 0.0), [&] {
    return Checksum(keepalive ? client->RunOnOpenConnections(batch, aopts) : client->Run(addr, batch, aopts));
  });
  client.reset();
  FinishEcho(state, meter, batch, server.get());
}

// Arguments: tasks, delay_ms, payload. The same T connections as async/echo, each one coroutine:
// connect, write, read, check (models/coro.h).
void CoroEcho(benchmark::State& state, const Args& args) {
  const int64_t tasks = args["tasks"];
  const EchoBatch batch(tasks, static_cast<size_t>(args["payload"]));
  CheckDescriptors(tasks, "tasks:" + std::to_string(tasks) + " concurrent connections");
  auto server = StartServer(args);
  const sockaddr_in addr = server->address();
  const AsyncEchoOptions aopts{.timeout = milliseconds(args["delay_ms"] + 30'000)};
  UvLoop loop;
  const auto meter = TimeIterations(state, EchoExpect(batch, tasks > 0 ? args.Seconds("delay_ms") : 0.0),
                                    [&] { return Checksum(CoroEchoBatch(loop, addr, batch, aopts)); });
  loop.Close();
  FinishEcho(state, meter, batch, server.get());
}

// Arguments: tasks, workers, delay_ms, payload.
void ProcessesEcho(benchmark::State& state, const Args& args) {
  const int64_t tasks = args["tasks"], workers = args["workers"];
  const EchoBatch batch(tasks, static_cast<size_t>(args["payload"]));
  auto server = StartServer(args);
  const sockaddr_in addr = server->address();
  const EchoClientOptions copts = ClientOptions(args["delay_ms"]);
  // Each worker inherits the address, the payloads and the client; it connects on its own.
  // queued_per_worker 0: a worker gets its next task only when it is free, as in the ideal.
  // Input -1 only connects and closes: once per worker in setup, because the first connects
  // after a fork (and the server's first accepts) pay copy-on-write faults, 5-10 ms in all here.
  std::optional<ProcessPool> pool;
  pool.emplace(static_cast<int>(workers),
               [addr, &batch, copts](int64_t i) {
                 return i < 0 ? (EchoConnection::Connect(addr, copts), int64_t{0})
                              : EchoOnce(addr, batch.payload(i), copts);
               },
               /*queued_per_worker=*/0);
  pool->SetStallTimeout(RunStallTimeout());
  pool->Map(InheritedSpec(), std::vector<int64_t>(static_cast<size_t>(workers), -1), /*chunksize=*/1);
  const auto meter = TimeIterations(
      state,
      EchoExpect(batch, UniformMakespan(tasks, args.Seconds("delay_ms"), workers, 1),
                 [&pool] { return pool->worker_usage(); }),
      [&] { return Checksum(pool->Map(InheritedSpec(), batch.inputs(), /*chunksize=*/1)); });
  pool.reset();
  FinishEcho(state, meter, batch, server.get());
}

// Arguments: tasks, delay_ms, payload.
void BareEcho(benchmark::State& state, const Args& args) {
  const int64_t tasks = args["tasks"];
  const EchoBatch batch(tasks, static_cast<size_t>(args["payload"]));
  std::optional<BlockingEchoPeer> peer;
  std::optional<EchoConnection> conn;
  peer.emplace(milliseconds(args["delay_ms"]));
  conn.emplace(EchoConnection::Connect(peer->address(), ClientOptions(args["delay_ms"])));
  const auto meter = TimeIterations(state, EchoExpect(batch, static_cast<double>(tasks) * args.Seconds("delay_ms")), [&] {
    int64_t sum = 0;
    for (int64_t i = 0; i < tasks; ++i) sum += conn->Echo(batch.payload(i));
    return sum;
  });
  conn.reset();
  peer.reset();
  FinishEcho(state, meter, batch, nullptr);
}

// What one iteration should cost, for the budget: the ideal plus a per-request allowance
// (connect + round trip on a busy 2-core machine).
constexpr double kRequestAllowanceS = 100e-6;

void RegisterEcho(const Options& o) {
  const double budget = o.suite == Suite::kSweep ? 0.3 : 0.5;
  const int64_t big = LargestAsyncTasks();
  auto family = [budget](const char* name, SuiteGrids grids, Body body, Estimate estimate) {
    return Family{.name = name, .grids = std::move(grids), .body = std::move(body), .budget = Fixed(budget, std::move(estimate))};
  };
  auto tasks = [](const Args& a) { return static_cast<double>(a["tasks"]); };

  // The notebook's sleep runs are 5 tasks of 500 ms (sections 1, 2, 3); its echo twins use a
  // 500 ms server delay and a small payload.
  const SuiteGrids sync_grids{
      .notebook = {{{"tasks", {5}}, {"delay_ms", {500}}, {"payload", {64}}}},
      .smoke = {{{"tasks", {2}}, {"delay_ms", {1}}, {"payload", {64}}}},
      .sweep = {{{"tasks", {1, 10, 100, 1000}}, {"delay_ms", {0, 1}}, {"payload", {64}}},
                {{"tasks", {1, 10, 100}}, {"delay_ms", {10}}, {"payload", {64}}},
                {{"tasks", {10}}, {"delay_ms", {0}}, {"payload", {64, 1024, 16384, 65536}}}},
  };
  const Estimate one_after_another = [tasks](const Args& a) {
    return tasks(a) * (a.Seconds("delay_ms") + kRequestAllowanceS);
  };
  RegisterFamily(o, family("sync/echo", sync_grids,
                           [](benchmark::State& s, const Args& a) { SyncEcho(s, a, false); }, one_after_another));
  // Kept-open connections are not a notebook cell: 5 × 500 ms one after another would add
  // 2.5 s a repetition to the main job for what sync/echo already shows. Smoke and sweep only.
  SuiteGrids keepalive_sync_grids = sync_grids;
  keepalive_sync_grids.notebook.clear();
  RegisterFamily(o, family("sync.keepalive/echo", keepalive_sync_grids,
                           [](benchmark::State& s, const Args& a) { SyncEcho(s, a, true); }, one_after_another));

  const SuiteGrids keepalive_grids{
      .notebook = {{{"tasks", {5}}, {"workers", {5}}, {"delay_ms", {500}}, {"payload", {64}}}},
      .smoke = {{{"tasks", {4}}, {"workers", {2}}, {"delay_ms", {1}}, {"payload", {64}}}},
      .sweep = {{{"tasks", {1, 10, 100, 1000}}, {"workers", {8}}, {"delay_ms", {0, 1, 10}}, {"payload", {64}}},
                {{"tasks", {100}}, {"workers", {1, 4, 16, 64}}, {"delay_ms", {10}}, {"payload", {64}}},
                {{"tasks", {10}}, {"workers", {8}}, {"delay_ms", {0}}, {"payload", {64, 1024, 16384, 65536}}}},
  };
  SuiteGrids threads_grids = keepalive_grids;
  // The comparison point for async's 1,000 × 100 ms: the same on 8 threads takes about 125
  // delays (12.5 s), so it runs once, in the sweep only.
  threads_grids.sweep.push_back({{"tasks", {1000}}, {"workers", {8}}, {"delay_ms", {100}}, {"payload", {64}}});
  const Estimate on_workers = [tasks](const Args& a) {
    const double rounds = std::ceil(tasks(a) / static_cast<double>(a["workers"]));
    return rounds * a.Seconds("delay_ms") + tasks(a) * kRequestAllowanceS / 2;
  };
  RegisterFamily(o, family("threads/echo", threads_grids,
                           [](benchmark::State& s, const Args& a) { ThreadsEcho(s, a, false); }, on_workers));
  RegisterFamily(o, family("threads.keepalive/echo", keepalive_grids,
                           [](benchmark::State& s, const Args& a) { ThreadsEcho(s, a, true); }, on_workers));

  const SuiteGrids async_grids{
      .notebook = {{{"tasks", {5}}, {"delay_ms", {500}}, {"payload", {64}}}},
      .smoke = {{{"tasks", {4}}, {"delay_ms", {1}}, {"payload", {64}}}},
      .sweep = {{{"tasks", {1, 10, 100, 1000, big}}, {"delay_ms", {0, 1, 10}}, {"payload", {64}}},
                {{"tasks", {10}}, {"delay_ms", {0}}, {"payload", {64, 1024, 16384, 65536}}},
                // 1,000 concurrent echoes of 100 ms should take under 1.5 delays.
                {{"tasks", {1000}}, {"delay_ms", {100}}, {"payload", {64}}}},
  };
  RegisterFamily(o, family("async/echo", async_grids,
                           [](benchmark::State& s, const Args& a) { AsyncEcho(s, a, false); },
                           [tasks](const Args& a) { return a.Seconds("delay_ms") + tasks(a) * kRequestAllowanceS / 2; }));
  RegisterFamily(o, family("async.keepalive/echo", async_grids,
                           [](benchmark::State& s, const Args& a) { AsyncEcho(s, a, true); },
                           [tasks](const Args& a) { return a.Seconds("delay_ms") + tasks(a) * kRequestAllowanceS / 4; }));

  RegisterFamily(o, family("async.coro/echo", async_grids, CoroEcho,
                           [tasks](const Args& a) { return a.Seconds("delay_ms") + tasks(a) * kRequestAllowanceS / 2; }));

  RegisterFamily(
      o, family("processes/echo",
                {.notebook = {{{"tasks", {5}}, {"workers", {5}}, {"delay_ms", {500}}, {"payload", {64}}}},
                 .smoke = {{{"tasks", {4}}, {"workers", {2}}, {"delay_ms", {1}}, {"payload", {64}}}},
                 .sweep = {{{"tasks", {1, 10, 100, 1000}}, {"workers", {8}}, {"delay_ms", {0, 1, 10}}, {"payload", {64}}},
                           {{"tasks", {100}}, {"workers", {1, 4, 16}}, {"delay_ms", {10}}, {"payload", {64}}},
                           {{"tasks", {10}}, {"workers", {8}}, {"delay_ms", {0}}, {"payload", {64, 1024, 16384, 65536}}}}},
                ProcessesEcho, on_workers));

  RegisterFamily(o, family("sync.bare/echo",
                           {.notebook = {},
                            .smoke = {{{"tasks", {2}}, {"delay_ms", {1}}, {"payload", {64}}}},
                            .sweep = {{{"tasks", {1, 1000}}, {"delay_ms", {0}}, {"payload", {64}}},
                                      {{"tasks", {10}}, {"delay_ms", {0}}, {"payload", {64, 1024, 16384, 65536}}}}},
                           BareEcho,
                           [tasks](const Args& a) { return tasks(a) * (a.Seconds("delay_ms") + kRequestAllowanceS / 2); }));
}

const bool kRegistered = AddFamilyGroup("echo", RegisterEcho);

}  // namespace
}  // namespace concbench
