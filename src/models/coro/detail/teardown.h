// The teardown of an abandoned run, as the frames and awaiters of models/coro/ see it. Internal:
// only the files of models/coro/ include it.
//
// What it is for: RunUntilComplete (models/coro/run.h) abandons a run by destroying the task's
// frame, and with it every suspended frame below it, while libuv still holds pointers to the
// handles and requests in those frames. A Teardown scope makes that safe: while one is open on
// this thread, FreeFrame (models/coro/frames.h) keeps frames instead of freeing them, each
// awaiter's destructor closes the handle it still holds, and every libuv callback of an awaiter
// checks TearingDown() first and then touches nothing (its awaiter is already destroyed) and
// resumes nothing. When the outermost scope ends, the kept frames are freed.
//
// What it guarantees outside a teardown: an awaiter destroyed with its handle open (a suspended
// frame freed some other way) would leave libuv a dangling pointer; it calls Orphaned instead,
// which aborts the process with a message.
//
//   { const Teardown teardown; root.destroy(); uv_run(loop, UV_RUN_NOWAIT); }  // frames kept
//   // the scope has ended: the kept frames are freed
//   static void OnClosed(uv_handle_t* h) { if (TearingDown()) return; /* resume the waiter */ }
#pragma once

namespace concbench::coro_detail {

// True while RunUntilComplete tears an abandoned run down on this thread.
bool TearingDown() noexcept;

// Marks a teardown on this thread for as long as it lives (scopes nest); the last one to end
// frees the frames kept meanwhile.
class Teardown {
 public:
  Teardown() noexcept;
  ~Teardown();
  Teardown(const Teardown&) = delete;
  Teardown& operator=(const Teardown&) = delete;
};

// An awaiter (`what`) destroyed with its handle open outside a teardown: the frame is about to be
// freed while libuv still holds a pointer into it. Prints why and aborts.
[[noreturn]] void Orphaned(const char* what);

}  // namespace concbench::coro_detail
