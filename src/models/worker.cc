#include "models/worker.h"

#include <cmath>

#include "measure/rusage.h"

namespace concbench {

WorkerDied::WorkerDied(int worker, pid_t pid, int wait_status, const std::string& what)
    : std::runtime_error(what), worker_(worker), pid_(pid), wait_status_(wait_status) {}

ResultFrameWriter StartResultsFrame(std::string* out) {
  // The sample counts this process and the children it reaped. fork starts a child's counts at
  // zero and the built-in kinds fork nothing, so for a worker it is its own use; a child an
  // inherited function forked and reaped is part of what that task cost.
  const RusageDelta used = RusageSample::Take().totals;
  return ResultFrameWriter(out, static_cast<uint64_t>(std::llround(used.cpu_seconds() * 1e9)),
                           static_cast<uint64_t>(used.context_switches()));
}

}  // namespace concbench
