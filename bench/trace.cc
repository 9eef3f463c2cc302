#include "trace.h"

#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "results_file.h"

namespace concbench {
namespace {

// Event-loop tasks get lanes of their own above every kernel tid (pid_max is at most 2^22).
constexpr int64_t kTaskLaneBase = 1'000'000'000;
constexpr int64_t kBatchLane = 0;  // the whole traced batch, with its ideal

TraceFile* g_active = nullptr;

int64_t KernelTid() { return static_cast<int64_t>(::syscall(SYS_gettid)); }

std::string Micros(uint64_t ns, uint64_t t0) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%.3f", static_cast<double>(ns - std::min(ns, t0)) / 1e3);
  return buf;
}

std::string Number(double v) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

}  // namespace

TraceRecorder::TraceRecorder(std::string benchmark, bool task_tracks, const TaskSpec& spec,
                             std::span<const int64_t> inputs, size_t max_events)
    : benchmark_(std::move(benchmark)), task_tracks_(task_tracks), spec_(spec), inputs_(inputs.begin(), inputs.end()),
      max_events_(max_events) {
  // A task is at most its own span, its steps and two instants of its pool.
  const size_t per_task = spec.steps.size() + 3;
  kept_tasks_ = static_cast<int64_t>(std::min(inputs.size(), std::max<size_t>(1, max_events / per_task)));
  task_begin_.assign(static_cast<size_t>(kept_tasks_), 0);
  step_begin_.assign(static_cast<size_t>(kept_tasks_), 0);
  begun_on_.assign(static_cast<size_t>(kept_tasks_), -1);
  events_.reserve(std::min(max_events, static_cast<size_t>(kept_tasks_) * per_task));
}

size_t TraceRecorder::tasks_left_out() const { return inputs_.size() - static_cast<size_t>(kept_tasks_); }

int64_t TraceRecorder::ThreadLane() {
  const int64_t tid = KernelTid();
  if (std::none_of(lanes_.begin(), lanes_.end(), [tid](const Lane& l) { return l.tid == tid; })) {
    lanes_.push_back({tid, (tid == ::getpid() ? "main thread (tid " : "thread (tid ") + std::to_string(tid) + ")"});
  }
  return tid;
}

int64_t TraceRecorder::LaneOf(int64_t task) {
  const int64_t tid = ThreadLane();
  if (!task_tracks_ || begun_on_[static_cast<size_t>(task)] != tid) return tid;
  const int64_t lane = kTaskLaneBase + task;
  if (std::none_of(lanes_.begin(), lanes_.end(), [lane](const Lane& l) { return l.tid == lane; })) {
    lanes_.push_back({lane, "task " + std::to_string(task) + " on the loop (tid " + std::to_string(tid) + ")"});
  }
  return lane;
}

void TraceRecorder::Add(Event e) {
  if (events_.size() < max_events_) {
    events_.push_back(std::move(e));
  } else {
    ++dropped_;
  }
}

void TraceRecorder::Begin() {
  const std::lock_guard lock(mu_);
  begin_ns_ = MonotonicNs();
}

void TraceRecorder::End() {
  const std::lock_guard lock(mu_);
  end_ns_ = MonotonicNs();
}

void TraceRecorder::TaskBegin(int64_t task) {
  if (!Kept(task)) return;
  const uint64_t now = MonotonicNs();
  const std::lock_guard lock(mu_);
  begun_on_[static_cast<size_t>(task)] = KernelTid();
  task_begin_[static_cast<size_t>(task)] = now;
}

void TraceRecorder::TaskEnd(int64_t task) {
  if (!Kept(task)) return;
  const uint64_t now = MonotonicNs();
  const std::lock_guard lock(mu_);
  Add({"task " + std::to_string(task), 'X', LaneOf(task), task_begin_[static_cast<size_t>(task)], now, task, -1});
}

void TraceRecorder::StepBegin(int64_t task, size_t) {
  if (!Kept(task)) return;
  const uint64_t now = MonotonicNs();
  const std::lock_guard lock(mu_);
  step_begin_[static_cast<size_t>(task)] = now;
}

void TraceRecorder::StepEnd(int64_t task, size_t step) {
  if (!Kept(task)) return;
  const uint64_t now = MonotonicNs();
  const std::lock_guard lock(mu_);
  Add({DescribeStep(spec_.steps[step]), 'X', LaneOf(task), step_begin_[static_cast<size_t>(task)], now, task,
       static_cast<int>(step)});
}

void TraceRecorder::ModelEvent(std::string_view name, uint64_t begin_ns, uint64_t end_ns) {
  const std::lock_guard lock(mu_);
  Add({std::string(name), begin_ns == end_ns ? 'i' : 'X', ThreadLane(), begin_ns, end_ns, -1, -1});
}

void TraceRecorder::ProcessSpan(int pid, int64_t task, int step, uint64_t begin_ns, uint64_t end_ns,
                                std::string_view name) {
  if (task >= 0 && !Kept(task)) return;
  const std::lock_guard lock(mu_);
  const int64_t lane = pid;
  if (std::none_of(lanes_.begin(), lanes_.end(), [lane](const Lane& l) { return l.tid == lane; })) {
    lanes_.push_back({lane, "worker process (pid " + std::to_string(pid) + ")"});
  }
  std::string what = !name.empty() ? std::string(name)
                     : step < 0    ? "task " + std::to_string(task)
                                   : DescribeStep(spec_.steps[static_cast<size_t>(step)]);
  Add({std::move(what), name.empty() ? 'X' : 'i', lane, begin_ns, end_ns, task, name.empty() ? step : -1});
}

void TraceRecorder::Error(const std::string& what) {
  const std::lock_guard lock(mu_);
  error_ = what;
  const uint64_t now = MonotonicNs();
  events_.push_back({"error: " + what, 'i', ThreadLane(), now, now, -1, -1});
}

std::optional<std::string> TraceFile::CheckWritable(const std::string& path) {
  if (path.empty()) return std::string("--trace needs a file name: --trace=PATH");
  struct stat st{};
  if (::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) return "--trace: '" + path + "' is a folder; give a file name";
  const size_t slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
  if (::access(dir.c_str(), W_OK) != 0) {
    return "--trace: cannot write '" + path + "': " + dir + ": " + std::strerror(errno);
  }
  return std::nullopt;
}

TraceFile::TraceFile(std::string path, const std::string& filter) : path_(std::move(path)), filter_(filter) {}

void TraceFile::Add(const TraceRecorder& r, double ideal_s) {
  const std::lock_guard file_lock(mu_);
  const std::lock_guard lock(r.mu_);
  if (!t0_ns_) t0_ns_ = r.begin_ns_;
  const uint64_t t0 = *t0_ns_;
  const std::string pid = std::to_string(processes_.size() + 1);
  const std::string bench = JsonString(r.benchmark_);
  std::string out;
  auto meta = [&](const std::string& name, const std::string& tid, const std::string& args) {
    out += ",\n{\"ph\": \"M\", \"pid\": " + pid + (tid.empty() ? "" : ", \"tid\": " + tid) + ", \"name\": \"" + name +
           "\", \"args\": " + args + "}";
  };
  meta("process_name", "", "{\"name\": " + bench + "}");
  meta("process_sort_index", "", "{\"sort_index\": " + pid + "}");
  meta("thread_name", std::to_string(kBatchLane), "{\"name\": \"the batch\"}");
  meta("thread_sort_index", std::to_string(kBatchLane), "{\"sort_index\": 0}");
  for (size_t i = 0; i < r.lanes_.size(); ++i) {
    meta("thread_name", std::to_string(r.lanes_[i].tid), "{\"name\": " + JsonString(r.lanes_[i].name) + "}");
    meta("thread_sort_index", std::to_string(r.lanes_[i].tid), "{\"sort_index\": " + std::to_string(i + 1) + "}");
  }
  const uint64_t end = std::max(r.end_ns_, r.begin_ns_);
  out += ",\n{\"name\": \"batch\", \"cat\": \"batch\", \"ph\": \"X\", \"pid\": " + pid + ", \"tid\": " +
         std::to_string(kBatchLane) + ", \"ts\": " + Micros(r.begin_ns_, t0) + ", \"dur\": " +
         Micros(end, r.begin_ns_) + ", \"args\": {\"benchmark\": " + bench + ", \"tasks\": " +
         std::to_string(r.inputs_.size()) + ", \"tasks_left_out\": " + std::to_string(r.tasks_left_out()) +
         ", \"events_left_out\": " + std::to_string(r.dropped_) + ", \"ideal_s\": " + Number(ideal_s) +
         ", \"measured_s\": " +
         Number(static_cast<double>(end - r.begin_ns_) / 1e9) +
         (r.error_.empty() ? "" : ", \"error\": " + JsonString(r.error_)) + "}}";
  if (r.tasks_left_out() > 0) {
    out += ",\n{\"name\": \"" + std::to_string(r.tasks_left_out()) + " tasks left out (more than " +
           std::to_string(kMaxTraceEventsPerBenchmark) + " events)\", \"ph\": \"i\", \"s\": \"p\", \"pid\": " + pid +
           ", \"tid\": 0, \"ts\": " + Micros(r.begin_ns_, t0) + "}";
    left_out_.push_back(r.benchmark_ + ": " + std::to_string(r.tasks_left_out()) + " tasks left out");
    std::fprintf(stderr, "concbench: --trace: %s: kept the first %lld tasks, left %zu out (at most %zu events)\n",
                 r.benchmark_.c_str(), static_cast<long long>(r.kept_tasks_), r.tasks_left_out(),
                 kMaxTraceEventsPerBenchmark);
  }
  for (const TraceRecorder::Event& e : r.events_) {
    const bool instant = e.ph == 'i';
    const char* cat = e.step >= 0 ? "step" : (e.task >= 0 && !instant ? "task" : "model");
    out += ",\n{\"name\": " + JsonString(e.name) + ", \"cat\": \"" + cat + "\", \"ph\": \"" + e.ph + "\"" +
           (instant ? ", \"s\": \"t\"" : "") + ", \"pid\": " + pid + ", \"tid\": " + std::to_string(e.tid) +
           ", \"ts\": " + Micros(e.begin_ns, t0) + (instant ? "" : ", \"dur\": " + Micros(e.end_ns, e.begin_ns)) +
           ", \"args\": {\"benchmark\": " + bench;
    if (e.task >= 0 && static_cast<size_t>(e.task) < r.inputs_.size()) {
      out += ", \"task\": " + std::to_string(e.task) + ", \"input\": " + std::to_string(r.inputs_[static_cast<size_t>(e.task)]);
    }
    if (e.step >= 0) out += ", \"step\": " + std::to_string(e.step);
    out += "}}";
  }
  processes_.push_back(std::move(out));
  WriteLocked();
}

void TraceFile::Stop(const std::string& reason) {
  const std::lock_guard lock(mu_);
  stopped_ = reason;
  WriteLocked();
}

void TraceFile::WriteLocked() {
  std::string text = "{\"displayTimeUnit\": \"ms\", \"traceEvents\": [\n";
  text += "{\"ph\": \"M\", \"pid\": 0, \"name\": \"process_name\", \"args\": {\"name\": \"concbench\"}}";
  for (const std::string& p : processes_) text += p;
  if (!stopped_.empty()) {
    text += ",\n{\"name\": " + JsonString("run stopped: " + stopped_) +
            ", \"ph\": \"i\", \"s\": \"g\", \"pid\": 0, \"tid\": 0, \"ts\": 0}";
  }
  std::string left;
  for (const std::string& l : left_out_) left += (left.empty() ? "" : ", ") + JsonString(l);
  text += "\n],\n\"otherData\": {\"clock\": \"CLOCK_MONOTONIC, microseconds from the first traced batch\", "
          "\"left_out\": [" + left + "]" + (stopped_.empty() ? "" : ", \"stopped\": " + JsonString(stopped_)) + "}}\n";
  // A temporary file of our own beside the trace, renamed over it: readers see the old file or
  // the new one, never half of one.
  std::string tmp = path_ + ".XXXXXX";
  const int fd = ::mkstemp(tmp.data());
  bool ok = fd >= 0;
  if (ok) {
    size_t done = 0;
    while (ok && done < text.size()) {
      const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
      if (n < 0 && errno == EINTR) continue;
      ok = n > 0;
      if (ok) done += static_cast<size_t>(n);
    }
    ok = ::close(fd) == 0 && ok;
    ok = ok && ::chmod(tmp.c_str(), 0644) == 0 && std::rename(tmp.c_str(), path_.c_str()) == 0;
  }
  if (!ok) {
    const int err = errno;
    if (fd >= 0) ::unlink(tmp.c_str());
    if (!failed_) std::fprintf(stderr, "concbench: --trace: cannot write %s: %s\n", path_.c_str(), std::strerror(err));
    failed_ = true;
  }
}

TraceFile* ActiveTrace() { return g_active; }
void SetActiveTrace(TraceFile* trace) { g_active = trace; }

}  // namespace concbench
