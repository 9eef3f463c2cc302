// The wire format of the `processes` model: what travels through the pipes between the parent
// and its workers.
//
// Every message is one frame: a 4-byte little-endian length, then a body of that many bytes that
// starts with a version byte and a type byte. The length is bounded (kMaxFrameBodyBytes), so a
// reader never allocates more than that for one frame, whatever the bytes say.
//
//   frame   := body_len:u32 body                        2 <= body_len <= kMaxFrameBodyBytes
//   body    := version:u8 (= kFrameVersion) type:u8 content
//   tasks   := flags:u8 step_count:u8 step*step_count count:u32 item*count
//                                                       (type 1, parent -> worker)
//   results := cpu_ns:u64 ctx_switches:u64 count:u32 item*count   (type 2, worker -> parent)
//   error   := message_len:u32 message                  (type 3, worker -> parent)
//   trace   := count:u32 span*count                     (type 4, worker -> parent)
//   step    := kind:u8 fn:u8 operand:u8 arg:i64 bytes:i64   (workload/task_spec.h's Step)
//   item    := index:u64 value:i64 payload_len:u32 payload[payload_len]
//   span    := index:u64 step:u16 begin_ns:u64 end_ns:u64
//
// Integers are little-endian whatever the host. A tasks frame carries the whole TaskSpec its
// items run (a forked worker inherited the code, so it runs any spec ValidateSpec accepts). In a
// tasks frame an item's value is the task's input; in a results frame it is the task's result.
// `flags` bit 0 (kTraceFlag) asks the worker to send, before the chunk's results frame, a trace
// frame with one span per task (step kTaskSpan) and one per step (its position), timed on
// CLOCK_MONOTONIC, which every process of the machine shares; other bits must be 0. `cpu_ns` and
// `ctx_switches` are the worker's
// own cumulative getrusage(RUSAGE_SELF) CPU time and context switches when it sent the frame: a
// live worker is not a reaped child, so RUSAGE_CHILDREN cannot see it, and this is how the parent
// learns what its workers cost.
//
// Decoding is a pure function over bytes: it never reads past the span it was given, never
// trusts a length or a count before checking it against the bytes that are there, and rejects a
// truncated, oversized or malformed frame with a message that says what was wrong and where.
//
//   std::string wire;
//   TaskFrameWriter w(&wire, TaskSpec{{Compute(ComputeFn::kTrabajo)}});
//   w.Add(/*index=*/0, /*input=*/7, /*payload=*/"abc");
//   w.Finish();
//   Frame f;
//   if (auto err = DecodeFrame(wire, &f)) throw std::runtime_error(*err);
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "workload/task_spec.h"

namespace concbench {

// Version 2: tasks frames carry a TaskSpec and flags (version 1 carried a task kind and one
// parameter); the trace frame is new.
inline constexpr uint8_t kFrameVersion = 2;
inline constexpr size_t kFrameHeaderBytes = 4;
// 64 MiB: room for a chunk of 200 tasks with 64 KiB payloads many times over, small enough that
// a corrupt length cannot make a reader allocate without bound.
inline constexpr size_t kMaxFrameBodyBytes = size_t{64} << 20;
// index + value + payload_len.
inline constexpr size_t kItemFixedBytes = 8 + 8 + 4;
// kind + fn + operand + arg + bytes.
inline constexpr size_t kStepBytes = 1 + 1 + 1 + 8 + 8;
// index + step + begin + end.
inline constexpr size_t kSpanBytes = 8 + 2 + 8 + 8;

inline constexpr uint8_t kTraceFlag = 1;
// A span's `step` for the whole task.
inline constexpr uint16_t kTaskSpan = 0xffff;

enum class FrameType : uint8_t { kTasks = 1, kResults = 2, kError = 3, kTrace = 4 };

struct FrameItem {
  uint64_t index = 0;
  int64_t value = 0;  // the input in a tasks frame, the result in a results frame
  std::string payload;

  bool operator==(const FrameItem&) const = default;
};

struct TaskChunk {
  uint8_t flags = 0;  // kTraceFlag, or 0
  TaskSpec spec;      // what every item runs
  std::vector<FrameItem> items;

  bool operator==(const TaskChunk&) const = default;
};

struct ResultChunk {
  uint64_t cpu_ns = 0;        // the worker's cumulative CPU time (user + system)
  uint64_t ctx_switches = 0;  // the worker's cumulative voluntary + involuntary switches
  std::vector<FrameItem> items;

  bool operator==(const ResultChunk&) const = default;
};

// One timed span of a traced chunk: task `index` (its position in the batch), all of it
// (step == kTaskSpan) or its step `step`, from begin_ns to end_ns on CLOCK_MONOTONIC.
struct TraceSpan {
  uint64_t index = 0;
  uint16_t step = kTaskSpan;
  uint64_t begin_ns = 0;
  uint64_t end_ns = 0;

  bool operator==(const TraceSpan&) const = default;
};

// Bytes of a whole frame (header included) holding `items` items whose payloads add up to
// `payload_bytes` (and, for tasks, a spec of `steps` steps). Lets a sender check the limit before
// it sends anything.
size_t TaskFrameBytes(size_t items, size_t payload_bytes, size_t steps = 1);
size_t ResultFrameBytes(size_t items, size_t payload_bytes);

// Appends one frame of items (tasks or results) to *out, item by item, without intermediate
// copies. Finish() writes the length and the count; it throws std::length_error if the body
// exceeds kMaxFrameBodyBytes (and then removes the partial frame from *out). A writer that is not
// finished leaves an invalid frame behind.
class ItemFrameWriter {
 public:
  void Add(uint64_t index, int64_t value, std::string_view payload);
  void Finish();

 protected:
  ItemFrameWriter(std::string* out, FrameType type, const char* name);
  // Called by a derived writer once its fixed fields are written: the item count comes next.
  void BeginItems();

 private:
  std::string* out_;
  size_t start_;
  size_t count_offset_ = 0;
  uint32_t count_ = 0;
  const char* name_;
};

// A tasks frame: the flags and the spec, then the items (input values). std::length_error for a
// spec of more than kMaxSteps steps.
class TaskFrameWriter : public ItemFrameWriter {
 public:
  TaskFrameWriter(std::string* out, const TaskSpec& spec, uint8_t flags = 0);
};

// A results frame: the worker's cumulative CPU time and context switches, then the items.
class ResultFrameWriter : public ItemFrameWriter {
 public:
  ResultFrameWriter(std::string* out, uint64_t cpu_ns, uint64_t ctx_switches);
};

// Appends an error frame carrying `message`, cut to kMaxErrorMessageBytes (decoders reject a
// longer one, so every value has exactly one encoding).
inline constexpr size_t kMaxErrorMessageBytes = 64 << 10;
void AppendErrorFrame(std::string_view message, std::string* out);

// Appends a trace frame of `spans` (std::length_error past kMaxFrameBodyBytes).
void AppendTraceFrame(const std::vector<TraceSpan>& spans, std::string* out);

// Whole-frame encoders for owned chunks (tests, fuzzers).
std::string EncodeTasks(const TaskChunk& chunk);
std::string EncodeResults(const ResultChunk& chunk);

enum class FrameStatus {
  kComplete,    // a whole frame is at the start of the bytes
  kIncomplete,  // the bytes are a valid beginning of a frame; more are needed
  kMalformed,   // the bytes can never become a valid frame
};

// Where the first frame in a byte stream ends. Checks the header, the length bound, the version
// and the type as soon as their bytes are present, so garbage is rejected early; it does not
// decode the content.
struct FrameSplit {
  FrameStatus status = FrameStatus::kIncomplete;
  FrameType type = FrameType::kTasks;  // valid when kComplete
  std::string_view content;            // the body after version and type, when kComplete
  // kComplete: bytes of the whole frame. kIncomplete: bytes the whole frame will need, or
  // kFrameHeaderBytes while the header itself is incomplete.
  size_t frame_bytes = 0;
  std::string error;  // why, when kMalformed
};
FrameSplit SplitFrame(std::string_view bytes);

// Decode the content of a frame of the given type (FrameSplit::content). Each returns an error
// message, or nothing on success. Trailing bytes after the last item are an error. The items of
// *out are overwritten in place (their payload buffers are reused); on error *out holds a
// partial decode. A tasks frame is also checked with ValidateSpec and for unknown flags.
std::optional<std::string> DecodeTasks(std::string_view content, TaskChunk* out);
std::optional<std::string> DecodeTrace(std::string_view content, std::vector<TraceSpan>* out);
std::optional<std::string> DecodeResults(std::string_view content, ResultChunk* out);
std::optional<std::string> DecodeErrorMessage(std::string_view content, std::string* out);

// One decoded frame of any type.
struct Frame {
  FrameType type = FrameType::kTasks;
  TaskChunk tasks;        // when type == kTasks
  ResultChunk results;    // when type == kResults
  std::string error;      // when type == kError
  std::vector<TraceSpan> trace;  // when type == kTrace
};

// Decodes `bytes`, which must hold exactly one whole frame: a truncated frame, trailing bytes
// and every kind of malformed content are errors. Returns the error message, or nothing.
std::optional<std::string> DecodeFrame(std::string_view bytes, Frame* out);

}  // namespace concbench
