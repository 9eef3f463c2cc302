#include "models/coro/tcp_stream.h"

#include <algorithm>
#include <new>

#include "models/coro/detail/teardown.h"
#include "models/coro/task.h"

namespace concbench {
namespace {

using coro_detail::Orphaned;
using coro_detail::TearingDown;

void DeleteTcp(uv_handle_t* handle) { delete reinterpret_cast<uv_tcp_t*>(handle); }

void CloseTcp(uv_tcp_t* tcp, bool reset) noexcept {
  if (reset && uv_tcp_close_reset(tcp, &DeleteTcp) == 0) return;
  uv_close(reinterpret_cast<uv_handle_t*>(tcp), &DeleteTcp);
}

}  // namespace

TcpStream& TcpStream::operator=(TcpStream&& other) noexcept {
  if (this != &other) {
    Close();
    tcp_ = std::exchange(other.tcp_, nullptr);
  }
  return *this;
}

TcpStream::ConnectAwaiter TcpStream::Connect(UvLoop& loop, const sockaddr_in& server) {
  return ConnectAwaiter(loop, server);
}

TcpStream::ReadAwaiter TcpStream::ReadExactly(std::span<uint8_t> out) { return ReadAwaiter(stream(), out); }

void TcpStream::Close(bool reset) noexcept {
  if (tcp_ != nullptr) CloseTcp(std::exchange(tcp_, nullptr), reset);
}

namespace coro_detail {

UvRequestAwaiter::~UvRequestAwaiter() {
  // A request in flight is cancelled when its socket is closed; its callback sees the teardown.
  if (in_flight_ && !TearingDown()) Orphaned("a TcpStream request in flight");
}

bool UvRequestAwaiter::Begin(std::coroutine_handle<> waiter, int rc, const char* call) noexcept {
  waiter_ = waiter;
  if (rc < 0) {
    call_ = call;
    status_ = rc;
    return false;
  }
  in_flight_ = true;
  return true;
}

void UvRequestAwaiter::Complete(int status) noexcept {
  in_flight_ = false;
  status_ = status;
  Resume(waiter_);
}

void UvRequestAwaiter::ThrowIfFailed() const {
  if (status_ < 0) throw UvError(call_, status_);
}

}  // namespace coro_detail

TcpStream::ConnectAwaiter::~ConnectAwaiter() {
  if (tcp_ != nullptr) CloseTcp(std::exchange(tcp_, nullptr), false);
}

bool TcpStream::ConnectAwaiter::await_suspend(std::coroutine_handle<> waiter) noexcept {
  tcp_ = new (std::nothrow) uv_tcp_t;
  if (tcp_ == nullptr) return Begin(waiter, UV_ENOMEM, "new uv_tcp_t");
  if (const int rc = uv_tcp_init(loop_, tcp_); rc < 0) {
    delete std::exchange(tcp_, nullptr);
    return Begin(waiter, rc, "uv_tcp_init");
  }
  req_.data = this;
  // Creates the socket (EMFILE shows up here) and starts a non-blocking connect.
  const int rc = uv_tcp_connect(&req_, tcp_, reinterpret_cast<const sockaddr*>(&server_), &OnConnect);
  if (rc < 0) CloseTcp(std::exchange(tcp_, nullptr), false);
  return Begin(waiter, rc, "uv_tcp_connect");
}

void TcpStream::ConnectAwaiter::OnConnect(uv_connect_t* req, int status) {
  if (TearingDown()) return;
  auto* a = static_cast<ConnectAwaiter*>(req->data);
  if (status < 0) {
    CloseTcp(std::exchange(a->tcp_, nullptr), false);
  } else {
    uv_tcp_nodelay(a->tcp_, 1);
  }
  a->Complete(status);
}

TcpStream TcpStream::ConnectAwaiter::await_resume() {
  ThrowIfFailed();
  return TcpStream(std::exchange(tcp_, nullptr));
}

TcpStream::WriteAwaiter::WriteAwaiter(uv_stream_t* stream, std::span<const std::span<const uint8_t>> parts) noexcept
    : UvRequestAwaiter("write"), stream_(stream) {
  for (const std::span<const uint8_t> p : parts.first(std::min(parts.size(), kMaxWriteParts))) {
    // libuv only reads from a write's buffers; uv_buf_t just is not const-correct.
    bufs_[nbufs_].base = const_cast<char*>(reinterpret_cast<const char*>(p.data()));
    bufs_[nbufs_].len = p.size();
    ++nbufs_;
  }
}

bool TcpStream::WriteAwaiter::await_suspend(std::coroutine_handle<> waiter) noexcept {
  if (stream_ == nullptr) return Begin(waiter, UV_ENOTCONN, "write");
  req_.data = this;
  return Begin(waiter, uv_write(&req_, stream_, bufs_, nbufs_, &OnWritten), "uv_write");
}

void TcpStream::WriteAwaiter::OnWritten(uv_write_t* req, int status) {
  if (TearingDown()) return;
  static_cast<WriteAwaiter*>(req->data)->Complete(status);
}

TcpStream::ReadAwaiter::~ReadAwaiter() {
  if (in_flight() && TearingDown()) uv_read_stop(stream_);  // harmless if the stream is closing
}

bool TcpStream::ReadAwaiter::await_suspend(std::coroutine_handle<> waiter) noexcept {
  if (stream_ == nullptr) return Begin(waiter, UV_ENOTCONN, "read");
  stream_->data = this;
  return Begin(waiter, uv_read_start(stream_, &OnAlloc, &OnRead), "uv_read_start");
}

// Offers exactly the rest of `out_`, so a read never takes bytes that belong to what follows.
void TcpStream::ReadAwaiter::OnAlloc(uv_handle_t* handle, std::size_t /*suggested*/, uv_buf_t* buf) {
  auto* a = static_cast<ReadAwaiter*>(handle->data);
  buf->base = reinterpret_cast<char*>(a->out_.data() + a->have_);
  buf->len = a->out_.size() - a->have_;
}

// Stops reading before resuming: the coroutine may read again (a new awaiter) or close the
// stream, both of which libuv allows from a read callback.
void TcpStream::ReadAwaiter::OnRead(uv_stream_t* stream, ssize_t nread, const uv_buf_t* /*buf*/) {
  if (TearingDown()) return;
  auto* a = static_cast<ReadAwaiter*>(stream->data);
  if (nread == 0) return;  // EAGAIN: nothing this time
  if (nread > 0) a->have_ += static_cast<std::size_t>(nread);
  if (nread > 0 && a->have_ < a->out_.size()) return;
  uv_read_stop(stream);
  a->Complete(nread < 0 ? static_cast<int>(nread) : 0);
}

std::size_t TcpStream::ReadAwaiter::await_resume() const {
  if (status() != UV_EOF) ThrowIfFailed();
  return have_;
}

}  // namespace concbench
