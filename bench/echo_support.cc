#include "echo_support.h"

#include <sys/resource.h>

#include <climits>

#include "models/hold.h"

namespace concbench {

EchoClientOptions EchoClientOptionsFor(int64_t delay_ms) {
  return {.connect_timeout = std::chrono::milliseconds(5'000), .io_timeout = std::chrono::milliseconds(delay_ms + 10'000)};
}

int64_t DescriptorsNeeded(int64_t concurrent) { return 2 * concurrent + 64; }

int64_t DescriptorLimit() {
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY) return INT64_MAX;
  return static_cast<int64_t>(rl.rlim_cur);
}

int64_t LargestConcurrentConnections() {
  for (const int64_t t : {10'000, 8'000, 5'000, 2'000}) {
    if (DescriptorsNeeded(t) <= DescriptorLimit()) return t;
  }
  return 1'000;
}

void CheckDescriptors(int64_t concurrent, const std::string& what) {
  if (DescriptorsNeeded(concurrent) <= DescriptorLimit()) return;
  throw LimitError(what + " need about " + std::to_string(DescriptorsNeeded(concurrent)) +
                   " descriptors (client and server side); RLIMIT_NOFILE is " + std::to_string(DescriptorLimit()));
}

Expect EchoExpect(const EchoBatch& batch, double ideal_s, LiveWorkers live) {
  return {.checksum = batch.expected_checksum(), .ideal_s = ideal_s, .items = batch.tasks(), .live_workers = std::move(live)};
}

void FinishEcho(benchmark::State& state, const std::optional<Meter>& meter, const EchoBatch& batch, EchoServer* server) {
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

std::unique_ptr<EchoServer> StartEchoServer(int64_t delay_ms) {
  return std::make_unique<EchoServer>(EchoServerOptions{.delay = std::chrono::milliseconds(delay_ms)});
}

}  // namespace concbench
