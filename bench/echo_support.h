// What every echo family shares: the blocking clients' timeouts and the descriptors many
// concurrent connections need.
#pragma once

#include <cstdint>
#include <string>

#include <memory>
#include <optional>

#include "family.h"
#include "workload/echo_client.h"
#include "workload/echo_protocol.h"
#include "workload/echo_server.h"

namespace concbench {

// Client timeouts: generous next to any delay the suites use, short enough that a fault ends a
// run in seconds rather than hanging it.
EchoClientOptions EchoClientOptionsFor(int64_t delay_ms);

// Descriptors one batch of T concurrent connections needs in this process: T client sockets, T
// server sockets, and room for everything else already open.
int64_t DescriptorsNeeded(int64_t concurrent);

// The soft RLIMIT_NOFILE (main.cpp has raised it to the hard limit before families register).
int64_t DescriptorLimit();

// The largest of 10,000, 8,000, 5,000 and 2,000 concurrent connections the limit holds (else 1,000).
int64_t LargestConcurrentConnections();

// Throws LimitError naming what `concurrent` connections need when the limit cannot hold them.
void CheckDescriptors(int64_t concurrent, const std::string& what);

// What every echo family promises: the batch's checksum each iteration, one request per task.
Expect EchoExpect(const EchoBatch& batch, double ideal_s, LiveWorkers live = {});

// After the timed loop and the clients' cleanup: the server (if any) must stop cleanly, then
// request_us and the bytes processed.
void FinishEcho(benchmark::State& state, const std::optional<Meter>& meter, const EchoBatch& batch, EchoServer* server);

// A server replying `delay_ms` after each request.
std::unique_ptr<EchoServer> StartEchoServer(int64_t delay_ms);

}  // namespace concbench
