#include "models/echo_exchange.h"

#include "models/async_echo.h"
#include "workload/echo_protocol.h"

namespace concbench {

EchoExchange* EchoExchange::Start(uv_loop_t* loop, const sockaddr_in& server, std::span<const uint8_t> payload,
                                  int64_t task, EchoExchangeOwner* owner, bool close_with_reset) {
  auto* x = new EchoExchange();
  x->payload_ = payload;
  x->task_ = task;
  x->owner_ = owner;
  x->close_with_reset_ = close_with_reset;
  x->reply_.resize(kEchoHeaderBytes + payload.size());
  if (int rc = uv_tcp_init(loop, &x->tcp_); rc != 0) {
    owner->OnEchoFailure(task, EchoErrorKindOfUv(rc), DescribeEchoUvFailure("uv_tcp_init", rc, 0, x->reply_.size()));
    delete x;
    return nullptr;
  }
  x->tcp_.data = x;
  x->connect_.data = x;
  // Creates the socket (EMFILE shows up here) and starts a non-blocking connect.
  if (int rc = uv_tcp_connect(&x->connect_, &x->tcp_, reinterpret_cast<const sockaddr*>(&server), OnConnect); rc != 0) {
    x->Fail("uv_tcp_connect", rc);
    return nullptr;
  }
  return x;
}

void EchoExchange::Cancel() {
  owner_ = nullptr;
  Close(/*reset=*/false);
}

void EchoExchange::Close(bool reset) {
  if (closing_) return;
  closing_ = true;
  if (reset && uv_tcp_close_reset(&tcp_, OnClosed) == 0) return;
  uv_close(reinterpret_cast<uv_handle_t*>(&tcp_), OnClosed);
}

void EchoExchange::OnClosed(uv_handle_t* handle) { delete static_cast<EchoExchange*>(handle->data); }

void EchoExchange::Fail(EchoErrorKind kind, const std::string& what) {
  EchoExchangeOwner* owner = owner_;
  owner_ = nullptr;
  Close(/*reset=*/false);
  if (owner != nullptr) owner->OnEchoFailure(task_, kind, what);
}

void EchoExchange::Fail(const char* step, int status) {
  Fail(EchoErrorKindOfUv(status), DescribeEchoUvFailure(step, status, have_, reply_.size()));
}

void EchoExchange::OnConnect(uv_connect_t* req, int status) {
  auto* x = static_cast<EchoExchange*>(req->data);
  if (x->owner_ == nullptr) return;  // cancelled
  if (status < 0) {
    x->Fail("connect", status);
    return;
  }
  uv_tcp_nodelay(&x->tcp_, 1);
  EncodeEchoHeader(static_cast<uint32_t>(x->payload_.size()), x->header_);
  uv_buf_t bufs[2] = {
      uv_buf_init(reinterpret_cast<char*>(x->header_), kEchoHeaderBytes),
      uv_buf_init(const_cast<char*>(reinterpret_cast<const char*>(x->payload_.data())),
                  static_cast<unsigned>(x->payload_.size())),
  };
  x->write_.data = x;
  auto* stream = reinterpret_cast<uv_stream_t*>(&x->tcp_);
  if (int rc = uv_write(&x->write_, stream, bufs, 2, OnWritten); rc != 0) {
    x->Fail("uv_write", rc);
    return;
  }
  if (int rc = uv_read_start(stream, OnAlloc, OnRead); rc != 0) x->Fail("uv_read_start", rc);
}

void EchoExchange::OnWritten(uv_write_t* req, int status) {
  auto* x = static_cast<EchoExchange*>(req->data);
  if (x->owner_ != nullptr && status < 0 && status != UV_ECANCELED) x->Fail("write", status);
}

void EchoExchange::OnAlloc(uv_handle_t* handle, size_t, uv_buf_t* buf) {
  auto* x = static_cast<EchoExchange*>(handle->data);
  *buf = uv_buf_init(x->reply_.data() + x->have_, static_cast<unsigned>(x->reply_.size() - x->have_));
}

void EchoExchange::OnRead(uv_stream_t* stream, ssize_t nread, const uv_buf_t*) {
  auto* x = static_cast<EchoExchange*>(stream->data);
  if (x->owner_ == nullptr) return;
  if (nread < 0) {
    x->Fail("read", static_cast<int>(nread));
    return;
  }
  const size_t before = x->have_;
  x->have_ += static_cast<size_t>(nread);
  const auto* reply = reinterpret_cast<const uint8_t*>(x->reply_.data());
  if (before < kEchoHeaderBytes && x->have_ >= kEchoHeaderBytes) {
    if (auto why = EchoHeaderMismatch(DecodeEchoHeader(reply), x->payload_.size())) {
      x->Fail(EchoErrorKind::kProtocol, *why);
      return;
    }
  }
  if (x->have_ < x->reply_.size()) return;
  const std::span<const uint8_t> got(reply + kEchoHeaderBytes, x->payload_.size());
  if (auto why = EchoReplyMismatch(got, x->payload_)) {
    x->Fail(EchoErrorKind::kMismatch, *why);
    return;
  }
  EchoExchangeOwner* owner = x->owner_;
  x->owner_ = nullptr;
  const int64_t task = x->task_;
  x->Close(x->close_with_reset_);
  owner->OnEchoReply(task, EchoDigest(got));
}

}  // namespace concbench
