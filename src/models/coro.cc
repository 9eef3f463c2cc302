#include "models/coro.h"

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <new>
#include <string>

#include "workload/echo_client.h"
#include "workload/sleep.h"

namespace concbench {
namespace {

constexpr uint64_t kNsPerMs = 1'000'000;

constinit thread_local CoroFrameStats tl_frames;

// While a teardown runs on this thread (RunUntilComplete abandoning a run), frames are not freed
// but kept here, because the handles their awaiters just closed are still in libuv's close queue;
// and no callback resumes a coroutine.
constinit thread_local int tl_teardown_depth = 0;
thread_local std::vector<std::pair<void*, std::size_t>> tl_kept_frames;

using coro_detail::TearingDown;

void ReleaseFrame(void* frame, std::size_t bytes) noexcept {
  CoroFrameStats& s = tl_frames;
  --s.live_frames;
  s.live_bytes -= static_cast<int64_t>(bytes);
  ::operator delete(frame, bytes);
}

// An awaiter destroyed with its handle open outside a teardown: the frame is about to be freed
// while libuv still holds a pointer into it.
[[noreturn]] void Orphaned(const char* what) {
  std::fprintf(stderr,
               "concbench: fatal: %s was destroyed while libuv still used it, outside "
               "RunUntilComplete's teardown (a suspended coroutine's frame freed by hand?)\n",
               what);
  std::abort();
}

class Teardown {
 public:
  Teardown() noexcept { ++tl_teardown_depth; }
  ~Teardown() {
    if (--tl_teardown_depth != 0) return;
    for (const auto& [frame, bytes] : tl_kept_frames) ReleaseFrame(frame, bytes);
    tl_kept_frames.clear();
  }
  Teardown(const Teardown&) = delete;
  Teardown& operator=(const Teardown&) = delete;
};

// What RunUntilComplete's task reports to when it finishes, and the run's timeout timer.
class Root : public coro_detail::Completion {
 public:
  explicit Root(uv_loop_t* loop) noexcept : Completion{&OnDone}, loop_(loop) {}
  // The timer may still be closing when a stopped loop returned; finish that before its memory
  // goes (UV_RUN_NOWAIT never blocks).
  ~Root() {
    if (deadline_ == Deadline::kNone || deadline_ == Deadline::kClosed) return;
    CloseDeadline();
    uv_run(loop_, UV_RUN_NOWAIT);
  }
  Root(const Root&) = delete;
  Root& operator=(const Root&) = delete;

  void ArmDeadline(std::chrono::milliseconds timeout) {
    if (timeout.count() <= 0) return;
    UvCheck(uv_timer_init(loop_, &deadline_timer_), "uv_timer_init");
    deadline_ = Deadline::kOpen;
    deadline_timer_.data = this;
    // Rounded up (TimeoutUntil), so a run is never abandoned before `timeout` has passed.
    const uint64_t deadline_ns = uv_hrtime() + static_cast<uint64_t>(timeout.count()) * kNsPerMs;
    UvCheck(uv_timer_start(&deadline_timer_, &OnDeadline, TimeoutUntil(loop_, deadline_ns), 0), "uv_timer_start");
  }
  void CloseDeadline() noexcept {
    if (deadline_ != Deadline::kOpen) return;
    deadline_ = Deadline::kClosing;
    uv_close(reinterpret_cast<uv_handle_t*>(&deadline_timer_), &OnDeadlineClosed);
  }
  bool timed_out() const noexcept { return timed_out_; }

 private:
  enum class Deadline : uint8_t { kNone, kOpen, kClosing, kClosed };

  // The task finished: nothing is left to bound, and an armed timer would keep the loop alive.
  static std::coroutine_handle<> OnDone(Completion* self) noexcept {
    static_cast<Root*>(self)->CloseDeadline();
    return {};
  }
  static void OnDeadline(uv_timer_t* timer) {
    auto* r = static_cast<Root*>(timer->data);
    r->timed_out_ = true;
    uv_stop(r->loop_);
  }
  static void OnDeadlineClosed(uv_handle_t* handle) {
    static_cast<Root*>(handle->data)->deadline_ = Deadline::kClosed;
  }

  uv_loop_t* loop_;
  uv_timer_t deadline_timer_;
  Deadline deadline_ = Deadline::kNone;
  bool timed_out_ = false;
};

// Destroys every frame of an abandoned run. Their awaiters close their handles as they go; one
// loop iteration finishes those closes (and cancels the requests on closed sockets) with every
// coroutine callback disarmed; only then is the frames' memory freed.
void Abandon(uv_loop_t* loop, std::coroutine_handle<> root, Root& r) noexcept {
  const Teardown teardown;
  root.destroy();
  r.CloseDeadline();
  uv_run(loop, UV_RUN_NOWAIT);
}

std::string Ms(std::chrono::milliseconds ms) { return std::to_string(ms.count()) + " ms"; }

void CheckSleepArgs(const char* fn, int64_t tasks, std::chrono::milliseconds wait) {
  if (tasks < 0 || wait.count() < 0) {
    throw std::invalid_argument(std::string(fn) + ": tasks and wait must be >= 0, got " +
                                std::to_string(tasks) + " tasks of " + Ms(wait));
  }
}

void DeleteTcp(uv_handle_t* handle) { delete reinterpret_cast<uv_tcp_t*>(handle); }

void CloseTcp(uv_tcp_t* tcp, bool reset) noexcept {
  if (reset && uv_tcp_close_reset(tcp, &DeleteTcp) == 0) return;
  uv_close(reinterpret_cast<uv_handle_t*>(tcp), &DeleteTcp);
}

}  // namespace

// ---- frame accounting -------------------------------------------------------------------------

CoroFrameStats CoroFrames() noexcept { return tl_frames; }

void ResetCoroFramePeak() noexcept { tl_frames.peak_live_bytes = tl_frames.live_bytes; }

namespace coro_detail {

constinit thread_local std::coroutine_handle<> tl_handed_over;

void* AllocateFrame(std::size_t bytes) {
  void* frame = ::operator new(bytes);
  CoroFrameStats& s = tl_frames;
  ++s.live_frames;
  ++s.frames_allocated;
  s.live_bytes += static_cast<int64_t>(bytes);
  s.peak_live_bytes = std::max(s.peak_live_bytes, s.live_bytes);
  s.last_frame_bytes = static_cast<int64_t>(bytes);
  return frame;
}

void FreeFrame(void* frame, std::size_t bytes) noexcept {
  if (TearingDown()) {
    try {
      tl_kept_frames.emplace_back(frame, bytes);
    } catch (...) {
      // Out of memory while keeping it: leak the frame rather than free memory libuv may use.
    }
    return;
  }
  ReleaseFrame(frame, bytes);
}

void ThrowNotAwaitable(const char* what) { throw std::logic_error(what); }

void ThrowNotStartable(const char* fn, std::size_t index) {
  throw std::invalid_argument(std::string(fn) + ": task " + std::to_string(index) +
                              " is empty or has already run");
}

void CheckRunnable(const UvLoop& loop, bool valid, bool done) {
  if (loop.closed()) throw std::invalid_argument("RunUntilComplete: the loop is closed");
  if (!valid || done) throw std::invalid_argument("RunUntilComplete: the task is empty or has already run");
}

void RunRoot(UvLoop& loop, std::coroutine_handle<> root, PromiseBase& promise, const RunOptions& options) {
  Root r(loop.get());
  promise.set_completion(&r);
  std::exception_ptr reason;
  try {
    loop.UpdateTime();  // the loop may have been idle: timers armed by the first resume start now
    r.ArmDeadline(options.timeout);
    Resume(root);
    if (!root.done() && options.on_started) options.on_started();
    const bool stopped = loop.Run();
    if (!root.done()) {
      if (r.timed_out()) {
        reason = std::make_exception_ptr(
            CoroTimeout("RunUntilComplete: the task did not finish within " + Ms(options.timeout)));
      } else if (stopped) {
        reason = std::make_exception_ptr(
            std::runtime_error("RunUntilComplete: the loop was stopped (uv_stop) before the task finished"));
      } else {
        reason = std::make_exception_ptr(std::logic_error(
            "RunUntilComplete: the loop went idle before the task finished (it awaits something "
            "that nothing on the loop will complete)"));
      }
    }
  } catch (...) {
    reason = std::current_exception();
  }
  if (!reason) return;
  Abandon(loop.get(), root, r);
  std::rethrow_exception(reason);
}

}  // namespace coro_detail

// ---- Gather -----------------------------------------------------------------------------------

Task<void> Gather(std::vector<Task<void>> tasks) {
  coro_detail::CheckStartable("Gather", tasks);
  co_await coro_detail::GatherAwaiter<void>(tasks);
  coro_detail::RethrowFirstError(tasks);
}

// ---- Sleep ------------------------------------------------------------------------------------

SleepAwaiter::SleepAwaiter(UvLoop& loop, std::chrono::nanoseconds duration)
    : loop_(loop.get()), deadline_ns_(static_cast<uint64_t>(duration.count())) {
  if (duration.count() < 0) {
    throw std::invalid_argument("Sleep: the duration must be >= 0, got " +
                                std::to_string(duration.count()) + " ns");
  }
}

SleepAwaiter::~SleepAwaiter() {
  switch (state_) {
    case State::kIdle:
    case State::kClosed:
      return;
    case State::kArmed:
      if (!TearingDown()) Orphaned("a pending Sleep");
      uv_close(reinterpret_cast<uv_handle_t*>(&timer_), nullptr);
      return;
    case State::kClosing:  // its close callback sees the teardown and resumes nothing
      if (!TearingDown()) Orphaned("a closing Sleep");
      return;
  }
}

void SleepAwaiter::await_suspend(std::coroutine_handle<> waiter) {
  UvCheck(uv_timer_init(loop_, &timer_), "uv_timer_init");
  state_ = State::kArmed;
  timer_.data = this;
  waiter_ = waiter;
  // Armed for the plain duration from a fresh clock, as a libuv program would; OnTimer catches
  // an early firing. (In a callback the cached clock still holds the iteration's start.)
  uv_update_time(loop_);
  const uint64_t duration_ns = deadline_ns_;
  deadline_ns_ = uv_hrtime() + duration_ns;
  const int rc = uv_timer_start(&timer_, &OnTimer, duration_ns / kNsPerMs, 0);
  if (rc < 0) {
    status_ = rc;
    Close();
  }
}

void SleepAwaiter::await_resume() const {
  if (status_ < 0) throw UvError("uv_timer_start", status_);
}

// libuv counts whole milliseconds of a truncated clock, so a timer can fire up to a millisecond
// before its duration has passed on the steady clock: then it is re-armed for the rest.
void SleepAwaiter::OnTimer(uv_timer_t* timer) {
  auto* a = static_cast<SleepAwaiter*>(timer->data);
  if (uv_hrtime() < a->deadline_ns_) {
    uv_update_time(a->loop_);
    const int rc = uv_timer_start(timer, &OnTimer, TimeoutUntil(a->loop_, a->deadline_ns_), 0);
    if (rc == 0) return;
    a->status_ = rc;
  }
  a->Close();
}

// The coroutine resumes once libuv is done with the timer, so the awaiter (and the frame around
// it) may go as soon as the coroutine moves on.
void SleepAwaiter::Close() noexcept {
  state_ = State::kClosing;
  uv_close(reinterpret_cast<uv_handle_t*>(&timer_), &OnClosed);
}

void SleepAwaiter::OnClosed(uv_handle_t* handle) {
  if (TearingDown()) return;  // the awaiter is already destroyed: touch nothing
  auto* a = static_cast<SleepAwaiter*>(handle->data);
  a->state_ = State::kClosed;
  coro_detail::Resume(a->waiter_);
}

// ---- TCP --------------------------------------------------------------------------------------

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

bool TearingDown() noexcept { return tl_teardown_depth > 0; }

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

// ---- the model's tasks ------------------------------------------------------------------------

Task<int64_t> CoroSleepTask(UvLoop& loop, int64_t index, std::chrono::nanoseconds wait) {
  co_await Sleep(loop, wait);
  co_return SleepTaskResult(index);
}

namespace {

Task<std::vector<int64_t>> SleepOneAfterAnother(UvLoop& loop, int64_t tasks, std::chrono::nanoseconds wait) {
  std::vector<int64_t> results;
  results.reserve(static_cast<size_t>(tasks));
  for (int64_t i = 0; i < tasks; ++i) results.push_back(co_await CoroSleepTask(loop, i, wait));
  co_return results;
}

Task<int64_t> ReturnAtOnce(int64_t index) { co_return SleepTaskResult(index); }

Task<int64_t> AwaitEach(int64_t tasks) {
  int64_t sum = 0;
  for (int64_t i = 0; i < tasks; ++i) sum += co_await ReturnAtOnce(i);
  co_return sum;
}

}  // namespace

std::vector<int64_t> CoroGather(UvLoop& loop, int64_t tasks, std::chrono::milliseconds wait,
                                const RunOptions& options) {
  CheckSleepArgs("CoroGather", tasks, wait);
  std::vector<Task<int64_t>> sleeps;
  sleeps.reserve(static_cast<size_t>(tasks));
  for (int64_t i = 0; i < tasks; ++i) sleeps.push_back(CoroSleepTask(loop, i, wait));
  return RunUntilComplete(loop, Gather(std::move(sleeps)), options);
}

std::vector<int64_t> CoroSequential(UvLoop& loop, int64_t tasks, std::chrono::milliseconds wait,
                                    const RunOptions& options) {
  CheckSleepArgs("CoroSequential", tasks, wait);
  return RunUntilComplete(loop, SleepOneAfterAnother(loop, tasks, wait), options);
}

int64_t CoroDispatch(int64_t tasks) {
  if (tasks < 0) throw std::invalid_argument("CoroDispatch: tasks must be >= 0, got " + std::to_string(tasks));
  const Task<int64_t> parent = AwaitEach(tasks);
  const auto frame = coro_detail::TaskAccess::handle(parent);
  coro_detail::Resume(frame);  // nothing suspends: every child has started, finished and been freed on return
  if (!frame.done()) throw std::logic_error("CoroDispatch: a task suspended");
  return frame.promise().TakeResult();
}

// ---- echo over coroutines ---------------------------------------------------------------------

namespace {

// `verified`, when given, counts the replies verified (for the batch's timeout message).
Task<int64_t> EchoExchange(UvLoop& loop, sockaddr_in server, const EchoBatch& batch, int64_t task,
                           bool close_with_reset, int64_t* verified) {
  const std::span<const uint8_t> payload = batch.payload(task);
  const size_t want = kEchoHeaderBytes + payload.size();
  const auto where = [&] {
    return "echo " + FormatAddress(server) + ": task " + std::to_string(task) + " of " +
           std::to_string(batch.tasks()) + ": ";
  };
  std::array<uint8_t, kEchoHeaderBytes> header;  // (a C array in a frame trips GCC 12)
  std::vector<uint8_t> reply(payload.size());
  size_t have = 0;  // reply bytes, header included
  try {
    TcpStream stream = co_await TcpStream::Connect(loop, server);
    EncodeEchoHeader(static_cast<uint32_t>(payload.size()), header.data());
    co_await stream.Write(header, payload);
    have = co_await stream.ReadExactly(header);
    if (have < kEchoHeaderBytes) throw UvError("read", UV_EOF);
    if (const uint32_t announced = DecodeEchoHeader(header.data()); announced != payload.size()) {
      throw EchoError(EchoErrorKind::kProtocol, where() + "reply announces " + std::to_string(announced) +
                                                    " bytes, the request had " + std::to_string(payload.size()));
    }
    have += co_await stream.ReadExactly(reply);
    if (have < want) throw UvError("read", UV_EOF);
    if (!std::equal(reply.begin(), reply.end(), payload.begin())) {
      const auto diff = std::mismatch(reply.begin(), reply.end(), payload.begin());
      throw EchoError(EchoErrorKind::kMismatch, where() + "reply differs from the request at byte " +
                                                    std::to_string(diff.first - reply.begin()) + " of " +
                                                    std::to_string(payload.size()));
    }
    stream.Close(close_with_reset);
    if (verified != nullptr) ++*verified;
    co_return EchoDigest(reply);
  } catch (const UvError& e) {
    throw EchoError(EchoErrorKindOfUv(e.status()),
                    where() + DescribeEchoUvFailure(e.call(), e.status(), have, want));
  }
}

}  // namespace

Task<int64_t> CoroEchoTask(UvLoop& loop, const sockaddr_in& server, const EchoBatch& batch, int64_t task,
                           bool close_with_reset) {
  return EchoExchange(loop, server, batch, task, close_with_reset, nullptr);
}

std::vector<int64_t> CoroEchoBatch(UvLoop& loop, const sockaddr_in& server, const EchoBatch& batch,
                                   const AsyncEchoOptions& options) {
  if (batch.tasks() == 0) return {};
  const auto timeout = std::max(options.timeout, std::chrono::milliseconds(1));
  int64_t verified = 0;
  std::vector<Task<int64_t>> exchanges;
  exchanges.reserve(static_cast<size_t>(batch.tasks()));
  for (int64_t i = 0; i < batch.tasks(); ++i) {
    exchanges.push_back(EchoExchange(loop, server, batch, i, options.close_with_reset, &verified));
  }
  try {
    return RunUntilComplete(loop, Gather(std::move(exchanges)), {.timeout = timeout, .on_started = {}});
  } catch (const CoroTimeout&) {
    throw EchoError(EchoErrorKind::kTimeout, "echo " + FormatAddress(server) + ": " +
                                                 std::to_string(batch.tasks() - verified) + " of " +
                                                 std::to_string(batch.tasks()) + " replies missing after " +
                                                 Ms(timeout));
  }
}

}  // namespace concbench
