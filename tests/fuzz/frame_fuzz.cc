// libFuzzer target for the process pool's wire format (src/models/frame.cc).
//
// Whatever the bytes, SplitFrame and DecodeFrame must not crash, read out of bounds or allocate
// without bound, and must agree with each other. A frame that decodes must re-encode to exactly
// the same bytes (the format has one encoding per value), so a decoder that accepts something
// the encoder would never produce is caught too; so is an encoder that writes what the decoder
// reads back differently. A decoded tasks frame must also hold a spec ValidateSpec accepts, with
// no flag beside kTraceFlag: that is what a worker relies on.
//
// The seeds in corpus/frame_fuzz are written by frame_test (TheFuzzersSeedsAreFramesOfThisVersion).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "models/frame.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace concbench;
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);

  const FrameSplit split = SplitFrame(bytes);
  if (split.status == FrameStatus::kComplete && split.frame_bytes > bytes.size()) std::abort();
  if (split.status == FrameStatus::kMalformed && split.error.empty()) std::abort();

  Frame f;
  const auto err = DecodeFrame(bytes, &f);
  if (err) {
    if (err->empty()) std::abort();
    return 0;
  }
  // Decoded: it was exactly one complete frame.
  if (split.status != FrameStatus::kComplete || split.frame_bytes != bytes.size()) std::abort();
  if (f.type == FrameType::kTasks && (ValidateSpec(f.tasks.spec) || (f.tasks.flags & ~kTraceFlag) != 0)) std::abort();
  std::string again;
  switch (f.type) {
    case FrameType::kTasks: again = EncodeTasks(f.tasks); break;
    case FrameType::kResults: again = EncodeResults(f.results); break;
    case FrameType::kError: AppendErrorFrame(f.error, &again); break;
    case FrameType::kTrace: AppendTraceFrame(f.trace, &again); break;
  }
  if (again != bytes) std::abort();
  return 0;
}
