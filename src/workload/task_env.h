// What a task's wait steps need from the run around them, beside the TaskSpec itself: where the
// echo server listens and the payloads its requests send. A family builds it (server started,
// payloads made) before its model starts, so a pool's forked workers inherit a copy.
//
//   EchoServer server({.delay = 500ms});
//   EchoBatch payloads(tasks, 64);
//   TaskEnv env{.echo_server = server.address(), .echo = &payloads};
//   RunTaskBlocking({{EchoStep(500ms, 64)}}, /*input=*/3, env);  // EchoDigest(payloads.payload(3))
#pragma once

#include <netinet/in.h>

#include <cstdint>
#include <span>

#include "workload/echo_client.h"
#include "workload/echo_protocol.h"

namespace concbench {

struct TaskEnv {
  sockaddr_in echo_server{};
  const EchoBatch* echo = nullptr;  // payload(input) is what task `input` sends; outlives the run
  EchoClientOptions echo_options;   // the blocking models' client options

  // What task `input` sends in an echo step; std::logic_error without payloads, or when their
  // size is not the step's.
  std::span<const uint8_t> EchoPayload(int64_t input, int64_t step_bytes) const;
};

}  // namespace concbench
