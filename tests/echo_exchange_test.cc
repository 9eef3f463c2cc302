#include "models/echo_exchange.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "echo_test_support.h"
#include "measure/timer.h"
#include "sys/uv_loop.h"
#include "workload/echo_protocol.h"
#include "workload/echo_server.h"

namespace concbench {
namespace {

using std::chrono::milliseconds;

// Records the callbacks an exchange makes.
struct Owner final : EchoExchangeOwner {
  struct Failure {
    int64_t task;
    EchoErrorKind kind;
    std::string what;
  };
  std::vector<std::pair<int64_t, int64_t>> replies;  // task, digest
  std::vector<Failure> failures;

  void OnEchoReply(int64_t task, int64_t digest) override { replies.emplace_back(task, digest); }
  void OnEchoFailure(int64_t task, EchoErrorKind kind, const std::string& what) override {
    failures.push_back({task, kind, what});
  }
};

TEST(EchoExchangeTest, OneRequestGivesTheDigestOfItsReply) {
  FdLeakCheck fds;
  EchoServer server({.delay = milliseconds(10)});
  // 1 MiB: more than a loopback socket buffer holds, so the reply arrives in several reads.
  const EchoBatch batch(4, size_t{1} << 20);
  {
    UvLoop loop;
    Owner owner;
    for (const bool reset : {true, false}) {
      ASSERT_NE(EchoExchange::Start(loop.get(), server.address(), batch.payload(3), 3, &owner, reset), nullptr);
      loop.Run();
    }
    EXPECT_EQ(owner.replies, (std::vector<std::pair<int64_t, int64_t>>{{3, EchoDigest(batch.payload(3))},
                                                                       {3, EchoDigest(batch.payload(3))}}));
    EXPECT_TRUE(owner.failures.empty());
    EXPECT_EQ(loop.CountHandles(), 0);  // each exchange freed itself once its socket closed
    loop.Close();
  }
  EXPECT_EQ(server.requests_received(), 2);
  EXPECT_EQ(server.Stop(), "");
}

TEST(EchoExchangeTest, ARefusedConnectionIsReportedInTheBatchClientsWords) {
  FdLeakCheck fds;
  const EchoBatch batch(1, 64);
  UvLoop loop;
  Owner owner;
  ASSERT_NE(EchoExchange::Start(loop.get(), ClosedPort(), batch.payload(0), 7, &owner, true), nullptr);
  loop.Run();
  EXPECT_TRUE(owner.replies.empty());
  ASSERT_EQ(owner.failures.size(), 1u);
  EXPECT_EQ(owner.failures[0].task, 7);
  EXPECT_EQ(owner.failures[0].kind, EchoErrorKind::kRefused);
  EXPECT_EQ(owner.failures[0].what, "connect failed: connection refused (ECONNREFUSED): nothing listens on that port");
  EXPECT_EQ(loop.CountHandles(), 0);
  EXPECT_NO_THROW(loop.Close());
}

TEST(EchoExchangeTest, ACancelledExchangeCallsNothingAndTheLoopCloses) {
  FdLeakCheck fds;
  EchoServer server({.delay = milliseconds(10'000)});
  const EchoBatch batch(1, 64);
  {
    UvLoop loop;
    Owner owner;
    // While it connects.
    EchoExchange::Start(loop.get(), server.address(), batch.payload(0), 0, &owner, true)->Cancel();
    loop.Run();
    // While the server holds the reply: cancelled from a timer once the request has arrived.
    EchoExchange* waiting = EchoExchange::Start(loop.get(), server.address(), batch.payload(0), 1, &owner, true);
    uv_timer_t timer;
    UvCheck(uv_timer_init(loop.get(), &timer), "uv_timer_init");
    timer.data = waiting;
    UvCheck(uv_timer_start(
                &timer,
                [](uv_timer_t* t) {
                  static_cast<EchoExchange*>(t->data)->Cancel();
                  uv_close(reinterpret_cast<uv_handle_t*>(t), nullptr);
                },
                50, 0),
            "uv_timer_start");
    Stopwatch w;
    loop.Run();
    EXPECT_LT(w.ElapsedSeconds(), 5.0);  // did not wait for the 10 s reply
    EXPECT_EQ(server.requests_received(), 1);  // the second one's; the first never got to send
    EXPECT_TRUE(owner.replies.empty());
    EXPECT_TRUE(owner.failures.empty());
    EXPECT_EQ(loop.CountHandles(), 0);
    EXPECT_NO_THROW(loop.Close());  // uv_loop_close returned 0
  }
  EXPECT_EQ(server.Stop(), "");
}

}  // namespace
}  // namespace concbench
