// The wire format of the `echo` workload and the payloads and checksums its families use.
//
// The echo service speaks one framed protocol over TCP, in both directions:
//
//   frame := length:u32 (big-endian, network order) payload[length]     length <= kEchoMaxPayload
//
// A client sends one request frame and reads one reply frame; the reply is the request frame
// unchanged (same length, same bytes), sent by the server `delay` after the request's last byte
// arrived. A connection may carry any number of request/reply exchanges (the keep-alive
// variants) or just one; replies leave in the order their requests arrived. A zero-length
// payload is a valid request. A length above kEchoMaxPayload is a protocol error: the server
// closes that connection without replying.
//
// Payloads are generated, not random: task i of a batch sends EchoPayloadBytes(i % kEchoDistinct
// Payloads, size), so neighbouring tasks send different bytes and a reply delivered to the wrong
// task is caught. A task's result is EchoDigest(reply) = length + Σ bytes of the reply, computed
// after the client checked that the reply equals what it sent byte for byte; a family's checksum
// is the sum of its tasks' results and must equal EchoBatch::expected_checksum().
//
//   concbench::EchoBatch batch(/*tasks=*/5, /*payload_bytes=*/64);
//   std::span<const uint8_t> p = batch.payload(3);   // what task 3 sends
//   int64_t want = batch.expected_checksum();        // Σ EchoDigest(payload(i))
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace concbench {

inline constexpr size_t kEchoHeaderBytes = 4;
// 64 MiB: far above the 64 KiB the sweep sends and the 1 MiB the tests send, low enough that a
// corrupt length cannot make the server allocate without bound.
inline constexpr uint32_t kEchoMaxPayload = uint32_t{64} << 20;
// How many different payloads a batch holds; tasks reuse them round-robin, so a batch of 10,000
// tasks of 64 KiB does not need 640 MiB of request bytes.
inline constexpr int64_t kEchoDistinctPayloads = 16;

// Writes the 4-byte big-endian header for a payload of `length` bytes.
void EncodeEchoHeader(uint32_t length, uint8_t out[kEchoHeaderBytes]);
uint32_t DecodeEchoHeader(const uint8_t in[kEchoHeaderBytes]);

// `size` deterministic bytes for payload number `seed` (an xorshift stream; different seeds give
// different bytes).
std::vector<uint8_t> EchoPayloadBytes(int64_t seed, size_t size);

// length + Σ bytes: a task's result. At most 255·(n+1) for n bytes, exact in a double for any
// batch the options allow.
int64_t EchoDigest(std::span<const uint8_t> bytes);

// The payloads of one batch of echo tasks and the checksum they must produce.
class EchoBatch {
 public:
  // tasks ≥ 0; payload_bytes ≤ kEchoMaxPayload (std::invalid_argument otherwise).
  EchoBatch(int64_t tasks, size_t payload_bytes);

  int64_t tasks() const { return tasks_; }
  size_t payload_bytes() const { return payload_bytes_; }
  // What task `task` (0 ≤ task < tasks) sends.
  std::span<const uint8_t> payload(int64_t task) const {
    return distinct_[static_cast<size_t>(task % kEchoDistinctPayloads)];
  }
  // Σ over tasks of EchoDigest(payload(task)).
  int64_t expected_checksum() const { return expected_; }
  // The task indices 0..tasks-1, the input every model maps over.
  const std::vector<int64_t>& inputs() const { return inputs_; }

 private:
  int64_t tasks_;
  size_t payload_bytes_;
  std::vector<std::vector<uint8_t>> distinct_;
  std::vector<int64_t> inputs_;
  int64_t expected_ = 0;
};

}  // namespace concbench
