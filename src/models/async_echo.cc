#include "models/async_echo.h"

#include <uv.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <string>

#include "workload/echo_client.h"

namespace concbench {
namespace {

struct Batch;

// One task: its connection and the requests on it. Lives until the loop has run every callback.
struct Conn {
  uv_tcp_t tcp;
  uv_connect_t connect;
  uv_write_t write;
  Batch* batch = nullptr;
  int64_t index = 0;
  uint8_t header[kEchoHeaderBytes];
  std::vector<uint8_t> reply;  // header + payload
  size_t have = 0;
  bool tcp_open = false;  // initialised and not yet uv_close'd
  bool done = false;      // reply verified
};

struct Batch {
  const EchoBatch* echo = nullptr;
  sockaddr_in server{};
  std::string server_name;
  Conn* conns = nullptr;  // `tasks` connections: the batch's own, or the client's kept-open ones
  int64_t tasks = 0;
  bool keep_open = false;     // after a verified reply, stop reading instead of closing
  bool connect_only = false;  // just open the connections (AsyncEchoClient::Connect)
  int64_t done = 0;
  std::vector<int64_t> results;
  uv_timer_t deadline;
  bool deadline_open = false;
  bool failed = false;
  EchoErrorKind error_kind = EchoErrorKind::kSystem;
  std::string error;
  std::chrono::milliseconds timeout{0};
  bool close_with_reset = true;
};

void CloseTcp(Conn* c, bool reset = false) {
  if (!c->tcp_open) return;
  c->tcp_open = false;
  if (reset && uv_tcp_close_reset(&c->tcp, nullptr) == 0) return;
  uv_close(reinterpret_cast<uv_handle_t*>(&c->tcp), nullptr);
}

void CloseDeadline(Batch* b) {
  if (!b->deadline_open) return;
  b->deadline_open = false;
  uv_close(reinterpret_cast<uv_handle_t*>(&b->deadline), nullptr);
}

// Records the first failure and closes everything, which ends the loop.
void FailBatch(Batch* b, EchoErrorKind kind, const std::string& what) {
  if (b->failed) return;
  b->failed = true;
  b->error_kind = kind;
  b->error = "echo " + b->server_name + ": " + what;
  for (int64_t i = 0; i < b->tasks; ++i) CloseTcp(&b->conns[static_cast<size_t>(i)]);
  CloseDeadline(b);
}

std::string TaskName(const Conn* c) {
  return "task " + std::to_string(c->index) + " of " + std::to_string(c->batch->tasks) + ": ";
}

void FailStatus(Conn* c, const char* step, int status) {
  FailBatch(c->batch, EchoErrorKindOfUv(status),
       TaskName(c) + DescribeEchoUvFailure(step, status, c->have, c->reply.size()));
}

void OnAlloc(uv_handle_t* h, size_t /*suggested*/, uv_buf_t* buf) {
  Conn* c = static_cast<Conn*>(h->data);
  *buf = uv_buf_init(reinterpret_cast<char*>(c->reply.data() + c->have),
                     static_cast<unsigned>(c->reply.size() - c->have));
}

void OnRead(uv_stream_t* s, ssize_t nread, const uv_buf_t* /*buf*/) {
  Conn* c = static_cast<Conn*>(s->data);
  Batch* b = c->batch;
  if (nread < 0) {
    FailStatus(c, "read", static_cast<int>(nread));
    return;
  }
  const size_t before = c->have;
  c->have += static_cast<size_t>(nread);
  const size_t payload = c->reply.size() - kEchoHeaderBytes;
  if (before < kEchoHeaderBytes && c->have >= kEchoHeaderBytes) {
    if (auto why = EchoHeaderMismatch(DecodeEchoHeader(c->reply.data()), payload)) {
      FailBatch(b, EchoErrorKind::kProtocol, TaskName(c) + *why);
      return;
    }
  }
  if (c->have < c->reply.size()) return;
  c->have = 0;  // a kept-open connection reads its next reply from the start
  const std::span<const uint8_t> got = std::span<const uint8_t>(c->reply).subspan(kEchoHeaderBytes);
  if (auto why = EchoReplyMismatch(got, b->echo->payload(c->index))) {
    FailBatch(b, EchoErrorKind::kMismatch, TaskName(c) + *why);
    return;
  }
  b->results[static_cast<size_t>(c->index)] = EchoDigest(got);
  c->done = true;
  if (b->keep_open) {
    uv_read_stop(s);
  } else {
    CloseTcp(c, b->close_with_reset);
  }
  if (++b->done == b->tasks) CloseDeadline(b);
}

void OnWritten(uv_write_t* w, int status) {
  Conn* c = static_cast<Conn*>(w->data);
  if (status < 0 && status != UV_ECANCELED) FailStatus(c, "write", status);
}

// Sends the task's request on a connected socket and starts reading its reply.
void StartExchange(Conn* c) {
  c->done = false;
  c->have = 0;
  const std::span<const uint8_t> payload = c->batch->echo->payload(c->index);
  EncodeEchoHeader(static_cast<uint32_t>(payload.size()), c->header);
  uv_buf_t bufs[2] = {
      uv_buf_init(reinterpret_cast<char*>(c->header), kEchoHeaderBytes),
      uv_buf_init(const_cast<char*>(reinterpret_cast<const char*>(payload.data())),
                  static_cast<unsigned>(payload.size())),
  };
  c->write.data = c;
  auto* stream = reinterpret_cast<uv_stream_t*>(&c->tcp);
  int rc = uv_write(&c->write, stream, bufs, 2, OnWritten);
  if (rc != 0) {
    FailStatus(c, "uv_write", rc);
    return;
  }
  rc = uv_read_start(stream, OnAlloc, OnRead);
  if (rc != 0) FailStatus(c, "uv_read_start", rc);
}

void OnConnect(uv_connect_t* req, int status) {
  Conn* c = static_cast<Conn*>(req->data);
  if (status == UV_ECANCELED) return;  // closed by FailBatch()
  if (status < 0) {
    FailStatus(c, "connect", status);
    return;
  }
  uv_tcp_nodelay(&c->tcp, 1);
  Batch* b = c->batch;
  if (b->connect_only) {
    c->done = true;
    if (++b->done == b->tasks) CloseDeadline(b);
    return;
  }
  StartExchange(c);
}

void OnDeadline(uv_timer_t* t) {
  Batch* b = static_cast<Batch*>(t->data);
  int64_t first_missing = 0;
  while (first_missing < b->tasks && b->conns[static_cast<size_t>(first_missing)].done) ++first_missing;
  FailBatch(b, EchoErrorKind::kTimeout,
       std::to_string(b->tasks - b->done) + " of " + std::to_string(b->tasks) +
           (b->connect_only ? " connections not established after " : " replies missing after ") +
           std::to_string(b->timeout.count()) + " ms (first: task " + std::to_string(first_missing) + ")");
}

// Arms the batch deadline; with `connect`, also opens every connection (non-blocking). Then runs
// the loop until every connection finished its part or the batch failed.
void Drive(uv_loop_t* loop, Batch* b, const sockaddr_in& server, bool connect) {
  UvCheck(uv_timer_init(loop, &b->deadline), "uv_timer_init");
  b->deadline_open = true;
  b->deadline.data = b;
  uv_update_time(loop);  // the loop may have been idle since the last batch
  if (int rc = uv_timer_start(&b->deadline, OnDeadline, static_cast<uint64_t>(b->timeout.count()), 0); rc != 0) {
    FailBatch(b, EchoErrorKind::kSystem, UvErrorMessage("uv_timer_start", rc));
  }
  for (int64_t i = 0; i < b->tasks && !b->failed; ++i) {
    Conn* c = &b->conns[static_cast<size_t>(i)];
    c->batch = b;
    c->index = i;
    c->done = false;
    if (!connect) {
      StartExchange(c);
      continue;
    }
    if (int rc = uv_tcp_init(loop, &c->tcp); rc != 0) {
      FailStatus(c, "uv_tcp_init", rc);
      break;
    }
    c->tcp_open = true;
    c->tcp.data = c;
    c->connect.data = c;
    // Creates the socket (EMFILE shows up here) and starts a non-blocking connect.
    if (int rc = uv_tcp_connect(&c->connect, &c->tcp, reinterpret_cast<const sockaddr*>(&server), OnConnect);
        rc != 0) {
      FailStatus(c, "uv_tcp_connect", rc);
    }
  }
  uv_run(loop, UV_RUN_DEFAULT);
}

void InitBatch(Batch* b, const sockaddr_in& server, int64_t tasks, const AsyncEchoOptions& options) {
  b->server = server;
  b->server_name = FormatAddress(server);
  b->tasks = tasks;
  b->results.assign(static_cast<size_t>(tasks), 0);
  b->timeout = std::max(options.timeout, std::chrono::milliseconds(1));
  b->close_with_reset = options.close_with_reset;
}

}  // namespace

EchoErrorKind EchoErrorKindOfUv(int status) {
  switch (status) {
    case UV_ECONNREFUSED: return EchoErrorKind::kRefused;
    case UV_ENETUNREACH:
    case UV_EHOSTUNREACH:
    case UV_EADDRNOTAVAIL: return EchoErrorKind::kUnreachable;
    case UV_ETIMEDOUT: return EchoErrorKind::kTimeout;
    case UV_ECONNRESET:
    case UV_EPIPE: return EchoErrorKind::kReset;
    case UV_EOF: return EchoErrorKind::kShortRead;
    default: return EchoErrorKind::kSystem;
  }
}

std::string DescribeEchoUvFailure(std::string_view step, int status, size_t have, size_t want) {
  if (status == UV_EOF) {
    return "server closed the connection after " + std::to_string(have) + " of " + std::to_string(want) +
           " reply bytes (short read)";
  }
  std::string what = std::string(step) + " failed: " + uv_strerror(status) + " (" + uv_err_name(status) + ")";
  if (status == UV_ECONNREFUSED) {
    what += ": nothing listens on that port";
  } else if (status == UV_ECONNRESET) {
    what += " after " + std::to_string(have) + " of " + std::to_string(want) + " reply bytes";
  }
  return what;
}

std::optional<std::string> EchoHeaderMismatch(uint32_t announced, size_t sent_bytes) {
  if (announced == sent_bytes) return std::nullopt;
  return "reply announces " + std::to_string(announced) + " bytes, the request had " + std::to_string(sent_bytes);
}

std::optional<std::string> EchoReplyMismatch(std::span<const uint8_t> got, std::span<const uint8_t> sent) {
  if (std::equal(got.begin(), got.end(), sent.begin(), sent.end())) return std::nullopt;
  const auto diff = std::mismatch(got.begin(), got.end(), sent.begin(), sent.end());
  return "reply differs from the request at byte " + std::to_string(diff.first - got.begin()) + " of " +
         std::to_string(sent.size());
}

struct AsyncEchoClient::Kept {
  sockaddr_in server{};
  std::unique_ptr<Conn[]> conns;
  int64_t count = 0;
};

AsyncEchoClient::AsyncEchoClient() = default;

AsyncEchoClient::~AsyncEchoClient() { Disconnect(); }

std::vector<int64_t> AsyncEchoClient::Run(const sockaddr_in& server, const EchoBatch& echo,
                                          const AsyncEchoOptions& options) {
  if (echo.tasks() == 0) return {};
  Batch b;
  InitBatch(&b, server, echo.tasks(), options);
  b.echo = &echo;
  auto conns = std::make_unique<Conn[]>(static_cast<size_t>(b.tasks));
  for (int64_t i = 0; i < b.tasks; ++i) conns[static_cast<size_t>(i)].reply.resize(kEchoHeaderBytes + echo.payload_bytes());
  b.conns = conns.get();
  Drive(loop_.get(), &b, server, /*connect=*/true);
  if (b.failed) throw EchoError(b.error_kind, b.error);
  return std::move(b.results);
}

void AsyncEchoClient::Connect(const sockaddr_in& server, int64_t connections, const AsyncEchoOptions& options) {
  Disconnect();
  if (connections <= 0) return;
  auto kept = std::make_unique<Kept>();
  kept->server = server;
  kept->count = connections;
  kept->conns = std::make_unique<Conn[]>(static_cast<size_t>(connections));
  Batch b;
  InitBatch(&b, server, connections, options);
  b.connect_only = true;
  b.conns = kept->conns.get();
  Drive(loop_.get(), &b, server, /*connect=*/true);
  if (b.failed) {
    // FailBatch() closed every connection and the loop ran their close callbacks: nothing is kept.
    throw EchoError(b.error_kind, b.error);
  }
  kept_ = std::move(kept);
}

std::vector<int64_t> AsyncEchoClient::RunOnOpenConnections(const EchoBatch& echo, const AsyncEchoOptions& options) {
  if (!kept_ || kept_->count != echo.tasks()) {
    throw std::invalid_argument("AsyncEchoClient::RunOnOpenConnections: " + std::to_string(echo.tasks()) +
                                " tasks need as many open connections, there are " +
                                std::to_string(kept_ ? kept_->count : 0));
  }
  Batch b;
  InitBatch(&b, kept_->server, echo.tasks(), options);
  b.echo = &echo;
  b.keep_open = true;
  b.conns = kept_->conns.get();
  for (int64_t i = 0; i < b.tasks; ++i) b.conns[static_cast<size_t>(i)].reply.resize(kEchoHeaderBytes + echo.payload_bytes());
  Drive(loop_.get(), &b, kept_->server, /*connect=*/false);
  if (b.failed) {
    kept_.reset();  // every kept connection was closed by FailBatch()
    throw EchoError(b.error_kind, b.error);
  }
  return std::move(b.results);
}

void AsyncEchoClient::Disconnect() {
  if (!kept_) return;
  const bool reset = true;
  for (int64_t i = 0; i < kept_->count; ++i) CloseTcp(&kept_->conns[static_cast<size_t>(i)], reset);
  uv_run(loop_.get(), UV_RUN_DEFAULT);  // runs the close callbacks; the memory may go after this
  kept_.reset();
}

int64_t AsyncEchoClient::open_connections() const { return kept_ ? kept_->count : 0; }

}  // namespace concbench
