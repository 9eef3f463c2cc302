#include "models/coro/frames.h"

#include <algorithm>
#include <new>
#include <utility>
#include <vector>

#include "models/coro/detail/teardown.h"

namespace concbench {
namespace {

constinit thread_local CoroFrameStats tl_frames;

// Frames freed during a teardown, kept until libuv has finished closing the handles in them.
thread_local std::vector<std::pair<void*, std::size_t>> tl_kept_frames;

void ReleaseFrame(void* frame, std::size_t bytes) noexcept {
  CoroFrameStats& s = tl_frames;
  --s.live_frames;
  s.live_bytes -= static_cast<int64_t>(bytes);
  ::operator delete(frame, bytes);
}

}  // namespace

CoroFrameStats CoroFrames() noexcept { return tl_frames; }

void ResetCoroFramePeak() noexcept { tl_frames.peak_live_bytes = tl_frames.live_bytes; }

namespace coro_detail {

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

void FreeKeptFrames() noexcept {
  for (const auto& [frame, bytes] : tl_kept_frames) ReleaseFrame(frame, bytes);
  tl_kept_frames.clear();
}

}  // namespace coro_detail
}  // namespace concbench
