#include "models/coro/gather.h"

#include <stdexcept>
#include <string>

namespace concbench {

namespace coro_detail {

void ThrowNotStartable(const char* fn, std::size_t index) {
  throw std::invalid_argument(std::string(fn) + ": task " + std::to_string(index) +
                              " is empty or has already run");
}

}  // namespace coro_detail

Task<void> Gather(std::vector<Task<void>> tasks) {
  coro_detail::CheckStartable("Gather", tasks);
  co_await coro_detail::GatherAwaiter<void>(tasks);
  coro_detail::RethrowFirstError(tasks);
}

}  // namespace concbench
