#include "models/frame.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <vector>

namespace concbench {
namespace {

using std::chrono::milliseconds;

TaskChunk SampleTasks() {
  TaskChunk c;
  c.flags = kTraceFlag;
  c.spec = {{ComputeOn(ComputeFn::kTrabajo, -5), SleepStep(milliseconds(3))}};
  c.items = {{0, 7, "abc"}, {1, -1, ""}, {41, 1'000'000'000'000, std::string("\0\xff", 2)}};
  return c;
}

// A tasks frame of one item (input 1, no payload) running `spec`.
std::string OneItemTasks(const TaskSpec& spec) {
  TaskChunk c;
  c.spec = spec;
  c.items = {{0, 1, ""}};
  return EncodeTasks(c);
}

std::vector<TraceSpan> SampleSpans() {
  return {{0, kTaskSpan, 100, 200},
          {0, 0, 100, 150},
          {0, 1, 150, 200},
          {41, 254, 0, 0},
          {UINT64_MAX, 0xfffe, 5, UINT64_MAX}};
}

// A trace frame written byte by byte from the grammar (frame.h), independent of the encoder.
std::string TraceWire(const std::vector<TraceSpan>& spans) {
  std::string wire;
  auto put = [&wire](uint64_t v, int bytes) {
    for (int i = 0; i < bytes; ++i) wire.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  };
  put(2 + 4 + spans.size() * kSpanBytes, 4);
  put(2, 1);  // version
  put(4, 1);  // type: trace
  put(spans.size(), 4);
  for (const TraceSpan& s : spans) {
    put(s.index, 8);
    put(s.step, 2);
    put(s.begin_ns, 8);
    put(s.end_ns, 8);
  }
  return wire;
}

// Decodes `wire`, which must be one well-formed frame.
Frame DecodeOne(const std::string& wire) {
  Frame f;
  EXPECT_EQ(DecodeFrame(wire, &f), std::nullopt);
  return f;
}

TEST(FrameTest, TasksRoundTripExactly) {
  const TaskChunk in = SampleTasks();
  const std::string wire = EncodeTasks(in);
  EXPECT_EQ(wire.size(), TaskFrameBytes(3, 5, 2));
  const Frame f = DecodeOne(wire);
  EXPECT_EQ(f.type, FrameType::kTasks);
  EXPECT_EQ(f.tasks, in);
}

TEST(FrameTest, EverySpecAWorkerCanRunRoundTrips) {
  TaskChunk in;
  in.spec = {{Compute(ComputeFn::kCpuIntensivo), ComputeOn(ComputeFn::kTareaNormal, -7), Compute(ComputeFn::kIdentity),
              ComputeOn(ComputeFn::kAbortIf, 5), ComputeOn(ComputeFn::kExitIf, 6), Compute(ComputeFn::kSpinForever),
              SleepStep(milliseconds(0)), SleepStep(std::chrono::hours(1)), EchoStep(milliseconds(500), 65536),
              EchoStep(milliseconds(0), 0)}};
  in.items = {{3, -9, "p"}};
  EXPECT_EQ(DecodeOne(EncodeTasks(in)).tasks, in);
  // The most steps a frame carries, and none at all.
  in.spec.steps.assign(kMaxSteps, SleepStep(milliseconds(1)));
  EXPECT_EQ(DecodeOne(EncodeTasks(in)).tasks, in);
  in.spec.steps.clear();
  EXPECT_EQ(DecodeOne(EncodeTasks(in)).tasks, in);
}

TEST(FrameTest, AWriterRefusesMoreStepsThanAFrameCounts) {
  std::string out = "keep";
  try {
    TaskFrameWriter w(&out, {std::vector<Step>(256, SleepStep(milliseconds(1)))});
    ADD_FAILURE() << "no std::length_error";
  } catch (const std::length_error& e) {
    EXPECT_STREQ(e.what(), "TaskFrameWriter: 256 steps, at most 255");
  }
}

TEST(FrameTest, TraceDecodesEverySpan) {
  const std::vector<TraceSpan> in = SampleSpans();
  const std::string wire = TraceWire(in);
  EXPECT_EQ(wire.size(), 4 + 2 + 4 + 5 * kSpanBytes);
  const Frame f = DecodeOne(wire);
  EXPECT_EQ(f.type, FrameType::kTrace);
  EXPECT_EQ(f.trace, in);
  EXPECT_TRUE(DecodeOne(TraceWire({})).trace.empty());
}

TEST(FrameTest, TraceRoundTripsExactly) {
  std::string empty;
  AppendTraceFrame({}, &empty);
  EXPECT_EQ(empty, TraceWire({}));
  std::string wire;
  AppendTraceFrame(SampleSpans(), &wire);
  EXPECT_EQ(wire, TraceWire(SampleSpans()));
  EXPECT_EQ(DecodeOne(wire).trace, SampleSpans());
  // Layout: length 2 + 4 + 26 = 32, version 2, type 4, count 1, then index, step, begin, end.
  std::string one;
  AppendTraceFrame({{7, 0x0102, 3, 4}}, &one);
  EXPECT_EQ(one, std::string("\x20\x00\x00\x00\x02\x04\x01\x00\x00\x00"
                             "\x07\x00\x00\x00\x00\x00\x00\x00\x02\x01"
                             "\x03\x00\x00\x00\x00\x00\x00\x00\x04\x00\x00\x00\x00\x00\x00\x00",
                             36));
}

TEST(FrameTest, ResultsRoundTripExactly) {
  ResultChunk in;
  in.cpu_ns = 123'456'789;
  in.ctx_switches = 42;
  in.items = {{5, 14998935, std::string(1000, 'z')}, {6, 0, ""}};
  const std::string wire = EncodeResults(in);
  EXPECT_EQ(wire.size(), ResultFrameBytes(2, 1000));
  const Frame f = DecodeOne(wire);
  EXPECT_EQ(f.type, FrameType::kResults);
  EXPECT_EQ(f.results, in);
}

TEST(FrameTest, ErrorFrameCarriesItsMessage) {
  std::string wire;
  AppendErrorFrame("task 4 (input 4) threw: boom", &wire);
  Frame f;
  ASSERT_EQ(DecodeFrame(wire, &f), std::nullopt);
  EXPECT_EQ(f.type, FrameType::kError);
  EXPECT_EQ(f.error, "task 4 (input 4) threw: boom");
}

TEST(FrameTest, LayoutIsLittleEndianWithVersionAndType) {
  TaskChunk c;
  c.flags = kTraceFlag;
  c.spec = {{ComputeOn(ComputeFn::kTrabajo, 0x0201)}};
  c.items = {{1, 2, "x"}};
  const std::string wire = EncodeTasks(c);
  // length 2 + 2 + 19 + 4 + 20 + 1 = 48 = 0x30, then version 2, type 1 (tasks), flags 1, one
  // step: kind 1 (compute), fn 2 (trabajo), operand 1 (arg), arg 0x0201, bytes 0; one item.
  ASSERT_EQ(wire.size(), 52u);
  EXPECT_EQ(wire.substr(0, 31), std::string("\x30\x00\x00\x00\x02\x01\x01\x01"
                                            "\x01\x02\x01\x01\x02\x00\x00\x00\x00\x00\x00"
                                            "\x00\x00\x00\x00\x00\x00\x00\x00"
                                            "\x01\x00\x00\x00",
                                            31));
  EXPECT_EQ(wire.back(), 'x');
}

TEST(FrameTest, EmptyChunkIsValid) {
  Frame f;
  ASSERT_EQ(DecodeFrame(EncodeTasks(TaskChunk{}), &f), std::nullopt);
  EXPECT_TRUE(f.tasks.items.empty());
}

TEST(FrameTest, EveryTruncationIsRejectedAsTruncated) {
  for (const std::string& whole : {EncodeTasks(SampleTasks()), TraceWire(SampleSpans())}) {
    for (size_t n = 0; n < whole.size(); ++n) {
      Frame f;
      const auto err = DecodeFrame(std::string_view(whole).substr(0, n), &f);
      ASSERT_TRUE(err.has_value()) << n;
      EXPECT_NE(err->find("truncated frame"), std::string::npos) << *err;
      EXPECT_EQ(SplitFrame(std::string_view(whole).substr(0, n)).status, FrameStatus::kIncomplete) << n;
    }
  }
  const std::string wire = EncodeTasks(SampleTasks());
  Frame f;
  EXPECT_EQ(DecodeFrame(std::string_view(wire).substr(0, 10), &f),
            "truncated frame: 10 of " + std::to_string(wire.size()) + " bytes");
}

TEST(FrameTest, OversizedLengthIsRejectedBeforeTheBodyArrives) {
  // 0x04000001 = kMaxFrameBodyBytes + 1: rejected from the header alone.
  const std::string header("\x01\x00\x00\x04", 4);
  const FrameSplit s = SplitFrame(header);
  EXPECT_EQ(s.status, FrameStatus::kMalformed);
  EXPECT_EQ(s.error, "frame body of 67108865 bytes exceeds the limit of 67108864");
  Frame f;
  EXPECT_EQ(DecodeFrame(std::string("\xff\xff\xff\xff\x01\x01", 6), &f),
            "frame body of 4294967295 bytes exceeds the limit of 67108864");
}

TEST(FrameTest, WriterRefusesAnOversizedFrameAndLeavesNothingBehind) {
  std::string out = "keep";
  TaskFrameWriter w(&out, {{Compute(ComputeFn::kIdentity)}});
  const std::string big(kMaxFrameBodyBytes / 2, 'b');
  w.Add(0, 0, big);
  w.Add(1, 0, big);
  EXPECT_THROW(w.Finish(), std::length_error);
  EXPECT_EQ(out, "keep");
}

TEST(FrameTest, BadVersionTypeAndLengthAreRejected) {
  std::string wire = EncodeTasks(SampleTasks());
  Frame f;
  std::string v = wire;
  v[4] = 1;  // a version-1 frame: a task kind and a parameter where a spec is expected
  EXPECT_EQ(DecodeFrame(v, &f), "unsupported frame version 1 (expected 2)");
  EXPECT_EQ(SplitFrame(std::string_view(v).substr(0, 5)).status, FrameStatus::kMalformed);
  std::string t = wire;
  t[5] = 5;
  EXPECT_EQ(DecodeFrame(t, &f), "unknown frame type 5");
  t[5] = 0;
  EXPECT_EQ(DecodeFrame(t, &f), "unknown frame type 0");
  EXPECT_EQ(DecodeFrame(std::string("\x01\x00\x00\x00\x01", 5), &f),
            "frame body of 1 bytes is shorter than its version and type (2 bytes)");
  EXPECT_EQ(DecodeFrame(wire + "!", &f), "1 bytes after the end of the frame");
}

TEST(FrameTest, MalformedContentIsRejectedWithItsCause) {
  Frame f;
  // Wire offsets of a one-step tasks frame: header 4, version and type 2, flags, step count, the
  // step (kind, fn, operand, arg, bytes), the item count, the items.
  constexpr size_t kFlags = 6, kStep = 8, kCount = kStep + kStepBytes, kItem = kCount + 4;
  TaskChunk c;
  c.spec = {{Compute(ComputeFn::kIdentity)}};
  // A tasks frame whose count claims more items than its bytes can hold.
  c.items = {{0, 1, ""}};
  std::string wire = EncodeTasks(c);
  wire[kCount] = 2;  // count := 2
  EXPECT_EQ(DecodeFrame(wire, &f),
            "tasks frame: item count 2 needs at least 40 bytes but only 20 remain at content offset 25");
  // An item whose payload length runs past the end of the frame.
  c.items = {{0, 1, "abcd"}};
  wire = EncodeTasks(c);
  wire[kItem + 16] = 100;  // payload_len := 100
  EXPECT_EQ(DecodeFrame(wire, &f),
            "tasks frame: item 0 declares a payload of 100 bytes but only 4 remain at content offset 45");
  // Bytes left over after the last item (the length covers them).
  wire = EncodeTasks(c);
  wire.push_back('!');
  wire[0] = static_cast<char>(wire[0] + 1);
  EXPECT_EQ(DecodeFrame(wire, &f), "tasks frame: 1 trailing bytes after the last item at content offset 49");
  // Flags a worker does not know.
  wire = EncodeTasks(c);
  wire[kFlags] = 2;
  EXPECT_EQ(DecodeFrame(wire, &f), "tasks frame: unknown flags 2 at content offset 2");
  wire[kFlags] = static_cast<char>(0x81);
  EXPECT_EQ(DecodeFrame(wire, &f), "tasks frame: unknown flags 128 at content offset 2");
  // A step a worker cannot run: its kind, its function, its operand.
  wire = EncodeTasks(c);
  wire[kStep] = 9;
  EXPECT_EQ(DecodeFrame(wire, &f), "tasks frame: step 0: unknown step kind 9");
  wire = EncodeTasks(c);
  wire[kStep + 1] = 8;
  EXPECT_EQ(DecodeFrame(wire, &f), "tasks frame: step 0: unknown compute function 8");
  wire[kStep + 1] = 0;
  EXPECT_EQ(DecodeFrame(wire, &f), "tasks frame: step 0: unknown compute function 0");
  wire = EncodeTasks(c);
  wire[kStep + 2] = 2;
  EXPECT_EQ(DecodeFrame(wire, &f), "tasks frame: step 0: unknown operand 2");
  // Negative waits and sizes (the writer does not judge the spec; the decoder does).
  EXPECT_EQ(DecodeFrame(OneItemTasks({{Compute(ComputeFn::kIdentity), SleepStep(milliseconds(-1))}}), &f),
            "tasks frame: step 1: a sleep of -1000000 ns");
  EXPECT_EQ(DecodeFrame(OneItemTasks({{EchoStep(milliseconds(-2), 64)}}), &f),
            "tasks frame: step 0: an echo delay of -2000000 ns");
  EXPECT_EQ(DecodeFrame(OneItemTasks({{EchoStep(milliseconds(1), -64)}}), &f),
            "tasks frame: step 0: an echo payload of -64 bytes (0 to 67108864)");
  // A step count above the steps sent: the item count and the items are read as a step, which
  // no worker can run.
  wire = OneItemTasks({{Compute(ComputeFn::kIdentity)}});
  wire[kFlags + 1] = 2;
  EXPECT_EQ(DecodeFrame(wire, &f), "tasks frame: step 1: unknown compute function 0");
  // A frame that ends inside a step (the length covers only what is there).
  wire = OneItemTasks({{SleepStep(milliseconds(1)), SleepStep(milliseconds(2))}}).substr(0, kCount + 5);
  wire[0] = static_cast<char>(kCount + 5 - 4);
  EXPECT_EQ(DecodeFrame(wire, &f), "tasks frame: step 1 is truncated at content offset 24");
  // Content shorter than the flags and the step count, or ending before the item count.
  EXPECT_EQ(DecodeFrame(std::string("\x03\x00\x00\x00\x02\x01\x00", 7), &f),
            "tasks frame of 1 content bytes is shorter than its flags and step count");
  wire = OneItemTasks({{Compute(ComputeFn::kIdentity)}}).substr(0, kCount + 2);
  wire[0] = static_cast<char>(kCount + 2 - 4);
  EXPECT_EQ(DecodeFrame(wire, &f), "tasks frame: the item count is truncated at content offset 21");
  // A results frame shorter than its fixed header.
  const std::string results("\x05\x00\x00\x00\x02\x02\x00\x00\x00", 9);
  EXPECT_EQ(DecodeFrame(results, &f), "results frame of 3 content bytes is shorter than its 20-byte header");
  // An error frame whose message length disagrees with its bytes.
  const std::string error("\x07\x00\x00\x00\x02\x03\x09\x00\x00\x00\x41", 11);
  EXPECT_EQ(DecodeFrame(error, &f), "error frame declares a message of 9 bytes but carries 1");
  // An error message longer than any worker writes.
  std::string long_error;
  AppendErrorFrame(std::string(kMaxErrorMessageBytes + 10, 'e'), &long_error);
  ASSERT_EQ(DecodeFrame(long_error, &f), std::nullopt);
  EXPECT_EQ(f.error.size(), kMaxErrorMessageBytes);  // cut by the encoder
  const std::string over("\x07\x00\x01\x00\x02\x03\x01\x00\x01\x00", 10);
  EXPECT_EQ(DecodeFrame(over + std::string(65537, 'e'), &f),
            "error frame declares a message of 65537 bytes, over the limit of 65536");
}

TEST(FrameTest, MalformedTraceIsRejectedWithItsCause) {
  Frame f;
  // Header, version 2, type 4, then the content.
  auto trace = [](const std::string& content) {
    std::string wire(4, '\0');
    wire[0] = static_cast<char>(content.size() + 2);
    return wire + "\x02\x04" + content;
  };
  EXPECT_EQ(DecodeFrame(trace(std::string("\x01\x00\x00", 3)), &f),
            "trace frame is shorter than its 4-byte span count");
  // One span of 26 bytes, announced as two; and one span with a byte too many.
  std::string one = TraceWire({{3, 0, 10, 20}});
  one[6] = 2;
  EXPECT_EQ(DecodeFrame(one, &f), "trace frame declares 2 spans but carries 26 bytes (26 per span)");
  one = TraceWire({{3, 0, 10, 20}}) + "!";
  one[0] = static_cast<char>(one[0] + 1);
  EXPECT_EQ(DecodeFrame(one, &f), "trace frame declares 1 spans but carries 27 bytes (26 per span)");
  // A span that ends before it begins.
  EXPECT_EQ(DecodeFrame(TraceWire({{0, kTaskSpan, 1, 2}, {3, 0, 20, 10}}), &f),
            "trace frame: span of task 3 ends before it begins");
}

TEST(FrameTest, SplitFindsFramesInAStream) {
  const std::string a = EncodeTasks(SampleTasks());
  std::string b;
  AppendErrorFrame("x", &b);
  b += TraceWire(SampleSpans());
  const std::string stream = a + b;
  const FrameSplit first = SplitFrame(stream);
  ASSERT_EQ(first.status, FrameStatus::kComplete);
  EXPECT_EQ(first.frame_bytes, a.size());
  EXPECT_EQ(first.type, FrameType::kTasks);
  const FrameSplit second = SplitFrame(std::string_view(stream).substr(first.frame_bytes));
  ASSERT_EQ(second.status, FrameStatus::kComplete);
  EXPECT_EQ(second.type, FrameType::kError);
  const FrameSplit third = SplitFrame(std::string_view(stream).substr(first.frame_bytes + second.frame_bytes));
  ASSERT_EQ(third.status, FrameStatus::kComplete);
  EXPECT_EQ(third.type, FrameType::kTrace);
  EXPECT_EQ(first.frame_bytes + second.frame_bytes + third.frame_bytes, stream.size());
  const FrameSplit partial = SplitFrame(std::string_view(stream).substr(0, 7));
  EXPECT_EQ(partial.status, FrameStatus::kIncomplete);
  EXPECT_EQ(partial.frame_bytes, a.size());
}

// Flipping any single byte of a valid frame either still decodes or is rejected with a message;
// it never reads out of bounds (ASan would say so) or throws.
TEST(FrameTest, SingleByteCorruptionsNeverCrash) {
  for (const std::string& wire : {EncodeTasks(SampleTasks()), TraceWire(SampleSpans())}) {
    int rejected = 0;
    for (size_t i = 0; i < wire.size(); ++i) {
      for (int delta : {1, 0x80, 0xff}) {
        std::string bad = wire;
        bad[i] = static_cast<char>(static_cast<unsigned char>(bad[i]) + delta);
        Frame f;
        if (DecodeFrame(bad, &f)) ++rejected;
      }
    }
    EXPECT_GT(rejected, 0);
  }
}

// The fuzzer's seeds (tests/fuzz/corpus/frame_fuzz), one per kind of input, as this version's
// encoders write them; `valid` says whether the seed decodes.
struct Seed {
  std::string name;
  std::string bytes;
  bool valid;
};

std::vector<Seed> FuzzSeeds() {
  std::string error;
  AppendErrorFrame("worker 2: task 5 threw: boom", &error);
  TaskChunk two;
  two.spec = {{Compute(ComputeFn::kTrabajo), SleepStep(milliseconds(1))}};
  two.items = {{0, 7, "abc"}, {1, 8, ""}};
  const std::string two_items = EncodeTasks(two);
  TaskChunk empty;
  empty.spec = {{SleepStep(milliseconds(0))}};
  const ResultChunk results{.cpu_ns = 123'456, .ctx_switches = 9, .items = {{5, 2398830, std::string(300, 'x')}}};
  return {
      {"error", error, true},
      {"oversized_length", std::string("\xff\xff\xff\xff\x02\x01", 6), false},
      {"results_payload", EncodeResults(results), true},
      {"tasks_empty", EncodeTasks(empty), true},
      {"tasks_two_items", two_items, true},
      {"truncated", two_items.substr(0, two_items.size() - 1), false},
      {"trace", TraceWire(SampleSpans()), true},
  };
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// The seeds must be frames of this version, or the fuzzer starts from inputs the decoder refuses
// at their version byte. With CONCBENCH_WRITE_FUZZ_SEEDS set, the test (re)writes them first:
//   CONCBENCH_WRITE_FUZZ_SEEDS=1 build/tests/frame_test --gtest_filter=*Seeds*
TEST(FrameTest, TheFuzzersSeedsAreFramesOfThisVersion) {
  for (const Seed& seed : FuzzSeeds()) {
    const std::string path = std::string(CONCBENCH_FRAME_FUZZ_CORPUS) + "/" + seed.name;
    if (std::getenv("CONCBENCH_WRITE_FUZZ_SEEDS") != nullptr) {
      std::ofstream(path, std::ios::binary | std::ios::trunc) << seed.bytes;
    }
    EXPECT_EQ(ReadFile(path), seed.bytes) << path;
    Frame f;
    EXPECT_EQ(!DecodeFrame(seed.bytes, &f).has_value(), seed.valid) << seed.name;
  }
}

}  // namespace
}  // namespace concbench
