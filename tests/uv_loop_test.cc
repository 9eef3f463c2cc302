#include "sys/uv_loop.h"

#include <gtest/gtest.h>

#include <string>

namespace concbench {
namespace {

void NoopTimer(uv_timer_t*) {}

TEST(UvLoopTest, AnEmptyLoopRunsAndClosesCleanly) {
  UvLoop loop;
  EXPECT_FALSE(loop.Run());
  EXPECT_EQ(loop.CountHandles(), 0);
  EXPECT_NO_THROW(loop.Close());
  EXPECT_TRUE(loop.closed());
  EXPECT_NO_THROW(loop.Close());  // idempotent
}

TEST(UvLoopTest, CloseClosesEveryHandleLeftOpen) {
  uv_timer_t armed, idle;
  uv_idle_t idler;
  {
    UvLoop loop;
    ASSERT_EQ(uv_timer_init(loop.get(), &armed), 0);
    ASSERT_EQ(uv_timer_init(loop.get(), &idle), 0);
    ASSERT_EQ(uv_idle_init(loop.get(), &idler), 0);
    loop.UpdateTime();
    ASSERT_EQ(uv_timer_start(&armed, NoopTimer, 3'600'000, 0),
              0);  // an hour: must not be waited for
    EXPECT_EQ(loop.CountHandles(), 3);
    EXPECT_NO_THROW(loop.Close());  // uv_loop_close returned 0, or this would throw
    EXPECT_TRUE(loop.closed());
  }
  EXPECT_TRUE(uv_is_closing(reinterpret_cast<uv_handle_t*>(&armed)));
  EXPECT_TRUE(uv_is_closing(reinterpret_cast<uv_handle_t*>(&idle)));
  EXPECT_TRUE(uv_is_closing(reinterpret_cast<uv_handle_t*>(&idler)));
}

TEST(UvLoopTest, DestructorClosesHandlesLeftOpen) {
  uv_timer_t t;
  {
    UvLoop loop;
    ASSERT_EQ(uv_timer_init(loop.get(), &t), 0);
  }  // would abort if uv_loop_close failed
  EXPECT_TRUE(uv_is_closing(reinterpret_cast<uv_handle_t*>(&t)));
}

TEST(UvLoopTest, AFailingCallIsReportedWithItsNameAndCause) {
  UvLoop loop;
  uv_timer_t t;
  ASSERT_EQ(uv_timer_init(loop.get(), &t), 0);
  uv_close(reinterpret_cast<uv_handle_t*>(&t), nullptr);
  // libuv refuses to arm a closing handle with UV_EINVAL.
  try {
    UvCheck(uv_timer_start(&t, NoopTimer, 1, 0), "uv_timer_start");
    FAIL() << "uv_timer_start on a closing handle did not fail";
  } catch (const UvError& e) {
    EXPECT_EQ(e.status(), UV_EINVAL);
    EXPECT_EQ(e.call(), "uv_timer_start");
    EXPECT_STREQ(e.what(), "uv_timer_start: invalid argument (EINVAL)");
  }
  loop.Close();
}

TEST(UvLoopTest, UvCheckPassesSuccessThrough) {
  EXPECT_EQ(UvCheck(0, "uv_x"), 0);
  EXPECT_EQ(UvCheck(7, "uv_x"), 7);
  EXPECT_THROW(UvCheck(UV_ENOMEM, "uv_x"), UvError);
}

TEST(UvLoopTest, ErrorMessagesNameTheCallAndTheError) {
  EXPECT_EQ(UvErrorMessage("uv_listen", UV_EADDRINUSE),
            "uv_listen: address already in use (EADDRINUSE)");
  EXPECT_EQ(UvErrorMessage("uv_tcp_connect", UV_ECONNREFUSED),
            "uv_tcp_connect: connection refused (ECONNREFUSED)");
}

// TimeoutUntil against a fake loop time: the result is in whole milliseconds, rounded up.
TEST(UvLoopTest, TimeoutUntilRoundsUpToWholeMilliseconds) {
  UvLoop loop;
  loop.UpdateTime();
  const uint64_t now_ns = loop.NowMs() * 1'000'000;
  EXPECT_EQ(TimeoutUntil(loop.get(), now_ns), 0u);
  EXPECT_EQ(TimeoutUntil(loop.get(), now_ns - 1), 0u);
  EXPECT_EQ(TimeoutUntil(loop.get(), now_ns + 1), 1u);
  EXPECT_EQ(TimeoutUntil(loop.get(), now_ns + 1'000'000), 1u);
  EXPECT_EQ(TimeoutUntil(loop.get(), now_ns + 1'000'001), 2u);
  EXPECT_EQ(TimeoutUntil(loop.get(), now_ns + 500'000'000), 500u);
}

struct DeadlineProbe {
  uint64_t deadline_ns = 0;
  uint64_t fired_ns = 0;
};

void RecordFiring(uv_timer_t* t) { static_cast<DeadlineProbe*>(t->data)->fired_ns = uv_hrtime(); }

TEST(UvLoopTest, TimersArmedWithTimeoutUntilNeverFireEarly) {
  UvLoop loop;
  uv_timer_t t;
  ASSERT_EQ(uv_timer_init(loop.get(), &t), 0);
  DeadlineProbe probe;
  t.data = &probe;
  // Deadlines at different fractions of a millisecond, where a plain timeout could fire early.
  for (uint64_t extra_us = 0; extra_us < 2'000; extra_us += 130) {
    loop.UpdateTime();
    probe.deadline_ns = uv_hrtime() + 2'000'000 + extra_us * 1'000;
    ASSERT_EQ(uv_timer_start(&t, RecordFiring, TimeoutUntil(loop.get(), probe.deadline_ns), 0), 0);
    loop.Run();
    EXPECT_GE(probe.fired_ns, probe.deadline_ns) << "extra_us=" << extra_us;
  }
  loop.Close();
}

}  // namespace
}  // namespace concbench
