// The wire format of the `processes` model: what travels through the pipes between the parent
// and its workers.
//
// Every message is one frame: a 4-byte little-endian length, then a body of that many bytes that
// starts with a version byte and a type byte. The length is bounded (kMaxFrameBodyBytes), so a
// reader never allocates more than that for one frame, whatever the bytes say.
//
//   frame   := body_len:u32 body                        2 <= body_len <= kMaxFrameBodyBytes
//   body    := version:u8 (= kFrameVersion) type:u8 content
//   tasks   := kind:u8 param:i64 count:u32 item*count   (type 1, parent -> worker)
//   results := cpu_ns:u64 ctx_switches:u64 count:u32 item*count   (type 2, worker -> parent)
//   error   := message_len:u32 message                  (type 3, worker -> parent)
//   item    := index:u64 value:i64 payload_len:u32 payload[payload_len]
//
// Integers are little-endian whatever the host. In a tasks frame an item's value is the task's
// input; in a results frame it is the task's result. `cpu_ns` and `ctx_switches` are the worker's
// own cumulative getrusage(RUSAGE_SELF) CPU time and context switches when it sent the frame: a
// live worker is not a reaped child, so RUSAGE_CHILDREN cannot see it, and this is how the parent
// learns what its workers cost.
//
// Decoding is a pure function over bytes: it never reads past the span it was given, never
// trusts a length or a count before checking it against the bytes that are there, and rejects a
// truncated, oversized or malformed frame with a message that says what was wrong and where.
//
//   std::string wire;
//   TaskFrameWriter w(&wire, /*kind=*/3, /*param=*/0);
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

namespace concbench {

inline constexpr uint8_t kFrameVersion = 1;
inline constexpr size_t kFrameHeaderBytes = 4;
// 64 MiB: room for a chunk of 200 tasks with 64 KiB payloads many times over, small enough that
// a corrupt length cannot make a reader allocate without bound.
inline constexpr size_t kMaxFrameBodyBytes = size_t{64} << 20;
// index + value + payload_len.
inline constexpr size_t kItemFixedBytes = 8 + 8 + 4;

enum class FrameType : uint8_t { kTasks = 1, kResults = 2, kError = 3 };

struct FrameItem {
  uint64_t index = 0;
  int64_t value = 0;  // the input in a tasks frame, the result in a results frame
  std::string payload;

  bool operator==(const FrameItem&) const = default;
};

struct TaskChunk {
  uint8_t kind = 0;   // which task the worker runs (models/task_kind.h's TaskKind)
  int64_t param = 0;  // the task's parameter (for example a sleep in nanoseconds)
  std::vector<FrameItem> items;

  bool operator==(const TaskChunk&) const = default;
};

struct ResultChunk {
  uint64_t cpu_ns = 0;        // the worker's cumulative CPU time (user + system)
  uint64_t ctx_switches = 0;  // the worker's cumulative voluntary + involuntary switches
  std::vector<FrameItem> items;

  bool operator==(const ResultChunk&) const = default;
};

// Bytes of a whole frame (header included) holding `items` items whose payloads add up to
// `payload_bytes`. Lets a sender check the limit before it sends anything.
size_t TaskFrameBytes(size_t items, size_t payload_bytes);
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

// A tasks frame: the task kind and its parameter, then the items (input values).
class TaskFrameWriter : public ItemFrameWriter {
 public:
  TaskFrameWriter(std::string* out, uint8_t kind, int64_t param);
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
// partial decode.
std::optional<std::string> DecodeTasks(std::string_view content, TaskChunk* out);
std::optional<std::string> DecodeResults(std::string_view content, ResultChunk* out);
std::optional<std::string> DecodeErrorMessage(std::string_view content, std::string* out);

// One decoded frame of any type.
struct Frame {
  FrameType type = FrameType::kTasks;
  TaskChunk tasks;        // when type == kTasks
  ResultChunk results;    // when type == kResults
  std::string error;      // when type == kError
};

// Decodes `bytes`, which must hold exactly one whole frame: a truncated frame, trailing bytes
// and every kind of malformed content are errors. Returns the error message, or nothing.
std::optional<std::string> DecodeFrame(std::string_view bytes, Frame* out);

}  // namespace concbench
