#include "workload/echo_server.h"

#include <arpa/inet.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
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

// One reply on its way: waits until its deadline (if the delay is not zero), then is written.
// It is freed once it has stopped waiting and its write has completed (or was never issued).
struct Reply {
  uv_write_t write;
  Conn* conn = nullptr;
  std::vector<uint8_t> frame;  // header + payload, as received
  size_t send_bytes = 0;       // how much of `frame` to send (less for kShortReply)
  bool close_after = false;    // close the connection once written (kShortReply)
  int refs = 0;                // waiting + write in flight
  std::list<Reply*>::iterator waiting;  // position in conn->waiting while it waits
  std::list<Reply*>::iterator due;      // position in the server's `due` while it waits
  uint64_t deadline_ns = 0;    // on uv_hrtime's clock (CLOCK_MONOTONIC): the reply leaves no earlier
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
  // Replies waiting for their deadline, earliest first: every reply waits the same delay, so
  // arrival order is deadline order. timer_fd (a CLOCK_MONOTONIC timerfd, watched by
  // timer_poll) is armed for the first one's deadline.
  std::list<Reply*> due;
  int timer_fd = -1;
  uv_poll_t timer_poll;
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
  std::list<Reply*> waiting;  // replies waiting for their deadline, in s->due too
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

// Stops reading, drops the replies still waiting for their timers, and closes the socket (with a
// reset when `reset`). Writes in flight complete with UV_ECANCELED.
void CloseConn(Conn* c, bool reset) {
  if (c->closing) return;
  c->closing = true;
  c->server->conns.erase(c->pos);
  // A timer armed for a dropped reply fires for nothing: OnDue finds nothing due and re-arms.
  std::list<Reply*> dropped;
  dropped.swap(c->waiting);
  for (Reply* r : dropped) {
    c->server->due.erase(r->due);
    ReleaseReply(r);
  }
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

// A kernel timer wakes its thread late, and on a virtual machine the longer the wait, the later:
// measured here with clock_nanosleep, a 500 ms wait ends about 250 µs late and a 1 ms wait about
// 90 µs late. So a long wait is taken in two: until kFinalWaitNs before the deadline, then the
// rest, which wakes about as late as a 1 ms wait.
constexpr uint64_t kFinalWaitNs = 1'000'000;

// Arms the server's timer for its first waiting reply (nothing to do when none waits). The
// timerfd's expiry is an absolute CLOCK_MONOTONIC time in nanoseconds, uv_hrtime's clock.
bool ArmDue(EchoServerState* s) {
  if (s->due.empty()) return true;
  const uint64_t deadline = s->due.front()->deadline_ns;
  const uint64_t now = uv_hrtime();
  const uint64_t at = deadline > now + 2 * kFinalWaitNs ? deadline - kFinalWaitNs : deadline;
  itimerspec when{};
  when.it_value.tv_sec = static_cast<time_t>(at / 1'000'000'000);
  when.it_value.tv_nsec = static_cast<long>(at % 1'000'000'000);
  return timerfd_settime(s->timer_fd, TFD_TIMER_ABSTIME, &when, nullptr) == 0;
}

// The timer expired: every reply whose deadline has passed leaves, in order, and the timer is
// armed for the next one (or for the rest of the first one's wait).
void OnDue(uv_poll_t* p, int status, int /*events*/) {
  auto* s = static_cast<EchoServerState*>(p->data);
  uint64_t expirations;
  while (read(s->timer_fd, &expirations, sizeof expirations) < 0 && errno == EINTR) {
  }
  const uint64_t now_ns = uv_hrtime();
  while (status == 0 && !s->due.empty() && s->due.front()->deadline_ns <= now_ns) {
    Reply* r = s->due.front();
    s->due.pop_front();
    r->conn->waiting.erase(r->waiting);
    SendReply(r);
    ReleaseReply(r);  // the wait's reference; a write in flight holds its own
  }
  // A failed poll or re-arm would leave replies waiting forever: drop their connections, so the
  // clients see an error instead of a timeout.
  if (status != 0 || !ArmDue(s)) {
    while (!s->due.empty()) CloseConn(s->due.front()->conn, /*reset=*/false);
  }
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
  const uint64_t delay_ms = static_cast<uint64_t>(std::max<int64_t>(0, o.delay.count()));
  if (delay_ms == 0) {
    ++r->refs;  // held until SendReply has run, so a failed write cannot free r under us
    SendReply(r);
    ReleaseReply(r);
    return;
  }
  // The reply waits on the server's timerfd, not on a libuv timer: libuv counts whole
  // milliseconds of a truncated, cached clock, and the kernel lets epoll_wait's timeout run late
  // by 0.1 % (its slack for ordinary threads), so a 500 ms libuv timer fired 0.5–1 ms late. A
  // timerfd expires at an absolute nanosecond time without slack. No reply leaves before `delay`
  // has passed since the request's last byte arrived (now).
  ++r->refs;  // waiting, released when it leaves `due`
  r->deadline_ns = uv_hrtime() + delay_ms * 1'000'000;
  r->waiting = c->waiting.insert(c->waiting.end(), r);
  r->due = s->due.insert(s->due.end(), r);
  if (s->due.size() == 1 && !ArmDue(s)) CloseConn(c, /*reset=*/false);
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
  uv_close(reinterpret_cast<uv_handle_t*>(&s->timer_poll), nullptr);
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
  bool listener_open = false, stop_open = false, poll_open = false;
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
    if ((timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC)) < 0) {
      error = std::string("timerfd_create(CLOCK_MONOTONIC): ") + std::strerror(errno);
      break;
    }
    if ((rc = uv_poll_init(&loop, &timer_poll, timer_fd)) != 0) {
      error = UvErrorMessage("uv_poll_init(timerfd)", rc);
      break;
    }
    poll_open = true;
    timer_poll.data = this;
    if ((rc = uv_poll_start(&timer_poll, UV_READABLE, OnDue)) != 0) {
      error = UvErrorMessage("uv_poll_start(timerfd)", rc);
      break;
    }
  } while (false);

  if (!error.empty()) {
    if (listener_open) uv_close(reinterpret_cast<uv_handle_t*>(&listener), nullptr);
    if (stop_open) uv_close(reinterpret_cast<uv_handle_t*>(&stop), nullptr);
    if (poll_open) uv_close(reinterpret_cast<uv_handle_t*>(&timer_poll), nullptr);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    if (timer_fd >= 0) close(timer_fd);
    ready->set_value(error);
    return;
  }
  ready->set_value("");
  uv_run(&loop, UV_RUN_DEFAULT);
  // OnStop closed every handle and uv_run returned once their callbacks had run.
  if ((rc = uv_loop_close(&loop)) != 0) loop_error = UvErrorMessage("uv_loop_close", rc);
  close(timer_fd);  // after its poll handle is closed
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
