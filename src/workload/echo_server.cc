#include "workload/echo_server.h"

#include <arpa/inet.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include <algorithm>
#include <cerrno>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <future>
#include <list>
#include <stdexcept>
#include <thread>
#include <vector>

#include "sys/errno_error.h"
#include "sys/uv_loop.h"
#include "workload/echo_protocol.h"
#include "workload/sleep.h"

namespace concbench {

const char* EchoFaultName(EchoFault fault) {
  switch (fault) {
    case EchoFault::kNone: return "none";
    case EchoFault::kReset: return "reset";
    case EchoFault::kShortReply: return "short_reply";
    case EchoFault::kSilent: return "silent";
  }
  return "?";
}

namespace {

struct Conn;

// One reply on its way: waits for its timer (if the delay is not zero), then is written. It is
// freed once its timer handle is closed and its write has completed (or was never issued).
struct Reply {
  uv_timer_t timer;
  uv_write_t write;
  Conn* conn = nullptr;
  std::vector<uint8_t> frame;  // header + payload, as received
  size_t send_bytes = 0;       // how much of `frame` to send (less for kShortReply)
  bool close_after = false;    // close the connection once written (kShortReply)
  int refs = 0;                // open timer handle + write in flight
  std::list<Reply*>::iterator waiting;  // position in conn->waiting while the timer is armed
  bool is_waiting = false;
  uint64_t deadline_ns = 0;    // on uv_hrtime's clock: the reply leaves no earlier
};

}  // namespace

struct EchoServerState {
  EchoServerOptions options;
  uv_loop_t loop;
  uv_tcp_t listener;
  uv_async_t stop;
  std::thread thread;
  uint16_t port = 0;
  std::list<Conn*> conns;  // open (not closing) connections, loop thread only
  // One read buffer for every connection: read_cb consumes it before the next alloc_cb.
  std::vector<char> read_buffer = std::vector<char>(64 * 1024);

  std::atomic<int64_t> accepted{0};
  std::atomic<int64_t> requests{0};
  std::atomic<int64_t> replies{0};
  std::atomic<int64_t> open{0};

  bool stopped = false;
  std::string stop_result;
  std::string loop_error;  // set by the loop thread before it exits; read after join

  void RunLoop(std::promise<std::string>* ready);
};

namespace {

struct Conn {
  uv_tcp_t tcp;
  EchoServerState* server = nullptr;
  std::list<Conn*>::iterator pos;
  uint8_t header[kEchoHeaderBytes];
  size_t header_have = 0;
  bool in_payload = false;
  std::vector<uint8_t> frame;  // the request being received, header included
  size_t frame_have = 0;
  std::list<Reply*> waiting;  // replies whose timer is armed
  bool closing = false;
  int refs = 1;  // the tcp handle + one per live Reply
};

void ReleaseConn(Conn* c) {
  if (--c->refs == 0) delete c;
}

void ReleaseReply(Reply* r) {
  if (--r->refs > 0) return;
  Conn* c = r->conn;
  delete r;
  ReleaseConn(c);
}

void OnConnClosed(uv_handle_t* h) {
  Conn* c = static_cast<Conn*>(h->data);
  c->server->open.fetch_sub(1, std::memory_order_relaxed);
  ReleaseConn(c);
}

void OnReplyTimerClosed(uv_handle_t* h) { ReleaseReply(static_cast<Reply*>(h->data)); }

// Stops reading, drops the replies still waiting for their timers, and closes the socket (with a
// reset when `reset`). Writes in flight complete with UV_ECANCELED.
void CloseConn(Conn* c, bool reset) {
  if (c->closing) return;
  c->closing = true;
  c->server->conns.erase(c->pos);
  for (Reply* r : c->waiting) {
    r->is_waiting = false;
    uv_timer_stop(&r->timer);
    uv_close(reinterpret_cast<uv_handle_t*>(&r->timer), OnReplyTimerClosed);
  }
  c->waiting.clear();
  if (reset && uv_tcp_close_reset(&c->tcp, OnConnClosed) == 0) return;
  uv_close(reinterpret_cast<uv_handle_t*>(&c->tcp), OnConnClosed);
}

void OnWritten(uv_write_t* w, int status) {
  Reply* r = static_cast<Reply*>(w->data);
  Conn* c = r->conn;
  if (status == 0) {
    c->server->replies.fetch_add(1, std::memory_order_relaxed);
    if (r->close_after) CloseConn(c, /*reset=*/false);
  } else if (status != UV_ECANCELED) {
    CloseConn(c, /*reset=*/false);  // the peer went away
  }
  ReleaseReply(r);
}

void SendReply(Reply* r) {
  Conn* c = r->conn;
  if (c->closing) return;
  uv_buf_t buf = uv_buf_init(reinterpret_cast<char*>(r->frame.data()), static_cast<unsigned>(r->send_bytes));
  r->write.data = r;
  if (uv_write(&r->write, reinterpret_cast<uv_stream_t*>(&c->tcp), &buf, 1, OnWritten) == 0) {
    ++r->refs;
  } else {
    CloseConn(c, /*reset=*/false);
  }
}

void OnReplyTimer(uv_timer_t* t) {
  Reply* r = static_cast<Reply*>(t->data);
  // Fired early by libuv's truncated millisecond clock: wait for the rest, rounded up to whole
  // milliseconds of the real clock (TimeoutUntil would round from the truncated loop clock and
  // add up to a millisecond more). Should that still fire early, this runs again.
  uv_update_time(t->loop);
  const uint64_t now_ns = uv_hrtime();
  if (now_ns < r->deadline_ns &&
      uv_timer_start(t, OnReplyTimer, (r->deadline_ns - now_ns + 999'999) / 1'000'000, 0) == 0) {
    return;
  }
  r->conn->waiting.erase(r->waiting);
  r->is_waiting = false;
  uv_close(reinterpret_cast<uv_handle_t*>(&r->timer), OnReplyTimerClosed);
  SendReply(r);
}

// A whole request frame has arrived on `c`.
void OnRequest(Conn* c, std::vector<uint8_t> frame) {
  EchoServerState* s = c->server;
  const int64_t index = s->requests.fetch_add(1, std::memory_order_relaxed);
  const EchoServerOptions& o = s->options;
  const EchoFault fault = index >= o.fault_after ? o.fault : EchoFault::kNone;
  if (fault == EchoFault::kReset) {
    CloseConn(c, /*reset=*/true);
    return;
  }
  if (fault == EchoFault::kSilent) return;

  auto* r = new Reply;
  r->conn = c;
  ++c->refs;
  r->frame = std::move(frame);
  r->send_bytes = r->frame.size();
  if (fault == EchoFault::kShortReply) {
    r->send_bytes = kEchoHeaderBytes + (r->frame.size() - kEchoHeaderBytes) / 2;
    r->close_after = true;
  }
  r->timer.data = r;
  const uint64_t delay_ms = static_cast<uint64_t>(std::max<int64_t>(0, o.delay.count()));
  if (delay_ms == 0) {
    ++r->refs;  // held until SendReply has run, so a failed write cannot free r under us
    SendReply(r);
    ReleaseReply(r);
    return;
  }
  if (uv_timer_init(&s->loop, &r->timer) != 0) {
    delete r;
    CloseConn(c, /*reset=*/false);
    ReleaseConn(c);  // r's reference; the tcp handle still holds c
    return;
  }
  ++r->refs;  // the timer handle, released by its close callback
  // The timer is armed for the plain delay, as the callback timers are (models/async.h): libuv
  // counts whole milliseconds of a truncated cached clock and epoll_wait sleeps whole
  // milliseconds, so rounding the delay up (TimeoutUntil) made every reply about 2 ms late;
  // armed plain it can fire up to 1 ms early, and OnReplyTimer then waits for the rest. Either
  // way no reply leaves before `delay` has passed since the request's last byte arrived (now).
  uv_update_time(&s->loop);
  r->deadline_ns = uv_hrtime() + delay_ms * 1'000'000;
  if (uv_timer_start(&r->timer, OnReplyTimer, delay_ms, 0) != 0) {
    uv_close(reinterpret_cast<uv_handle_t*>(&r->timer), OnReplyTimerClosed);
    CloseConn(c, /*reset=*/false);
    return;
  }
  r->waiting = c->waiting.insert(c->waiting.end(), r);
  r->is_waiting = true;
}

void OnAlloc(uv_handle_t* h, size_t /*suggested*/, uv_buf_t* buf) {
  Conn* c = static_cast<Conn*>(h->data);
  auto& b = c->server->read_buffer;
  *buf = uv_buf_init(b.data(), static_cast<unsigned>(b.size()));
}

void OnRead(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) {
  Conn* c = static_cast<Conn*>(stream->data);
  if (nread < 0) {  // UV_EOF, or the client reset the connection
    CloseConn(c, /*reset=*/false);
    return;
  }
  const auto* p = reinterpret_cast<const uint8_t*>(buf->base);
  size_t n = static_cast<size_t>(nread);
  while (n > 0 && !c->closing) {
    if (!c->in_payload) {
      const size_t take = std::min(kEchoHeaderBytes - c->header_have, n);
      std::memcpy(c->header + c->header_have, p, take);
      c->header_have += take;
      p += take;
      n -= take;
      if (c->header_have < kEchoHeaderBytes) break;
      const uint32_t len = DecodeEchoHeader(c->header);
      if (len > kEchoMaxPayload) {  // protocol error: no reply, close
        CloseConn(c, /*reset=*/false);
        return;
      }
      c->frame.assign(kEchoHeaderBytes + len, 0);
      std::memcpy(c->frame.data(), c->header, kEchoHeaderBytes);
      c->frame_have = kEchoHeaderBytes;
      c->header_have = 0;
      c->in_payload = true;
    } else {
      const size_t take = std::min(c->frame.size() - c->frame_have, n);
      std::memcpy(c->frame.data() + c->frame_have, p, take);
      c->frame_have += take;
      p += take;
      n -= take;
    }
    if (c->in_payload && c->frame_have == c->frame.size()) {
      c->in_payload = false;
      OnRequest(c, std::move(c->frame));
      c->frame = {};
    }
  }
}

void OnConnection(uv_stream_t* listener, int status) {
  auto* s = static_cast<EchoServerState*>(listener->data);
  if (status < 0) return;  // EMFILE and the like: the client's connect will time out or fail
  auto* c = new Conn;
  c->server = s;
  if (uv_tcp_init(&s->loop, &c->tcp) != 0) {
    delete c;
    return;
  }
  c->tcp.data = c;
  c->pos = s->conns.insert(s->conns.end(), c);
  s->open.fetch_add(1, std::memory_order_relaxed);
  if (uv_accept(listener, reinterpret_cast<uv_stream_t*>(&c->tcp)) != 0) {
    CloseConn(c, /*reset=*/false);
    return;
  }
  s->accepted.fetch_add(1, std::memory_order_relaxed);
  uv_tcp_nodelay(&c->tcp, 1);
  if (uv_read_start(reinterpret_cast<uv_stream_t*>(&c->tcp), OnAlloc, OnRead) != 0) {
    CloseConn(c, /*reset=*/false);
  }
}

void OnStop(uv_async_t* a) {
  auto* s = static_cast<EchoServerState*>(a->data);
  uv_close(reinterpret_cast<uv_handle_t*>(&s->listener), nullptr);
  while (!s->conns.empty()) CloseConn(s->conns.front(), /*reset=*/false);
  uv_close(reinterpret_cast<uv_handle_t*>(&s->stop), nullptr);
}

}  // namespace

void EchoServerState::RunLoop(std::promise<std::string>* ready) {
  int rc = uv_loop_init(&loop);
  if (rc != 0) {
    ready->set_value(UvErrorMessage("uv_loop_init", rc));
    return;
  }
  std::string error;
  bool listener_open = false, stop_open = false;
  sockaddr_in addr{};
  do {
    if ((rc = uv_tcp_init(&loop, &listener)) != 0) {
      error = UvErrorMessage("uv_tcp_init", rc);
      break;
    }
    listener_open = true;
    listener.data = this;
    if ((rc = uv_ip4_addr("127.0.0.1", 0, &addr)) != 0) {
      error = UvErrorMessage("uv_ip4_addr(127.0.0.1)", rc);
      break;
    }
    if ((rc = uv_tcp_bind(&listener, reinterpret_cast<const sockaddr*>(&addr), 0)) != 0) {
      error = UvErrorMessage("uv_tcp_bind(127.0.0.1:0)", rc);
      break;
    }
    if ((rc = uv_listen(reinterpret_cast<uv_stream_t*>(&listener), options.backlog, OnConnection)) != 0) {
      error = UvErrorMessage("uv_listen(backlog " + std::to_string(options.backlog) + ")", rc);
      break;
    }
    sockaddr_storage bound{};
    int len = sizeof bound;
    if ((rc = uv_tcp_getsockname(&listener, reinterpret_cast<sockaddr*>(&bound), &len)) != 0) {
      error = UvErrorMessage("uv_tcp_getsockname", rc);
      break;
    }
    port = ntohs(reinterpret_cast<const sockaddr_in*>(&bound)->sin_port);
    if ((rc = uv_async_init(&loop, &stop, OnStop)) != 0) {
      error = UvErrorMessage("uv_async_init", rc);
      break;
    }
    stop_open = true;
    stop.data = this;
  } while (false);

  if (!error.empty()) {
    if (listener_open) uv_close(reinterpret_cast<uv_handle_t*>(&listener), nullptr);
    if (stop_open) uv_close(reinterpret_cast<uv_handle_t*>(&stop), nullptr);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    ready->set_value(error);
    return;
  }
  ready->set_value("");
  uv_run(&loop, UV_RUN_DEFAULT);
  // OnStop closed every handle and uv_run returned once their callbacks had run.
  if ((rc = uv_loop_close(&loop)) != 0) loop_error = UvErrorMessage("uv_loop_close", rc);
}

EchoServer::EchoServer(const EchoServerOptions& options) : impl_(std::make_unique<EchoServerState>()) {
  impl_->options = options;
  if (options.delay.count() < 0) {
    throw std::invalid_argument("EchoServer: delay must be >= 0 ms, got " +
                                std::to_string(options.delay.count()));
  }
  std::promise<std::string> ready;
  std::future<std::string> started = ready.get_future();
  // The promise moves into the thread, so setting it never races with its destruction here.
  impl_->thread = std::thread([impl = impl_.get(), p = std::move(ready)]() mutable { impl->RunLoop(&p); });
  const std::string error = started.get();
  if (!error.empty()) {
    impl_->thread.join();
    impl_->stopped = true;
    throw std::runtime_error("EchoServer: " + error);
  }
}

EchoServer::~EchoServer() {
  const std::string err = Stop();
  if (!err.empty()) std::fprintf(stderr, "concbench: ~EchoServer: %s\n", err.c_str());
}

std::string EchoServer::Stop() {
  if (impl_->stopped) return impl_->stop_result;
  impl_->stopped = true;
  const int rc = uv_async_send(&impl_->stop);
  if (rc != 0) {
    // Cannot wake the loop: joining would hang, and destroying a running thread aborts.
    std::fprintf(stderr, "concbench: fatal: EchoServer::Stop: %s\n", UvErrorMessage("uv_async_send", rc).c_str());
    std::abort();
  }
  impl_->thread.join();
  impl_->stop_result = impl_->loop_error;
  return impl_->stop_result;
}

uint16_t EchoServer::port() const { return impl_->port; }

sockaddr_in EchoServer::address() const {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(impl_->port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return a;
}

const EchoServerOptions& EchoServer::options() const { return impl_->options; }
int64_t EchoServer::connections_accepted() const { return impl_->accepted.load(std::memory_order_relaxed); }
int64_t EchoServer::requests_received() const { return impl_->requests.load(std::memory_order_relaxed); }
int64_t EchoServer::replies_sent() const { return impl_->replies.load(std::memory_order_relaxed); }
int64_t EchoServer::connections_open() const { return impl_->open.load(std::memory_order_relaxed); }

namespace {

// Moves exactly n bytes with `step(p, n)` (recv or send), retrying after EINTR; false on
// end-of-file or error (the client went away or we were shut down).
template <class Byte, class Step>
bool TransferFull(Byte* p, size_t n, Step step) {
  while (n > 0) {
    const ssize_t r = step(p, n);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    p += r;
    n -= static_cast<size_t>(r);
  }
  return true;
}

bool ReadFull(int fd, uint8_t* p, size_t n) {
  return TransferFull(p, n, [fd](uint8_t* at, size_t left) { return recv(fd, at, left, MSG_WAITALL); });
}

bool WriteFull(int fd, const uint8_t* p, size_t n) {
  return TransferFull(p, n, [fd](const uint8_t* at, size_t left) { return send(fd, at, left, MSG_NOSIGNAL); });
}

}  // namespace

BlockingEchoPeer::BlockingEchoPeer(std::chrono::milliseconds delay) : delay_(delay) {
  listen_fd_.Reset(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!listen_fd_.valid()) ThrowErrno("BlockingEchoPeer: socket");
  address_.sin_family = AF_INET;
  address_.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof address_;
  if (bind(listen_fd_.get(), reinterpret_cast<const sockaddr*>(&address_), sizeof address_) != 0 ||
      listen(listen_fd_.get(), 1) != 0 ||
      getsockname(listen_fd_.get(), reinterpret_cast<sockaddr*>(&address_), &len) != 0) {
    ThrowErrno("BlockingEchoPeer: bind/listen/getsockname on 127.0.0.1:0");  // the owner closes it
  }
  thread_ = std::thread([this] { Serve(); });
}

BlockingEchoPeer::~BlockingEchoPeer() {
  // shutdown() wakes a thread blocked in accept() or recv() on these sockets; the descriptors
  // are closed only after the join, so their numbers cannot be reused while the thread runs.
  // With stopping_ and conn_fd_ both sequentially consistent, either the thread sees stopping_
  // right after publishing its connection, or this sees the connection and shuts it down.
  stopping_.store(true);
  shutdown(listen_fd_.get(), SHUT_RDWR);
  if (const int c = conn_fd_.load(); c >= 0) shutdown(c, SHUT_RDWR);
  thread_.join();
  if (const int c = conn_fd_.load(); c >= 0) ::close(c);
  listen_fd_.Reset();
}

void BlockingEchoPeer::Serve() {
  int c;
  do {
    c = accept4(listen_fd_.get(), nullptr, nullptr, SOCK_CLOEXEC);
  } while (c < 0 && errno == EINTR);
  if (c < 0) return;
  conn_fd_.store(c);
  if (stopping_.load()) return;
  const int one = 1;
  setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  std::vector<uint8_t> frame;
  while (true) {
    uint8_t header[kEchoHeaderBytes];
    if (!ReadFull(c, header, kEchoHeaderBytes)) break;
    const uint32_t len = DecodeEchoHeader(header);
    if (len > kEchoMaxPayload) break;
    frame.resize(kEchoHeaderBytes + len);
    std::memcpy(frame.data(), header, kEchoHeaderBytes);
    if (!ReadFull(c, frame.data() + kEchoHeaderBytes, len)) break;
    BlockingSleep(delay_);
    if (!WriteFull(c, frame.data(), frame.size())) break;
  }
}

}  // namespace concbench
