#include "models/worker.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "measure/rusage.h"
#include "sys/proc_stat.h"

namespace concbench {

WorkerDied::WorkerDied(int worker, pid_t pid, int wait_status, const std::string& what)
    : std::runtime_error(what), worker_(worker), pid_(pid), wait_status_(wait_status) {}

WorkerStalled::WorkerStalled(int worker, pid_t pid, const std::string& what)
    : std::runtime_error(what), worker_(worker), pid_(pid) {}

namespace {

constexpr size_t kMaxNamedChildren = 10;

// "3.0 s"
std::string Seconds(std::chrono::steady_clock::duration d) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f s", std::chrono::duration<double>(d).count());
  return buf;
}

}  // namespace

WorkerStalled StallError(std::string_view model, std::string_view awaited,
                         std::chrono::steady_clock::duration silence, std::span<SilentChild> children,
                         std::string_view aftermath) {
  std::stable_sort(children.begin(), children.end(),
                   [](const SilentChild& a, const SilentChild& b) { return a.silent > b.silent; });
  std::string what = std::string(model) + " stalled: no " + std::string(awaited) + " for " + Seconds(silence);
  for (size_t i = 0; i < children.size() && i < kMaxNamedChildren; ++i) {
    const SilentChild& c = children[i];
    what += "; " + c.name + " (pid " + std::to_string(c.pid) + ", " + ProcessState(c.pid) + ") silent " +
            Seconds(c.silent);
    if (!c.holding.empty()) what += " holding " + c.holding;
  }
  if (children.size() > kMaxNamedChildren) {
    what += "; and " + std::to_string(children.size() - kMaxNamedChildren) + " more";
  }
  what += "; " + std::string(aftermath);
  const SilentChild first = children.empty() ? SilentChild{} : children.front();
  return WorkerStalled(first.worker, first.pid, what);
}

void ReportWorkerSpans(std::vector<WorkerSpan>* spans, TaskObserver* observer) {
  for (const WorkerSpan& w : *spans) {
    const int step = w.span.step == kTaskSpan ? -1 : w.span.step;
    observer->ProcessSpan(w.pid, static_cast<int64_t>(w.span.index), step, w.span.begin_ns, w.span.end_ns,
                          w.parent_event != nullptr ? std::string_view(w.parent_event) : std::string_view());
  }
  spans->clear();
}

ResultFrameWriter StartResultsFrame(std::string* out) {
  // The sample counts this process and the children it reaped. fork starts a child's counts at
  // zero and no step forks, so for a worker it is its own use.
  const RusageDelta used = RusageSample::Take().totals;
  return ResultFrameWriter(out, static_cast<uint64_t>(std::llround(used.cpu_seconds() * 1e9)),
                           static_cast<uint64_t>(used.context_switches()));
}

}  // namespace concbench
