#include "models/coro/detail/teardown.h"

#include <cstdio>
#include <cstdlib>

#include "models/coro/frames.h"

namespace concbench::coro_detail {
namespace {

constinit thread_local int tl_teardown_depth = 0;

}  // namespace

bool TearingDown() noexcept { return tl_teardown_depth > 0; }

Teardown::Teardown() noexcept { ++tl_teardown_depth; }

Teardown::~Teardown() {
  if (--tl_teardown_depth != 0) return;
  FreeKeptFrames();
}

void Orphaned(const char* what) {
  std::fprintf(stderr,
               "concbench: fatal: %s was destroyed while libuv still used it, outside "
               "RunUntilComplete's teardown (a suspended coroutine's frame freed by hand?)\n",
               what);
  std::abort();
}

}  // namespace concbench::coro_detail
