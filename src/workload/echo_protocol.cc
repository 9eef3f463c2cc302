#include "workload/echo_protocol.h"

#include <algorithm>
#include <numeric>
#include <stdexcept>
#include <string>

namespace concbench {

void EncodeEchoHeader(uint32_t length, uint8_t out[kEchoHeaderBytes]) {
  out[0] = static_cast<uint8_t>(length >> 24);
  out[1] = static_cast<uint8_t>(length >> 16);
  out[2] = static_cast<uint8_t>(length >> 8);
  out[3] = static_cast<uint8_t>(length);
}

uint32_t DecodeEchoHeader(const uint8_t in[kEchoHeaderBytes]) {
  return (uint32_t{in[0]} << 24) | (uint32_t{in[1]} << 16) | (uint32_t{in[2]} << 8) | uint32_t{in[3]};
}

std::vector<uint8_t> EchoPayloadBytes(int64_t seed, size_t size) {
  std::vector<uint8_t> out(size);
  // xorshift64 from a seed that is never zero.
  uint64_t x = 0x9E3779B97F4A7C15ull ^ (static_cast<uint64_t>(seed) * 0xBF58476D1CE4E5B9ull + 1);
  for (size_t i = 0; i < size; ++i) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    out[i] = static_cast<uint8_t>(x >> 56);
  }
  return out;
}

int64_t EchoDigest(std::span<const uint8_t> bytes) {
  int64_t sum = static_cast<int64_t>(bytes.size());
  for (const uint8_t b : bytes) sum += b;
  return sum;
}

EchoBatch::EchoBatch(int64_t tasks, size_t payload_bytes) : tasks_(tasks), payload_bytes_(payload_bytes) {
  if (tasks < 0) throw std::invalid_argument("EchoBatch: tasks must be >= 0, got " + std::to_string(tasks));
  if (payload_bytes > kEchoMaxPayload) {
    throw std::invalid_argument("EchoBatch: payload of " + std::to_string(payload_bytes) +
                                " bytes exceeds the protocol's limit of " +
                                std::to_string(kEchoMaxPayload));
  }
  for (int64_t k = 0; k < std::min(tasks, kEchoDistinctPayloads); ++k) {
    distinct_.push_back(EchoPayloadBytes(k, payload_bytes));
  }
  inputs_.resize(static_cast<size_t>(tasks));
  std::iota(inputs_.begin(), inputs_.end(), 0);
  for (int64_t i = 0; i < tasks; ++i) expected_ += EchoDigest(payload(i));
}

}  // namespace concbench
