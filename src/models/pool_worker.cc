#include "models/pool_worker.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <exception>
#include <string>
#include <vector>

#include "models/frame.h"
#include "models/task_kind.h"
#include "models/worker.h"
#include "sys/fd_io.h"

namespace concbench {
namespace {

constexpr size_t kReadChunk = 64 << 10;

// Reports `message` to the parent in an error frame, then ends the worker with `status`.
[[noreturn]] void SendErrorAndExit(int result_fd, const std::string& message, int status) {
  std::string out;
  AppendErrorFrame(message, &out);
  WriteAll(result_fd, out);
  ::_exit(status);
}

// Why a tasks frame cannot be run, or "" (then it is decoded into *chunk).
std::string CheckTasksFrame(const FrameSplit& s, const TaskFn* inherited, TaskChunk* chunk) {
  if (s.status == FrameStatus::kMalformed) return s.error;
  if (s.type != FrameType::kTasks) {
    return "expected a tasks frame, got type " + std::to_string(static_cast<int>(s.type));
  }
  if (auto e = DecodeTasks(s.content, chunk)) return *e;
  if (!IsKnownTaskKind(chunk->kind)) return "unknown task kind " + std::to_string(chunk->kind);
  if (chunk->kind == static_cast<uint8_t>(TaskKind::kInherited) && inherited == nullptr) {
    return "an inherited task for a pool built without an inherited function";
  }
  return "";
}

// Runs every task of the chunk into *values. The caller's code may fail like any client (a
// refused connection): its message goes to the parent, which reports it, instead of a bare exit
// status.
void RunChunk(const TaskChunk& chunk, const TaskFn* inherited, int result_fd, std::vector<int64_t>* values) {
  const TaskSpec spec{static_cast<TaskKind>(chunk.kind), chunk.param};
  values->clear();
  for (const FrameItem& it : chunk.items) {
    if (spec.kind != TaskKind::kInherited) {
      values->push_back(RunTask(spec, it.value));
      continue;
    }
    std::string thrown;
    try {
      values->push_back(RunTask(spec, it.value, inherited));
      continue;
    } catch (const std::exception& e) {
      thrown = e.what();
    } catch (...) {
      thrown = "an exception that is not a std::exception";
    }
    SendErrorAndExit(result_fd,
                     "task " + std::to_string(it.index) + " (input " + std::to_string(it.value) + ") threw: " + thrown,
                     kWorkerExitTaskThrew);
  }
}

}  // namespace

void RunPoolWorker(int task_fd, int result_fd, const TaskFn* inherited) {
  try {
    std::vector<char> in(kReadChunk);
    size_t len = 0;
    std::string out;
    TaskChunk chunk;
    std::vector<int64_t> values;
    for (;;) {
      const FrameSplit s = SplitFrame(std::string_view(in.data(), len));
      if (s.status == FrameStatus::kIncomplete) {
        if (in.size() < std::max(s.frame_bytes, len + 1)) in.resize(std::max(s.frame_bytes, len + kReadChunk));
        const ssize_t n = ::read(task_fd, in.data() + len, in.size() - len);
        if (n == 0) ::_exit(len == 0 ? 0 : kWorkerExitTruncated);
        if (n < 0) {
          if (errno == EINTR) continue;
          ::_exit(kWorkerExitIo);
        }
        len += static_cast<size_t>(n);
        continue;
      }
      if (const std::string err = CheckTasksFrame(s, inherited, &chunk); !err.empty()) {
        SendErrorAndExit(result_fd, "worker pid " + std::to_string(::getpid()) + ": " + err, kWorkerExitProtocol);
      }
      RunChunk(chunk, inherited, result_fd, &values);
      out.clear();
      ResultFrameWriter w = StartResultsFrame(&out);
      for (size_t i = 0; i < values.size(); ++i) w.Add(chunk.items[i].index, values[i], chunk.items[i].payload);
      w.Finish();
      if (!WriteAll(result_fd, out)) ::_exit(kWorkerExitIo);
      std::memmove(in.data(), in.data() + s.frame_bytes, len - s.frame_bytes);
      len -= s.frame_bytes;
    }
  } catch (...) {
    ::_exit(kWorkerExitException);
  }
}

}  // namespace concbench
