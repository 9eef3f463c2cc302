#include "models/coro/task.h"

#include <stdexcept>

namespace concbench::coro_detail {

constinit thread_local std::coroutine_handle<> tl_handed_over;

void ThrowNotAwaitable(const char* what) { throw std::logic_error(what); }

}  // namespace concbench::coro_detail
