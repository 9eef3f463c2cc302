#include "models/sync.h"

#include <gtest/gtest.h>

#include <stdexcept>

#include "measure/timer.h"
#include "workload/sleep.h"

namespace concbench {
namespace {

TEST(SyncTest, RunsTasksInOrderAndReturnsTheirResults) {
  std::vector<int64_t> order;
  const int64_t in[] = {5, 3, 9};
  const auto out = RunSync(in, [&](int64_t x) {
    order.push_back(x);
    return x * 2;
  });
  EXPECT_EQ(order, (std::vector<int64_t>{5, 3, 9}));
  EXPECT_EQ(out, (std::vector<int64_t>{10, 6, 18}));
}

TEST(SyncTest, SleepsAddUp) {
  const int64_t in[] = {0, 1, 2, 3, 4};
  Stopwatch w;
  const auto out = RunSync(in, [](int64_t i) { return SleepTask(i, std::chrono::milliseconds(20)); });
  EXPECT_GE(w.ElapsedSeconds(), 5 * 0.020);
  EXPECT_EQ(out, (std::vector<int64_t>{1, 2, 3, 4, 5}));
}

TEST(SyncTest, ExceptionStopsTheBatch) {
  int ran = 0;
  const int64_t in[] = {0, 1, 2};
  EXPECT_THROW(RunSync(in,
                       [&](int64_t x) -> int64_t {
                         ++ran;
                         if (x == 1) throw std::runtime_error("boom");
                         return x;
                       }),
               std::runtime_error);
  EXPECT_EQ(ran, 2);
}

TEST(SyncTest, EmptyInputGivesEmptyOutput) {
  EXPECT_TRUE(RunSync({}, [](int64_t x) { return x; }).empty());
}

}  // namespace
}  // namespace concbench
