#include "models/frame.h"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

namespace concbench {
namespace {

TaskChunk SampleTasks() {
  TaskChunk c;
  c.kind = 3;
  c.param = -5;
  c.items = {{0, 7, "abc"}, {1, -1, ""}, {41, 1'000'000'000'000, std::string("\0\xff", 2)}};
  return c;
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
  EXPECT_EQ(wire.size(), TaskFrameBytes(3, 5));
  const Frame f = DecodeOne(wire);
  EXPECT_EQ(f.type, FrameType::kTasks);
  EXPECT_EQ(f.tasks, in);
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
  AppendErrorFrame("unknown task kind 9", &wire);
  Frame f;
  ASSERT_EQ(DecodeFrame(wire, &f), std::nullopt);
  EXPECT_EQ(f.type, FrameType::kError);
  EXPECT_EQ(f.error, "unknown task kind 9");
}

TEST(FrameTest, LayoutIsLittleEndianWithVersionAndType) {
  TaskChunk c;
  c.kind = 2;
  c.param = 1;
  c.items = {{1, 2, "x"}};
  const std::string wire = EncodeTasks(c);
  // length 2 + 13 + 20 + 1 = 36 = 0x24, then version 1, type 1 (tasks), kind 2, param 1.
  ASSERT_EQ(wire.size(), 40u);
  EXPECT_EQ(wire.substr(0, 8), std::string("\x24\x00\x00\x00\x01\x01\x02\x01", 8));
  EXPECT_EQ(wire.back(), 'x');
}

TEST(FrameTest, EmptyChunkIsValid) {
  Frame f;
  ASSERT_EQ(DecodeFrame(EncodeTasks(TaskChunk{}), &f), std::nullopt);
  EXPECT_TRUE(f.tasks.items.empty());
}

TEST(FrameTest, EveryTruncationIsRejectedAsTruncated) {
  const std::string wire = EncodeTasks(SampleTasks());
  for (size_t n = 0; n < wire.size(); ++n) {
    Frame f;
    const auto err = DecodeFrame(std::string_view(wire).substr(0, n), &f);
    ASSERT_TRUE(err.has_value()) << n;
    EXPECT_NE(err->find("truncated frame"), std::string::npos) << *err;
    EXPECT_EQ(SplitFrame(std::string_view(wire).substr(0, n)).status, FrameStatus::kIncomplete) << n;
  }
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
  TaskFrameWriter w(&out, 1, 0);
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
  v[4] = 2;
  EXPECT_EQ(DecodeFrame(v, &f), "unsupported frame version 2 (expected 1)");
  EXPECT_EQ(SplitFrame(std::string_view(v).substr(0, 5)).status, FrameStatus::kMalformed);
  std::string t = wire;
  t[5] = 9;
  EXPECT_EQ(DecodeFrame(t, &f), "unknown frame type 9");
  EXPECT_EQ(DecodeFrame(std::string("\x01\x00\x00\x00\x01", 5), &f),
            "frame body of 1 bytes is shorter than its version and type (2 bytes)");
  EXPECT_EQ(DecodeFrame(wire + "!", &f), "1 bytes after the end of the frame");
}

TEST(FrameTest, MalformedContentIsRejectedWithItsCause) {
  Frame f;
  // A tasks frame whose count claims more items than its bytes can hold.
  TaskChunk c;
  c.items = {{0, 1, ""}};
  std::string wire = EncodeTasks(c);
  wire[4 + 2 + 9] = 2;  // count := 2
  EXPECT_EQ(DecodeFrame(wire, &f),
            "tasks frame: item count 2 needs at least 40 bytes but only 20 remain at content offset 13");
  // An item whose payload length runs past the end of the frame.
  c.items = {{0, 1, "abcd"}};
  wire = EncodeTasks(c);
  wire[4 + 2 + 13 + 16] = 100;  // payload_len := 100
  EXPECT_EQ(DecodeFrame(wire, &f),
            "tasks frame: item 0 declares a payload of 100 bytes but only 4 remain at content offset 33");
  // Bytes left over after the last item (the length covers them).
  wire = EncodeTasks(c);
  wire.push_back('!');
  wire[0] = static_cast<char>(wire[0] + 1);
  EXPECT_EQ(DecodeFrame(wire, &f), "tasks frame: 1 trailing bytes after the last item at content offset 37");
  // A results frame shorter than its fixed header.
  const std::string results("\x05\x00\x00\x00\x01\x02\x00\x00\x00", 9);
  EXPECT_EQ(DecodeFrame(results, &f), "results frame of 3 content bytes is shorter than its 20-byte header");
  // An error frame whose message length disagrees with its bytes.
  const std::string error("\x07\x00\x00\x00\x01\x03\x09\x00\x00\x00\x41", 11);
  EXPECT_EQ(DecodeFrame(error, &f), "error frame declares a message of 9 bytes but carries 1");
  // An error message longer than any worker writes.
  std::string long_error;
  AppendErrorFrame(std::string(kMaxErrorMessageBytes + 10, 'e'), &long_error);
  ASSERT_EQ(DecodeFrame(long_error, &f), std::nullopt);
  EXPECT_EQ(f.error.size(), kMaxErrorMessageBytes);  // cut by the encoder
  const std::string over("\x07\x00\x01\x00\x01\x03\x01\x00\x01\x00", 10);
  EXPECT_EQ(DecodeFrame(over + std::string(65537, 'e'), &f),
            "error frame declares a message of 65537 bytes, over the limit of 65536");
}

TEST(FrameTest, SplitFindsFramesInAStream) {
  const std::string a = EncodeTasks(SampleTasks());
  std::string b;
  AppendErrorFrame("x", &b);
  const std::string stream = a + b;
  const FrameSplit first = SplitFrame(stream);
  ASSERT_EQ(first.status, FrameStatus::kComplete);
  EXPECT_EQ(first.frame_bytes, a.size());
  EXPECT_EQ(first.type, FrameType::kTasks);
  const FrameSplit second = SplitFrame(std::string_view(stream).substr(first.frame_bytes));
  ASSERT_EQ(second.status, FrameStatus::kComplete);
  EXPECT_EQ(second.type, FrameType::kError);
  const FrameSplit partial = SplitFrame(std::string_view(stream).substr(0, 7));
  EXPECT_EQ(partial.status, FrameStatus::kIncomplete);
  EXPECT_EQ(partial.frame_bytes, a.size());
}

// Flipping any single byte of a valid frame either still decodes or is rejected with a message;
// it never reads out of bounds (ASan would say so) or throws.
TEST(FrameTest, SingleByteCorruptionsNeverCrash) {
  const std::string wire = EncodeTasks(SampleTasks());
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

}  // namespace
}  // namespace concbench
