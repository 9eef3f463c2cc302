#include "sys/uv_loop.h"

#include <cstdio>
#include <cstdlib>
#include <exception>

namespace concbench {
namespace {

constexpr uint64_t kNsPerMs = 1'000'000;

void CloseUnlessClosing(uv_handle_t* handle, void* /*arg*/) {
  if (!uv_is_closing(handle)) uv_close(handle, nullptr);
}

void CountHandle(uv_handle_t* /*handle*/, void* arg) { ++*static_cast<int64_t*>(arg); }

}  // namespace

std::string UvErrorMessage(std::string_view call, int status) {
  std::string s(call);
  s += ": ";
  s += uv_strerror(status);
  s += " (";
  s += uv_err_name(status);
  s += ")";
  return s;
}

UvError::UvError(std::string_view call, int status)
    : std::runtime_error(UvErrorMessage(call, status)), call_(call), status_(status) {}

uint64_t TimeoutUntil(const uv_loop_t* loop, uint64_t deadline_ns) {
  const uint64_t now_ns = uv_now(loop) * kNsPerMs;
  if (deadline_ns <= now_ns) return 0;
  return (deadline_ns - now_ns + kNsPerMs - 1) / kNsPerMs;
}

UvLoop::UvLoop() {
  UvCheck(uv_loop_init(&loop_), "uv_loop_init");
  open_ = true;
}

UvLoop::~UvLoop() {
  try {
    Close();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "concbench: fatal: ~UvLoop: %s\n", e.what());
    std::abort();
  }
}

bool UvLoop::Run() { return uv_run(&loop_, UV_RUN_DEFAULT) != 0; }

int64_t UvLoop::CountHandles() const {
  int64_t n = 0;
  // uv_walk does not modify the loop; its signature just is not const-correct.
  uv_walk(const_cast<uv_loop_t*>(&loop_), CountHandle, &n);
  return n;
}

void UvLoop::Close() {
  if (!open_) return;
  uv_walk(&loop_, CloseUnlessClosing, nullptr);
  // Every handle is now closing, so only their close callbacks and in-flight requests
  // (uv_queue_work, fs, ...) keep the loop alive; run until both are done.
  uv_run(&loop_, UV_RUN_DEFAULT);
  UvCheck(uv_loop_close(&loop_), "uv_loop_close");
  open_ = false;
}

}  // namespace concbench
