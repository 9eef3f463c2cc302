#include "models/frame.h"

#include <stdexcept>

namespace concbench {
namespace {

// version + type
constexpr size_t kBodyPrefixBytes = 2;
// flags + step count + item count (the steps come between the last two)
constexpr size_t kTasksFixedBytes = 1 + 1 + 4;
// cpu_ns + ctx_switches + count
constexpr size_t kResultsFixedBytes = 8 + 8 + 4;

void PutU8(std::string* out, uint8_t v) { out->push_back(static_cast<char>(v)); }

void PutU32(std::string* out, uint32_t v) {
  char b[4];
  for (int i = 0; i < 4; ++i) b[i] = static_cast<char>((v >> (8 * i)) & 0xff);
  out->append(b, 4);
}

void PutU64(std::string* out, uint64_t v) {
  char b[8];
  for (int i = 0; i < 8; ++i) b[i] = static_cast<char>((v >> (8 * i)) & 0xff);
  out->append(b, 8);
}

void PatchU32(std::string* out, size_t at, uint32_t v) {
  for (int i = 0; i < 4; ++i) (*out)[at + static_cast<size_t>(i)] = static_cast<char>((v >> (8 * i)) & 0xff);
}

// The little-endian unsigned integer of sizeof(T) bytes at p.
template <class T>
T GetUint(const char* p) {
  T v = 0;
  for (size_t i = 0; i < sizeof(T); ++i) v = static_cast<T>(v | (static_cast<T>(static_cast<unsigned char>(p[i])) << (8 * i)));
  return v;
}

// A bounds-checked cursor over the content of one frame.
class Reader {
 public:
  explicit Reader(std::string_view bytes) : bytes_(bytes) {}

  size_t remaining() const { return bytes_.size() - pos_; }
  size_t pos() const { return pos_; }

  // Little-endian unsigned integers of 1, 2, 4 and 8 bytes.
  template <class T>
  bool Uint(T* v) {
    if (remaining() < sizeof(T)) return false;
    *v = GetUint<T>(bytes_.data() + pos_);
    pos_ += sizeof(T);
    return true;
  }
  bool U8(uint8_t* v) { return Uint(v); }
  bool U16(uint16_t* v) { return Uint(v); }
  bool U32(uint32_t* v) { return Uint(v); }
  bool U64(uint64_t* v) { return Uint(v); }
  bool Bytes(size_t n, std::string* out) {
    if (remaining() < n) return false;
    out->assign(bytes_.data() + pos_, n);
    pos_ += n;
    return true;
  }

 private:
  std::string_view bytes_;
  size_t pos_ = 0;
};

std::string At(const Reader& r) { return " at content offset " + std::to_string(r.pos()); }

// Starts a frame: placeholder length, version, type. Returns where the frame starts.
size_t BeginFrame(std::string* out, FrameType type) {
  const size_t start = out->size();
  PutU32(out, 0);
  PutU8(out, kFrameVersion);
  PutU8(out, static_cast<uint8_t>(type));
  return start;
}

// Writes the length and the count (at `count_at` from the frame start), or removes the frame
// and throws when it is too big.
void EndFrame(std::string* out, size_t start, size_t count_at, uint32_t count, const char* what) {
  const size_t body = out->size() - start - kFrameHeaderBytes;
  if (body > kMaxFrameBodyBytes) {
    out->resize(start);
    throw std::length_error(std::string(what) + ": frame body of " + std::to_string(body) +
                            " bytes exceeds the limit of " + std::to_string(kMaxFrameBodyBytes));
  }
  PatchU32(out, start, static_cast<uint32_t>(body));
  PatchU32(out, start + count_at, count);
}

void AddItem(std::string* out, uint64_t index, int64_t value, std::string_view payload,
             uint32_t* count, const char* what) {
  if (payload.size() > kMaxFrameBodyBytes) {
    throw std::length_error(std::string(what) + ": payload of " + std::to_string(payload.size()) +
                            " bytes exceeds the frame limit of " + std::to_string(kMaxFrameBodyBytes));
  }
  PutU64(out, index);
  PutU64(out, static_cast<uint64_t>(value));
  PutU32(out, static_cast<uint32_t>(payload.size()));
  out->append(payload);
  ++*count;
}

// Reads `count` items, checking the count against the bytes left before allocating.
std::optional<std::string> DecodeItems(Reader& r, uint32_t count, std::vector<FrameItem>* items) {
  if (count > r.remaining() / kItemFixedBytes) {
    return "item count " + std::to_string(count) + " needs at least " +
           std::to_string(static_cast<uint64_t>(count) * kItemFixedBytes) + " bytes but only " +
           std::to_string(r.remaining()) + " remain" + At(r);
  }
  // Items already in *items are overwritten, not freed: a caller decoding frame after frame into
  // the same chunk reuses the payloads' buffers.
  items->resize(count);
  for (uint32_t i = 0; i < count; ++i) {
    FrameItem& it = (*items)[i];
    uint64_t value = 0;
    uint32_t len = 0;
    if (!r.U64(&it.index) || !r.U64(&value) || !r.U32(&len)) {
      return "item " + std::to_string(i) + " is truncated" + At(r);
    }
    it.value = static_cast<int64_t>(value);
    if (len > r.remaining()) {
      return "item " + std::to_string(i) + " declares a payload of " + std::to_string(len) +
             " bytes but only " + std::to_string(r.remaining()) + " remain" + At(r);
    }
    r.Bytes(len, &it.payload);
  }
  if (r.remaining() != 0) {
    return std::to_string(r.remaining()) + " trailing bytes after the last item" + At(r);
  }
  return std::nullopt;
}

}  // namespace

size_t TaskFrameBytes(size_t items, size_t payload_bytes, size_t steps) {
  return kFrameHeaderBytes + kBodyPrefixBytes + kTasksFixedBytes + steps * kStepBytes +
         items * kItemFixedBytes + payload_bytes;
}

size_t ResultFrameBytes(size_t items, size_t payload_bytes) {
  return kFrameHeaderBytes + kBodyPrefixBytes + kResultsFixedBytes + items * kItemFixedBytes +
         payload_bytes;
}

ItemFrameWriter::ItemFrameWriter(std::string* out, FrameType type, const char* name)
    : out_(out), start_(BeginFrame(out, type)), name_(name) {}

void ItemFrameWriter::BeginItems() {
  count_offset_ = out_->size() - start_;
  PutU32(out_, 0);  // count, patched by Finish
}

void ItemFrameWriter::Add(uint64_t index, int64_t value, std::string_view payload) {
  AddItem(out_, index, value, payload, &count_, name_);
}

void ItemFrameWriter::Finish() { EndFrame(out_, start_, count_offset_, count_, name_); }

TaskFrameWriter::TaskFrameWriter(std::string* out, const TaskSpec& spec, uint8_t flags)
    : ItemFrameWriter(out, FrameType::kTasks, "TaskFrameWriter") {
  if (spec.steps.size() > kMaxSteps) {
    throw std::length_error("TaskFrameWriter: " + std::to_string(spec.steps.size()) + " steps, at most " +
                            std::to_string(kMaxSteps));
  }
  PutU8(out, flags);
  PutU8(out, static_cast<uint8_t>(spec.steps.size()));
  for (const Step& st : spec.steps) {
    PutU8(out, static_cast<uint8_t>(st.kind));
    PutU8(out, static_cast<uint8_t>(st.fn));
    PutU8(out, static_cast<uint8_t>(st.operand));
    PutU64(out, static_cast<uint64_t>(st.arg));
    PutU64(out, static_cast<uint64_t>(st.bytes));
  }
  BeginItems();
}

ResultFrameWriter::ResultFrameWriter(std::string* out, uint64_t cpu_ns, uint64_t ctx_switches)
    : ItemFrameWriter(out, FrameType::kResults, "ResultFrameWriter") {
  PutU64(out, cpu_ns);
  PutU64(out, ctx_switches);
  BeginItems();
}

void AppendErrorFrame(std::string_view message, std::string* out) {
  message = message.substr(0, kMaxErrorMessageBytes);
  const size_t start = BeginFrame(out, FrameType::kError);
  PutU32(out, static_cast<uint32_t>(message.size()));
  out->append(message);
  PatchU32(out, start, static_cast<uint32_t>(out->size() - start - kFrameHeaderBytes));
}

void AppendTraceFrame(const std::vector<TraceSpan>& spans, std::string* out) {
  const size_t start = BeginFrame(out, FrameType::kTrace);
  PutU32(out, static_cast<uint32_t>(spans.size()));
  for (const TraceSpan& sp : spans) {
    PutU64(out, sp.index);
    out->push_back(static_cast<char>(sp.step & 0xff));
    out->push_back(static_cast<char>(sp.step >> 8));
    PutU64(out, sp.begin_ns);
    PutU64(out, sp.end_ns);
  }
  EndFrame(out, start, kFrameHeaderBytes + kBodyPrefixBytes, static_cast<uint32_t>(spans.size()), "AppendTraceFrame");
}

namespace {

void AddAllAndFinish(ItemFrameWriter& w, const std::vector<FrameItem>& items) {
  for (const FrameItem& it : items) w.Add(it.index, it.value, it.payload);
  w.Finish();
}

}  // namespace

std::string EncodeTasks(const TaskChunk& chunk) {
  std::string out;
  TaskFrameWriter w(&out, chunk.spec, chunk.flags);
  AddAllAndFinish(w, chunk.items);
  return out;
}

std::string EncodeResults(const ResultChunk& chunk) {
  std::string out;
  ResultFrameWriter w(&out, chunk.cpu_ns, chunk.ctx_switches);
  AddAllAndFinish(w, chunk.items);
  return out;
}

FrameSplit SplitFrame(std::string_view bytes) {
  FrameSplit s;
  auto malformed = [&s](std::string why) {
    s.status = FrameStatus::kMalformed;
    s.error = std::move(why);
    return s;
  };
  if (bytes.size() < kFrameHeaderBytes) {
    s.frame_bytes = kFrameHeaderBytes;
    return s;
  }
  const uint32_t body = GetUint<uint32_t>(bytes.data());
  if (body < kBodyPrefixBytes) {
    return malformed("frame body of " + std::to_string(body) +
                     " bytes is shorter than its version and type (2 bytes)");
  }
  if (body > kMaxFrameBodyBytes) {
    return malformed("frame body of " + std::to_string(body) + " bytes exceeds the limit of " +
                     std::to_string(kMaxFrameBodyBytes));
  }
  s.frame_bytes = kFrameHeaderBytes + body;
  if (bytes.size() > kFrameHeaderBytes) {
    const auto version = static_cast<uint8_t>(bytes[kFrameHeaderBytes]);
    if (version != kFrameVersion) {
      return malformed("unsupported frame version " + std::to_string(version) + " (expected " +
                       std::to_string(kFrameVersion) + ")");
    }
  }
  if (bytes.size() > kFrameHeaderBytes + 1) {
    const auto type = static_cast<uint8_t>(bytes[kFrameHeaderBytes + 1]);
    if (type < static_cast<uint8_t>(FrameType::kTasks) || type > static_cast<uint8_t>(FrameType::kTrace)) {
      return malformed("unknown frame type " + std::to_string(type));
    }
    s.type = static_cast<FrameType>(type);
  }
  if (bytes.size() < s.frame_bytes) return s;  // kIncomplete
  s.status = FrameStatus::kComplete;
  s.content = bytes.substr(kFrameHeaderBytes + kBodyPrefixBytes, body - kBodyPrefixBytes);
  return s;
}

std::optional<std::string> DecodeTasks(std::string_view content, TaskChunk* out) {
  Reader r(content);
  uint8_t steps = 0;
  if (!r.U8(&out->flags) || !r.U8(&steps)) {
    return "tasks frame of " + std::to_string(content.size()) + " content bytes is shorter than its flags and step count";
  }
  if ((out->flags & ~kTraceFlag) != 0) {
    return "tasks frame: unknown flags " + std::to_string(out->flags & ~kTraceFlag) + At(r);
  }
  out->spec.steps.resize(steps);
  for (Step& st : out->spec.steps) {
    uint8_t kind = 0, fn = 0, operand = 0;
    uint64_t arg = 0, bytes = 0;
    if (!r.U8(&kind) || !r.U8(&fn) || !r.U8(&operand) || !r.U64(&arg) || !r.U64(&bytes)) {
      return "tasks frame: step " + std::to_string(&st - out->spec.steps.data()) + " is truncated" + At(r);
    }
    st = {static_cast<StepKind>(kind), static_cast<ComputeFn>(fn), static_cast<Operand>(operand),
          static_cast<int64_t>(arg), static_cast<int64_t>(bytes)};
  }
  if (auto err = ValidateSpec(out->spec)) return "tasks frame: " + *err;
  uint32_t count = 0;
  if (!r.U32(&count)) return "tasks frame: the item count is truncated" + At(r);
  if (auto err = DecodeItems(r, count, &out->items)) return "tasks frame: " + *err;
  return std::nullopt;
}

std::optional<std::string> DecodeTrace(std::string_view content, std::vector<TraceSpan>* out) {
  Reader r(content);
  uint32_t count = 0;
  if (!r.U32(&count)) return std::string("trace frame is shorter than its 4-byte span count");
  if (count != r.remaining() / kSpanBytes || r.remaining() % kSpanBytes != 0) {
    return "trace frame declares " + std::to_string(count) + " spans but carries " + std::to_string(r.remaining()) +
           " bytes (" + std::to_string(kSpanBytes) + " per span)";
  }
  out->resize(count);
  for (TraceSpan& sp : *out) {
    r.U64(&sp.index);
    r.U16(&sp.step);
    r.U64(&sp.begin_ns);
    r.U64(&sp.end_ns);
    if (sp.end_ns < sp.begin_ns) {
      return "trace frame: span of task " + std::to_string(sp.index) + " ends before it begins";
    }
  }
  return std::nullopt;
}

std::optional<std::string> DecodeResults(std::string_view content, ResultChunk* out) {
  Reader r(content);
  uint32_t count = 0;
  if (!r.U64(&out->cpu_ns) || !r.U64(&out->ctx_switches) || !r.U32(&count)) {
    return "results frame of " + std::to_string(content.size()) +
           " content bytes is shorter than its " + std::to_string(kResultsFixedBytes) + "-byte header";
  }
  if (auto err = DecodeItems(r, count, &out->items)) return "results frame: " + *err;
  return std::nullopt;
}

std::optional<std::string> DecodeErrorMessage(std::string_view content, std::string* out) {
  Reader r(content);
  uint32_t len = 0;
  if (!r.U32(&len)) return std::string("error frame is shorter than its 4-byte message length");
  // The encoder cuts messages to this size, so a longer one was not written by a worker (and
  // accepting it would give the format two encodings of one value).
  if (len > kMaxErrorMessageBytes) {
    return "error frame declares a message of " + std::to_string(len) + " bytes, over the limit of " +
           std::to_string(kMaxErrorMessageBytes);
  }
  if (len != r.remaining()) {
    return "error frame declares a message of " + std::to_string(len) + " bytes but carries " +
           std::to_string(r.remaining());
  }
  r.Bytes(len, out);
  return std::nullopt;
}

std::optional<std::string> DecodeFrame(std::string_view bytes, Frame* out) {
  const FrameSplit s = SplitFrame(bytes);
  switch (s.status) {
    case FrameStatus::kMalformed:
      return s.error;
    case FrameStatus::kIncomplete:
      return "truncated frame: " + std::to_string(bytes.size()) + " of " +
             std::to_string(s.frame_bytes) + " bytes" +
             (bytes.size() < kFrameHeaderBytes ? " (incomplete length header)" : "");
    case FrameStatus::kComplete:
      break;
  }
  if (s.frame_bytes != bytes.size()) {
    return std::to_string(bytes.size() - s.frame_bytes) + " bytes after the end of the frame";
  }
  out->type = s.type;
  switch (s.type) {
    case FrameType::kTasks: return DecodeTasks(s.content, &out->tasks);
    case FrameType::kResults: return DecodeResults(s.content, &out->results);
    case FrameType::kError: return DecodeErrorMessage(s.content, &out->error);
    case FrameType::kTrace: return DecodeTrace(s.content, &out->trace);
  }
  return std::string("unknown frame type");
}

}  // namespace concbench
