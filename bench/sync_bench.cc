// The `sync` model's own families; the workloads every model runs (sleep, cpu, trabajo,
// tarea_normal, echo) come from the tables (bench/workloads.h, bench/batch_family.h).
//
//   sync/alloc/n:N                        section 6: a vector of N int64 created and released
//                                         (mmap-backed); rss before / after / after release
//   sync.keepalive/echo/tasks:T/delay_ms:D/payload:P
//                                         sync/echo over one connection kept open
//   sync.bare/echo/tasks:T/delay_ms:D/payload:P
//                                         the same against a minimal blocking peer (no libuv
//                                         server): the floor of one request
#include <sys/mman.h>

#include <chrono>
#include <numeric>
#include <optional>
#include <vector>

#include "echo_support.h"
#include "family.h"
#include "measure/memory.h"
#include "registry.h"
#include "workload/echo_client.h"
#include "workload/echo_protocol.h"
#include "workload/echo_server.h"

namespace concbench {
namespace {

using std::chrono::milliseconds;

int64_t RssKib() { return ReadProcStatusKib("VmRSS").value_or(0); }

// Memory straight from mmap and back to the kernel on release. With malloc, what "released"
// shows would depend on the allocator's history in this process (glibc raises its mmap threshold
// after the first large free and then keeps freed memory in the heap), not on the program.
template <typename T>
struct MmapAllocator {
  using value_type = T;
  MmapAllocator() = default;
  template <typename U>
  MmapAllocator(const MmapAllocator<U>&) {}
  T* allocate(size_t n) {
    void* p = mmap(nullptr, n * sizeof(T), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) throw std::bad_alloc();
    return static_cast<T*>(p);
  }
  void deallocate(T* p, size_t n) { munmap(p, n * sizeof(T)); }
  friend bool operator==(const MmapAllocator&, const MmapAllocator&) { return true; }
};

// Section 6: `data = [i for i in range(n)]`, then `del data`.
void SyncAlloc(benchmark::State& state, const Args& args) {
  const int64_t n = args["n"];
  int64_t before = 0, after = 0, released = 0;
  const auto meter = TimeIterations(state, {.checksum = n * (n - 1) / 2, .usage_counters = false}, [&] {
    state.PauseTiming();
    before = RssKib();
    state.ResumeTiming();
    std::vector<int64_t, MmapAllocator<int64_t>> data(static_cast<size_t>(n));
    std::iota(data.begin(), data.end(), 0);
    benchmark::DoNotOptimize(data.data());
    state.PauseTiming();
    after = RssKib();
    const int64_t sum = std::accumulate(data.begin(), data.end(), int64_t{0});
    state.ResumeTiming();
    data = {};
    data.shrink_to_fit();
    state.PauseTiming();
    released = RssKib();
    state.ResumeTiming();
    return sum;
  });
  if (!meter) return;
  SetCounter(state, "rss_before_kib", static_cast<double>(before));
  SetCounter(state, "rss_after_kib", static_cast<double>(after));
  SetCounter(state, "rss_released_kib", static_cast<double>(released));
  SetCounter(state, "rss_kib", static_cast<double>(after - before));
  SetCounter(state, "bytes_per_item", n > 0 ? static_cast<double>(after - before) * 1024 / static_cast<double>(n) : 0);
}

// One request after another on one connection kept open, against the echo server or, with
// `bare`, a minimal blocking peer.
void KeptOpenEcho(benchmark::State& state, const Args& args, bool bare) {
  const int64_t tasks = args["tasks"];
  const EchoBatch batch(tasks, static_cast<size_t>(args["payload"]));
  std::unique_ptr<EchoServer> server;
  std::optional<BlockingEchoPeer> peer;
  sockaddr_in addr{};
  if (bare) {
    peer.emplace(milliseconds(args["delay_ms"]));
    addr = peer->address();
  } else {
    server = StartEchoServer(args["delay_ms"]);
    addr = server->address();
  }
  std::optional<EchoConnection> conn;
  conn.emplace(EchoConnection::Connect(addr, EchoClientOptionsFor(args["delay_ms"])));
  const auto meter = TimeIterations(state, EchoExpect(batch, static_cast<double>(tasks) * args.Seconds("delay_ms")), [&] {
    int64_t sum = 0;
    for (int64_t i = 0; i < tasks; ++i) sum += conn->Echo(batch.payload(i));
    return sum;
  });
  conn.reset();
  peer.reset();
  FinishEcho(state, meter, batch, server.get());
}

// The ideal plus a request allowance (connect + round trip on a busy 2-core machine).
double OneAfterAnother(const Args& a) { return static_cast<double>(a["tasks"]) * (a.Seconds("delay_ms") + 100e-6); }

void RegisterSync(const Options& o) {
  RegisterFamily(o, {.name = "sync/alloc",
                     .grids = {.notebook = {},  // section 6: a cell (bench/cells.h)
                               .smoke = {{{"n", {1'000}}}},
                               .sweep = {{{"n", {300'000, 3'000'000, 30'000'000}}}}},
                     .body = SyncAlloc,
                     // Faulting in and zeroing pages: ~1 ns per element.
                     .budget = Adaptive([](const Args& a) { return 1e-9 * static_cast<double>(a["n"]); }),
                     .unit = benchmark::kMicrosecond});
  // Kept-open connections are not a notebook cell: 5 × 500 ms one after another would add 2.5 s a
  // repetition to the main job for what sync/echo already shows. Smoke and sweep only.
  RegisterFamily(o, {.name = "sync.keepalive/echo",
                     .grids = {.notebook = {},
                               .smoke = {{{"tasks", {2}}, {"delay_ms", {1}}, {"payload", {64}}}},
                               .sweep = {{{"tasks", {1, 10, 100, 1000}}, {"delay_ms", {0, 1}}, {"payload", {64}}},
                                         {{"tasks", {1, 10, 100}}, {"delay_ms", {10}}, {"payload", {64}}},
                                         {{"tasks", {10}}, {"delay_ms", {0}}, {"payload", {64, 1024, 16384, 65536}}}}},
                     .body = [](benchmark::State& s, const Args& a) { KeptOpenEcho(s, a, false); },
                     .budget = Fixed(0.5, OneAfterAnother)});
  RegisterFamily(o, {.name = "sync.bare/echo",
                     .grids = {.notebook = {},
                               .smoke = {{{"tasks", {2}}, {"delay_ms", {1}}, {"payload", {64}}}},
                               .sweep = {{{"tasks", {1, 1000}}, {"delay_ms", {0}}, {"payload", {64}}},
                                         {{"tasks", {10}}, {"delay_ms", {0}}, {"payload", {64, 1024, 16384, 65536}}}}},
                     .body = [](benchmark::State& s, const Args& a) { KeptOpenEcho(s, a, true); },
                     .budget = Fixed(0.5, [](const Args& a) {
                       return static_cast<double>(a["tasks"]) * (a.Seconds("delay_ms") + 50e-6);
                     })});
}

const bool kRegistered = AddFamilyGroup("sync", RegisterSync);

}  // namespace
}  // namespace concbench
