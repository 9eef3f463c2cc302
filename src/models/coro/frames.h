// Coroutine frame accounting: the Task frames (models/coro/task.h) this thread has alive, their
// bytes and their peak, counted where the frames are allocated.
//
// What it is for: measuring what a pending coroutine costs (the `frame_bytes` counter, the memory
// of a million pending tasks) with the compiler's real frame sizes, not an estimate.
//
// What it guarantees: every Task frame is allocated through its promise's operator new, which
// calls AllocateFrame, and freed through its operator delete, which calls FreeFrame, each with the
// size the compiler asked for; CoroFrames() gives this thread's live frames and bytes, their peak,
// and the size of the last frame allocated. While RunUntilComplete (models/coro/run.h) tears an
// abandoned run down on this thread, FreeFrame keeps a frame instead of freeing it, because the
// handles its awaiters just closed are still in libuv's close queue; the teardown frees the kept
// frames once libuv is done with them (FreeKeptFrames), and only then do they stop counting.
//
// What it requires: nothing. The counts are per thread: a thread sees only the frames it
// allocated, which are all the frames of the runs it started.
//
//   const Task<int64_t> one = CoroSleepTask(loop, 0, 0ns);  // allocates the frame, runs nothing
//   int64_t frame_bytes = CoroFrames().last_frame_bytes;    // its size, as the compiler made it
//   ResetCoroFramePeak();  // peak_live_bytes now measures what follows
#pragma once

#include <cstddef>
#include <cstdint>

namespace concbench {

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
// Frees and uncounts the frame, or keeps it while a teardown runs on this thread (TearingDown(),
// models/coro/detail/teardown.h).
void FreeFrame(void* frame, std::size_t bytes) noexcept;
// Frees and uncounts every frame kept since the last call; the end of a teardown calls it.
void FreeKeptFrames() noexcept;

}  // namespace coro_detail
}  // namespace concbench
