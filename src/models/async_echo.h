// The `async` model's echo client: every task of a batch is a libuv TCP connection, all in
// flight at once on one event loop in the calling thread (notebook section 3 with real I/O).
//
// What it is for: showing that one thread waiting on many sockets finishes T echoes with a
// server-side delay D in about one D, where a blocking client needs T·D (sync) or ⌈T/W⌉·D
// (W threads).
//
// What it guarantees:
//   - Run() opens one connection per task, sends each task's payload as one request frame
//     (workload/echo_protocol.h), reads each reply, checks it byte for byte against what was sent,
//     closes the connection, and returns each task's EchoDigest in task order. Nothing blocks:
//     connect, write and read are libuv requests on the loop.
//   - The first failure ends the batch: every connection still open is closed, the loop runs
//     until every close callback has run, and Run() throws EchoError (workload/echo_client.h)
//     naming the task, the server and what failed (refused, unreachable, reset, short read,
//     mismatch, timeout). The whole batch is bounded by `timeout`: when it expires the missing
//     replies are reported as kTimeout. No handle and no descriptor outlives Run().
//   - A batch needs one descriptor per task in this process (and the echo server, when it runs in
//     the same process, one more per task).
//
// How it shuts down: the destructor closes the loop (sys/uv_loop.h: uv_loop_close must
// return 0). Not thread-safe: one thread uses a client at a time.
//
//   concbench::AsyncEchoClient client;
//   concbench::EchoBatch batch(/*tasks=*/1000, /*payload_bytes=*/64);
//   std::vector<int64_t> digests = client.Run(server.address(), batch, {});
#pragma once

#include <netinet/in.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "sys/uv_loop.h"
#include "workload/echo_client.h"
#include "workload/echo_protocol.h"

namespace concbench {

// The EchoErrorKind of a failed libuv step's status (UV_ECONNREFUSED is kRefused, UV_EOF
// kShortRead, ...), for every client on a libuv loop.
EchoErrorKind EchoErrorKindOfUv(int status);

// How the libuv clients word a failed step of one exchange, after "echo <server>: task i of T: ":
// "connect failed: connection refused (ECONNREFUSED): nothing listens on that port", or for
// UV_EOF "server closed the connection after 504 of 1004 reply bytes (short read)", where `have`
// of `want` reply bytes (header included) had arrived.
std::string DescribeEchoUvFailure(std::string_view step, int status, size_t have, size_t want);

// The two checks every libuv client makes of a reply: "reply announces 12 bytes, the request had
// 64" when its header's length is not the request's, and "reply differs from the request at byte
// 5 of 64"; nothing when the reply is right.
std::optional<std::string> EchoHeaderMismatch(uint32_t announced, size_t sent_bytes);
std::optional<std::string> EchoReplyMismatch(std::span<const uint8_t> got, std::span<const uint8_t> sent);

struct AsyncEchoOptions {
  std::chrono::milliseconds timeout{30'000};  // for the whole batch, ≥ 1 ms
  // Close each connection with a TCP reset once its reply is verified (uv_tcp_close_reset), so
  // no TIME_WAIT is left behind: see EchoClientOptions::close_with_reset.
  bool close_with_reset = true;
};

class AsyncEchoClient {
 public:
  AsyncEchoClient();
  ~AsyncEchoClient();  // Disconnect(), then the loop closes

  AsyncEchoClient(const AsyncEchoClient&) = delete;
  AsyncEchoClient& operator=(const AsyncEchoClient&) = delete;

  // One request per task of `batch`, each on a new connection, all at once; returns the digests
  // in task order.
  std::vector<int64_t> Run(const sockaddr_in& server, const EchoBatch& batch,
                           const AsyncEchoOptions& options = {});

  // The keep-alive variant (async.keepalive): Connect() opens `connections` connections, all at
  // once, and keeps them (replacing any kept before); RunOnOpenConnections() then sends task i's
  // request on connection i, all at once, and leaves the connections open for the next batch.
  // batch.tasks() must equal the number of open connections (std::invalid_argument otherwise).
  // Both throw EchoError as Run() does; after an error no connection is kept.
  void Connect(const sockaddr_in& server, int64_t connections, const AsyncEchoOptions& options = {});
  std::vector<int64_t> RunOnOpenConnections(const EchoBatch& batch, const AsyncEchoOptions& options = {});
  // Closes the kept connections (with a reset, see close_with_reset). Idempotent.
  void Disconnect();
  int64_t open_connections() const;

  uv_loop_t* loop() { return loop_.get(); }

 private:
  struct Kept;

  UvLoop loop_;
  std::unique_ptr<Kept> kept_;  // declared after loop_: destroyed (by Disconnect) before it
};

}  // namespace concbench
