// The `async.coro` model: C++20 coroutines on the libuv event loop of sys/uv_loop.h, the
// notebook's `async def`, `await asyncio.sleep(...)` and `asyncio.gather(*tasks)` (sections 3
// and 3.1), on the same loop as the callback model of models/async.h.
//
// What it is for: writing a task the way the notebook does — a function that awaits a sleep or a
// socket and returns a value — running many at once on one loop in the calling thread, and
// measuring what a coroutine costs beside a bare callback (time per task, frame bytes per pending
// task):
//
//   Task<int64_t> TareaIo(UvLoop& loop, int64_t i) { co_await Sleep(loop, 500ms); co_return i + 1; }
//   for (int64_t i = 0; i < 5; ++i) tasks.push_back(TareaIo(loop, i));  // std::vector<Task<int64_t>>
//   std::vector<int64_t> results = RunUntilComplete(loop, Gather(std::move(tasks)));  // ~0.5 s: 1..5
//
// Tasks. Task<T> (and Task<void>) is a lazy coroutine: calling a coroutine function allocates its
// frame and runs nothing; the body starts when the task is awaited (`co_await std::move(task)`),
// gathered, or handed to RunUntilComplete. A task is move-only and owns its frame: destroying the
// Task destroys the frame. A task runs at most once; awaiting an empty or finished task throws
// std::logic_error. Awaiting a task and finishing one are symmetric transfers: the coroutine that
// suspends hands the next one (the awaited task, or the finished task's awaiter) to the resume loop
// running it, which runs it from the same stack depth; so neither a deep chain of nested awaits nor
// a loop awaiting many tasks that finish at once grows the stack, in every build (see
// coro_detail::Resume for why this does not return the handle from await_suspend).
//
// Errors. An exception thrown in a task is stored in its frame and rethrown by `co_await` in the
// coroutine that awaits it, and by RunUntilComplete for the task it runs. Gather waits for every
// task, also after one has thrown (nothing is cancelled), and then rethrows the exception of the
// first task in input order that threw; the other tasks' exceptions are dropped. (asyncio.gather
// raises the first exception in time at once and leaves the other tasks running.)
//
// Timers. `co_await Sleep(loop, d)` never ends early: it lasts at least `d` on the steady clock
// (uv_hrtime), by the callback model's rule — armed for the plain duration from a refreshed loop
// clock, and re-armed for the rest (TimeoutUntil) when libuv's truncated millisecond clock fires
// it early. The uv_timer_t lives in the awaiter, hence in the awaiting coroutine's frame: a
// pending sleep costs no allocation of its own. A sleep of 0 still yields to the loop once.
//
// Resumption: a coroutine is resumed only (1) by RunUntilComplete's first resume, outside any
// libuv call; (2) by the resume loop, when the coroutine before it hands it over (an awaited task
// starting, an awaiter whose task finished); (3) by Gather, which starts its tasks one after another
// from its own await (each runs to its first suspension); or (4) from a libuv callback that allows
// any libuv call: a timer's close callback (Sleep), and the connect, write and read callbacks of
// TcpStream. Never from inside uv_close, uv_walk or uv_run's own call, and never re-entrantly:
// nothing here calls uv_run from a callback.
//
// Ownership and shutdown. A frame is owned by its Task, and a started task's Task by what awaits
// it (the awaiting frame, Gather's frame, or RunUntilComplete), so all frames of a run hang from
// the task RunUntilComplete runs, and only that tree's owner ever destroys a suspended frame. A
// Sleep closes its timer before it resumes its coroutine (it resumes from the close callback), and
// a TcpStream's handle is an allocation of its own, freed by its close callback, so a frame that
// finishes, or unwinds from an exception, leaves libuv no pointer into it.
// RunUntilComplete abandons a run when its timeout expires, when the loop is stopped (uv_stop) or
// goes idle before the task finished, or when RunOptions::on_started throws. It then (1) destroys
// the task's frame and with it every suspended frame below it: each awaiter's destructor closes
// its handle (an armed timer, a connecting socket), each TcpStream's destructor its socket, and
// the promise's operator delete keeps the frames' memory instead of freeing it; (2) runs one
// UV_RUN_NOWAIT iteration, in which libuv finishes those closes and cancels the requests of the
// closed sockets, with every coroutine callback disarmed (none resumes anything); (3) frees the
// kept frames; (4) throws the reason. So whether RunUntilComplete returns or throws, no frame of
// the run is alive, no handle it opened is left, and the loop can be run again or closed
// (uv_loop_close returns 0). Coroutines run only inside RunUntilComplete, and a UvLoop cannot be
// closed from its own callbacks, so a loop is never destroyed under a suspended coroutine. An
// awaiter destroyed with its handle open outside that teardown (a suspended frame freed some other
// way) would leave libuv a dangling pointer; it aborts the process with a message instead.
//
// Frame accounting. Every Task frame is allocated through its promise's operator new, which
// counts it: CoroFrames() gives this thread's live frames and bytes, their peak, and the size of
// the last frame allocated — the compiler's real frame size, not an estimate.
//
// Requirements: one thread per loop, as libuv requires; a task runs on the thread of the
// RunUntilComplete that started it. RunUntilComplete must not be called from a callback of the
// same loop, and the loop must have no other active handle (it runs the loop until idle, as the
// functions of models/async.h do). A Task is awaited only from a Task coroutine (the resume loop
// runs what a suspending Task hands over). Reference parameters of a coroutine must outlive its
// task.
//
// Cost targets (measured by the benchmarks, not here): per task at sleep 0 and 100,000 tasks at
// most 1.5× AsyncGather's; at most 0.4 KiB per pending coroutine at 1,000,000 tasks. SleepTask's
// frame is 280 bytes with GCC 12 (its uv_timer_t is 152); Gather keeps one Task handle per task
// and reads the results out of the finished frames, with no std::function or shared state per
// task.
#pragma once

#include <netinet/in.h>
#include <uv.h>

#include <chrono>
#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <span>
#include <stdexcept>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "models/async_echo.h"
#include "sys/uv_loop.h"
#include "workload/echo_protocol.h"

namespace concbench {

template <class T = void>
class Task;

// ---- frame accounting -------------------------------------------------------------------------

// This thread's coroutine frames (those of Task coroutines), counted by the promise's operator new
// and operator delete with the sizes the compiler asked for.
struct CoroFrameStats {
  int64_t live_frames = 0;       // allocated and not yet freed
  int64_t live_bytes = 0;        // their total size
  int64_t peak_live_bytes = 0;   // the most live_bytes since the thread began or ResetCoroFramePeak()
  int64_t frames_allocated = 0;  // since the thread began
  int64_t last_frame_bytes = 0;  // the size of the most recently allocated frame
};

CoroFrameStats CoroFrames() noexcept;
// Sets peak_live_bytes to the current live_bytes, so the next peak is that of what follows.
void ResetCoroFramePeak() noexcept;

namespace coro_detail {

void* AllocateFrame(std::size_t bytes);
void FreeFrame(void* frame, std::size_t bytes) noexcept;

// Symmetric transfer without relying on tail calls. A coroutine that suspends in favour of
// another (an awaited task to start, or the awaiter of a task that finished) hands that one over
// instead of returning it from await_suspend, and the Resume() loop that resumed the suspending
// coroutine runs it next, from the same stack depth. (Returning the handle is the standard way,
// but GCC 12 makes that a tail call only when optimising without sanitizers: under ASan, TSan or
// -O0 every transfer nested a call, and a coroutine awaiting 10,000 tasks that finish at once
// overflowed the stack.) Every resumption in this file goes through Resume().
extern constinit thread_local std::coroutine_handle<> tl_handed_over;

inline void HandOver(std::coroutine_handle<> next) noexcept { tl_handed_over = next; }

inline void Resume(std::coroutine_handle<> h) noexcept {
  while (h) {
    h.resume();
    h = std::exchange(tl_handed_over, {});
  }
}

// Who is told that a task finished: the awaiting coroutine, a Gather, or RunUntilComplete. A plain
// function pointer (no std::function, no virtual call through a vtable pointer in every promise):
// `on_done` returns the coroutine to run next, or a null handle.
struct Completion {
  std::coroutine_handle<> (*on_done)(Completion* self) noexcept;
};

class PromiseBase {
 public:
  static void* operator new(std::size_t bytes) { return AllocateFrame(bytes); }
  static void operator delete(void* frame, std::size_t bytes) noexcept { FreeFrame(frame, bytes); }

  std::suspend_always initial_suspend() const noexcept { return {}; }

  struct FinalAwaiter {
    bool await_ready() const noexcept { return false; }
    template <class P>
    void await_suspend(std::coroutine_handle<P> self) noexcept {
      if (Completion* c = self.promise().completion()) HandOver(c->on_done(c));
    }
    void await_resume() const noexcept {}
  };
  FinalAwaiter final_suspend() const noexcept { return {}; }

  Completion* completion() const noexcept { return completion_; }
  void set_completion(Completion* c) noexcept { completion_ = c; }

 private:
  Completion* completion_ = nullptr;
};

template <class T>
class Promise : public PromiseBase {
  static_assert(!std::is_reference_v<T>, "Task<T&> is not supported: return a pointer or a value");

 public:
  Task<T> get_return_object() noexcept;

  template <class U = T>
    requires std::is_constructible_v<T, U&&>
  void return_value(U&& value) noexcept(std::is_nothrow_constructible_v<T, U&&>) {
    result_.template emplace<1>(std::forward<U>(value));
  }
  void unhandled_exception() noexcept { result_.template emplace<2>(std::current_exception()); }

  std::exception_ptr error() const noexcept {
    return result_.index() == 2 ? std::get<2>(result_) : nullptr;
  }
  // The value co_returned (moved out), or the exception rethrown. Only after the task finished.
  T TakeResult() {
    if (result_.index() == 2) std::rethrow_exception(std::get<2>(result_));
    return std::move(std::get<1>(result_));
  }

 private:
  std::variant<std::monostate, T, std::exception_ptr> result_;
};

template <>
class Promise<void> : public PromiseBase {
 public:
  Task<void> get_return_object() noexcept;
  void return_void() const noexcept {}
  void unhandled_exception() noexcept { error_ = std::current_exception(); }
  std::exception_ptr error() const noexcept { return error_; }
  void TakeResult() const {
    if (error_) std::rethrow_exception(error_);
  }

 private:
  std::exception_ptr error_;
};

struct TaskAccess;

[[noreturn]] void ThrowNotAwaitable(const char* what);

}  // namespace coro_detail

// ---- Task -------------------------------------------------------------------------------------

template <class T>
class [[nodiscard]] Task {
 public:
  using promise_type = coro_detail::Promise<T>;

  Task() noexcept = default;  // empty: owns no frame
  Task(Task&& other) noexcept : frame_(std::exchange(other.frame_, {})) {}
  Task& operator=(Task&& other) noexcept {
    if (this != &other) {
      Reset();
      frame_ = std::exchange(other.frame_, {});
    }
    return *this;
  }
  Task(const Task&) = delete;
  Task& operator=(const Task&) = delete;
  ~Task() { Reset(); }

  bool valid() const noexcept { return static_cast<bool>(frame_); }
  bool done() const noexcept { return frame_ && frame_.done(); }

  // `co_await std::move(task)`: runs the task until it finishes (the awaiting coroutine is
  // suspended meanwhile) and gives its result or rethrows its exception.
  auto operator co_await() && noexcept { return Awaiter(frame_); }

 private:
  using Handle = std::coroutine_handle<promise_type>;
  friend promise_type;
  friend struct coro_detail::TaskAccess;

  explicit Task(Handle frame) noexcept : frame_(frame) {}
  void Reset() noexcept {
    if (frame_) std::exchange(frame_, {}).destroy();
  }

  struct Awaiter : coro_detail::Completion {
    explicit Awaiter(Handle child) noexcept : Completion{&ResumeParent}, child_(child) {}
    bool await_ready() const noexcept { return false; }
    void await_suspend(std::coroutine_handle<> parent) {
      if (!child_) coro_detail::ThrowNotAwaitable("co_await on an empty Task");
      if (child_.done()) coro_detail::ThrowNotAwaitable("co_await on a Task that already ran");
      parent_ = parent;
      child_.promise().set_completion(this);
      coro_detail::HandOver(child_);  // symmetric transfer into the child
    }
    T await_resume() { return child_.promise().TakeResult(); }

   private:
    static std::coroutine_handle<> ResumeParent(Completion* self) noexcept {
      return static_cast<Awaiter*>(self)->parent_;
    }
    Handle child_;
    std::coroutine_handle<> parent_;
  };

  Handle frame_;
};

namespace coro_detail {

template <class T>
Task<T> Promise<T>::get_return_object() noexcept {
  return Task<T>(std::coroutine_handle<Promise<T>>::from_promise(*this));
}
inline Task<void> Promise<void>::get_return_object() noexcept {
  return Task<void>(std::coroutine_handle<Promise<void>>::from_promise(*this));
}

struct TaskAccess {
  template <class T>
  static std::coroutine_handle<Promise<T>> handle(const Task<T>& t) noexcept {
    return t.frame_;
  }
  template <class T>
  static std::coroutine_handle<Promise<T>> Release(Task<T>& t) noexcept {
    return std::exchange(t.frame_, {});
  }
  template <class T>
  static Task<T> Adopt(std::coroutine_handle<Promise<T>> h) noexcept {
    return Task<T>(h);
  }
};

// Throws std::invalid_argument naming `fn` unless every task is valid and not yet run.
template <class T>
void CheckStartable(const char* fn, const std::vector<Task<T>>& tasks);
void ThrowNotStartable(const char* fn, std::size_t index);

template <class T>
void CheckStartable(const char* fn, const std::vector<Task<T>>& tasks) {
  for (std::size_t i = 0; i < tasks.size(); ++i) {
    if (!tasks[i].valid() || tasks[i].done()) ThrowNotStartable(fn, i);
  }
}

// Starts every task in input order from its own await_suspend and resumes the awaiting coroutine
// once all have finished. `pending_` counts the starting loop as one more task, so a task that
// finishes while the others are still being started never resumes the awaiter early.
template <class T>
class GatherAwaiter : public Completion {
 public:
  explicit GatherAwaiter(std::vector<Task<T>>& tasks) noexcept
      : Completion{&OnTaskDone}, tasks_(tasks) {}
  bool await_ready() const noexcept { return tasks_.empty(); }
  bool await_suspend(std::coroutine_handle<> waiter) noexcept {
    waiter_ = waiter;
    pending_ = tasks_.size() + 1;
    for (Task<T>& t : tasks_) {
      const auto h = TaskAccess::handle(t);
      h.promise().set_completion(this);
      Resume(h);
    }
    return --pending_ != 0;  // false: every task finished while starting; go on at once
  }
  void await_resume() const noexcept {}

 private:
  static std::coroutine_handle<> OnTaskDone(Completion* self) noexcept {
    auto* g = static_cast<GatherAwaiter*>(self);
    return --g->pending_ == 0 ? g->waiter_ : std::coroutine_handle<>();
  }
  std::vector<Task<T>>& tasks_;
  std::size_t pending_ = 0;
  std::coroutine_handle<> waiter_;
};

template <class T>
void RethrowFirstError(const std::vector<Task<T>>& tasks) {
  for (const Task<T>& t : tasks) {
    if (auto e = TaskAccess::handle(t).promise().error()) std::rethrow_exception(e);
  }
}

}  // namespace coro_detail

// ---- Gather -----------------------------------------------------------------------------------

// asyncio.gather: starts every task at once (in input order, each running to its first
// suspension), waits for all of them and returns their results in input order, whatever order
// they finished in. If any threw, rethrows the first in input order once all have finished (see
// Errors above). An empty or already-run task in `tasks` throws std::invalid_argument when the
// gather is awaited. Gather arms nothing itself, so it needs no loop: each task names its own.
template <class T>
  requires(!std::is_void_v<T>)
Task<std::vector<T>> Gather(std::vector<Task<T>> tasks) {
  coro_detail::CheckStartable("Gather", tasks);
  co_await coro_detail::GatherAwaiter<T>(tasks);
  coro_detail::RethrowFirstError(tasks);
  std::vector<T> results;
  results.reserve(tasks.size());
  for (Task<T>& t : tasks) results.push_back(coro_detail::TaskAccess::handle(t).promise().TakeResult());
  co_return results;
}

Task<void> Gather(std::vector<Task<void>> tasks);

// ---- Sleep ------------------------------------------------------------------------------------

// The awaiter of `co_await Sleep(loop, d)`. It holds the timer, so it must stay where it was
// made: it cannot be copied or moved, and is only meant to be awaited at once.
class [[nodiscard]] SleepAwaiter {
 public:
  SleepAwaiter(UvLoop& loop, std::chrono::nanoseconds duration);  // duration ≥ 0
  SleepAwaiter(const SleepAwaiter&) = delete;
  SleepAwaiter& operator=(const SleepAwaiter&) = delete;
  ~SleepAwaiter();

  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<> waiter);  // throws UvError if uv_timer_init fails
  void await_resume() const;  // throws UvError if libuv refused to arm the timer

 private:
  enum class State : uint8_t { kIdle, kArmed, kClosing, kClosed };
  static void OnTimer(uv_timer_t* timer);
  static void OnClosed(uv_handle_t* handle);
  void Close() noexcept;

  uv_timer_t timer_;  // its data points back here
  uv_loop_t* loop_;
  uint64_t deadline_ns_;  // the duration until armed, then uv_hrtime() at arming + duration
  std::coroutine_handle<> waiter_;
  int status_ = 0;  // < 0: the uv_timer_start failure await_resume throws
  State state_ = State::kIdle;
};

// Suspends the awaiting coroutine for at least `duration` (≥ 0; std::invalid_argument
// otherwise). A duration is stored in nanoseconds; libuv's timers count milliseconds, so a
// sub-millisecond rest is waited for by a re-arm.
inline SleepAwaiter Sleep(UvLoop& loop, std::chrono::nanoseconds duration) {
  return SleepAwaiter(loop, duration);
}

// ---- TCP --------------------------------------------------------------------------------------

// A connected TCP socket on a loop, for coroutines: `co_await TcpStream::Connect(loop, server)`,
// then `co_await stream.Write(header, payload)` and `co_await stream.ReadExactly(buffer)`.
// An operation that fails throws UvError naming the step ("connect", "write", "read", or the uv_*
// call that refused to start it); end of file is not a failure (ReadExactly gives fewer bytes).
// One operation at a time: a stream is used by one coroutine, which
// awaits each operation before the next. Its handle is allocated on its own (not in a frame) and
// freed by its close callback, so a stream can be closed from a destructor while the loop still
// needs the handle for a moment. A TcpStream must be destroyed (it closes itself) before its loop
// is closed and must not outlive the frames that await on it.
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
  // Aborts if the request is still in flight outside a teardown (see Ownership and shutdown).
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

// True while RunUntilComplete tears an abandoned run down on this thread.
bool TearingDown() noexcept;

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

// ---- running ----------------------------------------------------------------------------------

struct RunOptions {
  // Abandon the run (CoroTimeout) once this much time has passed with the task unfinished.
  // Zero: no limit.
  std::chrono::milliseconds timeout{0};
  // Called once the task has run to its first suspension — every gathered task has started and
  // is pending — and before the loop runs: the moment a memory measurement sees every task alive.
  // Not called if the task finished without suspending. An exception from it abandons the run
  // and is rethrown.
  std::function<void()> on_started;
};

// What RunUntilComplete throws when RunOptions::timeout expires.
class CoroTimeout : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

namespace coro_detail {
// Runs `root` to completion on `loop`, or abandons the run: destroys `root` and every frame below
// it, frees their memory once libuv has finished closing their handles, and throws the reason.
void RunRoot(UvLoop& loop, std::coroutine_handle<> root, PromiseBase& promise, const RunOptions& options);
void CheckRunnable(const UvLoop& loop, bool valid, bool done);
}  // namespace coro_detail

// asyncio's loop.run_until_complete: starts `task` on `loop`, runs the loop until the task has
// finished and the loop is idle, and returns the task's result or rethrows its exception. Throws
// std::invalid_argument for an empty or already-run task or a closed loop; CoroTimeout when
// `options.timeout` expires; std::runtime_error when the loop is stopped (uv_stop) and
// std::logic_error when it goes idle before the task finished; UvError when arming the timeout
// fails. Every throw after the task started abandons the run as described above (Ownership and
// shutdown): nothing of it is left.
template <class T>
T RunUntilComplete(UvLoop& loop, Task<T> task, const RunOptions& options = {}) {
  coro_detail::CheckRunnable(loop, task.valid(), task.done());
  const auto frame = coro_detail::TaskAccess::Release(task);
  coro_detail::RunRoot(loop, frame, frame.promise(), options);
  // Finished: the Task frees the frame once the result is out (or thrown).
  const Task<T> finished = coro_detail::TaskAccess::Adopt(frame);
  return frame.promise().TakeResult();
}

// ---- the model's tasks, for the benchmarks ---------------------------------------------------

// One simulated-I/O task: `co_await Sleep(loop, wait)`, then `co_return SleepTaskResult(index)`
// (index + 1, the result every model's sleep task gives).
Task<int64_t> CoroSleepTask(UvLoop& loop, int64_t index, std::chrono::nanoseconds wait);

// `tasks` CoroSleepTasks gathered (asyncio.gather), results in input order: about one `wait` in all.
// tasks ≥ 0 and wait ≥ 0 (std::invalid_argument otherwise).
std::vector<int64_t> CoroGather(UvLoop& loop, int64_t tasks, std::chrono::milliseconds wait,
                                const RunOptions& options = {});

// `tasks` CoroSleepTasks awaited one after another (`await` in a loop): about `tasks` waits.
std::vector<int64_t> CoroSequential(UvLoop& loop, int64_t tasks, std::chrono::milliseconds wait,
                                    const RunOptions& options = {});

// The cost of one coroutine: creates, starts, finishes and destroys `tasks` (≥ 0) coroutines
// that return at once (task i returns SleepTaskResult(i)), each awaited in turn by one parent
// coroutine, without a loop (nothing suspends). Returns Σ results = SleepBatchChecksum(tasks).
int64_t CoroDispatch(int64_t tasks);

// ---- echo over coroutines ---------------------------------------------------------------------

// Task `task` of `batch` as one coroutine: connect to `server`, write the request frame
// (workload/echo_protocol.h), read the reply frame, check it byte for byte against what was sent
// and give EchoDigest(reply). Throws EchoError (workload/echo_client.h) worded as the callback
// client's (async_echo.h): "echo 127.0.0.1:40321: task 3 of 5: connect failed: ...". The
// connection is closed with a reset when `close_with_reset` (see EchoClientOptions). `batch`
// must outlive the task.
Task<int64_t> CoroEchoTask(UvLoop& loop, const sockaddr_in& server, const EchoBatch& batch,
                           int64_t task, bool close_with_reset = true);

// Every task of `batch` gathered on `loop`, each on its own connection, all at once: the
// digests in task order (their sum is batch.expected_checksum()). The whole batch is bounded by
// options.timeout (EchoError kTimeout: "5 of 5 replies missing after 200 ms"); otherwise the
// first failed task in task order is rethrown once every task has finished. No handle and no
// descriptor outlives the call. Needs one descriptor per task.
std::vector<int64_t> CoroEchoBatch(UvLoop& loop, const sockaddr_in& server, const EchoBatch& batch,
                                   const AsyncEchoOptions& options = {});

}  // namespace concbench
