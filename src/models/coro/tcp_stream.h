// TcpStream: a connected TCP socket on a libuv loop (sys/uv_loop.h) for Tasks
// (models/coro/task.h), the socket side of the `async.coro` model's echo client
// (models/coro/notebook_tasks.h).
//
//   TcpStream stream = co_await TcpStream::Connect(loop, server);
//   co_await stream.Write(header, payload);              // both parts, as one uv_write
//   std::size_t got = co_await stream.ReadExactly(reply);  // reply.size(), unless the peer closed first
//
// What it guarantees: an operation that fails throws UvError naming the step ("connect", "write",
// "read", or the uv_* call that refused to start it); end of file is not a failure (ReadExactly
// gives fewer bytes). A coroutine awaiting an operation is resumed from the request's libuv
// callback (connect, write or read). The stream's handle is allocated on its own (not in a frame)
// and freed by its close callback, so a stream can be closed from a destructor while the loop
// still needs the handle for a moment, and a frame that finishes, or unwinds from an exception,
// leaves libuv no pointer into it.
//
// How it shuts down: the destructor closes the socket (Close). When RunUntilComplete abandons a
// run (models/coro/run.h), each awaiter destroyed with it closes what it holds (a connecting
// socket) and the requests of the closed sockets are cancelled without resuming anything; a
// request still in flight when its awaiter is destroyed outside that teardown aborts the process
// with a message (models/coro/detail/teardown.h).
//
// What it requires: one operation at a time: a stream is used by one coroutine, which awaits each
// operation before the next. A TcpStream must be destroyed (it closes itself) before its loop is
// closed and must not outlive the frames that await on it.
#pragma once

#include <netinet/in.h>
#include <uv.h>

#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <span>
#include <type_traits>
#include <utility>

#include "sys/uv_loop.h"

namespace concbench {

// A connected TCP socket on a loop, for coroutines (see above).
class TcpStream {
 public:
  class ConnectAwaiter;
  class WriteAwaiter;
  class ReadAwaiter;

  TcpStream() noexcept = default;  // not connected
  TcpStream(TcpStream&& other) noexcept : tcp_(std::exchange(other.tcp_, nullptr)) {}
  TcpStream& operator=(TcpStream&& other) noexcept;
  TcpStream(const TcpStream&) = delete;
  TcpStream& operator=(const TcpStream&) = delete;
  ~TcpStream() { Close(); }

  // Opens a connection to `server` (TCP_NODELAY set) and gives the connected stream.
  static ConnectAwaiter Connect(UvLoop& loop, const sockaddr_in& server);

  // Writes every part, in order, as one uv_write (`co_await stream.Write(header, payload)`);
  // completes once libuv has handed all the bytes to the kernel. The parts' bytes must stay valid
  // until then; at most kMaxWriteParts parts. (Parts, not an initializer list: GCC 12 cannot keep
  // a temporary array alive across a co_await.)
  static constexpr std::size_t kMaxWriteParts = 4;
  template <class... Parts>
  WriteAwaiter Write(const Parts&... parts);

  // Reads until `out` is full and gives out.size(); gives fewer bytes only when the peer closed
  // the connection first (end of file).
  ReadAwaiter ReadExactly(std::span<uint8_t> out);

  // Closes the socket: with a TCP reset (uv_tcp_close_reset) when `reset`, else normally (FIN).
  // Does not wait: the handle is freed by libuv's close phase. Idempotent.
  void Close(bool reset = false) noexcept;
  bool is_open() const noexcept { return tcp_ != nullptr; }

 private:
  explicit TcpStream(uv_tcp_t* tcp) noexcept : tcp_(tcp) {}
  uv_stream_t* stream() const noexcept { return reinterpret_cast<uv_stream_t*>(tcp_); }

  uv_tcp_t* tcp_ = nullptr;
};

namespace coro_detail {

// What the awaiters of one libuv request (connect, write, read) share: the coroutine to resume,
// and how the request ended. `step` names the request in errors ("connect").
class UvRequestAwaiter {
 public:
  UvRequestAwaiter(const UvRequestAwaiter&) = delete;
  UvRequestAwaiter& operator=(const UvRequestAwaiter&) = delete;
  bool await_ready() const noexcept { return false; }

 protected:
  explicit UvRequestAwaiter(const char* step) noexcept : call_(step) {}
  // Aborts if the request is still in flight outside a teardown (see Ownership and shutdown in
  // models/coro/run.h).
  ~UvRequestAwaiter();

  // Records `waiter` and the status `rc` of the call that starts the request (`call`). Returns
  // whether to suspend: false when `rc` < 0, so the coroutine goes on at once and await_resume
  // throws UvError(call, rc).
  bool Begin(std::coroutine_handle<> waiter, int rc, const char* call) noexcept;
  // From the request's callback: records `status` and resumes the coroutine. Callbacks check
  // coro_detail::TearingDown() first and touch nothing during a teardown.
  void Complete(int status) noexcept;
  void ThrowIfFailed() const;
  int status() const noexcept { return status_; }
  bool in_flight() const noexcept { return in_flight_; }

 private:
  std::coroutine_handle<> waiter_;
  const char* call_;
  int status_ = 0;
  bool in_flight_ = false;
};

}  // namespace coro_detail

class [[nodiscard]] TcpStream::ConnectAwaiter : public coro_detail::UvRequestAwaiter {
 public:
  ConnectAwaiter(UvLoop& loop, const sockaddr_in& server) noexcept
      : UvRequestAwaiter("connect"), loop_(loop.get()), server_(server) {}
  ~ConnectAwaiter();  // closes a socket not yet handed over (a connect in flight is cancelled)

  bool await_suspend(std::coroutine_handle<> waiter) noexcept;
  TcpStream await_resume();

 private:
  static void OnConnect(uv_connect_t* req, int status);

  uv_connect_t req_;
  uv_loop_t* loop_;
  uv_tcp_t* tcp_ = nullptr;  // owned until await_resume hands it to the stream
  sockaddr_in server_;
};

class [[nodiscard]] TcpStream::WriteAwaiter : public coro_detail::UvRequestAwaiter {
 public:
  WriteAwaiter(uv_stream_t* stream, std::span<const std::span<const uint8_t>> parts) noexcept;

  bool await_suspend(std::coroutine_handle<> waiter) noexcept;
  void await_resume() const { ThrowIfFailed(); }

 private:
  static void OnWritten(uv_write_t* req, int status);

  uv_write_t req_;
  uv_stream_t* stream_;
  uv_buf_t bufs_[kMaxWriteParts];
  unsigned nbufs_ = 0;
};

class [[nodiscard]] TcpStream::ReadAwaiter : public coro_detail::UvRequestAwaiter {
 public:
  ReadAwaiter(uv_stream_t* stream, std::span<uint8_t> out) noexcept
      : UvRequestAwaiter("read"), stream_(stream), out_(out) {}
  ~ReadAwaiter();  // stops reading (only a teardown destroys a read in progress)

  bool await_ready() const noexcept { return out_.empty(); }
  bool await_suspend(std::coroutine_handle<> waiter) noexcept;
  std::size_t await_resume() const;  // UV_EOF is not an error: fewer bytes

 private:
  static void OnAlloc(uv_handle_t* handle, std::size_t suggested, uv_buf_t* buf);
  static void OnRead(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf);

  uv_stream_t* stream_;
  std::span<uint8_t> out_;
  std::size_t have_ = 0;
};

template <class... Parts>
TcpStream::WriteAwaiter TcpStream::Write(const Parts&... parts) {
  static_assert(sizeof...(Parts) >= 1 && sizeof...(Parts) <= kMaxWriteParts, "1 to kMaxWriteParts parts");
  static_assert((std::is_convertible_v<const Parts&, std::span<const uint8_t>> && ...),
                "each part must be a span of bytes");
  const std::span<const uint8_t> spans[] = {std::span<const uint8_t>(parts)...};
  return WriteAwaiter(stream(), spans);
}

}  // namespace concbench
