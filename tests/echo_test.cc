#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "measure/ideal.h"
#include "measure/timer.h"
#include "models/async_echo.h"
#include "models/process_pool.h"
#include "workload/task_env.h"
#include "workload/task_spec.h"
#include "models/thread_pool/thread_pool.h"
#include "sys/uv_loop.h"
#include "workload/echo_client.h"
#include "workload/echo_protocol.h"
#include "workload/echo_server.h"
#include "echo_test_support.h"

namespace concbench {
namespace {

using std::chrono::milliseconds;

// Larger than the default loopback socket buffers (a few hundred KiB), so a reply cannot sit in
// one buffer and every side has to cope with partial reads and writes.
constexpr size_t kBigPayload = size_t{1} << 20;

template <class F>
EchoError ExpectEchoError(F&& f, double max_seconds) {
  Stopwatch w;
  try {
    f();
  } catch (const EchoError& e) {
    EXPECT_LT(w.ElapsedSeconds(), max_seconds) << e.what();
    return e;
  }
  ADD_FAILURE() << "no EchoError";
  return EchoError(EchoErrorKind::kSystem, "none");
}

TEST(EchoProtocolTest, HeaderIsBigEndianLength) {
  uint8_t h[kEchoHeaderBytes];
  EncodeEchoHeader(0x01020304u, h);
  EXPECT_EQ(h[0], 1);
  EXPECT_EQ(h[1], 2);
  EXPECT_EQ(h[2], 3);
  EXPECT_EQ(h[3], 4);
  EXPECT_EQ(DecodeEchoHeader(h), 0x01020304u);
}

TEST(EchoProtocolTest, DigestIsLengthPlusByteSum) {
  const uint8_t bytes[] = {1, 2, 3, 250};
  EXPECT_EQ(EchoDigest(bytes), 4 + 256);
  EXPECT_EQ(EchoDigest({}), 0);
}

TEST(EchoProtocolTest, BatchPayloadsDifferAndChecksumAddsUp) {
  const EchoBatch batch(20, 32);
  EXPECT_EQ(batch.inputs().size(), 20u);
  EXPECT_FALSE(std::equal(batch.payload(0).begin(), batch.payload(0).end(), batch.payload(1).begin()));
  // Tasks reuse kEchoDistinctPayloads payloads round-robin.
  EXPECT_TRUE(std::equal(batch.payload(0).begin(), batch.payload(0).end(), batch.payload(16).begin()));
  int64_t sum = 0;
  for (int64_t i = 0; i < 20; ++i) sum += EchoDigest(batch.payload(i));
  EXPECT_EQ(batch.expected_checksum(), sum);
  EXPECT_EQ(EchoBatch(0, 64).expected_checksum(), 0);
  EXPECT_THROW(EchoBatch(1, size_t{kEchoMaxPayload} + 1), std::invalid_argument);
}

TEST(EchoServerTest, ListensOnAnEphemeralPortAndStopsCleanly) {
  FdLeakCheck fds;
  EchoServer server;
  EXPECT_NE(server.port(), 0);
  EXPECT_EQ(FormatAddress(server.address()), "127.0.0.1:" + std::to_string(server.port()));
  EXPECT_EQ(server.Stop(), "");
  EXPECT_EQ(server.Stop(), "");  // idempotent
}

TEST(EchoServerTest, StopsWithConnectionsAndRepliesStillPending) {
  FdLeakCheck fds;
  EchoServer server({.delay = milliseconds(10'000)});
  std::vector<EchoConnection> conns;
  const EchoBatch batch(3, 100);
  for (int i = 0; i < 3; ++i) {
    conns.push_back(EchoConnection::Connect(server.address(), {}));
    conns.back().SendRequest(batch.payload(i));
  }
  while (server.requests_received() < 3) std::this_thread::sleep_for(milliseconds(1));
  Stopwatch w;
  EXPECT_EQ(server.Stop(), "");
  EXPECT_LT(w.ElapsedSeconds(), 2.0);  // did not wait for the 10 s timers
  EXPECT_EQ(server.replies_sent(), 0);
  EXPECT_EQ(server.connections_open(), 0);
}

TEST(EchoServerTest, EveryReplyWaitsItsDelayWhenRepliesOverlapOrAreDropped) {
  FdLeakCheck fds;
  constexpr auto kDelay = milliseconds(40);
  EchoServer server({.delay = kDelay});
  const EchoBatch batch(3, 64);
  // Three connections, requests 10 ms apart; the first one's reply is dropped (its connection
  // closes while it waits), so the server's timer, armed for it, must move on to the second.
  std::vector<EchoConnection> conns;
  std::vector<Stopwatch> sent(3);
  for (int i = 0; i < 3; ++i) {
    conns.push_back(EchoConnection::Connect(server.address(), {}));
    sent[i].Reset();
    conns.back().SendRequest(batch.payload(i));
    std::this_thread::sleep_for(milliseconds(10));
  }
  conns[0].Close();
  for (int i = 1; i < 3; ++i) {
    conns[i].ReceiveReply(batch.payload(i).size());
    const double waited = sent[i].ElapsedSeconds();
    EXPECT_GE(waited, 0.040) << "reply " << i << " left before its delay";
    EXPECT_LT(waited, 10 * 0.040) << "reply " << i;
  }
  EXPECT_EQ(server.Stop(), "");
  EXPECT_EQ(server.replies_sent(), 2);
}

TEST(EchoSyncTest, EchoesAPayloadLargerThanASocketBuffer) {
  FdLeakCheck fds;
  EchoServer server;
  const EchoBatch batch(2, kBigPayload);
  EXPECT_EQ(EchoOnce(server.address(), batch.payload(0)), EchoDigest(batch.payload(0)));
  EXPECT_EQ(EchoOnce(server.address(), batch.payload(1)), EchoDigest(batch.payload(1)));
  EXPECT_EQ(server.connections_accepted(), 2);
  EXPECT_EQ(server.Stop(), "");
  // Write callbacks may run after the client has read everything: count once the loop is done.
  EXPECT_EQ(server.replies_sent(), 2);
}

TEST(EchoSyncTest, KeptOpenConnectionCarriesManyExchangesIncludingEmptyOnes) {
  FdLeakCheck fds;
  EchoServer server;
  const EchoBatch big(3, kBigPayload);
  const EchoBatch empty(1, 0);
  auto conn = EchoConnection::Connect(server.address(), {});
  int64_t sum = 0;
  for (int64_t i = 0; i < 3; ++i) sum += conn.Echo(big.payload(i));
  EXPECT_EQ(sum, big.expected_checksum());
  EXPECT_EQ(conn.Echo(empty.payload(0)), 0);
  conn.Close();
  EXPECT_EQ(server.connections_accepted(), 1);
  EXPECT_EQ(server.Stop(), "");
}

TEST(EchoThreadsTest, PoolOfBlockingClientsEchoesEveryTask) {
  FdLeakCheck fds;
  EchoServer server({.delay = milliseconds(1)});
  const EchoBatch batch(8, kBigPayload / 4);
  {
    ThreadPool pool(4);
    const auto out = pool.Map([&](int64_t i) { return EchoOnce(server.address(), batch.payload(i)); },
                              batch.inputs(), 1);
    EXPECT_EQ(Checksum(out), batch.expected_checksum());
    // A big payload through threads too.
    const EchoBatch one(1, kBigPayload);
    EXPECT_EQ(pool.Submit([&] { return EchoOnce(server.address(), one.payload(0)); }).Get(),
              one.expected_checksum());
  }
  EXPECT_EQ(server.Stop(), "");
}

TEST(EchoProcessesTest, ForkedWorkersEachConnectOnTheirOwn) {
  FdLeakCheck fds;
  EchoServer server({.delay = milliseconds(1)});
  const EchoBatch batch(6, kBigPayload);
  {
    // What the echo steps need (the address, the payloads) is inherited at fork.
    ProcessPool pool(3, TaskEnv{.echo_server = server.address(), .echo = &batch}, /*queued_per_worker=*/0);
    const auto out = pool.Map({{EchoStep(milliseconds(1), kBigPayload)}}, batch.inputs(), 1);
    ASSERT_EQ(out.size(), 6u);
    for (int64_t i = 0; i < 6; ++i) EXPECT_EQ(out[static_cast<size_t>(i)], EchoDigest(batch.payload(i)));
    EXPECT_GT(pool.worker_usage().cpu_seconds, 0.0);
  }
  // One connection per task (an echo step connects, sends, reads and closes), and one per worker
  // at start-up (a worker with an echo server connects once when it starts: models/pool_worker.h).
  EXPECT_EQ(server.connections_accepted(), 6 + 3);
  EXPECT_EQ(server.Stop(), "");
}

TEST(EchoProcessesTest, WorkerThatDiesAfterItsEchoBreaksThePoolWithoutHanging) {
  FdLeakCheck fds;
  EchoServer server({.delay = milliseconds(1)});
  const EchoBatch batch(3, 64);
  {
    ProcessPool pool(2, TaskEnv{.echo_server = server.address(), .echo = &batch}, /*queued_per_worker=*/0);
    const TaskSpec spec = {{EchoStep(milliseconds(1), 64), ComputeOn(ComputeFn::kExitIf, 1)}};
    Stopwatch w;
    try {
      pool.Map(spec, batch.inputs(), 1);
      ADD_FAILURE() << "no error";
    } catch (const WorkerDied& e) {
      EXPECT_NE(std::string(e.what()).find("exited with status 3 while running tasks [1, 2)"), std::string::npos)
          << e.what();
    }
    EXPECT_LT(w.ElapsedSeconds(), 3.0);
    EXPECT_THROW(pool.Map(spec, batch.inputs(), 1), std::logic_error);
  }
  EXPECT_EQ(server.Stop(), "");
}

TEST(EchoAsyncTest, EchoesAPayloadLargerThanASocketBuffer) {
  FdLeakCheck fds;
  EchoServer server;
  const EchoBatch batch(4, kBigPayload);
  {
    AsyncEchoClient client;
    const auto out = client.Run(server.address(), batch);
    ASSERT_EQ(out.size(), 4u);
    for (int64_t i = 0; i < 4; ++i) EXPECT_EQ(out[static_cast<size_t>(i)], EchoDigest(batch.payload(i)));
    // The same loop serves a second batch.
    EXPECT_EQ(Checksum(client.Run(server.address(), EchoBatch(3, 10))), EchoBatch(3, 10).expected_checksum());
    EXPECT_TRUE(client.Run(server.address(), EchoBatch(0, 10)).empty());
  }
  EXPECT_EQ(server.Stop(), "");
}

TEST(EchoAsyncTest, KeptOpenConnectionsServeBatchAfterBatch) {
  FdLeakCheck fds;
  EchoServer server;
  const EchoBatch big(3, kBigPayload);
  {
    AsyncEchoClient client;
    client.Connect(server.address(), 3);
    EXPECT_EQ(client.open_connections(), 3);
    EXPECT_EQ(Checksum(client.RunOnOpenConnections(big)), big.expected_checksum());
    const EchoBatch small(3, 10);
    EXPECT_EQ(Checksum(client.RunOnOpenConnections(small)), small.expected_checksum());
    EXPECT_THROW(client.RunOnOpenConnections(EchoBatch(4, 10)), std::invalid_argument);
    EXPECT_EQ(server.connections_accepted(), 3);
  }
  EXPECT_EQ(server.Stop(), "");
}

TEST(EchoAsyncTest, KeptOpenConnectionsReportAServerThatWentAway) {
  FdLeakCheck fds;
  AsyncEchoClient client;
  {
    EchoServer server;
    client.Connect(server.address(), 2);
    EXPECT_EQ(server.Stop(), "");
  }
  const EchoError e = ExpectEchoError([&] { client.RunOnOpenConnections(EchoBatch(2, 64)); }, 3.0);
  EXPECT_TRUE(e.kind() == EchoErrorKind::kShortRead || e.kind() == EchoErrorKind::kReset) << e.what();
  EXPECT_EQ(client.open_connections(), 0);
}

TEST(EchoAsyncTest, ConcurrentClientsFinishInAboutOneDelayNotTasksDelays) {
  FdLeakCheck fds;
  constexpr int64_t kTasks = 200;
  constexpr auto kDelay = milliseconds(200);
  EchoServer server({.delay = kDelay});
  const EchoBatch batch(kTasks, 64);
  AsyncEchoClient client;
  Stopwatch w;
  EXPECT_EQ(Checksum(client.Run(server.address(), batch)), batch.expected_checksum());
  const double s = w.ElapsedSeconds();
  EXPECT_GE(s, 0.2);
  EXPECT_LT(s, 10 * 0.2);  // one after another would take 200 × 0.2 s = 40 s
  EXPECT_EQ(server.connections_accepted(), kTasks);
  EXPECT_EQ(server.Stop(), "");
}

TEST(EchoBareTest, BlockingPeerEchoesAndShutsDownWhereverItWaits) {
  FdLeakCheck fds;
  const EchoBatch batch(1, kBigPayload);
  {
    BlockingEchoPeer peer;
    auto conn = EchoConnection::Connect(peer.address(), {});
    EXPECT_EQ(conn.Echo(batch.payload(0)), batch.expected_checksum());
    // Destroyed with the connection still open: the peer is blocked in recv().
  }
  { BlockingEchoPeer never_connected; }  // blocked in accept()
}

// ---- faults: each ends with a clear error within a bounded time, and closes everything ------

TEST(EchoFaultTest, ConnectionRefusedIsReportedAtOnce) {
  FdLeakCheck fds;
  const sockaddr_in closed = ClosedPort();
  const EchoBatch batch(3, 64);
  const EchoError e = ExpectEchoError([&] { EchoOnce(closed, batch.payload(0)); }, 2.0);
  EXPECT_EQ(e.kind(), EchoErrorKind::kRefused);
  EXPECT_NE(std::string(e.what()).find("connect refused"), std::string::npos) << e.what();
  EXPECT_NE(std::string(e.what()).find(FormatAddress(closed)), std::string::npos) << e.what();

  AsyncEchoClient client;
  const EchoError a = ExpectEchoError([&] { client.Run(closed, batch); }, 2.0);
  EXPECT_EQ(a.kind(), EchoErrorKind::kRefused);
  EXPECT_NE(std::string(a.what()).find("connect failed"), std::string::npos) << a.what();
}

TEST(EchoFaultTest, UnreachableServerTimesOutInsteadOfHanging) {
  FdLeakCheck fds;
  // A listener that never accepts, with a backlog of 0: once its queue is full the kernel drops
  // further SYNs, exactly as for a host that does not answer.
  sockaddr_in a;
  const int fd = BindLoopback(a);
  ASSERT_EQ(listen(fd, 0), 0);
  const EchoClientOptions opts{.connect_timeout = milliseconds(300), .io_timeout = milliseconds(300)};
  std::vector<EchoConnection> queued;
  std::optional<EchoError> error;
  Stopwatch w;
  for (int i = 0; i < 16 && !error; ++i) {
    try {
      queued.push_back(EchoConnection::Connect(a, opts));
    } catch (const EchoError& e) {
      error = e;
    }
  }
  ASSERT_TRUE(error.has_value()) << "the backlog never filled";
  EXPECT_LT(w.ElapsedSeconds(), 3.0);
  EXPECT_EQ(error->kind(), EchoErrorKind::kTimeout) << error->what();
  EXPECT_NE(std::string(error->what()).find("connect timed out after 300 ms"), std::string::npos)
      << error->what();
  {
    // The async client's connects hang the same way; its batch deadline ends them.
    AsyncEchoClient client;
    const EchoError async_error =
        ExpectEchoError([&] { client.Run(a, EchoBatch(3, 64), {.timeout = milliseconds(300)}); }, 3.0);
    EXPECT_EQ(async_error.kind(), EchoErrorKind::kTimeout) << async_error.what();
    EXPECT_NE(std::string(async_error.what()).find("3 of 3 replies missing after 300 ms"), std::string::npos)
        << async_error.what();
  }
  queued.clear();
  close(fd);
}

TEST(EchoFaultTest, ResetMidRunNamesTheReset) {
  FdLeakCheck fds;
  // Two requests are answered, the third is answered with a TCP reset.
  EchoServer server({.fault = EchoFault::kReset, .fault_after = 2});
  const EchoBatch batch(3, kBigPayload);
  auto conn = EchoConnection::Connect(server.address(), {});
  EXPECT_EQ(conn.Echo(batch.payload(0)), EchoDigest(batch.payload(0)));
  EXPECT_EQ(conn.Echo(batch.payload(1)), EchoDigest(batch.payload(1)));
  const EchoError e = ExpectEchoError([&] { conn.Echo(batch.payload(2)); }, 3.0);
  EXPECT_EQ(e.kind(), EchoErrorKind::kReset) << e.what();
  EXPECT_NE(std::string(e.what()).find("reset"), std::string::npos) << e.what();
  conn.Close();

  AsyncEchoClient client;
  const EchoError a = ExpectEchoError([&] { client.Run(server.address(), batch); }, 3.0);
  EXPECT_EQ(a.kind(), EchoErrorKind::kReset) << a.what();
  EXPECT_NE(std::string(a.what()).find("ECONNRESET"), std::string::npos) << a.what();
  EXPECT_EQ(server.Stop(), "");
}

TEST(EchoFaultTest, ShortReplyIsAShortReadNotAHang) {
  FdLeakCheck fds;
  EchoServer server({.fault = EchoFault::kShortReply});
  const EchoBatch batch(2, 1000);
  const EchoError e = ExpectEchoError([&] { EchoOnce(server.address(), batch.payload(0)); }, 3.0);
  EXPECT_EQ(e.kind(), EchoErrorKind::kShortRead) << e.what();
  EXPECT_NE(std::string(e.what()).find("after 4 + 500 of 4 + 1000 reply bytes (short read)"), std::string::npos)
      << e.what();

  AsyncEchoClient client;
  const EchoError a = ExpectEchoError([&] { client.Run(server.address(), batch); }, 3.0);
  EXPECT_EQ(a.kind(), EchoErrorKind::kShortRead) << a.what();
  EXPECT_NE(std::string(a.what()).find("after 504 of 1004 reply bytes (short read)"), std::string::npos)
      << a.what();
  EXPECT_EQ(server.Stop(), "");
}

TEST(EchoFaultTest, SilentServerTimesOut) {
  FdLeakCheck fds;
  EchoServer server({.fault = EchoFault::kSilent});
  const EchoBatch batch(5, 64);
  const EchoClientOptions opts{.connect_timeout = milliseconds(1000), .io_timeout = milliseconds(200)};
  const EchoError e = ExpectEchoError([&] { EchoOnce(server.address(), batch.payload(0), opts); }, 2.0);
  EXPECT_EQ(e.kind(), EchoErrorKind::kTimeout) << e.what();
  EXPECT_NE(std::string(e.what()).find("no reply within 200 ms"), std::string::npos) << e.what();

  AsyncEchoClient client;
  const EchoError a =
      ExpectEchoError([&] { client.Run(server.address(), batch, {.timeout = milliseconds(200)}); }, 2.0);
  EXPECT_EQ(a.kind(), EchoErrorKind::kTimeout) << a.what();
  EXPECT_NE(std::string(a.what()).find("5 of 5 replies missing after 200 ms"), std::string::npos) << a.what();
  EXPECT_EQ(server.Stop(), "");
}

TEST(EchoFaultTest, ThreadPoolTaskErrorReachesTheCaller) {
  FdLeakCheck fds;
  const sockaddr_in closed = ClosedPort();
  const EchoBatch batch(4, 64);
  ThreadPool pool(2);
  const EchoError e = ExpectEchoError(
      [&] { pool.Map([&](int64_t i) { return EchoOnce(closed, batch.payload(i)); }, batch.inputs(), 1); }, 3.0);
  EXPECT_EQ(e.kind(), EchoErrorKind::kRefused);
}

}  // namespace
}  // namespace concbench
