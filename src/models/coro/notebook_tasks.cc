#include "models/coro/notebook_tasks.h"

#include <algorithm>
#include <array>
#include <span>
#include <stdexcept>
#include <string>
#include <utility>

#include "models/coro/gather.h"
#include "models/coro/sleep.h"
#include "models/coro/tcp_stream.h"
#include "workload/echo_client.h"
#include "workload/sleep.h"

namespace concbench {
namespace {

Task<int64_t> ReturnAtOnce(int64_t index) { co_return SleepTaskResult(index); }

Task<int64_t> AwaitEach(int64_t tasks) {
  int64_t sum = 0;
  for (int64_t i = 0; i < tasks; ++i) sum += co_await ReturnAtOnce(i);
  co_return sum;
}

}  // namespace

int64_t CoroDispatch(int64_t tasks) {
  if (tasks < 0) throw std::invalid_argument("CoroDispatch: tasks must be >= 0, got " + std::to_string(tasks));
  const Task<int64_t> parent = AwaitEach(tasks);
  const auto frame = coro_detail::TaskAccess::handle(parent);
  coro_detail::Resume(frame);  // nothing suspends: every child has started, finished and been freed on return
  if (!frame.done()) throw std::logic_error("CoroDispatch: a task suspended");
  return frame.promise().TakeResult();
}

// ---- echo over coroutines ---------------------------------------------------------------------

Task<int64_t> CoroEchoTask(UvLoop& loop, sockaddr_in server, const EchoBatch& batch, int64_t task,
                           bool close_with_reset, int64_t* verified) {
  const std::span<const uint8_t> payload = batch.payload(task);
  const size_t want = kEchoHeaderBytes + payload.size();
  const auto where = [&] {
    return "echo " + FormatAddress(server) + ": task " + std::to_string(task) + " of " +
           std::to_string(batch.tasks()) + ": ";
  };
  std::array<uint8_t, kEchoHeaderBytes> header;  // (a C array in a frame trips GCC 12)
  std::vector<uint8_t> reply(payload.size());
  size_t have = 0;  // reply bytes, header included
  try {
    TcpStream stream = co_await TcpStream::Connect(loop, server);
    EncodeEchoHeader(static_cast<uint32_t>(payload.size()), header.data());
    co_await stream.Write(header, payload);
    have = co_await stream.ReadExactly(header);
    if (have < kEchoHeaderBytes) throw UvError("read", UV_EOF);
    if (auto why = EchoHeaderMismatch(DecodeEchoHeader(header.data()), payload.size())) {
      throw EchoError(EchoErrorKind::kProtocol, where() + *why);
    }
    have += co_await stream.ReadExactly(reply);
    if (have < want) throw UvError("read", UV_EOF);
    if (auto why = EchoReplyMismatch(reply, payload)) throw EchoError(EchoErrorKind::kMismatch, where() + *why);
    stream.Close(close_with_reset);
    if (verified != nullptr) ++*verified;
    co_return EchoDigest(reply);
  } catch (const UvError& e) {
    throw EchoError(EchoErrorKindOfUv(e.status()),
                    where() + DescribeEchoUvFailure(e.call(), e.status(), have, want));
  }
}


}  // namespace concbench
