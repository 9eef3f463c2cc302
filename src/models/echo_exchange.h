// One echo request on a connection of its own, on a libuv loop: connect, send the request frame
// (workload/echo_protocol.h), read the reply frame, check it byte for byte, close. It is the
// event loop's way of running an echo step of a TaskSpec (models/async.h's RunOnLoop): nothing blocks,
// and the loop runs other tasks while the server holds the reply.
//
// Guarantees: exactly one of the owner's callbacks runs, once, on the loop thread, unless the
// exchange is cancelled first (then none runs). Failures are worded as the batch client's
// (models/async_echo.h): "connect failed: connection refused (ECONNREFUSED): nothing listens on
// that port". The exchange frees itself once libuv has closed its socket, so the loop must run
// (a UV_RUN_NOWAIT pass is enough) before it is closed.
//
//   struct Owner : EchoExchangeOwner { ... } owner;
//   EchoExchange::Start(loop, server, payload, /*task=*/3, &owner, /*close_with_reset=*/true);
//   uv_run(loop, UV_RUN_DEFAULT);  // owner.OnEchoReply(3, EchoDigest(payload)) ran
#pragma once

#include <netinet/in.h>
#include <uv.h>

#include <cstdint>
#include <span>
#include <string>

#include "workload/echo_client.h"

namespace concbench {

class EchoExchangeOwner;

class EchoExchange {
 public:
  // Starts connecting to `server`; `payload` must stay valid until a callback has run. A call
  // that libuv refuses at once (EMFILE, say) is reported through OnEchoFailure before Start
  // returns, and Start then returns nullptr.
  static EchoExchange* Start(uv_loop_t* loop, const sockaddr_in& server, std::span<const uint8_t> payload,
                             int64_t task, EchoExchangeOwner* owner, bool close_with_reset);

  // Closes the socket at once; no callback runs after this. The object frees itself once libuv
  // has closed the socket.
  void Cancel();

  EchoExchange(const EchoExchange&) = delete;
  EchoExchange& operator=(const EchoExchange&) = delete;

 private:
  EchoExchange() = default;
  ~EchoExchange() = default;
  static void OnConnect(uv_connect_t* req, int status);
  static void OnWritten(uv_write_t* req, int status);
  static void OnAlloc(uv_handle_t* handle, size_t suggested, uv_buf_t* buf);
  static void OnRead(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf);
  static void OnClosed(uv_handle_t* handle);
  void Fail(const char* step, int status);
  void Fail(EchoErrorKind kind, const std::string& what);
  void Close(bool reset);

  uv_tcp_t tcp_;
  uv_connect_t connect_;
  uv_write_t write_;
  uint8_t header_[4];
  std::span<const uint8_t> payload_;
  std::string reply_;  // header + payload
  size_t have_ = 0;
  int64_t task_ = 0;
  EchoExchangeOwner* owner_ = nullptr;  // null once a callback ran or the exchange was cancelled
  bool close_with_reset_ = true;
  bool closing_ = false;
};

// Who hears how an exchange ended, on the loop's thread.
class EchoExchangeOwner {
 public:
  virtual ~EchoExchangeOwner() = default;
  virtual void OnEchoReply(int64_t task, int64_t digest) = 0;
  // `what` names the step and the system error, without the server's address.
  virtual void OnEchoFailure(int64_t task, EchoErrorKind kind, const std::string& what) = 0;
};

}  // namespace concbench
